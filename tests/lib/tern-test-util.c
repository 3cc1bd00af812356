/* tern-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tern-test-util.h"

char *
tern_test_make_tmpdir (const char *template)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp (template, &error);

  g_assert_no_error (error);
  return dir;
}

typedef gboolean (*VisitFunc) (const char *path,
                               gpointer    user_data);

/* Calls @func on each regular file below @path (depth first) and, when
 * @remove, removes everything after visiting.  Stops early when @func
 * returns TRUE, and then returns TRUE. */
static gboolean
walk (const char *path,
      gboolean    remove,
      VisitFunc   func,
      gpointer    user_data)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  while (!found && dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      GStatBuf st;

      /* lstat: a symbolic link is removed, never followed. */
      if (g_lstat (child, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        found = walk (child, remove, func, user_data);
      else
        {
          if (func != NULL && S_ISREG (st.st_mode))
            found = func (child, user_data);
          if (remove)
            g_unlink (child);
        }
    }
  if (remove)
    g_rmdir (path);
  return found;
}

void
tern_test_remove_tree (const char *path)
{
  walk (path, TRUE, NULL, NULL);
}

static gboolean
file_contains (const char *path,
               gpointer    user_data)
{
  const char *needle = user_data;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, needle, strlen (needle)) != NULL;
}

gboolean
tern_test_tree_contains (const char *path,
                         const char *needle)
{
  return walk (path, FALSE, file_contains, (gpointer) needle);
}

void
tern_test_profile_setup (TernTestProfile *fixture,
                         gconstpointer    data)
{
  fixture->dir = tern_test_make_tmpdir ("tern-test-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
}

void
tern_test_profile_teardown (TernTestProfile *fixture,
                            gconstpointer    data)
{
  tern_test_remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->profile, g_free);
}

char *
tern_test_run_cli (const char        *profile,
                   const char        *ca_file,
                   const char *const *args,
                   int               *exit_status)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, (char *) profile);
  if (ca_file != NULL)
    {
      g_ptr_array_add (argv, (char *) "--ca-file");
      g_ptr_array_add (argv, (char *) ca_file);
    }
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("tern-cli %s: %s", args[0], err);
  *exit_status = g_spawn_check_wait_status (status, NULL) ? 0 : 1;
  return out;
}

/* Wakes the blocking iteration of tern_test_wait_for() so that a
 * predicate that changes without a source (another thread, time) is
 * still seen, and the deadline still checked. */
static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
tern_test_wait_for (TernTestPredicate predicate,
                    gpointer          data)
{
  gint64 deadline = g_get_monotonic_time () + TERN_TEST_DEADLINE_SECONDS * G_USEC_PER_SEC;
  guint wake = g_timeout_add (100, wake_cb, NULL);

  while (!predicate (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);
  return predicate (data);
}

void
tern_test_wait_until (TernTestPredicate predicate,
                      gpointer          data,
                      const char       *what)
{
  if (!tern_test_wait_for (predicate, data))
    g_error ("Gave up waiting for %s", what);
}

guint16
tern_test_closed_port (GSocketFamily family)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (family);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  g_socket_close (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
}

void
tern_test_drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
is_last_ref (gpointer data)
{
  return G_OBJECT (data)->ref_count <= 1;
}

void
tern_test_wait_for_last_ref (gpointer object)
{
  tern_test_wait_for (is_last_ref, object);
  tern_test_drain ();
}

char *
tern_test_query_plan (sqlite3    *db,
                      const char *sql)
{
  g_autofree char *explain = g_strconcat ("EXPLAIN QUERY PLAN ", sql, NULL);
  GString *text = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, explain, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (text, "%s\n", sqlite3_column_text (stmt, 3));
  sqlite3_finalize (stmt);
  return g_string_free (text, FALSE);
}

void
tern_test_exec_migration (sqlite3    *db,
                          const char *name)
{
  g_autofree char *path = g_build_path ("/", "/org/ternmail/Tern/sql", name, NULL);
  g_autoptr(GBytes) sql = NULL;
  g_autoptr(GError) error = NULL;

  sql = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_exec (db, g_bytes_get_data (sql, NULL), NULL, NULL, NULL), ==,
                   SQLITE_OK);
}

struct _TernTestFifo
{
  char *path;
  GThread *thread;
  gint returned; /* atomic */
  gint finished; /* atomic */
  gboolean waited_out;
};

static gpointer
fifo_thread (gpointer user_data)
{
  TernTestFifo *fifo = user_data;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!g_atomic_int_get (&fifo->returned) && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  fifo->waited_out = !g_atomic_int_get (&fifo->returned);
  /* ENXIO while nobody has it open for reading. */
  while (!g_atomic_int_get (&fifo->finished))
    {
      int fd = open (fifo->path, O_WRONLY | O_NONBLOCK);

      if (fd >= 0)
        close (fd);
      g_usleep (10000);
    }
  return NULL;
}

TernTestFifo *
tern_test_fifo_new (const char *path)
{
  TernTestFifo *fifo = g_new0 (TernTestFifo, 1);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  fifo->path = g_strdup (path);
  fifo->thread = g_thread_new ("tern-test-fifo", fifo_thread, fifo);
  return fifo;
}

void
tern_test_fifo_returned (TernTestFifo *fifo)
{
  g_atomic_int_set (&fifo->returned, 1);
}

gboolean
tern_test_fifo_free (TernTestFifo *fifo)
{
  gboolean waited_out;

  g_atomic_int_set (&fifo->finished, 1);
  g_thread_join (fifo->thread);
  waited_out = fifo->waited_out;
  g_unlink (fifo->path);
  g_free (fifo->path);
  g_free (fifo);
  return waited_out;
}
