/* test-store.c: TernStore against a real SQLite file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern-app-error.h"
#include "tern-mail-store-private.h"
#include "tern-store.h"
#include "tern-test-util.h"

#define BATCH 100

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->dir = tern_test_make_tmpdir ("tern-store-XXXXXX");
  fixture->path = g_build_filename (fixture->dir, "profile", "tern.db", NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64 (stmt, 0);
}

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

/* An account and a folder for messages to belong to. */
static gboolean
insert_folder (sqlite3  *db,
               gpointer  data,
               GError  **error)
{
  return tern_store_exec (db,
                          "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol, "
                          "incoming_host, incoming_port, incoming_security, incoming_username, created) "
                          "VALUES (1, 'u1', 'Ann', 'ann@example.org', 'imap', 'imap.example.org', 993, "
                          "'tls', 'ann', 0);"
                          "INSERT INTO folders (id, account_id, name, role) VALUES (1, 1, 'INBOX', 'inbox');",
                          error);
}

/* Inserts one batch of messages; the count is always a multiple of BATCH
 * for anyone who sees the result of whole transactions. */
static gboolean
insert_batch (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gsize blob_size = GPOINTER_TO_SIZE (data);
  g_autofree guint8 *blob = g_malloc0 (blob_size + 1);

  stmt = tern_store_prepare (db,
                             "INSERT INTO messages (folder_id, uid, subject, bodystructure) "
                             "VALUES (1, (SELECT IFNULL(MAX(uid), 0) + 1 FROM messages), 'hello', ?1)",
                             error);
  if (stmt == NULL)
    return FALSE;
  for (int i = 0; i < BATCH; i++)
    {
      sqlite3_bind_blob (stmt, 1, blob, blob_size, SQLITE_STATIC);
      if (!tern_store_step_done (stmt, error))
        return FALSE;
      sqlite3_reset (stmt);
    }
  return TRUE;
}

static gboolean
count_messages (sqlite3  *db,
                gpointer  data,
                GError  **error)
{
  *(gint64 *) data = query_int (db, "SELECT COUNT(*) FROM messages");
  return TRUE;
}

static gint64
message_count (TernStore *store)
{
  g_autoptr(GError) error = NULL;
  gint64 count = -1;

  g_assert_true (tern_store_read (store, count_messages, &count, &error));
  g_assert_no_error (error);
  return count;
}

static void
test_migrate_empty (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernStore) store = NULL;
  sqlite3 *db = NULL;
  const char *tables[] = { "accounts", "folders", "threads", "messages", "bodies",
                           "outbox", "pending_operations", "certificate_pins", "messages_fts" };
  g_autofree char *journal = NULL;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_cmpint (tern_store_get_latest_version (), >=, 1);

  g_assert_cmpint (sqlite3_open (fixture->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, tern_store_get_latest_version ());
  journal = query_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (journal, ==, "wal");
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT COUNT(*) FROM sqlite_master WHERE name = '%s'",
                                              tables[i]);
      g_assert_cmpint (query_int (db, sql), ==, 1);
    }
  sqlite3_close (db);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_reopen (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernStore *store;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  g_assert_true (tern_store_write (store, insert_batch, GSIZE_TO_POINTER (16), &error));
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (message_count (store), ==, BATCH);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_finalize_object (store);
}

static gboolean
insert_then_fail (sqlite3  *db,
                  gpointer  data,
                  GError  **error)
{
  if (!insert_batch (db, GSIZE_TO_POINTER (1), error))
    return FALSE;
  g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, "changed my mind");
  return FALSE;
}

static gboolean
delete_account_with_messages (sqlite3  *db,
                              gpointer  data,
                              GError  **error)
{
  return tern_store_exec (db, "DELETE FROM accounts WHERE id = 1", error);
}

static void
test_rollback_and_cascade (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernStore) store = tern_store_open (fixture->path, &error);

  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));

  g_assert_false (tern_store_write (store, insert_then_fail, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (message_count (store), ==, 0);

  /* Foreign keys are on: removing the account removes its mail. */
  g_assert_true (tern_store_write (store, insert_batch, GSIZE_TO_POINTER (1), &error));
  g_assert_cmpint (message_count (store), ==, BATCH);
  g_assert_true (tern_store_write (store, delete_account_with_messages, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (message_count (store), ==, 0);
}

static void
test_too_new (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernStore *store;
  sqlite3 *db = NULL;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  g_assert_cmpint (sqlite3_open (fixture->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 9999", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = tern_store_open (fixture->path, &error);
  g_assert_null (store);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer version"));
}

typedef struct
{
  TernStore *store;
  gint stop;
  gint bad_snapshots;
  gint reads;
} ThreadData;

static gpointer
writer_thread (gpointer user_data)
{
  ThreadData *td = user_data;

  for (int i = 0; i < 20; i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (tern_store_write (td->store, insert_batch, GSIZE_TO_POINTER (64), &error));
    }
  g_atomic_int_set (&td->stop, 1);
  return NULL;
}

static gpointer
reader_thread (gpointer user_data)
{
  ThreadData *td = user_data;
  gint64 last = 0;

  /* Every snapshot shows whole batches and never goes backwards. */
  while (!g_atomic_int_get (&td->stop))
    {
      gint64 count = message_count (td->store);

      if (count % BATCH != 0 || count < last)
        g_atomic_int_inc (&td->bad_snapshots);
      last = count;
      g_atomic_int_inc (&td->reads);
    }
  return NULL;
}

static void
test_threads (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernStore) store = tern_store_open (fixture->path, &error);
  ThreadData td = { store, 0, 0, 0 };
  GThread *readers[6];
  GThread *writer;

  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));

  /* More readers than the pool holds, so some wait for a connection. */
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    readers[i] = g_thread_new ("reader", reader_thread, &td);
  writer = g_thread_new ("writer", writer_thread, &td);

  g_thread_join (writer);
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    g_thread_join (readers[i]);

  g_assert_cmpint (td.bad_snapshots, ==, 0);
  g_assert_cmpint (td.reads, >, 0);
  g_assert_cmpint (message_count (store), ==, 20 * BATCH);
}

/* The child writes batches until it is killed; whatever moment the kill
 * lands on, the database must open consistent with whole batches only. */
static const char * const deferrable[] = {
  "messages_folder_sort_date", "messages_sort_date", "folder_threads_date", "no_such_index", NULL
};

/* Forks a process that writes batches of rows with @blob_size bytes each
 * (with the deferrable indexes left out first, when @defer) into the
 * store at @path, lets it commit a few batches, then kills it in the
 * middle of another. */
static void
kill_writer_midway (TernStore  *store,
                    const char *path,
                    gsize       blob_size,
                    gboolean    defer)
{
  int status = 0;
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      TernStore *child_store = tern_store_open (path, NULL);

      if (defer)
        tern_store_defer_indexes (child_store, deferrable, NULL, NULL);
      for (;;)
        tern_store_write (child_store, insert_batch, GSIZE_TO_POINTER (blob_size), NULL);
    }
  while (message_count (store) < 5 * BATCH)
    g_usleep (2000);
  g_usleep (g_random_int_range (0, 20000));
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
}

static void
test_killed_writer (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernStore *store;
  g_autofree char *integrity = NULL;
  sqlite3 *db = NULL;
  gint64 count = 0;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));

  kill_writer_midway (store, fixture->path, 8192, FALSE);
  g_assert_finalize_object (store);

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  count = message_count (store);
  g_assert_cmpint (count, >=, 5 * BATCH);
  g_assert_cmpint (count % BATCH, ==, 0);
  g_assert_finalize_object (store);

  g_assert_cmpint (sqlite3_open (fixture->path, &db), ==, SQLITE_OK);
  integrity = query_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
  g_assert_cmpint (query_int (db, "SELECT COUNT(*) FROM pragma_foreign_key_check"), ==, 0);
  sqlite3_close (db);
}

/* Every index of the schema, "name sql" per line, in name order. */
static char *
schema_indexes (const char *path)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GString *text = g_string_new (NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT name, sql FROM sqlite_master"
                                           " WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (text, "%s %s\n", sqlite3_column_text (stmt, 0),
                            sqlite3_column_text (stmt, 1));
  g_clear_pointer (&stmt, sqlite3_finalize);
  sqlite3_close (db);
  return g_string_free (text, FALSE);
}

static gint64
file_query_int (const char *path,
                const char *sql)
{
  sqlite3 *db = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  value = query_int (db, sql);
  sqlite3_close (db);
  return value;
}

/* The details of the plan of @sql, one per line. */
static char *
file_query_plan (const char *path,
                 const char *sql)
{
  sqlite3 *db = NULL;
  char *plan;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  plan = tern_test_query_plan (db, sql);
  sqlite3_close (db);
  return plan;
}

#define INDEX_EXISTS(name) \
  "SELECT count (*) FROM sqlite_master WHERE type = 'index' AND name = '" name "'"

static gboolean
count_sorted (sqlite3  *db,
              gpointer  data,
              GError  **error)
{
  *(gint64 *) data = query_int (db, "SELECT count (*) FROM (SELECT id FROM messages"
                                    " ORDER BY coalesce (date, internal_date, 0) DESC)");
  return TRUE;
}

/* Indexes left out for a bulk insert come back, with the definitions they
 * had, from tern_store_restore_indexes() or, after a process that never
 * called it, from the next open. */
static void
test_deferred_indexes (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  TernStore *store;
  guint n = 0;
  gint64 count = 0;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  before = schema_indexes (fixture->path);
  g_assert_nonnull (strstr (before, "messages_sort_date "));

  g_assert_true (tern_store_defer_indexes (store, deferrable, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_sort_date")), ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 3);
  /* Again: nothing more to leave out, and what is recorded stays. */
  g_assert_true (tern_store_defer_indexes (store, deferrable, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 3);

  /* The same rows without them. */
  g_assert_true (tern_store_write (store, insert_batch, GSIZE_TO_POINTER (16), &error));
  g_assert_true (tern_store_read (store, count_sorted, &count, &error));
  g_assert_cmpint (count, ==, BATCH);

  g_assert_true (tern_store_restore_indexes (store, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);
  after = schema_indexes (fixture->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 0);
  g_assert_true (tern_store_restore_indexes (store, &n, &error));
  g_assert_cmpuint (n, ==, 0);

  /* Left out when the store goes away: the next open builds them. */
  g_assert_true (tern_store_defer_indexes (store, deferrable, &n, &error));
  g_assert_cmpuint (n, ==, 3);
  g_assert_finalize_object (store);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("folder_threads_date")), ==, 0);
  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_clear_pointer (&after, g_free);
  after = schema_indexes (fixture->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM pragma_integrity_check"
                                                  " WHERE integrity_check != 'ok'"), ==, 0);
  g_assert_finalize_object (store);
}

/* A writer killed while its indexes are left out, in the middle of a
 * batch: the next open has every index, with every row in it. */
static void
test_killed_deferred (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *integrity = NULL;
  TernStore *store;
  sqlite3 *db = NULL;
  gint64 count = 0;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  before = schema_indexes (fixture->path);

  kill_writer_midway (store, fixture->path, 512, TRUE);
  g_assert_finalize_object (store);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_sort_date")), ==, 0);

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  count = message_count (store);
  g_assert_cmpint (count % BATCH, ==, 0);
  g_assert_finalize_object (store);

  after = schema_indexes (fixture->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (sqlite3_open (fixture->path, &db), ==, SQLITE_OK);
  /* integrity_check compares every index with its table. */
  integrity = query_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
  g_assert_cmpint (query_int (db, "SELECT count (*) FROM deferred_indexes"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count (*) FROM messages INDEXED BY messages_sort_date"
                                  " WHERE coalesce (date, internal_date, 0) >= 0"), ==, count);
  sqlite3_close (db);
}

/* Runs @sql on the database file, with no store open. */
static void
exec_on_file (const char *path,
              const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* A profile as an older version left it: a folder and a batch of
 * messages stored with the latest schema, then @downgrade (the older
 * schema's difference, and its user_version) run on the file. */
static void
make_old_profile (const char *path,
                  const char *downgrade)
{
  g_autoptr(GError) error = NULL;
  TernStore *store;

  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  g_assert_true (tern_store_write (store, insert_batch, GSIZE_TO_POINTER (1), &error));
  g_assert_finalize_object (store);
  exec_on_file (path, downgrade);
}

/* Opening the profile at @path migrates it to the latest schema, intact. */
static void
assert_migrates (const char *path)
{
  g_autoptr(GError) error = NULL;
  TernStore *store;

  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_finalize_object (store);
  g_assert_cmpint (file_query_int (path, "SELECT count (*) FROM pragma_integrity_check"
                                         " WHERE integrity_check != 'ok'"), ==, 0);
}

/* Migration 010 drops messages_folder_date, also when a killed first sync
 * had left it out: its record must not build it again. */
static void
test_drop_folder_date (Fixture       *fixture,
                       gconstpointer  data)
{
  g_assert_cmpint (tern_store_get_latest_version (), >=, 10);
  make_old_profile (fixture->path,
    "PRAGMA user_version = 9;"
    "INSERT INTO deferred_indexes (name, sql) VALUES ('messages_folder_date',"
    " 'CREATE INDEX messages_folder_date ON messages (folder_id, date DESC)');"
    "INSERT INTO deferred_indexes (name, sql) SELECT name, sql FROM sqlite_master"
    " WHERE name = 'messages_sort_date';"
    "DROP INDEX messages_sort_date;");

  assert_migrates (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_folder_date")), ==, 0);
  /* The other one left out is built as before. */
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_sort_date")), ==, 1);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 0);
}

/* Migration 011 drops the parts table, which nothing read. */
static void
test_drop_parts (Fixture       *fixture,
                 gconstpointer  data)
{
  g_assert_cmpint (tern_store_get_latest_version (), >=, 11);
  make_old_profile (fixture->path,
    "PRAGMA user_version = 10;"
    "CREATE TABLE parts (id INTEGER PRIMARY KEY,"
    " message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
    " section TEXT NOT NULL, content_type TEXT NOT NULL, filename TEXT,"
    " UNIQUE (message_id, section));"
    "INSERT INTO parts (message_id, section, content_type, filename)"
    " SELECT id, '2', 'application/pdf', 'report.pdf' FROM messages;");
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM parts"), ==, BATCH);

  assert_migrates (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM sqlite_master"
                                                  " WHERE name = 'parts'"), ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM messages"), ==, BATCH);
}

/* Migration 013 drops the AFTER INSERT triggers of messages, whose work
 * the mail store now does as it inserts (test-imap-sync and
 * test-offline-queue check the counts it keeps). */
static void
test_insert_triggers_dropped (Fixture       *fixture,
                              gconstpointer  data)
{
  g_assert_cmpint (tern_store_get_latest_version (), >=, 13);
  make_old_profile (fixture->path,
    "PRAGMA user_version = 12;"
    "CREATE TRIGGER folder_threads_insert AFTER INSERT ON messages BEGIN"
    "  INSERT OR IGNORE INTO folder_threads (folder_id, thread_key, last_date, latest_id,"
    "   message_count) VALUES (new.folder_id, -new.id, 0, new.id, 1);"
    " END;"
    "CREATE TRIGGER messages_pop3_seen AFTER INSERT ON messages"
    " WHEN new.pop3_uidl IS NOT NULL BEGIN"
    "  INSERT OR IGNORE INTO pop3_seen (account_id, uidl, first_seen)"
    "   VALUES (1, new.pop3_uidl, 0);"
    " END;");
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM sqlite_master"
                                                  " WHERE type = 'trigger'"
                                                  " AND tbl_name = 'messages'"
                                                  " AND sql LIKE '%AFTER INSERT%'"), ==, 2);

  assert_migrates (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM sqlite_master"
                                                  " WHERE type = 'trigger'"
                                                  " AND tbl_name = 'messages'"
                                                  " AND sql LIKE '%AFTER INSERT%'"), ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM messages"), ==, BATCH);
}

/* Whether the thread lookups of a new message (tern-mail-store.c) find
 * their rows by index: the Message-ID and In-Reply-To indexes are partial
 * (migration 12), and a lookup by equality must still use them, or a
 * first sync would scan the messages once a message. */
static void
assert_lookups_use_index (const char *path)
{
  static const struct { const char *column; const char *index; const char *sql; } lookups[] = {
    { "message_id", "messages_message_id", TERN_MAIL_STORE_THREAD_BY_ID_SQL },
    { "in_reply_to", "messages_in_reply_to", TERN_MAIL_STORE_THREAD_BY_PARENT_SQL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (lookups); i++)
    {
      g_autofree char *partial = g_strdup_printf (
        "SELECT count (*) FROM sqlite_master WHERE name = '%s' AND sql LIKE '%%WHERE %s IS NOT NULL'",
        lookups[i].index, lookups[i].column);
      g_autofree char *uses = g_strdup_printf ("SEARCH m USING INDEX %s (%s=?)",
                                               lookups[i].index, lookups[i].column);
      g_autofree char *plan = file_query_plan (path, lookups[i].sql);

      g_test_message ("%s: %s", lookups[i].index, plan);
      g_assert_cmpint (file_query_int (path, partial), ==, 1);
      g_assert_nonnull (strstr (plan, uses));
    }
}

static void
test_partial_id_indexes (Fixture       *fixture,
                         gconstpointer  data)
{
  g_assert_cmpint (tern_store_get_latest_version (), >=, 12);
  /* As version 11 left it, with the full indexes. */
  make_old_profile (fixture->path,
    "PRAGMA user_version = 11;"
    "UPDATE messages SET message_id = '<' || id || '@example.org>',"
    " in_reply_to = CASE WHEN id % 2 = 0 THEN '<' || (id - 1) || '@example.org>' END;"
    "DROP INDEX messages_message_id;"
    "CREATE INDEX messages_message_id ON messages (message_id);"
    "DROP INDEX messages_in_reply_to;"
    "CREATE INDEX messages_in_reply_to ON messages (in_reply_to);");

  assert_migrates (fixture->path);
  assert_lookups_use_index (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM messages"
                                                  " WHERE in_reply_to = '<1@example.org>'"), ==, 1);
}

/* Migration 15: the full-text index merges its segments 16 at a time,
 * in a new profile and in one made before. */
static void
test_fts_automerge (Fixture       *fixture,
                    gconstpointer  data)
{
  static const char automerge[] = "SELECT v FROM messages_fts_config WHERE k = 'automerge'";
  g_autoptr(GError) error = NULL;
  TernStore *store;

  g_assert_cmpint (tern_store_get_latest_version (), >=, 15);
  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (store);
  g_assert_cmpint (file_query_int (fixture->path, automerge), ==, 16);

  make_old_profile (fixture->path,
    "PRAGMA user_version = 14;"
    "DELETE FROM messages_fts_config WHERE k = 'automerge';");
  assert_migrates (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, automerge), ==, 16);
}

/* Migration 16: the sender and subject indexes go, also when a killed
 * first sync had left one out (its record must not build it again); a
 * message list makes them when it sorts by them (test-message-list). */
static void
test_sort_indexes_on_first_use (Fixture       *fixture,
                                gconstpointer  data)
{
  g_assert_cmpint (tern_store_get_latest_version (), >=, 16);
  make_old_profile (fixture->path,
    "PRAGMA user_version = 15;"
    "CREATE INDEX messages_folder_sort_sender"
    " ON messages (folder_id, coalesce (from_name, from_address, '') COLLATE NOCASE);"
    "INSERT INTO deferred_indexes (name, sql) VALUES ('messages_folder_sort_subject',"
    " 'CREATE INDEX messages_folder_sort_subject"
    " ON messages (folder_id, coalesce (subject, '''') COLLATE NOCASE)');");

  assert_migrates (fixture->path);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_folder_sort_sender")),
                   ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_folder_sort_subject")),
                   ==, 0);
  g_assert_cmpint (file_query_int (fixture->path, INDEX_EXISTS ("messages_folder_sort_date")),
                   ==, 1);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM deferred_indexes"), ==, 0);
}

static gint64
file_size (const char *path)
{
  GStatBuf buf;

  return g_stat (path, &buf) == 0 ? (gint64) buf.st_size : 0;
}

/* A long run of commits (120 MB) while the store is open: the WAL is copied
 * into the database as it goes (by the checkpointer thread), and never
 * grows past the size at which the writer copies it itself (80 MB) plus
 * a batch. */
static void
test_checkpoints (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
  const gsize blob = 40 * 1024; /* BATCH of them: 4 MB a commit */
  const gint64 max_wal = 80 * 1024 * 1024 + 3 * BATCH * (gint64) blob;
  gint64 largest = 0;
  TernStore *store;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  for (guint i = 0; i < 30; i++)
    {
      g_assert_true (tern_store_write (store, insert_batch, GSIZE_TO_POINTER (blob), &error));
      g_assert_no_error (error);
      largest = MAX (largest, file_size (wal));
    }
  g_assert_cmpint (largest, <=, max_wal);
  /* The database file holds the first 40 MB before anything closes. */
  for (guint i = 0; i < 500 && file_size (fixture->path) < 40 * 1024 * 1024; i++)
    g_usleep (20000);
  g_assert_cmpint (file_size (fixture->path), >=, 40 * 1024 * 1024);
  g_assert_cmpint (message_count (store), ==, 30 * BATCH);
  g_assert_finalize_object (store);
  g_assert_cmpint (file_query_int (fixture->path, "SELECT count (*) FROM pragma_integrity_check"
                                                  " WHERE integrity_check != 'ok'"), ==, 0);
}

static gboolean
limit_pages_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA max_page_count = %" G_GINT64_FORMAT,
                                          query_int (db, "PRAGMA page_count") + 160);

  return tern_store_exec (db, sql, error);
}

/* A full disk (SQLite's SQLITE_FULL, here from max_page_count on the
 * writer's connection) is told as such; the failed batch is rolled back
 * and those before stay. */
static void
test_disk_full (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernStore) store = NULL;
  gboolean ok = TRUE;
  guint batches = 0;

  store = tern_store_open (fixture->path, &error);
  g_assert_no_error (error);
  g_assert_true (tern_store_write (store, insert_folder, NULL, &error));
  g_assert_true (tern_store_write (store, limit_pages_cb, NULL, &error));
  g_assert_no_error (error);
  /* 100 rows of 4 KB a batch: one fits in 160 pages, two do not. */
  while (ok && batches < 10)
    if ((ok = tern_store_write (store, insert_batch, GSIZE_TO_POINTER (4096), &error)))
      batches++;
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_DISK_FULL);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (batches, ==, 1);
  g_assert_cmpint (message_count (store), ==, BATCH);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/store/migrate-empty", Fixture, NULL, fixture_setup, test_migrate_empty, fixture_teardown);
  g_test_add ("/tern/store/reopen", Fixture, NULL, fixture_setup, test_reopen, fixture_teardown);
  g_test_add ("/tern/store/rollback-and-cascade", Fixture, NULL, fixture_setup, test_rollback_and_cascade, fixture_teardown);
  g_test_add ("/tern/store/too-new", Fixture, NULL, fixture_setup, test_too_new, fixture_teardown);
  g_test_add ("/tern/store/threads", Fixture, NULL, fixture_setup, test_threads, fixture_teardown);
  g_test_add ("/tern/store/killed-writer", Fixture, NULL, fixture_setup, test_killed_writer, fixture_teardown);
  g_test_add ("/tern/store/deferred-indexes", Fixture, NULL, fixture_setup, test_deferred_indexes, fixture_teardown);
  g_test_add ("/tern/store/drop-folder-date", Fixture, NULL, fixture_setup, test_drop_folder_date,
              fixture_teardown);
  g_test_add ("/tern/store/drop-parts", Fixture, NULL, fixture_setup, test_drop_parts, fixture_teardown);
  g_test_add ("/tern/store/insert-triggers-dropped", Fixture, NULL, fixture_setup,
              test_insert_triggers_dropped, fixture_teardown);
  g_test_add ("/tern/store/partial-id-indexes", Fixture, NULL, fixture_setup,
              test_partial_id_indexes, fixture_teardown);
  g_test_add ("/tern/store/fts-automerge", Fixture, NULL, fixture_setup, test_fts_automerge,
              fixture_teardown);
  g_test_add ("/tern/store/sort-indexes-on-first-use", Fixture, NULL, fixture_setup,
              test_sort_indexes_on_first_use, fixture_teardown);
  g_test_add ("/tern/store/checkpoints", Fixture, NULL, fixture_setup, test_checkpoints, fixture_teardown);
  g_test_add ("/tern/store/disk-full", Fixture, NULL, fixture_setup, test_disk_full, fixture_teardown);
  g_test_add ("/tern/store/killed-deferred", Fixture, NULL, fixture_setup, test_killed_deferred, fixture_teardown);

  return g_test_run ();
}
