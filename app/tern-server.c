/* tern-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-server"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-server.h"

G_DEFINE_BOXED_TYPE (TernServer, tern_server, tern_server_copy, tern_server_free)

static const char * const mode_names[] = {
  [TERN_TLS_MODE_IMPLICIT] = "tls",
  [TERN_TLS_MODE_STARTTLS] = "starttls",
  [TERN_TLS_MODE_PLAIN] = "plain",
};

const char *
tern_tls_mode_to_string (TernTlsMode mode)
{
  g_return_val_if_fail (mode < G_N_ELEMENTS (mode_names), NULL);
  return mode_names[mode];
}

gboolean
tern_tls_mode_from_string (const char  *string,
                           TernTlsMode *mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (mode_names); i++)
    {
      if (g_strcmp0 (string, mode_names[i]) == 0)
        {
          *mode = i;
          return TRUE;
        }
    }
  return FALSE;
}

TernServer *
tern_server_new (const char  *host,
                 guint16      port,
                 TernTlsMode  security)
{
  TernServer *server = g_new0 (TernServer, 1);

  server->host = g_strdup (host);
  server->port = port;
  server->security = security;
  return server;
}

TernServer *
tern_server_copy (const TernServer *server)
{
  TernServer *copy = tern_server_new (server->host, server->port, server->security);

  copy->username = g_strdup (server->username);
  copy->auth = g_strdup (server->auth);
  return copy;
}

void
tern_server_free (TernServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->username);
  g_free (server->auth);
  g_free (server);
}

/* HOST:PORT:SECURITY, where HOST may be an IPv6 literal in brackets. */
TernServer *
tern_server_parse (const char  *spec,
                   GError     **error)
{
  g_autofree char *host = NULL;
  const char *rest;
  const char *colon;
  g_autofree char *port_text = NULL;
  guint64 port = 0;
  TernTlsMode mode;

  if (spec[0] == '[')
    {
      const char *end = strchr (spec, ']');
      if (end == NULL || end[1] != ':')
        goto invalid;
      host = g_strndup (spec + 1, end - spec - 1);
      rest = end + 2;
    }
  else
    {
      colon = strchr (spec, ':');
      if (colon == NULL)
        goto invalid;
      host = g_strndup (spec, colon - spec);
      rest = colon + 1;
    }

  colon = strchr (rest, ':');
  if (colon == NULL || *host == '\0')
    goto invalid;
  port_text = g_strndup (rest, colon - rest);
  if (!g_ascii_string_to_unsigned (port_text, 10, 1, G_MAXUINT16, &port, NULL) ||
      !tern_tls_mode_from_string (colon + 1, &mode))
    goto invalid;

  return tern_server_new (host, port, mode);

invalid:
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
               _("“%s” is not a server: use HOST:PORT:tls, HOST:PORT:starttls or "
                 "HOST:PORT:plain"), spec);
  return NULL;
}

char *
tern_server_to_string (const TernServer *server)
{
  gboolean ipv6 = strchr (server->host, ':') != NULL;

  return g_strdup_printf ("%s%s%s:%u:%s", ipv6 ? "[" : "", server->host, ipv6 ? "]" : "",
                          server->port, tern_tls_mode_to_string (server->security));
}
