/* test-test-servers.c: the C side of the test servers works.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-test-servers.h"

#include <string.h>
#include <unistd.h>

static const TernTestService all_services[] = {
  TERN_TEST_SERVICE_IMAP,
  TERN_TEST_SERVICE_IMAPS,
  TERN_TEST_SERVICE_POP3,
  TERN_TEST_SERVICE_POP3S,
  TERN_TEST_SERVICE_LMTP,
  TERN_TEST_SERVICE_SUBMISSION,
  TERN_TEST_SERVICE_SUBMISSIONS,
};

static const TernTestCert all_certs[] = {
  TERN_TEST_CERT_GOOD,
  TERN_TEST_CERT_EXPIRED,
  TERN_TEST_CERT_SELF_SIGNED,
  TERN_TEST_CERT_WRONG_HOST,
};

static gboolean
port_accepts (const char *address,
              guint16     port,
              GError    **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (inet, port);

  g_socket_client_set_timeout (client, 5);
  conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (sa), NULL,
                                  error);
  if (conn == NULL)
    return FALSE;
  return g_io_stream_close (G_IO_STREAM (conn), NULL, error);
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_start_stop (void)
{
  g_autoptr(GError) error = NULL;
  TernTestServers *servers;
  guint16 ports[G_N_ELEMENTS (all_services)];
  g_autofree char *dir = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *cur = NULL;
  g_autofree char *new_dir = NULL;
  gint64 start_time;


  start_time = g_get_monotonic_time ();
  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  g_assert_nonnull (servers);
  g_test_message ("started in %.2f s",
                  (g_get_monotonic_time () - start_time) / 1e6);

  dir = g_strdup (tern_test_servers_get_dir (servers));
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (tern_test_servers_get_ca_file (servers),
                              G_FILE_TEST_IS_REGULAR));

  for (guint i = 0; i < G_N_ELEMENTS (all_certs); i++)
    {
      const char *file = tern_test_servers_get_cert_file (servers,
                                                          all_certs[i]);
      const char *address = tern_test_servers_get_address (servers,
                                                           all_certs[i]);

      g_assert_nonnull (file);
      g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
      g_assert_nonnull (address);
      g_assert_true (g_str_has_prefix (address, "127.0.0."));
    }
  g_assert_cmpstr (tern_test_servers_get_address (servers,
                                                  TERN_TEST_CERT_GOOD),
                   ==, "127.0.0.1");

  g_assert_cmpstr (tern_test_servers_get_user (servers, 0), ==,
                   "alice@tern.test");
  g_assert_cmpstr (tern_test_servers_get_user (servers, 1), ==,
                   "bob@tern.test");
  g_assert_cmpuint (strlen (tern_test_servers_get_password (servers, 0)), >=,
                    8);
  g_assert_cmpstr (tern_test_servers_get_password (servers, 0), !=,
                   tern_test_servers_get_password (servers, 1));

  for (guint i = 0; i < G_N_ELEMENTS (all_services); i++)
    {
      ports[i] = tern_test_servers_get_port (servers, all_services[i]);
      g_assert_cmpuint (ports[i], >, 1024);
      port_accepts ("127.0.0.1", ports[i], &error);
      g_assert_no_error (error);
    }
  /* The TLS services answer on every certificate's address. */
  for (guint i = 0; i < G_N_ELEMENTS (all_certs); i++)
    {
      const char *address = tern_test_servers_get_address (servers,
                                                           all_certs[i]);

      port_accepts (address,
                    tern_test_servers_get_port (servers,
                                                TERN_TEST_SERVICE_IMAPS),
                    &error);
      g_assert_no_error (error);
      port_accepts (address,
                    tern_test_servers_get_port (servers,
                                                TERN_TEST_SERVICE_POP3),
                    &error);
      g_assert_no_error (error);
    }

  start_time = g_get_monotonic_time ();
  tern_test_servers_add_messages (servers, "alice@tern.test", NULL, 20,
                                  &error);
  g_assert_no_error (error);
  g_test_message ("added 20 messages in %.2f s",
                  (g_get_monotonic_time () - start_time) / 1e6);
  maildir = g_build_filename (dir, "mail", "alice", "Maildir", NULL);
  cur = g_build_filename (maildir, "cur", NULL);
  new_dir = g_build_filename (maildir, "new", NULL);
  g_assert_cmpuint (count_files (cur) + count_files (new_dir), ==, 20);

  tern_test_servers_add_messages (servers, "bob@tern.test", "Archive", 3,
                                  &error);
  g_assert_no_error (error);

  /* Errors carry the script's message. */
  g_assert_false (tern_test_servers_add_messages (servers, "nobody@tern.test",
                                                  NULL, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_test_message ("expected error: %s", error->message);
  g_assert_nonnull (strstr (error->message, "add-messages"));
  g_clear_error (&error);

  start_time = g_get_monotonic_time ();
  tern_test_servers_free (servers);
  g_test_message ("stopped in %.2f s",
                  (g_get_monotonic_time () - start_time) / 1e6);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS (all_services); i++)
    {
      g_assert_false (port_accepts ("127.0.0.1", ports[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
      g_clear_error (&error);
    }
}

static void
test_autoptr (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  guint16 port;


  {
    g_autoptr(TernTestServers) servers = tern_test_servers_start (&error);

    g_assert_no_error (error);
    dir = g_strdup (tern_test_servers_get_dir (servers));
    port = tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS);
  }

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_false (port_accepts ("127.0.0.1", port, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static void
test_missing_script (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("TERN_TEST_SERVERS"));
  TernTestServers *servers;

  g_setenv ("TERN_TEST_SERVERS", "/nonexistent/tern-test-servers", TRUE);
  servers = tern_test_servers_start (&error);
  g_assert_null (servers);
  g_assert_nonnull (error);
  g_test_message ("expected error: %s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/tern-test-servers"));
  if (saved != NULL)
    g_setenv ("TERN_TEST_SERVERS", saved, TRUE);
  else
    g_unsetenv ("TERN_TEST_SERVERS");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* First: it changes the environment, which is only safe before other
   * tests have started GLib's worker threads. */
  g_test_add_func ("/test-servers/missing-script", test_missing_script);
  g_test_add_func ("/test-servers/start-stop", test_start_stop);
  g_test_add_func ("/test-servers/autoptr", test_autoptr);

  return g_test_run ();
}
