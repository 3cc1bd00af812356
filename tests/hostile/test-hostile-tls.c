/* test-hostile-tls.c: certificates that must be refused (self-signed, by an
 * unknown authority, for another host, expired) and servers that offer only
 * TLS 1.0 or 1.1, on IMAP, POP3 and SMTP, with STARTTLS and with implicit
 * TLS.  Each is refused with its own message, and nothing but the
 * protocol's way to STARTTLS is ever sent in clear.
 *
 * The real Dovecot serves the bad certificates on 127.0.0.2–4; Postfix
 * listens on 127.0.0.1 only, so SMTP's bad certificates, and every old TLS
 * version, come from the scripted server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "tern-test-servers.h"
#include "test-hostile-common.h"

#define LEGACY_1_0 "NORMAL:-VERS-ALL:+VERS-TLS1.0"
#define LEGACY_1_1 "NORMAL:-VERS-ALL:+VERS-TLS1.1"

static TestCerts *certs;
static TernTestServers *servers;

typedef enum {
  KIND_SELF_SIGNED,
  KIND_UNKNOWN_CA,
  KIND_WRONG_HOST,
  KIND_EXPIRED,
  KIND_TLS_1_0,
  KIND_TLS_1_1,
} Kind;

typedef struct {
  const char *name;
  int code;          /* TERN_CONNECTION_ERROR_* */
  const char *says;  /* in the error message */
} KindInfo;

static const KindInfo kinds[] = {
  [KIND_SELF_SIGNED] = { "self-signed", TERN_CONNECTION_ERROR_CERT_UNTRUSTED, "is self-signed" },
  [KIND_UNKNOWN_CA] = { "unknown-ca", TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                        "is not signed by a trusted" },
  [KIND_WRONG_HOST] = { "wrong-host", TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY,
                        "wrong.example" },
  [KIND_EXPIRED] = { "expired", TERN_CONNECTION_ERROR_CERT_EXPIRED, "expired on" },
  [KIND_TLS_1_0] = { "tls-1.0", TERN_CONNECTION_ERROR_TLS_VERSION_TOO_OLD, "older than 1.2" },
  [KIND_TLS_1_1] = { "tls-1.1", TERN_CONNECTION_ERROR_TLS_VERSION_TOO_OLD, "older than 1.2" },
};

typedef struct {
  HostileProtocol protocol;
  TernTlsMode mode;
  Kind kind;
} Case;

static void
assert_refused (const Case *c,
                GObject    *client,
                GError     *error)
{
  const KindInfo *info = &kinds[c->kind];

  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, TERN_CONNECTION_ERROR, info->code);
  g_assert_nonnull (strstr (error->message, info->says));
  hostile_assert_dead (c->protocol, client);
}

/* The scripted server: speaks the protocol up to the handshake. */

#define SEND(text)   { FAKE_STEP_SEND, text, 0 }
#define EXPECT(text) { FAKE_STEP_EXPECT, text, 0 }
#define TLS_TRY      { FAKE_STEP_TLS_TRY, NULL, 0 }
#define DRAIN        { FAKE_STEP_DRAIN, NULL, 0 }
#define END          { FAKE_STEP_END, NULL, 0 }

static const FakeStep implicit_steps[] = { TLS_TRY, DRAIN, END };

static const FakeStep imap_starttls_steps[] = {
  SEND ("* OK [CAPABILITY IMAP4rev1 STARTTLS] hello\r\n"), EXPECT ("T1 STARTTLS\r\n"),
  SEND ("T1 OK begin\r\n"), TLS_TRY, DRAIN, END,
};
static const FakeStep pop3_starttls_steps[] = {
  SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
  EXPECT ("STLS\r\n"), SEND ("+OK begin\r\n"), TLS_TRY, DRAIN, END,
};
static const FakeStep smtp_starttls_steps[] = {
  SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
  SEND ("250-fake\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"), EXPECT ("STARTTLS\r\n"),
  SEND ("220 go\r\n"), TLS_TRY, DRAIN, END,
};

static const struct {
  const FakeStep *steps;
  const char *sent;
} starttls_scripts[] = {
  [HOSTILE_IMAP] = { imap_starttls_steps, "T1 STARTTLS\r\n" },
  [HOSTILE_POP3] = { pop3_starttls_steps, "CAPA\r\nSTLS\r\n" },
  [HOSTILE_SMTP] = { smtp_starttls_steps, "EHLO " HOSTILE_DOMAIN "\r\nSTARTTLS\r\n" },
};

static void
fake_server_for (const Case   *c,
                 FakeDialogue *dialogue)
{
  dialogue->steps = c->mode == TERN_TLS_MODE_IMPLICIT ? implicit_steps
                                                      : starttls_scripts[c->protocol].steps;
  dialogue->key = certs->key;
  dialogue->crt = certs->good;
  switch (c->kind)
    {
    case KIND_SELF_SIGNED:
      dialogue->crt = certs->self_signed;
      break;
    case KIND_WRONG_HOST:
      dialogue->crt = certs->wrong_host;
      break;
    case KIND_EXPIRED:
      dialogue->crt = certs->expired;
      break;
    case KIND_TLS_1_0:
      dialogue->priority = LEGACY_1_0;
      break;
    case KIND_TLS_1_1:
      dialogue->priority = LEGACY_1_1;
      break;
    case KIND_UNKNOWN_CA:
    default:
      break;
    }
}

static void
test_fake (gconstpointer data)
{
  const Case *c = data;
  FakeDialogue dialogue = { 0 };
  g_autoptr(FakeServer) server = NULL;
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(GObject) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  fake_server_for (c, &dialogue);
  server = fake_server_start_dialogue (&dialogue);
  /* An unknown authority: the client is not told about the test CA. */
  connection = fake_connection_new (server, c->mode,
                                    c->kind == KIND_UNKNOWN_CA ? NULL : certs->ca_file);
  client = hostile_client_new (c->protocol, connection);

  g_assert_false (hostile_client_open (c->protocol, client, &error));
  assert_refused (c, client, error);
  g_assert_finalize_object (g_steal_pointer (&client));
  g_clear_object (&connection);
  fake_server_join (server);

  g_assert_cmpint (dialogue.tls_result, <, 0);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, c->mode == TERN_TLS_MODE_IMPLICIT ? ""
                                                               : starttls_scripts[c->protocol].sent);
  g_assert_cmpuint (server->received_tls->len, ==, 0);
}

/* The real Dovecot, for IMAP and POP3. */

static TernTestService
service_for (const Case *c)
{
  gboolean implicit = c->mode == TERN_TLS_MODE_IMPLICIT;

  if (c->protocol == HOSTILE_IMAP)
    return implicit ? TERN_TEST_SERVICE_IMAPS : TERN_TEST_SERVICE_IMAP;
  return implicit ? TERN_TEST_SERVICE_POP3S : TERN_TEST_SERVICE_POP3;
}

static TernTestCert
cert_for (Kind kind)
{
  switch (kind)
    {
    case KIND_SELF_SIGNED:
      return TERN_TEST_CERT_SELF_SIGNED;
    case KIND_WRONG_HOST:
      return TERN_TEST_CERT_WRONG_HOST;
    case KIND_EXPIRED:
      return TERN_TEST_CERT_EXPIRED;
    case KIND_UNKNOWN_CA:
    default:
      return TERN_TEST_CERT_GOOD;
    }
}

static void
test_real (gconstpointer data)
{
  const Case *c = data;
  const char *address = tern_test_servers_get_address (servers, cert_for (c->kind));
  guint16 port = tern_test_servers_get_port (servers, service_for (c));
  g_autoptr(TernConnection) connection = tern_connection_new (address, port, c->mode);
  g_autoptr(GObject) client = NULL;
  g_autoptr(GError) error = NULL;

  tern_connection_set_io_timeout (connection, 10);
  tern_connection_set_connect_timeout (connection, 10);
  if (c->kind != KIND_UNKNOWN_CA)
    tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  client = hostile_client_new (c->protocol, connection);

  g_assert_false (hostile_client_open (c->protocol, client, &error));
  assert_refused (c, client, error);
  /* The certificate is kept for the user to look at. */
  g_assert_nonnull (tern_connection_get_peer_fingerprint (connection));
  g_assert_finalize_object (g_steal_pointer (&client));
}

/* For comparison: the same servers with the good certificate sign in. */
static void
test_real_good (gconstpointer data)
{
  const Case *c = data;
  guint16 port = tern_test_servers_get_port (servers, service_for (c));
  g_autoptr(TernConnection) connection = tern_connection_new ("127.0.0.1", port, c->mode);
  g_autoptr(GObject) client = hostile_client_new (c->protocol, connection);
  g_autoptr(GError) error = NULL;

  tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  hostile_client_open (c->protocol, client, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  gnutls_global_init ();
  certs = test_certs_new ();
  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

  for (HostileProtocol p = HOSTILE_IMAP; p <= HOSTILE_SMTP; p++)
    for (guint m = 0; m < 2; m++)
      {
        TernTlsMode mode = m == 0 ? TERN_TLS_MODE_STARTTLS : TERN_TLS_MODE_IMPLICIT;
        const char *mode_name = m == 0 ? "starttls" : "implicit";

        for (Kind k = KIND_SELF_SIGNED; k <= KIND_TLS_1_1; k++)
          {
            Case *c = g_new0 (Case, 1);
            g_autofree char *path = NULL;

            *c = (Case) { p, mode, k };
            g_ptr_array_add (cases, c);
            path = g_strdup_printf ("/tern/hostile/tls/fake/%s/%s/%s",
                                    hostile_protocol_name (p), mode_name, kinds[k].name);
            g_test_add_data_func (path, c, test_fake);
            if (p == HOSTILE_SMTP || k >= KIND_TLS_1_0)
              continue;
            g_clear_pointer (&path, g_free);
            path = g_strdup_printf ("/tern/hostile/tls/real/%s/%s/%s",
                                    hostile_protocol_name (p), mode_name, kinds[k].name);
            g_test_add_data_func (path, c, test_real);
            if (k == KIND_SELF_SIGNED)
              {
                g_clear_pointer (&path, g_free);
                path = g_strdup_printf ("/tern/hostile/tls/real/%s/%s/good",
                                        hostile_protocol_name (p), mode_name);
                g_test_add_data_func (path, c, test_real_good);
              }
          }
      }

  result = g_test_run ();
  tern_test_servers_free (servers);
  test_certs_free (certs);
  gnutls_global_deinit ();
  return result;
}
