/* test-pop3-download.c: downloading POP3 accounts from the real Dovecot of
 * tests/servers/ (POP3S), checked against what the server lists.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gmime/gmime.h>
#include <sqlite3.h>
#include <string.h>

#include "tern-context.h"
#include "tern-mail-store.h"
#include "tern-pop3-download.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

#define BULK_COUNT 1000

static TernTestServers *servers;
static char *password_file[2];

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account; /* owned by the context's manager */
} Fixture;

static void
fixture_open (Fixture    *fixture,
              guint       user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *command = NULL;
  const char *name = tern_test_servers_get_user (servers, user);

  fixture->dir = tern_test_make_tmpdir ("tern-pop3-download-XXXXXX");
  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  server = tern_server_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                            tern_test_servers_get_port (servers, TERN_TEST_SERVICE_POP3S),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (name);
  account = tern_account_new (name, name, TERN_ACCOUNT_PROTOCOL_POP3, server, NULL);
  command = g_strdup_printf ("cat '%s'", password_file[user]);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;
}

static void
fixture_close (Fixture *fixture)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static void
add_messages (guint user,
              guint count)
{
  g_autoptr(GError) error = NULL;

  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, user), "INBOX",
                                  count, &error);
  g_assert_no_error (error);
}

static TernPop3DownloadStats
download_ok (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  TernPop3DownloadStats stats = { 0 };

  tern_pop3_download_account (fixture->context, fixture->account, NULL, NULL, &stats, NULL, &error);
  g_assert_no_error (error);
  return stats;
}

static void
set_options (Fixture               *fixture,
             const TernPop3Options *options)
{
  g_autoptr(GError) error = NULL;
  TernPop3Options back;

  tern_pop3_options_save (tern_context_get_store (fixture->context),
                          tern_account_get_id (fixture->account), options, &error);
  g_assert_no_error (error);
  tern_pop3_options_load (tern_context_get_store (fixture->context),
                          tern_account_get_id (fixture->account), &back, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (&back, options, sizeof back) == 0);
}

/* The server's view, through a session of its own. */
static GPtrArray *
server_uidls (Fixture *fixture,
              guint   *count,
              guint64 *size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernPop3Client) client = NULL;
  GPtrArray *entries;

  client = tern_pop3_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_stat (client, count, size, NULL, &error);
  g_assert_no_error (error);
  entries = tern_pop3_client_uidl (client, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  return entries;
}

/* SQL on the store */

typedef struct
{
  const char *sql;
  gint64 value;
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
    query->value = sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static gint64
query_int (Fixture    *fixture,
           const char *sql)
{
  g_autoptr(GError) error = NULL;
  Query query = { sql, 0 };

  tern_store_read (tern_context_get_store (fixture->context), query_cb, &query, &error);
  g_assert_no_error (error);
  return query.value;
}

static void
exec_sql (Fixture    *fixture,
          const char *sql)
{
  g_autoptr(GError) error = NULL;
  Query query = { sql, 0 };

  tern_store_write (tern_context_get_store (fixture->context), query_cb, &query, &error);
  g_assert_no_error (error);
}

/* Every UIDL of the server is stored exactly once, with its body. */
static void
assert_exactly_once (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GHashTable) stored = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 0;
  guint64 size = 0;

  entries = server_uidls (fixture, &count, &size);
  inbox = tern_mail_store_find_folder_by_role (tern_context_get_store (fixture->context),
                                               tern_account_get_id (fixture->account), "inbox",
                                               &error);
  g_assert_no_error (error);
  stored = tern_mail_store_get_pop3_uidls (tern_context_get_store (fixture->context), inbox->id,
                                           &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (stored), ==, entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      const TernPop3Entry *entry = g_ptr_array_index (entries, i);

      g_assert_true (g_hash_table_contains (stored, entry->uid));
    }
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM messages"), ==, entries->len);
  g_assert_cmpint (query_int (fixture, "SELECT count(DISTINCT pop3_uidl) FROM messages"), ==,
                   entries->len);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM bodies"), ==, entries->len);
  g_assert_cmpint (query_int (fixture, "SELECT coalesce (sum(size), 0) FROM bodies"), ==, size);
  g_assert_cmpint (query_int (fixture, "SELECT total_count FROM folders WHERE role = 'inbox'"), ==,
                   entries->len);
}

/* pop3_seen holds exactly the UIDLs on the server. */
static void
assert_seen_is_server (Fixture *fixture)
{
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 0;
  guint64 size = 0;

  entries = server_uidls (fixture, &count, &size);
  g_assert_cmpint (query_int (fixture, "SELECT count(*) FROM pop3_seen"), ==, entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      const TernPop3Entry *entry = g_ptr_array_index (entries, i);
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM pop3_seen WHERE uidl = '%s'",
                                              entry->uid);

      g_assert_cmpint (query_int (fixture, sql), ==, 1);
    }
}

/* Tests */

static void
test_bulk (void)
{
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;
  guint count = 0;
  guint64 size = 0;

  add_messages (0, BULK_COUNT);
  fixture_open (&fixture, 0);

  stats = download_ok (&fixture);
  g_test_message ("%u messages, %" G_GUINT64_FORMAT " bytes downloaded in %.2f s",
                  stats.new_messages, stats.bytes, stats.seconds);
  g_printerr ("# pop3 download: %u messages, %" G_GUINT64_FORMAT " bytes in %.2f s\n",
              stats.new_messages, stats.bytes, stats.seconds);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (stats.on_server, ==, BULK_COUNT);
  g_assert_cmpuint (stats.new_messages, ==, BULK_COUNT);
  g_assert_cmpuint (stats.bytes, ==, size);
  g_assert_cmpuint (stats.deleted, ==, 0);
  assert_exactly_once (&fixture);
  /* Headers were parsed. */
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages WHERE message_id IS NULL"
                                        " OR subject IS NULL OR from_address IS NULL"), ==, 0);

  folders = tern_mail_store_list_folders (tern_context_get_store (fixture.context),
                                          tern_account_get_id (fixture.account), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, ==, 4);

  /* Nothing new the second time; left on the server by default. */
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.bytes, ==, 0);
  g_assert_cmpuint (stats.on_server, ==, BULK_COUNT);
  g_clear_pointer (&entries, g_ptr_array_unref);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, BULK_COUNT);
  assert_exactly_once (&fixture);

  fixture_close (&fixture);
}

typedef struct
{
  GCancellable *cancellable;
  guint cancel_at;
} CancelAt;

static void
cancel_progress_cb (guint    done,
                    guint    total,
                    gpointer user_data)
{
  CancelAt *cancel = user_data;

  if (done == cancel->cancel_at)
    g_cancellable_cancel (cancel->cancellable);
}

static void
test_interrupted (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  CancelAt cancel = { cancellable, BULK_COUNT / 2 };
  TernPop3DownloadStats stats = { 0 };
  guint first;

  /* The same 1,000 messages, a new profile. */
  fixture_open (&fixture, 0);
  g_assert_false (tern_pop3_download_account (fixture.context, fixture.account, cancel_progress_cb,
                                              &cancel, &stats, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  first = stats.new_messages;
  g_assert_cmpuint (first, >=, BULK_COUNT / 2 - 100);
  g_assert_cmpuint (first, <, BULK_COUNT);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages"), ==, first);

  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, BULK_COUNT - first);
  assert_exactly_once (&fixture);

  /* A crash after commit but before the next run's UIDL check: storing a
   * batch again is a no-op. */
  {
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
    g_autoptr(GBytes) raw = g_bytes_new_static ("Subject: x\r\n\r\nx\r\n", 17);
    g_autoptr(TernMailFolder) inbox = NULL;
    g_autoptr(GHashTable) stored = NULL;
    GHashTableIter iter;
    gpointer uidl;
    guint inserted = 99;

    inbox = tern_mail_store_find_folder_by_role (tern_context_get_store (fixture.context),
                                                 tern_account_get_id (fixture.account), "inbox",
                                                 &error);
    g_assert_no_error (error);
    stored = tern_mail_store_get_pop3_uidls (tern_context_get_store (fixture.context), inbox->id,
                                             &error);
    g_assert_no_error (error);
    g_hash_table_iter_init (&iter, stored);
    while (g_hash_table_iter_next (&iter, &uidl, NULL) && batch->len < 10)
      g_ptr_array_add (batch, tern_mail_new_message_from_pop3 (uidl, raw, TRUE, 1));
    tern_mail_store_add_new_messages (tern_context_get_store (fixture.context), inbox->id, batch,
                                      &inserted, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (inserted, ==, 0);
    assert_exactly_once (&fixture);
  }

  fixture_close (&fixture);
}

/* Leave on server, delete locally for good (expunge from Trash), download
 * again: nothing comes back.  A message removed from the server leaves
 * pop3_seen. */
static void
test_deleted_for_good (void)
{
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(TernPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  const guint first = 1;
  guint count = 0;
  guint64 size;

  /* The 1,000 messages of the tests before, a new profile. */
  fixture_open (&fixture, 0);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, BULK_COUNT);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM pop3_seen"), ==, BULK_COUNT);
  exec_sql (&fixture, "UPDATE messages SET folder_id = (SELECT id FROM folders WHERE role = 'trash')"
                      " WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT 100)");
  exec_sql (&fixture, "DELETE FROM messages WHERE folder_id = (SELECT id FROM folders"
                      " WHERE role = 'trash')");
  exec_sql (&fixture, "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id DESC"
                      " LIMIT 10)");
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages"), ==, BULK_COUNT - 110);

  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.on_server, ==, BULK_COUNT);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.bytes, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages"), ==, BULK_COUNT - 110);
  assert_seen_is_server (&fixture);

  /* Another program deletes message 1 on the server. */
  client = tern_pop3_session_open (fixture.context, fixture.account, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_delete (client, &first, 1, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_quit (client, NULL, &error);
  g_assert_no_error (error);

  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.on_server, ==, BULK_COUNT - 1);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, BULK_COUNT - 1);
  assert_seen_is_server (&fixture);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM pop3_seen"), ==, BULK_COUNT - 1);
  fixture_close (&fixture);
}

static void
test_delete_after_download (void)
{
  Fixture fixture = { 0 };
  TernPop3Options options = { .delete_after_download = TRUE };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 99;
  guint64 size;

  add_messages (1, 10);
  fixture_open (&fixture, 1);
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 10);
  g_assert_cmpuint (stats.deleted, ==, 10);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM bodies"), ==, 10);
  assert_seen_is_server (&fixture);
  fixture_close (&fixture);
}

static void
test_delete_after_days (void)
{
  Fixture fixture = { 0 };
  TernPop3Options options = { .delete_after_days = 7 };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 0;
  guint64 size;

  add_messages (1, 10);
  fixture_open (&fixture, 1);
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 10);
  g_assert_cmpuint (stats.deleted, ==, 0);

  /* Four of them first downloaded eight days ago, one six days ago.  The
   * date counts from the first download (pop3_seen), not from the row's
   * internal_date, which a copy to another folder would renew. */
  exec_sql (&fixture, "UPDATE pop3_seen SET first_seen = first_seen - 8 * 86400"
                      " WHERE uidl IN (SELECT pop3_uidl FROM messages ORDER BY id LIMIT 4)");
  exec_sql (&fixture, "UPDATE pop3_seen SET first_seen = first_seen - 6 * 86400"
                      " WHERE uidl = (SELECT pop3_uidl FROM messages ORDER BY id DESC LIMIT 1)");
  exec_sql (&fixture, "UPDATE messages SET internal_date = internal_date - 30 * 86400"
                      " WHERE id IN (SELECT id FROM messages ORDER BY id DESC LIMIT 2)");
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 4);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, 6);
  /* The local copies stay; the UIDLs that are gone are forgotten. */
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages"), ==, 10);
  assert_seen_is_server (&fixture);
  fixture_close (&fixture);
}

static void
test_deleted_locally (void)
{
  Fixture fixture = { 0 };
  TernPop3Options options = { .delete_when_deleted_locally = TRUE };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 0;
  guint64 size;

  fixture_open (&fixture, 1);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 6);

  /* Moved to Trash: not new again, and kept on the server by default. */
  exec_sql (&fixture, "UPDATE messages SET folder_id = (SELECT id FROM folders WHERE role = 'trash')"
                      " WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT 2)");
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);

  /* Deleted for good (expunged from Trash): still not new. */
  exec_sql (&fixture, "DELETE FROM messages WHERE id = (SELECT min (id) FROM messages"
                      " WHERE folder_id = (SELECT id FROM folders WHERE role = 'trash'))");
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages"), ==, 5);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM pop3_seen"), ==, 6);

  /* Deleting on the server what was deleted locally: the one in Trash
   * and the one deleted for good; the table forgets both. */
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 2);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, 4);
  assert_seen_is_server (&fixture);
  fixture_close (&fixture);
}

static void
test_headers_only (void)
{
  Fixture fixture = { 0 };
  TernPop3Options options = { .headers_only = TRUE, .delete_after_download = TRUE };
  TernPop3DownloadStats stats;
  g_autoptr(GPtrArray) entries = NULL;
  guint count = 0;
  guint64 size;

  fixture_open (&fixture, 1);
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 4);
  /* Bodies are not stored, so nothing may be deleted. */
  g_assert_cmpuint (stats.deleted, ==, 0);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, ==, 4);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM bodies"), ==, 0);
  g_assert_cmpint (query_int (&fixture, "SELECT count(*) FROM messages WHERE subject IS NULL"), ==, 0);
  fixture_close (&fixture);
}

static char *
run_cli (const char *profile,
         const char *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, (char *) "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (servers));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "TERN_PROFILE", profile, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_exit_status (process) != 0)
    g_error ("tern-cli %s: status %d: %s", first, g_subprocess_get_exit_status (process), err);
  return out;
}

static void
test_cli (void)
{
  const char *user = tern_test_servers_get_user (servers, 1);
  g_autofree char *dir = tern_test_make_tmpdir ("tern-pop3-download-cli-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *pop3 = g_strdup_printf ("%s:%u:tls",
                                           tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                                           tern_test_servers_get_port (servers, TERN_TEST_SERVICE_POP3S));
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file[1]);
  g_autofree char *expected = g_strdup_printf ("%s: 4 on the server, 4 new, 0 deleted on the server in ", user);
  g_autofree char *out = NULL;

  g_free (run_cli (profile, "account", "add", "--email", user, "--pop3", pop3,
                   "--password-command", command, NULL));
  out = run_cli (profile, "sync", NULL);
  g_assert_true (g_str_has_prefix (out, expected));
  g_clear_pointer (&out, g_free);
  out = run_cli (profile, "sync", "--json", NULL);
  g_assert_nonnull (strstr (out, "\"protocol\":\"pop3\",\"on_server\":4,\"new\":0,"));
  g_clear_pointer (&out, g_free);
  tern_test_remove_tree (dir);
}

typedef struct
{
  GMainLoop *loop;
  guint pending;
  TernPop3DownloadStats stats[2];
  GError *errors[2];
  guint order[2];
  guint finished;
} AsyncRuns;

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncRuns *runs = g_object_get_data (source, "tern-test-runs");
  guint i = GPOINTER_TO_UINT (user_data);

  tern_pop3_download_account_finish (TERN_CONTEXT (source), result, &runs->stats[i],
                                     &runs->errors[i]);
  runs->order[runs->finished++] = i;
  if (--runs->pending == 0)
    g_main_loop_quit (runs->loop);
}

/* Two downloads queued at once on the account's worker: they run one
 * after the other; the first brings everything, the second nothing. */
static void
test_async (void)
{
  Fixture fixture = { 0 };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GPtrArray) entries = NULL;
  AsyncRuns runs = { .loop = loop, .pending = 2 };
  TernAccountWorker *worker;
  guint count = 0;
  guint64 size;

  add_messages (1, 3);
  fixture_open (&fixture, 1);
  entries = server_uidls (&fixture, &count, &size);
  g_assert_cmpuint (count, >, 3);
  worker = tern_worker_pool_get_worker (tern_context_get_worker_pool (fixture.context),
                                        fixture.account);
  g_assert_cmpint (tern_account_worker_get_last_sync (worker), ==, 0);

  g_object_set_data (G_OBJECT (fixture.context), "tern-test-runs", &runs);
  for (guint i = 0; i < 2; i++)
    tern_pop3_download_account_async (fixture.context, fixture.account, NULL, async_done_cb,
                                      GUINT_TO_POINTER (i));
  g_main_loop_run (loop);

  g_assert_cmpuint (runs.order[0], ==, 0);
  g_assert_cmpuint (runs.order[1], ==, 1);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_no_error (runs.errors[i]);
      g_assert_cmpuint (runs.stats[i].on_server, ==, count);
      g_assert_false (runs.stats[i].header_digests);
    }
  g_assert_cmpuint (runs.stats[0].new_messages, ==, count);
  g_assert_cmpuint (runs.stats[0].bytes, ==, size);
  g_assert_cmpuint (runs.stats[1].new_messages, ==, 0);
  assert_exactly_once (&fixture);
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_IDLE);
  g_assert_cmpint (tern_account_worker_get_last_sync (worker), >, 0);
  g_assert_null (tern_account_worker_get_last_error (worker));
  g_object_set_data (G_OBJECT (fixture.context), "tern-test-runs", NULL);
  fixture_close (&fixture);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("password%u", i);

      password_file[i] = g_build_filename (tern_test_servers_get_dir (servers), name, NULL);
      g_file_set_contents (password_file[i], tern_test_servers_get_password (servers, i), -1, &error);
      g_assert_no_error (error);
    }

  /* In this order: each test starts from the server state the one before
   * left. */
  g_test_add_func ("/tern/pop3-download/bulk", test_bulk);
  g_test_add_func ("/tern/pop3-download/interrupted", test_interrupted);
  g_test_add_func ("/tern/pop3-download/deleted-for-good", test_deleted_for_good);
  g_test_add_func ("/tern/pop3-download/delete-after-download", test_delete_after_download);
  g_test_add_func ("/tern/pop3-download/delete-after-days", test_delete_after_days);
  g_test_add_func ("/tern/pop3-download/deleted-locally", test_deleted_locally);
  g_test_add_func ("/tern/pop3-download/headers-only", test_headers_only);
  g_test_add_func ("/tern/pop3-download/cli", test_cli);
  g_test_add_func ("/tern/pop3-download/async", test_async);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  for (guint i = 0; i < 2; i++)
    g_free (password_file[i]);
  return status;
}
