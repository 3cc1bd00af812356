/* test-pop3-client-fake.c: TernPop3Client against scripted servers, for
 * what a real server cannot be made to do: skip or refuse STLS, inject
 * bytes before the TLS handshake, answer with [IN-USE] or [LOGIN-DELAY],
 * lack UIDL, drop the connection in the middle of a RETR, or send a line
 * without end.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "tern-pop3-client.h"
#include "test-fake-server.h"

static TestCerts *certs;

static TernPop3Client *
client_for (FakeServer  *server,
            TernTlsMode  mode)
{
  g_autoptr(TernConnection) connection = fake_connection_new (server, mode, certs->ca_file);

  return tern_pop3_client_new (connection);
}

static void
assert_no_credentials (FakeServer *server)
{
  g_autofree char *text = fake_received_text (server);

  g_assert_null (strstr (text, "USER"));
  g_assert_null (strstr (text, "PASS"));
  g_assert_null (strstr (text, "AUTH"));
  g_assert_null (strstr (text, "APOP"));
}

/* STLS refused in every way: the client closes without credentials. */

static void
stls_missing_script (FakeServer *server,
                     int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\nUIDL\r\n.\r\n");
  fake_drain (server, fd);
}

static void
stls_err_script (FakeServer *server,
                 int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
  fake_expect_line (server, fd, "STLS\r\n");
  fake_write (fd, "-ERR not today\r\n");
  fake_drain (server, fd);
}

static void
stls_injection_script (FakeServer *server,
                       int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nSTLS\r\nUSER\r\n.\r\n");
  fake_expect_line (server, fd, "STLS\r\n");
  fake_write (fd, "+OK begin TLS\r\n+OK forged\r\n");
  fake_drain (server, fd);
}

static void
run_refused (FakeScript  script,
             GQuark      domain,
             int         code,
             const char *needle)
{
  g_autoptr(FakeServer) server = fake_server_start (script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GError) error = NULL;

  g_assert_false (tern_pop3_client_open (client, NULL, &error));
  g_assert_error (error, domain, code);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
  g_assert_false (tern_connection_is_connected (tern_pop3_client_get_connection (client)));

  /* Whatever the caller tries next, nothing reaches the server. */
  g_clear_error (&error);
  g_assert_false (tern_pop3_client_login (client, "alice", "secret", NULL, NULL, &error));
  g_assert_nonnull (error);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  assert_no_credentials (server);
}

static void
test_stls_missing (void)
{
  run_refused (stls_missing_script, TERN_POP3_ERROR, TERN_POP3_ERROR_STARTTLS_REFUSED,
               "127.0.0.1:");
}

static void
test_stls_err (void)
{
  /* Without the server's words: they came in clear. */
  run_refused (stls_err_script, TERN_POP3_ERROR, TERN_POP3_ERROR_STARTTLS_REFUSED,
               "refused to start encryption (STLS)");
}

static void
test_stls_injection (void)
{
  run_refused (stls_injection_script, TERN_CONNECTION_ERROR,
               TERN_CONNECTION_ERROR_STARTTLS_INJECTION, NULL);
}

/* Response codes while signing in. */

static void
code_script (FakeServer *server,
             int         fd)
{
  g_autofree char *reply = g_strdup_printf ("-ERR %s\r\n", (const char *) server->data);

  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nUSER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n");
  fake_expect_line (server, fd, "USER alice\r\n");
  fake_write (fd, "+OK\r\n");
  fake_expect_line (server, fd, "PASS secret\r\n");
  fake_write (fd, reply);
  fake_drain (server, fd);
}

static void
run_code (const char *reply,
          int         code,
          const char *needle)
{
  g_autoptr(FakeServer) server = fake_server_start (code_script, (gpointer) reply);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_login (client, "alice", "secret", NULL, NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, code);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
test_in_use (void)
{
  run_code ("[IN-USE] Mailbox locked by another session", TERN_POP3_ERROR_IN_USE,
            "Mailbox locked");
}

static void
test_login_delay (void)
{
  run_code ("[LOGIN-DELAY] Wait 5 minutes", TERN_POP3_ERROR_LOGIN_DELAY, "Wait 5 minutes");
}

static void
test_sys_temp (void)
{
  run_code ("[SYS/TEMP] Disk on fire", TERN_POP3_ERROR_TEMPORARY, "Disk on fire");
}

static void
test_auth_code (void)
{
  run_code ("[AUTH] Invalid credentials", TERN_POP3_ERROR_AUTH_FAILED, "Invalid credentials");
}

static void
test_plain_err (void)
{
  run_code ("no", TERN_POP3_ERROR_AUTH_FAILED, "no");
}

/* AUTH with an initial response on the command line, or, when that would
 * pass 255 octets (RFC 5034 §4), after the server's empty challenge. */

static void
check_plain_response (const char *base64,
                      const char *password)
{
  gsize len;
  g_autofree guchar *decoded = g_base64_decode (base64, &len);
  g_autofree char *expected = g_strdup_printf ("alice%c%s", 0, password);
  gsize expected_len = strlen ("alice") + 1 + strlen (password);

  g_assert_cmpuint (len, >=, expected_len);
  g_assert_cmpmem (decoded + len - expected_len, expected_len, expected, expected_len);
}

static void
auth_script (FakeServer *server,
             int         fd)
{
  const char *password = server->data;
  g_autofree char *line = NULL;

  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nSASL PLAIN\r\n.\r\n");
  line = fake_read_line (server, fd);
  if (strlen (password) < 100)
    {
      g_assert_true (g_str_has_prefix (line, "AUTH PLAIN "));
      line[strlen (line) - 2] = '\0';
      check_plain_response (line + strlen ("AUTH PLAIN "), password);
    }
  else
    {
      g_assert_cmpstr (line, ==, "AUTH PLAIN\r\n");
      g_clear_pointer (&line, g_free);
      fake_write (fd, "+ \r\n");
      line = fake_read_line (server, fd);
      line[strlen (line) - 2] = '\0';
      check_plain_response (line, password);
    }
  fake_write (fd, "+OK signed in\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nUIDL\r\nPIPELINING\r\n.\r\n");
  fake_drain (server, fd);
}

static void
run_auth (const char *password)
{
  g_autoptr(FakeServer) server = fake_server_start (auth_script, (gpointer) password);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_login (client, "alice", password, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_pop3_client_has_capability (client, "PIPELINING"));
  g_assert_false (tern_pop3_client_has_capability (client, "SASL"));

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
test_auth_initial_response (void)
{
  run_auth ("secret");
}

static void
test_auth_long_initial_response (void)
{
  g_autofree char *password = g_strnfill (300, 'p');

  run_auth (password);
}

/* A server without UIDL. */

static void
no_uidl_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nTOP\r\nUSER\r\n.\r\n");
  fake_drain (server, fd);
}

static void
test_no_uidl (void)
{
  g_autoptr(FakeServer) server = fake_server_start (no_uidl_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uids = NULL;
  g_autofree char *text = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_has_uidl (client));
  g_assert_true (tern_pop3_client_has_capability (client, "top"));
  uids = tern_pop3_client_uidl (client, NULL, &error);
  g_assert_null (uids);
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  text = fake_received_text (server);
  g_assert_cmpstr (text, ==, "CAPA\r\n");
}

/* An RFC 1939 server: no CAPA, UIDL answered -ERR. */

static void
no_capa_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "+OK hello <1896.697170952@dbc.mtview.ca.us>\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "-ERR what?\r\n");
  fake_expect_line (server, fd, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
  fake_write (fd, "+OK maildrop has 1 message (369 octets)\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "-ERR what?\r\n");
  fake_expect_line (server, fd, "UIDL\r\n");
  fake_write (fd, "-ERR what?\r\n");
  fake_drain (server, fd);
}

static void
test_no_capa (void)
{
  g_autoptr(FakeServer) server = fake_server_start (no_capa_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uids = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_pop3_client_has_apop (client));
  /* The example of RFC 1939 §7. */
  tern_pop3_client_login (client, "mrose", "tanstaaf", "APOP", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_pop3_client_has_uidl (client));
  uids = tern_pop3_client_uidl (client, NULL, &error);
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED);
  g_assert_false (tern_pop3_client_has_uidl (client));

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* Pipelined RETRs with dot-stuffing. */

static void
pipeline_script (FakeServer *server,
                 int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "+OK\r\nPIPELINING\r\nUIDL\r\n.\r\n");
  fake_expect_line (server, fd, "RETR 1\r\n");
  fake_expect_line (server, fd, "RETR 2\r\n");
  fake_expect_line (server, fd, "RETR 3\r\n");
  fake_write (fd, "+OK 1\r\nSubject: one\r\n\r\n..\r\n..x\r\nend\n.\r\n"
                  "-ERR no such message\r\n"
                  "+OK 3\r\nSubject: three\r\n\r\n.\r\n");
  fake_drain (server, fd);
}

static GOutputStream *
begin_cb (guint     number,
          gpointer  user_data,
          GError  **error)
{
  GPtrArray *streams = user_data;
  GOutputStream *stream = g_memory_output_stream_new_resizable ();

  g_assert_cmpuint (number, ==, streams->len + 1);
  g_ptr_array_add (streams, g_object_ref (stream));
  return stream;
}

static char *
stream_text (GOutputStream *stream)
{
  GMemoryOutputStream *memory = G_MEMORY_OUTPUT_STREAM (stream);

  return g_strndup (g_memory_output_stream_get_data (memory),
                    g_memory_output_stream_get_data_size (memory));
}

static void
test_pipeline (void)
{
  g_autoptr(FakeServer) server = fake_server_start (pipeline_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GPtrArray) streams = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  const guint numbers[] = { 1, 2, 3 };

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_retrieve_many (client, numbers, 3, FALSE, begin_cb, NULL,
                                                  streams, NULL, &error));
  /* The -ERR of message 2 is reported; message 3's text is still read. */
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR);
  g_assert_nonnull (strstr (error->message, "no such message"));
  g_assert_cmpuint (streams->len, ==, 1);
  first = stream_text (g_ptr_array_index (streams, 0));
  g_assert_cmpstr (first, ==, "Subject: one\r\n\r\n.\r\n.x\r\nend\r\n");
  g_assert_true (tern_connection_is_connected (tern_pop3_client_get_connection (client)));

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* Broken connections and lines. */

static void
drop_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "-ERR\r\n");
  fake_expect_line (server, fd, "RETR 1\r\n");
  fake_write (fd, "+OK 1000 octets\r\nSubject: cut\r\n\r\nhalf a bo");
}

static void
test_drop_mid_retr (void)
{
  g_autoptr(FakeServer) server = fake_server_start (drop_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_retrieve (client, 1, stream, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);
  g_assert_false (tern_connection_is_connected (tern_pop3_client_get_connection (client)));
  g_clear_error (&error);
  g_assert_false (tern_pop3_client_noop (client, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
long_line_script (FakeServer *server,
                  int         fd)
{
  g_autofree char *junk = g_strnfill (256 * 1024, 'x');

  fake_write (fd, "+OK ");
  fake_write (fd, junk);
  fake_drain (server, fd);
}

static void
test_long_line (void)
{
  g_autoptr(FakeServer) server = fake_server_start (long_line_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  g_assert_false (tern_pop3_client_open (client, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
garbage_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "* OK this is IMAP\r\n");
  fake_drain (server, fd);
}

static void
test_not_pop3 (void)
{
  g_autoptr(FakeServer) server = fake_server_start (garbage_script, NULL);
  g_autoptr(TernPop3Client) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  g_assert_false (tern_pop3_client_open (client, NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PROTOCOL);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs = test_certs_new ();

  g_test_add_func ("/tern/pop3/client/fake/stls-missing", test_stls_missing);
  g_test_add_func ("/tern/pop3/client/fake/stls-err", test_stls_err);
  g_test_add_func ("/tern/pop3/client/fake/stls-injection", test_stls_injection);
  g_test_add_func ("/tern/pop3/client/fake/in-use", test_in_use);
  g_test_add_func ("/tern/pop3/client/fake/login-delay", test_login_delay);
  g_test_add_func ("/tern/pop3/client/fake/sys-temp", test_sys_temp);
  g_test_add_func ("/tern/pop3/client/fake/auth-code", test_auth_code);
  g_test_add_func ("/tern/pop3/client/fake/plain-err", test_plain_err);
  g_test_add_func ("/tern/pop3/client/fake/auth-initial-response", test_auth_initial_response);
  g_test_add_func ("/tern/pop3/client/fake/auth-long-initial-response",
                   test_auth_long_initial_response);
  g_test_add_func ("/tern/pop3/client/fake/no-uidl", test_no_uidl);
  g_test_add_func ("/tern/pop3/client/fake/no-capa-apop", test_no_capa);
  g_test_add_func ("/tern/pop3/client/fake/pipeline", test_pipeline);
  g_test_add_func ("/tern/pop3/client/fake/drop-mid-retr", test_drop_mid_retr);
  g_test_add_func ("/tern/pop3/client/fake/long-line", test_long_line);
  g_test_add_func ("/tern/pop3/client/fake/not-pop3", test_not_pop3);

  ret = g_test_run ();
  test_certs_free (certs);
  return ret;
}
