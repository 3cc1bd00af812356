/* tern-sasl-private.h: what tests of tern-sasl.c check directly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SCRAM's SaltedPassword (RFC 5802) for @mechanism ("SCRAM-SHA-1" or
 * "SCRAM-SHA-256") in lower-case hex, as libgsasl's
 * GSASL_SCRAM_SALTED_PASSWORD property holds it.  FALSE for another
 * mechanism or a password SASLprep refuses. */
gboolean _tern_sasl_salted_password (const char  *mechanism,
                                     const char  *password,
                                     const char  *salt_base64,
                                     guint        iterations,
                                     char       **hex);

G_END_DECLS
