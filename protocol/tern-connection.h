/* tern-connection.h: one TCP connection to a mail server, in clear, with
 * implicit TLS, or upgraded with STARTTLS; certificate verification and
 * pinning; buffered line and literal I/O.
 *
 * The API is blocking and meant for one worker thread at a time.  Every call
 * that may wait takes a GCancellable, which may be cancelled from any thread
 * and unblocks the call.  A failing I/O call closes the connection.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-protocol-error.h"

G_BEGIN_DECLS

typedef enum {
  TERN_TLS_MODE_IMPLICIT, /* TLS handshake right after TCP connect (993, 995, 465) */
  TERN_TLS_MODE_STARTTLS, /* clear first; tern_connection_start_tls() upgrades */
  TERN_TLS_MODE_PLAIN,    /* never TLS (tests, local servers) */
} TernTlsMode;

#define TERN_TYPE_TLS_MODE (tern_tls_mode_get_type ())
GType tern_tls_mode_get_type (void);

#define TERN_TYPE_CONNECTION (tern_connection_get_type ())
G_DECLARE_FINAL_TYPE (TernConnection, tern_connection, TERN, CONNECTION, GObject)

/* Seconds; the default of both the connect and the I/O timeout.  0 means
 * no timeout. */
#define TERN_CONNECTION_DEFAULT_TIMEOUT 60

TernConnection *tern_connection_new                   (const char      *host,
                                                       guint16          port,
                                                       TernTlsMode      mode);

/* Settings; they take effect at the next connect.
 *
 * ca_file: a PEM file of extra authorities, trusted besides the system's.
 * pinned_fingerprint: the SHA-256 of the certificate the user accepted for
 * exactly this host and port (see tern_fingerprint_normalize() for the
 * format; anything else is a programming error).  It makes a certificate
 * that fails verification acceptable only when it is that very one; a
 * different failing certificate is then reported as
 * %TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH.  A certificate that verifies is
 * accepted whatever the pin.  Callers store pins per host:port and must
 * never hand one to a connection to another host or port. */
void            tern_connection_set_ca_file           (TernConnection  *self,
                                                       const char      *ca_file);
const char     *tern_connection_get_ca_file           (TernConnection  *self);
void            tern_connection_set_pinned_fingerprint (TernConnection *self,
                                                       const char      *fingerprint);
const char     *tern_connection_get_pinned_fingerprint (TernConnection *self);
void            tern_connection_set_connect_timeout   (TernConnection  *self,
                                                       guint            seconds);
guint           tern_connection_get_connect_timeout   (TernConnection  *self);
void            tern_connection_set_io_timeout        (TernConnection  *self,
                                                       guint            seconds);
guint           tern_connection_get_io_timeout        (TernConnection  *self);

const char     *tern_connection_get_host              (TernConnection  *self);
guint16         tern_connection_get_port              (TernConnection  *self);
TernTlsMode     tern_connection_get_mode              (TernConnection  *self);
/* "host:port", or "[v6]:port": how messages to the user name the server. */
const char     *tern_connection_get_label             (TernConnection  *self);
gboolean        tern_connection_is_connected          (TernConnection  *self);
gboolean        tern_connection_is_tls                (TernConnection  *self);
/* e.g. "(TLS1.3)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)";
 * NULL before TLS is up. */
const char     *tern_connection_get_tls_description   (TernConnection  *self);
/* Whether the TLS handshake resumed an earlier session of this process
 * with the same server and settings (a session ticket); the certificate of
 * that session was verified again. */
gboolean        tern_connection_is_resumed            (TernConnection  *self);

/* The leaf certificate the server presented in the last handshake, kept
 * after a failed handshake so the UI can offer to accept it.  NULL when no
 * certificate was seen. */
const char     *tern_connection_get_peer_fingerprint     (TernConnection *self);
GBytes         *tern_connection_get_peer_certificate_der (TernConnection *self);
const char     *tern_connection_get_peer_description     (TernConnection *self);

/* Resolves the host (IPv6 and IPv4), connects within the connect timeout,
 * sets TCP_NODELAY, and in IMPLICIT mode runs the TLS handshake.  On a
 * certificate error the peer certificate getters describe what was shown. */
gboolean        tern_connection_connect               (TernConnection  *self,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
/* Called right after reading the server's go-ahead (IMAP "OK Begin TLS",
 * POP3 "+OK", SMTP "220").  If the server sent anything after that line,
 * it fails with %TERN_CONNECTION_ERROR_STARTTLS_INJECTION and closes;
 * otherwise the only bytes sent before the handshake are GnuTLS's
 * ClientHello.  The write queue must be empty. */
gboolean        tern_connection_start_tls             (TernConnection  *self,
                                                       GCancellable    *cancellable,
                                                       GError         **error);

/* Turns on COMPRESS=DEFLATE (RFC 4978): raw deflate both ways, inside
 * TLS.  Called right after reading the server's tagged OK to COMPRESS;
 * anything the server sent after that line is already compressed and is
 * inflated.  Every flush ends with a sync flush, so the server sees each
 * command at once.  The write queue must be empty; afterwards STARTTLS is
 * no longer possible. */
gboolean        tern_connection_start_compression     (TernConnection  *self,
                                                       GError         **error);
gboolean        tern_connection_is_compressed         (TernConnection  *self);
/* Bytes since connect: @data_* as the protocol read and wrote them,
 * @wire_* after compression (what TLS encrypted or the socket carried).
 * Any pointer may be NULL. */
void            tern_connection_get_byte_counts       (TernConnection  *self,
                                                       guint64         *data_in,
                                                       guint64         *data_out,
                                                       guint64         *wire_in,
                                                       guint64         *wire_out);

/* Waits until something can be read, for at most @timeout_ms (-1: no
 * limit), without reading it: for IMAP IDLE.  Returns TRUE when data is
 * ready; FALSE with no error set when the time ran out; FALSE with an
 * error when cancelled or the peer closed.  Cancellation and time running
 * out leave the connection usable. */
gboolean        tern_connection_wait_readable         (TernConnection  *self,
                                                       gint             timeout_ms,
                                                       GCancellable    *cancellable,
                                                       GError         **error);

/* Reads one line ended by CRLF or LF and returns it without the ending,
 * NUL-terminated (it may contain NULs: @len_out gives the length).  A line
 * longer than @max_len bytes fails with LINE_TOO_LONG after reading at most
 * @max_len + 16 KiB, and closes the connection.  Once its first byte has
 * come, the rest must come within three I/O timeouts (TIMED_OUT otherwise),
 * as must the @n bytes of tern_connection_read_exact(): keep @n to a chunk
 * a slow link sends in that time (64 KiB, say). */
char           *tern_connection_read_line             (TernConnection  *self,
                                                       gsize            max_len,
                                                       gsize           *len_out,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
/* The same, into @line (its content replaced; no NUL added): a reader of
 * many lines keeps one buffer instead of allocating one a line. */
gboolean        tern_connection_read_line_into        (TernConnection  *self,
                                                       GByteArray      *line,
                                                       gsize            max_len,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
/* Exactly @n bytes (an IMAP literal), into @buffer or, in chunks, to
 * @stream.  The peer closing before the end is CLOSED. */
gboolean        tern_connection_read_exact            (TernConnection  *self,
                                                       void            *buffer,
                                                       gsize            n,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
gboolean        tern_connection_read_to_stream        (TernConnection  *self,
                                                       GOutputStream   *stream,
                                                       gsize            n,
                                                       GCancellable    *cancellable,
                                                       GError         **error);

/* tern_connection_queue() appends without I/O; flush sends the queue;
 * write_all sends the queue and then @data, in as few segments as the
 * kernel allows.  Pipelining clients queue many commands, then flush. */
void            tern_connection_queue                 (TernConnection  *self,
                                                       const void      *data,
                                                       gsize            n);
gboolean        tern_connection_flush                 (TernConnection  *self,
                                                       GCancellable    *cancellable,
                                                       GError         **error);
gboolean        tern_connection_write_all             (TernConnection  *self,
                                                       const void      *data,
                                                       gsize            n,
                                                       GCancellable    *cancellable,
                                                       GError         **error);

/* Sends TLS close_notify (best effort) and closes.  Finalizing closes too,
 * without the goodbye. */
gboolean        tern_connection_close                 (TernConnection  *self,
                                                       GCancellable    *cancellable,
                                                       GError         **error);

/* Fingerprints are SHA-256 of the DER certificate, written as uppercase hex
 * pairs joined by colons ("AB:01:…", 95 characters).  Input may also be
 * plain hex, either case, with or without colons or spaces.  Returns NULL
 * when @fingerprint is not 32 bytes of hex. */
char           *tern_fingerprint_normalize            (const char      *fingerprint);
char           *tern_fingerprint_from_der             (const guint8    *der,
                                                       gsize            len);

G_END_DECLS
