/* test-sasl.c: TernSasl without a server: mechanism choice, the messages
 * each mechanism sends, that SCRAM never asks for channel binding
 * (Dovecot 2.3 fails the exchange when it is offered), and SCRAM's salted
 * password (computed with GnuTLS, not libgsasl) against libgsasl's own
 * and its server side.  The exchanges with a real server are in
 * imap-client/test-imap-client-servers.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <gsasl.h>
#include <string.h>

#include "tern-sasl.h"
#include "tern-sasl-private.h"

static void
test_choose (void)
{
  const char *all[] = { "LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-1", NULL };
  const char *clear[] = { "plain", "login", NULL };
  const char *none[] = { "GSSAPI", "XOAUTH2", NULL };
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (tern_sasl_choose_mechanism (all, NULL, TRUE, &error), ==, "SCRAM-SHA-256");
  g_assert_cmpstr (tern_sasl_choose_mechanism (clear, NULL, TRUE, &error), ==, "PLAIN");
  g_assert_cmpstr (tern_sasl_choose_mechanism (all, "login", TRUE, &error), ==, "LOGIN");
  g_assert_cmpstr (tern_sasl_choose_mechanism (all, NULL, FALSE, &error), ==, "SCRAM-SHA-256");
  g_assert_no_error (error);

  /* Without TLS, no mechanism that sends the password. */
  g_assert_null (tern_sasl_choose_mechanism (clear, NULL, FALSE, &error));
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM);
  g_clear_error (&error);
  g_assert_null (tern_sasl_choose_mechanism (clear, "PLAIN", FALSE, &error));
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM);
  g_clear_error (&error);
  g_assert_null (tern_sasl_choose_mechanism (none, NULL, TRUE, &error));
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM);
  g_clear_error (&error);
  g_assert_null (tern_sasl_choose_mechanism (clear, "SCRAM-SHA-256", TRUE, &error));
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM);

  g_assert_true (tern_sasl_mechanism_has_initial_response ("PLAIN"));
  g_assert_true (tern_sasl_mechanism_has_initial_response ("SCRAM-SHA-256"));
  g_assert_false (tern_sasl_mechanism_has_initial_response ("LOGIN"));
  g_assert_false (tern_sasl_mechanism_has_initial_response ("CRAM-MD5"));
}

static char *
decode (const char *base64)
{
  gsize len;
  guchar *data = g_base64_decode (base64, &len);
  char *text = g_strndup ((const char *) data, len);

  g_free (data);
  return text;
}

static void
test_plain (void)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", "sec ret");
  g_autoptr(TernSaslResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  g_autofree guchar *raw = NULL;

  tern_sasl_start (sasl, "PLAIN", &error);
  g_assert_no_error (error);
  response = tern_sasl_step (sasl, NULL, &error);
  g_assert_no_error (error);
  raw = g_base64_decode (response, &len);
  g_assert_cmpmem (raw, len, "\0alice\0sec ret", 14);
  g_assert_true (tern_sasl_is_complete (sasl));
}

static void
test_login (void)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", "secret");
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  char *response;

  tern_sasl_start (sasl, "LOGIN", &error);
  g_assert_no_error (error);
  response = tern_sasl_step (sasl, "VXNlcm5hbWU6", &error);  /* "Username:" */
  g_assert_no_error (error);
  user = decode (response);
  tern_sasl_response_free (response);
  response = tern_sasl_step (sasl, "UGFzc3dvcmQ6", &error);  /* "Password:" */
  g_assert_no_error (error);
  password = decode (response);
  tern_sasl_response_free (response);
  g_assert_cmpstr (user, ==, "alice");
  g_assert_cmpstr (password, ==, "secret");
  g_assert_true (tern_sasl_is_complete (sasl));
}

/* Starts SCRAM-SHA-256 on @sasl; returns the client-first message. */
static char *
scram_client_first (TernSasl *sasl)
{
  g_autoptr(TernSaslResponse) first = NULL;
  g_autoptr(GError) error = NULL;

  tern_sasl_start (sasl, "SCRAM-SHA-256", &error);
  g_assert_no_error (error);
  first = tern_sasl_step (sasl, NULL, &error);
  g_assert_no_error (error);
  return decode (first);
}

static void
test_scram_no_channel_binding (void)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", "secret");
  g_autoptr(TernSaslResponse) bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = scram_client_first (sasl);

  g_test_message ("client-first: %s", text);
  /* "n,,": the client does not support channel binding; "y" or "p" would
   * make Dovecot 2.3 fail the exchange. */
  g_assert_true (g_str_has_prefix (text, "n,,n=alice,r="));
  g_assert_false (tern_sasl_is_complete (sasl));

  /* A server-first whose nonce does not extend ours is refused. */
  bad = tern_sasl_step (sasl, "cj1ib2d1cyxzPVFTWFpqWUdUWWdNPSxpPTQwOTY=", &error);
  g_assert_null (bad);
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER);
  g_test_message ("%s", error->message);
}

/* libgsasl's own Hi (), in hex: what ours must equal. */
static char *
gsasl_salted_password (Gsasl_hash  hash,
                       const char *password,
                       const char *salt_base64,
                       guint       iterations)
{
  char salted[GSASL_HASH_MAX_SIZE], client_key[GSASL_HASH_MAX_SIZE];
  char server_key[GSASL_HASH_MAX_SIZE], stored_key[GSASL_HASH_MAX_SIZE];
  g_autofree guchar *salt = NULL;
  gsize salt_length;
  GString *hex = g_string_new (NULL);

  salt = g_base64_decode (salt_base64, &salt_length);
  g_assert_cmpint (gsasl_scram_secrets_from_password (hash, password, iterations,
                                                      (const char *) salt, salt_length,
                                                      salted, client_key, server_key,
                                                      stored_key), ==, GSASL_OK);
  for (gsize i = 0; i < gsasl_hash_length (hash); i++)
    g_string_append_printf (hex, "%02x", (guchar) salted[i]);
  return g_string_free (hex, FALSE);
}

static void
test_scram_salted_password (void)
{
  /* RFC 7677's example, a password SASLprep changes (a soft hyphen maps
   * to nothing, U+00A0 to a space), and one iteration. */
  const struct {
    const char *password;
    const char *salt;
    guint iterations;
  } cases[] = {
    { "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096 },
    { "pen\u00adcil\u00a0\u0436", "QSXCR+Q6sek8bf92", 4096 },
    { "x", "c2FsdA==", 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *sha256 = NULL;
      g_autofree char *sha1 = NULL;
      g_autofree char *expected256 = gsasl_salted_password (GSASL_HASH_SHA256, cases[i].password,
                                                           cases[i].salt, cases[i].iterations);
      g_autofree char *expected1 = gsasl_salted_password (GSASL_HASH_SHA1, cases[i].password,
                                                         cases[i].salt, cases[i].iterations);

      g_assert_true (_tern_sasl_salted_password ("SCRAM-SHA-256", cases[i].password,
                                                 cases[i].salt, cases[i].iterations, &sha256));
      g_assert_cmpstr (sha256, ==, expected256);
      g_assert_true (_tern_sasl_salted_password ("scram-sha-1", cases[i].password,
                                                 cases[i].salt, cases[i].iterations, &sha1));
      g_assert_cmpstr (sha1, ==, expected1);
    }
  g_assert_false (_tern_sasl_salted_password ("PLAIN", "pencil", "c2FsdA==", 4096, NULL));
  g_assert_false (_tern_sasl_salted_password ("SCRAM-SHA-256", "pencil", "c2FsdA==", 0, NULL));
}

typedef struct
{
  const char *password;
  gboolean asked;
} ScramServer;

static int
scram_server_cb (Gsasl          *context,
                 Gsasl_session  *session,
                 Gsasl_property  property)
{
  ScramServer *server = gsasl_session_hook_get (session);

  if (property != GSASL_PASSWORD)
    return GSASL_NO_CALLBACK;
  g_assert_cmpstr (gsasl_property_fast (session, GSASL_AUTHID), ==, "alice");
  server->asked = TRUE;
  return gsasl_property_set (session, GSASL_PASSWORD, server->password);
}

/* A whole SCRAM-SHA-256 exchange, TernSasl against libgsasl's server:
 * the server checks our proof, we check its signature.  The client's
 * password differs from the server's only where SASLprep maps it. */
static void
scram_exchange (const char *client_password,
                const char *server_password,
                gboolean    accepted)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", client_password);
  ScramServer server = { server_password, FALSE };
  g_autoptr(GError) error = NULL;
  Gsasl *context = NULL;
  Gsasl_session *session = NULL;
  g_autofree char *challenge = NULL;
  char *response;
  int ret = GSASL_NEEDS_MORE;

  g_assert_cmpint (gsasl_init (&context), ==, GSASL_OK);
  gsasl_callback_set (context, scram_server_cb);
  g_assert_cmpint (gsasl_server_start (context, "SCRAM-SHA-256", &session), ==, GSASL_OK);
  gsasl_session_hook_set (session, &server);
  tern_sasl_start (sasl, "SCRAM-SHA-256", &error);
  g_assert_no_error (error);

  /* client-first, server-first, client-final, server-final */
  for (int round = 0; round < 2; round++)
    {
      response = tern_sasl_step (sasl, challenge, &error);
      g_assert_no_error (error);
      g_clear_pointer (&challenge, g_free);
      ret = gsasl_step64 (session, response, &challenge);
      tern_sasl_response_free (response);
      if (ret != GSASL_NEEDS_MORE)
        break;
    }
  g_assert_true (server.asked);
  if (!accepted)
    {
      g_assert_cmpint (ret, ==, GSASL_AUTHENTICATION_ERROR);
      g_assert_false (tern_sasl_is_complete (sasl));
    }
  else
    {
      g_assert_cmpint (ret, ==, GSASL_OK);
      response = tern_sasl_step (sasl, challenge, &error);
      g_assert_no_error (error);
      tern_sasl_response_free (response);
      g_assert_true (tern_sasl_is_complete (sasl));
    }
  gsasl_free (challenge);
  challenge = NULL;
  gsasl_finish (session);
  gsasl_done (context);
}

/* A server may choose the iteration count, not make us hash for hours:
 * past a million the exchange fails at once, saying why. */
static void
test_scram_iterations_bounded (void)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", "secret");
  g_autoptr(TernSaslResponse) proof = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = scram_client_first (sasl);
  g_autofree char *server_first = NULL;
  g_autofree char *challenge = NULL;
  gint64 start;

  server_first = g_strdup_printf ("r=%sserver,s=QSXCR+Q6sek8bf92,i=2000000",
                                  strstr (text, ",r=") + 3);
  challenge = g_base64_encode ((const guchar *) server_first, strlen (server_first));
  start = g_get_monotonic_time ();
  proof = tern_sasl_step (sasl, challenge, &error);
  g_assert_null (proof);
  g_assert_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER);
  g_assert_nonnull (strstr (error->message, "2000000"));
  g_test_message ("%s (%.3f s)", error->message, (g_get_monotonic_time () - start) / 1e6);
  g_assert_false (tern_sasl_is_complete (sasl));
}

static void
test_scram_exchange (void)
{
  scram_exchange ("pencil", "pencil", TRUE);
  scram_exchange ("pen\u00adcil\u00a0", "pencil ", TRUE);
  scram_exchange ("pencil", "pencils", FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/sasl/choose", test_choose);
  g_test_add_func ("/tern/sasl/plain", test_plain);
  g_test_add_func ("/tern/sasl/login", test_login);
  g_test_add_func ("/tern/sasl/scram-no-channel-binding", test_scram_no_channel_binding);
  g_test_add_func ("/tern/sasl/scram-salted-password", test_scram_salted_password);
  g_test_add_func ("/tern/sasl/scram-exchange", test_scram_exchange);
  g_test_add_func ("/tern/sasl/scram-iterations-bounded", test_scram_iterations_bounded);

  return g_test_run ();
}
