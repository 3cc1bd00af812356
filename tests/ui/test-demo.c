/* test-demo.c: `tern --demo` under a real X server (Xvfb), through the
 * application itself: its main window opens on the demo accounts synced
 * from the servers data/demo/tern-demo starts, the welcome message reads in
 * the message view, and quitting Tern stops the servers.
 *
 * tern-test-session gives the test a private XDG_RUNTIME_DIR and
 * XDG_DATA_HOME, where the demo keeps its servers and its profile.  It runs
 * twice: as the suite's user (root in CI: Dovecot and Postfix) and, as
 * test-demo-unprivileged, as a normal user (the rootless servers).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "tern-application.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

/* data/demo/tern-demo: 240 generated messages and two written by hand. */
#define DEMO_INBOX 242

static GListModel *
rows (TernWindow *window)
{
  GtkListView *list_view =
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (window));

  return G_LIST_MODEL (gtk_list_view_get_model (list_view));
}

static gboolean
has_all_rows (gpointer data)
{
  GListModel *model = rows (data);

  return model != NULL && g_list_model_get_n_items (model) == DEMO_INBOX;
}

static gboolean
welcome_shown (gpointer data)
{
  GtkTextView *text_view
    = tern_test_find_text_view (GTK_WIDGET (tern_window_get_message_view (data)));
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  if (text_view == NULL)
    return FALSE;
  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (text_view), &start, &end);
  text = gtk_text_buffer_get_text (gtk_text_view_get_buffer (text_view), &start, &end, FALSE);
  return strstr (text, "This mailbox lives on mail servers running on your own computer") != NULL;
}

static gboolean checked;

/* What a newcomer does: look at the Inbox, open the newest message, quit. */
static gboolean
check_window_cb (gpointer data)
{
  GApplication *app = data;
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));
  TernWindow *window;
  g_autoptr(GtkTreeListRow) row = NULL;
  g_autoptr(TernMessageItem) first = NULL;

  g_assert_true (TERN_IS_WINDOW (active));
  window = TERN_WINDOW (active);
  tern_test_wait_until (has_all_rows, window, "the demo Inbox's rows");
  g_assert_cmpstr (tern_sidebar_get_selected_title (tern_window_get_sidebar (window)), ==,
                   "Inbox");
  g_assert_true (tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (window)), "Demo"));
  g_assert_true (
    tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (window)), "Demo (POP3)"));

  row = g_list_model_get_item (rows (window), 0);
  first = gtk_tree_list_row_get_item (row);
  g_assert_cmpstr (tern_message_item_get_subject (first), ==, "Welcome to the Tern demo");
  tern_message_list_view_select (tern_window_get_message_list_view (window), 0);
  tern_test_wait_until (welcome_shown, window, "the welcome message in the message view");

  checked = TRUE;
  g_application_quit (app);
  return G_SOURCE_REMOVE;
}

static void
activate_cb (GApplication *app)
{
  g_idle_add (check_window_cb, app);
}

/* Whether something accepts connections on 127.0.0.1:@port. */
static gboolean
port_open (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static void
test_demo (void)
{
  g_autoptr(TernApplication) app = tern_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *link = g_build_filename (g_get_user_runtime_dir (), "tern-demo", NULL);
  g_autofree char *servers = NULL;
  g_autofree char *ini_path = NULL;
  char *argv[] = { (char *) "tern", (char *) "--demo", NULL };
  guint16 imap;

  g_signal_connect_after (app, "activate", G_CALLBACK (activate_cb), NULL);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 2, argv), ==, 0);
  g_assert_true (checked);

  /* Quitting stopped the servers; their directory (and mail) stays. */
  servers = g_file_read_link (link, &error);
  g_assert_no_error (error);
  ini_path = g_build_filename (servers, "servers.ini", NULL);
  g_key_file_load_from_file (ini, ini_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  imap = (guint16) g_key_file_get_integer (ini, "ports", "imap", &error);
  g_assert_no_error (error);
  g_assert_false (port_open (imap));

  tern_test_remove_tree (servers);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* test-demo-unprivileged: tern-test-unprivileged must have dropped root. */
  if (g_strcmp0 (g_getenv ("TERN_TEST_UNPRIVILEGED"), "1") == 0)
    g_assert_cmpuint (geteuid (), !=, 0);

  g_test_add_func ("/tern/ui/demo", test_demo);
  return g_test_run ();
}
