/* tern-protocol-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-connection"

#include "config.h"

#include "tern-protocol-error.h"

G_DEFINE_QUARK (tern-connection-error-quark, tern_connection_error)

gboolean
tern_connection_error_is_certificate (const GError *error)
{
  if (error == NULL || error->domain != TERN_CONNECTION_ERROR)
    return FALSE;

  switch ((TernConnectionError) error->code)
    {
    case TERN_CONNECTION_ERROR_CERT_UNTRUSTED:
    case TERN_CONNECTION_ERROR_CERT_EXPIRED:
    case TERN_CONNECTION_ERROR_CERT_NOT_YET_VALID:
    case TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY:
    case TERN_CONNECTION_ERROR_CERT_INSECURE:
    case TERN_CONNECTION_ERROR_CERT_REVOKED:
    case TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH:
      return TRUE;
    default:
      return FALSE;
    }
}
