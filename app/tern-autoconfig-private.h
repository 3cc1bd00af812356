/* tern-autoconfig-private.h: what the files of TernAutoconfig share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-autoconfig.h"

G_BEGIN_DECLS

/* Fetched documents larger than this are refused, not parsed. */
#define TERN_AUTOCONFIG_MAX_DOCUMENT (256 * 1024)

/* tern-autoconfig-xml.c */

/* Parses a Thunderbird config-v1.1.xml document, with the templates
 * (%EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%) expanded for @address.
 * Servers that are incomplete or wrong (no host, a port out of range, an
 * unknown socket type) are left out; a document left without an incoming
 * or an outgoing server is INVALID.  @domains (optional) receives the
 * <domain> entries, lower case. */
TernAutoconfigConfig *tern_autoconfig_parse  (const char   *data,
                                              gsize         len,
                                              const char   *address,
                                              GStrv        *domains,
                                              GError      **error);
char                 *tern_autoconfig_expand (const char   *template,
                                              const char   *address);
/* The other form of a user name: the local part for the address and the
 * other way round; NULL when there is none. */
char                 *tern_autoconfig_other_username (const char *username,
                                                      const char *address);
TernAutoconfigServer *tern_autoconfig_server_new (TernAutoconfigProtocol protocol,
                                                  const char            *host,
                                                  guint16                port,
                                                  TernTlsMode            security,
                                                  const char            *username_template,
                                                  const char            *address);
/* Sets insecure and password_kind from the servers. */
void                  tern_autoconfig_config_update_flags (TernAutoconfigConfig *config);

/* tern-autoconfig.c: the address map of tern_autoconfig_map_address(). */

/* Where to connect for @host:@port: the mapped address, or @host:@port
 * itself when @map is NULL.  FALSE (with an error) for an address a map
 * does not list. */
gboolean tern_autoconfig_map_lookup (GHashTable   *map,
                                     const char   *host,
                                     guint16       port,
                                     char        **mapped_host,
                                     guint16      *mapped_port,
                                     GError      **error);
GHashTable *tern_autoconfig_dup_map (TernAutoconfig *self);

/* One detection, shared by the threads that work on it. */
typedef struct
{
  gatomicrefcount  ref;
  GWeakRef         owner;  /* TernAutoconfig */
  GMainContext    *context;
  GMutex           lock;
  GCond            cond;
  GCancellable    *cancellable;
  char            *address;
  char            *domain;
  char            *providers_dir;
  char            *ca_file;
  GResolver       *resolver;
  GHashTable      *map;
  guint            timeout;
  guint            stagger;
  GPtrArray       *attempts;
  gboolean         finished;
} TernDetection;

guint tern_detection_attempt_start (TernDetection         *detection,
                                    TernAutoconfigSource   source,
                                    const char            *host,
                                    guint16                port,
                                    const char            *what);
void  tern_detection_attempt_end   (TernDetection         *detection,
                                    guint                  id,
                                    TernAutoconfigResult   result,
                                    const char            *message);

/* tern-autoconfig-probe.c */

/* Connects to the usual hosts and ports in RFC 8314 order; secure
 * candidates first.  When they did not give both an incoming and an
 * outgoing server, @before_plaintext (may be NULL) is asked for a
 * configuration to use instead; only without one are plaintext candidates
 * tried, for the directions that lack a server.  NULL when no incoming
 * server answered. */
typedef TernAutoconfigConfig *(*TernDetectionFallback) (TernDetection *detection,
                                                        gpointer       data);
TernAutoconfigConfig *tern_detection_probe (TernDetection         *detection,
                                            TernDetectionFallback  before_plaintext,
                                            gpointer               data);
/* Opens a protocol session to @server (through @map) far enough to know it
 * speaks the protocol with the security it should, then closes it. */
gboolean tern_autoconfig_probe_server (TernAutoconfigProtocol  protocol,
                                       const TernServer       *server,
                                       GHashTable             *map,
                                       const char             *ca_file,
                                       const char             *pin,
                                       guint                   timeout,
                                       const char             *domain,
                                       GCancellable           *cancellable,
                                       GError                **error);

G_END_DECLS
