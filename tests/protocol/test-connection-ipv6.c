/* test-connection-ipv6.c: TernConnection over IPv6 loopback, and the
 * [host]:port form of IPv6 literals in its messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-connection.h"
#include "tern-test-util.h"

typedef struct
{
  GSocketListener *listener;
  guint16 port;
  GThread *thread;
  char *received;
} Server;

/* Greets, reads one line, says goodbye. */
static gpointer
serve_one (gpointer user_data)
{
  Server *server = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  GOutputStream *out;

  connection = g_socket_listener_accept (server->listener, NULL, NULL, NULL);
  g_assert_nonnull (connection);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);

  g_output_stream_write_all (out, "* OK IPv6 here\r\n", 16, NULL, NULL, NULL);
  server->received = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  g_output_stream_write_all (out, "* BYE\r\n", 7, NULL, NULL, NULL);
  return NULL;
}

static void
test_plain_over_ipv6 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(TernConnection) connection = NULL;
  g_autofree char *greeting = NULL;
  Server server = { 0 };

  server.listener = g_socket_listener_new ();
  g_assert_true (g_socket_listener_add_address (server.listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
  g_assert_no_error (error);
  server.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  server.thread = g_thread_new ("ipv6-server", serve_one, &server);

  connection = tern_connection_new ("::1", server.port, TERN_TLS_MODE_PLAIN);
  tern_connection_set_io_timeout (connection, 10);
  g_assert_true (tern_connection_connect (connection, NULL, &error));
  g_assert_no_error (error);
  greeting = tern_connection_read_line (connection, 1024, NULL, NULL, &error);
  g_assert_cmpstr (greeting, ==, "* OK IPv6 here");
  g_assert_true (tern_connection_write_all (connection, "a LOGOUT\r\n", 10, NULL, &error));
  g_assert_no_error (error);

  g_thread_join (server.thread);
  g_assert_cmpstr (server.received, ==, "a LOGOUT");
  g_free (server.received);
  g_socket_listener_close (server.listener);
  g_object_unref (server.listener);
}

static void
test_refused_names_bracketed_host (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernConnection) connection = NULL;
  g_autofree char *label = NULL;
  guint16 port = tern_test_closed_port (G_SOCKET_FAMILY_IPV6);

  connection = tern_connection_new ("::1", port, TERN_TLS_MODE_IMPLICIT);
  g_assert_false (tern_connection_connect (connection, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED);
  label = g_strdup_printf ("[::1]:%u", port);
  g_assert_nonnull (strstr (error->message, label));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/connection/ipv6/plain", test_plain_over_ipv6);
  g_test_add_func ("/tern/connection/ipv6/refused", test_refused_names_bracketed_host);

  return g_test_run ();
}
