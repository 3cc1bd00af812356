/* tern-autoconfig-xml.c: Thunderbird's config-v1.1.xml, the format of the
 * provider files, of providers' autoconfig servers and of the ISPDB.
 *
 * The documents come from the network, so nothing in them is trusted: the
 * size is limited before parsing, GMarkup refuses bad UTF-8 and entities
 * it does not know, nesting and text lengths are bounded, and every value
 * is checked before it becomes a server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-autoconfig"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-autoconfig-private.h"

#define MAX_DEPTH 16
#define MAX_TEXT 1024
#define MAX_HOST 253
#define MAX_SERVERS 16

typedef struct
{
  char               *type;
  char               *hostname;
  char               *port;
  char               *socket_type;
  char               *username;
  TernAutoconfigAuth  auth;
} ServerDraft;

typedef struct
{
  const char           *address;
  TernAutoconfigConfig *config;
  GPtrArray            *domains;
  GPtrArray            *drafts_in;  /* ServerDraft */
  GPtrArray            *drafts_out;
  ServerDraft          *server;     /* the one being read */
  GString              *text;
  guint                 depth;
  gboolean              in_provider;
  gboolean              seen_root;
} ParseState;

static void
server_draft_free (ServerDraft *draft)
{
  g_free (draft->type);
  g_free (draft->hostname);
  g_free (draft->port);
  g_free (draft->socket_type);
  g_free (draft->username);
  g_free (draft);
}

char *
tern_autoconfig_expand (const char *template,
                        const char *address)
{
  const char *at = address ? strrchr (address, '@') : NULL;
  g_autofree char *local = at ? g_strndup (address, at - address) : g_strdup (address);
  const char *domain = at ? at + 1 : "";
  GString *out = g_string_new (NULL);

  for (const char *p = template; *p != '\0';)
    {
      if (address != NULL && g_str_has_prefix (p, "%EMAILADDRESS%"))
        {
          g_string_append (out, address);
          p += strlen ("%EMAILADDRESS%");
        }
      else if (address != NULL && g_str_has_prefix (p, "%EMAILLOCALPART%"))
        {
          g_string_append (out, local);
          p += strlen ("%EMAILLOCALPART%");
        }
      else if (address != NULL && g_str_has_prefix (p, "%EMAILDOMAIN%"))
        {
          g_string_append (out, domain);
          p += strlen ("%EMAILDOMAIN%");
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

char *
tern_autoconfig_other_username (const char *username,
                                const char *address)
{
  const char *at = strrchr (address, '@');

  if (at == NULL)
    return NULL;
  if (g_strcmp0 (username, address) == 0)
    return g_strndup (address, at - address);
  if (strlen (username) == (gsize) (at - address) && strncmp (username, address, at - address) == 0)
    return g_strdup (address);
  return NULL;
}

TernAutoconfigServer *
tern_autoconfig_server_new (TernAutoconfigProtocol  protocol,
                            const char             *host,
                            guint16                 port,
                            TernTlsMode             security,
                            const char             *username_template,
                            const char             *address)
{
  TernAutoconfigServer *server = g_new0 (TernAutoconfigServer, 1);

  server->protocol = protocol;
  server->server = tern_server_new (host, port, security);
  server->username_template = g_strdup (username_template);
  server->server->username = tern_autoconfig_expand (username_template, address);
  server->auth = TERN_AUTOCONFIG_AUTH_PASSWORD;
  return server;
}

void
tern_autoconfig_config_update_flags (TernAutoconfigConfig *config)
{
  gboolean password_possible = FALSE;

  config->insecure = FALSE;
  for (guint i = 0; i < config->incoming->len; i++)
    {
      TernAutoconfigServer *server = g_ptr_array_index (config->incoming, i);

      config->insecure |= tern_autoconfig_server_is_insecure (server);
      password_possible |= !tern_autoconfig_server_needs_oauth2 (server);
    }
  for (guint i = 0; i < config->outgoing->len; i++)
    config->insecure |=
      tern_autoconfig_server_is_insecure (g_ptr_array_index (config->outgoing, i));
  if (config->incoming->len > 0 && !password_possible)
    config->password_kind = TERN_AUTOCONFIG_PASSWORD_OAUTH2;
}

/* A DNS name after expansion: letters, digits, hyphens and dots. */
static gboolean
is_host_name (const char *host)
{
  gsize len = strlen (host);

  if (len == 0 || len > MAX_HOST || host[0] == '.' || host[0] == '-')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
parse_port (const char *text,
            guint16    *port)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &value, NULL))
    return FALSE;
  *port = value;
  return TRUE;
}

static gboolean
parse_socket_type (const char  *text,
                   TernTlsMode *mode)
{
  if (g_strcmp0 (text, "SSL") == 0 || g_strcmp0 (text, "TLS") == 0)
    *mode = TERN_TLS_MODE_IMPLICIT;
  else if (g_strcmp0 (text, "STARTTLS") == 0)
    *mode = TERN_TLS_MODE_STARTTLS;
  else if (g_strcmp0 (text, "plain") == 0)
    *mode = TERN_TLS_MODE_PLAIN;
  else
    return FALSE;
  return TRUE;
}

static TernAutoconfigAuth
parse_auth (const char *text)
{
  if (g_strcmp0 (text, "password-cleartext") == 0 || g_strcmp0 (text, "password-encrypted") == 0
      || g_strcmp0 (text, "plain") == 0 || g_strcmp0 (text, "secure") == 0)
    return TERN_AUTOCONFIG_AUTH_PASSWORD;
  if (g_strcmp0 (text, "OAuth2") == 0)
    return TERN_AUTOCONFIG_AUTH_OAUTH2;
  return TERN_AUTOCONFIG_AUTH_OTHER;
}

/* A draft becomes a server only when everything in it makes sense. */
static TernAutoconfigServer *
draft_to_server (ServerDraft *draft,
                 gboolean     outgoing,
                 const char  *address)
{
  TernAutoconfigProtocol protocol;
  TernAutoconfigServer *server;
  g_autofree char *expanded = NULL;
  g_autofree char *host = NULL;
  guint16 port;
  TernTlsMode mode;

  if (outgoing && g_strcmp0 (draft->type, "smtp") == 0)
    protocol = TERN_AUTOCONFIG_PROTOCOL_SMTP;
  else if (!outgoing && g_strcmp0 (draft->type, "imap") == 0)
    protocol = TERN_AUTOCONFIG_PROTOCOL_IMAP;
  else if (!outgoing && g_strcmp0 (draft->type, "pop3") == 0)
    protocol = TERN_AUTOCONFIG_PROTOCOL_POP3;
  else
    return NULL;

  if (draft->hostname == NULL || !parse_port (draft->port, &port)
      || !parse_socket_type (draft->socket_type, &mode))
    return NULL;
  expanded = tern_autoconfig_expand (draft->hostname, address);
  host = g_ascii_strdown (expanded, -1);
  if (!is_host_name (host))
    return NULL;

  server = tern_autoconfig_server_new (protocol, host, port, mode,
                                       draft->username ? draft->username : "%EMAILADDRESS%",
                                       address);
  /* No <authentication> at all: assume the common case, a password. */
  server->auth = draft->auth != 0 ? draft->auth : TERN_AUTOCONFIG_AUTH_PASSWORD;
  return server;
}

static void
start_element (GMarkupParseContext  *context,
               const char           *element,
               const char          **names,
               const char          **values,
               gpointer              user_data,
               GError              **error)
{
  ParseState *state = user_data;
  const char *parent = NULL;
  const GSList *stack = g_markup_parse_context_get_element_stack (context);

  if (stack->next != NULL)
    parent = stack->next->data;
  g_string_truncate (state->text, 0);

  if (++state->depth > MAX_DEPTH)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "nested too deep");
      return;
    }
  if (parent == NULL)
    {
      if (strcmp (element, "clientConfig") != 0)
        g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ELEMENT,
                     "the document is <%s>, not <clientConfig>", element);
      state->seen_root = TRUE;
      return;
    }

  if (strcmp (element, "emailProvider") == 0 && strcmp (parent, "clientConfig") == 0)
    {
      /* Only the first provider counts. */
      state->in_provider = state->config->incoming->len == 0 && state->drafts_in->len == 0;
      return;
    }
  if (!state->in_provider || g_strcmp0 (parent, "emailProvider") != 0)
    return;

  if (strcmp (element, "incomingServer") == 0 || strcmp (element, "outgoingServer") == 0)
    {
      GPtrArray *drafts = element[0] == 'i' ? state->drafts_in : state->drafts_out;
      const char *type = NULL;

      g_markup_collect_attributes (element, names, values, NULL,
                                   G_MARKUP_COLLECT_STRING | G_MARKUP_COLLECT_OPTIONAL,
                                   "type", &type, G_MARKUP_COLLECT_INVALID);
      if (drafts->len >= MAX_SERVERS)
        return;
      state->server = g_new0 (ServerDraft, 1);
      state->server->type = g_strdup (type);
      g_ptr_array_add (drafts, state->server);
    }
  else if (strcmp (element, "documentation") == 0 || strcmp (element, "enable") == 0
           || strcmp (element, "appPassword") == 0)
    {
      const char *url = NULL;
      const char *attribute = element[0] == 'e' ? "visiturl" : "url";

      g_markup_collect_attributes (element, names, values, NULL,
                                   G_MARKUP_COLLECT_STRING | G_MARKUP_COLLECT_OPTIONAL,
                                   attribute, &url, G_MARKUP_COLLECT_INVALID);
      if (strcmp (element, "appPassword") == 0)
        state->config->password_kind = TERN_AUTOCONFIG_PASSWORD_APP;
      /* The app-password page explains more than a general one. */
      if (url != NULL && g_str_has_prefix (url, "https://") && strlen (url) < MAX_TEXT
          && (state->config->help_url == NULL || strcmp (element, "appPassword") == 0))
        {
          g_free (state->config->help_url);
          state->config->help_url = g_strdup (url);
        }
    }
}

/* The elements whose text is read; any other text (descriptions,
 * instructions, indentation) is skipped, however long. */
static gboolean
is_value_element (const char *element)
{
  static const char * const names[] = {
    "hostname", "port", "socketType", "username", "authentication", "domain", "displayName",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (element, names[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
text (GMarkupParseContext  *context,
      const char           *text,
      gsize                 len,
      gpointer              user_data,
      GError              **error)
{
  ParseState *state = user_data;

  if (!is_value_element (g_markup_parse_context_get_element (context)))
    return;
  if (state->text->len + len > MAX_TEXT)
    {
      g_set_error_literal (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                           "an element's text is too long");
      return;
    }
  g_string_append_len (state->text, text, len);
}

static void
set_field (char       **field,
           const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
end_element (GMarkupParseContext  *context,
             const char           *element,
             gpointer              user_data,
             GError              **error)
{
  ParseState *state = user_data;
  const GSList *stack = g_markup_parse_context_get_element_stack (context);
  const char *parent = stack->next ? stack->next->data : NULL;
  g_autofree char *value = g_strstrip (g_strdup (state->text->str));

  g_string_truncate (state->text, 0);
  state->depth--;
  if (!state->in_provider)
    return;

  if (strcmp (element, "emailProvider") == 0)
    {
      state->in_provider = FALSE;
      return;
    }
  if (g_strcmp0 (parent, "emailProvider") == 0)
    {
      if (strcmp (element, "incomingServer") == 0 || strcmp (element, "outgoingServer") == 0)
        state->server = NULL;
      else if (strcmp (element, "domain") == 0 && is_host_name (value))
        g_ptr_array_add (state->domains, g_ascii_strdown (value, -1));
      else if (strcmp (element, "displayName") == 0 && state->config->provider_name == NULL
               && *value != '\0')
        state->config->provider_name = tern_autoconfig_expand (value, state->address);
      return;
    }
  if (state->server == NULL
      || (g_strcmp0 (parent, "incomingServer") != 0 && g_strcmp0 (parent, "outgoingServer") != 0))
    return;

  if (strcmp (element, "hostname") == 0)
    set_field (&state->server->hostname, value);
  else if (strcmp (element, "port") == 0)
    set_field (&state->server->port, value);
  else if (strcmp (element, "socketType") == 0)
    set_field (&state->server->socket_type, value);
  else if (strcmp (element, "username") == 0)
    set_field (&state->server->username, value);
  else if (strcmp (element, "authentication") == 0)
    state->server->auth |= parse_auth (value);
}

static void
take_servers (ParseState *state,
              GPtrArray  *drafts,
              GPtrArray  *servers,
              gboolean    outgoing)
{
  for (guint i = 0; i < drafts->len; i++)
    {
      TernAutoconfigServer *server = draft_to_server (g_ptr_array_index (drafts, i), outgoing,
                                                      state->address);
      if (server != NULL)
        g_ptr_array_add (servers, server);
    }
}

TernAutoconfigConfig *
tern_autoconfig_parse (const char  *data,
                       gsize        len,
                       const char  *address,
                       GStrv       *domains,
                       GError     **error)
{
  static const GMarkupParser parser = { start_element, end_element, text, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(TernAutoconfigConfig) config = g_new0 (TernAutoconfigConfig, 1);
  g_autoptr(GPtrArray) domain_list = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) drafts_in = g_ptr_array_new_with_free_func ((GDestroyNotify) server_draft_free);
  g_autoptr(GPtrArray) drafts_out = g_ptr_array_new_with_free_func ((GDestroyNotify) server_draft_free);
  g_autoptr(GString) text_buffer = g_string_new (NULL);
  ParseState state = { 0 };

  config->incoming = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);
  config->outgoing = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);
  if (len > TERN_AUTOCONFIG_MAX_DOCUMENT)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The configuration is larger than %u bytes."), TERN_AUTOCONFIG_MAX_DOCUMENT);
      return NULL;
    }

  state.address = address;
  state.config = config;
  state.domains = domain_list;
  state.drafts_in = drafts_in;
  state.drafts_out = drafts_out;
  state.text = text_buffer;
  context = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION, &state, NULL);
  if (!g_markup_parse_context_parse (context, data, len, &local_error)
      || !g_markup_parse_context_end_parse (context, &local_error))
    {
      /* GMarkup quotes the offending bytes, which need not be UTF-8. */
      g_autofree char *why = g_utf8_make_valid (local_error->message, -1);

      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The configuration is not valid XML: %s"), why);
      return NULL;
    }

  take_servers (&state, drafts_in, config->incoming, FALSE);
  take_servers (&state, drafts_out, config->outgoing, TRUE);
  if (config->incoming->len == 0 || config->outgoing->len == 0)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           config->incoming->len == 0
                             ? _("The configuration names no usable incoming server.")
                             : _("The configuration names no usable outgoing server."));
      return NULL;
    }
  tern_autoconfig_config_update_flags (config);
  if (domains != NULL)
    {
      g_ptr_array_add (domain_list, NULL);
      *domains = (GStrv) g_ptr_array_steal (domain_list, NULL);
    }
  return g_steal_pointer (&config);
}
