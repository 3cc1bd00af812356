/* test-outbox.c: the outbox against real Postfix and Dovecot: delivery over
 * 465 and 587, Bcc, the Sent copy (IMAP, POP3, none), an outage, a refused
 * sign-in, a refused recipient, a message over SIZE, a row left `sending`
 * by a crash and tern-cli killed during DATA (at most once), flushes
 * scheduled on a main loop, "send now", and tern-cli sync flushing.  A
 * flush cancelled while the server holds back its answer runs against a
 * scripted server (tests/protocol/test-fake-server.h): Postfix cannot be
 * told to wait.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#include "tern-context.h"
#include "tern-app-error.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox.h"
#include "tern-smtp-client.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"
#include "test-fake-server.h"

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
  gboolean pop3;
} Setup;

static const Setup setup_465 = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, FALSE, FALSE };
static const Setup setup_587 = { TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS, FALSE, FALSE };
static const Setup setup_wrong = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, TRUE, FALSE };
static const Setup setup_pop3 = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, FALSE, TRUE };

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
                              tern_test_servers_get_port (servers, setup->pop3
                                                                     ? TERN_TEST_SERVICE_POP3S
                                                                     : TERN_TEST_SERVICE_IMAPS),
                              TERN_TLS_MODE_IMPLICIT);
  incoming->username = g_strdup (ALICE);
  outgoing = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, setup->service),
                              setup->mode);
  outgoing->username = g_strdup (ALICE);
  account = tern_account_new (ALICE, ALICE,
                              setup->pop3 ? TERN_ACCOUNT_PROTOCOL_POP3 : TERN_ACCOUNT_PROTOCOL_IMAP,
                              incoming, outgoing);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = tern_account_manager_lookup (tern_context_get_accounts (fixture->context),
                                                  ALICE);
  g_assert_nonnull (fixture->account);
  if (!setup->wrong_password && !setup->pop3)
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

/* A Message-ID no earlier test used: Dovecot's mailboxes outlive a test. */
static char *
new_message_id (const char *what)
{
  return g_strdup_printf ("%s-%" G_GINT64_FORMAT "@tern.test", what, g_get_real_time ());
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

static char *
set_sending (gint64 row_id)
{
  return g_strdup_printf ("UPDATE outbox SET state = 'sending' WHERE id = %" G_GINT64_FORMAT,
                          row_id);
}

/* As if an attempt had failed: due in @seconds. */
static void
postpone (Fixture *fixture,
          gint64   row_id,
          gint64   seconds)
{
  g_autofree char *update = g_strdup_printf ("UPDATE outbox SET next_attempt = %" G_GINT64_FORMAT
                                             ", attempts = 1 WHERE id = %" G_GINT64_FORMAT,
                                             g_get_real_time () / G_USEC_PER_SEC + seconds,
                                             row_id);

  sql (fixture, update);
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
  g_autofree char *id = new_message_id ("outbox-down");
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
  g_autofree char *id = new_message_id ("outbox-auth");
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
  g_autofree char *id = new_message_id ("outbox-refused");
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
  g_autofree char *id = new_message_id ("outbox-crash");
  g_autofree char *id2 = new_message_id ("outbox-crash2");
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
  g_autofree char *id = new_message_id ("outbox-cli");
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

/* Scheduled flushes, on a main loop as in the UI. */

typedef struct
{
  Fixture *fixture;
  gint64 row_id;
  TernOutboxState state;
  guint min_attempts;
  GMainLoop *loop;
  gboolean reached;
} Wait;

static gboolean
wait_check_cb (gpointer data)
{
  Wait *wait = data;
  g_autoptr(TernOutboxEntry) row = entry (wait->fixture, wait->row_id);

  if (row->state != wait->state || row->attempts < wait->min_attempts)
    return G_SOURCE_CONTINUE;
  wait->reached = TRUE;
  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_give_up_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until row @row_id is in @state after at least
 * @min_attempts attempts; fails after a minute. */
static void
run_until (Fixture         *fixture,
           gint64           row_id,
           TernOutboxState  state,
           guint            min_attempts)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait wait = { fixture, row_id, state, min_attempts, loop, FALSE };
  guint check = g_timeout_add (20, wait_check_cb, &wait);
  guint give_up = g_timeout_add_seconds (60, wait_give_up_cb, loop);

  g_main_loop_run (loop);
  if (!wait.reached)
    g_source_remove (check);
  g_source_remove (give_up);
  g_assert_true (wait.reached);
}

/* Lets the flush jobs still running return: each holds a reference to
 * the context until its callback ran on this main context. */
static void
drain_jobs (Fixture *fixture)
{
  while (g_atomic_int_get (&G_OBJECT (fixture->context)->ref_count) > 1)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_schedule (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-schedule");
  g_autofree char *text = make_message (id, BOB, NULL);
  gint64 row_id = enqueue (fixture, text);

  tern_outbox_schedule (fixture->context, fixture->account);
  /* Asked again while the first flush runs: one more flush, no resend. */
  tern_outbox_schedule (fixture->context, fixture->account);
  run_until (fixture, row_id, TERN_OUTBOX_STATE_SENT, 0);
  drain_jobs (fixture);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

typedef struct
{
  gboolean done;
  gboolean ok;
  guint n_sent;
  GError *error;
} AsyncResult;

static void
flush_async_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  AsyncResult *out = user_data;

  out->ok = tern_outbox_flush_finish (TERN_CONTEXT (source), result, &out->n_sent, &out->error);
  out->done = TRUE;
}

static void
test_flush_async (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-async");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id = enqueue (fixture, text);
  AsyncResult result = { 0 };

  tern_outbox_flush_async (fixture->context, fixture->account, NULL, flush_async_cb, &result);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (result.error);
  g_assert_true (result.ok);
  g_assert_cmpuint (result.n_sent, ==, 1);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  drain_jobs (fixture);
}

/* Postfix down: the scheduled flush leaves the row queued with a reason;
 * the timeout for its next_attempt sends it once Postfix is back. */
static void
test_schedule_retry (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-retry");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 row_id;

  tern_test_servers_stop_postfix (servers, &error);
  g_assert_no_error (error);
  row_id = enqueue (fixture, text);
  tern_outbox_schedule (fixture->context, fixture->account);
  run_until (fixture, row_id, TERN_OUTBOX_STATE_QUEUED, 1);
  drain_jobs (fixture);
  row = entry (fixture, row_id);
  g_assert_nonnull (row->last_error);
  g_test_message ("scheduled while Postfix is down: %s", row->last_error);

  tern_test_servers_start_postfix (servers, &error);
  g_assert_no_error (error);
  /* A backoff of two seconds instead of thirty; scheduling again arms the
   * timeout for it (the flush itself finds nothing due). */
  postpone (fixture, row_id, 2);
  tern_outbox_schedule (fixture->context, fixture->account);
  run_until (fixture, row_id, TERN_OUTBOX_STATE_SENT, 1);
  drain_jobs (fixture);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

/* Send now */

static void
test_retry_now (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-now");
  g_autofree char *id2 = new_message_id ("outbox-now2");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *text2 = make_message (id2, BOB, NULL);
  g_autofree char *update = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 row_id = enqueue (fixture, text);
  gint64 row_id2;

  /* Interrupted: failed, may have been sent; only the user may insist. */
  update = set_sending (row_id);
  sql (fixture, update);
  flush (fixture, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_true (row->may_have_been_sent);
  g_clear_pointer (&row, tern_outbox_entry_free);
  g_assert_false (tern_outbox_retry_now (store (fixture), row_id, FALSE, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_test_message ("without force: %s", error->message);
  g_clear_error (&error);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_clear_pointer (&row, tern_outbox_entry_free);
  g_assert_true (tern_outbox_retry_now (store (fixture), row_id, TRUE, &error));
  g_assert_no_error (error);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_assert_false (row->may_have_been_sent);
  g_clear_pointer (&row, tern_outbox_entry_free);
  flush (fixture, 1);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);

  /* Sent: nothing to retry. */
  g_assert_false (tern_outbox_retry_now (store (fixture), row_id, TRUE, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (tern_outbox_retry_now (store (fixture), 999999, FALSE, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Waiting for its backoff: sent now. */
  row_id2 = enqueue (fixture, text2);
  postpone (fixture, row_id2, 3600);
  flush (fixture, 0);
  g_assert_true (tern_outbox_retry_now (store (fixture), row_id2, FALSE, &error));
  g_assert_no_error (error);
  flush (fixture, 1);
  g_assert_cmpuint (wait_in_maildir (1, "", id2, NULL), ==, 1);
}

/* A failure that did not send (a refused sign-in) goes back to the queue
 * without force. */
static void
test_retry_failed (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-refail");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GError) error = NULL;
  gint64 row_id = enqueue (fixture, text);

  g_assert_false (tern_outbox_flush (fixture->context, fixture->account, NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_false (row->may_have_been_sent);
  g_clear_pointer (&row, tern_outbox_entry_free);

  g_assert_true (tern_outbox_retry_now (store (fixture), row_id, FALSE, &error));
  g_assert_no_error (error);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_assert_null (row->last_error);
  g_assert_cmpint (row->next_attempt, ==, 0);
}

/* SIZE: refused before a byte of the message is sent, kept as failed. */
static void
test_too_big (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-big");
  g_autofree char *head = make_message (id, BOB, NULL);
  g_autoptr(GString) text = g_string_new (head);
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GBytes) kept = NULL;
  const char *line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
  gint64 row_id;

  /* Postfix's message_size_limit in tern-test-servers is 50 MiB. */
  while (text->len <= 51 * 1024 * 1024)
    g_string_append (text, line);
  row_id = enqueue (fixture, text->str);
  flush (fixture, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_false (row->may_have_been_sent);
  g_assert_nonnull (row->last_error);
  /* Tern's own check against SIZE: nothing went out. */
  g_assert_nonnull (strstr (row->last_error, "it was not sent"));
  g_test_message ("too big: %s", row->last_error);
  kept = tern_outbox_get_data (store (fixture), row_id, NULL);
  g_assert_cmpuint (g_bytes_get_size (kept), >, 51 * 1024 * 1024);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 0);
}

/* Sent copies */

static void
test_sent_copy_never (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-nocopy");
  g_autofree char *text = make_message (id, BOB, NULL);
  TernOutboxOptions options = { TERN_OUTBOX_SENT_COPY_NEVER };
  TernOutboxOptions loaded = { TERN_OUTBOX_SENT_COPY_AUTO };
  g_autoptr(GError) error = NULL;
  gint64 account_id = tern_account_get_id (fixture->account);

  g_assert_true (tern_outbox_options_save (store (fixture), account_id, &options, &error));
  g_assert_no_error (error);
  g_assert_true (tern_outbox_options_load (store (fixture), account_id, &loaded, &error));
  g_assert_cmpint (loaded.save_sent_copy, ==, TERN_OUTBOX_SENT_COPY_NEVER);

  enqueue (fixture, text);
  flush (fixture, 1);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  /* No APPEND was even queued. */
  g_assert_cmpint (tern_offline_queue_count (store (fixture), account_id, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (count_in_maildir (0, ".Sent", id, NULL), ==, 0);
}

static TernAccount *
account_with_smtp (const char *host)
{
  g_autoptr(TernServer) incoming = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernServer) outgoing = tern_server_new (host, 465, TERN_TLS_MODE_IMPLICIT);

  return tern_account_new ("A", "a@example.org", TERN_ACCOUNT_PROTOCOL_IMAP, incoming, outgoing);
}

static void
test_sent_copy_auto (void)
{
  const char *const provider_files[] = { "smtp.gmail.com", "SMTP.GoogleMail.com",
                                         "smtp.office365.com", "outlook.office365.com" };
  const char *const tern_files[] = { "smtp.example.org", "gmail.com.example.org",
                                     "notgmail.com", "127.0.0.1" };

  for (guint i = 0; i < G_N_ELEMENTS (provider_files); i++)
    {
      g_autoptr(TernAccount) account = account_with_smtp (provider_files[i]);

      g_assert_false (tern_outbox_wants_sent_copy (account, TERN_OUTBOX_SENT_COPY_AUTO));
      g_assert_true (tern_outbox_wants_sent_copy (account, TERN_OUTBOX_SENT_COPY_ALWAYS));
    }
  for (guint i = 0; i < G_N_ELEMENTS (tern_files); i++)
    {
      g_autoptr(TernAccount) account = account_with_smtp (tern_files[i]);

      g_assert_true (tern_outbox_wants_sent_copy (account, TERN_OUTBOX_SENT_COPY_AUTO));
      g_assert_false (tern_outbox_wants_sent_copy (account, TERN_OUTBOX_SENT_COPY_NEVER));
    }
}

static void
test_pop3_sent_copy (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-pop3");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *out = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(TernMailFolder) sent = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GBytes) copy = NULL;
  g_autoptr(GBytes) transmitted = NULL;
  g_autoptr(GError) error = NULL;
  TernMailMessage *message;
  gint64 row_id = enqueue (fixture, text);
  int status = -1;

  /* tern-cli sync downloads the POP3 account, then flushes its outbox. */
  out = run_cli (fixture, (const char *const[]) { "sync", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "outbox: 1 sent, 0 waiting"));
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);

  /* The copy is in the local Sent folder, \Seen, the bytes as sent. */
  sent = tern_mail_store_find_folder_by_role (store (fixture), tern_account_get_id (fixture->account),
                                              "sent", &error);
  g_assert_no_error (error);
  messages = tern_mail_store_list_messages (store (fixture), sent->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  message = g_ptr_array_index (messages, 0);
  g_assert_nonnull (strstr (message->message_id, id));
  g_assert_true (message->flags & TERN_IMAP_FLAG_SEEN);
  copy = tern_mail_store_get_body (store (fixture), message->id, &error);
  g_assert_no_error (error);
  transmitted = tern_outbox_get_data (store (fixture), row_id, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (copy, transmitted));
  /* POP3 has no Sent folder on the server: nothing was appended there. */
  g_assert_cmpuint (count_in_maildir (0, ".Sent", id, NULL), ==, 0);
}

static void
test_sync_flushes (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-sync");
  g_autofree char *id2 = new_message_id ("outbox-sync2");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *text2 = make_message (id2, BOB, NULL);
  g_autofree char *out = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id = enqueue (fixture, text);
  int status = -1;

  out = run_cli (fixture,
                 (const char *const[]) { "sync", "--account", ALICE, "--bodies", "none", NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "outbox: 1 sent, 0 waiting"));
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_clear_pointer (&out, g_free);

  enqueue (fixture, text2);
  out = run_cli (fixture,
                 (const char *const[]) { "sync", "--account", ALICE, "--bodies", "none", "--json",
                                         NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\"outbox_sent\":1,\"outbox_waiting\":0}"));
  g_assert_cmpuint (wait_in_maildir (1, "", id2, NULL), ==, 1);
  /* The Sent copies were appended by the flush's replay. */
  g_assert_cmpuint (wait_in_maildir (0, ".Sent", id, NULL), ==, 1);
}

static void
test_cli_retry (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-cliretry");
  g_autofree char *id2 = new_message_id ("outbox-clinow");
  g_autofree char *text = make_message (id, BOB, NULL);
  g_autofree char *text2 = make_message (id2, BOB, NULL);
  g_autofree char *update = NULL;
  g_autofree char *number = NULL;
  g_autofree char *out = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  gint64 row_id = enqueue (fixture, text);
  gint64 row_id2;
  int status = -1;

  update = set_sending (row_id);
  sql (fixture, update);
  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "0 messages sent\n");
  g_clear_pointer (&out, g_free);

  number = g_strdup_printf ("%" G_GINT64_FORMAT, row_id);
  out = run_cli (fixture, (const char *const[]) { "outbox", "retry", number, NULL }, &status);
  g_assert_cmpint (status, !=, 0);
  row = entry (fixture, row_id);
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_clear_pointer (&row, tern_outbox_entry_free);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 0);
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture, (const char *const[]) { "outbox", "retry", number, "--force", NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\tsent\t"));
  g_assert_cmpuint (wait_in_maildir (1, "", id, NULL), ==, 1);
  g_clear_pointer (&out, g_free);

  /* flush honours the backoff, flush --now does not. */
  row_id2 = enqueue (fixture, text2);
  postpone (fixture, row_id2, 3600);
  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "0 messages sent\n");
  g_clear_pointer (&out, g_free);
  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", "--now", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "1 message sent\n");
  g_assert_cmpuint (wait_in_maildir (1, "", id2, NULL), ==, 1);
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpuint (count_in_maildir (1, "", id, NULL), ==, 1);
}

/* The row's state as another process sees it, read-only; NULL when there
 * is no row yet. */
static char *
peek_state (sqlite3    *db,
            const char *message_id)
{
  sqlite3_stmt *stmt = NULL;
  char *state = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT state FROM outbox WHERE message_id_header = ?", -1, &stmt,
                          NULL) != SQLITE_OK)
    return NULL; /* the schema is not there yet */
  sqlite3_bind_text (stmt, 1, message_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    state = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return state;
}

/* tern-cli send killed (SIGKILL) while the data of a 20 MB message goes
 * out: whatever the moment, the recipient has it at most once, and the
 * row is either sent (its copy is in Sent) or failed as "may have been
 * sent", never sent again by a flush. */
static void
test_kill_during_data (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *id = new_message_id ("outbox-kill");
  g_autofree char *head = make_message (id, BOB, NULL);
  g_autoptr(GString) text = g_string_new (head);
  g_autofree char *file = g_build_filename (fixture->dir, "big.eml", NULL);
  g_autofree char *out = NULL;
  g_autofree char *state = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernOutboxEntry) row = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  const char *argv[] = { g_getenv ("TERN_CLI"), "--profile", fixture->profile, "--ca-file",
                         tern_test_servers_get_ca_file (servers), "send", "--account", ALICE,
                         file, NULL };
  sqlite3 *db = NULL;
  GPid pid = 0;
  gint64 end;
  guint delivered;
  int status = -1;

  while (text->len < 20 * 1024 * 1024)
    g_string_append (text, "A line of a big message, long enough to make its data take a while.\r\n");
  g_file_set_contents (file, text->str, text->len, &error);
  g_assert_no_error (error);

  g_spawn_async (NULL, (char **) argv, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open_v2 (tern_store_get_path (store (fixture)), &db,
                                    SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  while (g_strcmp0 (state, "sending") != 0 && g_get_monotonic_time () < end)
    {
      g_clear_pointer (&state, g_free);
      state = peek_state (db, id);
      g_assert_cmpstr (state, !=, "sent"); /* too late: the data was not slow enough */
      if (g_strcmp0 (state, "sending") != 0)
        g_usleep (1000);
    }
  g_assert_cmpstr (state, ==, "sending");
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFSIGNALED (status));
  sqlite3_close (db);

  /* The next flush settles the row; it never sends it. */
  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "0 messages sent\n");
  rows = tern_outbox_list (store (fixture), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  row = entry (fixture, ((TernOutboxEntry *) g_ptr_array_index (rows, 0))->id);
  g_test_message ("after the kill: %s %s", tern_outbox_state_to_string (row->state),
                  row->last_error ? row->last_error : "");
  if (row->state == TERN_OUTBOX_STATE_SENT)
    g_assert_cmpuint (wait_in_maildir (0, ".Sent", id, NULL), ==, 1);
  else
    {
      g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
      g_assert_true (row->may_have_been_sent);
      g_assert_nonnull (strstr (row->last_error, "may have been sent"));
    }

  /* At most once in the recipient's mailbox, also after another flush
   * (and time for a delivery in flight to land). */
  g_clear_pointer (&out, g_free);
  out = run_cli (fixture, (const char *const[]) { "outbox", "flush", NULL }, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "0 messages sent\n");
  g_usleep (2 * G_USEC_PER_SEC);
  delivered = count_in_maildir (1, "", id, NULL);
  g_test_message ("the recipient has it %u times", delivered);
  g_assert_cmpuint (delivered, <=, 1);
}

/* A flush cancelled while a scripted server holds back an answer */

typedef struct
{
  TestCerts *certs;
  gboolean hold_at_data; /* no 354: cancelled before the data went out */
  guint mail_commands;   /* MAIL FROM the server saw, over all connections */
} Holding;

static char *
holding_read (FakeTls    *tls,
              const char *expected_prefix)
{
  char *line = fake_tls_read_line (tls);

  g_assert_true (g_str_has_prefix (line, expected_prefix));
  return line;
}

/* Until the client goes away. */
static void
holding_drain (FakeTls *tls)
{
  for (;;)
    {
      g_autofree char *line = fake_tls_read_line (tls);

      if (*line == '\0')
        return;
    }
}

static void
holding_script (FakeServer *server,
                int         fd)
{
  Holding *holding = server->data;
  FakeTls tls = { 0 };
  g_autofree char *line = NULL;

  g_assert_cmpint (fake_tls_start (&tls, fd, holding->certs->good, holding->certs->key, "NORMAL"),
                   ==, 0);
  fake_tls_write (&tls, "220 fake ESMTP\r\n");
  g_free (holding_read (&tls, "EHLO "));
  fake_tls_write (&tls, "250-fake\r\n250 AUTH PLAIN\r\n");
  g_free (holding_read (&tls, "AUTH PLAIN"));
  fake_tls_write (&tls, "235 2.7.0 Ok\r\n");
  g_free (holding_read (&tls, "MAIL FROM:<alice@tern.test>"));
  holding->mail_commands++;
  fake_tls_write (&tls, "250 2.1.0 Ok\r\n");
  g_free (holding_read (&tls, "RCPT TO:<bob@tern.test>"));
  fake_tls_write (&tls, "250 2.1.5 Ok\r\n");
  g_free (holding_read (&tls, "DATA\r\n"));
  if (!holding->hold_at_data)
    {
      fake_tls_write (&tls, "354 go ahead\r\n");
      do
        {
          g_free (line);
          line = fake_tls_read_line (&tls);
        }
      while (*line != '\0' && strcmp (line, ".\r\n") != 0);
      g_assert_cmpstr (line, ==, ".\r\n");
    }
  /* The end of the data (or DATA) arrived: the test cancels now, and no
   * answer ever comes. */
  fake_step_signal (server, 1);
  holding_drain (&tls);
  fake_tls_finish (&tls);
}

typedef struct
{
  TernContext *context;
  TernAccount *account;
  GCancellable *cancellable;
  GError *error;
} FlushThread;

static gpointer
flush_thread (gpointer data)
{
  FlushThread *flush = data;

  tern_outbox_flush (flush->context, flush->account, NULL, flush->cancellable, &flush->error);
  return NULL;
}

/* Returns the row after one flush cancelled once @server got as far as
 * its script lets it; the account sends through @server alone. */
static TernOutboxEntry *
cancelled_flush (Holding *holding)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FakeServer) server = fake_server_start (holding_script, holding);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-outbox-cancel-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *text = NULL;
  TernContext *context = tern_context_new (profile, &error);
  TernOutboxEntry *row;
  FlushThread flush = { context, NULL, cancellable, NULL };
  GThread *thread;
  guint n_sent = 1;
  gint64 row_id;

  g_assert_no_error (error);
  tern_context_set_ca_file (context, holding->certs->ca_file);
  /* Never connected to: the test sends only. */
  incoming = tern_server_new ("127.0.0.1", server->port, TERN_TLS_MODE_IMPLICIT);
  outgoing = tern_server_new ("127.0.0.1", server->port, TERN_TLS_MODE_IMPLICIT);
  outgoing->username = g_strdup ("alice");
  account = tern_account_new ("Alice", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_IMAP, incoming,
                              outgoing);
  tern_account_set_password_command (account, "echo secret");
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  flush.account = account;

  text = g_strdup_printf ("From: <alice@tern.test>\r\nTo: <bob@tern.test>\r\n"
                          "Subject: Cancelled\r\nMessage-ID: <%s>\r\n\r\nBody.\r\n",
                          holding->hold_at_data ? "cancel-data@tern.test"
                                                : "cancel-end@tern.test");
  bytes = g_bytes_new (text, strlen (text));
  row_id = tern_outbox_enqueue (tern_context_get_store (context), account, bytes, &error);
  g_assert_no_error (error);

  thread = g_thread_new ("flush", flush_thread, &flush);
  fake_step_wait (server, 1);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  fake_server_join (server);
  g_assert_nonnull (flush.error);
  g_test_message ("%s", flush.error->message);
  g_clear_error (&flush.error);
  g_assert_cmpuint (holding->mail_commands, ==, 1);

  /* The server thread is gone: a flush that connected again would fail. */
  tern_outbox_flush (context, account, &n_sent, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, 0);
  g_assert_cmpuint (holding->mail_commands, ==, 1);

  row = tern_outbox_get (tern_context_get_store (context), row_id, &error);
  g_assert_no_error (error);
  g_clear_object (&account);
  g_assert_finalize_object (context);
  tern_test_remove_tree (dir);
  return row;
}

static void
test_cancel_after_data_end (void)
{
  Holding holding = { test_certs_new (), FALSE, 0 };
  g_autoptr(TernOutboxEntry) row = cancelled_flush (&holding);

  /* The server has the whole message: never sent by itself again. */
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_FAILED);
  g_assert_true (row->may_have_been_sent);
  g_assert_nonnull (strstr (row->last_error, "may have been sent"));
  test_certs_free (holding.certs);
}

static void
test_cancel_before_data_end (void)
{
  Holding holding = { test_certs_new (), TRUE, 0 };
  g_autoptr(TernOutboxEntry) row = cancelled_flush (&holding);

  /* Nothing was handed over: back in the queue for a later attempt. */
  g_assert_cmpint (row->state, ==, TERN_OUTBOX_STATE_QUEUED);
  g_assert_false (row->may_have_been_sent);
  test_certs_free (holding.certs);
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
  g_test_add ("/tern/outbox/flush-async", Fixture, &setup_465, fixture_setup, test_flush_async,
              fixture_teardown);
  g_test_add ("/tern/outbox/schedule", Fixture, &setup_465, fixture_setup, test_schedule,
              fixture_teardown);
  g_test_add ("/tern/outbox/retry-now", Fixture, &setup_465, fixture_setup, test_retry_now,
              fixture_teardown);
  g_test_add ("/tern/outbox/retry-failed", Fixture, &setup_wrong, fixture_setup,
              test_retry_failed, fixture_teardown);
  g_test_add ("/tern/outbox/too-big", Fixture, &setup_465, fixture_setup, test_too_big,
              fixture_teardown);
  g_test_add ("/tern/outbox/sent-copy-never", Fixture, &setup_465, fixture_setup,
              test_sent_copy_never, fixture_teardown);
  g_test_add_func ("/tern/outbox/sent-copy-auto", test_sent_copy_auto);
  g_test_add ("/tern/outbox/pop3-sent-copy", Fixture, &setup_pop3, fixture_setup,
              test_pop3_sent_copy, fixture_teardown);
  g_test_add ("/tern/outbox/sync-flushes", Fixture, &setup_587, fixture_setup, test_sync_flushes,
              fixture_teardown);
  g_test_add ("/tern/outbox/cli-retry", Fixture, &setup_587, fixture_setup, test_cli_retry,
              fixture_teardown);
  g_test_add ("/tern/outbox/kill-during-data", Fixture, &setup_587, fixture_setup,
              test_kill_during_data, fixture_teardown);
  g_test_add_func ("/tern/outbox/cancel-after-data-end", test_cancel_after_data_end);
  g_test_add_func ("/tern/outbox/cancel-before-data-end", test_cancel_before_data_end);
  /* Last: they stop and start Postfix. */
  g_test_add ("/tern/outbox/postfix-down", Fixture, &setup_587, fixture_setup, test_postfix_down,
              fixture_teardown);
  g_test_add ("/tern/outbox/schedule-retry", Fixture, &setup_587, fixture_setup,
              test_schedule_retry, fixture_teardown);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  g_free (wrong_password_file);
  return status;
}
