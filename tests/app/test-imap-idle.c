/* test-imap-idle.c: TernImapIdle and tern-cli idle against the real Dovecot
 * of tests/servers/, with mail delivered over LMTP as a mail server would.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "tern-context.h"
#include "tern-imap-idle.h"
#include "tern-mail-store.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

/* Generous for a loaded machine, but a poll every few seconds fails it. */
#define EVENT_BOUND_US (2 * G_USEC_PER_SEC)

static TernTestServers *servers;
static char *dovecot_conf;
static char *password_file;

#define USER (tern_test_servers_get_user (servers, 0))

/* LMTP (RFC 2033), the way Postfix hands mail to Dovecot. */

static char *
lmtp_read (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line;

  /* Multi-line replies: "250-..." until "250 ...". */
  for (;;)
    {
      line = g_data_input_stream_read_line (in, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (strlen (line) < 4 || line[3] != '-')
        return line;
      g_free (line);
    }
}

static void
lmtp_expect (GDataInputStream *in,
             const char       *code)
{
  g_autofree char *line = lmtp_read (in);

  if (!g_str_has_prefix (line, code))
    g_error ("LMTP: expected %s, got %s", code, line);
}

static void
lmtp_send (GOutputStream *out,
           const char    *text)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (out, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
deliver (const char *subject,
         const char *message_id)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>\r\n", USER);
  g_autofree char *data = NULL;
  GOutputStream *out;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                tern_test_servers_get_port (servers,
                                                                            TERN_TEST_SERVICE_LMTP),
                                                NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  lmtp_expect (in, "220");
  lmtp_send (out, "LHLO tern.test\r\n");
  lmtp_expect (in, "250");
  lmtp_send (out, "MAIL FROM:<bob@tern.test>\r\n");
  lmtp_expect (in, "250");
  lmtp_send (out, rcpt);
  lmtp_expect (in, "250");
  lmtp_send (out, "DATA\r\n");
  lmtp_expect (in, "354");
  data = g_strdup_printf ("From: Bob <bob@tern.test>\r\n"
                          "To: Alice <%s>\r\n"
                          "Subject: %s\r\n"
                          "Message-ID: <%s>\r\n"
                          "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                          "\r\n"
                          "Pushed, not polled.\r\n"
                          ".\r\n",
                          USER, subject, message_id);
  lmtp_send (out, data);
  lmtp_expect (in, "250");
  lmtp_send (out, "QUIT\r\n");
  lmtp_expect (in, "221");
}

static void
doveadm (const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (char *) "doveadm");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, dovecot_conf);
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("doveadm %s failed: %s", first, err);
}

/* Fixture: a profile with alice's account and her INBOX in the store. */

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernAccount *account;
  gint64 inbox_id;
  GThread *main_thread;

  /* What the watcher reported. */
  guint32 new_uid;
  gint64 new_id;
  char *new_subject;
  gint64 new_at;
  guint n_new;
  guint32 expunged_uid;
  guint32 flags_uid;
  guint flags;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernMailFolder) inbox = tern_mail_folder_new ();
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  fixture->main_thread = g_thread_self ();
  fixture->dir = tern_test_make_tmpdir ("tern-imap-idle-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  server = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (USER);
  account = tern_account_new (USER, USER, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;

  inbox->account_id = tern_account_get_id (account);
  inbox->name = g_strdup ("INBOX");
  inbox->role = g_strdup ("inbox");
  fixture->inbox_id = tern_mail_store_upsert_folder (tern_context_get_store (fixture->context),
                                                     inbox, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
  g_free (fixture->new_subject);
}

static void
new_message_cb (TernImapIdle *idle,
                guint         uid,
                gint64        message_id,
                const char   *subject,
                Fixture      *fixture)
{
  g_assert_true (g_thread_self () == fixture->main_thread);
  fixture->new_at = g_get_monotonic_time ();
  fixture->new_uid = uid;
  fixture->new_id = message_id;
  g_free (fixture->new_subject);
  fixture->new_subject = g_strdup (subject);
  fixture->n_new++;
}

static void
expunged_cb (TernImapIdle *idle,
             guint         uid,
             Fixture      *fixture)
{
  g_assert_true (g_thread_self () == fixture->main_thread);
  fixture->expunged_uid = uid;
}

static void
flags_changed_cb (TernImapIdle *idle,
                  guint         uid,
                  guint         flags,
                  Fixture      *fixture)
{
  g_assert_true (g_thread_self () == fixture->main_thread);
  fixture->flags_uid = uid;
  fixture->flags = flags;
}

/* Iterates the main context until @done says so or @timeout_us pass. */
static gboolean
wait_until (gboolean (*done) (Fixture *fixture, gpointer data),
            Fixture   *fixture,
            gpointer   data,
            gint64     timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (!done (fixture, data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (2000);
  return done (fixture, data);
}

static gboolean
is_connected (Fixture *fixture,
              gpointer data)
{
  return tern_imap_idle_get_connected (data);
}

static gboolean
has_new (Fixture *fixture,
         gpointer data)
{
  return fixture->n_new >= GPOINTER_TO_UINT (data);
}

static gboolean
has_expunged (Fixture *fixture,
              gpointer data)
{
  return fixture->expunged_uid == GPOINTER_TO_UINT (data);
}

static gboolean
has_flags (Fixture *fixture,
           gpointer data)
{
  return fixture->flags_uid == GPOINTER_TO_UINT (data) && (fixture->flags & TERN_IMAP_FLAG_FLAGGED);
}

static gboolean
has_error (Fixture *fixture,
           gpointer data)
{
  return tern_imap_idle_get_last_error (data) != NULL;
}

static gboolean
has_stopped (Fixture *fixture,
             gpointer data)
{
  return !tern_imap_idle_get_running (data);
}

static gboolean
never (Fixture *fixture,
       gpointer data)
{
  return FALSE;
}

/* Delivers a message and returns how long it took to be announced. */
static gint64
deliver_and_wait (Fixture    *fixture,
                  const char *subject,
                  const char *message_id)
{
  guint wanted = fixture->n_new + 1;
  gint64 start = g_get_monotonic_time ();

  deliver (subject, message_id);
  g_assert_true (wait_until (has_new, fixture, GUINT_TO_POINTER (wanted), 10 * G_USEC_PER_SEC));
  return fixture->new_at - start;
}

static void
test_events (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(TernImapIdle) idle = tern_imap_idle_new (fixture->context, fixture->account, NULL);
  g_autoptr(TernMailMessage) stored = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  gint64 latency, start;
  guint cycles, n_new;

  /* IDLE re-issued every second, to see it renewed within the test. */
  tern_imap_idle_set_intervals (idle, 1, 1, 100);
  g_signal_connect (idle, "new-message", G_CALLBACK (new_message_cb), fixture);
  g_signal_connect (idle, "expunged", G_CALLBACK (expunged_cb), fixture);
  g_signal_connect (idle, "flags-changed", G_CALLBACK (flags_changed_cb), fixture);
  tern_imap_idle_start (idle);
  g_assert_true (wait_until (is_connected, fixture, idle, 10 * G_USEC_PER_SEC));
  g_assert_true (tern_imap_idle_get_uses_idle (idle));
  g_assert_null (tern_imap_idle_get_last_error (idle));

  latency = deliver_and_wait (fixture, "Hello IDLE", "idle-1@tern.test");
  g_test_message ("first message announced %.3f s after delivery", latency / 1e6);
  g_assert_cmpint (latency, <, EVENT_BOUND_US);
  g_assert_cmpstr (fixture->new_subject, ==, "Hello IDLE");
  /* Its headers are in the store. */
  stored = tern_mail_store_get_message (tern_context_get_store (fixture->context), fixture->new_id,
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->uid, ==, fixture->new_uid);
  g_assert_cmpstr (stored->message_id, ==, "idle-1@tern.test");

  /* After a few renewals of IDLE, mail still comes at once. */
  cycles = tern_imap_idle_get_cycles (idle);
  wait_until (never, fixture, NULL, 2500 * 1000);
  g_assert_cmpuint (tern_imap_idle_get_cycles (idle), >=, cycles + 2);
  latency = deliver_and_wait (fixture, "Second", "idle-2@tern.test");
  g_test_message ("after %u IDLE renewals: announced %.3f s after delivery",
                  tern_imap_idle_get_cycles (idle), latency / 1e6);
  g_assert_cmpint (latency, <, EVENT_BOUND_US);
  g_assert_cmpstr (fixture->new_subject, ==, "Second");

  /* Another client flags and expunges it. */
  uid = g_strdup_printf ("%u", fixture->new_uid);
  start = g_get_monotonic_time ();
  doveadm ("flags", "add", "-u", USER, "\\Flagged", "mailbox", "INBOX", "uid", uid, NULL);
  g_assert_true (wait_until (has_flags, fixture, GUINT_TO_POINTER (fixture->new_uid),
                             EVENT_BOUND_US));
  doveadm ("expunge", "-u", USER, "mailbox", "INBOX", "uid", uid, NULL);
  g_assert_true (wait_until (has_expunged, fixture, GUINT_TO_POINTER (fixture->new_uid),
                             EVENT_BOUND_US));
  g_test_message ("flag change and expunge announced within %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);

  /* Stopping is prompt, and nothing comes afterwards. */
  start = g_get_monotonic_time ();
  tern_imap_idle_stop (idle);
  g_test_message ("stopped in %.3f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  g_assert_false (tern_imap_idle_get_connected (idle));
  n_new = fixture->n_new;
  deliver ("After stop", "idle-3@tern.test");
  wait_until (never, fixture, NULL, 500 * 1000);
  g_assert_cmpuint (fixture->n_new, ==, n_new);
  g_signal_handlers_disconnect_by_data (idle, fixture);
  g_assert_finalize_object (g_steal_pointer (&idle));
}

static gboolean
is_disconnected (Fixture *fixture,
                 gpointer data)
{
  return !tern_imap_idle_get_connected (data) && tern_imap_idle_get_last_error (data) != NULL;
}

static void
test_polling (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(TernImapIdle) idle = tern_imap_idle_new (fixture->context, fixture->account, "INBOX");
  gint64 latency;

  /* As with a server without IDLE: NOOP every second. */
  tern_imap_idle_set_use_idle (idle, FALSE);
  tern_imap_idle_set_intervals (idle, 1, 1, 100);
  g_signal_connect (idle, "new-message", G_CALLBACK (new_message_cb), fixture);
  tern_imap_idle_start (idle);
  g_assert_true (wait_until (is_connected, fixture, idle, 10 * G_USEC_PER_SEC));
  g_assert_false (tern_imap_idle_get_uses_idle (idle));

  latency = deliver_and_wait (fixture, "Polled", "idle-poll@tern.test");
  g_test_message ("polling every 1 s: announced %.3f s after delivery", latency / 1e6);
  g_assert_cmpint (latency, <, EVENT_BOUND_US);
  g_assert_cmpstr (fixture->new_subject, ==, "Polled");
  g_assert_cmpuint (tern_imap_idle_get_cycles (idle), ==, 0);
  tern_imap_idle_stop (idle);
  g_signal_handlers_disconnect_by_data (idle, fixture);
}

static void
test_reconnect (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(TernImapIdle) idle = tern_imap_idle_new (fixture->context, fixture->account, NULL);
  gint64 latency, start;

  tern_imap_idle_set_intervals (idle, 60, 1, 100);
  g_signal_connect (idle, "new-message", G_CALLBACK (new_message_cb), fixture);
  tern_imap_idle_start (idle);
  g_assert_true (wait_until (is_connected, fixture, idle, 10 * G_USEC_PER_SEC));

  /* The server goes away: the watcher notices, says why, and comes back
   * by itself once the server is back. */
  {
    g_autoptr(GError) stop_error = NULL;

    tern_test_servers_stop_dovecot (servers, &stop_error);
    g_assert_no_error (stop_error);
  }
  g_assert_true (wait_until (is_disconnected, fixture, idle, 30 * G_USEC_PER_SEC));
  g_test_message ("disconnected: %s", tern_imap_idle_get_last_error (idle));
  {
    g_autoptr(GError) start_error = NULL;

    tern_test_servers_start_dovecot (servers, &start_error);
    g_assert_no_error (start_error);
  }
  start = g_get_monotonic_time ();
  g_assert_true (wait_until (is_connected, fixture, idle, 15 * G_USEC_PER_SEC));
  g_test_message ("reconnected %.3f s after the server was back",
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_null (tern_imap_idle_get_last_error (idle));

  latency = deliver_and_wait (fixture, "After the outage", "idle-back@tern.test");
  g_assert_cmpint (latency, <, EVENT_BOUND_US);
  g_assert_cmpstr (fixture->new_subject, ==, "After the outage");
  tern_imap_idle_stop (idle);
  g_signal_handlers_disconnect_by_data (idle, fixture);
}

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(TernImapIdle) idle = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wrong = g_build_filename (fixture->dir, "wrong", NULL);
  g_autofree char *command = g_strdup_printf ("cat '%s'", wrong);

  g_file_set_contents (wrong, "not the password", -1, &error);
  g_assert_no_error (error);
  tern_account_set_password_command (fixture->account, command);
  idle = tern_imap_idle_new (fixture->context, fixture->account, NULL);
  tern_imap_idle_set_intervals (idle, 1, 1, 50);
  tern_imap_idle_start (idle);

  /* Refused: an error to show, and no retries hammering the server. */
  g_assert_true (tern_imap_idle_get_running (idle));
  g_assert_true (wait_until (has_error, fixture, idle, 10 * G_USEC_PER_SEC));
  g_assert_false (tern_imap_idle_get_connected (idle));
  g_assert_true (wait_until (has_stopped, fixture, idle, 10 * G_USEC_PER_SEC));
  tern_imap_idle_stop (idle);
}

/* tern-cli idle */

typedef struct
{
  char *line;
  gboolean done;
} LineRead;

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineRead *read = user_data;

  read->line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL,
                                                     NULL);
  read->done = TRUE;
}

static gboolean
line_done (Fixture *fixture,
           gpointer data)
{
  return ((LineRead *) data)->done;
}

/* The next line from @in that starts with @prefix, within @timeout_us. */
static char *
read_line_starting (Fixture          *fixture,
                    GDataInputStream *in,
                    const char       *prefix,
                    gint64            timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  for (;;)
    {
      LineRead read = { 0 };

      g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT, NULL, line_read_cb, &read);
      if (!wait_until (line_done, fixture, &read, MAX (end - g_get_monotonic_time (), 1)))
        g_error ("no line starting with “%s” in time", prefix);
      if (read.line == NULL)
        g_error ("tern-cli idle ended before printing “%s”", prefix);
      if (g_str_has_prefix (read.line, prefix))
        return read.line;
      g_free (read.line);
    }
}

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(GSubprocess) cli = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *watching = NULL;
  g_autofree char *line = NULL;
  gint64 start;

  cli = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error,
                          g_getenv ("TERN_CLI"), "--profile", fixture->profile, "--ca-file",
                          tern_test_servers_get_ca_file (servers), "idle", "--account", USER, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (cli));

  watching = read_line_starting (fixture, out, "tern-cli: watching INBOX", 20 * G_USEC_PER_SEC);
  start = g_get_monotonic_time ();
  deliver ("Through the CLI", "idle-cli@tern.test");
  line = read_line_starting (fixture, out, "new uid=", 10 * G_USEC_PER_SEC);
  g_test_message ("tern-cli idle printed “%s” %.3f s after delivery", line,
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - start, <, EVENT_BOUND_US);
  g_assert_nonnull (strstr (line, "folder=INBOX"));
  g_assert_nonnull (strstr (line, "subject=Through the CLI"));

  /* SIGTERM ends it cleanly. */
  start = g_get_monotonic_time ();
  g_subprocess_send_signal (cli, SIGTERM);
  g_subprocess_wait_check (cli, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
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

#define ADD(path, func) \
  g_test_add ("/tern/imap-idle/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("events", test_events);
  ADD ("polling", test_polling);
  ADD ("reconnect", test_reconnect);
  ADD ("wrong-password", test_wrong_password);
  ADD ("cli", test_cli);
#undef ADD

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  g_free (dovecot_conf);
  return status;
}
