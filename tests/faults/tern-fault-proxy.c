/* tern-fault-proxy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "tern-fault-proxy.h"

struct _TernFaultProxy
{
  GSocketListener *listener;
  GSocketAddress *upstream;
  GCancellable *cancellable;
  GThread *accept_thread;
  guint16 port;

  GMutex lock;
  GPtrArray *threads; /* GThread of each connection */
  TernFaultPreamble preamble;
  gpointer preamble_data;
  TernFault fault;
  gboolean fired;
  gboolean refusing;
  guint64 bytes[2]; /* by TernFaultDirection */
};

typedef struct
{
  TernFaultProxy *proxy;
  GSocketConnection *client;
} Connection;

static const char *const kind_names[] = { "none", "drop", "stall", "truncate" };
static const char *const direction_names[] = { "to-client", "to-server" };

static gboolean
stopping (TernFaultProxy *proxy)
{
  return g_cancellable_is_cancelled (proxy->cancellable);
}

/* Sleeps @seconds, waking early when the proxy is freed. */
static void
stall (TernFaultProxy *proxy,
       guint           seconds)
{
  for (guint i = 0; i < seconds * 10 && !stopping (proxy); i++)
    g_usleep (G_USEC_PER_SEC / 10);
}

static void
reset (GSocket *socket)
{
  /* SO_LINGER with a zero timeout: close() sends RST, not FIN. */
  struct linger linger = { 1, 0 };

  setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
}

static gboolean
send_all (GSocket    *socket,
          const char *data,
          gsize       len)
{
  while (len > 0)
    {
      gssize n = g_socket_send (socket, data, len, NULL, NULL);

      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* How many of the @n bytes read in @direction may go on; sets *@cut to
 * the armed fault when it fires in them (kind TERN_FAULT_NONE otherwise). */
static gsize
account_bytes (TernFaultProxy     *proxy,
               TernFaultDirection  direction,
               gsize               n,
               TernFault          *cut)
{
  gsize allowed = n;

  g_mutex_lock (&proxy->lock);
  cut->kind = TERN_FAULT_NONE;
  if (proxy->fault.kind != TERN_FAULT_NONE && !proxy->fired
      && proxy->fault.direction == direction
      && proxy->bytes[direction] + n > proxy->fault.offset
      && proxy->bytes[!direction] >= proxy->fault.after)
    {
      /* Past the offset already when the other side was not far enough:
       * nothing more of this direction gets through. */
      allowed = proxy->fault.offset > proxy->bytes[direction]
                ? proxy->fault.offset - proxy->bytes[direction] : 0;
      *cut = proxy->fault;
      proxy->fired = TRUE;
    }
  proxy->bytes[direction] += allowed;
  g_mutex_unlock (&proxy->lock);
  return allowed;
}

/* Forwards both ways until a side closes, the fault fires or the proxy
 * stops. */
static void
forward (TernFaultProxy *proxy,
         GSocket        *client,
         GSocket        *server)
{
  GPollFD fds[2] = {
    { g_socket_get_fd (client), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
    { g_socket_get_fd (server), G_IO_IN | G_IO_HUP | G_IO_ERR, 0 },
  };
  char buffer[16384];

  while (!stopping (proxy))
    {
      if (g_poll (fds, 2, 100) <= 0)
        continue;
      for (guint i = 0; i < 2; i++)
        {
          GSocket *from = i == 0 ? client : server;
          GSocket *to = i == 0 ? server : client;
          TernFaultDirection direction = i == 0 ? TERN_FAULT_TO_SERVER : TERN_FAULT_TO_CLIENT;
          TernFault cut;
          gssize n;
          gsize allowed;

          if (fds[i].revents == 0)
            continue;
          n = g_socket_receive (from, buffer, sizeof buffer, NULL, NULL);
          if (n <= 0)
            return;
          allowed = account_bytes (proxy, direction, n, &cut);
          if (allowed > 0 && !send_all (to, buffer, allowed))
            return;
          switch (cut.kind)
            {
            case TERN_FAULT_NONE:
              break;
            case TERN_FAULT_DROP:
              reset (client);
              reset (server);
              return;
            case TERN_FAULT_STALL:
              stall (proxy, cut.stall_seconds);
              return;
            case TERN_FAULT_TRUNCATE:
              g_socket_shutdown (client, FALSE, TRUE, NULL);
              g_socket_shutdown (server, FALSE, TRUE, NULL);
              return;
            }
        }
    }
}

static gpointer
connection_thread (gpointer data)
{
  Connection *connection = data;
  TernFaultProxy *proxy = connection->proxy;
  g_autoptr(GSocketConnection) client = connection->client;
  g_autoptr(GSocketConnection) server = NULL;
  g_autoptr(GSocketClient) connector = g_socket_client_new ();
  TernFaultPreamble preamble;
  gpointer preamble_data;
  gboolean refusing;

  g_free (connection);
  g_mutex_lock (&proxy->lock);
  refusing = proxy->refusing;
  preamble = proxy->preamble;
  preamble_data = proxy->preamble_data;
  g_mutex_unlock (&proxy->lock);

  if (!refusing)
    server = g_socket_client_connect (connector, G_SOCKET_CONNECTABLE (proxy->upstream),
                                      proxy->cancellable, NULL);
  if (server != NULL)
    {
      /* A safety net: a side that stops reading cannot hang the test. */
      g_socket_set_timeout (g_socket_connection_get_socket (client), 60);
      g_socket_set_timeout (g_socket_connection_get_socket (server), 60);
      if (preamble == NULL || preamble (G_IO_STREAM (client), G_IO_STREAM (server), preamble_data))
        forward (proxy, g_socket_connection_get_socket (client),
                 g_socket_connection_get_socket (server));
      g_io_stream_close (G_IO_STREAM (server), NULL, NULL);
    }
  g_io_stream_close (G_IO_STREAM (client), NULL, NULL);
  return NULL;
}

static gpointer
accept_thread (gpointer data)
{
  TernFaultProxy *proxy = data;

  while (!stopping (proxy))
    {
      GSocketConnection *client = g_socket_listener_accept (proxy->listener, NULL,
                                                            proxy->cancellable, NULL);
      Connection *connection;

      if (client == NULL)
        continue;
      connection = g_new0 (Connection, 1);
      connection->proxy = proxy;
      connection->client = client;
      g_mutex_lock (&proxy->lock);
      g_ptr_array_add (proxy->threads,
                       g_thread_new ("fault-proxy-connection", connection_thread, connection));
      g_mutex_unlock (&proxy->lock);
    }
  return NULL;
}

TernFaultProxy *
tern_fault_proxy_new (const char  *host,
                      guint16      port,
                      GError     **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  TernFaultProxy *proxy = g_new0 (TernFaultProxy, 1);

  g_mutex_init (&proxy->lock);
  proxy->threads = g_ptr_array_new ();
  proxy->cancellable = g_cancellable_new ();
  proxy->upstream = g_inet_socket_address_new_from_string (host, port);
  proxy->listener = g_socket_listener_new ();
  if (proxy->upstream == NULL
      || !g_socket_listener_add_address (proxy->listener, any_port, G_SOCKET_TYPE_STREAM,
                                         G_SOCKET_PROTOCOL_TCP, NULL, &bound, error))
    {
      if (proxy->upstream == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "“%s” is not an IP address", host);
      tern_fault_proxy_free (proxy);
      return NULL;
    }
  proxy->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  proxy->accept_thread = g_thread_new ("fault-proxy", accept_thread, proxy);
  return proxy;
}

void
tern_fault_proxy_free (TernFaultProxy *proxy)
{
  g_cancellable_cancel (proxy->cancellable);
  if (proxy->accept_thread != NULL)
    g_thread_join (proxy->accept_thread);
  /* No new thread can be added now. */
  for (guint i = 0; i < proxy->threads->len; i++)
    g_thread_join (g_ptr_array_index (proxy->threads, i));
  g_ptr_array_unref (proxy->threads);
  g_socket_listener_close (proxy->listener);
  g_object_unref (proxy->listener);
  g_clear_object (&proxy->upstream);
  g_object_unref (proxy->cancellable);
  g_mutex_clear (&proxy->lock);
  g_free (proxy);
}

guint16
tern_fault_proxy_get_port (TernFaultProxy *proxy)
{
  return proxy->port;
}

void
tern_fault_proxy_set_preamble (TernFaultProxy    *proxy,
                               TernFaultPreamble  preamble,
                               gpointer           user_data)
{
  g_mutex_lock (&proxy->lock);
  proxy->preamble = preamble;
  proxy->preamble_data = user_data;
  g_mutex_unlock (&proxy->lock);
}

void
tern_fault_proxy_arm (TernFaultProxy  *proxy,
                      const TernFault *fault)
{
  g_mutex_lock (&proxy->lock);
  proxy->fault = *fault;
  proxy->fired = FALSE;
  proxy->bytes[0] = proxy->bytes[1] = 0;
  g_mutex_unlock (&proxy->lock);
}

gboolean
tern_fault_proxy_fired (TernFaultProxy *proxy)
{
  gboolean fired;

  g_mutex_lock (&proxy->lock);
  fired = proxy->fired;
  g_mutex_unlock (&proxy->lock);
  return fired;
}

guint64
tern_fault_proxy_get_bytes (TernFaultProxy     *proxy,
                            TernFaultDirection  direction)
{
  guint64 bytes;

  g_mutex_lock (&proxy->lock);
  bytes = proxy->bytes[direction];
  g_mutex_unlock (&proxy->lock);
  return bytes;
}

void
tern_fault_proxy_set_refusing (TernFaultProxy *proxy,
                               gboolean        refusing)
{
  g_mutex_lock (&proxy->lock);
  proxy->refusing = refusing;
  g_mutex_unlock (&proxy->lock);
}

char *
tern_fault_to_string (const TernFault *fault)
{
  g_autoptr(GString) text = g_string_new (NULL);

  g_string_printf (text, "%s:%s:%" G_GUINT64_FORMAT, kind_names[fault->kind],
                   direction_names[fault->direction], fault->offset);
  if (fault->kind == TERN_FAULT_STALL)
    g_string_append_printf (text, ":%u", fault->stall_seconds);
  if (fault->after > 0)
    g_string_append_printf (text, "@%" G_GUINT64_FORMAT, fault->after);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gboolean
tern_fault_parse (const char *text,
                  TernFault  *fault)
{
  g_auto(GStrv) at = g_strsplit (text, "@", 2);
  g_auto(GStrv) parts = g_strsplit (at[0], ":", -1);
  guint n = g_strv_length (parts);
  guint64 value;

  memset (fault, 0, sizeof *fault);
  if (n < 3 || n > 4)
    return FALSE;
  for (guint i = 1; i < G_N_ELEMENTS (kind_names); i++)
    if (g_str_equal (parts[0], kind_names[i]))
      fault->kind = i;
  if (fault->kind == TERN_FAULT_NONE)
    return FALSE;
  if (g_str_equal (parts[1], direction_names[TERN_FAULT_TO_SERVER]))
    fault->direction = TERN_FAULT_TO_SERVER;
  else if (!g_str_equal (parts[1], direction_names[TERN_FAULT_TO_CLIENT]))
    return FALSE;
  if (!g_ascii_string_to_unsigned (parts[2], 10, 0, G_MAXUINT64, &fault->offset, NULL))
    return FALSE;
  fault->stall_seconds = 1;
  if (n == 4)
    {
      if (fault->kind != TERN_FAULT_STALL
          || !g_ascii_string_to_unsigned (parts[3], 10, 0, 600, &value, NULL))
        return FALSE;
      fault->stall_seconds = value;
    }
  if (at[1] != NULL
      && !g_ascii_string_to_unsigned (at[1], 10, 0, G_MAXUINT64, &fault->after, NULL))
    return FALSE;
  return TRUE;
}

void
tern_fault_pick (GRand   *rand,
                 guint64  to_client_total,
                 guint64  to_server_total,
                 TernFault *fault)
{
  guint64 total;
  double share;

  fault->kind = g_rand_int_range (rand, TERN_FAULT_DROP, TERN_FAULT_TRUNCATE + 1);
  /* By bytes (reading mail is mostly the server's, sending it the
   * client's), but at least a third of the faults each way. */
  total = to_client_total + to_server_total;
  share = total > 0 ? (double) to_server_total / total : 0.5;
  fault->direction = g_rand_double (rand) * 3 < 1 + share ? TERN_FAULT_TO_SERVER
                                                          : TERN_FAULT_TO_CLIENT;
  total = fault->direction == TERN_FAULT_TO_CLIENT ? to_client_total : to_server_total;
  fault->offset = total > 0 ? (guint64) (g_rand_double (rand) * total) : 0;
  fault->stall_seconds = g_rand_int_range (rand, 1, 3);
  fault->after = 0;
}
