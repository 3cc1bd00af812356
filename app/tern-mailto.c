/* tern-mailto.c: mailto: URIs (RFC 6068) into a TernComposer.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-mailto"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-mailto.h"

#define SCHEME "mailto:"

typedef enum {
  FIELD_TO,
  FIELD_CC,
  FIELD_BCC,
  FIELD_SUBJECT,
  FIELD_BODY,
  FIELD_IN_REPLY_TO,
  N_FIELDS,
} Field;

/* The keys a link may set; everything else (attach=, attachment=, from=,
 * any other header) is dropped. */
static const char *const field_keys[N_FIELDS] = {
  "to", "cc", "bcc", "subject", "body", "in-reply-to",
};

gboolean
tern_mailto_is_mailto (const char *uri)
{
  return uri != NULL && g_ascii_strncasecmp (uri, SCHEME, strlen (SCHEME)) == 0;
}

/* A value that points at something to read rather than text to show. */
static gboolean
is_resource (const char *value)
{
  while (g_ascii_isspace (*value))
    value++;
  return g_ascii_strncasecmp (value, "file:", 5) == 0
         || g_ascii_strncasecmp (value, "imap:", 5) == 0;
}

/* Takes @text; RFC 6068 writes a body's line breaks as %0D%0A, the text
 * view and the composer want LF. */
static char *
normalize_line_breaks (char *text)
{
  char *out = text;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r')
        {
          *out++ = '\n';
          if (p[1] == '\n')
            p++;
        }
      else
        *out++ = *p;
    }
  *out = '\0';
  return text;
}

/* @escaped percent-decoded and made valid UTF-8 with the control
 * characters replaced by spaces (line breaks kept in a body); NULL when it
 * does not decode (a bad escape, an encoded NUL) or is a file:/imap: URI. */
static char *
decode_value (const char *escaped,
              gsize       length,
              gboolean    multiline)
{
  g_autofree char *part = g_strndup (escaped, length);
  g_autofree char *raw = g_uri_unescape_string (part, NULL);
  char *text;

  if (raw == NULL || is_resource (raw))
    return NULL;
  text = g_utf8_make_valid (raw, -1);
  for (char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        if (!(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
          *p = ' ';
      }
  if (multiline)
    return normalize_line_breaks (text);
  return g_strstrip (text);
}

static void
append_address (GString    *list,
                const char *addresses)
{
  if (*addresses == '\0')
    return;
  if (list->len > 0)
    g_string_append (list, ", ");
  g_string_append (list, addresses);
}

static int
lookup_field (const char *key,
              gsize       length)
{
  g_autofree char *part = g_strndup (key, length);
  g_autofree char *name = g_uri_unescape_string (part, NULL);

  if (name == NULL)
    return -1;
  for (guint i = 0; i < N_FIELDS; i++)
    if (g_ascii_strcasecmp (name, field_keys[i]) == 0)
      return i;
  return -1;
}

/* One "key=value" of the query into @values. */
static void
take_pair (const char  *pair,
           gsize        length,
           GString    **values)
{
  const char *equals = memchr (pair, '=', length);
  const char *value;
  g_autofree char *text = NULL;
  int field;

  if (equals == NULL)
    return;
  field = lookup_field (pair, equals - pair);
  if (field < 0)
    return;
  value = equals + 1;
  text = decode_value (value, pair + length - value, field == FIELD_BODY);
  if (text == NULL)
    return;
  switch (field)
    {
    case FIELD_TO:
    case FIELD_CC:
    case FIELD_BCC:
      append_address (values[field], text);
      break;
    default:
      /* The first one counts; a later one cannot replace what was shown. */
      if (values[field]->len == 0)
        g_string_append (values[field], text);
      break;
    }
}

/* "<id>" or "id" as the composer keeps it: without brackets, one token. */
static char *
message_id_of (const char *text)
{
  g_autofree char *copy = g_strdup (text);
  char *id = g_strstrip (copy);
  gsize length;

  if (*id == '<')
    id++;
  length = strcspn (id, "> \t");
  return length > 0 ? g_strndup (id, length) : NULL;
}

gboolean
tern_mailto_apply (TernComposer  *composer,
                   const char    *uri,
                   GError       **error)
{
  GString *values[N_FIELDS];
  const char *rest, *query;
  g_autofree char *path = NULL;

  g_return_val_if_fail (TERN_IS_COMPOSER (composer), FALSE);
  g_return_val_if_fail (uri != NULL, FALSE);

  if (!tern_mailto_is_mailto (uri))
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The link is not an email address (a “mailto:” link)."));
      return FALSE;
    }
  if (strnlen (uri, TERN_MAILTO_MAX_LENGTH + 1) > TERN_MAILTO_MAX_LENGTH)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The “mailto:” link is longer than %d KB; write the message yourself."),
                   TERN_MAILTO_MAX_LENGTH / 1024);
      return FALSE;
    }

  for (guint i = 0; i < N_FIELDS; i++)
    values[i] = g_string_new (NULL);

  rest = uri + strlen (SCHEME);
  query = strchr (rest, '?');
  path = decode_value (rest, query != NULL ? (gsize) (query - rest) : strlen (rest), FALSE);
  if (path != NULL)
    append_address (values[FIELD_TO], path);
  if (query != NULL)
    {
      const char *pair = query + 1;

      /* A fragment is not part of any field. */
      const char *end = pair + strcspn (pair, "#");

      while (pair < end)
        {
          const char *amp = memchr (pair, '&', end - pair);
          const char *pair_end = amp != NULL ? amp : end;

          take_pair (pair, pair_end - pair, values);
          pair = pair_end + 1;
        }
    }

  g_object_freeze_notify (G_OBJECT (composer));
  if (values[FIELD_TO]->len > 0)
    tern_composer_set_to (composer, values[FIELD_TO]->str);
  if (values[FIELD_CC]->len > 0)
    tern_composer_set_cc (composer, values[FIELD_CC]->str);
  if (values[FIELD_BCC]->len > 0)
    tern_composer_set_bcc (composer, values[FIELD_BCC]->str);
  if (values[FIELD_SUBJECT]->len > 0)
    tern_composer_set_subject (composer, values[FIELD_SUBJECT]->str);
  if (values[FIELD_BODY]->len > 0)
    {
      /* The link's text replaces the body, and the sender's signature
       * still ends it, as in a message written by hand. */
      g_autofree char *signature = g_strdup (tern_composer_get_signature (composer));

      tern_composer_set_signature (composer, NULL);
      tern_composer_set_body (composer, values[FIELD_BODY]->str);
      tern_composer_set_signature (composer, signature);
    }
  if (values[FIELD_IN_REPLY_TO]->len > 0)
    {
      g_autofree char *id = message_id_of (values[FIELD_IN_REPLY_TO]->str);

      if (id != NULL)
        tern_composer_set_in_reply_to (composer, id);
    }
  g_object_thaw_notify (G_OBJECT (composer));

  for (guint i = 0; i < N_FIELDS; i++)
    g_string_free (values[i], TRUE);
  return TRUE;
}
