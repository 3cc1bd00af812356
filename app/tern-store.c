/* tern-store.c: the SQLite profile database.
 *
 * One connection writes, serialised by a mutex; readers take connections of
 * their own from a small pool.  With WAL the readers never wait for the
 * writer, so the UI can page through a folder while a sync commits.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-store"

#include "config.h"

#include "tern-app-error.h"
#include "tern-app-resources.h"
#include "tern-store.h"

#include <glib/gstdio.h>

#define MIGRATIONS_PATH "/org/ternmail/Tern/sql"
#define MAX_READERS 4
#define BUSY_TIMEOUT_MS 10000

struct _TernStore
{
  GObject parent_instance;

  char *path;
  int schema_version;

  GMutex writer_lock;
  sqlite3 *writer;

  /* Reader pool: idle connections, and how many exist in all. */
  GMutex readers_lock;
  GCond readers_cond;
  GPtrArray *idle_readers;
  guint n_readers;
};

G_DEFINE_FINAL_TYPE (TernStore, tern_store, G_TYPE_OBJECT)

static void
register_resources (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      tern_app_register_resource ();
      g_once_init_leave (&once, 1);
    }
}

gboolean
tern_store_set_error (sqlite3  *db,
                      GError  **error)
{
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE,
               "Database error: %s", sqlite3_errmsg (db));
  return FALSE;
}

gboolean
tern_store_exec (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE,
                   "Database error: %s", msg ? msg : sqlite3_errmsg (db));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
tern_store_prepare (sqlite3     *db,
                    const char  *sql,
                    GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      tern_store_set_error (db, error);
      return NULL;
    }
  return stmt;
}

gboolean
tern_store_step_done (sqlite3_stmt  *stmt,
                      GError       **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return tern_store_set_error (sqlite3_db_handle (stmt), error);
  return TRUE;
}

void
tern_store_bind_text (sqlite3_stmt *stmt,
                      int           index,
                      const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

char *
tern_store_dup_text (sqlite3_stmt *stmt,
                     int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static sqlite3 *
open_connection (const char  *path,
                 gboolean     writer,
                 GError     **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_NOMUTEX;

  /* Each connection is used by one thread at a time (the writer under its
   * mutex, readers checked out of the pool), so SQLite's own locking of a
   * connection would only cost time. */
  flags |= writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;

  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE,
                   "Cannot open the database %s: %s", path,
                   db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return NULL;
    }

  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (db, TRUE);

  if (!tern_store_exec (db, "PRAGMA foreign_keys = ON", error) ||
      (!writer && !tern_store_exec (db, "PRAGMA query_only = ON", error)))
    {
      sqlite3_close (db);
      return NULL;
    }
  return db;
}

static gboolean
enable_wal (sqlite3  *db,
            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "PRAGMA journal_mode = WAL", error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW ||
      g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), "wal") != 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE,
                   "The database cannot use write-ahead logging: %s", sqlite3_errmsg (db));
      return FALSE;
    }

  /* FULL: a committed message (POP3 mail, the outbox) survives power loss,
   * not only a crash.  Syncs commit in large batches, so the cost is an
   * fsync per batch. */
  return tern_store_exec (db, "PRAGMA synchronous = FULL", error);
}

static int
read_user_version (sqlite3 *db)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return -1;
  return sqlite3_column_int (stmt, 0);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char **) a, *(char **) b);
}

/* Migrations are the files sql/NNN-what.sql, applied in order; NNN is the
 * schema version each one produces. */
static char **
list_migrations (void)
{
  char **names;

  register_resources ();
  names = g_resources_enumerate_children (MIGRATIONS_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_assert (names != NULL);
  qsort (names, g_strv_length (names), sizeof (char *), compare_names);
  return names;
}

int
tern_store_get_latest_version (void)
{
  g_auto(GStrv) names = list_migrations ();
  guint n = g_strv_length (names);

  return n == 0 ? 0 : atoi (names[n - 1]);
}

static gboolean
apply_migration (sqlite3     *db,
                 const char  *name,
                 int          version,
                 GError     **error)
{
  g_autofree char *path = g_build_path ("/", MIGRATIONS_PATH, name, NULL);
  g_autofree char *pragma = g_strdup_printf ("PRAGMA user_version = %d", version);
  g_autoptr(GBytes) sql = NULL;

  sql = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (sql == NULL)
    return FALSE;

  g_debug ("Migrating %s to schema version %d", sqlite3_db_filename (db, "main"), version);
  /* The resource data is NUL-terminated by glib-compile-resources. */
  return tern_store_exec (db, g_bytes_get_data (sql, NULL), error) &&
         tern_store_exec (db, pragma, error);
}

static gboolean
migrate (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  int *version = user_data;
  g_auto(GStrv) names = list_migrations ();
  int latest = tern_store_get_latest_version ();

  *version = read_user_version (db);
  if (*version > latest)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE_TOO_NEW,
                   "The profile database %s was written by a newer version of Tern "
                   "(schema %d; this version knows %d)",
                   sqlite3_db_filename (db, "main"), *version, latest);
      return FALSE;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      int target = atoi (names[i]);

      if (target <= *version)
        continue;
      if (!apply_migration (db, names[i], target, error))
        return FALSE;
      *version = target;
    }
  return TRUE;
}

static void
close_connection (gpointer db)
{
  sqlite3_close (db);
}

static void
tern_store_finalize (GObject *object)
{
  TernStore *self = TERN_STORE (object);

  /* Every reader has been returned: a TernStoreFunc cannot outlive the
   * call that holds a reference to the store. */
  g_assert (self->idle_readers->len == self->n_readers);
  g_ptr_array_unref (self->idle_readers);
  g_clear_pointer (&self->writer, close_connection);
  g_mutex_clear (&self->writer_lock);
  g_mutex_clear (&self->readers_lock);
  g_cond_clear (&self->readers_cond);
  g_free (self->path);

  G_OBJECT_CLASS (tern_store_parent_class)->finalize (object);
}

static void
tern_store_class_init (TernStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_store_finalize;
}

static void
tern_store_init (TernStore *self)
{
  g_mutex_init (&self->writer_lock);
  g_mutex_init (&self->readers_lock);
  g_cond_init (&self->readers_cond);
  self->idle_readers = g_ptr_array_new_with_free_func (close_connection);
}

TernStore *
tern_store_open (const char  *path,
                 GError     **error)
{
  g_autoptr(TernStore) self = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_return_val_if_fail (path != NULL, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create %s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }

  self = g_object_new (TERN_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  self->writer = open_connection (path, TRUE, error);
  if (self->writer == NULL ||
      !enable_wal (self->writer, error) ||
      !tern_store_write (self, migrate, &self->schema_version, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
tern_store_get_path (TernStore *self)
{
  g_return_val_if_fail (TERN_IS_STORE (self), NULL);
  return self->path;
}

int
tern_store_get_schema_version (TernStore *self)
{
  g_return_val_if_fail (TERN_IS_STORE (self), -1);
  return self->schema_version;
}

static gboolean
run_transaction (sqlite3        *db,
                 const char     *begin,
                 TernStoreFunc   func,
                 gpointer        user_data,
                 GError        **error)
{
  if (!tern_store_exec (db, begin, error))
    return FALSE;

  if (!func (db, user_data, error))
    {
      /* Rolling back cannot fail in a way we could act on; the caller's
       * error is the one that matters. */
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  if (!tern_store_exec (db, "COMMIT", error))
    {
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_store_write (TernStore      *self,
                  TernStoreFunc   func,
                  gpointer        user_data,
                  GError        **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (TERN_IS_STORE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  locker = g_mutex_locker_new (&self->writer_lock);
  /* IMMEDIATE takes the write lock up front, so a writer never fails half
   * way through with SQLITE_BUSY after doing work. */
  return run_transaction (self->writer, "BEGIN IMMEDIATE", func, user_data, error);
}

static sqlite3 *
checkout_reader (TernStore  *self,
                 GError    **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->readers_lock);
  sqlite3 *db;

  while (self->idle_readers->len == 0 && self->n_readers >= MAX_READERS)
    g_cond_wait (&self->readers_cond, &self->readers_lock);

  if (self->idle_readers->len > 0)
    return g_ptr_array_steal_index_fast (self->idle_readers, self->idle_readers->len - 1);

  db = open_connection (self->path, FALSE, error);
  if (db != NULL)
    self->n_readers++;
  return db;
}

static void
return_reader (TernStore *self,
               sqlite3   *db)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->readers_lock);

  g_ptr_array_add (self->idle_readers, db);
  g_cond_signal (&self->readers_cond);
}

gboolean
tern_store_read (TernStore      *self,
                 TernStoreFunc   func,
                 gpointer        user_data,
                 GError        **error)
{
  sqlite3 *db;
  gboolean ok;

  g_return_val_if_fail (TERN_IS_STORE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  db = checkout_reader (self, error);
  if (db == NULL)
    return FALSE;

  /* A read transaction gives the function one consistent snapshot. */
  ok = run_transaction (db, "BEGIN", func, user_data, error);
  return_reader (self, db);
  return ok;
}
