/* test-application.c: the application opens the profile without
 * blocking, under a real X server (Xvfb).  A profile of an older schema
 * is migrated on a worker that the test holds for as long as it likes
 * (_tern_context_set_open_hook()): meanwhile a window says "Preparing your
 * mail…" with a spinner and keeps drawing frames, and the main window
 * replaces it once the profile is open, migrated.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves preparing.png there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sqlite3.h>

#include "tern-application.h"
#include "tern-context-private.h"
#include "tern-search.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"

/* Holds the opening worker until the test opens it. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean reached;
  gboolean open;
  char *profile;
} Gate;

static void
hold_open_hook (gpointer profile_dir,
                gpointer user_data)
{
  Gate *gate = user_data;

  g_mutex_lock (&gate->lock);
  gate->profile = g_strdup (profile_dir);
  gate->reached = TRUE;
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->lock);
  g_mutex_unlock (&gate->lock);
}

static gboolean
gate_reached (gpointer data)
{
  Gate *gate = data;
  gboolean reached;

  g_mutex_lock (&gate->lock);
  reached = gate->reached;
  g_mutex_unlock (&gate->lock);
  return reached;
}

static void
open_gate (Gate *gate)
{
  g_mutex_lock (&gate->lock);
  gate->open = TRUE;
  g_cond_signal (&gate->cond);
  g_mutex_unlock (&gate->lock);
}

/* A profile of schema 6, before the full-text index held each message's
 * scope (migration 007 writes it again: the slow one on a big profile). */
static void
make_old_profile (const char *profile)
{
  static const char * const before[] = {
    "001-initial.sql", "002-sync.sql", "003-pop3-seen.sql", "004-outbox.sql",
    "005-message-list.sql", "006-search.sql",
  };
  g_autofree char *path = g_build_filename (profile, "tern.db", NULL);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  /* Registers the migrations' resources. */
  g_assert_cmpint (tern_store_get_latest_version (), >, 6);
  g_assert_cmpint (g_mkdir_with_parents (profile, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_true (tern_search_register_tokenizer (db, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (before); i++)
    tern_test_exec_migration (db, before[i]);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 6", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static GtkWindow *
find_window_showing (GtkApplication *app,
                     const char     *text)
{
  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (tern_test_shows_label (l->data, text))
      return l->data;
  return NULL;
}

static gboolean
preparing_shown (gpointer app)
{
  return find_window_showing (app, "Preparing your mail…") != NULL;
}

static gboolean
main_window_shown (gpointer app)
{
  return TERN_IS_WINDOW (gtk_application_get_active_window (app));
}

static void
test_slow_migration (void)
{
  g_autofree char *dir = tern_test_make_tmpdir ("tern-application-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autoptr(TernApplication) app = NULL;
  g_autoptr(GError) error = NULL;
  Gate gate = { 0 };
  GtkWindow *preparing;
  GtkWidget *spinner;

  make_old_profile (profile);
  g_setenv ("TERN_PROFILE", profile, TRUE);
  g_mutex_init (&gate.lock);
  g_cond_init (&gate.cond);
  _tern_context_set_open_hook (hold_open_hook, &gate);

  app = tern_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  /* Activation returned at once: the profile opens on a worker. */
  g_assert_null (tern_application_get_context (app));

  /* Held after its migrations: a window says what happens, and keeps
   * drawing (its spinner turns) while the worker works. */
  tern_test_wait_until (gate_reached, &gate, "the worker to migrate the profile");
  g_assert_cmpstr (gate.profile, ==, profile);
  tern_test_wait_until (preparing_shown, app, "the preparing window");
  preparing = find_window_showing (GTK_APPLICATION (app), "Preparing your mail…");
  spinner = tern_test_find_descendant (GTK_WIDGET (preparing), GTK_TYPE_SPINNER);
  g_assert_nonnull (spinner);
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (spinner)));
  g_assert_true (gtk_widget_is_drawable (spinner));
  tern_test_wait_for_n_frames (GTK_WIDGET (preparing), 10, "frames while the profile opens");
  tern_test_save_rendering (GTK_WIDGET (preparing), "preparing.png");
  g_assert_null (tern_application_get_context (app));
  g_assert_false (main_window_shown (app));

  /* Let go: the main window, on the migrated profile, in its place. */
  open_gate (&gate);
  tern_test_wait_until (main_window_shown, app, "the main window");
  g_assert_nonnull (tern_application_get_context (app));
  g_assert_cmpint (tern_store_get_schema_version (tern_context_get_store (
                     tern_application_get_context (app))), ==, tern_store_get_latest_version ());
  g_assert_null (find_window_showing (GTK_APPLICATION (app), "Preparing your mail…"));

  _tern_context_set_open_hook (NULL, NULL);
  for (GList *l; (l = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL;)
    gtk_window_destroy (l->data);
  tern_test_drain ();
  g_mutex_clear (&gate.lock);
  g_cond_clear (&gate.cond);
  g_free (gate.profile);
  g_unsetenv ("TERN_PROFILE");
  tern_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  tern_ui_register_resources ();
  tern_test_load_style ();

  g_test_add_func ("/tern/ui/application/slow-migration", test_slow_migration);
  return g_test_run ();
}
