/* test-smtp-client-servers.c: TernSmtpClient against the real Postfix of
 * tests/servers/: every sign-in method over 465 (implicit TLS) and 587
 * (STARTTLS), delivery into bob's Dovecot Maildir with the body intact,
 * 100 messages over one pipelined connection, a wrong password, and a
 * refused recipient next to an accepted one.
 *
 * Postfix's SIZE limit (50 MB) is too big to test here, and the shared
 * configuration cannot change per test: test-smtp-client-fake covers SIZE.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "tern-smtp-client.h"
#include "tern-test-servers.h"

static TernTestServers *servers;
static GError *start_error;
static char *bob_maildir;

#define ALICE 0
#define BOB 1

static const char body_text[] =
  "First line\r\n"
  ".\r\n"
  ".x\r\n"
  "..\r\n"
  "bare LF\n"
  "Кириллица в теле\r\n"
  "last line\r\n";

/* What Postfix stores (Dovecot keeps LF endings in Maildir). */
static const char body_stored[] =
  "First line\n"
  ".\n"
  ".x\n"
  "..\n"
  "bare LF\n"
  "Кириллица в теле\n"
  "last line\n";

static TernSmtpClient *
client_for (TernTestService service,
            TernTlsMode     mode)
{
  g_autoptr(TernConnection) connection =
    tern_connection_new ("127.0.0.1", tern_test_servers_get_port (servers, service), mode);

  tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  tern_connection_set_io_timeout (connection, 20);
  return tern_smtp_client_new (connection);
}

static TernSmtpClient *
signed_in_client (TernTestService service,
                  TernTlsMode     mode,
                  const char     *mechanism)
{
  g_autoptr(TernSmtpClient) client = client_for (service, mode);
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_smtp_client_open (client, "tern.test", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_smtp_client_login (client, tern_test_servers_get_user (servers, ALICE),
                                         tern_test_servers_get_password (servers, ALICE),
                                         mechanism, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static char *
make_message (const char *marker)
{
  g_autofree char *subject = g_base64_encode ((const guchar *) "Проверка связи",
                                              strlen ("Проверка связи"));

  return g_strdup_printf ("From: alice@tern.test\r\n"
                          "To: bob@tern.test\r\n"
                          "Subject: =?UTF-8?B?%s?=\r\n"
                          "X-Tern-Marker: %s\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "\r\n"
                          "%s",
                          subject, marker, body_text);
}

/* Polls bob's new/ and cur/ for up to 5 s for the message with @marker. */
static char *
wait_for_delivery (const char *marker)
{
  g_autofree char *needle = g_strdup_printf ("X-Tern-Marker: %s\n", marker);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      const char *subdirs[] = { "new", "cur" };

      for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
        {
          g_autofree char *path = g_build_filename (bob_maildir, subdirs[s], NULL);
          g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *file = g_build_filename (path, name, NULL);
              g_autofree char *contents = NULL;

              if (g_file_get_contents (file, &contents, NULL, NULL) &&
                  strstr (contents, needle) != NULL)
                return g_steal_pointer (&contents);
            }
        }
      g_usleep (20000);
    }
  return NULL;
}

static guint
count_delivered (void)
{
  guint count = 0;
  const char *subdirs[] = { "new", "cur" };

  for (guint s = 0; s < G_N_ELEMENTS (subdirs); s++)
    {
      g_autofree char *path = g_build_filename (bob_maildir, subdirs[s], NULL);
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

      while (dir != NULL && g_dir_read_name (dir) != NULL)
        count++;
    }
  return count;
}

static void
assert_delivered (const char *marker)
{
  g_autofree char *stored = wait_for_delivery (marker);
  g_autofree char *subject = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) "Проверка связи",
                                              strlen ("Проверка связи"));
  const char *body;

  g_assert_nonnull (stored);
  /* Postfix and Dovecot add Received and Return-Path above ours. */
  g_assert_true (g_str_has_prefix (stored, "Return-Path: <alice@tern.test>\n"));
  g_assert_nonnull (strstr (stored, "\nReceived: "));
  subject = g_strdup_printf ("\nSubject: =?UTF-8?B?%s?=\n", encoded);
  g_assert_nonnull (strstr (stored, subject));
  body = strstr (stored, "\n\n");
  g_assert_nonnull (body);
  g_assert_cmpstr (body + 2, ==, body_stored);
}

static void
send_one (TernSmtpClient *client)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *marker = g_uuid_string_random ();
  g_autofree char *text = make_message (marker);
  g_autoptr(GBytes) message = g_bytes_new (text, strlen (text));
  const char *to[] = { "bob@tern.test", NULL };

  g_assert_true (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                              &results, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_true (tern_smtp_recipient_result_is_accepted (results->pdata[0]));
  assert_delivered (marker);
}

typedef struct
{
  const char *mechanism;
  TernTestService service;
  TernTlsMode mode;
} SendCase;

static void
test_send (gconstpointer data)
{
  const SendCase *c = data;
  g_autoptr(TernSmtpClient) client = client_for (c->service, c->mode);
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_smtp_client_open (client, "tern.test", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (tern_smtp_client_get_connection (client)));
  g_test_message ("AUTH %s; SIZE %" G_GUINT64_FORMAT,
                  tern_smtp_client_get_extension (client, "AUTH"),
                  tern_smtp_client_get_size_limit (client));
  g_assert_true (tern_smtp_client_has_extension (client, "PIPELINING"));
  g_assert_true (tern_smtp_client_has_extension (client, "8BITMIME"));
  g_assert_true (tern_smtp_client_login (client, tern_test_servers_get_user (servers, ALICE),
                                         tern_test_servers_get_password (servers, ALICE),
                                         c->mechanism, NULL, &error));
  g_assert_no_error (error);
  send_one (client);
  g_assert_true (tern_smtp_client_noop (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tern_smtp_client_quit (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_wrong_password (void)
{
  g_autoptr(TernSmtpClient) client = client_for (TERN_TEST_SERVICE_SUBMISSIONS,
                                                 TERN_TLS_MODE_IMPLICIT);
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_smtp_client_open (client, "tern.test", NULL, &error));
  g_assert_false (tern_smtp_client_login (client, "alice@tern.test", "wrong", NULL, NULL,
                                          &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "535"));
  tern_smtp_client_quit (client, NULL, NULL);
}

static void
test_refused_recipient (void)
{
  g_autoptr(TernSmtpClient) client = signed_in_client (TERN_TEST_SERVICE_SUBMISSIONS,
                                                       TERN_TLS_MODE_IMPLICIT, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *marker = g_uuid_string_random ();
  g_autofree char *text = make_message (marker);
  g_autoptr(GBytes) message = g_bytes_new (text, strlen (text));
  const char *to[] = { "nobody@tern.test", "bob@tern.test", NULL };
  TernSmtpRecipientResult *refused;

  g_assert_true (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                              &results, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  refused = results->pdata[0];
  g_test_message ("%u %s %s", refused->code, refused->enhanced_code, refused->text);
  g_assert_false (tern_smtp_recipient_result_is_accepted (refused));
  g_assert_cmpuint (refused->code / 100, ==, 5);
  g_assert_cmpstr (refused->enhanced_code, ==, "5.1.1");
  g_assert_true (tern_smtp_recipient_result_is_accepted (results->pdata[1]));
  assert_delivered (marker);

  /* Nobody at all: nothing is sent, the transaction is reset. */
  g_clear_pointer (&results, g_ptr_array_unref);
  to[1] = NULL;
  g_assert_false (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                               &results, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PERMANENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_true (tern_smtp_client_noop (client, NULL, &error));
  g_assert_no_error (error);
  tern_smtp_client_quit (client, NULL, NULL);
}

static void
test_hundred (void)
{
  g_autoptr(TernSmtpClient) client = signed_in_client (TERN_TEST_SERVICE_SUBMISSIONS,
                                                       TERN_TLS_MODE_IMPLICIT, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *last_marker = NULL;
  guint before = count_delivered ();
  const char *to[] = { "bob@tern.test", NULL };
  gint64 start, elapsed;
  gint64 deadline;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *marker = g_uuid_string_random ();
      g_autofree char *text = make_message (marker);
      g_autoptr(GString) big = g_string_new (text);
      g_autoptr(GBytes) message = NULL;

      /* About 33 KB, like FACTS.md's measurement. */
      for (guint line = 0; line < 450; line++)
        g_string_append (big, "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n");
      message = g_bytes_new (big->str, big->len);
      g_assert_true (tern_smtp_client_send_bytes (client, "alice@tern.test", to, message,
                                                  NULL, NULL, &error));
      g_assert_no_error (error);
      g_free (last_marker);
      last_marker = g_steal_pointer (&marker);
    }
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("100 messages of ~33 KB over one connection: %.3f s",
                  elapsed / (double) G_USEC_PER_SEC);
  tern_smtp_client_quit (client, NULL, NULL);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (count_delivered () < before + 100 && g_get_monotonic_time () < deadline)
    g_usleep (50000);
  g_assert_cmpuint (count_delivered (), >=, before + 100);
}

static void
test_servers_started (void)
{
  g_assert_no_error (start_error);
}

static const SendCase send_cases[] = {
  { "SCRAM-SHA-256", TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT },
  { "PLAIN", TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT },
  { "LOGIN", TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT },
  { "CRAM-MD5", TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT },
  { NULL, TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT },
  { "SCRAM-SHA-256", TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS },
  { "PLAIN", TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS },
  { "LOGIN", TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS },
  { "CRAM-MD5", TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS },
};

static char *
read_bob_maildir (void)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (tern_test_servers_get_dir (servers), "servers.ini",
                                            NULL);

  if (!g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_key_file_get_string (ini, "users", "maildir1", NULL);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&start_error);
  if (servers == NULL)
    {
      g_test_add_func ("/tern/smtp/client/servers/start", test_servers_started);
      return g_test_run ();
    }
  bob_maildir = read_bob_maildir ();
  g_assert_nonnull (bob_maildir);

  for (guint i = 0; i < G_N_ELEMENTS (send_cases); i++)
    {
      g_autofree char *path =
        g_strdup_printf ("/tern/smtp/client/servers/send/%s/%s",
                         send_cases[i].mode == TERN_TLS_MODE_IMPLICIT ? "465" : "587",
                         send_cases[i].mechanism ? send_cases[i].mechanism : "default");

      g_test_add_data_func (path, &send_cases[i], test_send);
    }
  g_test_add_func ("/tern/smtp/client/servers/wrong-password", test_wrong_password);
  g_test_add_func ("/tern/smtp/client/servers/refused-recipient", test_refused_recipient);
  g_test_add_func ("/tern/smtp/client/servers/hundred", test_hundred);

  ret = g_test_run ();
  g_free (bob_maildir);
  tern_test_servers_free (servers);
  return ret;
}
