/* test-connection.c: TernConnection against scripted servers in this
 * process: clear text I/O, TLS and its failures, STARTTLS injection, limits,
 * timeouts and cancellation.  Real Dovecot and Postfix are in
 * test-connection-servers.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tern-connection.h"
#include "test-fake-server.h"

#define MODERN "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define LEGACY "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"

static TestCerts *certs;

static char *
read_line (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;
  char *line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);

  g_assert_no_error (error);
  return line;
}

static void
write_text (TernConnection *connection,
            const char     *text)
{
  g_autoptr(GError) error = NULL;

  tern_connection_write_all (connection, text, strlen (text), NULL, &error);
  g_assert_no_error (error);
}

static void
assert_received (FakeServer *server,
                 const char *expected)
{
  g_autofree char *received = g_strndup ((const char *) server->received->data,
                                         server->received->len);

  g_assert_cmpstr (received, ==, expected);
}

/* Fingerprints */

static void
test_fingerprint_normalize (void)
{
  const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  const char *canonical = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                          "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
  g_autofree char *from_hex = tern_fingerprint_normalize (hex);
  g_autofree char *from_canonical = tern_fingerprint_normalize (canonical);
  g_autofree char *too_short = tern_fingerprint_normalize ("00:11");
  g_autofree char *too_long = tern_fingerprint_normalize ("00");
  g_autofree char *not_hex = tern_fingerprint_normalize ("zz112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF");
  g_autofree char *with_extra = g_strconcat (hex, "00", NULL);
  g_autofree char *extra = tern_fingerprint_normalize (with_extra);

  g_assert_cmpstr (from_hex, ==, canonical);
  g_assert_cmpstr (from_canonical, ==, canonical);
  g_assert_null (too_short);
  g_assert_null (too_long);
  g_assert_null (not_hex);
  g_assert_null (extra);
}

/* Clear text I/O */

static void
plain_script (FakeServer *server,
              int         fd)
{
  g_autofree char *line = NULL;

  /* A CRLF line, an LF line, a line with a NUL, then a 5-byte literal and
   * a 40000-byte one that spans several reads. */
  static const char head[] = "* OK hello\r\nbare\nn\0l\r\n12345";

  g_assert_cmpint (write (fd, head, sizeof head - 1), ==, sizeof head - 1);
  for (guint i = 0; i < 40; i++)
    {
      char chunk[1000];

      memset (chunk, 'a' + (i % 26), sizeof chunk);
      g_assert_cmpint (write (fd, chunk, sizeof chunk), ==, sizeof chunk);
    }
  fake_write (fd, "done\r\n");
  line = fake_read_line (server, fd);
  fake_drain (server, fd);
}

static void
test_plain_io (void)
{
  g_autoptr(FakeServer) server = fake_server_start (plain_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *bare = NULL;
  g_autofree char *done = NULL;
  g_autofree char *nul = NULL;
  char literal[5];
  gsize len = 0;

  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_connection_is_tls (connection));
  g_assert_null (tern_connection_get_tls_description (connection));

  greeting = tern_connection_read_line (connection, 100, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (greeting, ==, "* OK hello");
  g_assert_cmpuint (len, ==, 10);
  /* No limit at all must not overflow the bound. */
  bare = tern_connection_read_line (connection, G_MAXSIZE, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bare, ==, "bare");
  nul = tern_connection_read_line (connection, 3, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 3);
  g_assert_cmpmem (nul, 4, "n\0l", 4);

  tern_connection_read_exact (connection, literal, sizeof literal, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (literal, 5, "12345", 5);
  tern_connection_read_to_stream (connection, stream, 40000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (stream)), ==, 40000);
  g_assert_cmpint (((char *) g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (stream)))[39999], ==, 'a' + 39 % 26);
  done = read_line (connection);
  g_assert_cmpstr (done, ==, "done");

  /* Queued writes leave together with the next write. */
  tern_connection_queue (connection, "a NOOP\r\n", 8);
  tern_connection_queue (connection, "b NOOP", 6);
  write_text (connection, "\r\n");
  tern_connection_close (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_connection_is_connected (connection));

  fake_server_join (server);
  assert_received (server, "a NOOP\r\nb NOOP\r\n");
  g_assert_finalize_object (g_steal_pointer (&connection));
}

/* Line limit: the line ends just past the limit, and a limit-sized line
 * ends with CRLF split over two writes.  Then a huge line without end. */
static void
long_line_script (FakeServer *server,
                  int         fd)
{
  g_autofree char *exact = g_strnfill (100, 'x');
  g_autofree char *huge = g_strnfill (64 * 1024, 'y');

  fake_write (fd, exact);
  fake_write (fd, "\r");
  fake_step_wait (server, 1);
  fake_write (fd, "\n");
  fake_write (fd, exact);
  fake_write (fd, "z\r\n");
  fake_step_wait (server, 2);
  fake_drain (server, fd);
}

static void
test_line_too_long (void)
{
  g_autoptr(FakeServer) server = fake_server_start (long_line_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *too_long = NULL;
  gsize len = 0;

  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);

  /* Let the CR arrive on its own before the LF. */
  g_usleep (50 * 1000);
  fake_step_signal (server, 1);
  line = tern_connection_read_line (connection, 100, &len, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 100);

  too_long = tern_connection_read_line (connection, 100, &len, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG);
  g_assert_null (too_long);
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
  g_assert_false (tern_connection_is_connected (connection));

  fake_step_signal (server, 2);
  fake_server_join (server);
  g_assert_finalize_object (g_steal_pointer (&connection));
}

static void
endless_line_script (FakeServer *server,
                     int         fd)
{
  g_autofree char *chunk = g_strnfill (4096, 'y');

  /* Far more than the limit; the client must stop reading long before. */
  for (guint i = 0; i < 64; i++)
    if (write (fd, chunk, 4096) != 4096)
      break;
  fake_drain (server, fd);
}

static void
test_line_unbounded (void)
{
  g_autoptr(FakeServer) server = fake_server_start (endless_line_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
  line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG);
  g_assert_null (line);
  fake_server_join (server);
}

/* Peer behaviour: closing mid-line, silence, cancellation */

static void
close_mid_line_script (FakeServer *server,
                       int         fd)
{
  fake_write (fd, "* OK half a li");
}

static void
test_closed_mid_line (void)
{
  g_autoptr(FakeServer) server = fake_server_start (close_mid_line_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
  line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);
  g_assert_null (line);
  g_assert_nonnull (strstr (error->message, "closed the connection"));
  g_assert_false (tern_connection_is_connected (connection));
  g_clear_error (&error);

  /* Further calls fail cleanly rather than touching a dead socket. */
  tern_connection_write_all (connection, "x", 1, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);
  fake_server_join (server);
}

static void
silent_script (FakeServer *server,
               int         fd)
{
  fake_drain (server, fd);
}

static void
test_io_timeout (void)
{
  g_autoptr(FakeServer) server = fake_server_start (silent_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gint64 start;
  gint64 elapsed;

  tern_connection_set_io_timeout (connection, 1);
  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "did not answer within 1 second"));
  g_assert_cmpint (elapsed, >=, 900 * 1000);
  g_assert_cmpint (elapsed, <, 3 * G_USEC_PER_SEC);
  fake_server_join (server);
}

/* A byte every 200 ms, each well within the I/O timeout, of a line that
 * never ends; the server counts what it managed to send. */
static void
trickle_script (FakeServer *server,
                int         fd)
{
  guint *sent = server->data;

  fake_write (fd, "* OK ");
  for (*sent = 0; *sent < 200; (*sent)++)
    {
      g_usleep (200 * 1000);
      if (send (fd, "x", 1, MSG_NOSIGNAL) != 1)
        break;
    }
}

static void
test_trickle (void)
{
  guint sent = 0;
  g_autoptr(FakeServer) server = fake_server_start (trickle_script, &sent);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  tern_connection_set_io_timeout (connection, 1);
  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
  line = tern_connection_read_line (connection, 100000, NULL, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "too slowly"));
  g_assert_null (line);
  g_assert_false (tern_connection_is_connected (connection));
  fake_server_join (server);
  /* Cut after about three seconds' worth (15 bytes), long before the
   * server's 200. */
  g_assert_cmpuint (sent, <, 200);
}

/* The same during a TLS handshake: the server takes the ClientHello and
 * says nothing; the real cause, not GnuTLS's "pull error", is reported. */
static void
silent_tls_script (FakeServer *server,
                   int         fd)
{
  fake_drain (server, fd);
}

static void
test_handshake_timeout (void)
{
  g_autoptr(FakeServer) server = fake_server_start (silent_tls_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_IMPLICIT, NULL);
  g_autoptr(GError) error = NULL;

  tern_connection_set_io_timeout (connection, 1);
  tern_connection_connect (connection, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "TLS handshake"));
  fake_server_join (server);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel_read (void)
{
  g_autoptr(FakeServer) server = fake_server_start (silent_script, NULL);
  g_autoptr(TernConnection) connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  GThread *canceller;
  gint64 start;

  tern_connection_set_io_timeout (connection, 30);
  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  canceller = g_thread_new ("canceller", cancel_later, cancellable);
  line = tern_connection_read_line (connection, 1000, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_thread_join (canceller);
  fake_server_join (server);
}

static void
test_connect_refused (void)
{
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* A port that was free a moment ago is almost certainly closed now. */
  {
    g_autoptr(FakeServer) server = fake_server_start (silent_script, NULL);
    g_autoptr(GSocketClient) client = g_socket_client_new ();
    g_autoptr(GSocketConnection) unblock = NULL;

    port = server->port;
    unblock = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
    g_assert_no_error (error);
    g_io_stream_close (G_IO_STREAM (unblock), NULL, NULL);
  }

  connection = tern_connection_new ("127.0.0.1", port, TERN_TLS_MODE_IMPLICIT);
  tern_connection_connect (connection, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
  g_assert_null (tern_connection_get_peer_fingerprint (connection));
}

/* TLS */

typedef struct {
  gnutls_x509_crt_t crt;
  gnutls_x509_privkey_t key;
  const char *priority;
} TlsScript;

static void
tls_echo_script (FakeServer *server,
                 int         fd)
{
  TlsScript *script = server->data;
  FakeTls tls = { 0 };
  g_autofree char *line = NULL;
  char byte;

  if (fake_tls_start (&tls, fd, script->crt, script->key, script->priority) == 0)
    {
      fake_tls_write (&tls, "* OK TLS greeting\r\n");
      line = fake_tls_read_line (&tls);
      g_assert_cmpstr (line, ==, "a NOOP\r\n");
      fake_tls_write (&tls, "a OK\r\n");
      /* A polite client closes with close_notify: a clean end of data. */
      g_assert_cmpint (gnutls_record_recv (tls.session, &byte, 1), ==, 0);
    }
  else
    fake_drain (server, fd);
  fake_tls_finish (&tls);
}

static TernConnection *
tls_connect (FakeServer       *server,
             gboolean          with_ca,
             const char       *pin,
             GError          **error)
{
  TernConnection *connection = fake_connection_new (server, TERN_TLS_MODE_IMPLICIT, NULL);

  if (with_ca)
    tern_connection_set_ca_file (connection, certs->ca_file);
  tern_connection_set_pinned_fingerprint (connection, pin);
  tern_connection_connect (connection, NULL, error);
  return connection;
}

static void
talk_over_tls (TernConnection *connection)
{
  g_autofree char *greeting = read_line (connection);
  g_autofree char *ok = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (greeting, ==, "* OK TLS greeting");
  write_text (connection, "a NOOP\r\n");
  ok = read_line (connection);
  g_assert_cmpstr (ok, ==, "a OK");
  tern_connection_close (connection, NULL, &error);
  g_assert_no_error (error);
}

static void
test_tls_good (void)
{
  TlsScript script = { certs->good, certs->key, MODERN };
  g_autoptr(FakeServer) server = fake_server_start (tls_echo_script, &script);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = tls_connect (server, TRUE, NULL, &error);
  g_autofree char *fingerprint = test_cert_fingerprint (certs->good);
  GBytes *der;

  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
  g_assert_nonnull (strstr (tern_connection_get_tls_description (connection), "TLS1.3"));
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  der = tern_connection_get_peer_certificate_der (connection);
  g_assert_nonnull (der);
  g_assert_cmpuint (g_bytes_get_size (der), >, 100);
  talk_over_tls (connection);
  fake_server_join (server);
  g_assert_finalize_object (g_steal_pointer (&connection));
}

/* Two TLS records that arrive in one segment: the connection reads the
 * socket for GnuTLS ahead of the record it asks for, so after the first
 * line the second record waits inside the connection, not in the socket,
 * and it must still count as input (IDLE waits for it with
 * tern_connection_wait_readable()). */
static void
two_records_script (FakeServer *server,
                    int         fd)
{
  FakeTls tls = { 0 };
  int on = 1, off = 0;
  char byte;

  g_assert_cmpint (fake_tls_start (&tls, fd, certs->good, certs->key, MODERN), ==, 0);
  g_assert_cmpint (setsockopt (fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on), ==, 0);
  fake_tls_write (&tls, "* one\r\n");
  fake_tls_write (&tls, "* two\r\n");
  g_assert_cmpint (setsockopt (fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off), ==, 0);
  g_assert_cmpint (gnutls_record_recv (tls.session, &byte, 1), ==, 0);
  fake_tls_finish (&tls);
}

static void
test_tls_records_read_ahead (void)
{
  g_autoptr(FakeServer) server = fake_server_start (two_records_script, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = tls_connect (server, TRUE, NULL, &error);
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;

  g_assert_no_error (error);
  one = read_line (connection);
  g_assert_cmpstr (one, ==, "* one");
  /* No waiting: the bytes are here already. */
  g_assert_true (tern_connection_wait_readable (connection, 0, NULL, &error));
  g_assert_no_error (error);
  two = read_line (connection);
  g_assert_cmpstr (two, ==, "* two");
  g_assert_false (tern_connection_wait_readable (connection, 0, NULL, &error));
  g_assert_no_error (error);
  tern_connection_close (connection, NULL, &error);
  g_assert_no_error (error);
  fake_server_join (server);
}

/* Every refused certificate: the code, host:port and the fingerprint in
 * the message, and the certificate left for the UI to show. */
static void
assert_refused (gnutls_x509_crt_t   crt,
                gboolean            with_ca,
                const char         *pin,
                TernConnectionError code,
                const char         *phrase)
{
  TlsScript script = { crt, certs->key, MODERN };
  g_autoptr(FakeServer) server = fake_server_start (tls_echo_script, &script);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = tls_connect (server, with_ca, pin, &error);
  g_autofree char *fingerprint = test_cert_fingerprint (crt);
  g_autofree char *label = g_strdup_printf ("127.0.0.1:%u", server->port);

  g_assert_error (error, TERN_CONNECTION_ERROR, (gint) code);
  g_assert_true (tern_connection_error_is_certificate (error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, label));
  g_assert_nonnull (strstr (error->message, phrase));
  g_assert_nonnull (strstr (error->message, fingerprint));
  g_assert_false (tern_connection_is_connected (connection));
  g_assert_false (tern_connection_is_tls (connection));
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  g_assert_nonnull (tern_connection_get_peer_certificate_der (connection));
  g_assert_nonnull (strstr (tern_connection_get_peer_description (connection), fingerprint));
  fake_server_join (server);
}

static void
test_tls_untrusted_without_ca (void)
{
  assert_refused (certs->good, FALSE, NULL, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                  "not signed by a trusted authority (issuer: CN=Tern Fake Test CA)");
}

static void
test_tls_expired (void)
{
  assert_refused (certs->expired, TRUE, NULL, TERN_CONNECTION_ERROR_CERT_EXPIRED, "expired on ");
}

static void
test_tls_wrong_host (void)
{
  assert_refused (certs->wrong_host, TRUE, NULL, TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY,
                  "is for wrong.example, not 127.0.0.1");
}

static void
test_tls_self_signed (void)
{
  assert_refused (certs->self_signed, TRUE, NULL, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                  "self-signed");
}

static void
test_tls_client_only (void)
{
  assert_refused (certs->client_only, TRUE, NULL, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                  "not issued for use by a server");
}

static void
test_tls_pin_accepted (void)
{
  TlsScript script = { certs->self_signed, certs->key, MODERN };
  g_autoptr(FakeServer) server = fake_server_start (tls_echo_script, &script);
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = test_cert_fingerprint (certs->self_signed);
  g_auto(GStrv) pairs = g_strsplit (fingerprint, ":", -1);
  g_autofree char *joined = g_strjoinv ("", pairs);
  g_autofree char *plain_hex = g_ascii_strdown (joined, -1);
  g_autoptr(TernConnection) connection = NULL;

  /* Plain lowercase hex is accepted and stored canonical. */
  connection = tls_connect (server, FALSE, plain_hex, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tern_connection_get_pinned_fingerprint (connection), ==, fingerprint);
  g_assert_true (tern_connection_is_tls (connection));
  talk_over_tls (connection);
  fake_server_join (server);
}

static void
test_tls_pin_mismatch (void)
{
  g_autofree char *other = test_cert_fingerprint (certs->expired);

  assert_refused (certs->self_signed, FALSE, other, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH,
                  "not the one you accepted");
}

/* A pin only ever adds trust: a certificate that verifies is accepted even
 * when the server has since replaced the one the user once accepted. */
static void
test_tls_pin_ignored_when_valid (void)
{
  TlsScript script = { certs->good, certs->key, MODERN };
  g_autoptr(FakeServer) server = fake_server_start (tls_echo_script, &script);
  g_autoptr(GError) error = NULL;
  g_autofree char *other = test_cert_fingerprint (certs->expired);
  g_autoptr(TernConnection) connection = tls_connect (server, TRUE, other, &error);

  g_assert_no_error (error);
  talk_over_tls (connection);
  fake_server_join (server);
}

static void
test_tls_version_too_old (void)
{
  TlsScript script = { certs->good, certs->key, LEGACY };
  g_autoptr(FakeServer) server = fake_server_start (tls_echo_script, &script);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = tls_connect (server, TRUE, NULL, &error);

  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_VERSION_TOO_OLD);
  g_assert_nonnull (strstr (error->message, "older than 1.2"));
  g_assert_null (tern_connection_get_peer_fingerprint (connection));
  fake_server_join (server);
}

/* STARTTLS */

#define GO_AHEAD "a OK Begin TLS\r\n"

static void
starttls_script (FakeServer *server,
                 int         fd)
{
  g_autofree char *starttls = NULL;
  g_autofree char *capability = NULL;
  g_autofree char *logout = NULL;
  FakeTls tls = { 0 };

  fake_write (fd, "* OK IMAP4rev1 ready\r\n");
  starttls = fake_read_line (server, fd);
  fake_write (fd, GO_AHEAD);
  g_assert_cmpint (fake_tls_start (&tls, fd, certs->good, certs->key, MODERN), ==, 0);
  capability = fake_tls_read_line (&tls);
  g_assert_cmpstr (capability, ==, "b CAPABILITY\r\n");
  fake_tls_write (&tls, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nb OK\r\n");
  logout = fake_tls_read_line (&tls);
  g_assert_cmpstr (logout, ==, "c LOGOUT\r\n");
  fake_tls_finish (&tls);
}

static TernConnection *
starttls_until_go_ahead (FakeServer *server)
{
  TernConnection *connection = fake_connection_new (server, TERN_TLS_MODE_STARTTLS, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *go_ahead = NULL;

  tern_connection_set_ca_file (connection, certs->ca_file);
  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_connection_is_tls (connection));
  greeting = read_line (connection);
  g_assert_cmpstr (greeting, ==, "* OK IMAP4rev1 ready");
  write_text (connection, "a STARTTLS\r\n");
  go_ahead = read_line (connection);
  g_assert_cmpstr (go_ahead, ==, "a OK Begin TLS");
  return connection;
}

static void
test_starttls_good (void)
{
  g_autoptr(FakeServer) server = fake_server_start (starttls_script, NULL);
  g_autoptr(TernConnection) connection = starttls_until_go_ahead (server);
  g_autoptr(GError) error = NULL;
  g_autofree char *capability = NULL;
  g_autofree char *ok = NULL;

  tern_connection_start_tls (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
  write_text (connection, "b CAPABILITY\r\n");
  capability = read_line (connection);
  g_assert_cmpstr (capability, ==, "* CAPABILITY IMAP4rev1 AUTH=PLAIN");
  ok = read_line (connection);
  g_assert_cmpstr (ok, ==, "b OK");
  write_text (connection, "c LOGOUT\r\n");
  tern_connection_close (connection, NULL, &error);
  g_assert_no_error (error);
  fake_server_join (server);
  /* In clear: only the STARTTLS line, then TLS records (the server's TLS
   * reads bypass the recorder). */
  assert_received (server, "a STARTTLS\r\n");
}

/* (a) The go-ahead and a forged capability line in one TCP write. */
static void
injection_same_write_script (FakeServer *server,
                             int         fd)
{
  g_autofree char *starttls = NULL;

  fake_write (fd, "* OK IMAP4rev1 ready\r\n");
  starttls = fake_read_line (server, fd);
  fake_write (fd, GO_AHEAD "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
  fake_drain (server, fd);
}

static void
assert_injection_refused (FakeServer     *server,
                          TernConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = g_strdup_printf ("127.0.0.1:%u", server->port);

  g_assert_false (tern_connection_start_tls (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_STARTTLS_INJECTION);
  g_assert_nonnull (strstr (error->message, label));
  g_assert_false (tern_connection_is_connected (connection));
  g_assert_false (tern_connection_is_tls (connection));
}

static void
test_starttls_injection_same_write (void)
{
  g_autoptr(FakeServer) server = fake_server_start (injection_same_write_script, NULL);
  g_autoptr(TernConnection) connection = starttls_until_go_ahead (server);

  assert_injection_refused (server, connection);
  fake_server_join (server);
  /* Not even a ClientHello left the client. */
  assert_received (server, "a STARTTLS\r\n");
}

/* (b) The forged line in its own write, after the client has read the
 * go-ahead but before it starts the handshake. */
static void
injection_next_write_script (FakeServer *server,
                             int         fd)
{
  g_autofree char *starttls = NULL;

  fake_write (fd, "* OK IMAP4rev1 ready\r\n");
  starttls = fake_read_line (server, fd);
  fake_write (fd, GO_AHEAD);
  fake_step_wait (server, 1);
  fake_write (fd, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
  g_usleep (50 * 1000);
  fake_step_signal (server, 2);
  fake_drain (server, fd);
}

static void
test_starttls_injection_next_write (void)
{
  g_autoptr(FakeServer) server = fake_server_start (injection_next_write_script, NULL);
  g_autoptr(TernConnection) connection = starttls_until_go_ahead (server);

  fake_step_signal (server, 1);
  fake_step_wait (server, 2);
  assert_injection_refused (server, connection);
  fake_server_join (server);
  assert_received (server, "a STARTTLS\r\n");
}

/* (b') The forged line arrives while the handshake runs, in answer to the
 * ClientHello: GnuTLS sees a broken record and the upgrade fails. */
static void
injection_during_handshake_script (FakeServer *server,
                                   int         fd)
{
  g_autofree char *starttls = NULL;

  fake_write (fd, "* OK IMAP4rev1 ready\r\n");
  starttls = fake_read_line (server, fd);
  fake_write (fd, GO_AHEAD);
  g_assert_cmpuint (fake_read_some (server, fd, 5), ==, 5);
  fake_write (fd, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
  fake_drain (server, fd);
}

static void
test_starttls_injection_during_handshake (void)
{
  g_autoptr(FakeServer) server = fake_server_start (injection_during_handshake_script, NULL);
  g_autoptr(TernConnection) connection = starttls_until_go_ahead (server);
  g_autoptr(GError) error = NULL;
  const guint8 *received;

  g_assert_false (tern_connection_start_tls (connection, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_HANDSHAKE_FAILED);
  g_assert_false (tern_connection_is_connected (connection));
  fake_server_join (server);

  /* After the STARTTLS line: a TLS handshake record, nothing in clear. */
  received = server->received->data;
  g_assert_cmpuint (server->received->len, >, 12 + 5);
  g_assert_cmpmem (received, 12, "a STARTTLS\r\n", 12);
  g_assert_cmpuint (received[12], ==, 0x16);
  g_assert_cmpuint (received[13], ==, 0x03);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs = test_certs_new ();

  g_test_add_func ("/tern/connection/fingerprint/normalize", test_fingerprint_normalize);
  g_test_add_func ("/tern/connection/plain/io", test_plain_io);
  g_test_add_func ("/tern/connection/plain/line-too-long", test_line_too_long);
  g_test_add_func ("/tern/connection/plain/line-unbounded", test_line_unbounded);
  g_test_add_func ("/tern/connection/plain/closed-mid-line", test_closed_mid_line);
  g_test_add_func ("/tern/connection/plain/io-timeout", test_io_timeout);
  g_test_add_func ("/tern/connection/plain/trickle", test_trickle);
  g_test_add_func ("/tern/connection/plain/cancel-read", test_cancel_read);
  g_test_add_func ("/tern/connection/plain/connect-refused", test_connect_refused);
  g_test_add_func ("/tern/connection/tls/good", test_tls_good);
  g_test_add_func ("/tern/connection/tls/records-read-ahead", test_tls_records_read_ahead);
  g_test_add_func ("/tern/connection/tls/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/tern/connection/tls/untrusted-without-ca", test_tls_untrusted_without_ca);
  g_test_add_func ("/tern/connection/tls/expired", test_tls_expired);
  g_test_add_func ("/tern/connection/tls/wrong-host", test_tls_wrong_host);
  g_test_add_func ("/tern/connection/tls/self-signed", test_tls_self_signed);
  g_test_add_func ("/tern/connection/tls/client-only", test_tls_client_only);
  g_test_add_func ("/tern/connection/tls/pin-accepted", test_tls_pin_accepted);
  g_test_add_func ("/tern/connection/tls/pin-mismatch", test_tls_pin_mismatch);
  g_test_add_func ("/tern/connection/tls/pin-ignored-when-valid", test_tls_pin_ignored_when_valid);
  g_test_add_func ("/tern/connection/tls/version-too-old", test_tls_version_too_old);
  g_test_add_func ("/tern/connection/starttls/good", test_starttls_good);
  g_test_add_func ("/tern/connection/starttls/injection-same-write", test_starttls_injection_same_write);
  g_test_add_func ("/tern/connection/starttls/injection-next-write", test_starttls_injection_next_write);
  g_test_add_func ("/tern/connection/starttls/injection-during-handshake",
                   test_starttls_injection_during_handshake);

  ret = g_test_run ();
  test_certs_free (certs);
  return ret;
}
