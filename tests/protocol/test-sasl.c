/* test-sasl.c: TernSasl without a server: mechanism choice, the messages
 * each mechanism sends, and that SCRAM never asks for channel binding
 * (Dovecot 2.3 fails the exchange when it is offered).  The exchanges with
 * a real server are in imap-client/test-imap-client-servers.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "tern-sasl.h"

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

static void
test_scram_no_channel_binding (void)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new ("mail.example.org:993", "alice", "secret");
  g_autoptr(TernSaslResponse) first = NULL;
  g_autoptr(TernSaslResponse) bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  tern_sasl_start (sasl, "SCRAM-SHA-256", &error);
  g_assert_no_error (error);
  first = tern_sasl_step (sasl, NULL, &error);
  g_assert_no_error (error);
  text = decode (first);
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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/sasl/choose", test_choose);
  g_test_add_func ("/tern/sasl/plain", test_plain);
  g_test_add_func ("/tern/sasl/login", test_login);
  g_test_add_func ("/tern/sasl/scram-no-channel-binding", test_scram_no_channel_binding);

  return g_test_run ();
}
