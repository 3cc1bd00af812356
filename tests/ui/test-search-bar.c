/* test-search-bar.c: the search bar over the message list, under a real X
 * server (Xvfb), with a profile synced from the local Dovecot: win.search
 * opens it with the focus in its entry; what it shows for a word, a
 * Cyrillic word in another case and with ё, and from: is exactly what
 * tern_search_run() finds; the search runs on a worker, and the window
 * keeps drawing while it waits for the store; the scope changes the results; a query that
 * does not parse is said inline; Search on Server finds what only a body
 * not downloaded has, and says so when the server is away; a result opens
 * and takes actions like any row; Escape brings the folder back with its
 * selection and scroll position.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves search.png there (and
 * search-invalid.png, search-server-away.png, to look at).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk/x11/gdkx.h>
#include <string.h>

#include "tern-account-options.h"
#include "tern-mail-store.h"
#include "tern-search.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window-private.h"

static TernTestServers *servers;
static char *password_file;

/* Mailbox, sender, subject (RFC 2047 when not ASCII), body. */
static const struct
{
  const char *mailbox;
  const char *from;
  const char *subject;
  const char *body;
} corpus[] = {
  { "INBOX", "Boris Smirnov <boris@example.ru>", "Launch checklist for Thursday",
    "The release notes are ready.\n" },
  /* "Протокол встречи" */
  { "INBOX", "=?UTF-8?B?0JzQsNGA0LjRjw==?= <maria@example.ru>",
    "=?UTF-8?B?0J/RgNC+0YLQvtC60L7QuyDQstGB0YLRgNC10YfQuA==?=", "Добрый день!\n" },
  /* "Ёлка на площади" */
  { "INBOX", "Carol Danvers <carol@example.org>",
    "=?UTF-8?B?0IHQu9C60LAg0L3QsCDQv9C70L7RidCw0LTQuA==?=", "The tree is up.\n" },
  { "INBOX", "Dmitry <dmitry@example.ru>", "Launch photos", "See the attached photos.\n" },
  { "INBOX", "Eve Adams <eve@example.org>", "Invoice 2026-114",
    "Payment to the zanzibar account, please.\n" },
  { "Archive", "Frank Miller <frank@example.org>", "Launch party last year", "Good times.\n" },
};

/* Older mail below them, so that the folder scrolls. */
#define N_FILLERS 12
#define N_INBOX (5 + N_FILLERS)

/* Helpers */

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

static void
save_corpus (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                             "save", "-u", tern_test_servers_get_user (servers, 0), "-m",
                             corpus[i].mailbox, NULL };
      g_autoptr(GDateTime) when = g_date_time_add_hours (now, -(int) (i + 1));
      g_autofree char *date = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S %z");
      g_autofree char *raw = g_strdup_printf ("From: %s\nTo: Alice <%s>\nSubject: %s\n"
                                              "Date: %s\nMessage-ID: <search-%u@tern.test>\n"
                                              "MIME-Version: 1.0\n"
                                              "Content-Type: text/plain; charset=utf-8\n"
                                              "Content-Transfer-Encoding: 8bit\n\n%s",
                                              corpus[i].from,
                                              tern_test_servers_get_user (servers, 0),
                                              corpus[i].subject, date, i, corpus[i].body);

      g_free (run (argv, raw));
    }
  for (guint i = 0; i < N_FILLERS; i++)
    {
      const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                             "save", "-u", tern_test_servers_get_user (servers, 0), "-m", "INBOX",
                             NULL };
      g_autoptr(GDateTime) when = g_date_time_add_days (now, -(int) (i + 1));
      g_autofree char *date = g_date_time_format (when, "%a, %d %b %Y %H:%M:%S %z");
      g_autofree char *raw = g_strdup_printf ("From: Reports <reports@example.org>\n"
                                              "Subject: Weekly report %u\nDate: %s\n"
                                              "Message-ID: <filler-%u@tern.test>\n\n"
                                              "Nothing new.\n", i, date, i);

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
  /* The window downloads the bodies of the last days ahead; Search on
   * Server is for those it did not. */
  tern_account_options_set_integer (tern_context_get_store (context), tern_account_get_id (account),
                                    TERN_ACCOUNT_OPTIONS_SYNC, TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS, 0,
                                    &error);
  g_assert_no_error (error);
  return account;
}

/* The window */

typedef struct
{
  TernWindow *window;
  TernContext *context;
  GArray *expected; /* message ids, in list order */
  double scroll;
  const char *body;
} State;

static GListModel *
shown_model (State *state)
{
  GtkListView *list_view =
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (state->window));

  return G_LIST_MODEL (gtk_list_view_get_model (list_view));
}

static guint
n_rows (State *state)
{
  GListModel *model = shown_model (state);

  return model != NULL ? g_list_model_get_n_items (model) : 0;
}

static TernMessageItem *
item_at (State *state,
         guint  position)
{
  g_autoptr(GtkTreeListRow) row = g_list_model_get_item (shown_model (state), position);

  return gtk_tree_list_row_get_item (row);
}

/* The list shows exactly @state->expected, in order. */
static gboolean
shows_expected (gpointer data)
{
  State *state = data;

  if (!tern_message_list_view_get_searching (state->window->message_list_view)
      || n_rows (state) != state->expected->len)
    return FALSE;
  for (guint i = 0; i < state->expected->len; i++)
    {
      g_autoptr(TernMessageItem) item = item_at (state, i);

      if (tern_message_item_get_id (item) != g_array_index (state->expected, gint64, i))
        return FALSE;
    }
  return TRUE;
}

/* What the engine finds for @text: what the bar must show. */
static void
expect_search (State           *state,
               const char      *text,
               TernSearchScope  scope,
               gint64           scope_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = tern_search_run (tern_context_get_store (state->context), text,
                                                     TRUE, scope, scope_id, &error);

  g_assert_no_error (error);
  g_array_set_size (state->expected, 0);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);
      gint64 id = tern_message_item_get_id (item);

      g_array_append_val (state->expected, id);
    }
}

/* Types @text into the entry and waits for the rows tern_search_run()
 * finds; returns how many. */
static guint
search_for (State           *state,
            const char      *text,
            TernSearchScope  scope,
            gint64           scope_id)
{
  GtkEditable *entry = tern_search_bar_get_entry (state->window->search_bar);

  gtk_editable_set_text (entry, text);
  expect_search (state, text, scope, scope_id);
  tern_test_wait_until (shows_expected, state, text);
  g_assert_null (tern_search_bar_get_error (state->window->search_bar));
  return state->expected->len;
}

static void
assert_subjects (State      *state,
                 const char *first,
                 ...)
{
  va_list args;
  guint i = 0;

  va_start (args, first);
  for (const char *subject = first; subject != NULL; subject = va_arg (args, const char *), i++)
    {
      g_autoptr(TernMessageItem) item = item_at (state, i);

      g_assert_cmpstr (tern_message_item_get_subject (item), ==, subject);
    }
  va_end (args);
  g_assert_cmpuint (n_rows (state), ==, i);
}

static gboolean
has_error (gpointer data)
{
  State *state = data;

  return tern_search_bar_get_error (state->window->search_bar) != NULL;
}

static gboolean
server_search_over (gpointer data)
{
  State *state = data;

  return !tern_search_bar_get_busy (state->window->search_bar);
}

static gboolean
folder_shown (gpointer data)
{
  State *state = data;

  return !tern_message_list_view_get_searching (state->window->message_list_view)
         && n_rows (state) == N_INBOX;
}

static GtkAdjustment *
list_adjustment (State *state)
{
  GtkWidget *list_view = GTK_WIDGET (
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (state->window)));

  return gtk_scrolled_window_get_vadjustment (
    GTK_SCROLLED_WINDOW (gtk_widget_get_ancestor (list_view, GTK_TYPE_SCROLLED_WINDOW)));
}

static gboolean
scrolled_to (gpointer data)
{
  State *state = data;

  return G_APPROX_VALUE (gtk_adjustment_get_value (list_adjustment (state)), state->scroll, 0.5);
}

static gboolean
scrolled_down (gpointer data)
{
  State *state = data;

  return gtk_adjustment_get_value (list_adjustment (state)) > 0;
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
  return strstr (text, state->body) != NULL;
}

static gboolean
item_is_read (gpointer data)
{
  return !tern_message_item_get_unread (data);
}

static gint64
selected_id (TernMessageListView *list_view)
{
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (list_view);

  g_assert_cmpuint (items->len, ==, 1);
  return tern_message_item_get_id (items->pdata[0]);
}

/* Every reader of the store's pool (MAX_READERS in tern-store.c: 4)
 * held by a thread of the test, so that a search's worker waits for one:
 * a search as slow as the test likes. */
#define POOL_READERS 4

typedef struct
{
  TernStore *store;
  GMutex lock;
  GCond cond;
  guint held;
  gboolean open;
  GThread *threads[POOL_READERS];
} ReaderGate;

static gboolean
hold_reader_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  ReaderGate *gate = user_data;

  g_mutex_lock (&gate->lock);
  gate->held++;
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
  return TRUE;
}

static gpointer
hold_reader_thread (gpointer user_data)
{
  ReaderGate *gate = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_store_read (gate->store, hold_reader_cb, gate, &error));
  g_assert_no_error (error);
  return NULL;
}

static gboolean
readers_held (gpointer data)
{
  ReaderGate *gate = data;
  gboolean all;

  g_mutex_lock (&gate->lock);
  all = gate->held == POOL_READERS;
  g_mutex_unlock (&gate->lock);
  return all;
}

static void
hold_readers (ReaderGate *gate,
              TernStore  *store)
{
  gate->store = store;
  g_mutex_init (&gate->lock);
  g_cond_init (&gate->cond);
  for (guint i = 0; i < POOL_READERS; i++)
    gate->threads[i] = g_thread_new ("reader-gate", hold_reader_thread, gate);
  tern_test_wait_until (readers_held, gate, "the store's readers to be held");
}

static void
release_readers (ReaderGate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->lock);
  for (guint i = 0; i < POOL_READERS; i++)
    g_thread_join (gate->threads[i]);
  g_mutex_clear (&gate->lock);
  g_cond_clear (&gate->cond);
}

/* A search runs on a worker: Enter returns before it is done, and while
 * the worker waits for the store the window keeps drawing frames and the
 * results before stay; then the new ones come, what tern_search_run()
 * finds. */
static void
assert_search_does_not_block (State  *state,
                              gint64  folder_id)
{
  TernSearchBar *bar = state->window->search_bar;
  GtkEditable *entry = tern_search_bar_get_entry (bar);
  TernMessageList *before;
  guint delay;
  ReaderGate gate = { 0 };

  /* Typed before the readers are held, and searched only on Enter: the
   * entry's delay is longer than the test.  (Setting the text empties the
   * entry first, which shows the folder again; the reading pane then
   * reads the store on the main thread.) */
  g_object_get (entry, "search-delay", &delay, NULL);
  g_object_set (entry, "search-delay", 3600 * 1000, NULL);
  gtk_editable_set_text (entry, "photos");
  tern_test_drain ();
  before = tern_search_bar_get_results (bar);
  hold_readers (&gate, tern_context_get_store (state->context));
  g_signal_emit_by_name (entry, "activate");
  g_assert_true (tern_search_bar_get_results (bar) == before);
  tern_test_wait_for_n_frames (GTK_WIDGET (state->window), 10, "frames while the search waits");
  g_assert_true (tern_search_bar_get_results (bar) == before);

  release_readers (&gate);
  expect_search (state, "photos", TERN_SEARCH_SCOPE_FOLDER, folder_id);
  tern_test_wait_until (shows_expected, state, "the results after the readers are free");
  g_assert_true (tern_search_bar_get_results (bar) != before);
  g_assert_cmpuint (state->expected->len, ==, 1);
  assert_subjects (state, "Launch photos", NULL);
  g_object_set (entry, "search-delay", delay, NULL);
}

static void
test_search (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-search-bar-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  TernContext *context = tern_context_new (profile, &error);
  g_autoptr(TernMailFolder) inbox = NULL;
  TernAccount *account;
  TernMessageListView *list_view;
  TernSearchBar *bar;
  GtkEditable *entry;
  GtkWidget *focus;
  gint64 folder_selection;
  State state = { 0 };

  g_assert_no_error (error);
  tern_context_set_ca_file (context, tern_test_servers_get_ca_file (servers));
  account = add_account (context);
  save_corpus ();
  state.context = context;
  state.expected = g_array_new (FALSE, FALSE, sizeof (gint64));

  state.window = tern_window_new (NULL, context, NULL);
  gtk_window_set_default_size (GTK_WINDOW (state.window), 1280, 760);
  gtk_window_present (GTK_WINDOW (state.window));
  tern_test_wait_until (folder_shown, &state, "the Inbox's rows");
  tern_test_drain ();
  inbox = tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                               tern_account_get_id (account), "inbox", &error);
  g_assert_no_error (error);
  list_view = tern_window_get_message_list_view (state.window);
  bar = state.window->search_bar;
  entry = tern_search_bar_get_entry (bar);

  /* The folder's selection and scroll position (at its end), to find
   * again after the search. */
  tern_message_list_view_select (list_view, N_INBOX - 1);
  folder_selection = selected_id (list_view);
  tern_test_wait_until (scrolled_down, &state, "the list to scroll to its last row");
  tern_test_drain ();
  state.scroll = gtk_adjustment_get_value (list_adjustment (&state));

  /* win.search (Ctrl+F, "/") opens the bar, the focus in its entry; the
   * header bar's button follows. */
  g_assert_false (tern_search_bar_get_search_mode (bar));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.search", NULL));
  tern_test_drain ();
  g_assert_true (tern_search_bar_get_search_mode (bar));
  g_assert_true (gtk_toggle_button_get_active (state.window->search_button));
  focus = gtk_root_get_focus (GTK_ROOT (state.window));
  g_assert_nonnull (focus);
  g_assert_true (focus == GTK_WIDGET (entry) || gtk_widget_is_ancestor (focus, GTK_WIDGET (entry)));

  /* A subject word, as a prefix while typing: the current folder's two. */
  g_assert_cmpuint (search_for (&state, "launc", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 2);
  assert_subjects (&state, "Launch checklist for Thursday", "Launch photos", NULL);
  /* A result opens in the reading pane like any row. */
  tern_message_list_view_select (list_view, 0);
  state.body = "The release notes are ready.";
  tern_test_wait_until (body_shown, &state, "the result in the reading pane");
  tern_test_save_screenshot (GTK_WIDGET (state.window), "search.png");

  /* Cyrillic in another case, and ё found as е. */
  g_assert_cmpuint (search_for (&state, "ПРОТОКОЛ", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 1);
  assert_subjects (&state, "Протокол встречи", NULL);
  g_assert_cmpuint (search_for (&state, "елка", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 1);
  assert_subjects (&state, "Ёлка на площади", NULL);

  /* An operator. */
  g_assert_cmpuint (search_for (&state, "from:carol", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 1);
  assert_subjects (&state, "Ёлка на площади", NULL);

  assert_search_does_not_block (&state, inbox->id);

  /* The scope: the account's Archive joins in; then every account. */
  gtk_editable_set_text (entry, "launch");
  gtk_drop_down_set_selected (tern_search_bar_get_scope_dropdown (bar), 1);
  g_assert_cmpuint (search_for (&state, "launch", TERN_SEARCH_SCOPE_ACCOUNT,
                                tern_account_get_id (account)), ==, 3);
  assert_subjects (&state, "Launch checklist for Thursday", "Launch photos",
                   "Launch party last year", NULL);
  /* The server searches one folder: not offered for the account. */
  g_assert_false (tern_search_bar_get_can_search_server (bar));
  gtk_drop_down_set_selected (tern_search_bar_get_scope_dropdown (bar), 2);
  g_assert_cmpuint (search_for (&state, "launch", TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 3);
  gtk_drop_down_set_selected (tern_search_bar_get_scope_dropdown (bar), 0);
  g_assert_cmpuint (search_for (&state, "launch", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 2);

  /* Actions act on a result. */
  {
    g_autoptr(TernMessageItem) item = item_at (&state, 1);

    tern_message_list_view_select (list_view, 1);
    tern_test_drain ();
    g_assert_cmpint (tern_message_view_get_message (tern_window_get_message_view (state.window)),
                     ==, tern_message_item_get_id (item));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.mark-read", NULL));
    tern_test_wait_until (item_is_read, item, "the result to show as read");
  }

  /* An operator that does not parse: said below the entry, no rows. */
  gtk_editable_set_text (entry, "before:notadate");
  tern_test_wait_until (has_error, &state, "the parser's error");
  {
    g_autoptr(GError) parse_error = NULL;

    g_assert_null (tern_search_query_parse ("before:notadate", TRUE, &parse_error));
    g_assert_cmpstr (tern_search_bar_get_error (bar), ==, parse_error->message);
    g_assert_true (tern_test_shows_label (GTK_WIDGET (bar), parse_error->message));
  }
  g_assert_null (tern_search_bar_get_results (bar));
  g_assert_false (tern_search_bar_get_can_search_server (bar));
  tern_test_save_screenshot (GTK_WIDGET (state.window), "search-invalid.png");

  /* A word only a body has, and bodies are not cached: nothing here, so
   * the list says so and offers the server. */
  g_assert_cmpuint (search_for (&state, "zanzibar", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 0);
  tern_test_drain ();
  g_assert_true (tern_test_shows_label (GTK_WIDGET (list_view), "No Messages Found"));
  g_assert_true (tern_search_bar_get_can_search_server (bar));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (state.window),
                                                    "search-server"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.search-server", NULL));
  g_assert_true (tern_search_bar_get_busy (bar));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (state.window),
                                                     "search-server"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (list_view), "Searching on the Server…"));
  tern_test_wait_until (server_search_over, &state, "the server's answer");
  g_assert_null (tern_search_bar_get_error (bar));
  g_assert_cmpuint (n_rows (&state), ==, 1);
  assert_subjects (&state, "Invoice 2026-114", NULL);

  /* The server away: said inline, in words a user can act on. */
  g_assert_true (tern_test_servers_stop_dovecot (servers, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (search_for (&state, "payment", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.search-server", NULL));
  tern_test_wait_until (server_search_over, &state, "the server search to fail");
  g_assert_cmpstr (tern_search_bar_get_error (bar), ==,
                   "The server cannot be reached, so it cannot search: check the network "
                   "connection and try again.");
  g_assert_true (tern_test_shows_label (GTK_WIDGET (bar), tern_search_bar_get_error (bar)));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (list_view), "No Messages Found"));
  tern_test_save_screenshot (GTK_WIDGET (state.window), "search-server-away.png");
  g_assert_true (tern_test_servers_start_dovecot (servers, &error));
  g_assert_no_error (error);

  /* Working offline, the bar says how to connect again. */
  tern_context_set_offline (context, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (state.window), "win.search-server", NULL));
  tern_test_wait_until (server_search_over, &state, "the server search to be refused");
  g_assert_cmpstr (tern_search_bar_get_error (bar), ==,
                   "Tern is working offline. Turn off Work Offline to connect.");
  tern_context_set_offline (context, FALSE);

  /* Escape: the folder again, with its selection. */
  g_signal_emit_by_name (entry, "stop-search");
  tern_test_wait_until (folder_shown, &state, "the folder after Escape");
  g_assert_false (tern_search_bar_get_search_mode (bar));
  g_assert_false (gtk_toggle_button_get_active (state.window->search_button));
  g_assert_cmpint (selected_id (list_view), ==, folder_selection);
  g_assert_cmpint (tern_message_view_get_message (tern_window_get_message_view (state.window)), ==,
                   folder_selection);
  g_assert_cmpstr (gtk_editable_get_text (entry), ==, "");
  tern_test_wait_until (scrolled_to, &state, "the folder's scroll position");

  /* This Folder follows the sidebar: the Archive's one. */
  {
    g_autoptr(TernMailFolder) archive =
      tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                           tern_account_get_id (account), "archive", &error);

    g_assert_no_error (error);
    tern_search_bar_start (bar);
    g_assert_cmpuint (search_for (&state, "launch", TERN_SEARCH_SCOPE_FOLDER, inbox->id), ==, 2);
    g_assert_true (tern_sidebar_select_folder (tern_window_get_sidebar (state.window), archive->id));
    expect_search (&state, "launch", TERN_SEARCH_SCOPE_FOLDER, archive->id);
    tern_test_wait_until (shows_expected, &state, "the Archive's results");
    assert_subjects (&state, "Launch party last year", NULL);
  }

  g_array_unref (state.expected);
  tern_test_close_window (context, account, state.window);
  g_assert_finalize_object (context);
  tern_test_remove_tree (dir);
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

  g_test_add_func ("/tern/ui/search-bar/search", test_search);
  status = g_test_run ();

  tern_test_servers_free (servers);
  g_free (password_file);
  return status;
}
