/* test-main-window.c: the main window under a real X server (Xvfb) with a
 * profile synced from the local Dovecot: the account and its folders with
 * the Inbox selected, a message's body in the reading pane, Mark as Read,
 * a move by drag and drop and Delete as the server sees them (doveadm),
 * and a narrow window.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves main-window.png and
 * main-window-narrow.png there (GTK's own rendering of the window), for
 * data/screenshots/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <gdk/x11/gdkx.h>
#include <string.h>

#include "tern-application.h"
#include "tern-mail-store.h"
#include "tern-message-row.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

static TernTestServers *servers;
static char *password_file;

/* Realistic mail, so that the screenshot shows what a person would see:
 * subject, sender, days ago (0: today), body. */
static const struct
{
  const char *from;
  const char *subject;
  int days_ago;
  const char *body;
} corpus[] = {
  { "Boris Smirnov <boris@example.ru>", "Re: Launch checklist for Thursday", 0,
    "Hi Alice,\n\nThe release notes are ready; I will ping the mirrors at 9:30.\n\n"
    "> Can we move the announcement to 10:00?\n\nYes, 10:00 works.\n\nBoris\n" },
  { "=?UTF-8?B?0JzQsNGA0LjRjyDQmNCy0LDQvdC+0LLQsA==?= <maria@example.ru>",
    "=?UTF-8?B?0J/RgNC+0YLQvtC60L7QuyDQstGB0YLRgNC10YfQuA==?=", 0,
    "Добрый день!\n\nПрисылаю протокол вчерашней встречи.\n\nМария\n" },
  { "Carol Danvers <carol@example.org>", "Design review notes", 1,
    "The new sidebar looks great in dark mode.\n" },
  { "GNOME Foundation <news@gnome.example>", "Your monthly newsletter", 1,
    "What happened in GNOME this month.\n" },
  { "Dmitry <dmitry@example.ru>", "Photos from the trip", 3, "See the attached photos.\n" },
  { "Eve Adams <eve@example.org>", "Invoice 2026-114", 6, "Please find the invoice below.\n" },
  { "Frank Miller <frank@example.org>", "Lunch on Friday?", 12, "Are you free on Friday?\n" },
  { "Grace Hopper <grace@example.org>", "Compiler meetup", 20, "The next meetup is at 18:00.\n" },
};

/* Helpers */

/* What the window was doing, for a failure's message. */
static TernContext *current_context;
static TernAccount *current_account;
static TernWindow *current_window;
static guint n_rows (gpointer state);

static const char *
describe_state (void)
{
  static char text[512];
  TernAccountWorker *worker;

  if (current_context == NULL)
    return "";
  worker = tern_worker_pool_get_worker (tern_context_get_worker_pool (current_context),
                                        current_account);
  g_snprintf (text, sizeof text, " (account state %d, last error: %s, folder %s, %u rows)",
              tern_account_worker_get_state (worker),
              tern_account_worker_get_last_error (worker),
              current_window != NULL
              ? tern_sidebar_get_selected_title (tern_window_get_sidebar (current_window)) : "",
              current_window != NULL ? n_rows (&current_window) : 0);
  return text;
}

/* tern_test_wait_until() with what the window was doing in the failure's
 * message. */
static void
wait_until (TernTestPredicate predicate,
            gpointer          data,
            const char       *what)
{
  if (!tern_test_wait_for (predicate, data))
    g_error ("Gave up waiting for %s%s", what, describe_state ());
}

static char *
run (const char *const *argv,
     const char        *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                     | (input != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0),
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_steal_pointer (&out);
}

/* The server's flags of the message @message_id in @mailbox, or NULL when
 * the mailbox does not hold it. */
static char *
server_flags (const char *mailbox,
              const char *message_id)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                         "-f", "tab", "fetch", "-u", tern_test_servers_get_user (servers, 0),
                         "flags hdr.message-id", "mailbox", mailbox, "all", NULL };
  g_autofree char *out = run (argv, NULL);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], "\t", 2);

      if (g_strv_length (cols) == 2 && strstr (cols[1], message_id) != NULL)
        return g_strdup (cols[0]);
    }
  return NULL;
}

static void
save_corpus (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                             "save", "-u", tern_test_servers_get_user (servers, 0), "-m", "INBOX",
                             NULL };
      /* Today's messages an hour apart, before now, so they say "HH:MM". */
      g_autoptr(GDateTime) when = g_date_time_add_seconds (
        now, -(corpus[i].days_ago * 86400.0) - 600.0 * (i + 1));
      g_autofree char *date = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S %z");
      g_autofree char *raw = g_strdup_printf ("From: %s\nTo: Alice <%s>\nSubject: %s\n"
                                              "Date: %s\nMessage-ID: <main-window-%u@tern.test>\n"
                                              "MIME-Version: 1.0\n"
                                              "Content-Type: text/plain; charset=utf-8\n"
                                              "Content-Transfer-Encoding: 8bit\n\n%s",
                                              corpus[i].from,
                                              tern_test_servers_get_user (servers, 0),
                                              corpus[i].subject, date, i, corpus[i].body);

      g_free (run (argv, raw));
    }
}

static TernAccount *
add_account (TernContext *context)
{
  g_autoptr(GError) error = NULL;
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autoptr(TernServer) server = tern_server_new (tern_test_servers_get_address (servers,
                                                                                TERN_TEST_CERT_GOOD),
                                                  tern_test_servers_get_port (servers,
                                                                              TERN_TEST_SERVICE_IMAPS),
                                                  TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  server->username = g_strdup (user);
  account = tern_account_new ("Alice", user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return account;
}

/* The window and what it waits on */

typedef struct
{
  TernWindow *window;
  const char *message_id;
  const char *mailbox;
  const char *text;
  const char *flag;
  guint rows;    /* for has_rows_left() */
} State;

static guint
n_rows (gpointer data)
{
  State *state = data;
  GtkListView *list_view =
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (state->window));
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list_view));

  return model != NULL ? g_list_model_get_n_items (model) : 0;
}

static gboolean
has_all_rows (gpointer data)
{
  return n_rows (data) == G_N_ELEMENTS (corpus);
}

static gboolean
body_shown (gpointer data)
{
  State *state = data;
  GtkTextView *text_view
    = tern_test_find_text_view (GTK_WIDGET (tern_window_get_message_view (state->window)));
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  if (text_view == NULL)
    return FALSE;
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (text_view), &start, &end);
  text = gtk_text_buffer_get_text (gtk_text_view_get_buffer (text_view), &start, &end, FALSE);
  return strstr (text, state->text) != NULL;
}

static gboolean
item_is_read (gpointer data)
{
  return !tern_message_item_get_unread (data);
}

static gboolean
server_has_message (gpointer data)
{
  State *state = data;
  g_autofree char *flags = server_flags (state->mailbox, state->message_id);

  return flags != NULL;
}

static TernMessageItem *item_at (TernWindow *window,
                                 guint       position);

static gboolean
first_is_compiler_meetup (gpointer data)
{
  State *state = data;
  g_autoptr(TernMessageItem) first = item_at (state->window, 0);

  return g_strcmp0 (tern_message_item_get_subject (first), "Compiler meetup") == 0;
}

/* The list shows state->rows rows (a row left it). */
static gboolean
has_rows_left (gpointer data)
{
  return n_rows (data) == ((State *) data)->rows;
}

static gboolean
has_rows (gpointer data)
{
  return n_rows (data) > 0;
}

static gboolean
item_is_starred (gpointer data)
{
  return tern_message_item_get_starred (data);
}

static gboolean
server_has_flag (gpointer data)
{
  State *state = data;
  g_autofree char *flags = server_flags (state->mailbox, state->message_id);

  return flags != NULL && strstr (flags, state->flag) != NULL;
}

static gboolean
server_has_seen (gpointer data)
{
  State *state = data;
  g_autofree char *flags = server_flags (state->mailbox, state->message_id);

  return flags != NULL && strstr (flags, "\\Seen") != NULL;
}

static gboolean
server_lacks (gpointer data)
{
  State *state = data;
  g_autofree char *flags = server_flags (state->mailbox, state->message_id);

  return flags == NULL;
}

static gboolean
sidebar_hidden (gpointer data)
{
  return !gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_sidebar (data)));
}

static gboolean
sidebar_shown (gpointer data)
{
  return gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_sidebar (data)));
}

static gboolean
is_folded (gpointer data)
{
  return tern_window_get_folded (data);
}

static TernMessageItem *
item_at (TernWindow *window,
         guint       position)
{
  GtkListView *list_view =
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (window));
  g_autoptr(GtkTreeListRow) row =
    g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list_view)), position);

  return gtk_tree_list_row_get_item (row);
}

/* GtkPaned takes the clicks within this distance of its handle's box
 * (HANDLE_EXTRA_SIZE in gtkpaned.c), and libadwaita pads the box 8 px
 * into the pane on its right. */
#define PANED_HANDLE_EXTRA 6

/* A click anywhere on the first row's arrow (or on the room kept for
 * one) reaches the row, not the handle of the pane to its left: a
 * conversation opens with the mouse. */
static void
assert_arrow_clickable (TernMessageListView *list_view)
{
  GtkWidget *expander = tern_test_find_descendant (GTK_WIDGET (list_view),
                                                   GTK_TYPE_TREE_EXPANDER);
  GtkWidget *arrow = expander != NULL ? gtk_widget_get_first_child (expander) : NULL;
  GtkWidget *paned = gtk_widget_get_ancestor (GTK_WIDGET (list_view), GTK_TYPE_PANED);
  GtkWidget *handle = NULL;
  graphene_rect_t arrow_box, handle_box;

  g_assert_nonnull (arrow);
  g_assert_false (TERN_IS_MESSAGE_ROW (arrow));
  /* The pane whose handle is to the list's left: the outer one. */
  paned = gtk_widget_get_ancestor (gtk_widget_get_parent (paned), GTK_TYPE_PANED);
  for (GtkWidget *child = gtk_widget_get_first_child (paned); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (child != gtk_paned_get_start_child (GTK_PANED (paned)) &&
        child != gtk_paned_get_end_child (GTK_PANED (paned)))
      handle = child;
  g_assert_nonnull (handle);
  g_assert_true (gtk_widget_compute_bounds (arrow, paned, &arrow_box));
  g_assert_true (gtk_widget_compute_bounds (handle, paned, &handle_box));
  if (arrow_box.origin.x < handle_box.origin.x + handle_box.size.width + PANED_HANDLE_EXTRA - 0.5)
    g_error ("the arrow starts at %.0f px, the pane's handle takes clicks up to %.0f px",
             arrow_box.origin.x, handle_box.origin.x + handle_box.size.width + PANED_HANDLE_EXTRA);
}

static gboolean
list_searching (gpointer data)
{
  return tern_message_list_view_get_searching (data);
}

static void
assert_selected_subject (TernMessageListView *list_view,
                         const char          *subject)
{
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (list_view);

  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpstr (tern_message_item_get_subject (items->pdata[0]), ==, subject);
}

static void
test_read_and_act (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-main-window-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  TernContext *context = tern_context_new (profile, &error);
  TernAccount *account;
  TernMessageListView *list_view;
  GtkSelectionModel *selection;
  g_autoptr(TernMessageItem) first = NULL;
  g_autoptr(TernMessageItem) third = NULL;
  g_autoptr(TernMessageItem) fourth = NULL;
  State state = { 0 };

  g_assert_no_error (error);
  tern_context_set_ca_file (context, tern_test_servers_get_ca_file (servers));
  account = add_account (context);
  current_context = context;
  current_account = account;
  save_corpus ();

  state.window = tern_window_new (NULL, context, NULL);
  gtk_window_set_default_size (GTK_WINDOW (state.window), 1280, 760);
  current_window = state.window;
  gtk_window_present (GTK_WINDOW (state.window));

  /* The window syncs on its own, then shows the Inbox with its rows. */
  wait_until (has_all_rows, &state, "the Inbox's rows");
  tern_test_drain ();
  g_assert_cmpstr (tern_sidebar_get_selected_title (tern_window_get_sidebar (state.window)), ==,
                   "Inbox");
  g_assert_true (
    tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (state.window)), "Inbox"));
  g_assert_true (
    tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (state.window)), "Trash"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (state.window)),
                                        tern_test_servers_get_user (servers, 0)));
  g_assert_false (tern_window_get_folded (state.window));

  /* Newest first: the first row is today's first message.  Opening it
   * shows its body (fetched from the server) and marks it read there. */
  list_view = tern_window_get_message_list_view (state.window);
  first = item_at (state.window, 0);
  g_assert_cmpstr (tern_message_item_get_subject (first), ==, "Re: Launch checklist for Thursday");
  g_assert_true (tern_message_item_get_unread (first));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (list_view), "Boris Smirnov"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (list_view), "Протокол встречи"));
  assert_arrow_clickable (list_view);
  tern_message_list_view_select (list_view, 0);
  state.text = "The release notes are ready";
  wait_until (body_shown, &state, "the body in the message view");
  state.mailbox = "INBOX";
  state.message_id = "main-window-0@tern.test";
  wait_until (server_has_seen, &state, "\\Seen on the server after opening");
  wait_until (item_is_read, first, "the first row to show as read");
  tern_test_save_screenshot (GTK_WIDGET (state.window), "main-window.png");

  /* More → Encoding reaches the view's charset, and back. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.charset", "s",
                                             "KOI8-R"));
  g_assert_cmpstr (tern_message_view_get_charset (tern_window_get_message_view (state.window)), ==,
                   "KOI8-R");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.charset", "s", ""));
  g_assert_null (tern_message_view_get_charset (tern_window_get_message_view (state.window)));
  wait_until (body_shown, &state, "the body in its declared charset again");

  /* An encoding is chosen for one message: the next one (UTF-8 Cyrillic,
   * which KOI8-R would garble) is read in its own, and the menu says so. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.charset", "s",
                                             "KOI8-R"));
  tern_message_list_view_select (list_view, 1);
  state.text = "Присылаю протокол вчерашней встречи";
  wait_until (body_shown, &state, "the next message in its own charset");
  g_assert_null (tern_message_view_get_charset (tern_window_get_message_view (state.window)));
  {
    g_autoptr(GVariant) charset =
      g_action_group_get_action_state (G_ACTION_GROUP (state.window), "charset");

    g_assert_cmpstr (g_variant_get_string (charset, NULL), ==, "");
  }

  /* Mark as Read on two messages at once, through the window's action. */
  selection = GTK_SELECTION_MODEL (gtk_list_view_get_model (
    tern_message_list_view_get_list_view (list_view)));
  third = item_at (state.window, 2);
  fourth = item_at (state.window, 3);
  gtk_selection_model_select_range (selection, 2, 2, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.mark-read", NULL));
  /* The list follows the store at once, before the server answers. */
  wait_until (item_is_read, third, "the third row to show as read");
  wait_until (item_is_read, fourth, "the fourth row to show as read");
  state.message_id = "main-window-2@tern.test";
  wait_until (server_has_seen, &state, "\\Seen of the third message");
  state.message_id = "main-window-3@tern.test";
  wait_until (server_has_seen, &state, "\\Seen of the fourth message");

  /* A drop of a row on the sidebar's Archive (the action the drop runs):
   * out of the list, into the Archive on the server. */
  {
    g_autoptr(TernMailFolder) archive =
      tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                           tern_account_get_id (account), "archive", &error);
    g_autoptr(TernMessageItem) second = item_at (state.window, 1);
    gint64 id = tern_message_item_get_id (second);

    g_assert_no_error (error);
    g_assert_true (gtk_widget_activate_action (
      GTK_WIDGET (tern_window_get_sidebar (state.window)), "win.move-messages", "(x@ax)",
      archive->id, g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, &id, 1, sizeof (gint64))));
    state.rows = G_N_ELEMENTS (corpus) - 1;
    wait_until (has_rows_left, &state, "the moved row to leave the list");
    state.message_id = "main-window-1@tern.test";
    state.mailbox = "Archive";
    wait_until (server_has_message, &state, "the moved message in the Archive");
  }

  /* A folder that only holds folders (Dovecot's "Lists" of "Lists/dev")
   * takes no messages: a drop on it moves nothing. */
  {
    TernMailFolder parent = { 0 };
    g_autoptr(TernMessageItem) top = item_at (state.window, 0);
    gint64 id = tern_message_item_get_id (top);
    gint64 parent_id;

    parent.account_id = tern_account_get_id (account);
    parent.name = (char *) "Lists";
    parent.delimiter = '/';
    parent.attributes = TERN_IMAP_MAILBOX_NONEXISTENT | TERN_IMAP_MAILBOX_NOSELECT
                        | TERN_IMAP_MAILBOX_HAS_CHILDREN;
    parent_id = tern_mail_store_upsert_folder (tern_context_get_store (context), &parent, &error);
    g_assert_no_error (error);
    g_assert_true (gtk_widget_activate_action (
      GTK_WIDGET (tern_window_get_sidebar (state.window)), "win.move-messages", "(x@ax)",
      parent_id, g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, &id, 1, sizeof (gint64))));
    tern_test_drain ();
    g_assert_cmpuint (n_rows (&state), ==, G_N_ELEMENTS (corpus) - 1);
  }

  /* Delete: gone from the list at once, in the Trash on the server. */
  tern_message_list_view_select (list_view, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.delete", NULL));
  state.rows = G_N_ELEMENTS (corpus) - 2;
  wait_until (has_rows_left, &state, "the deleted row to leave the list");
  state.message_id = "main-window-0@tern.test";
  state.mailbox = "INBOX";
  wait_until (server_lacks, &state, "the deleted message to leave the INBOX");
  state.mailbox = "Trash";
  wait_until (server_has_seen, &state, "the deleted message in the Trash");

  /* Sorted by subject, A to Z. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.sort", "s", "subject"));
  wait_until (first_is_compiler_meetup, &state, "the list sorted by subject");

  /* Next and previous unread skip the read ones: from "Design review
   * notes" (read) to "Invoice 2026-114", then back to "Compiler meetup". */
  tern_message_list_view_select (list_view, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.next-unread", NULL));
  assert_selected_subject (list_view, "Invoice 2026-114");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.previous-unread",
                                             NULL));
  assert_selected_subject (list_view, "Compiler meetup");

  /* Conversations keep every row here: no message answers another.
   * They go by their newest message, newest first, whatever the sort
   * (not oldest first, as they did under Sort by Subject). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.threaded", NULL));
  tern_test_drain ();
  g_assert_cmpuint (n_rows (&state), ==, G_N_ELEMENTS (corpus) - 2);
  {
    g_autoptr(TernMessageItem) newest = item_at (state.window, 0);

    g_assert_cmpstr (tern_message_item_get_subject (newest), ==, "Design review notes");
  }

  /* A notification's click shows its message even when a search that
   * does not find it is open: the search closes. */
  {
    g_autoptr(TernMessageItem) wanted = item_at (state.window, 0);
    GtkWidget *entry;

    g_assert_cmpstr (tern_message_item_get_subject (wanted), ==, "Design review notes");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.search", NULL));
    entry = tern_test_find_descendant (GTK_WIDGET (state.window), GTK_TYPE_SEARCH_ENTRY);
    g_assert_nonnull (entry);
    gtk_editable_set_text (GTK_EDITABLE (entry), "Invoice");
    wait_until (list_searching, list_view, "the search's results");
    tern_window_show_message (state.window, tern_message_item_get_id (wanted));
    g_assert_false (tern_message_list_view_get_searching (list_view));
    assert_selected_subject (list_view, "Design review notes");
  }

  /* Star, Select All, Junk and Move To, as the server sees them. */
  {
    g_autoptr(TernMessageItem) design = item_at (state.window, 0);
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(TernMailFolder) archive =
      tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                           tern_account_get_id (account), "archive", &error);

    g_assert_no_error (error);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.toggle-star", NULL));
    wait_until (item_is_starred, design, "the row to show its star");
    state.mailbox = "INBOX";
    state.message_id = "main-window-2@tern.test";
    state.flag = "\\Flagged";
    wait_until (server_has_flag, &state, "\\Flagged of the starred message");

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.select-all", NULL));
    all = tern_message_list_view_get_selected_items (list_view);
    g_assert_cmpuint (all->len, ==, G_N_ELEMENTS (corpus) - 2);

    /* Junk: out of the list, into the Junk folder with $Junk. */
    tern_message_list_view_select (list_view, 0);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.junk", NULL));
    state.rows = G_N_ELEMENTS (corpus) - 3;
    wait_until (has_rows_left, &state, "the junk row to leave the list");
    state.mailbox = "Junk";
    wait_until (server_has_message, &state, "the junk message in the Junk folder");

    /* Move To… the Archive (the menu's items run win.move-to). */
    tern_message_list_view_select (list_view, 0);
    assert_selected_subject (list_view, "Your monthly newsletter");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.move-to", "x",
                                               archive->id));
    state.rows = G_N_ELEMENTS (corpus) - 4;
    wait_until (has_rows_left, &state, "the moved row to leave the list");
    state.mailbox = "Archive";
    state.message_id = "main-window-3@tern.test";
    wait_until (server_has_message, &state, "the message moved to the Archive");
  }

  tern_test_close_window (context, account, state.window);
  current_context = NULL;
  g_assert_finalize_object (context);
  tern_test_remove_tree (dir);
}

/* A fresh profile with the account, and the window on it at a size. */
typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account;
  GSettings *settings; /* or NULL */
  State state;
} Sized;

static void
sized_open (Sized *sized,
            int    width,
            int    height)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;

  sized->dir = tern_test_make_tmpdir ("tern-main-window-XXXXXX");
  profile = g_build_filename (sized->dir, "profile", NULL);
  sized->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (sized->context, tern_test_servers_get_ca_file (servers));
  sized->account = add_account (sized->context);
  current_context = sized->context;
  current_account = sized->account;

  sized->state.window = tern_window_new (NULL, sized->context, sized->settings);
  gtk_window_set_default_size (GTK_WINDOW (sized->state.window), width, height);
  current_window = sized->state.window;
  gtk_window_present (GTK_WINDOW (sized->state.window));
}

static void
sized_close (Sized *sized)
{
  tern_test_close_window (sized->context, sized->account, sized->state.window);
  current_context = NULL;
  g_assert_finalize_object (sized->context);
  tern_test_remove_tree (sized->dir);
  g_free (sized->dir);
}

/* At 360 px the panes fold into one at a time, and what shows is usable:
 * the message list with its rows, a back button to the folders. */
static void
test_narrow (void)
{
  Sized sized = { 0 };
  State *state;

  sized_open (&sized, 360, 720);
  state = &sized.state;
  wait_until (is_folded, state->window, "the panes to fold");
  wait_until (has_rows, state, "the Inbox's rows");
  tern_test_drain ();

  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (state->window)), <=, 400);
  g_assert_true (gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_message_list_view (state->window))));
  /* One pane at a time, once the leaflet's animation is over. */
  wait_until (sidebar_hidden, state->window, "the sidebar to be folded away");
  g_assert_true (tern_test_shows_label (GTK_WIDGET (state->window), "Compiler meetup"));
  tern_test_save_screenshot (GTK_WIDGET (state->window), "main-window-narrow.png");
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (state->window)), <=, 400);

  /* Back shows the folders. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state->window), "win.back", NULL));
  wait_until (sidebar_shown, state->window, "the folders after Back");

  sized_close (&sized);
}

/* Each pane whole: a GtkPaned lets a child be allocated less than it
 * needs and cuts it off on the right. */
static void
assert_pane_fits (GtkWidget  *child,
                  GType       pane_type,
                  const char *what)
{
  GtkWidget *pane = gtk_widget_get_ancestor (child, pane_type);
  int minimum;

  while (!GTK_IS_PANED (gtk_widget_get_parent (pane)))
    pane = gtk_widget_get_parent (pane);
  gtk_widget_measure (pane, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
  if (gtk_widget_get_width (pane) < minimum)
    g_error ("the %s pane is %d px wide and needs %d", what, gtk_widget_get_width (pane), minimum);
}

/* Where @widget's right edge is in its window, and how wide that is. */
static void
right_edge (GtkWidget *widget,
            int       *edge,
            int       *width)
{
  GtkWidget *window = GTK_WIDGET (gtk_widget_get_root (widget));
  graphene_rect_t bounds;

  g_assert_true (gtk_widget_compute_bounds (widget, window, &bounds));
  *edge = (int) (bounds.origin.x + bounds.size.width + 0.5);
  *width = gtk_widget_get_width (window);
}

static gboolean
inside_window (gpointer data)
{
  int edge, width;

  right_edge (data, &edge, &width);
  return edge <= width;
}

/* Whole in the window, not running past its right edge, once the window
 * has had a frame or two to get there. */
static void
assert_inside_window (GtkWidget  *widget,
                      const char *what)
{
  int edge, width;

  if (tern_test_wait_for (inside_window, widget))
    return;
  right_edge (widget, &edge, &width);
  g_error ("the %s ends at %d px in a window %d px wide", what, edge, width);
}

/* The window downloads the bodies of recent mail (the last 30 days by
 * default) for reading offline. */
static gboolean
inbox_bodies_cached (gpointer data)
{
  TernContext *context = data;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GArray) missing = NULL;

  inbox = tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                               tern_account_get_id (current_account), "inbox", NULL);
  if (inbox == NULL)
    return FALSE;
  missing = tern_mail_store_list_missing_bodies (tern_context_get_store (context), inbox->id, 0,
                                                 NULL);
  return missing != NULL && missing->len == 0;
}

/* At the default width (900 px) the three panes fit side by side: the
 * reading pane keeps Reply All, Forward, Archive and Move in its menu.
 * The pane sizes are kept in GSettings; a sidebar dragged (or remembered)
 * wider than the window allows does not cut the reading pane off. */
static void
test_default_width (void)
{
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr(GSettings) settings = g_settings_new_with_backend (APPLICATION_ID, backend);
  Sized sized = { 0 };
  State *state;
  GtkPaned *outer;
  GtkPaned *inner;

  g_settings_set_int (settings, "sidebar-width", 230);
  g_settings_set_int (settings, "message-list-width", 300);
  sized.settings = settings;
  sized_open (&sized, 900, 700);
  state = &sized.state;
  wait_until (has_rows, state, "the Inbox's rows");
  tern_test_drain ();

  g_assert_false (tern_window_get_folded (state->window));
  g_assert_true (sidebar_shown (state->window));
  g_assert_true (gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_message_view (state->window))));
  assert_pane_fits (GTK_WIDGET (tern_window_get_sidebar (state->window)), GTK_TYPE_BOX, "folder");
  assert_pane_fits (GTK_WIDGET (tern_window_get_message_list_view (state->window)), GTK_TYPE_BOX,
                    "message list");
  assert_pane_fits (GTK_WIDGET (tern_window_get_message_view (state->window)), GTK_TYPE_SCROLLED_WINDOW,
                    "reading");
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (state->window)), <=, 900);

  /* The remembered sizes, and a new one remembered. */
  inner = GTK_PANED (gtk_widget_get_ancestor (
    GTK_WIDGET (tern_window_get_message_list_view (state->window)), GTK_TYPE_PANED));
  outer = GTK_PANED (gtk_widget_get_ancestor (gtk_widget_get_parent (GTK_WIDGET (inner)),
                                             GTK_TYPE_PANED));
  g_assert_cmpint (gtk_paned_get_position (outer), ==, 230);
  g_assert_cmpint (gtk_paned_get_position (inner), ==, 300);
  gtk_paned_set_position (outer, 250);
  g_assert_cmpint (g_settings_get_int (settings, "sidebar-width"), ==, 250);

  /* Far too wide a sidebar for 900 px: the panes still fit whole. */
  gtk_paned_set_position (outer, 600);
  tern_test_wait_for_frames (GTK_WIDGET (state->window));
  assert_inside_window (gtk_widget_get_ancestor (GTK_WIDGET (tern_window_get_message_view (state->window)),
                                                 GTK_TYPE_SCROLLED_WINDOW),
                        "reading pane");
  assert_pane_fits (GTK_WIDGET (tern_window_get_message_list_view (state->window)), GTK_TYPE_BOX,
                    "message list");
  assert_pane_fits (GTK_WIDGET (tern_window_get_message_view (state->window)), GTK_TYPE_SCROLLED_WINDOW,
                    "reading");
  assert_pane_fits (GTK_WIDGET (inner), GTK_TYPE_PANED, "message list and reading");
  g_assert_cmpint (gtk_paned_get_position (outer), <, 600);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (state->window)), <=, 900);
  wait_until (inbox_bodies_cached, sized.context, "the Inbox's bodies to be downloaded");

  sized_close (&sized);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();
  tern_test_load_style ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  password_file = g_build_filename (tern_test_servers_get_dir (servers), "password", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/tern/ui/main-window/read-and-act", test_read_and_act);
  g_test_add_func ("/tern/ui/main-window/narrow", test_narrow);
  g_test_add_func ("/tern/ui/main-window/default-width", test_default_width);
  status = g_test_run ();

  tern_test_servers_free (servers);
  g_free (password_file);
  return status;
}
