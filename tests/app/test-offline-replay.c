/* test-offline-replay.c: changes made while Dovecot is down reach it once,
 * exactly once, after a restart of Tern and of Dovecot, also when Tern
 * "crashes" between the server's OK and forgetting the operation.
 *
 * Dovecot alone is stopped and started again with its own configuration,
 * so it comes back on the same ports with the same passwords (the
 * tern-test-servers script would pick new ones).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "tern-context.h"
#include "tern-imap-session.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-offline-queue-private.h"
#include "tern-offline-queue.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"
#include "tern-worker-pool.h"

static TernTestServers *servers;
static char *dovecot_conf;
static char *password_file;

#define USER (tern_test_servers_get_user (servers, 0))

/* Dovecot */

static char *
run (const char *const *argv,
     gboolean           check)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (check && !g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
  return out;
}

/* doveadm -f tab fetch -u USER "uid flags hdr.message-id" mailbox MAILBOX all:
 * message id -> flags string, and how many times each id is there. */
static GHashTable *
server_messages (const char *mailbox,
                 GHashTable *counts)
{
  const char *argv[] = { "doveadm", "-c", dovecot_conf, "-f", "tab", "fetch", "-u", USER,
                         "uid flags hdr.message-id", "mailbox", mailbox, "all", NULL };
  g_autofree char *out = run (argv, TRUE);
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  GHashTable *flags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) cols = g_strsplit (lines[i], "\t", 3);
      g_autofree char *id = NULL;

      if (g_strv_length (cols) < 3)
        continue;
      id = g_strdup (g_strstrip (cols[2]));
      if (id[0] == '<')
        {
          memmove (id, id + 1, strlen (id));
          id[strlen (id) - 1] = '\0';
        }
      if (counts != NULL)
        g_hash_table_insert (counts, g_strdup (id),
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, id))
                                               + 1));
      g_hash_table_insert (flags, g_steal_pointer (&id), g_strdup (cols[1]));
    }
  return flags;
}

/* How often @message_id is in @mailbox on the server. */
static guint
count_on_server (const char *mailbox,
                 const char *message_id)
{
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) flags = server_messages (mailbox, counts);

  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, message_id));
}

static char *
flags_on_server (const char *mailbox,
                 const char *message_id)
{
  g_autoptr(GHashTable) flags = server_messages (mailbox, NULL);

  return g_strdup (g_hash_table_lookup (flags, message_id));
}

/* Tern */

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernAccount *account; /* the manager's */
} Fixture;

static void
open_context (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));
  fixture->account = tern_account_manager_lookup (tern_context_get_accounts (fixture->context),
                                                  USER);
  g_assert_nonnull (fixture->account);
}

/* What a restart of tern-cli or of the app does to the engine. */
static void
restart (Fixture *fixture)
{
  g_assert_finalize_object (fixture->context);
  fixture->context = NULL;
  open_context (fixture);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  fixture->dir = tern_test_make_tmpdir ("tern-offline-replay-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);

  server = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (USER);
  account = tern_account_new (USER, USER, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  restart (fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
}

static TernStore *
store (Fixture *fixture)
{
  return tern_context_get_store (fixture->context);
}

static void
sync_account (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  tern_imap_sync_account (fixture->context, fixture->account, TERN_IMAP_SYNC_BODIES_NONE, NULL,
                          NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static TernMailFolder *
folder (Fixture    *fixture,
        const char *name)
{
  g_autoptr(GError) error = NULL;
  TernMailFolder *result = tern_mail_store_find_folder (store (fixture),
                                                        tern_account_get_id (fixture->account),
                                                        name, &error);

  g_assert_no_error (error);
  return result;
}

static TernMailMessage *
message (Fixture *fixture,
         gint64   id)
{
  g_autoptr(GError) error = NULL;
  TernMailMessage *result = tern_mail_store_get_message (store (fixture), id, &error);

  g_assert_no_error (error);
  return result;
}

static gint64
n_ops (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  gint64 n = tern_offline_queue_count (store (fixture), tern_account_get_id (fixture->account),
                                       &error);

  g_assert_no_error (error);
  return n;
}

/* One replay on a fresh connection.  Returns the error, if any. */
static GError *
replay (Fixture *fixture,
        guint   *replayed)
{
  g_autoptr(TernImapClient) client = NULL;
  GError *error = NULL;

  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  if (client == NULL)
    return error;
  tern_offline_queue_replay (store (fixture), tern_account_get_id (fixture->account), client,
                             replayed, NULL, &error);
  tern_imap_client_logout (client, NULL, NULL);
  return error;
}

static gboolean
is_flag (const char *flags,
         const char *flag)
{
  g_auto(GStrv) words = g_strsplit (flags ? flags : "", " ", -1);

  return g_strv_contains ((const char *const *) words, flag);
}

static void
run_cli (Fixture    *fixture,
         const char *const *args,
         char      **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *stderr_text = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, fixture->profile);
  g_ptr_array_add (argv, (char *) "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (servers));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &stderr_text,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tern-cli %s failed (wait status %d): %s", args[0], status, stderr_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
}

static void
test_offline_then_replay (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inbox = NULL;
  g_autoptr(TernMailFolder) inbox_folder = NULL;
  g_autoptr(TernMailFolder) archive = NULL;
  g_autoptr(TernMailFolder) drafts = NULL;
  g_autoptr(TernMailFolder) trash = NULL;
  g_autofree char *id_flagged = NULL, *id_moved = NULL, *id_deleted = NULL, *id_cli = NULL;
  g_autofree char *cli_err = NULL, *cli_arg = NULL, *flags = NULL;
  g_autoptr(GBytes) draft = NULL;
  const char *draft_text = "From: Alice <alice@tern.test>\r\n"
                           "To: Bob <bob@tern.test>\r\n"
                           "Subject: Written offline\r\n"
                           "Message-ID: <offline-draft-1@tern.test>\r\n"
                           "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                           "\r\n"
                           "Written on a train.\r\n";
  gint64 ids[4], draft_id;
  guint replayed = 0, rounds = 0;
  gint64 start;

  tern_test_servers_add_messages (servers, USER, NULL, 4, &error);
  g_assert_no_error (error);
  sync_account (fixture);
  inbox_folder = folder (fixture, "INBOX");
  archive = folder (fixture, "Archive");
  drafts = folder (fixture, "Drafts");
  trash = folder (fixture, "Trash");
  inbox = tern_mail_store_list_messages (store (fixture), inbox_folder->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (inbox->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    ids[i] = ((TernMailMessage *) g_ptr_array_index (inbox, i))->id;
  id_flagged = g_strdup (((TernMailMessage *) g_ptr_array_index (inbox, 0))->message_id);
  id_moved = g_strdup (((TernMailMessage *) g_ptr_array_index (inbox, 1))->message_id);
  id_deleted = g_strdup (((TernMailMessage *) g_ptr_array_index (inbox, 2))->message_id);
  id_cli = g_strdup (((TernMailMessage *) g_ptr_array_index (inbox, 3))->message_id);

  /* Offline: every change shows at once and waits. */
  {
    g_autoptr(GError) stop_error = NULL;

    tern_test_servers_stop_dovecot (servers, &stop_error);
    g_assert_no_error (stop_error);
  }
  g_assert_true (tern_offline_queue_set_flags (store (fixture), &ids[0], 1,
                                               TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED, 0,
                                               &error));
  g_assert_no_error (error);
  g_assert_true (tern_offline_queue_move (store (fixture), &ids[1], 1, archive->id, &error));
  g_assert_no_error (error);
  g_assert_true (tern_offline_queue_delete (store (fixture), &ids[2], 1, &error));
  g_assert_no_error (error);
  draft = g_bytes_new_static (draft_text, strlen (draft_text));
  draft_id = tern_offline_queue_append (store (fixture), drafts->id, draft, TERN_IMAP_FLAG_SEEN,
                                        &error);
  g_assert_no_error (error);
  {
    g_autoptr(TernMailMessage) m0 = message (fixture, ids[0]);
    g_autoptr(TernMailMessage) m1 = message (fixture, ids[1]);
    g_autoptr(TernMailMessage) m2 = message (fixture, ids[2]);
    g_autoptr(TernMailMessage) d = message (fixture, draft_id);

    g_assert_cmpuint (m0->flags & (TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED), ==,
                      TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED);
    g_assert_cmpint (m1->folder_id, ==, archive->id);
    g_assert_cmpint (m2->folder_id, ==, trash->id);
    g_assert_cmpint (d->folder_id, ==, drafts->id);
    g_assert_cmpstr (d->subject, ==, "Written offline");
  }
  /* tern-cli says it queued the change, and succeeds. */
  cli_arg = g_strdup_printf ("%" G_GINT64_FORMAT, ids[3]);
  run_cli (fixture, (const char *const[]) { "flag", cli_arg, "+flagged", NULL }, &cli_err);
  g_assert_nonnull (strstr (cli_err, "queued"));
  g_assert_cmpint (n_ops (fixture), ==, 5);
  error = replay (fixture, NULL);
  g_assert_true (tern_worker_error_is_network (error));
  g_clear_error (&error);

  /* Tern and Dovecot restart; the queue is still there. */
  restart (fixture);
  {
    g_autoptr(GError) start_error = NULL;

    tern_test_servers_start_dovecot (servers, &start_error);
    g_assert_no_error (start_error);
  }
  g_assert_cmpint (n_ops (fixture), ==, 5);

  /* Every operation "crashes" once after the server's OK, and the next
   * replay finds it done instead of doing it again. */
  start = g_get_monotonic_time ();
  _tern_offline_queue_set_crash_after_server (1);
  error = replay (fixture, NULL);
  g_assert_nonnull (error);
  g_clear_error (&error);
  _tern_offline_queue_set_crash_after_server (2);
  while (n_ops (fixture) > 1)
    {
      gint64 before = n_ops (fixture);
      gint64 t = g_get_monotonic_time ();

      error = replay (fixture, NULL);
      g_test_message ("replay round %u: %.3f s", rounds, (g_get_monotonic_time () - t) / 1e6);
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_cmpint (n_ops (fixture), ==, before - 1);
      rounds++;
    }
  _tern_offline_queue_set_crash_after_server (0);
  error = replay (fixture, &replayed);
  g_assert_no_error (error);
  g_assert_cmpuint (replayed, ==, 1);
  g_assert_cmpint (n_ops (fixture), ==, 0);
  g_test_message ("replayed 5 operations with a crash after each in %.2f s (%u rounds)",
                  (g_get_monotonic_time () - start) / 1e6, rounds + 2);

  /* Exactly once each. */
  flags = flags_on_server ("INBOX", id_flagged);
  g_assert_true (is_flag (flags, "\\Seen") && is_flag (flags, "\\Flagged"));
  g_clear_pointer (&flags, g_free);
  g_assert_cmpuint (count_on_server ("INBOX", id_moved), ==, 0);
  g_assert_cmpuint (count_on_server ("Archive", id_moved), ==, 1);
  g_assert_cmpuint (count_on_server ("INBOX", id_deleted), ==, 0);
  g_assert_cmpuint (count_on_server ("Trash", id_deleted), ==, 1);
  g_assert_cmpuint (count_on_server ("Drafts", "offline-draft-1@tern.test"), ==, 1);
  flags = flags_on_server ("INBOX", id_cli);
  g_assert_true (is_flag (flags, "\\Flagged"));
  g_clear_pointer (&flags, g_free);

  /* The cache learned the new UIDs. */
  {
    g_autoptr(TernMailMessage) m1 = message (fixture, ids[1]);
    g_autoptr(TernMailMessage) d = message (fixture, draft_id);

    g_assert_cmpuint (m1->uid, !=, 0);
    g_assert_cmpuint (d->uid, !=, 0);
  }

  /* Nothing is left to do, and a sync agrees with the cache. */
  error = replay (fixture, &replayed);
  g_assert_no_error (error);
  g_assert_cmpuint (replayed, ==, 0);
  g_assert_cmpuint (count_on_server ("Archive", id_moved), ==, 1);
  g_assert_cmpuint (count_on_server ("Drafts", "offline-draft-1@tern.test"), ==, 1);
  sync_account (fixture);
  {
    g_autoptr(GPtrArray) in_archive = tern_mail_store_list_messages (store (fixture), archive->id,
                                                                     0, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (in_archive->len, ==, 1);
  }

  /* Deleting from the Trash expunges, online, through tern-cli. */
  g_clear_pointer (&cli_arg, g_free);
  g_clear_pointer (&cli_err, g_free);
  cli_arg = g_strdup_printf ("%" G_GINT64_FORMAT, ids[2]);
  restart (fixture);
  run_cli (fixture, (const char *const[]) { "delete", cli_arg, NULL }, &cli_err);
  g_assert_null (strstr (cli_err, "queued"));
  g_assert_cmpuint (count_on_server ("Trash", id_deleted), ==, 0);
  g_assert_cmpint (n_ops (fixture), ==, 0);
}

static void
test_gone_on_server (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inbox = NULL;
  g_autoptr(TernMailFolder) inbox_folder = NULL;
  g_autoptr(TernMailFolder) archive = NULL;
  const char *expunge[] = { "doveadm", "-c", dovecot_conf, "expunge", "-u", USER, "mailbox",
                            "INBOX", "all", NULL };
  gint64 ids[2];
  guint replayed = 0;

  sync_account (fixture);
  inbox_folder = folder (fixture, "INBOX");
  archive = folder (fixture, "Archive");
  inbox = tern_mail_store_list_messages (store (fixture), inbox_folder->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (inbox->len, >=, 2);
  ids[0] = ((TernMailMessage *) g_ptr_array_index (inbox, 0))->id;
  ids[1] = ((TernMailMessage *) g_ptr_array_index (inbox, 1))->id;

  g_assert_true (tern_offline_queue_set_flags (store (fixture), &ids[0], 1, TERN_IMAP_FLAG_SEEN, 0,
                                               &error));
  g_assert_true (tern_offline_queue_move (store (fixture), &ids[1], 1, archive->id, &error));
  g_assert_no_error (error);

  /* Someone else empties the INBOX meanwhile: the operations go quietly. */
  g_free (run (expunge, TRUE));
  error = replay (fixture, &replayed);
  g_assert_no_error (error);
  g_assert_cmpuint (replayed, ==, 2);
  g_assert_cmpint (n_ops (fixture), ==, 0);
  /* The moved message is gone from the cache too. */
  g_assert_null (tern_mail_store_get_message (store (fixture), ids[1], &error));
  g_clear_error (&error);
}

static void
test_refused (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inbox = NULL;
  g_autoptr(TernMailFolder) inbox_folder = NULL;
  g_autoptr(TernMailFolder) nowhere = tern_mail_folder_new ();
  gint64 id, nowhere_id;
  guint attempts = 0;

  tern_test_servers_add_messages (servers, USER, NULL, 1, &error);
  g_assert_no_error (error);
  sync_account (fixture);
  inbox_folder = folder (fixture, "INBOX");
  inbox = tern_mail_store_list_messages (store (fixture), inbox_folder->id, 0, &error);
  g_assert_no_error (error);
  id = ((TernMailMessage *) g_ptr_array_index (inbox, 0))->id;

  /* A folder the cache knows and the server does not (deleted elsewhere). */
  nowhere->account_id = tern_account_get_id (fixture->account);
  nowhere->name = g_strdup ("Nowhere");
  nowhere_id = tern_mail_store_upsert_folder (store (fixture), nowhere, &error);
  g_assert_no_error (error);
  g_assert_true (tern_offline_queue_move (store (fixture), &id, 1, nowhere_id, &error));
  g_assert_no_error (error);

  /* Refused each time: replay goes on (a refusal is not an outage), and
   * after a few tries the move is given up: the message is back in the
   * INBOX with its UID, as on the server. */
  while (n_ops (fixture) > 0 && attempts < 10)
    {
      error = replay (fixture, NULL);
      g_assert_no_error (error);
      attempts++;
    }
  g_assert_cmpuint (attempts, ==, 5);
  {
    g_autoptr(TernMailMessage) back = message (fixture, id);

    g_assert_cmpint (back->folder_id, ==, inbox_folder->id);
    g_assert_cmpuint (back->uid, ==, ((TernMailMessage *) g_ptr_array_index (inbox, 0))->uid);
  }
  g_assert_cmpuint (count_on_server ("INBOX", ((TernMailMessage *) g_ptr_array_index (inbox, 0))->message_id), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  dovecot_conf = g_build_filename (tern_test_servers_get_dir (servers), "dovecot", "dovecot.conf",
                                   NULL);
  password_file = g_build_filename (tern_test_servers_get_dir (servers), "password0", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

  g_test_add ("/tern/offline-replay/offline-then-replay", Fixture, NULL, fixture_setup,
              test_offline_then_replay, fixture_teardown);
  g_test_add ("/tern/offline-replay/gone-on-server", Fixture, NULL, fixture_setup,
              test_gone_on_server, fixture_teardown);
  g_test_add ("/tern/offline-replay/refused", Fixture, NULL, fixture_setup, test_refused,
              fixture_teardown);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  g_free (dovecot_conf);
  return status;
}
