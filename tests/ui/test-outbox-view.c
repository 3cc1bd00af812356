/* test-outbox-view.c: the sidebar's Outbox under a real X server (Xvfb)
 * with the real Dovecot and Postfix.  A message queued while the outgoing
 * server refuses Alice's sign-in shows as not sent, with the reason; once
 * her password is right again, Retry sends it: it arrives in Bob's Inbox
 * exactly once and leaves the view.  Edit takes a message out of the
 * outbox into a composer with its fields (Bcc too); Delete asks, then
 * removes it.  A message that may have been sent offers only "Send Again
 * Anyway" and "Discard".
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves outbox.png and
 * outbox-may-have-been-sent.png there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk/x11/gdkx.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-application.h"
#include "tern-composer-window.h"
#include "tern-imap-sync.h"
#include "tern-outbox-view.h"
#include "tern-outbox.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

static TernTestServers *servers;
static char *password_file;

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account; /* the manager's */
  TernWindow *window;
  char *subject;
} Fixture;

/* Helpers */

static char *
run (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_steal_pointer (&out);
}

/* How many messages of Bob's Inbox on the server have @subject. */
static guint
bob_has (const char *subject)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                         "-f", "tab", "fetch", "-u", tern_test_servers_get_user (servers, 1),
                         "hdr.subject", "mailbox", "INBOX", "all", NULL };
  g_autofree char *out = run (argv);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  guint count = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_strcmp0 (g_strstrip (lines[i]), subject) == 0)
      count++;
  return count;
}

/* The drawable widget under @widget that @match accepts. */
static GtkWidget *
find_widget (GtkWidget  *widget,
             gboolean  (*match) (GtkWidget *, const char *),
             const char *text)
{
  if (!gtk_widget_is_drawable (widget))
    return NULL;
  if (match (widget, text))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_label_with (GtkWidget  *widget,
               const char *text)
{
  return GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL;
}

static gboolean
is_button (GtkWidget  *widget,
           const char *label)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static GtkWidget *
outbox_widget (Fixture *fixture)
{
  return GTK_WIDGET (tern_window_get_outbox_view (fixture->window));
}

static void
press (Fixture    *fixture,
       const char *label)
{
  GtkWidget *button = find_widget (outbox_widget (fixture), is_button, label);

  g_assert_nonnull (button);
  /* What a click does (activate would wait for the press animation). */
  g_signal_emit_by_name (button, "clicked");
  tern_test_drain ();
}

/* Fixture */

static void
set_password (Fixture  *fixture,
              gboolean  right)
{
  g_autofree char *command = right ? g_strdup_printf ("cat '%s'", password_file)
                                   : g_strdup ("printf not-the-password");

  tern_account_set_password_command (fixture->account, command);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *path = NULL;
  const char *address = tern_test_servers_get_user (servers, 0);

  fixture->dir = tern_test_make_tmpdir ("tern-outbox-view-XXXXXX");
  fixture->subject = g_strdup_printf ("Outbox %" G_GINT64_FORMAT, g_get_real_time ());
  path = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (path, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));
  incoming = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                              TERN_TLS_MODE_IMPLICIT);
  outgoing = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSION),
                              TERN_TLS_MODE_STARTTLS);
  incoming->username = g_strdup (address);
  outgoing->username = g_strdup (address);
  account = tern_account_new ("Alice", address, TERN_ACCOUNT_PROTOCOL_IMAP, incoming, outgoing);
  fixture->account = account;
  set_password (fixture, TRUE);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  /* Folders known: Drafts for Edit, Sent for the copy. */
  tern_imap_sync_account (fixture->context, account, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL,
                          NULL, &error);
  g_assert_no_error (error);

  fixture->window = tern_window_new (NULL, fixture->context, NULL);
  gtk_window_present (GTK_WINDOW (fixture->window));
  tern_test_drain ();
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  tern_test_wait_for_last_ref (fixture->context);
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->subject);
}

typedef struct
{
  Fixture *fixture;
  gint64 id;
} RowWait;

static gboolean
shows_failed (gpointer data)
{
  RowWait *wait = data;
  TernOutboxItem *item = tern_outbox_list_find (
    tern_outbox_view_get_list (tern_window_get_outbox_view (wait->fixture->window)), wait->id);

  return item != NULL && tern_outbox_item_get_state (item) == TERN_OUTBOX_STATE_FAILED;
}

/* Queues a message to Bob (and Carol in Bcc) while the outgoing server
 * refuses Alice's password, and waits for it to fail.  Returns its id. */
static gint64
queue_refused (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernComposer) composer = tern_composer_new_for_account (fixture->account);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autofree char *to = g_strdup_printf ("Bob <%s>", tern_test_servers_get_user (servers, 1));
  RowWait wait;
  gint64 id;

  set_password (fixture, FALSE);
  tern_composer_set_to (composer, to);
  tern_composer_set_bcc (composer, "carol@tern.test");
  tern_composer_set_subject (composer, fixture->subject);
  tern_composer_set_body (composer, "Sent from the outbox view.\n");
  bytes = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  id = tern_outbox_enqueue (tern_context_get_store (fixture->context), fixture->account, bytes,
                            &error);
  g_assert_no_error (error);
  tern_outbox_schedule (fixture->context, fixture->account);
  wait.fixture = fixture;
  wait.id = id;
  tern_test_wait_until (shows_failed, &wait, "the message to fail");
  entry = tern_outbox_get (tern_context_get_store (fixture->context), id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry->last_error);
  return id;
}

/* Selects the sidebar's last row, which is the Outbox while something
 * waits. */
static void
select_outbox (Fixture *fixture)
{
  TernSidebar *sidebar = tern_window_get_sidebar (fixture->window);
  GtkSelectionModel *rows = gtk_list_view_get_model (tern_sidebar_get_list_view (sidebar));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (rows));

  g_assert_cmpuint (n, >, 0);
  gtk_selection_model_select_item (rows, n - 1, TRUE);
  tern_test_drain ();
  g_assert_cmpstr (tern_sidebar_get_selected_title (sidebar), ==, "Outbox");
  g_assert_true (gtk_widget_is_drawable (outbox_widget (fixture)));
  /* In place of the message list and the reading pane. */
  g_assert_false (gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_message_list_view (
    fixture->window))));
  g_assert_false (gtk_widget_is_drawable (GTK_WIDGET (tern_window_get_message_view (
    fixture->window))));
}

static gboolean
sidebar_has_outbox (gpointer data)
{
  Fixture *fixture = data;
  TernSidebar *sidebar = tern_window_get_sidebar (fixture->window);
  GtkSelectionModel *rows = gtk_list_view_get_model (tern_sidebar_get_list_view (sidebar));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (rows));

  if (n == 0)
    return FALSE;
  gtk_selection_model_select_item (rows, n - 1, TRUE);
  return g_strcmp0 (tern_sidebar_get_selected_title (sidebar), "Outbox") == 0;
}

static gboolean
view_is_empty (gpointer data)
{
  Fixture *fixture = data;

  return g_list_model_get_n_items (G_LIST_MODEL (tern_outbox_view_get_list (
           tern_window_get_outbox_view (fixture->window))))
         == 0;
}

static gboolean
bob_received (gpointer data)
{
  return bob_has (data) > 0;
}

/* Tests */

static void
test_retry (Fixture       *fixture,
            gconstpointer  data)
{
  gint64 id = queue_refused (fixture);
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  tern_test_wait_until (sidebar_has_outbox, fixture, "the Outbox in the sidebar");
  select_outbox (fixture);
  entry = tern_outbox_get (tern_context_get_store (fixture->context), id, &error);
  g_assert_no_error (error);
  /* The row: subject, recipients (Bcc too), where it stands and why. */
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_label_with, fixture->subject));
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_label_with, "carol@tern.test"));
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_label_with, "Not sent."));
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_label_with, entry->last_error));
  tern_test_save_screenshot (GTK_WIDGET (fixture->window), "outbox.png");
  g_assert_cmpuint (bob_has (fixture->subject), ==, 0);

  /* The user fixes the password, then presses Retry. */
  set_password (fixture, TRUE);
  press (fixture, "_Retry");
  tern_test_wait_until (view_is_empty, fixture, "the message to leave the outbox view");
  g_clear_pointer (&entry, tern_outbox_entry_free);
  entry = tern_outbox_get (tern_context_get_store (fixture->context), id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (entry->state, ==, TERN_OUTBOX_STATE_SENT);
  tern_test_wait_until (bob_received, fixture->subject, "Bob to receive the message");
  g_assert_cmpuint (bob_has (fixture->subject), ==, 1);
}

static TernComposerWindow *
find_composer (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (TERN_IS_COMPOSER_WINDOW (l->data))
      return l->data;
  return NULL;
}

static void
test_edit (Fixture       *fixture,
           gconstpointer  data)
{
  gint64 id = queue_refused (fixture);
  g_autoptr(TernOutboxEntry) gone = NULL;
  g_autoptr(GError) error = NULL;
  TernComposerWindow *composer_window;
  TernComposer *composer;

  tern_test_wait_until (sidebar_has_outbox, fixture, "the Outbox in the sidebar");
  select_outbox (fixture);
  g_assert_null (find_composer ());
  press (fixture, "_Edit");
  g_assert_cmpstr (tern_outbox_view_get_error (tern_window_get_outbox_view (fixture->window)), ==,
                   NULL);
  composer_window = find_composer ();
  g_assert_nonnull (composer_window);
  composer = tern_composer_window_get_composer (composer_window);
  g_assert_nonnull (composer);
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, fixture->subject);
  g_assert_nonnull (strstr (tern_composer_get_to (composer),
                            tern_test_servers_get_user (servers, 1)));
  g_assert_cmpstr (tern_composer_get_bcc (composer), ==, "carol@tern.test");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Sent from the outbox view.\n");
  g_assert_cmpint (tern_composer_window_get_draft_id (composer_window), >, 0);
  gone = tern_outbox_get (tern_context_get_store (fixture->context), id, &error);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  tern_test_wait_until (view_is_empty, fixture, "the message to leave the outbox view");
  gtk_window_destroy (GTK_WINDOW (composer_window));
  tern_test_drain ();
}

static AdwMessageDialog *
find_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return l->data;
  return NULL;
}

static void
test_delete (Fixture       *fixture,
             gconstpointer  data)
{
  gint64 id = queue_refused (fixture);
  g_autoptr(TernOutboxEntry) gone = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;

  tern_test_wait_until (sidebar_has_outbox, fixture, "the Outbox in the sidebar");
  select_outbox (fixture);
  /* Cancel keeps it. */
  press (fixture, "_Delete");
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  tern_test_drain ();
  g_assert_nonnull (tern_outbox_list_find (
    tern_outbox_view_get_list (tern_window_get_outbox_view (fixture->window)), id));

  press (fixture, "_Delete");
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "delete");
  gtk_window_destroy (GTK_WINDOW (dialog));
  tern_test_wait_until (view_is_empty, fixture, "the message to leave the outbox view");
  gone = tern_outbox_get (tern_context_get_store (fixture->context), id, &error);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
}

typedef struct
{
  gint64 id;
} MarkUncertain;

static gboolean
mark_uncertain_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  MarkUncertain *mark = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (
    db, "UPDATE outbox SET may_have_been_sent = 1, last_error = 'interrupted' WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, mark->id);
  return tern_store_step_done (stmt, error);
}

/* A message interrupted while being sent (what settling such a row
 * records): only the user can decide, and "Send Again Anyway" sends it. */
static void
test_may_have_been_sent (Fixture       *fixture,
                         gconstpointer  data)
{
  MarkUncertain mark = { queue_refused (fixture) };
  g_autoptr(GError) error = NULL;
  TernOutboxList *list = tern_outbox_view_get_list (tern_window_get_outbox_view (fixture->window));

  g_assert_true (tern_store_write (tern_context_get_store (fixture->context), mark_uncertain_cb,
                                   &mark, &error));
  g_assert_no_error (error);
  g_assert_true (tern_outbox_list_reload (list, &error));
  g_assert_no_error (error);
  tern_test_wait_until (sidebar_has_outbox, fixture, "the Outbox in the sidebar");
  select_outbox (fixture);
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_label_with, "may have arrived"));
  g_assert_null (find_widget (outbox_widget (fixture), is_button, "_Retry"));
  g_assert_null (find_widget (outbox_widget (fixture), is_button, "_Delete"));
  g_assert_nonnull (find_widget (outbox_widget (fixture), is_button, "_Discard"));
  tern_test_save_screenshot (GTK_WIDGET (fixture->window), "outbox-may-have-been-sent.png");

  set_password (fixture, TRUE);
  press (fixture, "Send _Again Anyway");
  tern_test_wait_until (view_is_empty, fixture, "the message to leave the outbox view");
  tern_test_wait_until (bob_received, fixture->subject, "Bob to receive the message");
  g_assert_cmpuint (bob_has (fixture->subject), ==, 1);
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

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  password_file = g_strdup_printf ("%s/password-0", tern_test_servers_get_dir (servers));
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

  g_test_add ("/tern/ui/outbox/retry", Fixture, NULL, fixture_setup, test_retry,
              fixture_teardown);
  g_test_add ("/tern/ui/outbox/edit", Fixture, NULL, fixture_setup, test_edit, fixture_teardown);
  g_test_add ("/tern/ui/outbox/delete", Fixture, NULL, fixture_setup, test_delete,
              fixture_teardown);
  g_test_add ("/tern/ui/outbox/may-have-been-sent", Fixture, NULL, fixture_setup,
              test_may_have_been_sent, fixture_teardown);
  status = g_test_run ();

  tern_test_servers_free (servers);
  g_free (password_file);
  return status;
}
