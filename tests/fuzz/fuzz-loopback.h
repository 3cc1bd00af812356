/* fuzz-loopback.h: a server on 127.0.0.1 that answers one client with the
 * fuzz input, for targets that drive a whole protocol client (POP3, SMTP)
 * through TernConnection, where every reply is parsed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "tern-connection.h"

G_BEGIN_DECLS

typedef struct _FuzzLoopback FuzzLoopback;

/* Starts a thread that accepts one connection, writes @data to it, shuts
 * its sending side (so the client reads the end of the stream after the
 * input) and reads what the client sends until it closes.  @data must live
 * until fuzz_loopback_finish(). */
FuzzLoopback   *fuzz_loopback_start      (const guint8  *data,
                                          gsize          size);
/* A plain-text connection to the loopback server, not connected yet. */
TernConnection *fuzz_loopback_connection (FuzzLoopback  *loopback);
/* Waits for the server to see the client close (drop every reference to
 * the connection first), and frees it; returns the bytes the client
 * sent. */
gsize           fuzz_loopback_finish     (FuzzLoopback  *loopback);

G_END_DECLS
