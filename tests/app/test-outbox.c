/* test-outbox.c: the outbox against real Postfix and Dovecot: delivery over
 * 465 and 587, Bcc, the Sent copy, an outage, a refused sign-in, a refused
 * recipient, and a row left `sending` by a crash (at most once).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "tern-context.h"
#include "tern-imap-sync.h"
#include "tern-outbox.h"
#include "tern-smtp-client.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

static TernTestServers *servers;
static char *password_file;
static char *wrong_password_file;

#define ALICE (tern_test_servers_get_user (servers, 0))
#define BOB (tern_test_servers_get_user (servers, 1))

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernAccount *account; /* the manager's */
} Fixture;

typedef struct
{
  TernTestService service;
  TernTlsMode mode;
  gboolean wrong_password;
} Setup;

static const Setup setup_465 = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, FALSE };
static const Setup setup_587 = { TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS, FALSE };
static const Setup setup_wrong = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, TRUE };

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  const Setup *setup = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", setup->wrong_password
                                                            ? wrong_password_file
                                                            : password_file);

  fixture->dir = tern_test_make_tmpdir ("tern-outbox-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  incoming = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                              TERN_TLS_MODE_IMPLICIT);
  incoming->username = g_strdup (ALICE);
  outgoing = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, setup->service),
                              setup->mode);
  outgoing->username = g_strdup (ALICE);
  account = tern_account_new (ALICE, ALICE, TERN_ACCOUNT_PROTOCOL_IMAP, incoming, outgoing);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = tern_account_manager_lookup (tern_context_get_accounts (fixture->context),
                                                  ALICE);
  g_assert_nonnull (fixture->account);
  if (!setup->wrong_password)
    {
      /* The Sent folder has to be known for the copy. */
      tern_imap_sync_account (fixture->context, fixture->account, TERN_IMAP_SYNC_BODIES_NONE,
                              NULL, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }
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

/* Helpers */

static char *
make_message (const char *id,
              const char *to,
              const char *bcc)
{
  return g_strdup_printf ("From: Alice <%s>\r\n"
                          "To: %s\r\n"
                          "%s%s%s"
                          "Subject: Outbox test %s\r\n"
                          "Message-ID: <%s>\r\n"
                          "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                          "\r\n"
                          "First line.\r\n"
                          ".\r\n"
                          ".x\r\n"
                          "..double\r\n"
                          "Last line.\r\n",
                          ALICE, to, bcc ? "Bcc: " : "", bcc ? bcc : "", bcc ? "\r\n" : "", id,
                          id);
}

static gint64
enqueue (Fixture    *fixture,
         const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  gint64 id = tern_outbox_enqueue (store (fixture), fixture->account, bytes, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static TernOutboxEntry *
entry (Fixture *fixture,
       gint64   id)
{
  g_autoptr(GError) error = NULL;
  TernOutboxEntry *result = tern_outbox_get (store (fixture), id, &error);

  g_assert_no_error (error);
  return result;
}

static void
sql (Fixture    *fixture,
     const char *statement)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (tern_store_get_path (store (fixture)), &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_exec (db, statement, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static char *
maildir_of (guint user)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (tern_test_servers_get_dir (servers), "servers.ini",
                                            NULL);
  g_autofree char *key = g_strdup_printf ("maildir%u", user);
  g_autoptr(GError) error = NULL;
  char *dir;

  g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  dir = g_key_file_get_string (ini, "users", key, &error);
  g_assert_no_error (error);
  return dir;
}

/* The files in @user's @folder ("" for INBOX) whose header carries
 * @message_id; the first one's content in @first. */
static guint
count_in_maildir (guint       user,
                  const char *folder,
                  const char *message_id,
                  char      **first)
{
  g_autofree char *root = maildir_of (user);
  g_autofree char *needle = g_strdup_printf ("Message-ID: <%s>", message_id);
  const char *subdirs[] = { "new", "cur" };
  guint count = 0;

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (root, folder, subdirs[i], NULL);
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *text = NULL;

          if (!g_file_get_contents (path, &text, NULL, NULL) || strstr (text, needle) == NULL)
            continue;
          count++;
          if (first != NULL && *first == NULL)
            *first = g_steal_pointer (&text);
        }
    }
  return count;
}

/* Delivery through LMTP is asynchronous: waits up to 20 s for a copy. */
static guint
wait_in_maildir (guint       user,
                 const char *folder,
                 const char *message_id,
                 char      **first)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint count;

  while ((count = count_in_maildir (user, folder, message_id, NULL)) == 0
         && g_get_monotonic_time () < end)
    g_usleep (50000);
  if (count > 0 && first != NULL)
    count_in_maildir (user, folder, message_id, first);
  return count;
}

static const char *
body_of (const char *text)
{
  const char *end = strstr (text, "\n\n");

  if (end == NULL)
    return NULL;
  return end + 2;
}

static void
flush (Fixture *fixture,
       guint    expected_sent)
{
  g_autoptr(GError) error = NULL;
  guint n_sent = 0;

  tern_outbox_flush (fixture->context, fixture->account, &n_sent, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, expected_sent);
}

/* Tests */

static void
test_send (Fixture       *fixture,
           gconstpointer  data)
{
  const Setup *setup = data;
  g_autofree char *id = g_strdup_printf ("outbox-%u-%" G_GINT64_FORMAT "@tern.test",
                                         setup->service, g_get_real_time ());
  g_autofree char *text = make_message (id, BOB, ALICE);
  g_autofree char *delivered = NULL;
  g_autofree char *header = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id = enqueue (fixture, text);
  gint64 start = g_get_monotonic_time ();

  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_assert_cmpstr (row->message_id, ==, id);
  g_assert_cmpstr (row->envelope_from, ==, ALICE);
  g_assert_cmpstrv (row->recipients, ((const char *const[]) { BOB, ALICE, NULL }));
  g_clear_pointer (&row, tern_outbox_entry_free);

  flush (fixture, 1);
  g_test_message ("sent in %.3f s", (g_get_monotonic_time () - start) / 1e6);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_null (row->last_error);

  /* Bob has it once, the body byte for byte (as Dovecot stores it, LF). */
  g_assert_cmpuint (wait_in_maildir (1, "", id, &delivered), ==, 1);
  g_assert_cmpstr (body_of (delivered), ==, "First line.\n.\n.x\n..double\nLast line.\n");
  header = g_strndup (delivered, body_of (delivered) - delivered);
  g_assert_null (strstr (header, "\nBcc:"));
  /* The Bcc recipient got it too, without the Bcc field. */
  g_clear_pointer (&delivered, g_free);
  g_assert_cmpuint (wait_in_maildir (0, "", id, &delivered), ==, 1);
  g_assert_null (strstr (delivered, "\nBcc:"));
  /* A copy in alice's Sent. */
  g_assert_cmpuint (wait_in_maildir (0, ".Sent", id, NULL), ==, 1);
  g_test_message ("delivered and filed in %.3f s", (g_get_monotonic_time () - start) / 1e6);

  /* Nothing left to send. */
  flush (fixture, 0);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

static void
test_message_id_added (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *text = g_strdup_printf ("From: %s\nTo: %s\nSubject: no id\n\nHi.\n", ALICE,
                                           BOB);
  gint64 row_id = enqueue (fixture, text);
  g_autoptr(TernOutboxEntry) row = entry (fixture, row_id);
  g_autoptr(GBytes) sent = NULL;
  g_autofree char *expected = NULL;

  g_assert_true (g_str_has_suffix (row->message_id, "@tern.test"));
  sent = tern_outbox_get_data (store (fixture), row_id, NULL);
  expected = g_strdup_printf ("Message-ID: <%s>\n", row->message_id);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (sent, NULL), expected));
  flush (fixture, 1);
  g_assert_cmpuint (wait_in_maildir (1, "", row->message_id, NULL), ==, 1);
}

static void
test_postfix_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("outbox-down-%" G_GINT64_FORMAT "@tern.test",
                                         g_get_real_time ());
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 row_id;
  guint n_sent = 7;

  tern_test_servers_stop_postfix (servers, &error);
  g_assert_no_error (error);
  row_id = enqueue (fixture, text);
  g_assert_false (tern_outbox_flush (fixture->context, fixture->account, &n_sent, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (n_sent, ==, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_assert_nonnull (row->last_error);
  g_assert_cmpuint (row->attempts, ==, 1);
  g_assert_cmpint (row->next_attempt, >, g_get_real_time () / G_USEC_PER_SEC);
  g_test_message ("while Postfix is down: %s", row->last_error);
  g_clear_pointer (&row, tern_outbox_entry_free);

  /* Not due yet: the flush does not even connect. */
  tern_test_servers_start_postfix (servers, &error);
  g_assert_no_error (error);
  flush (fixture, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_clear_pointer (&row, tern_outbox_entry_free);

  /* Due: sent exactly once. */
  sql (fixture, "UPDATE outbox SET next_attempt = 0");
  flush (fixture, 1);
  flush (fixture, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("outbox-auth-%" G_GINT64_FORMAT "@tern.test",
                                         g_get_real_time ());
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) kept = NULL;
  gint64 row_id = enqueue (fixture, text);

  g_assert_false (tern_outbox_flush (fixture->context, fixture->account, NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_cmpstr (row->last_error, ==, error->message);
  g_test_message ("wrong password: %s", row->last_error);
  kept = tern_outbox_get_data (store (fixture), row_id, NULL);
  g_assert_nonnull (kept);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 0);
}

static void
test_refused_recipient (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("outbox-refused-%" G_GINT64_FORMAT "@tern.test",
                                         g_get_real_time ());
  g_autofree char *to = g_strdup_printf ("nobody@tern.test, %s", BOB);
  g_autofree char *text = make_message (id, to, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id = enqueue (fixture, text);

  flush (fixture, 1);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_nonnull (row->last_error);
  g_assert_nonnull (strstr (row->last_error, "nobody@tern.test"));
  g_assert_nonnull (strstr (row->last_error, "550"));
  g_test_message ("refused: %s", row->last_error);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
}

static void
test_crash_while_sending (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("outbox-crash-%" G_GINT64_FORMAT "@tern.test",
                                         g_get_real_time ());
  g_autofree char *id2 = g_strdup_printf ("outbox-crash2-%" G_GINT64_FORMAT "@tern.test",
                                          g_get_real_time ());
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *text2 = make_message (id2, BOB, NULL);
  g_autofree char *update = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id, row_id2;

  /* Crashed after `sending` was recorded, before the server saw DATA:
   * failed, for the user to decide, and never sent by itself. */
  row_id = enqueue (fixture, text);
  update = g_strdup_printf ("UPDATE outbox SET state = 'sending' WHERE id = %" G_GINT64_FORMAT,
                            row_id);
  sql (fixture, update);
  flush (fixture, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_nonnull (strstr (row->last_error, "may have been sent"));
  g_clear_pointer (&row, tern_outbox_entry_free);
  flush (fixture, 0);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 0);

  /* Crashed after the server took it, and its copy is in Sent: sent. */
  row_id2 = enqueue (fixture, text2);
  flush (fixture, 1);
  g_assert_cmpuint (wait_in_maildir (0, ".Sent", id2, NULL), ==, 1);
  g_clear_pointer (&update, g_free);
  update = g_strdup_printf ("UPDATE outbox SET state = 'sending' WHERE id = %" G_GINT64_FORMAT,
                            row_id2);
  sql (fixture, update);
  flush (fixture, 0);
  row = entry (fixture, row_id2);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpuint (wait_in_maildir (1, "", id2, NULL), ==, 1);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id2, NULL), ==, 1);
}

static char *
run_cli (Fixture           *fixture,
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
  g_ptr_array_add (argv, fixture->profile);
  g_ptr_array_add (argv, (char *) "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (servers));
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

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *id = g_strdup_printf ("outbox-cli-%" G_GINT64_FORMAT "@tern.test",
                                         g_get_real_time ());
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *file = g_build_filename (fixture->dir, "message.eml", NULL);
  g_autofree char *out = NULL;
  g_autofree char *needle = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_file_set_contents (file, text, -1, &error);
  g_assert_no_error (error);
  out = run_cli (fixture, (const char *const[]) { "send", "--account", ALICE, file, NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\tsent\t"));
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture, (const char *const[]) { "outbox", "--json", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  needle = g_strdup_printf ("\"state\":\"sent\",\"message_id\":\"%s\"", id);
  g_assert_nonnull (strstr (out, needle));
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "0 messages sent\n");
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  dir = g_strdup (tern_test_servers_get_dir (servers));
  password_file = g_build_filename (dir, "password0", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);
  wrong_password_file = g_build_filename (dir, "wrong-password", NULL);
  g_file_set_contents (wrong_password_file, "not-the-password", -1, &error);
  g_assert_no_error (error);

  g_test_add ("/tern/outbox/send-465", Fixture, &setup_465, fixture_setup, test_send,
              fixture_teardown);
  g_test_add ("/tern/outbox/send-587", Fixture, &setup_587, fixture_setup, test_send,
              fixture_teardown);
  g_test_add ("/tern/outbox/message-id-added", Fixture, &setup_465, fixture_setup,
              test_message_id_added, fixture_teardown);
  g_test_add ("/tern/outbox/refused-recipient", Fixture, &setup_465, fixture_setup,
              test_refused_recipient, fixture_teardown);
  g_test_add ("/tern/outbox/wrong-password", Fixture, &setup_wrong, fixture_setup,
              test_wrong_password, fixture_teardown);
  g_test_add ("/tern/outbox/crash-while-sending", Fixture, &setup_465, fixture_setup,
              test_crash_while_sending, fixture_teardown);
  g_test_add ("/tern/outbox/cli", Fixture, &setup_587, fixture_setup, test_cli,
              fixture_teardown);
  g_test_add ("/tern/outbox/postfix-down", Fixture, &setup_587, fixture_setup, test_postfix_down,
              fixture_teardown);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  g_free (wrong_password_file);
  return status;
}
