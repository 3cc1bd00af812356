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

#ifdef TERN_HAVE_PREUPDATE_HOOK
/* sqlite3.h declares the pre-update hook only for builds that have it. */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#endif

#include "tern-app-error.h"
#include "tern-app-resources.h"
#include "tern-search.h"
#include "tern-store.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#define MIGRATIONS_PATH "/org/ternmail/Tern/sql"
#define MAX_READERS 4
#define BUSY_TIMEOUT_MS 10000
/* WAL pages after which a commit asks for a checkpoint (40 MB), and after
 * which the writer makes one itself (see wal_hook_cb()). */
#define CHECKPOINT_PAGES 10000
#define CHECKPOINT_INLINE_PAGES (2 * CHECKPOINT_PAGES)

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

  /* Folders whose messages the writer's open transaction touched (under
   * writer_lock), and those committed but not yet announced on
   * main_context (under notify_lock). */
  GHashTable *txn_folders;
  gboolean watch_paused;  /* by tern_store_writes_in_folder(), this transaction */
  guint64 messages_added; /* see tern_store_get_messages_added() */
  GMutex notify_lock;
  GHashTable *pending_folders;
  GSource *notify_source;
  GMainContext *main_context;
  GThread *main_thread;
  sqlite3 *main_reader;

  /* The checkpointer thread, started by the first commit that wants one;
   * its state under checkpoint_lock. */
  GMutex checkpoint_lock;
  GCond checkpoint_cond;
  GThread *checkpointer;
  gboolean checkpoint_wanted;
  gboolean closing;
};

enum {
  SIGNAL_MESSAGES_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

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

/* @message is SQLite's; a full disk is said in the user's words, since
 * it is the one store failure a user can do something about.  The
 * transaction is rolled back: what was stored before stays. */
static gboolean
set_store_error (sqlite3     *db,
                 const char  *message,
                 GError     **error)
{
  if ((sqlite3_extended_errcode (db) & 0xff) == SQLITE_FULL)
    g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_DISK_FULL,
                         _("The disk is full: Tern could not save to its database. "
                           "Nothing saved before is lost; free some space and try again."));
  else
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE, "Database error: %s", message);
  return FALSE;
}

gboolean
tern_store_set_error (sqlite3  *db,
                      GError  **error)
{
  return set_store_error (db, sqlite3_errmsg (db), error);
}

gboolean
tern_store_exec (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      set_store_error (db, msg ? msg : sqlite3_errmsg (db), error);
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

/* An INSERT into messages fires triggers (threads, conversations), so
 * inside a batch's transaction SQLite keeps a statement journal of every
 * page the statement touches, to undo it alone if it fails; past 64 KB
 * that journal is a temporary file, and a header sync wrote some 40 pages
 * a message to it (4 million pwrite() calls for 100,000 messages, a third
 * of the sync's CPU time).  In memory it is a copy.  A larger page cache
 * keeps what a batch of a thousand rows touches in all the indexes.
 *
 * A batch of a thousand new headers in a profile of 100,000 messages
 * dirties more pages than the default 1,000-page WAL holds (its indexes
 * keyed at random: Message-ID, In-Reply-To, sender, subject), so nearly
 * every commit was followed by a checkpoint copying them into the
 * database, most of them again after the next batch.  Checkpoints every
 * CHECKPOINT_PAGES (40 MB of WAL) copy a page once for several batches
 * (the WAL file goes when the last connection closes).  strace of a
 * 108,000-message header sync: pwrite 467,000 -> 391,000 calls, pread
 * 173,000 -> 89,000, fdatasync 422 -> 179.  They are made by a thread of
 * their own (wal_hook_cb()).  Must be set outside a transaction. */
static gboolean
set_writer_pragmas (sqlite3  *db,
                    GError  **error)
{
  return tern_store_exec (db, "PRAGMA temp_store = MEMORY", error) &&
         tern_store_exec (db, "PRAGMA cache_size = -16384", error);
}

/* Before SQLite's first use in the process: sqlite3_config() is refused
 * after it, and then nothing changes.  Without memory statistics, which
 * nothing reads, each of SQLite's allocations and frees skips a global
 * mutex and its bookkeeping: about 60 allocations a stored message. */
static void
configure_sqlite (void)
{
  static gsize configured = 0;

  if (g_once_init_enter (&configured))
    {
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      g_once_init_leave (&configured, 1);
    }
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

  configure_sqlite ();
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
      (!writer && !tern_store_exec (db, "PRAGMA query_only = ON", error)) ||
      (writer && !set_writer_pragmas (db, error)) ||
      !tern_search_register_tokenizer (db, error))
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

/* Deferred indexes (migration 008) */

typedef struct
{
  const char * const *names;
  guint deferred;
} DeferIndexes;

static gboolean
defer_indexes_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  DeferIndexes *data = user_data;
  g_autoptr(sqlite3_stmt) record = NULL;

  /* An index that is not there (deferred by another writer, or never
   * made) is left alone: its definition, if any, is recorded already. */
  record = tern_store_prepare (db,
    "INSERT OR REPLACE INTO deferred_indexes (name, sql)"
    " SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = ?1 AND sql IS NOT NULL",
    error);
  if (record == NULL)
    return FALSE;
  data->deferred = 0;
  for (guint i = 0; data->names[i] != NULL; i++)
    {
      char *drop;
      gboolean ok;

      sqlite3_reset (record);
      tern_store_bind_text (record, 1, data->names[i]);
      if (!tern_store_step_done (record, error))
        return FALSE;
      if (sqlite3_changes (db) == 0)
        continue;
      drop = sqlite3_mprintf ("DROP INDEX \"%w\"", data->names[i]);
      ok = tern_store_exec (db, drop, error);
      sqlite3_free (drop);
      if (!ok)
        return FALSE;
      data->deferred++;
    }
  return TRUE;
}

/**
 * tern_store_defer_indexes:
 * @names: (array zero-terminated=1): indexes to leave out
 * @deferred: (out) (optional): how many were there and are now left out
 *
 * Drops the indexes @names, so that a bulk insert does not update them row
 * by row, and records their definitions in deferred_indexes in the same
 * transaction.  tern_store_restore_indexes() builds them again; so does the
 * next tern_store_open() if the process ends before it.  Queries give the
 * same rows meanwhile, only slower.
 */
gboolean
tern_store_defer_indexes (TernStore           *self,
                          const char * const  *names,
                          guint               *deferred,
                          GError             **error)
{
  DeferIndexes data = { names, 0 };

  g_return_val_if_fail (TERN_IS_STORE (self), FALSE);
  g_return_val_if_fail (names != NULL, FALSE);

  if (!tern_store_write (self, defer_indexes_cb, &data, error))
    return FALSE;
  if (deferred != NULL)
    *deferred = data.deferred;
  return TRUE;
}

static gboolean
restore_indexes_cb (sqlite3  *db,
                    gpointer  user_data,
                    GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) sqls = g_ptr_array_new_with_free_func (g_free);
  int rc;

  stmt = tern_store_prepare (db,
    "SELECT d.sql FROM deferred_indexes d"
    " WHERE NOT EXISTS (SELECT 1 FROM sqlite_master s WHERE s.type = 'index' AND s.name = d.name)",
    error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (sqls, tern_store_dup_text (stmt, 0));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  g_clear_pointer (&stmt, sqlite3_finalize);

  for (guint i = 0; i < sqls->len; i++)
    if (!tern_store_exec (db, g_ptr_array_index (sqls, i), error))
      return FALSE;
  *(guint *) user_data = sqls->len;
  return tern_store_exec (db, "DELETE FROM deferred_indexes", error);
}

static gboolean
has_deferred_indexes (TernStore  *self,
                      gboolean   *any,
                      GError    **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->writer_lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  *any = FALSE;
  if (self->schema_version < 8)
    return TRUE;
  stmt = tern_store_prepare (self->writer, "SELECT 1 FROM deferred_indexes LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  *any = sqlite3_step (stmt) == SQLITE_ROW;
  return TRUE;
}

/**
 * tern_store_restore_indexes:
 * @restored: (out) (optional): how many indexes were built
 *
 * Builds the indexes tern_store_defer_indexes() left out, in one
 * transaction (each one a sort of its table).  Cheap when there are none.
 */
gboolean
tern_store_restore_indexes (TernStore  *self,
                            guint      *restored,
                            GError    **error)
{
  guint built = 0;
  gboolean any;

  g_return_val_if_fail (TERN_IS_STORE (self), FALSE);

  if (restored != NULL)
    *restored = 0;
  /* No write transaction (and no commit to sync) when nothing waits. */
  if (!has_deferred_indexes (self, &any, error))
    return FALSE;
  if (!any)
    return TRUE;
  if (!tern_store_write (self, restore_indexes_cb, &built, error))
    return FALSE;
  if (built > 0)
    g_debug ("Built %u deferred indexes of %s", built, self->path);
  if (restored != NULL)
    *restored = built;
  return TRUE;
}

static void
close_connection (gpointer db)
{
  sqlite3_close (db);
}

/* Checkpoints */

/* Copying the WAL into the database (a POP3 download's 160 MB of bodies,
 * a header sync's index pages) took a tenth of the writer thread's time,
 * and the writer is what a sync or download waits for.  A passive
 * checkpoint from another connection runs while the writer goes on
 * appending: this thread makes them.  Its connection may write (a
 * checkpoint writes the database file) but is query_only: it changes no
 * data. */
static gpointer
checkpoint_thread (gpointer user_data)
{
  TernStore *self = user_data;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = open_connection (self->path, TRUE, &error);

  if (db != NULL && !tern_store_exec (db, "PRAGMA query_only = ON", &error))
    g_clear_pointer (&db, sqlite3_close);
  if (db == NULL)
    g_debug ("No checkpoints but the writer's: %s", error->message);

  g_mutex_lock (&self->checkpoint_lock);
  for (;;)
    {
      while (!self->checkpoint_wanted && !self->closing)
        g_cond_wait (&self->checkpoint_cond, &self->checkpoint_lock);
      if (self->closing)
        break;
      self->checkpoint_wanted = FALSE;
      g_mutex_unlock (&self->checkpoint_lock);
      /* Busy (another checkpoint) or failed: the next commit asks again. */
      if (db != NULL)
        sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_lock (&self->checkpoint_lock);
    }
  g_mutex_unlock (&self->checkpoint_lock);
  g_clear_pointer (&db, sqlite3_close);
  return NULL;
}

/* After each commit of the writer (writer_lock held), with the WAL's size
 * in pages.  The WAL starts again from its beginning only once a
 * checkpoint has copied all of it; should the checkpointer fall that far
 * behind, the writer copies itself, as SQLite's own auto-checkpoint
 * would. */
static int
wal_hook_cb (void       *user_data,
             sqlite3    *db,
             const char *db_name,
             int         n_pages)
{
  TernStore *self = user_data;

  if (n_pages < CHECKPOINT_PAGES)
    return SQLITE_OK;
  if (n_pages >= CHECKPOINT_INLINE_PAGES)
    {
      sqlite3_wal_checkpoint_v2 (db, db_name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      return SQLITE_OK;
    }
  g_mutex_lock (&self->checkpoint_lock);
  if (self->checkpointer == NULL)
    self->checkpointer = g_thread_new ("tern-checkpoint", checkpoint_thread, self);
  self->checkpoint_wanted = TRUE;
  g_cond_signal (&self->checkpoint_cond);
  g_mutex_unlock (&self->checkpoint_lock);
  return SQLITE_OK;
}

static void
stop_checkpoints (TernStore *self)
{
  g_mutex_lock (&self->checkpoint_lock);
  self->closing = TRUE;
  g_cond_signal (&self->checkpoint_cond);
  g_mutex_unlock (&self->checkpoint_lock);
  g_clear_pointer (&self->checkpointer, g_thread_join);
}

static void
tern_store_finalize (GObject *object)
{
  TernStore *self = TERN_STORE (object);

  /* Every reader has been returned: a TernStoreFunc cannot outlive the
   * call that holds a reference to the store. */
  g_assert (self->idle_readers->len == self->n_readers);
  g_ptr_array_unref (self->idle_readers);
  if (self->notify_source != NULL)
    g_source_destroy (self->notify_source);
  g_clear_pointer (&self->notify_source, g_source_unref);
  g_clear_pointer (&self->txn_folders, g_hash_table_unref);
  g_clear_pointer (&self->pending_folders, g_hash_table_unref);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_mutex_clear (&self->notify_lock);
  /* Before the last connection closes, which checkpoints what is left. */
  stop_checkpoints (self);
  g_mutex_clear (&self->checkpoint_lock);
  g_cond_clear (&self->checkpoint_cond);
  g_clear_pointer (&self->writer, close_connection);
  /* A list model's statements may outlive the store by a moment when
   * both go in one dispose: _v2 closes once they are finalized. */
  g_clear_pointer (&self->main_reader, sqlite3_close_v2);
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

  signals[SIGNAL_MESSAGES_CHANGED] =
    g_signal_new ("messages-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ARRAY);
}

static void
tern_store_init (TernStore *self)
{
  g_mutex_init (&self->writer_lock);
  g_mutex_init (&self->readers_lock);
  g_cond_init (&self->readers_cond);
  self->idle_readers = g_ptr_array_new_with_free_func (close_connection);
  g_mutex_init (&self->notify_lock);
  g_mutex_init (&self->checkpoint_lock);
  g_cond_init (&self->checkpoint_cond);
  self->txn_folders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->pending_folders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->main_context = g_main_context_ref_thread_default ();
  self->main_thread = g_thread_self ();
}

/* Change notification */

static void
note_folder (TernStore *self,
             gint64     folder_id)
{
  if (!g_hash_table_contains (self->txn_folders, &folder_id))
    g_hash_table_add (self->txn_folders, g_memdup2 (&folder_id, sizeof folder_id));
}

#ifdef TERN_HAVE_PREUPDATE_HOOK
#define MESSAGES_FOLDER_COLUMN 1 /* messages.folder_id */

/* Runs on the writer's thread for every row a statement is about to
 * change, cascades and triggers included, so each write is attributed to
 * its folders whoever made it (the mail store, the offline queue...). */
static void
preupdate_cb (void          *user_data,
              sqlite3       *db,
              int            op,
              const char    *db_name,
              const char    *table,
              sqlite3_int64  old_key,
              sqlite3_int64  new_key)
{
  TernStore *self = user_data;
  sqlite3_value *value = NULL;
  gint64 old_folder = 0;
  gint64 new_folder = 0;

  if (strcmp (table, "messages") != 0 || strcmp (db_name, "main") != 0)
    return;
  if (op != SQLITE_INSERT && sqlite3_preupdate_old (db, MESSAGES_FOLDER_COLUMN, &value) == SQLITE_OK)
    {
      old_folder = sqlite3_value_int64 (value);
      note_folder (self, old_folder);
    }
  if (op != SQLITE_DELETE && sqlite3_preupdate_new (db, MESSAGES_FOLDER_COLUMN, &value) == SQLITE_OK)
    {
      new_folder = sqlite3_value_int64 (value);
      note_folder (self, new_folder);
    }
  /* No code changes a row's Message-ID or In-Reply-To: a message comes
   * into a folder by an insert or a move. */
  if (op == SQLITE_INSERT || (op == SQLITE_UPDATE && old_folder != new_folder))
    self->messages_added++;
}

static void
watch_messages (TernStore *self)
{
  sqlite3_preupdate_hook (self->writer, preupdate_cb, self);
}
#else
/* Without the pre-update hook a deleted row's folder is gone by the time
 * anything could ask: announce "some folders" (0). */
static void
update_cb (void          *user_data,
           int            op,
           const char    *db_name,
           const char    *table,
           sqlite3_int64  rowid)
{
  TernStore *self = user_data;

  if (strcmp (table, "messages") != 0 || strcmp (db_name, "main") != 0)
    return;
  note_folder (self, 0);
  /* Any update may have moved the row. */
  if (op != SQLITE_DELETE)
    self->messages_added++;
}

static void
watch_messages (TernStore *self)
{
  sqlite3_update_hook (self->writer, update_cb, self);
}
#endif

/**
 * tern_store_get_messages_added:
 *
 * For a #TernStoreFunc of tern_store_write(): how many rows of messages
 * watched writes have inserted or moved from a folder to another since
 * the store was opened; the writes after tern_store_writes_in_folder() in
 * their transaction are not watched.  A writer that keeps something about
 * every message in memory (the thread filter of a fill,
 * tern-mail-store.c) knows from it whether others added any meanwhile.
 */
guint64
tern_store_get_messages_added (TernStore *self)
{
  g_return_val_if_fail (TERN_IS_STORE (self), 0);

  return self->messages_added;
}

/**
 * tern_store_writes_in_folder:
 * @folder_id: the folder of every messages row the transaction changes
 *   from now on
 *
 * For a #TernStoreFunc of tern_store_write() that knows the folder of the
 * rows it changes (a batch of new messages): the folder is announced after
 * the commit, and the rows are not watched one by one until the
 * transaction ends.  The pre-update hook costs about a thousand
 * instructions for every row of every table a statement changes, a header
 * sync's inserts' threads and conversations included, and unpacks each
 * messages row to read its folder.
 */
void
tern_store_writes_in_folder (TernStore *self,
                             gint64     folder_id)
{
  g_return_if_fail (TERN_IS_STORE (self));

  note_folder (self, folder_id);
#ifdef TERN_HAVE_PREUPDATE_HOOK
  sqlite3_preupdate_hook (self->writer, NULL, NULL);
  self->watch_paused = TRUE;
#endif
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gboolean
emit_changes_cb (gpointer user_data)
{
  TernStore *self = user_data;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock (&self->notify_lock);
  g_hash_table_iter_init (&iter, self->pending_folders);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_array_append_val (ids, *(gint64 *) key);
  g_hash_table_remove_all (self->pending_folders);
  g_clear_pointer (&self->notify_source, g_source_unref);
  g_mutex_unlock (&self->notify_lock);

  g_array_sort (ids, compare_ids);
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_MESSAGES_CHANGED], 0, ids);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* After a commit (writer_lock held): hands the transaction's folders to
 * the main context, in one idle per burst of writes.  The source holds no
 * reference: finalize destroys it, and a writer holds the store while it
 * writes. */
static void
publish_changes (TernStore *self)
{
  GHashTableIter iter;
  gpointer key;

  if (g_hash_table_size (self->txn_folders) == 0)
    return;
  g_mutex_lock (&self->notify_lock);
  g_hash_table_iter_init (&iter, self->txn_folders);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_hash_table_iter_steal (&iter);
      /* A key already there is freed and replaced by this one. */
      g_hash_table_add (self->pending_folders, key);
    }
  if (self->notify_source == NULL)
    {
      self->notify_source = g_idle_source_new ();
      g_source_set_priority (self->notify_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->notify_source, emit_changes_cb, self, NULL);
      g_source_set_static_name (self->notify_source, "[tern] store changes");
      g_source_attach (self->notify_source, self->main_context);
    }
  g_mutex_unlock (&self->notify_lock);
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
  if (self->writer != NULL)
    {
      watch_messages (self);
      sqlite3_wal_hook (self->writer, wal_hook_cb, self);
    }
  if (self->writer == NULL ||
      !enable_wal (self->writer, error) ||
      !tern_store_write (self, migrate, &self->schema_version, error) ||
      !tern_store_restore_indexes (self, NULL, error))
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
  gboolean ok;

  g_return_val_if_fail (TERN_IS_STORE (self), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  locker = g_mutex_locker_new (&self->writer_lock);
  /* IMMEDIATE takes the write lock up front, so a writer never fails half
   * way through with SQLITE_BUSY after doing work. */
  ok = run_transaction (self->writer, "BEGIN IMMEDIATE", func, user_data, error);
  if (self->watch_paused)
    {
      watch_messages (self);
      self->watch_paused = FALSE;
    }
  if (!ok)
    {
      g_hash_table_remove_all (self->txn_folders);
      return FALSE;
    }
  publish_changes (self);
  return TRUE;
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

sqlite3 *
tern_store_get_main_reader (TernStore  *self,
                            GError    **error)
{
  g_return_val_if_fail (TERN_IS_STORE (self), NULL);
  g_return_val_if_fail (g_thread_self () == self->main_thread, NULL);

  if (self->main_reader == NULL)
    self->main_reader = open_connection (self->path, FALSE, error);
  return self->main_reader;
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
