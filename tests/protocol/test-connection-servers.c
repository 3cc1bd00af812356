/* test-connection-servers.c: TernConnection against the real Dovecot and
 * Postfix of tests/servers/, with their throwaway CA and the four kinds of
 * certificate (good, expired, self-signed, wrong host).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <glib/gstdio.h>
#include <gnutls/x509.h>
#include <string.h>

#include "tern-connection.h"
#include "tern-test-servers.h"

static TernTestServers *servers;
static GError *start_error;

/* Helpers */

static TernConnection *
new_connection (TernTestCert    cert,
                TernTestService service,
                TernTlsMode     mode,
                gboolean        with_ca)
{
  TernConnection *connection =
    tern_connection_new (tern_test_servers_get_address (servers, cert),
                         tern_test_servers_get_port (servers, service),
                         mode);

  tern_connection_set_connect_timeout (connection, 10);
  tern_connection_set_io_timeout (connection, 10);
  if (with_ca)
    tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  return connection;
}

static void
connect_ok (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;

  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);
}

static char *
read_line (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;
  char *line = tern_connection_read_line (connection, 8192, NULL, NULL, &error);

  g_assert_no_error (error);
  g_test_message ("S: %s", line);
  return line;
}

static void
send_line (TernConnection *connection,
           const char     *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *with_crlf = g_strconcat (line, "\r\n", NULL);

  g_test_message ("C: %s", line);
  tern_connection_write_all (connection, with_crlf, strlen (with_crlf), NULL, &error);
  g_assert_no_error (error);
}

/* Reads lines up to and including the first that starts with @last;
 * returns them all, one per line. */
static char *
read_until (TernConnection *connection,
            const char     *last)
{
  GString *all = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *line = read_line (connection);

      g_string_append_printf (all, "%s\n", line);
      if (g_str_has_prefix (line, last))
        return g_string_free (all, FALSE);
    }
}

static void
assert_prefix (TernConnection *connection,
               const char     *prefix)
{
  g_autofree char *line = read_line (connection);

  g_assert_true (g_str_has_prefix (line, prefix));
}

static void
start_tls_ok (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;

  tern_connection_start_tls (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
  g_test_message ("TLS: %s", tern_connection_get_tls_description (connection));
}

static void
close_ok (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;

  tern_connection_close (connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (connection);
}

/* The SHA-256 of a certificate file, computed with GnuTLS directly rather
 * than with the code under test. */
static char *
fingerprint_of (TernTestCert cert)
{
  g_autofree char *pem = NULL;
  gsize pem_len = 0;
  g_autoptr(GError) error = NULL;
  gnutls_x509_crt_t crt;
  gnutls_datum_t datum;
  guint8 digest[32];
  size_t size = sizeof digest;
  GString *out = g_string_new (NULL);

  g_file_get_contents (tern_test_servers_get_cert_file (servers, cert), &pem, &pem_len, &error);
  g_assert_no_error (error);
  datum.data = (unsigned char *) pem;
  datum.size = (unsigned int) pem_len;
  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size), ==, 0);
  gnutls_x509_crt_deinit (crt);

  for (gsize i = 0; i < size; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}

/* Implicit TLS */

static void
test_imaps_good (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *fingerprint = fingerprint_of (TERN_TEST_CERT_GOOD);

  connect_ok (connection);
  g_assert_true (tern_connection_is_tls (connection));
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  assert_prefix (connection, "* OK");
  send_line (connection, "a LOGOUT");
  g_free (read_until (connection, "a OK"));
  close_ok (connection);
}

static void
test_pop3s_good (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_POP3S,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);

  connect_ok (connection);
  assert_prefix (connection, "+OK");
  send_line (connection, "QUIT");
  assert_prefix (connection, "+OK");
  close_ok (connection);
}

static void
test_submissions_good (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_SUBMISSIONS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *ehlo = NULL;

  connect_ok (connection);
  g_free (read_until (connection, "220 "));
  send_line (connection, "EHLO client.tern.test");
  ehlo = read_until (connection, "250 ");
  g_assert_nonnull (strstr (ehlo, "AUTH"));
  g_assert_nonnull (strstr (ehlo, "PLAIN"));
  send_line (connection, "QUIT");
  assert_prefix (connection, "221");
  close_ok (connection);
}

/* STARTTLS */

static void
test_imap_starttls (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAP,
                                               TERN_TLS_MODE_STARTTLS, TRUE);
  g_autofree char *capability = NULL;

  connect_ok (connection);
  g_assert_false (tern_connection_is_tls (connection));
  assert_prefix (connection, "* OK");
  send_line (connection, "a STARTTLS");
  assert_prefix (connection, "a OK");
  start_tls_ok (connection);
  send_line (connection, "b CAPABILITY");
  capability = read_until (connection, "b OK");
  g_assert_nonnull (strstr (capability, "AUTH=PLAIN"));
  send_line (connection, "c LOGOUT");
  g_free (read_until (connection, "c OK"));
  close_ok (connection);
}

static void
test_pop3_stls (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_POP3,
                                               TERN_TLS_MODE_STARTTLS, TRUE);
  g_autofree char *capa = NULL;

  connect_ok (connection);
  assert_prefix (connection, "+OK");
  send_line (connection, "STLS");
  assert_prefix (connection, "+OK");
  start_tls_ok (connection);
  send_line (connection, "CAPA");
  capa = read_until (connection, ".");
  g_assert_nonnull (strstr (capa, "SASL"));
  g_assert_nonnull (strstr (capa, "PLAIN"));
  send_line (connection, "QUIT");
  assert_prefix (connection, "+OK");
  close_ok (connection);
}

static void
test_submission_starttls (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_SUBMISSION,
                                               TERN_TLS_MODE_STARTTLS, TRUE);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  connect_ok (connection);
  g_free (read_until (connection, "220 "));
  send_line (connection, "EHLO client.tern.test");
  before = read_until (connection, "250 ");
  g_assert_nonnull (strstr (before, "STARTTLS"));
  send_line (connection, "STARTTLS");
  assert_prefix (connection, "220");
  start_tls_ok (connection);
  send_line (connection, "EHLO client.tern.test");
  after = read_until (connection, "250 ");
  g_assert_nonnull (strstr (after, "AUTH"));
  g_assert_nonnull (strstr (after, "PLAIN"));
  send_line (connection, "QUIT");
  assert_prefix (connection, "221");
  close_ok (connection);
}

/* Refused certificates */

static void
assert_refused (TernConnection      *connection,
                TernConnectionError  code,
                const char          *phrase)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = g_strdup_printf ("%s:%u",
                                            tern_connection_get_host (connection),
                                            tern_connection_get_port (connection));

  g_assert_false (tern_connection_connect (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, label));
  g_assert_nonnull (strstr (error->message, phrase));
  g_assert_nonnull (tern_connection_get_peer_fingerprint (connection));
  g_assert_nonnull (strstr (error->message, tern_connection_get_peer_fingerprint (connection)));
  g_assert_nonnull (tern_connection_get_peer_description (connection));
  g_assert_false (tern_connection_is_connected (connection));
  g_assert_finalize_object (connection);
}

static void
test_good_without_ca (void)
{
  assert_refused (new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                                  TERN_TLS_MODE_IMPLICIT, FALSE),
                  TERN_CONNECTION_ERROR_CERT_UNTRUSTED, "not signed by a trusted authority");
}

static void
test_expired (void)
{
  assert_refused (new_connection (TERN_TEST_CERT_EXPIRED, TERN_TEST_SERVICE_IMAPS,
                                  TERN_TLS_MODE_IMPLICIT, TRUE),
                  TERN_CONNECTION_ERROR_CERT_EXPIRED, "expired on ");
}

static void
test_self_signed (void)
{
  assert_refused (new_connection (TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS,
                                  TERN_TLS_MODE_IMPLICIT, TRUE),
                  TERN_CONNECTION_ERROR_CERT_UNTRUSTED, "self-signed");
}

static void
test_wrong_host (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_WRONG_HOST, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *phrase = g_strdup_printf ("is for wrong.example, not %s",
                                             tern_connection_get_host (connection));

  assert_refused (connection, TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY, phrase);
}

/* Verification applies after STARTTLS just as for implicit TLS. */
static void
test_starttls_self_signed (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAP,
                                               TERN_TLS_MODE_STARTTLS, TRUE);
  g_autoptr(GError) error = NULL;

  connect_ok (connection);
  assert_prefix (connection, "* OK");
  send_line (connection, "a STARTTLS");
  assert_prefix (connection, "a OK");
  g_assert_false (tern_connection_start_tls (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_assert_false (tern_connection_is_connected (connection));
  g_assert_finalize_object (connection);
}

/* Pinning */

static void
test_pin_self_signed (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *fingerprint = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);

  tern_connection_set_pinned_fingerprint (connection, fingerprint);
  connect_ok (connection);
  g_assert_true (tern_connection_is_tls (connection));
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  assert_prefix (connection, "* OK");
  close_ok (connection);
}

static void
test_pin_mismatch (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *other = fingerprint_of (TERN_TEST_CERT_EXPIRED);

  tern_connection_set_pinned_fingerprint (connection, other);
  assert_refused (connection, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH, "not the one you accepted");
}

/* A pin is for one certificate: the self-signed one's pin does not open
 * the wrong-host address. */
static void
test_pin_other_address (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_WRONG_HOST, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *pin = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);

  tern_connection_set_pinned_fingerprint (connection, pin);
  assert_refused (connection, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH, "not the one you accepted");
}

/* Without a CA file the pin alone decides for its certificate; another
 * certificate still needs a chain that verifies. */
static void
test_pin_without_ca (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, FALSE);
  g_autofree char *fingerprint = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);

  tern_connection_set_pinned_fingerprint (connection, fingerprint);
  connect_ok (connection);
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  assert_prefix (connection, "* OK");
  close_ok (connection);
}

static void
test_pin_mismatch_without_ca (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, FALSE);
  g_autofree char *other = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);

  tern_connection_set_pinned_fingerprint (connection, other);
  assert_refused (connection, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH, "not the one you accepted");
}

/* A certificate that verifies is accepted whatever the pin. */
static void
test_pin_other_but_verifies (void)
{
  TernConnection *connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                                               TERN_TLS_MODE_IMPLICIT, TRUE);
  g_autofree char *other = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);
  g_autofree char *fingerprint = fingerprint_of (TERN_TEST_CERT_GOOD);

  tern_connection_set_pinned_fingerprint (connection, other);
  connect_ok (connection);
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  assert_prefix (connection, "* OK");
  close_ok (connection);
}

/* Session resumption.  Postfix resumes TLS 1.3 tickets; Dovecot's login
 * processes serve one connection each (service_count = 1), each with
 * ticket keys of its own, so it never does.  These tests connect to
 * "localhost", which no other test uses, so that they decide when a ticket
 * is kept. */

static TernConnection *
new_submissions (const char *ca_file)
{
  TernConnection *connection =
    tern_connection_new ("localhost",
                         tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS),
                         TERN_TLS_MODE_IMPLICIT);

  tern_connection_set_connect_timeout (connection, 10);
  tern_connection_set_io_timeout (connection, 10);
  tern_connection_set_ca_file (connection, ca_file);
  return connection;
}

/* Connects, reads the greeting (and with it the server's tickets) and
 * says goodbye; returns whether the session was resumed. */
static gboolean
submissions_session (const char *ca_file)
{
  TernConnection *connection = new_submissions (ca_file);
  g_autofree char *fingerprint = fingerprint_of (TERN_TEST_CERT_GOOD);
  gboolean resumed;

  connect_ok (connection);
  resumed = tern_connection_is_resumed (connection);
  g_test_message ("TLS: %s%s", tern_connection_get_tls_description (connection),
                  resumed ? ", resumed" : "");
  g_assert_cmpstr (tern_connection_get_peer_fingerprint (connection), ==, fingerprint);
  g_free (read_until (connection, "220 "));
  send_line (connection, "QUIT");
  assert_prefix (connection, "221");
  close_ok (connection);
  return resumed;
}

/* The second connection to a server resumes the first one's session, and
 * the third the second's. */
static void
test_resume (void)
{
  const char *ca_file = tern_test_servers_get_ca_file (servers);

  g_assert_false (submissions_session (ca_file));
  g_assert_true (submissions_session (ca_file));
  g_assert_true (submissions_session (ca_file));
}

/* A copy of the CA file under a path of its own, so that its tickets
 * start from nothing. */
static char *
copy_ca_file (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  char *ca_file = g_build_filename (dir, "ca.pem", NULL);

  g_file_get_contents (tern_test_servers_get_ca_file (servers), &pem, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (ca_file, pem, -1, &error);
  g_assert_no_error (error);
  return ca_file;
}

/* A ticket is kept for one host name, port and trust: not offered to
 * another name of the same server, and a connection that does not trust
 * the server's authority is refused although a ticket of one that did
 * would be resumed. */
static void
test_resume_other_settings (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tern-test-XXXXXX", &error);
  g_autofree char *ca_file = NULL;
  TernConnection *connection;

  g_assert_no_error (error);
  ca_file = copy_ca_file (dir);
  g_assert_false (submissions_session (ca_file));
  g_assert_true (submissions_session (ca_file));

  connection = new_connection (TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_SUBMISSIONS,
                               TERN_TLS_MODE_IMPLICIT, FALSE);
  tern_connection_set_ca_file (connection, ca_file);
  g_assert_cmpstr (tern_connection_get_host (connection), !=, "localhost");
  connect_ok (connection);
  g_assert_false (tern_connection_is_resumed (connection));
  g_assert_finalize_object (connection);

  assert_refused (new_submissions (NULL), TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                  "not signed by a trusted authority");

  g_assert_cmpint (g_remove (ca_file), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A resumed session's certificate is verified against the trust of now:
 * when the CA file no longer holds its authority, the resumed handshake is
 * refused, and the ticket forgotten. */
static void
test_resume_changed_trust (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tern-test-XXXXXX", &error);
  g_autofree char *ca_file = NULL;
  g_autofree char *ca_pem = NULL;
  g_autofree char *other_pem = NULL;
  TernConnection *connection;

  g_assert_no_error (error);
  ca_file = copy_ca_file (dir);
  g_file_get_contents (ca_file, &ca_pem, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (tern_test_servers_get_cert_file (servers, TERN_TEST_CERT_SELF_SIGNED),
                       &other_pem, NULL, &error);
  g_assert_no_error (error);

  g_assert_false (submissions_session (ca_file));
  g_assert_true (submissions_session (ca_file));

  /* Same path, another authority. */
  g_file_set_contents (ca_file, other_pem, -1, &error);
  g_assert_no_error (error);
  connection = new_submissions (ca_file);
  g_assert_false (tern_connection_connect (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (tern_connection_is_connected (connection));

  /* No ticket any more: a full handshake, refused as well. */
  g_assert_false (tern_connection_connect (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_clear_error (&error);
  g_assert_finalize_object (connection);

  g_file_set_contents (ca_file, ca_pem, -1, &error);
  g_assert_no_error (error);
  g_assert_false (submissions_session (ca_file));

  g_assert_cmpint (g_remove (ca_file), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_servers_started (void)
{
  g_assert_no_error (start_error);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  /* Without servers every test would fail the same way: report it once. */
  servers = tern_test_servers_start (&start_error);
  if (servers == NULL)
    {
      g_test_add_func ("/tern/connection/servers/start", test_servers_started);
      return g_test_run ();
    }

  g_test_add_func ("/tern/connection/servers/imaps-good", test_imaps_good);
  g_test_add_func ("/tern/connection/servers/pop3s-good", test_pop3s_good);
  g_test_add_func ("/tern/connection/servers/submissions-good", test_submissions_good);
  g_test_add_func ("/tern/connection/servers/imap-starttls", test_imap_starttls);
  g_test_add_func ("/tern/connection/servers/pop3-stls", test_pop3_stls);
  g_test_add_func ("/tern/connection/servers/submission-starttls", test_submission_starttls);
  g_test_add_func ("/tern/connection/servers/good-without-ca", test_good_without_ca);
  g_test_add_func ("/tern/connection/servers/expired", test_expired);
  g_test_add_func ("/tern/connection/servers/self-signed", test_self_signed);
  g_test_add_func ("/tern/connection/servers/wrong-host", test_wrong_host);
  g_test_add_func ("/tern/connection/servers/starttls-self-signed", test_starttls_self_signed);
  g_test_add_func ("/tern/connection/servers/pin-self-signed", test_pin_self_signed);
  g_test_add_func ("/tern/connection/servers/pin-mismatch", test_pin_mismatch);
  g_test_add_func ("/tern/connection/servers/pin-other-address", test_pin_other_address);
  g_test_add_func ("/tern/connection/servers/pin-without-ca", test_pin_without_ca);
  g_test_add_func ("/tern/connection/servers/pin-mismatch-without-ca",
                   test_pin_mismatch_without_ca);
  g_test_add_func ("/tern/connection/servers/pin-other-but-verifies", test_pin_other_but_verifies);
  g_test_add_func ("/tern/connection/servers/resume", test_resume);
  g_test_add_func ("/tern/connection/servers/resume-other-settings", test_resume_other_settings);
  g_test_add_func ("/tern/connection/servers/resume-changed-trust", test_resume_changed_trust);

  ret = g_test_run ();
  tern_test_servers_free (servers);
  return ret;
}
