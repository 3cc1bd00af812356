/* tern-protocol-error.h: the error domain of the protocol layer's transport.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TERN_CONNECTION_ERROR (tern_connection_error_quark ())

/**
 * TernConnectionError:
 *
 * Everything that can go wrong on a #TernConnection is reported in this one
 * domain, so a caller needs one switch to tell the user what happened.  The
 * single exception is cancellation, which stays %G_IO_ERROR_CANCELLED: every
 * GIO caller already checks for that, and it is not a failure to report.
 *
 * Errors from the TCP layer that are not listed here (connection refused,
 * host not found, unreachable network) are folded into
 * %TERN_CONNECTION_ERROR_CONNECT_FAILED; the message keeps GLib's wording.
 * Any failing I/O call closes the connection: the protocol state is unknown
 * afterwards, so it must not be reused.
 */
typedef enum {
  TERN_CONNECTION_ERROR_CONNECT_FAILED,        /* resolve/refused/unreachable */
  TERN_CONNECTION_ERROR_TIMED_OUT,             /* connect or I/O timeout */
  TERN_CONNECTION_ERROR_CLOSED,                /* peer closed or reset; or not connected */
  TERN_CONNECTION_ERROR_IO_FAILED,             /* any other socket error */
  TERN_CONNECTION_ERROR_LINE_TOO_LONG,
  TERN_CONNECTION_ERROR_TLS_HANDSHAKE_FAILED,
  TERN_CONNECTION_ERROR_TLS_VERSION_TOO_OLD,   /* server offers only TLS < 1.2 */
  TERN_CONNECTION_ERROR_CERT_UNTRUSTED,        /* unknown issuer, self-signed */
  TERN_CONNECTION_ERROR_CERT_EXPIRED,
  TERN_CONNECTION_ERROR_CERT_NOT_YET_VALID,
  TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY,     /* not issued for the host */
  TERN_CONNECTION_ERROR_CERT_INSECURE,         /* weak signature algorithm */
  TERN_CONNECTION_ERROR_CERT_REVOKED,
  TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH,     /* not the certificate accepted for host:port */
  TERN_CONNECTION_ERROR_STARTTLS_INJECTION,    /* bytes after the go-ahead, before TLS */
  TERN_CONNECTION_ERROR_STARTTLS_UNAVAILABLE,  /* server lacks or refuses STARTTLS */
} TernConnectionError;

GQuark tern_connection_error_quark (void);

/* TRUE for the certificate errors a user may override by accepting the
 * certificate (see tern_connection_set_pinned_fingerprint()). */
gboolean tern_connection_error_is_certificate (const GError *error);

G_END_DECLS
