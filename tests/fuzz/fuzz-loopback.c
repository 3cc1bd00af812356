/* fuzz-loopback.c: one loopback server per input, see fuzz-loopback.h.
 *
 * The listening socket is made once and kept for the whole run; each
 * input gets a thread that serves exactly one connection, so inputs never
 * mix.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include "fuzz-loopback.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

struct _FuzzLoopback
{
  const guint8 *data;
  gsize size;
  gsize received;
  GThread *thread;
};

static int listen_fd = -1;
static guint16 listen_port;

static void
ensure_listener (void)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;

  if (listen_fd >= 0)
    return;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (listen_fd, >=, 0);
  g_assert_cmpint (bind (listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (listen_fd, 4), ==, 0);
  g_assert_cmpint (getsockname (listen_fd, (struct sockaddr *) &addr, &len), ==, 0);
  listen_port = ntohs (addr.sin_port);
}

static gpointer
serve (gpointer user_data)
{
  FuzzLoopback *loopback = user_data;
  struct pollfd pfd = { listen_fd, POLLIN, 0 };
  gsize sent = 0;
  char buffer[4096];
  ssize_t n;
  int fd;

  /* A client that never connects (it failed before) must not hang the
   * run. */
  if (poll (&pfd, 1, 10 * 1000) != 1)
    return NULL;
  fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return NULL;
  /* The client may stop reading early (an error closes the connection):
   * then the write fails, which is fine. */
  while (sent < loopback->size)
    {
      n = send (fd, loopback->data + sent, loopback->size - sent, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      sent += (gsize) n;
    }
  shutdown (fd, SHUT_WR);
  while ((n = recv (fd, buffer, sizeof buffer, 0)) > 0)
    loopback->received += (gsize) n;
  close (fd);
  return NULL;
}

FuzzLoopback *
fuzz_loopback_start (const guint8 *data,
                     gsize         size)
{
  FuzzLoopback *loopback = g_new0 (FuzzLoopback, 1);

  ensure_listener ();
  loopback->data = data;
  loopback->size = size;
  loopback->thread = g_thread_new ("fuzz-loopback", serve, loopback);
  return loopback;
}

TernConnection *
fuzz_loopback_connection (FuzzLoopback *loopback)
{
  TernConnection *connection = tern_connection_new ("127.0.0.1", listen_port,
                                                    TERN_TLS_MODE_PLAIN);

  /* Never hang a fuzzing run: the server always ends its stream, so this
   * is only a safety net. */
  tern_connection_set_io_timeout (connection, 10);
  tern_connection_set_connect_timeout (connection, 10);
  return connection;
}

gsize
fuzz_loopback_finish (FuzzLoopback *loopback)
{
  gsize received;

  g_thread_join (loopback->thread);
  received = loopback->received;
  g_free (loopback);
  return received;
}
