/* test-window.c: the main window under a real X server (Xvfb).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-application.h"
#include "tern-test-util.h"
#include "tern-window.h"

typedef struct
{
  char *dir;
  TernContext *context;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-ui-XXXXXX");
  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static void
add_account (Fixture    *fixture,
             const char *name,
             const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = tern_account_new (name, address, TERN_ACCOUNT_PROTOCOL_IMAP,
                                                     imap, NULL);

  /* A password command keeps this test independent of the keyring, which
   * test-accounts covers. */
  tern_account_set_password_command (account, "echo pw");
  g_assert_true (tern_account_manager_add (tern_context_get_accounts (fixture->context), account,
                                           NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
wait_until_mapped (GtkWidget *widget)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!gtk_widget_get_mapped (widget) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gtk_widget_get_mapped (widget));
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Collects the visible AdwActionRows below @widget. */
static void
collect_rows (GtkWidget *widget,
              GPtrArray *rows)
{
  if (ADW_IS_ACTION_ROW (widget) && gtk_widget_is_drawable (widget))
    g_ptr_array_add (rows, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_rows (child, rows);
}

static GPtrArray *
visible_rows (GtkWidget *window)
{
  GPtrArray *rows = g_ptr_array_new ();

  while (g_main_context_iteration (NULL, FALSE))
    ;
  collect_rows (window, rows);
  return rows;
}

static gboolean
shows_status_page (GtkWidget *widget)
{
  if (ADW_IS_STATUS_PAGE (widget) && gtk_widget_is_drawable (widget))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_status_page (child))
      return TRUE;
  return FALSE;
}

static void
test_empty_then_live (Fixture       *fixture,
                      gconstpointer  data)
{
  TernWindow *window = tern_window_new (NULL, fixture->context, NULL);
  g_autoptr(GPtrArray) rows = NULL;

  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (window));

  rows = visible_rows (GTK_WIDGET (window));
  g_assert_cmpuint (rows->len, ==, 0);
  g_assert_true (shows_status_page (GTK_WIDGET (window)));

  /* An account added while the window is open shows up without a reload. */
  add_account (fixture, "Ann Example", "ann@example.org");
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = visible_rows (GTK_WIDGET (window));
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (adw_preferences_row_get_title (rows->pdata[0]), ==, "Ann Example");
  g_assert_false (shows_status_page (GTK_WIDGET (window)));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_lists_accounts (Fixture       *fixture,
                     gconstpointer  data)
{
  TernWindow *window;
  g_autoptr(GPtrArray) rows = NULL;

  add_account (fixture, "Ann Example", "ann@example.org");
  add_account (fixture, "Борис", "boris@example.ru");

  window = tern_window_new (NULL, fixture->context, NULL);
  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (window));

  rows = visible_rows (GTK_WIDGET (window));
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpstr (adw_preferences_row_get_title (rows->pdata[0]), ==, "Ann Example");
  g_assert_cmpstr (adw_action_row_get_subtitle (rows->pdata[0]), ==,
                   "ann@example.org · IMAP imap.example.org");
  g_assert_cmpstr (adw_preferences_row_get_title (rows->pdata[1]), ==, "Борис");

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();

  g_test_add ("/tern/ui/window/empty-then-live", Fixture, NULL, fixture_setup, test_empty_then_live, fixture_teardown);
  g_test_add ("/tern/ui/window/lists-accounts", Fixture, NULL, fixture_setup, test_lists_accounts, fixture_teardown);

  return g_test_run ();
}
