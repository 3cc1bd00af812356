/* tern-fault-proxy.h: a TCP proxy on 127.0.0.1 that cuts connections on
 * purpose, for the fault tests (tests/faults/README.md).
 *
 * The proxy forwards bytes between Tern and a real server (Dovecot,
 * Postfix) without looking at them, so TLS passes through untouched: the
 * test certificates name 127.0.0.1, and an account pointed at the proxy's
 * port verifies the real server's certificate.  Each connection runs in a
 * thread of its own; the proxy itself runs in a thread of the test.
 *
 * A fault is armed once and fires once: the bytes of one direction are
 * counted from the moment it is armed, across every connection made
 * since, and when that count reaches the fault's offset the connection
 * carrying it is cut.  Connections after that pass untouched, so a
 * clean run can follow without disarming.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  TERN_FAULT_NONE,
  TERN_FAULT_DROP,     /* both sides reset (RST) at the offset            */
  TERN_FAULT_STALL,    /* nothing forwarded from the offset on for a few
                        * seconds, then both sides closed                 */
  TERN_FAULT_TRUNCATE, /* exactly offset bytes forwarded, then both sides
                        * closed cleanly (FIN)                            */
} TernFaultKind;

typedef enum {
  TERN_FAULT_TO_CLIENT, /* the server's bytes */
  TERN_FAULT_TO_SERVER, /* the client's bytes */
} TernFaultDirection;

typedef struct
{
  TernFaultKind kind;
  TernFaultDirection direction;
  guint64 offset;
  guint stall_seconds;
  /* Fires only once the other direction has moved this many bytes: with
   * offset 0, "the server's first reply after the client sent N bytes",
   * e.g. the reply to a message's data. */
  guint64 after;
} TernFault;

typedef struct _TernFaultProxy TernFaultProxy;

/* Runs before the bytes are forwarded, in the connection's thread, with
 * the client's and the server's connections: a test can speak the
 * protocol in clear there (a tampering server) and return TRUE to go on
 * forwarding, or FALSE to close both. */
typedef gboolean (*TernFaultPreamble) (GIOStream *client,
                                       GIOStream *server,
                                       gpointer   user_data);

/* A proxy to @host:@port, listening on a free port of 127.0.0.1. */
TernFaultProxy *tern_fault_proxy_new          (const char        *host,
                                               guint16            port,
                                               GError           **error);
void            tern_fault_proxy_free         (TernFaultProxy    *proxy);
guint16         tern_fault_proxy_get_port     (TernFaultProxy    *proxy);

void            tern_fault_proxy_set_preamble (TernFaultProxy    *proxy,
                                               TernFaultPreamble  preamble,
                                               gpointer           user_data);

/* Arms @fault (kind TERN_FAULT_NONE disarms) and restarts the counts. */
void            tern_fault_proxy_arm          (TernFaultProxy    *proxy,
                                               const TernFault   *fault);
/* Whether the armed fault has cut a connection. */
gboolean        tern_fault_proxy_fired        (TernFaultProxy    *proxy);
/* Bytes forwarded in @direction since the last tern_fault_proxy_arm(). */
guint64         tern_fault_proxy_get_bytes    (TernFaultProxy    *proxy,
                                               TernFaultDirection direction);
/* While set, every new connection is closed at once: the server looks
 * down (for queueing work "offline"). */
void            tern_fault_proxy_set_refusing (TernFaultProxy    *proxy,
                                               gboolean           refusing);

/* "truncate:to-client:1234", "stall:to-server:99:2" (for 2 s),
 * "drop:to-client:0@5000" (after 5000 bytes the other way), and back;
 * FALSE for text that is not one. */
char           *tern_fault_to_string          (const TernFault   *fault);
gboolean        tern_fault_parse              (const char        *text,
                                               TernFault         *fault);

/* A fault of a random kind and direction at a random offset below the
 * direction's total (bytes a clean run of the operation moved). */
void            tern_fault_pick               (GRand             *rand,
                                               guint64            to_client_total,
                                               guint64            to_server_total,
                                               TernFault         *fault);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernFaultProxy, tern_fault_proxy_free)

G_END_DECLS
