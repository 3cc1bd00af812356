/* test-window.c: the main window under a real X server (Xvfb): the empty
 * state, accounts and the Outbox in the sidebar (test-main-window has
 * real mail).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "tern-application.h"
#include "tern-outbox.h"
#include "tern-test-ui.h"
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

/* The window's sync jobs hold the context until their callbacks ran:
 * cancel them and wait, so that teardown can check it is finalized. */
static void
close_window (Fixture    *fixture,
              TernWindow *window)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (fixture->context));

  gtk_window_destroy (GTK_WINDOW (window));
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      tern_worker_pool_cancel_account (tern_context_get_worker_pool (fixture->context), account);
    }
  tern_test_wait_for_last_ref (fixture->context);
}

static void
test_empty_then_live (Fixture       *fixture,
                      gconstpointer  data)
{
  TernWindow *window = tern_window_new (NULL, fixture->context, NULL);
  GtkWidget *sidebar = GTK_WIDGET (tern_window_get_sidebar (window));

  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (window));

  g_assert_true (tern_test_shows_label (GTK_WIDGET (window), "No Accounts Yet"));
  g_assert_false (gtk_widget_is_drawable (sidebar));

  /* An account added while the window is open shows up without a reload. */
  add_account (fixture, "Ann Example", "ann@example.org");
  tern_test_drain ();
  g_assert_false (tern_test_shows_label (GTK_WIDGET (window), "No Accounts Yet"));
  g_assert_true (tern_test_shows_label (sidebar, "Ann Example"));
  g_assert_true (tern_test_shows_label (sidebar, "ann@example.org"));
  g_assert_true (tern_test_shows_label (sidebar, "All Inboxes"));

  close_window (fixture, window);
}

static void
test_lists_accounts (Fixture       *fixture,
                     gconstpointer  data)
{
  TernWindow *window;
  GtkWidget *sidebar;

  add_account (fixture, "Ann Example", "ann@example.org");
  add_account (fixture, "Борис", "boris@example.ru");

  window = tern_window_new (NULL, fixture->context, NULL);
  sidebar = GTK_WIDGET (tern_window_get_sidebar (window));
  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (window));
  tern_test_drain ();

  g_assert_true (tern_test_shows_label (sidebar, "Ann Example"));
  g_assert_true (tern_test_shows_label (sidebar, "ann@example.org"));
  g_assert_true (tern_test_shows_label (sidebar, "Борис"));
  g_assert_true (tern_test_shows_label (sidebar, "boris@example.ru"));
  g_assert_false (tern_test_shows_label (sidebar, "Outbox"));

  /* A queued message brings the Outbox with its count. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TernAccount) ann =
      g_list_model_get_item (G_LIST_MODEL (tern_context_get_accounts (fixture->context)), 0);
    const char *raw = "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\n"
                      "Subject: Hello\r\n\r\nHi\r\n";
    g_autoptr(GBytes) message = g_bytes_new_static (raw, strlen (raw));

    tern_outbox_enqueue (tern_context_get_store (fixture->context), ann, message, &error);
    g_assert_no_error (error);
    tern_sidebar_reload (TERN_SIDEBAR (sidebar));
    tern_test_drain ();
    g_assert_true (tern_test_shows_label (sidebar, "Outbox"));
    g_assert_true (tern_test_shows_label (sidebar, "1"));
  }

  close_window (fixture, window);
}

static char *
action_state_string (TernWindow *window,
                     const char *name)
{
  g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (window), name);

  return g_variant_print (state, FALSE);
}

/* The list's order and conversations are remembered, as the pane sizes. */
static void
test_sort_remembered (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr(GSettings) settings = g_settings_new_with_backend (APPLICATION_ID, backend);
  TernWindow *window = tern_window_new (NULL, fixture->context, settings);
  g_autofree char *sort = NULL;
  g_autofree char *threaded = NULL;

  sort = action_state_string (window, "sort");
  threaded = action_state_string (window, "threaded");
  g_assert_cmpstr (sort, ==, "'date'");
  g_assert_cmpstr (threaded, ==, "false");

  g_action_group_change_action_state (G_ACTION_GROUP (window), "sort",
                                      g_variant_new_string ("sender"));
  g_action_group_change_action_state (G_ACTION_GROUP (window), "threaded",
                                      g_variant_new_boolean (TRUE));
  {
    g_autofree char *saved_sort = g_settings_get_string (settings, "message-list-sort");

    g_assert_cmpstr (saved_sort, ==, "sender");
    g_assert_true (g_settings_get_boolean (settings, "message-list-conversations"));
  }
  close_window (fixture, window);

  window = tern_window_new (NULL, fixture->context, settings);
  g_free (sort);
  g_free (threaded);
  sort = action_state_string (window, "sort");
  threaded = action_state_string (window, "threaded");
  g_assert_cmpstr (sort, ==, "'sender'");
  g_assert_cmpstr (threaded, ==, "true");
  close_window (fixture, window);
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
  g_test_add ("/tern/ui/window/sort-remembered", Fixture, NULL, fixture_setup, test_sort_remembered, fixture_teardown);

  return g_test_run ();
}
