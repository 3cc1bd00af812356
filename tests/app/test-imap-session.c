/* test-imap-session.c: opening an account's IMAP session while its
 * password is looked up, against a scripted server, for what Dovecot
 * cannot be made to do on cue: let a connection go while the password
 * command runs.  (The sign-ins of every other test go through the same
 * code against the real Dovecot.)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tern-app-error.h"
#include "tern-imap-session.h"
#include "tern-test-util.h"
#include "test-fake-server.h"

/* Wait, after the server let the first connection go, before the password
 * command answers: longer than the session's own threshold (a second)
 * with room for a slow machine to read the greeting. */
#define SLOW_PASSWORD_SECONDS "1.6"

typedef struct
{
  TestCerts *certs;
  char *gone_file;     /* made once the first connection is closed */
  guint connections;   /* TLS sessions the server started */
  gboolean signed_in;  /* the client's sign-in reached the server */
} Script;

/* Each connection: a greeting; the first is then closed at once, as a
 * server does to a client that stayed silent too long; a later one
 * accepts the sign-in. */
static void
session_script (FakeServer *server,
                int         fd)
{
  Script *script = server->data;
  FakeTls tls = { 0 };
  g_autofree char *line = NULL;

  /* A connection the test made only to end the script's wait. */
  if (fake_tls_start (&tls, fd, script->certs->good, script->certs->key, "NORMAL") != 0)
    {
      fake_tls_finish (&tls);
      return;
    }
  script->connections++;
  fake_tls_write (&tls, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] fake\r\n");
  if (script->connections == 1)
    {
      gnutls_bye (tls.session, GNUTLS_SHUT_WR);
      fake_tls_finish (&tls);
      g_assert_true (g_file_set_contents (script->gone_file, "", 0, NULL));
      return;
    }
  line = fake_tls_read_line (&tls);
  g_assert_true (g_str_has_prefix (line, "T1 AUTHENTICATE PLAIN "));
  script->signed_in = TRUE;
  fake_tls_write (&tls, "T1 OK [CAPABILITY IMAP4rev1] in\r\n");
  /* Until the client goes away. */
  do
    {
      g_free (line);
      line = fake_tls_read_line (&tls);
    }
  while (*line != '\0');
  fake_tls_finish (&tls);
}

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account;
  FakeServer *server;
  Script script;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;
  g_autoptr(TernServer) incoming = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-imap-session-XXXXXX");
  fixture->script.certs = test_certs_new ();
  fixture->script.gone_file = g_build_filename (fixture->dir, "gone", NULL);
  /* Two connections at most; a test that needs one ends the wait for the
   * second itself. */
  fixture->server = fake_server_start_many (session_script, &fixture->script, 2);

  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, fixture->script.certs->ca_file);
  incoming = tern_server_new ("127.0.0.1", fixture->server->port, TERN_TLS_MODE_IMPLICIT);
  incoming->username = g_strdup ("alice");
  fixture->account = tern_account_new ("Alice", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_IMAP,
                                       incoming, NULL);
}

/* Ends the script's wait for a second connection that never came. */
static void
release_server (Fixture *fixture)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", fixture->server->port, NULL,
                                                &error);
  g_assert_no_error (error);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  fake_server_join (fixture->server);
  fake_server_free (fixture->server);
  g_clear_object (&fixture->account);
  g_assert_finalize_object (fixture->context);
  test_certs_free (fixture->script.certs);
  g_free (fixture->script.gone_file);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* A password command slow enough (it may be asking the user) that the
 * server let the connection made meanwhile go: the session connects again
 * and signs in, with the password it has, without running the command
 * twice. */
static void
test_reconnect_after_slow_password (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autofree char *runs_file = g_build_filename (fixture->dir, "runs", NULL);
  g_autofree char *command = NULL;
  g_autofree char *runs = NULL;
  g_autofree char *password = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;

  command = g_strdup_printf ("echo run >> '%s'; while [ ! -e '%s' ]; do sleep 0.02; done; "
                             "sleep " SLOW_PASSWORD_SECONDS "; echo secret",
                             runs_file, fixture->script.gone_file);
  tern_account_set_password_command (fixture->account, command);

  client = tern_imap_session_open_full (fixture->context, fixture->account, &password, NULL,
                                        &error);
  g_assert_no_error (error);
  g_assert_nonnull (client);
  g_assert_cmpstr (password, ==, "secret");
  g_clear_object (&client);
  fake_server_join (fixture->server);
  g_assert_true (fixture->script.signed_in);
  g_assert_cmpuint (fixture->script.connections, ==, 2);
  g_assert_true (g_file_get_contents (runs_file, &runs, NULL, NULL));
  g_assert_cmpstr (runs, ==, "run\n");
}

/* A server that drops the connection before a quick password is there:
 * its error, and no second attempt (that would be the same). */
static void
test_no_reconnect_after_quick_password (Fixture       *fixture,
                                        gconstpointer  data)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;

  /* The password comes as soon as the server has closed: the session
   * did not wait for it. */
  command = g_strdup_printf ("while [ ! -e '%s' ]; do sleep 0.02; done; echo secret",
                             fixture->script.gone_file);
  tern_account_set_password_command (fixture->account, command);
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_null (client);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == TERN_CONNECTION_ERROR || error->domain == TERN_IMAP_ERROR);
  release_server (fixture);
  fake_server_join (fixture->server);
  g_assert_cmpuint (fixture->script.connections, ==, 1);
  g_assert_false (fixture->script.signed_in);
}

/* The password command's error comes first, as when the password was
 * looked up before connecting; the connection made meanwhile is closed. */
static void
test_password_error_first (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;

  tern_account_set_password_command (fixture->account, "echo 'no password' >&2; exit 3");
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_null (client);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND);
  release_server (fixture);
  fake_server_join (fixture->server);
  g_assert_cmpuint (fixture->script.connections, ==, 1);
  g_assert_false (fixture->script.signed_in);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/imap-session/reconnect-after-slow-password", Fixture, NULL, fixture_set_up,
              test_reconnect_after_slow_password, fixture_tear_down);
  g_test_add ("/tern/imap-session/no-reconnect-after-quick-password", Fixture, NULL,
              fixture_set_up, test_no_reconnect_after_quick_password, fixture_tear_down);
  g_test_add ("/tern/imap-session/password-error-first", Fixture, NULL, fixture_set_up,
              test_password_error_first, fixture_tear_down);
  return g_test_run ();
}
