/* tern-connection-private.h: what tern-connection.c (TCP, buffers, I/O) and
 * tern-connection-tls.c (GnuTLS session, verification, pinning) share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gnutls/gnutls.h>
#include <zlib.h>

#include "tern-connection.h"

G_BEGIN_DECLS

/* One TLS record's worth: a read never needs more than one call to fill it,
 * and lines or literals are copied out of it. */
#define TERN_CONNECTION_BUFFER_SIZE (16 * 1024)

struct _TernConnection
{
  GObject parent_instance;

  /* Where to, fixed at construction */
  char *host;
  guint16 port;
  TernTlsMode mode;
  char *label;               /* "host:port" or "[v6]:port", for messages */

  /* Settings */
  char *ca_file;
  char *pinned_fingerprint;  /* canonical form */
  guint connect_timeout;
  guint io_timeout;

  /* Owned references, NULL while not connected */
  GSocketConnection *connection;
  GSocket *socket;
  /* This connection's own credentials when it has a CA file or a pin
   * (see create_session()); NULL when the session uses the process-wide
   * ones with the system's trust. */
  gnutls_certificate_credentials_t credentials;
  gboolean system_trust_loaded;  /* in credentials */
  gnutls_session_t session;
  char *resume_key;          /* where its session tickets are kept */
  char *tls_description;

  /* The transport under GnuTLS: the cancellable of the running call, and
   * the real cause when a push or pull fails, so the caller sees "timed
   * out" or "cancelled" rather than GnuTLS's "pull error". */
  GCancellable *io_cancellable;
  GError *transport_error;
  gboolean transport_eof;
  /* What the socket gave and GnuTLS has not taken yet: it reads a record's
   * five-byte header, then its body, and a server's records are often
   * small (2 KB in a header sync), so reading for it one socket read at a
   * time was two system calls a record.  [tls_in_start, tls_in_end) are
   * unread; empty whenever a session starts. */
  guint8 *tls_in;
  gsize tls_in_start;
  gsize tls_in_end;

  /* What the last handshake saw, kept after a failure for the UI */
  GBytes *peer_der;
  char *peer_fingerprint;
  char *peer_description;
  guint verify_status;       /* gnutls_certificate_status_t bits */
  gboolean peer_verified;    /* the verify callback accepted the chain */

  /* Read buffer: bytes [rbuf_start, rbuf_end) are unread */
  guint8 *rbuf;
  gsize rbuf_start;
  gsize rbuf_end;

  /* Queued writes, sent by tern_connection_flush() */
  GByteArray *wbuf;

  /* COMPRESS=DEFLATE (RFC 4978), between the protocol and TLS; NULL
   * until tern_connection_start_compression().  zin holds compressed
   * bytes not yet inflated, zout deflated bytes on their way out. */
  z_stream *inflater;
  z_stream *deflater;
  guint8 *zin;
  guint8 *zout;
  gboolean inflate_pending;  /* inflate filled its output: it may hold more */
  gboolean inflate_ended;    /* the server ended its stream */

  /* Byte counts since connect: what the protocol read and wrote, and what
   * went to TLS or the socket after compression. */
  guint64 data_in;
  guint64 data_out;
  guint64 wire_in;
  guint64 wire_out;
};

/* What the connection was doing when an I/O error struck; each has its
 * own whole sentences, so that translations can be grammatical. */
typedef enum {
  TERN_IO_PHASE_RECEIVING,
  TERN_IO_PHASE_SENDING,
  TERN_IO_PHASE_HANDSHAKE,
} TernIoPhase;

void      _tern_connection_drop            (TernConnection  *self);
void      _tern_connection_set_io_error    (TernConnection  *self,
                                            GError          *io_error,
                                            TernIoPhase      phase,
                                            GError         **error);

gboolean  _tern_connection_tls_handshake   (TernConnection  *self,
                                            GCancellable    *cancellable,
                                            GError         **error);
gssize    _tern_connection_tls_recv        (TernConnection  *self,
                                            void            *buffer,
                                            gsize            n,
                                            GCancellable    *cancellable,
                                            GError         **error);
gssize    _tern_connection_tls_send        (TernConnection  *self,
                                            const void      *data,
                                            gsize            n,
                                            GCancellable    *cancellable,
                                            GError         **error);
void      _tern_connection_tls_bye         (TernConnection  *self,
                                            GCancellable    *cancellable);
void      _tern_connection_tls_free        (TernConnection  *self);
/* Whether received bytes wait inside the TLS layer: decrypted ones in
 * GnuTLS, or ones read from the socket for it. */
gboolean  _tern_connection_tls_has_input   (TernConnection  *self);
void      _tern_connection_clear_peer      (TernConnection  *self);

G_END_DECLS
