/* test-autoconfig-probe.c: probing the real Dovecot and Postfix through the
 * address map, a scripted server that hides STARTTLS, the login tests, and
 * tern-cli autoconfig / account add.
 *
 * Runs inside tern-test-session: account add keeps the password in the
 * keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-app-error.h"
#include "tern-autoconfig-private.h"
#include "tern-certificate-pins.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"
#include "test-autoconfig-util.h"
#include "test-fake-server.h"

static TernTestServers *servers;
static char *providers_dir;

typedef struct
{
  TernAutoconfig *autoconfig;
  TestResolver   *resolver;
  char           *dir;
  char           *profile;
  TernContext    *context;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  fixture->autoconfig = tern_autoconfig_new ();
  tern_autoconfig_set_providers_dir (fixture->autoconfig, providers_dir);
  tern_autoconfig_set_ca_file (fixture->autoconfig, tern_test_servers_get_ca_file (servers));
  tern_autoconfig_set_resolver (fixture->autoconfig, G_RESOLVER (fixture->resolver));
  tern_autoconfig_set_timeout (fixture->autoconfig, 30);
  tern_autoconfig_set_stagger (fixture->autoconfig, 20);
  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, "nothing.invalid:1",
                                              "127.0.0.1:1"));

  fixture->dir = tern_test_make_tmpdir ("tern-autoconfig-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  test_unref_and_wait (fixture->autoconfig);
  g_object_unref (fixture->resolver);
  test_unref_and_wait (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
}

/* @host:@port of the test domain goes to the real @service. */
static void
map_service (Fixture         *fixture,
             const char      *host,
             guint16          port,
             TernTestService  service)
{
  g_autofree char *from = g_strdup_printf ("%s:%u", host, port);
  g_autofree char *to =
    g_strdup_printf ("127.0.0.1:%u", tern_test_servers_get_port (servers, service));

  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, from, to));
}

static void
map_port (Fixture    *fixture,
          const char *host,
          guint16     port,
          guint16     local_port)
{
  g_autofree char *from = g_strdup_printf ("%s:%u", host, port);
  g_autofree char *to = g_strdup_printf ("127.0.0.1:%u", local_port);

  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, from, to));
}

static TernAutoconfigConfig *
detect_ok (Fixture    *fixture,
           const char *address)
{
  g_autoptr(GError) error = NULL;
  TernAutoconfigConfig *config = test_detect (fixture->autoconfig, address, &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

/* Probing */

static void
test_probe_implicit_tls (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;

  map_service (fixture, "imap.tern.test", 993, TERN_TEST_SERVICE_IMAPS);
  map_service (fixture, "imap.tern.test", 143, TERN_TEST_SERVICE_IMAP);
  map_service (fixture, "pop.tern.test", 995, TERN_TEST_SERVICE_POP3S);
  map_service (fixture, "pop.tern.test", 110, TERN_TEST_SERVICE_POP3);
  map_service (fixture, "smtp.tern.test", 465, TERN_TEST_SERVICE_SUBMISSIONS);
  map_service (fixture, "smtp.tern.test", 587, TERN_TEST_SERVICE_SUBMISSION);

  config = detect_ok (fixture, "alice@tern.test");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_PROBE);
  g_assert_false (config->insecure);
  g_assert_false (config->untrusted);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.tern.test", 993,
                      TERN_TLS_MODE_IMPLICIT, "alice@tern.test");
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.tern.test", 465,
                      TERN_TLS_MODE_IMPLICIT, "alice@tern.test");
}

static void
test_probe_starttls (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;

  map_service (fixture, "mail.tern.test", 143, TERN_TEST_SERVICE_IMAP);
  map_service (fixture, "mail.tern.test", 110, TERN_TEST_SERVICE_POP3);
  map_service (fixture, "smtp.tern.test", 587, TERN_TEST_SERVICE_SUBMISSION);

  config = detect_ok (fixture, "alice@tern.test");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_PROBE);
  g_assert_false (config->insecure);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "mail.tern.test", 143,
                      TERN_TLS_MODE_STARTTLS, "alice@tern.test");
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.tern.test", 587,
                      TERN_TLS_MODE_STARTTLS, "alice@tern.test");
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "imap.tern.test", "imap TLS"), ==,
                   TERN_AUTOCONFIG_RESULT_FAILED);
}

/* An IMAP server on 143 that offers no STARTTLS, for every connection:
 * answers CAPABILITY and LOGOUT until the client goes. */
static void
no_starttls_script (FakeServer *server,
                    int         fd)
{
  fake_write (fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] no STARTTLS here\r\n");
  for (;;)
    {
      g_autofree char *line = fake_read_line (server, fd);
      g_auto(GStrv) words = NULL;
      g_autofree char *reply = NULL;

      if (*line == '\0')
        return;
      words = g_strsplit (g_strchomp (line), " ", 3);
      if (g_strv_length (words) < 2)
        return;
      if (g_ascii_strcasecmp (words[1], "CAPABILITY") == 0)
        reply = g_strdup_printf ("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n", words[0]);
      else if (g_ascii_strcasecmp (words[1], "LOGOUT") == 0)
        reply = g_strdup_printf ("* BYE bye\r\n%s OK done\r\n", words[0]);
      else
        reply = g_strdup_printf ("%s BAD not here\r\n", words[0]);
      fake_write (fd, reply);
    }
}

static void
test_probe_no_starttls_advertised (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autoptr(FakeServer) fake = fake_server_start (no_starttls_script, NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;
  g_autofree char *received = NULL;

  /* IMAP on 143 ranks above POP3 on 995, but it cannot be secured. */
  map_port (fixture, "imap.tern.test", 143, fake->port);
  map_service (fixture, "pop.tern.test", 995, TERN_TEST_SERVICE_POP3S);
  map_service (fixture, "smtp.tern.test", 465, TERN_TEST_SERVICE_SUBMISSIONS);

  config = detect_ok (fixture, "alice@tern.test");
  fake_server_join (fake);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_POP3, "pop.tern.test", 995,
                      TERN_TLS_MODE_IMPLICIT, "alice@tern.test");
  g_assert_false (config->insecure);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "imap.tern.test", "imap STARTTLS"), ==,
                   TERN_AUTOCONFIG_RESULT_FAILED);
  /* Nothing that looks like a sign-in went to it. */
  received = fake_received_text (fake);
  g_assert_null (strstr (received, "LOGIN"));
  g_assert_null (strstr (received, "AUTHENTICATE"));
}

static void
test_probe_plaintext_flagged (Fixture       *fixture,
                              gconstpointer  data)
{
  /* Once for the STARTTLS probe, once for the plaintext one. */
  g_autoptr(FakeServer) fake = fake_server_start_many (no_starttls_script, NULL, 2);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  map_port (fixture, "imap.tern.test", 143, fake->port);
  map_service (fixture, "smtp.tern.test", 587, TERN_TEST_SERVICE_SUBMISSION);

  config = detect_ok (fixture, "alice@tern.test");
  fake_server_join (fake);
  /* Found, but only as plaintext, and the configuration says so. */
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.tern.test", 143,
                      TERN_TLS_MODE_PLAIN, "alice@tern.test");
  g_assert_true (config->insecure);
  g_assert_true (tern_autoconfig_server_is_insecure (g_ptr_array_index (config->incoming, 0)));
  /* The outgoing side had a secure server: no plaintext there. */
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.tern.test", 587,
                      TERN_TLS_MODE_STARTTLS, "alice@tern.test");
}

/* A configuration file wins over probing, and probing is not even tried. */
static void
test_probe_only_when_nothing_answers (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;
  g_autoptr(GPtrArray) attempts = NULL;

  map_service (fixture, "imap.gmail.com", 993, TERN_TEST_SERVICE_IMAPS);
  config = detect_ok (fixture, "alice@gmail.com");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_PROVIDER);
  attempts = tern_autoconfig_dup_attempts (fixture->autoconfig);
  for (guint i = 0; i < attempts->len; i++)
    g_assert_cmpint (((TernAutoconfigAttempt *) g_ptr_array_index (attempts, i))->source, !=,
                     TERN_AUTOCONFIG_SOURCE_PROBE);
}

/* Login tests */

static TernLoginTest *
login (Fixture                    *fixture,
       const char                 *address,
       const char                 *password,
       const TernAutoconfigServer *incoming,
       const TernAutoconfigServer *outgoing)
{
  /* Without the fixture's address map: these servers are named by their
   * real addresses. */
  g_autoptr(TernAutoconfig) autoconfig = tern_autoconfig_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TernLoginTest *test;

  tern_autoconfig_test_login_async (autoconfig, fixture->context, address, password, incoming,
                                    outgoing, NULL, test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  test = tern_autoconfig_test_login_finish (autoconfig, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (test);
  return test;
}

static TernAutoconfigServer *
local_server (TernAutoconfigProtocol  protocol,
              TernTestCert            cert,
              TernTestService         service,
              TernTlsMode             security,
              const char             *username_template)
{
  return tern_autoconfig_server_new (protocol, tern_test_servers_get_address (servers, cert),
                                     tern_test_servers_get_port (servers, service), security,
                                     username_template, tern_test_servers_get_user (servers, 0));
}

static void
test_login_ok_other_username (Fixture       *fixture,
                              gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  /* The template gives "alice"; the servers want the whole address. */
  g_autoptr(TernAutoconfigServer) imap =
    local_server (TERN_AUTOCONFIG_PROTOCOL_IMAP, TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                  TERN_TLS_MODE_IMPLICIT, "%EMAILLOCALPART%");
  g_autoptr(TernAutoconfigServer) smtp =
    local_server (TERN_AUTOCONFIG_PROTOCOL_SMTP, TERN_TEST_CERT_GOOD,
                  TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS, "%EMAILLOCALPART%");
  g_autoptr(TernLoginTest) test = login (fixture, user, password, imap, smtp);
  g_autoptr(TernAccount) account = NULL;

  g_assert_cmpint (test->status, ==, TERN_LOGIN_TEST_OK);
  g_assert_null (test->message);
  g_assert_cmpstr (test->incoming_username, ==, user);
  g_assert_cmpstr (test->outgoing_username, ==, user);

  account = tern_autoconfig_make_account ("Alice", user, imap, smtp, test);
  g_assert_cmpint (tern_account_get_protocol (account), ==, TERN_ACCOUNT_PROTOCOL_IMAP);
  g_assert_cmpstr (tern_account_get_incoming (account)->username, ==, user);
  g_assert_cmpstr (tern_account_get_outgoing (account)->username, ==, user);
  g_assert_cmpuint (tern_account_get_outgoing (account)->port, ==,
                    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSION));
}

static void
assert_wrong_password (TernLoginTest     *test,
                       TernLoginTestStep  step)
{
  g_test_message ("%s", test->message);
  g_assert_cmpint (test->status, ==, TERN_LOGIN_TEST_WRONG_PASSWORD);
  g_assert_cmpint (test->step, ==, step);
  g_assert_nonnull (strstr (test->message, "password"));
}

static void
test_login_wrong_password (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  g_autoptr(TernAutoconfigServer) imap =
    local_server (TERN_AUTOCONFIG_PROTOCOL_IMAP, TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_IMAPS,
                  TERN_TLS_MODE_IMPLICIT, "%EMAILADDRESS%");
  g_autoptr(TernAutoconfigServer) pop3 =
    local_server (TERN_AUTOCONFIG_PROTOCOL_POP3, TERN_TEST_CERT_GOOD, TERN_TEST_SERVICE_POP3S,
                  TERN_TLS_MODE_IMPLICIT, "%EMAILADDRESS%");
  /* Bob's name with Alice's password: only the SMTP step can fail. */
  g_autoptr(TernAutoconfigServer) smtp_bob =
    local_server (TERN_AUTOCONFIG_PROTOCOL_SMTP, TERN_TEST_CERT_GOOD,
                  TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT,
                  tern_test_servers_get_user (servers, 1));
  g_autoptr(TernLoginTest) imap_test = login (fixture, user, "wrong password", imap, smtp_bob);
  g_autoptr(TernLoginTest) pop3_test = login (fixture, user, "wrong password", pop3, smtp_bob);
  g_autoptr(TernLoginTest) smtp_test = login (fixture, user, password, imap, smtp_bob);

  assert_wrong_password (imap_test, TERN_LOGIN_TEST_STEP_INCOMING);
  g_assert_null (imap_test->incoming_username);
  assert_wrong_password (pop3_test, TERN_LOGIN_TEST_STEP_INCOMING);
  assert_wrong_password (smtp_test, TERN_LOGIN_TEST_STEP_OUTGOING);
  g_assert_cmpstr (smtp_test->incoming_username, ==, user);
  g_assert_null (smtp_test->outgoing_username);
}

static void
test_login_certificate_then_pin (Fixture       *fixture,
                                 gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  g_autoptr(TernAutoconfigServer) imap =
    local_server (TERN_AUTOCONFIG_PROTOCOL_IMAP, TERN_TEST_CERT_SELF_SIGNED,
                  TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT, "%EMAILADDRESS%");
  g_autoptr(TernAutoconfigServer) smtp =
    local_server (TERN_AUTOCONFIG_PROTOCOL_SMTP, TERN_TEST_CERT_GOOD,
                  TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT, "%EMAILADDRESS%");
  g_autoptr(TernLoginTest) test = login (fixture, user, password, imap, smtp);
  g_autoptr(TernLoginTest) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *label = g_strdup_printf ("%s:%u", imap->server->host, imap->server->port);

  g_test_message ("%s\n%s", test->message, test->cert_description);
  g_assert_cmpint (test->status, ==, TERN_LOGIN_TEST_CERTIFICATE);
  g_assert_cmpint (test->step, ==, TERN_LOGIN_TEST_STEP_INCOMING);
  g_assert_cmpstr (test->cert_host, ==, imap->server->host);
  g_assert_cmpuint (test->cert_port, ==, imap->server->port);
  g_assert_nonnull (strstr (test->message, label));
  g_assert_nonnull (strstr (test->message, "self-signed"));
  g_assert_nonnull (strstr (test->cert_description, "Issuer"));
  g_assert_nonnull (strstr (test->cert_description, test->cert_fingerprint));
  g_assert_cmpuint (strlen (test->cert_fingerprint), ==, 95);

  /* "Trust": that certificate for that host and port, and it works. */
  tern_certificate_pins_accept (tern_context_get_store (fixture->context), test->cert_host,
                                test->cert_port, test->cert_fingerprint, &error);
  g_assert_no_error (error);
  again = login (fixture, user, password, imap, smtp);
  g_assert_cmpint (again->status, ==, TERN_LOGIN_TEST_OK);
}

static void
test_login_oauth2_and_unreachable (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) gmail = NULL;
  g_autoptr(TernLoginTest) oauth2 = NULL;
  g_autoptr(TernAutoconfigServer) closed =
    tern_autoconfig_server_new (TERN_AUTOCONFIG_PROTOCOL_IMAP, "127.0.0.1", 1,
                                TERN_TLS_MODE_IMPLICIT, "%EMAILADDRESS%", "a@tern.test");
  g_autoptr(TernLoginTest) unreachable = NULL;

  /* Gmail takes no passwords: said so without connecting anywhere. */
  gmail = detect_ok (fixture, "someone@gmail.com");
  oauth2 = login (fixture, "someone@gmail.com", "password", g_ptr_array_index (gmail->incoming, 0),
                  g_ptr_array_index (gmail->outgoing, 0));
  g_test_message ("%s", oauth2->message);
  g_assert_cmpint (oauth2->status, ==, TERN_LOGIN_TEST_NEEDS_OAUTH2);
  g_assert_cmpint (oauth2->step, ==, TERN_LOGIN_TEST_STEP_INCOMING);
  g_assert_nonnull (strstr (oauth2->message, "OAuth2"));

  unreachable = login (fixture, "a@tern.test", "password", closed, NULL);
  g_test_message ("%s", unreachable->message);
  g_assert_cmpint (unreachable->status, ==, TERN_LOGIN_TEST_UNREACHABLE);
  g_assert_nonnull (strstr (unreachable->message, "127.0.0.1:1"));
}

/* tern-cli */

static char *
run_cli (const char  *stdin_text,
         int          expected_status,
         char       **err_out,
         const char  *first,
         ...) G_GNUC_NULL_TERMINATED;

static char *
run_cli (const char  *stdin_text,
         int          expected_status,
         char       **err_out,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;

  g_ptr_array_add (args, (char *) g_getenv ("TERN_CLI"));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  process = g_subprocess_newv ((const char * const *) args->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                 | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s\nstderr: %s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, expected_status);
  if (err_out != NULL)
    *err_out = g_steal_pointer (&err);
  return out;
}

static void
test_cli_autoconfig (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *json = run_cli (NULL, 0, NULL, "autoconfig", "--providers-dir", providers_dir,
                                   "--json", "--map", "nothing.invalid:1=127.0.0.1:1",
                                   "someone@yandex.com", NULL);
  g_autofree char *text = run_cli (NULL, 0, NULL, "autoconfig", "--providers-dir", providers_dir,
                                   "--map", "nothing.invalid:1=127.0.0.1:1", "someone@yandex.com",
                                   NULL);
  g_autofree char *none = run_cli (NULL, 1, NULL, "autoconfig", "--providers-dir", providers_dir,
                                   "--json", "--map", "nothing.invalid:1=127.0.0.1:1",
                                   "someone@nowhere.test", NULL);

  g_assert_true (g_str_has_prefix (json, "{\"address\":\"someone@yandex.com\",\"config\":{"
                                         "\"source\":\"provider\",\"origin\":\"yandex.xml\""));
  g_assert_nonnull (strstr (json, "\"host\":\"imap.yandex.com\",\"port\":993,\"security\":\"tls\""));
  g_assert_nonnull (strstr (json, "\"password\":\"app-password\""));
  g_assert_nonnull (strstr (json, "{\"source\":\"provider\",\"host\":\"yandex.com\",\"port\":0,"));
  g_assert_nonnull (strstr (json, "\"result\":\"found\""));
  g_assert_nonnull (strstr (json, "\"guess\":null"));

  g_assert_true (g_str_has_prefix (text, "source\tprovider\tyandex.xml\n"));
  g_assert_nonnull (strstr (text, "incoming\timap imap.yandex.com:993:tls\tsomeone@yandex.com\n"));
  g_assert_nonnull (strstr (text, "attempt\tprovider\tyandex.com\t0\t"));

  /* Nothing found: every attempt with its result, and no configuration. */
  g_assert_nonnull (strstr (none, "\"config\":null"));
  g_assert_nonnull (strstr (none, "\"guess\":{\"source\":\"guess\",\"origin\":\"hosting-default.xml\""));
  g_assert_nonnull (strstr (none, "\"host\":\"mail.nowhere.test\",\"port\":993,\"security\":\"tls\""));
  g_assert_nonnull (strstr (none, "{\"source\":\"probe\",\"host\":\"imap.nowhere.test\",\"port\":993,"));
  g_assert_nonnull (strstr (none, "\"result\":\"failed\""));
}

static void
test_cli_account_add_detected (Fixture       *fixture,
                               gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autofree char *password_line =
    g_strdup_printf ("%s\n", tern_test_servers_get_password (servers, 0));
  g_autofree char *imaps = g_strdup_printf (
    "imap.tern.test:993=127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  g_autofree char *smtps = g_strdup_printf (
    "smtp.tern.test:465=127.0.0.1:%u",
    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS));
  const char *ca_file = tern_test_servers_get_ca_file (servers);
  g_autofree char *err = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *id = NULL;
  g_autofree char *list = NULL;
  g_autofree char *empty = NULL;

  /* A wrong password: nothing is saved. */
  refused = run_cli ("wrong\n", 1, &err, "--profile", fixture->profile, "--ca-file", ca_file,
                     "account", "add", "--email", user, "--name", "Alice", "--password-stdin",
                     "--providers-dir", providers_dir, "--map", imaps, "--map", smtps, NULL);
  g_assert_nonnull (strstr (err, "refused the password"));
  empty = run_cli (NULL, 0, NULL, "--profile", fixture->profile, "account", "list", NULL);
  g_assert_cmpstr (empty, ==, "");

  id = run_cli (password_line, 0, NULL, "--profile", fixture->profile, "--ca-file", ca_file,
                "account", "add", "--email", user, "--name", "Alice", "--password-stdin",
                "--providers-dir", providers_dir, "--map", imaps, "--map", smtps, NULL);
  g_assert_cmpstr (id, ==, "1\n");
  list = run_cli (NULL, 0, NULL, "--profile", fixture->profile, "account", "list", "--json", NULL);
  g_assert_nonnull (strstr (list, "\"incoming\":{\"host\":\"imap.tern.test\",\"port\":993,"
                                  "\"security\":\"tls\",\"username\":\"alice@tern.test\""));
  g_assert_nonnull (strstr (list, "\"outgoing\":{\"host\":\"smtp.tern.test\",\"port\":465,"));
  g_assert_nonnull (strstr (list, "\"password\":\"keyring\""));
  g_assert_false (tern_test_tree_contains (fixture->dir, tern_test_servers_get_password (servers, 0)));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  providers_dir = g_test_build_filename (G_TEST_DIST, "..", "data", "providers", NULL);
  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

#define ADD(path, func) \
  g_test_add ("/autoconfig-probe/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("implicit-tls", test_probe_implicit_tls);
  ADD ("starttls", test_probe_starttls);
  ADD ("no-starttls-advertised", test_probe_no_starttls_advertised);
  ADD ("plaintext-flagged", test_probe_plaintext_flagged);
  ADD ("only-when-nothing-answers", test_probe_only_when_nothing_answers);
  ADD ("login-ok-other-username", test_login_ok_other_username);
  ADD ("login-wrong-password", test_login_wrong_password);
  ADD ("login-certificate-then-pin", test_login_certificate_then_pin);
  ADD ("login-oauth2-and-unreachable", test_login_oauth2_and_unreachable);
  ADD ("cli-autoconfig", test_cli_autoconfig);
  ADD ("cli-account-add-detected", test_cli_account_add_detected);
#undef ADD

  status = g_test_run ();
  tern_test_servers_free (servers);
  g_free (providers_dir);
  return status;
}
