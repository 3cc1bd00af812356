/* test-certificates.c: accepting a certificate through the profile, against
 * the real Dovecot of tests/servers/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-certificate-pins.h"
#include "tern-context.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

static TernTestServers *servers;

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
} Fixture;

static void
open_context (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&fixture->context);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->dir = tern_test_make_tmpdir ("tern-certificates-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  open_context (fixture);
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

/* Connects to @service on the address serving @cert, through the profile's
 * trust settings.  Returns the connection when it succeeded. */
static TernConnection *
connect_to (Fixture          *fixture,
            TernTestCert      cert,
            TernTestService   service,
            GError          **error)
{
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernConnection) connection = NULL;

  server = tern_server_new (tern_test_servers_get_address (servers, cert),
                            tern_test_servers_get_port (servers, service), TERN_TLS_MODE_IMPLICIT);
  connection = tern_context_new_connection (fixture->context, server, error);
  g_assert_nonnull (connection);
  tern_connection_set_connect_timeout (connection, 10);
  tern_connection_set_io_timeout (connection, 10);
  /* Returned either way: after a refusal it still shows the certificate. */
  tern_connection_connect (connection, NULL, error);
  return g_steal_pointer (&connection);
}

static void
assert_greeting (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = tern_connection_read_line (connection, 4096, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "* OK"));
}

static void
test_good_certificate (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = connect_to (fixture, TERN_TEST_CERT_GOOD,
                                                     TERN_TEST_SERVICE_IMAPS, &error);

  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
  assert_greeting (connection);
}

static void
test_accept_self_signed (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) refused = NULL;
  g_autoptr(TernConnection) accepted = NULL;
  g_autoptr(TernConnection) other_port = NULL;
  g_autoptr(TernConnection) other_host = NULL;
  g_autofree char *fingerprint = NULL;
  const char *address = tern_test_servers_get_address (servers, TERN_TEST_CERT_SELF_SIGNED);
  guint16 imaps = tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS);

  refused = connect_to (fixture, TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_clear_error (&error);
  fingerprint = g_strdup (tern_connection_get_peer_fingerprint (refused));
  g_assert_nonnull (fingerprint);

  /* The user accepts what they were shown; it is kept in the profile. */
  g_assert_true (tern_certificate_pins_accept (tern_context_get_store (fixture->context), address,
                                               imaps, fingerprint, &error));
  g_assert_no_error (error);
  open_context (fixture);

  accepted = connect_to (fixture, TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS, &error);
  g_assert_no_error (error);
  assert_greeting (accepted);

  /* Only for that host and port: the same certificate on POP3S is still
   * refused, and so is another host's. */
  other_port = connect_to (fixture, TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_POP3S, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
  g_clear_error (&error);
  other_host = connect_to (fixture, TERN_TEST_CERT_EXPIRED, TERN_TEST_SERVICE_IMAPS, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_EXPIRED);
}

static void
test_other_certificate_refused (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(GPtrArray) pins = NULL;
  const char *address = tern_test_servers_get_address (servers, TERN_TEST_CERT_SELF_SIGNED);
  guint16 imaps = tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS);
  const char *other = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

  /* The user once accepted some other certificate for this host:port. */
  g_assert_true (tern_certificate_pins_accept (tern_context_get_store (fixture->context), address,
                                               imaps, other, &error));
  g_assert_no_error (error);
  pins = tern_certificate_pins_list (tern_context_get_store (fixture->context), &error);
  g_assert_cmpuint (pins->len, ==, 1);
  g_assert_cmpstr (((TernCertificatePin *) pins->pdata[0])->fingerprint, ==,
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");

  connection = connect_to (fixture, TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH);
  g_clear_error (&error);

  /* Forgetting the pin brings back the plain verification error. */
  g_assert_true (tern_certificate_pins_forget (tern_context_get_store (fixture->context), address,
                                               imaps, &error));
  g_clear_object (&connection);
  connection = connect_to (fixture, TERN_TEST_CERT_SELF_SIGNED, TERN_TEST_SERVICE_IMAPS, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED);
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

  g_test_add ("/tern/certificates/good", Fixture, NULL, fixture_setup, test_good_certificate, fixture_teardown);
  g_test_add ("/tern/certificates/accept-self-signed", Fixture, NULL, fixture_setup, test_accept_self_signed, fixture_teardown);
  g_test_add ("/tern/certificates/other-certificate-refused", Fixture, NULL, fixture_setup, test_other_certificate_refused, fixture_teardown);

  status = g_test_run ();
  tern_test_servers_free (servers);
  return status;
}
