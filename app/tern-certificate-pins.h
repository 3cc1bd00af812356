/* tern-certificate-pins.h: certificates the user accepted although they did
 * not verify.  One certificate (its SHA-256) for exactly one host and port.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-store.h"

G_BEGIN_DECLS

typedef struct
{
  char    *host;
  guint16  port;
  char    *fingerprint;
  gint64   accepted; /* seconds since the epoch */
} TernCertificatePin;

void      tern_certificate_pin_free      (TernCertificatePin *pin);

/* NULL (without error) when nothing was accepted for @host:@port. */
char     *tern_certificate_pins_lookup   (TernStore   *store,
                                          const char  *host,
                                          guint16      port,
                                          GError     **error);
/* Replaces whatever was accepted for @host:@port before. */
gboolean  tern_certificate_pins_accept   (TernStore   *store,
                                          const char  *host,
                                          guint16      port,
                                          const char  *fingerprint,
                                          GError     **error);
gboolean  tern_certificate_pins_forget   (TernStore   *store,
                                          const char  *host,
                                          guint16      port,
                                          GError     **error);
/* Of TernCertificatePin, by host and port. */
GPtrArray *tern_certificate_pins_list    (TernStore   *store,
                                          GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernCertificatePin, tern_certificate_pin_free)

G_END_DECLS
