/* test-smtp-client-fake.c: TernSmtpClient against scripted servers, for
 * what Postfix cannot be made to do: skip or refuse STARTTLS, inject bytes
 * after "220 Ready", lack PIPELINING, refuse recipients with 4xx, announce
 * a small SIZE, or drop the connection during DATA.  The scripts check the
 * exact bytes on the wire.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <poll.h>
#include <string.h>

#include "tern-smtp-client.h"
#include "test-fake-server.h"

#define MODERN "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define DOMAIN "tern.test"

static TestCerts *certs;

static TernSmtpClient *
client_for (FakeServer  *server,
            TernTlsMode  mode)
{
  g_autoptr(TernConnection) connection = fake_connection_new (server, mode, certs->ca_file);

  return tern_smtp_client_new (connection);
}

/* Nothing more arrives within 100 ms: the client waits for a reply. */
static void
expect_silence (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };

  g_assert_cmpint (poll (&pfd, 1, 100), ==, 0);
}

/* Reads DATA up to and including the final ".\r\n". */
static void
read_data (FakeServer *server,
           int         fd)
{
  for (;;)
    {
      g_autofree char *line = fake_read_line (server, fd);

      if (*line == '\0' || strcmp (line, ".\r\n") == 0)
        break;
    }
}

/* STARTTLS refused in every way: the connection is closed, and neither
 * AUTH nor MAIL is ever sent. */

static void
starttls_script (FakeServer *server,
                 int         fd)
{
  const char *answer = server->data;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  if (answer == NULL)
    {
      fake_write (fd, "250-fake\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n");
      fake_drain (server, fd);
      return;
    }
  fake_write (fd, "250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
  fake_expect_line (server, fd, "STARTTLS\r\n");
  fake_write (fd, answer);
  fake_drain (server, fd);
}

static void
assert_starttls_refused (const char *answer,
                         const char *expected_sent)
{
  g_autoptr(FakeServer) server = fake_server_start (starttls_script, (gpointer) answer);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: x\r\n\r\nsecret\r\n", 22);
  const char *to[] = { "bob@tern.test", NULL };
  g_autofree char *sent = NULL;

  g_assert_false (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_STARTTLS_REFUSED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
  g_assert_false (tern_connection_is_connected (tern_smtp_client_get_connection (client)));
  g_clear_error (&error);

  /* A careless caller goes on: nothing is sent. */
  g_assert_false (tern_smtp_client_login (client, "alice", "password", NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               NULL, NULL, &error));
  g_assert_nonnull (error);

  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, expected_sent);
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_starttls_missing (void)
{
  assert_starttls_refused (NULL, "EHLO " DOMAIN "\r\n");
}

static void
test_starttls_454 (void)
{
  assert_starttls_refused ("454 4.7.0 TLS not available due to local problem\r\n",
                           "EHLO " DOMAIN "\r\nSTARTTLS\r\n");
}

static void
test_starttls_502 (void)
{
  assert_starttls_refused ("502 5.5.1 Command not implemented\r\n",
                           "EHLO " DOMAIN "\r\nSTARTTLS\r\n");
}

static void
test_starttls_other (void)
{
  assert_starttls_refused ("250 sure\r\n", "EHLO " DOMAIN "\r\nSTARTTLS\r\n");
}

static void
injection_script (FakeServer *server,
                  int         fd)
{
  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n");
  fake_expect_line (server, fd, "STARTTLS\r\n");
  fake_write (fd, "220 2.0.0 Ready to start TLS\r\n250-evil\r\n250 AUTH PLAIN\r\n");
  fake_drain (server, fd);
}

static void
test_starttls_injection (void)
{
  g_autoptr(FakeServer) server = fake_server_start (injection_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  g_assert_false (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_STARTTLS_INJECTION);
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "EHLO " DOMAIN "\r\nSTARTTLS\r\n");
}

/* A full STARTTLS session: EHLO is asked again over TLS, and what was
 * said in clear is forgotten. */
static void
starttls_ok_script (FakeServer *server,
                    int         fd)
{
  FakeTls tls = { 0 };
  g_autofree char *line = NULL;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250-STARTTLS\r\n250 X-CLEAR-ONLY\r\n");
  fake_expect_line (server, fd, "STARTTLS\r\n");
  fake_write (fd, "220 2.0.0 Ready\r\n");
  g_assert_cmpint (fake_tls_start (&tls, fd, certs->good, certs->key, MODERN), ==, 0);
  line = fake_tls_read_line (&tls);
  g_assert_cmpstr (line, ==, "EHLO " DOMAIN "\r\n");
  fake_tls_write (&tls, "250-fake\r\n250-AUTH PLAIN\r\n250 SIZE 1000\r\n");
  g_clear_pointer (&line, g_free);
  line = fake_tls_read_line (&tls);
  g_assert_cmpstr (line, ==, "QUIT\r\n");
  fake_tls_write (&tls, "221 2.0.0 Bye\r\n");
  fake_tls_finish (&tls);
}

static void
test_starttls_ok (void)
{
  g_autoptr(FakeServer) server = fake_server_start (starttls_ok_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (tern_smtp_client_get_connection (client)));
  g_assert_false (tern_smtp_client_has_extension (client, "X-CLEAR-ONLY"));
  g_assert_true (tern_smtp_client_has_extension (client, "auth"));
  g_assert_cmpuint (tern_smtp_client_get_size_limit (client), ==, 1000);
  g_assert_true (tern_smtp_client_quit (client, NULL, &error));
  g_assert_no_error (error);
  fake_server_join (server);
}

/* Greetings */

static void
greeting_script (FakeServer *server,
                 int         fd)
{
  fake_write (fd, server->data);
  fake_drain (server, fd);
}

static void
test_greeting_refused (void)
{
  g_autoptr(FakeServer) server =
    fake_server_start (greeting_script, "554-5.3.2 go away\r\n554 5.3.2 really\r\n");
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  g_assert_false (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PERMANENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "554 5.3.2 go away really"));
  fake_server_join (server);
  g_assert_cmpuint (server->received->len, ==, 0);
}

static void
helo_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "220-old\r\n220 server\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "500 what?\r\n");
  fake_expect_line (server, fd, "HELO " DOMAIN "\r\n");
  fake_write (fd, "250 old.example\r\n");
  fake_expect_line (server, fd, "NOOP\r\n");
  fake_write (fd, "250 ok\r\n");
  fake_expect_line (server, fd, "QUIT\r\n");
  fake_write (fd, "221 bye\r\n");
}

static void
test_helo_fallback (void)
{
  g_autoptr(FakeServer) server = fake_server_start (helo_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (tern_smtp_client_has_extension (client, "PIPELINING"));
  g_assert_true (tern_smtp_client_noop (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_smtp_client_quit (client, NULL, &error));
  g_assert_no_error (error);
  fake_server_join (server);
}

/* Dot-stuffing and line endings, byte for byte; without PIPELINING every
 * command waits for its reply. */

static const char tricky_body[] =
  "Subject: dots\r\n"
  "\r\n"
  ".\r\n"
  ".x\r\n"
  "..\r\n"
  "bare LF\n"
  "bare CR\r"
  "CR CR LF\r\r\n"
  "\n"
  ".\n"
  "no final newline";

static const char tricky_wire[] =
  "Subject: dots\r\n"
  "\r\n"
  "..\r\n"
  "..x\r\n"
  "...\r\n"
  "bare LF\r\n"
  "bare CR\r\n"
  "CR CR LF\r\n\r\n"
  "\r\n"
  "..\r\n"
  "no final newline\r\n"
  ".\r\n";

static void
one_by_one_script (FakeServer *server,
                   int         fd)
{
  guint data_start;
  g_autofree char *body = NULL;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
  fake_expect_line (server, fd, "MAIL FROM:<alice@tern.test>\r\n");
  expect_silence (fd);
  fake_write (fd, "250 2.1.0 Ok\r\n");
  fake_expect_line (server, fd, "RCPT TO:<bob@tern.test>\r\n");
  expect_silence (fd);
  fake_write (fd, "250 2.1.5 Ok\r\n");
  fake_expect_line (server, fd, "RCPT TO:<carol@tern.test>\r\n");
  expect_silence (fd);
  fake_write (fd, "250 2.1.5 Ok\r\n");
  fake_expect_line (server, fd, "DATA\r\n");
  expect_silence (fd);
  fake_write (fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
  data_start = server->received->len;
  read_data (server, fd);
  body = g_strndup ((const char *) server->received->data + data_start,
                    server->received->len - data_start);
  g_assert_cmpstr (body, ==, tricky_wire);
  fake_write (fd, "250 2.0.0 Ok: queued as 1234\r\n");
  fake_expect_line (server, fd, "QUIT\r\n");
  fake_write (fd, "221 2.0.0 Bye\r\n");
}

static void
test_one_by_one (void)
{
  g_autoptr(FakeServer) server = fake_server_start (one_by_one_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static (tricky_body, sizeof tricky_body - 1);
  g_autoptr(GPtrArray) results = NULL;
  const char *to[] = { "bob@tern.test", "carol@tern.test", NULL };

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                              &results, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_true (tern_smtp_recipient_result_is_accepted (results->pdata[1]));
  g_assert_true (tern_smtp_client_quit (client, NULL, &error));
  fake_server_join (server);
}

/* The same body split across reads of every size: a CRLF or a leading
 * "." that straddles two chunks comes out the same. */
static void
chunked_script (FakeServer *server,
                int         fd)
{
  g_autofree char *body = NULL;
  guint data_start;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250 PIPELINING\r\n");
  fake_expect_line (server, fd, "MAIL FROM:<alice@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<bob@tern.test>\r\n");
  fake_expect_line (server, fd, "DATA\r\n");
  fake_write (fd, "250 Ok\r\n250 Ok\r\n354 go\r\n");
  data_start = server->received->len;
  read_data (server, fd);
  body = g_strndup ((const char *) server->received->data + data_start,
                    server->received->len - data_start);
  g_assert_cmpstr (body, ==, tricky_wire);
  fake_write (fd, "250 Ok\r\n");
  fake_drain (server, fd);
}

/* A stream that returns at most one byte per read. */
static GInputStream *
trickle_stream (void)
{
  GInputStream *stream = g_memory_input_stream_new ();

  for (gsize i = 0; i < sizeof tricky_body - 1; i++)
    g_memory_input_stream_add_data (G_MEMORY_INPUT_STREAM (stream),
                                    g_memdup2 (tricky_body + i, 1), 1, g_free);
  return stream;
}

static void
test_chunk_boundaries (void)
{
  g_autoptr(FakeServer) server = fake_server_start (chunked_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = trickle_stream ();
  const char *to[] = { "bob@tern.test", NULL };

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_true (tern_smtp_client_send (client, "alice@tern.test", to, stream, -1, FALSE,
                                        NULL, NULL, &error));
  g_assert_no_error (error);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* Pipelining: MAIL, every RCPT and DATA in one write; some recipients
 * refused with 4xx and 5xx while the others get the message. */

static void
pipelined_script (FakeServer *server,
                  int         fd)
{
  guint start;
  g_autofree char *commands = NULL;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-8BITMIME\r\n"
                  "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n");
  start = server->received->len;
  /* All of it arrives before any reply is written. */
  fake_expect_line (server, fd, "MAIL FROM:<алиса@tern.test> SIZE=21 BODY=8BITMIME SMTPUTF8\r\n");
  fake_expect_line (server, fd, "RCPT TO:<bob@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<busy@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<nobody@tern.test>\r\n");
  fake_expect_line (server, fd, "DATA\r\n");
  commands = g_strndup ((const char *) server->received->data + start,
                        server->received->len - start);
  fake_write (fd, "250 2.1.0 Ok\r\n"
                  "250 2.1.5 Ok\r\n"
                  "450 4.2.1 <busy@tern.test>: mailbox busy\r\n"
                  "550-5.1.1 <nobody@tern.test>: Recipient address rejected:\r\n"
                  "550 5.1.1 User unknown\r\n"
                  "354 go ahead\r\n");
  read_data (server, fd);
  fake_write (fd, "250 2.0.0 Ok: queued\r\n");
  fake_drain (server, fd);
}

static void
test_pipelined_partial (void)
{
  g_autoptr(FakeServer) server = fake_server_start (pipelined_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  static const char eight_bit[] = "Subject: \xd0\xaf\r\n\r\nbody\r\n";
  g_autoptr(GBytes) message = g_bytes_new_static (eight_bit, sizeof eight_bit - 1);
  g_autoptr(GPtrArray) results = NULL;
  const char *to[] = { "bob@tern.test", "busy@tern.test", "nobody@tern.test", NULL };
  TernSmtpRecipientResult *result;

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_smtp_client_send_bytes (client, "алиса@tern.test", to, message,
                                              &results, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  result = results->pdata[0];
  g_assert_cmpstr (result->address, ==, "bob@tern.test");
  g_assert_true (tern_smtp_recipient_result_is_accepted (result));
  result = results->pdata[1];
  g_assert_cmpuint (result->code, ==, 450);
  g_assert_cmpstr (result->enhanced_code, ==, "4.2.1");
  g_assert_false (tern_smtp_recipient_result_is_accepted (result));
  result = results->pdata[2];
  g_assert_cmpuint (result->code, ==, 550);
  g_assert_cmpstr (result->enhanced_code, ==, "5.1.1");
  g_assert_cmpstr (result->text, ==,
                   "<nobody@tern.test>: Recipient address rejected: User unknown");
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
all_refused_script (FakeServer *server,
                    int         fd)
{
  g_autofree char *replies = g_strdup_printf ("250 Ok\r\n%s%s554 5.5.1 No valid recipients\r\n",
                                              (const char *) server->data,
                                              (const char *) server->data);

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250 PIPELINING\r\n");
  fake_expect_line (server, fd, "MAIL FROM:<alice@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<a@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<b@tern.test>\r\n");
  fake_expect_line (server, fd, "DATA\r\n");
  fake_write (fd, replies);
  fake_expect_line (server, fd, "RSET\r\n");
  fake_write (fd, "250 Ok\r\n");
  fake_drain (server, fd);
}

static void
assert_all_refused (const char *reply,
                    TernSmtpError expected)
{
  g_autoptr(FakeServer) server = fake_server_start (all_refused_script, (gpointer) reply);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("\r\n", 2);
  g_autoptr(GPtrArray) results = NULL;
  const char *to[] = { "a@tern.test", "b@tern.test", NULL };

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               &results, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, (gint) expected);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (results->len, ==, 2);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

static void
test_all_refused_temporary (void)
{
  assert_all_refused ("451 4.3.0 try later\r\n", TERN_SMTP_ERROR_TEMPORARY);
}

static void
test_all_refused_permanent (void)
{
  assert_all_refused ("550 5.1.1 unknown\r\n", TERN_SMTP_ERROR_PERMANENT);
}

/* SIZE: a message over the limit never gets as far as MAIL. */
static void
size_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
  fake_drain (server, fd);
}

static void
test_size_exceeded (void)
{
  g_autoptr(FakeServer) server = fake_server_start (size_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strnfill (101, 'x');
  g_autoptr(GBytes) message = g_bytes_new (text, 101);
  g_autofree char *sent = NULL;
  const char *to[] = { "bob@tern.test", NULL };

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TOO_BIG);
  g_test_message ("%s", error->message);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "EHLO " DOMAIN "\r\n");
}

/* Non-ASCII addresses need SMTPUTF8. */
static void
test_smtputf8_missing (void)
{
  g_autoptr(FakeServer) server = fake_server_start (size_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("\r\n", 2);
  g_autofree char *sent = NULL;
  const char *to[] = { "боб@tern.test", NULL };

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  /* Nor can an address smuggle a command in. */
  to[0] = "bob@tern.test>\r\nRCPT TO:<eve@evil.example";
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_INVALID_ADDRESS);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "EHLO " DOMAIN "\r\n");
}

/* The server goes away in the middle of DATA. */
static void
drop_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  fake_write (fd, "250-fake\r\n250 PIPELINING\r\n");
  fake_expect_line (server, fd, "MAIL FROM:<alice@tern.test>\r\n");
  fake_expect_line (server, fd, "RCPT TO:<bob@tern.test>\r\n");
  fake_expect_line (server, fd, "DATA\r\n");
  fake_write (fd, "250 Ok\r\n250 Ok\r\n354 go\r\n");
  fake_read_some (server, fd, 1000);
}

static void
test_drop_during_data (void)
{
  g_autoptr(FakeServer) server = fake_server_start (drop_script, NULL);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  gsize len = 4 * 1024 * 1024;
  g_autofree char *text = g_strnfill (len, 'x');
  g_autoptr(GBytes) message = NULL;
  const char *to[] = { "bob@tern.test", NULL };

  for (gsize i = 70; i < len; i += 72)
    text[i] = '\n';
  message = g_bytes_new_take (g_steal_pointer (&text), len);
  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == TERN_CONNECTION_ERROR);
  g_test_message ("%s", error->message);
  g_assert_false (tern_connection_is_connected (tern_smtp_client_get_connection (client)));
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* Signing in: the server's refusals, and one that claims success too
 * early.  In clear only the challenge-response mechanisms are used. */
static void
auth_script (FakeServer *server,
             int         fd)
{
  const char *kind = server->data;
  g_autofree char *line = NULL;

  fake_write (fd, "220 fake ESMTP\r\n");
  fake_expect_line (server, fd, "EHLO " DOMAIN "\r\n");
  if (strcmp (kind, "plain-only") == 0)
    {
      fake_write (fd, "250-fake\r\n250 AUTH PLAIN LOGIN\r\n");
      fake_drain (server, fd);
      return;
    }
  if (strcmp (kind, "impostor") == 0)
    {
      fake_write (fd, "250-fake\r\n250 AUTH SCRAM-SHA-256\r\n");
      line = fake_read_line (server, fd);
      g_assert_true (g_str_has_prefix (line, "AUTH SCRAM-SHA-256 "));
      fake_write (fd, "235 2.7.0 Authentication successful\r\n");
      fake_drain (server, fd);
      return;
    }
  fake_write (fd, "250-fake\r\n250 AUTH CRAM-MD5\r\n");
  fake_expect_line (server, fd, "AUTH CRAM-MD5\r\n");
  fake_write (fd, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n");
  line = fake_read_line (server, fd);
  {
    gsize len;
    g_autofree guchar *decoded = g_base64_decode (line, &len);

    g_assert_cmpuint (len, ==, strlen ("alice ") + 32);
    g_assert_true (memcmp (decoded, "alice ", 6) == 0);
  }
  fake_write (fd, strcmp (kind, "busy") == 0 ? "454 4.7.0 Temporary authentication failure\r\n"
                                              : "535 5.7.8 Authentication credentials invalid\r\n");
  fake_drain (server, fd);
}

static void
assert_auth_fails (const char   *kind,
                   TernSmtpError expected,
                   const char   *in_message)
{
  g_autoptr(FakeServer) server = fake_server_start (auth_script, (gpointer) kind);
  g_autoptr(TernSmtpClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  g_assert_true (tern_smtp_client_open (client, DOMAIN, NULL, &error));
  g_assert_false (tern_smtp_client_login (client, "alice", "secret", NULL, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, (gint) expected);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, in_message));
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_null (strstr (sent, "secret"));
}

static void
test_auth_failed (void)
{
  assert_auth_fails ("wrong", TERN_SMTP_ERROR_AUTH_FAILED, "535 5.7.8");
}

static void
test_auth_temporary (void)
{
  assert_auth_fails ("busy", TERN_SMTP_ERROR_TEMPORARY, "454 4.7.0");
}

static void
test_auth_plain_in_clear (void)
{
  assert_auth_fails ("plain-only", TERN_SMTP_ERROR_AUTH_UNAVAILABLE, "127.0.0.1:");
}

static void
test_auth_impostor (void)
{
  assert_auth_fails ("impostor", TERN_SMTP_ERROR_AUTH_FAILED, "proving");
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs = test_certs_new ();

  g_test_add_func ("/tern/smtp/client/fake/starttls-missing", test_starttls_missing);
  g_test_add_func ("/tern/smtp/client/fake/starttls-454", test_starttls_454);
  g_test_add_func ("/tern/smtp/client/fake/starttls-502", test_starttls_502);
  g_test_add_func ("/tern/smtp/client/fake/starttls-other", test_starttls_other);
  g_test_add_func ("/tern/smtp/client/fake/starttls-injection", test_starttls_injection);
  g_test_add_func ("/tern/smtp/client/fake/starttls-ok", test_starttls_ok);
  g_test_add_func ("/tern/smtp/client/fake/greeting-refused", test_greeting_refused);
  g_test_add_func ("/tern/smtp/client/fake/helo-fallback", test_helo_fallback);
  g_test_add_func ("/tern/smtp/client/fake/one-by-one", test_one_by_one);
  g_test_add_func ("/tern/smtp/client/fake/chunk-boundaries", test_chunk_boundaries);
  g_test_add_func ("/tern/smtp/client/fake/pipelined-partial", test_pipelined_partial);
  g_test_add_func ("/tern/smtp/client/fake/all-refused-4xx", test_all_refused_temporary);
  g_test_add_func ("/tern/smtp/client/fake/all-refused-5xx", test_all_refused_permanent);
  g_test_add_func ("/tern/smtp/client/fake/size-exceeded", test_size_exceeded);
  g_test_add_func ("/tern/smtp/client/fake/smtputf8-missing", test_smtputf8_missing);
  g_test_add_func ("/tern/smtp/client/fake/drop-during-data", test_drop_during_data);
  g_test_add_func ("/tern/smtp/client/fake/auth-failed", test_auth_failed);
  g_test_add_func ("/tern/smtp/client/fake/auth-temporary", test_auth_temporary);
  g_test_add_func ("/tern/smtp/client/fake/auth-plain-in-clear", test_auth_plain_in_clear);
  g_test_add_func ("/tern/smtp/client/fake/auth-impostor", test_auth_impostor);

  ret = g_test_run ();
  test_certs_free (certs);
  return ret;
}
