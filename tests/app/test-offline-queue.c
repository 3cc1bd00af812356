/* test-offline-queue.c: enqueueing offline changes: the cache shows them at
 * once, the operations wait in the store, across restarts.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-account-private.h"
#include "tern-app-error.h"
#include "tern-context.h"
#include "tern-offline-queue.h"
#include "tern-test-store.h"
#include "tern-test-util.h"

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  gint64 account;
  gint64 other_account;
  gint64 inbox, archive, drafts, trash, elsewhere;
  gint64 messages[3];   /* in INBOX, UIDs 1..3, unread */
} Fixture;

static void
exec_sql (Fixture    *fixture,
          const char *sql)
{
  tern_test_store_exec (tern_context_get_store (fixture->context), sql);
}

typedef struct
{
  const char *sql;
  gint64 value;
  char *text;
} Query;

static gboolean
query_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Query *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, query->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      query->value = sqlite3_column_int64 (stmt, 0);
      query->text = tern_store_dup_text (stmt, 0);
      return TRUE;
    }
  query->value = -1;
  return rc == SQLITE_DONE || tern_store_set_error (db, error);
}

/* The first column of the first row of @format, -1 when there is none. */
G_GNUC_PRINTF (2, 3) static gint64
query_int (Fixture    *fixture,
           const char *format,
           ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  Query query = { 0 };
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);
  query.sql = sql;
  tern_store_read (tern_context_get_store (fixture->context), query_cb, &query, &error);
  g_assert_no_error (error);
  g_free (query.text);
  return query.value;
}

G_GNUC_PRINTF (2, 3) static char *
query_text (Fixture    *fixture,
            const char *format,
            ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  Query query = { 0 };
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);
  query.sql = sql;
  tern_store_read (tern_context_get_store (fixture->context), query_cb, &query, &error);
  g_assert_no_error (error);
  return query.text;
}

static void
open_context (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  if (fixture->context != NULL)
    g_assert_finalize_object (fixture->context);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
}

static void
assert_conversations_counted (Fixture *fixture)
{
  g_assert_cmpint (query_int (fixture, "%s", TERN_TEST_MISCOUNTED_CONVERSATIONS_SQL), ==, 0);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = NULL;
  open_context (fixture);

  exec_sql (fixture,
            "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol,"
            " incoming_host, incoming_port, incoming_security, incoming_username, created)"
            " VALUES (1, 'a', 'A', 'a@example.org', 'imap', '127.0.0.1', 993, 'tls', 'a', 0),"
            "        (2, 'b', 'B', 'b@example.org', 'imap', '127.0.0.1', 993, 'tls', 'b', 0);"
            "INSERT INTO folders (id, account_id, name, role, uidvalidity) VALUES"
            " (10, 1, 'INBOX', 'inbox', 7), (11, 1, 'Archive', 'archive', 7),"
            " (12, 1, 'Drafts', 'drafts', 7), (13, 1, 'Trash', 'trash', 7),"
            " (20, 2, 'INBOX', 'inbox', 7);"
            "INSERT INTO messages (id, folder_id, uid, flags, subject, message_id) VALUES"
            " (100, 10, 1, 0, 'One', 'one@example.org'),"
            " (101, 10, 2, 0, 'Two', 'two@example.org'),"
            " (102, 10, 3, 4, 'Three', 'three@example.org');"
            /* Their conversations, as the mail store counts them. */
            "INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id,"
            " message_count) SELECT folder_id, -id, 0, id, 1 FROM messages;");
  assert_conversations_counted (fixture);
  fixture->account = 1;
  fixture->other_account = 2;
  fixture->inbox = 10;
  fixture->archive = 11;
  fixture->drafts = 12;
  fixture->trash = 13;
  fixture->elsewhere = 20;
  fixture->messages[0] = 100;
  fixture->messages[1] = 101;
  fixture->messages[2] = 102;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_profile_teardown (&fixture->profile, data);
}

static TernStore *
store (Fixture *fixture)
{
  return tern_context_get_store (fixture->context);
}

static gint64
n_ops (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  gint64 n = tern_offline_queue_count (store (fixture), fixture->account, &error);

  g_assert_no_error (error);
  return n;
}

static void
test_flags (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *payload = NULL;

  g_assert_true (tern_offline_queue_set_flags (store (fixture), fixture->messages, 2,
                                               TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED, 0,
                                               &error));
  g_assert_no_error (error);
  g_assert_true (tern_offline_queue_set_flags (store (fixture), &fixture->messages[2], 1, 0,
                                               TERN_IMAP_FLAG_FLAGGED, &error));
  g_assert_no_error (error);

  /* The cache shows it at once, counts included... */
  g_assert_cmpint (query_int (fixture, "SELECT flags FROM messages WHERE id = 100"), ==, 5);
  g_assert_cmpint (query_int (fixture, "SELECT flags FROM messages WHERE id = 101"), ==, 5);
  g_assert_cmpint (query_int (fixture, "SELECT flags FROM messages WHERE id = 102"), ==, 0);
  g_assert_cmpint (query_int (fixture, "SELECT unread_count FROM folders WHERE id = 10"), ==, 1);
  g_assert_cmpint (n_ops (fixture), ==, 3);

  /* ...and the operations survive a restart. */
  open_context (fixture);
  g_assert_cmpint (n_ops (fixture), ==, 3);
  payload = query_text (fixture, "SELECT payload FROM pending_operations WHERE kind = 'flags'"
                                 " ORDER BY id DESC");
  g_assert_nonnull (strstr (payload, "'remove': <uint32 4>"));
  g_assert_nonnull (strstr (payload, "'uid': <uint32 3>"));
  g_assert_cmpint (tern_offline_queue_count (store (fixture), fixture->other_account, NULL), ==, 0);
}

static void
test_move (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *payload = NULL;

  g_assert_true (tern_offline_queue_move (store (fixture), fixture->messages, 1, fixture->archive,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = 100"), ==, 11);
  /* The UID belonged to INBOX. */
  g_assert_cmpint (query_int (fixture, "SELECT uid IS NULL FROM messages WHERE id = 100"), ==, 1);
  g_assert_cmpint (query_int (fixture, "SELECT total_count FROM folders WHERE id = 10"), ==, 2);
  g_assert_cmpint (query_int (fixture, "SELECT total_count FROM folders WHERE id = 11"), ==, 1);
  g_assert_cmpint (n_ops (fixture), ==, 1);

  /* Moved on before the first move reached the server: one move. */
  g_assert_true (tern_offline_queue_move (store (fixture), fixture->messages, 1, fixture->drafts,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_ops (fixture), ==, 1);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = 100"), ==, 12);
  payload = query_text (fixture, "SELECT payload FROM pending_operations");
  g_assert_nonnull (strstr (payload, "'dest': <'Drafts'>"));
  g_assert_nonnull (strstr (payload, "'folder': <'INBOX'>"));
  g_assert_nonnull (strstr (payload, "'uid': <uint32 1>"));
  assert_conversations_counted (fixture);

  /* Not to another account; nothing changes then. */
  g_assert_false (tern_offline_queue_move (store (fixture), &fixture->messages[1], 1,
                                           fixture->elsewhere, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = 101"), ==, 10);
  g_assert_cmpint (n_ops (fixture), ==, 1);
}

static void
test_all_or_nothing (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const gint64 ids[] = { 100, 999 };

  g_assert_false (tern_offline_queue_set_flags (store (fixture), ids, G_N_ELEMENTS (ids),
                                                TERN_IMAP_FLAG_SEEN, 0, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_assert_cmpint (query_int (fixture, "SELECT flags FROM messages WHERE id = 100"), ==, 0);
  g_assert_cmpint (n_ops (fixture), ==, 0);
}

static void
test_delete (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  /* From INBOX: to the Trash. */
  g_assert_true (tern_offline_queue_delete (store (fixture), fixture->messages, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = 100"), ==, 13);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM pending_operations"
                                       " WHERE kind = 'move'"), ==, 1);

  /* From the Trash: gone. */
  g_assert_true (tern_offline_queue_delete (store (fixture), fixture->messages, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM messages WHERE id = 100"), ==, 0);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM pending_operations"
                                       " WHERE kind = 'expunge'"), ==, 1);
  g_assert_cmpint (query_int (fixture, "SELECT total_count FROM folders WHERE id = 13"), ==, 0);
  g_assert_cmpint (n_ops (fixture), ==, 2);
  assert_conversations_counted (fixture);
}

static void
test_append (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GBytes) no_id = NULL;
  g_autofree char *subject = NULL;
  gint64 id;

  const char *text = "From: Alice <alice@example.org>\r\n"
                     "Subject: Draft one\r\n"
                     "Message-ID: <draft-1@example.org>\r\n"
                     "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                     "\r\n"
                     "Hello\r\n";

  message = g_bytes_new_static (text, strlen (text));
  id = tern_offline_queue_append (store (fixture), fixture->drafts, message,
                                  TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_DRAFT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  subject = query_text (fixture, "SELECT subject FROM messages WHERE id = %" G_GINT64_FORMAT, id);
  g_assert_cmpstr (subject, ==, "Draft one");
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = %" G_GINT64_FORMAT,
                              id), ==, 12);
  g_assert_cmpint (query_int (fixture, "SELECT size FROM bodies WHERE message_id = %" G_GINT64_FORMAT,
                              id), ==, (gint64) strlen (text));
  g_assert_cmpint (n_ops (fixture), ==, 1);
  /* Counted in the Drafts' conversations, by its Date. */
  g_assert_cmpint (query_int (fixture, "SELECT last_date FROM folder_threads WHERE latest_id = %"
                              G_GINT64_FORMAT, id), ==, 1795694400);
  assert_conversations_counted (fixture);

  /* Deleted before it reached the server: it never will. */
  g_assert_true (tern_offline_queue_delete (store (fixture), &id, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = %" G_GINT64_FORMAT,
                              id), ==, 13);
  g_assert_true (tern_offline_queue_delete (store (fixture), &id, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_ops (fixture), ==, 0);

  no_id = g_bytes_new_static ("Subject: x\r\n\r\nx\r\n", strlen ("Subject: x\r\n\r\nx\r\n"));
  g_assert_cmpint (tern_offline_queue_append (store (fixture), fixture->drafts, no_id, 0, &error),
                   ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
}

static void
test_copy (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_offline_queue_copy (store (fixture), &fixture->messages[1], 1,
                                          fixture->archive, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM messages WHERE folder_id = 11"
                                       " AND subject = 'Two' AND uid IS NULL"), ==, 1);
  g_assert_cmpint (query_int (fixture, "SELECT folder_id FROM messages WHERE id = 101"), ==, 10);
  g_assert_cmpint (n_ops (fixture), ==, 1);
  g_assert_cmpint (query_int (fixture, "SELECT message_count FROM folder_threads WHERE folder_id = 11"),
                   ==, 1);
  assert_conversations_counted (fixture);
}

/* Dropping the context cancels the jobs of its worker pool and waits for
 * them, so a job never finds the store gone. */
typedef struct
{
  TernStore *store;     /* unowned: the job must be done before it goes */
  gint started;         /* atomic */
  gboolean used_store;
  gboolean done;
  GError *error;
} Blocking;

static gboolean
noop_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  return TRUE;
}

static gboolean
blocking_job (TernWorkerJob  *job,
              gpointer        data,
              GCancellable   *cancellable,
              GError        **error)
{
  Blocking *blocking = data;

  g_atomic_int_set (&blocking->started, TRUE);
  while (!g_cancellable_is_cancelled (cancellable))
    g_usleep (1000);
  /* Late work on the way out, as a sync writing its last batch does. */
  g_usleep (50 * 1000);
  blocking->used_store = tern_store_read (blocking->store, noop_cb, NULL, NULL);
  g_cancellable_set_error_if_cancelled (cancellable, error);
  return FALSE;
}

static void
blocking_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Blocking *blocking = user_data;

  tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &blocking->error);
  blocking->done = TRUE;
}

static void
test_context_cancels_jobs (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(TernServer) server = tern_server_new ("127.0.0.1", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = tern_account_new ("A", "a@example.org",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  Blocking blocking = { store (fixture), FALSE, FALSE, FALSE, NULL };
  gint64 end;

  _tern_account_set_id (account, fixture->account);
  tern_worker_pool_run_async (tern_context_get_worker_pool (fixture->context), account,
                              blocking_job, &blocking, NULL, blocking_done_cb, &blocking);
  /* A running job (a loaded machine may take a while to start it: a job
   * cancelled before it starts never runs, and that is another test). */
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!g_atomic_int_get (&blocking.started) && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_true (g_atomic_int_get (&blocking.started));
  g_object_unref (g_steal_pointer (&fixture->context));
  g_assert_true (blocking.used_store);

  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!blocking.done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_error (blocking.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&blocking.error);
  open_context (fixture);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/tern/offline-queue/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("flags", test_flags);
  ADD ("move", test_move);
  ADD ("all-or-nothing", test_all_or_nothing);
  ADD ("delete", test_delete);
  ADD ("append", test_append);
  ADD ("copy", test_copy);
  ADD ("context-cancels-jobs", test_context_cancels_jobs);
#undef ADD

  return g_test_run ();
}
