/* tern-composer-headers.c: the composer's address fields, parsed and
 * checked, and its headers encoded.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-composer-private.h"

/* Addresses */

gboolean
_tern_composer_is_blank (const char *text)
{
  if (text == NULL)
    return TRUE;
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

/* addr-spec with something on both sides of one '@'. */
static gboolean
is_email_address (const char *addr)
{
  const char *at = addr ? strrchr (addr, '@') : NULL;

  return at != NULL && at != addr && at[1] != '\0' && strpbrk (addr, " \t<>,") == NULL;
}

static gboolean
check_addresses (InternetAddressList  *list,
                 guint                *n_mailboxes,
                 GError              **error)
{
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      /* Names go out as UTF-8 RFC 2047 words, not in a legacy charset
       * GMime would otherwise pick for them. */
      internet_address_set_charset (address, "utf-8");
      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressGroup *group = INTERNET_ADDRESS_GROUP (address);

          if (!check_addresses (internet_address_group_get_members (group), n_mailboxes, error))
            return FALSE;
          continue;
        }
      if (!is_email_address (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address))))
        {
          g_autofree char *text = internet_address_to_string (address, NULL, FALSE);

          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("“%s” is not an email address"), text);
          return FALSE;
        }
      (*n_mailboxes)++;
    }
  return TRUE;
}

/* @text split at the commas between addresses: not those in quotes, in
 * angle brackets or inside a group ("Team: a@b, c@d;"). */
static GPtrArray *
split_addresses (const char *text)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  gboolean quoted = FALSE;
  gboolean in_group = FALSE;
  gboolean in_brackets = FALSE;
  const char *start = text;

  for (const char *p = text;; p++)
    {
      if (*p == '\0' || (*p == ',' && !quoted && !in_group && !in_brackets))
        {
          char *piece = g_strstrip (g_strndup (start, p - start));

          if (*piece != '\0')
            g_ptr_array_add (pieces, piece);
          else
            g_free (piece);
          if (*p == '\0')
            break;
          start = p + 1;
        }
      else if (*p == '\\' && quoted && p[1] != '\0')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == '<')
        in_brackets = TRUE;
      else if (!quoted && *p == '>')
        in_brackets = FALSE;
      else if (!quoted && !in_brackets && *p == ':')
        in_group = TRUE;
      else if (!quoted && !in_brackets && *p == ';')
        in_group = FALSE;
    }
  return pieces;
}

/* @text as typed ("Name <a@b>, c@d") parsed into @list; @n_mailboxes
 * counts the addresses.  Each address is parsed on its own, because
 * GMime's parser skips what it cannot read, and that is the input the
 * user has to be told about. */
gboolean
_tern_composer_parse_addresses (const char           *text,
                                InternetAddressList  *list,
                                guint                *n_mailboxes,
                                GError              **error)
{
  g_autoptr(GPtrArray) pieces = NULL;

  if (_tern_composer_is_blank (text))
    return TRUE;
  pieces = split_addresses (text);
  for (guint i = 0; i < pieces->len; i++)
    {
      const char *piece = g_ptr_array_index (pieces, i);
      g_autoptr(InternetAddressList) parsed = internet_address_list_parse (NULL, piece);

      if (parsed == NULL || internet_address_list_length (parsed) != 1)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("“%s” is not an email address"), piece);
          return FALSE;
        }
      if (!check_addresses (parsed, n_mailboxes, error))
        return FALSE;
      internet_address_list_append (list, parsed);
    }
  return TRUE;
}

/* Header encoding
 *
 * GMime 3.2 writes long non-ASCII headers as several RFC 2047 words whose
 * base64 may end in padding, and its own decoder (which Tern's store uses)
 * reads the words of one charset as a single base64 stream that stops at
 * the first padding: "Отчёт за ноябрь..." came back cut after a few words.
 * Subject and display names are therefore encoded here, in words that hold
 * whole characters and, all but the last, a multiple of three bytes: no
 * padding except at the very end, which every decoder reads the same. */

#define WORD_PAYLOAD_MAX 39 /* bytes: a 64 character encoded word */
#define FOLD_COLUMN 76

static gboolean
needs_encoding (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return TRUE;
  return strstr (text, "=?") != NULL;
}

/* How many bytes of @text the next word takes. */
static gsize
word_length (const char *text)
{
  gsize remaining = strlen (text);
  gsize whole_chars = 0;
  gsize padless = 0;

  if (remaining <= WORD_PAYLOAD_MAX)
    return remaining;
  for (const char *q = g_utf8_next_char (text); q - text <= WORD_PAYLOAD_MAX;
       q = g_utf8_next_char (q))
    {
      whole_chars = q - text;
      if (whole_chars % 3 == 0)
        padless = whole_chars;
    }
  return padless > 0 ? padless : MAX (whole_chars, 1);
}

/* Separates what comes next from what @out holds: a space, or a fold when
 * @length more would make the line too long. */
static void
append_separator (GString *out,
                  gsize   *column,
                  gsize    length)
{
  if (*column + 1 + length > FOLD_COLUMN)
    {
      g_string_append (out, "\n ");
      *column = 1;
    }
  else
    {
      g_string_append_c (out, ' ');
      (*column)++;
    }
}

static void
append_encoded_words (GString    *out,
                      gsize      *column,
                      const char *text)
{
  while (*text != '\0')
    {
      gsize length = word_length (text);
      g_autofree char *base64 = g_base64_encode ((const guchar *) text, length);
      g_autofree char *word = g_strdup_printf ("=?UTF-8?B?%s?=", base64);

      /* The first word stays on the field's line. */
      if (out->len == 0)
        {
          g_string_append_c (out, ' ');
          (*column)++;
        }
      else
        append_separator (out, column, strlen (word));
      g_string_append (out, word);
      *column += strlen (word);
      text += length;
    }
}

/* A mailbox or group as header text, names encoded as above. */
static char *
format_address (InternetAddress *address)
{
  const char *name = internet_address_get_name (address);
  g_autoptr(GString) out = NULL;
  gsize column = 0;

  if (INTERNET_ADDRESS_IS_GROUP (address) || name == NULL || !needs_encoding (name))
    return internet_address_to_string (address, NULL, TRUE);
  out = g_string_new (NULL);
  append_encoded_words (out, &column, name);
  g_string_append_printf (out, " <%s>",
                          internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (address)));
  /* Without the separator the first word brought along. */
  return g_strdup (out->str + 1);
}

static void
set_raw_value (GMimeMessage *message,
               const char   *name,
               GString      *value)
{
  GMimeHeader *header =
    g_mime_header_list_get_header (g_mime_object_get_header_list (GMIME_OBJECT (message)), name);

  g_string_append_c (value, '\n');
  if (header != NULL)
    g_mime_header_set_raw_value (header, value->str);
}

static void
encode_address_header (GMimeMessage     *message,
                       GMimeAddressType  type,
                       const char       *name)
{
  InternetAddressList *list = g_mime_message_get_addresses (message, type);
  g_autoptr(GString) value = g_string_new (NULL);
  gsize column = strlen (name) + 1;

  if (list == NULL || internet_address_list_length (list) == 0)
    return;
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      g_autofree char *text = format_address (internet_address_list_get_address (list, i));
      g_auto(GStrv) lines = NULL;

      /* A long encoded name folds inside itself already. */
      lines = g_strsplit (text, "\n", -1);
      if (i > 0)
        {
          g_string_append_c (value, ',');
          column++;
          append_separator (value, &column, strlen (lines[0]));
        }
      else
        {
          g_string_append_c (value, ' ');
          column++;
        }
      g_string_append (value, text);
      column = strlen (lines[g_strv_length (lines) - 1]) + (lines[1] != NULL ? 0 : column);
    }
  set_raw_value (message, name, value);
}

void
_tern_composer_encode_headers (GMimeMessage *message,
                               const char   *subject)
{
  static const struct
  {
    GMimeAddressType type;
    const char *name;
  } fields[] = {
    { GMIME_ADDRESS_TYPE_FROM, "From" },
    { GMIME_ADDRESS_TYPE_REPLY_TO, "Reply-To" },
    { GMIME_ADDRESS_TYPE_TO, "To" },
    { GMIME_ADDRESS_TYPE_CC, "Cc" },
    { GMIME_ADDRESS_TYPE_BCC, "Bcc" },
  };

  if (subject != NULL && needs_encoding (subject))
    {
      g_autoptr(GString) value = g_string_new (NULL);
      gsize column = strlen ("Subject:");

      append_encoded_words (value, &column, subject);
      set_raw_value (message, "Subject", value);
    }
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    encode_address_header (message, fields[i].type, fields[i].name);
}

