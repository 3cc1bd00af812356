/* tern-server.h: where and how an account reaches one of its servers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "tern-connection.h"

G_BEGIN_DECLS

#define TERN_TYPE_SERVER (tern_server_get_type ())

typedef struct
{
  char        *host;
  guint16      port;
  TernTlsMode  security;
  char        *username; /* NULL: the account's address */
  char        *auth;     /* SASL mechanism; NULL: the best one offered */
} TernServer;

GType        tern_server_get_type           (void) G_GNUC_CONST;
TernServer  *tern_server_new                (const char   *host,
                                             guint16       port,
                                             TernTlsMode   security);
TernServer  *tern_server_parse              (const char   *spec,
                                             GError      **error);
char        *tern_server_to_string          (const TernServer *server);
TernServer  *tern_server_copy               (const TernServer *server);
void         tern_server_free               (TernServer   *server);

const char  *tern_tls_mode_to_string        (TernTlsMode   mode);
gboolean     tern_tls_mode_from_string      (const char   *string,
                                             TernTlsMode  *mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernServer, tern_server_free)

G_END_DECLS
