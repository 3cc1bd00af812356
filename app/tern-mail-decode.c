/* tern-mail-decode.c: FETCH data of a new message, decoded for the store.
 *
 * The IMAP layer hands over raw header bytes; RFC 2047 words, Message-IDs
 * and References are decoded here with GMime, once, so that every reader
 * of the store sees UTF-8.  Runs outside the store's write lock.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-mail-store"

#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "tern-mail-store.h"
#include "tern-mail-store-private.h"
#include "tern-message-content-private.h"

/* GMime 3.2.13 (Debian 12) joins the payloads of adjacent base64 encoded
 * words of one charset before decoding them, and stops at the first
 * padding: "=?UTF-8?B?0J/RgNC40LI=?= =?UTF-8?B?0LXRgg==?=" decodes to
 * "Прив".  Mailers split long Cyrillic subjects and names exactly so.
 * Such a run is given to GMime as one word: the payloads are decoded with
 * GLib and encoded again together, which keeps GMime's handling of a
 * character split across words and does all charset work in GMime. */

typedef struct
{
  const char *start;   /* "=?" */
  const char *end;     /* after "?=" */
  const char *charset; /* charset[*language] */
  gsize       charset_len;
  const char *payload;
  gsize       payload_len;
} EncodedWord;

static gboolean
scan_base64_word (const char  *p,
                  EncodedWord *word)
{
  const char *q;

  if (p[0] != '=' || p[1] != '?')
    return FALSE;
  word->start = p;
  word->charset = p + 2;
  q = strchr (word->charset, '?');
  if (q == NULL || q == word->charset || (q[1] != 'B' && q[1] != 'b') || q[2] != '?')
    return FALSE;
  word->charset_len = q - word->charset;
  word->payload = q + 3;
  for (q = word->payload; g_ascii_isalnum (*q) || *q == '+' || *q == '/' || *q == '='; q++)
    ;
  if (q[0] != '?' || q[1] != '=')
    return FALSE;
  word->payload_len = q - word->payload;
  word->end = q + 2;
  return TRUE;
}

static gboolean
same_charset (const EncodedWord *a,
              const EncodedWord *b)
{
  return a->charset_len == b->charset_len
         && g_ascii_strncasecmp (a->charset, b->charset, a->charset_len) == 0;
}

/* Appends the run of @n words to @out as one word, or as they were when a
 * payload is not valid base64. */
static void
append_run (GString           *out,
            const EncodedWord *words,
            guint              n)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autofree char *joined = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *payload = g_strndup (words[i].payload, words[i].payload_len);
      g_autofree guchar *decoded = NULL;
      gsize len = 0;

      if (words[i].payload_len % 4 != 0)
        {
          g_string_append_len (out, words[0].start, words[n - 1].end - words[0].start);
          return;
        }
      decoded = g_base64_decode (payload, &len);
      g_byte_array_append (bytes, decoded, len);
    }
  joined = g_base64_encode (bytes->data, bytes->len);
  g_string_append (out, "=?");
  g_string_append_len (out, words[0].charset, words[0].charset_len);
  g_string_append (out, "?B?");
  g_string_append (out, joined);
  g_string_append (out, "?=");
}

char *
_tern_mail_repair_encoded_words (const char *text)
{
  g_autoptr(GString) out = NULL;
  const char *p = text;

  if (text == NULL || strstr (text, "?=") == NULL)
    return g_strdup (text);
  out = g_string_sized_new (strlen (text));
  while (*p != '\0')
    {
      EncodedWord words[64];
      guint n = 0;
      const char *next;

      if (!scan_base64_word (p, &words[0]))
        {
          g_string_append_c (out, *p++);
          continue;
        }
      n = 1;
      next = words[0].end;
      while (n < G_N_ELEMENTS (words))
        {
          const char *q = next;

          while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
          if (!scan_base64_word (q, &words[n]) || !same_charset (&words[0], &words[n]))
            break;
          next = words[n++].end;
        }
      if (n == 1)
        g_string_append_len (out, words[0].start, words[0].end - words[0].start);
      else
        append_run (out, words, n);
      p = next;
    }
  return g_strdup (out->str);
}

/* Decoding encoded words costs GMime a charset conversion each (a tenth
 * of a header sync's CPU), and the same display names and subjects come
 * again and again: each thread keeps what it decoded, as the address
 * cache below does, until it holds DECODED_CACHE_MAX texts. */
#define DECODED_CACHE_MAX 4096

static GPrivate decoded_cache = G_PRIVATE_INIT ((GDestroyNotify) g_hash_table_unref);

static char *decode_text_uncached (const char *raw);

static char *
decode_text (const char *raw)
{
  GHashTable *cache;
  const char *cached;
  char *decoded;

  if (raw == NULL)
    return NULL;
  /* Without an encoded word, GMime gives valid UTF-8 back as it was
   * (most headers: no decoder, no charset work). */
  if (strstr (raw, "=?") == NULL && g_utf8_validate (raw, -1, NULL))
    return g_strdup (raw);
  cache = g_private_get (&decoded_cache);
  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_private_set (&decoded_cache, cache);
    }
  if (g_hash_table_lookup_extended (cache, raw, NULL, (gpointer *) &cached))
    return g_strdup (cached);
  decoded = decode_text_uncached (raw);
  if (g_hash_table_size (cache) >= DECODED_CACHE_MAX)
    g_hash_table_remove_all (cache);
  g_hash_table_insert (cache, g_strdup (raw), g_strdup (decoded));
  return decoded;
}

static char *
decode_text_uncached (const char *raw)
{
  g_autofree char *repaired = NULL;
  char *decoded;

  repaired = _tern_mail_repair_encoded_words (raw);
  decoded = g_mime_utils_header_decode_text (NULL, repaired);
  if (decoded != NULL && !g_utf8_validate (decoded, -1, NULL))
    {
      char *valid = g_utf8_make_valid (decoded, -1);

      g_free (decoded);
      decoded = valid;
    }
  return decoded;
}

static char *
address_spec (const TernImapAddress *address)
{
  if (address->mailbox == NULL)
    return NULL;
  if (address->host == NULL || address->host[0] == '\0')
    return g_strdup (address->mailbox);
  return g_strconcat (address->mailbox, "@", address->host, NULL);
}

/* Formatting an address list with GMime costs a GObject per address and
 * an IDN conversion of every domain (about a tenth of a header sync's
 * CPU), and the same senders and recipients come again and again: each
 * thread keeps the text of the lists it formatted, keyed by their
 * ENVELOPE fields, until it holds ADDRESS_CACHE_MAX of them. */
#define ADDRESS_CACHE_MAX 4096

static GPrivate address_cache = G_PRIVATE_INIT ((GDestroyNotify) g_hash_table_unref);

static void
append_key_field (GString    *key,
                  const char *field)
{
  /* Length-prefixed, so that no two lists make the same key. */
  if (field == NULL)
    g_string_append_c (key, '-');
  else
    {
      gsize len = strlen (field);
      char digits[24];
      gsize n = sizeof digits;

      digits[--n] = ':';
      do
        digits[--n] = (char) ('0' + len % 10);
      while ((len /= 10) > 0 && n > 0);
      g_string_append_len (key, digits + n, sizeof digits - n);
      g_string_append (key, field);
    }
}

static char *format_addresses_uncached (GPtrArray *addresses);

/* The common case is formatted here, as GMime would: a display name of
 * letters, digits, non-ASCII UTF-8 and single inner spaces needs no
 * quotes, and an addr-spec of plain atoms (no IDN domain, "xn--") stays
 * as it is; GMime joins with ", " and does not fold.  (Checked against
 * GMime 3.2 over 35,000 random lists of such names and addresses.) */
static gboolean
is_plain_name (const char *name)
{
  if (name[0] == ' ')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == ' ')
        {
          if (p[1] == ' ' || p[1] == '\0')
            return FALSE;
        }
      else if (c < 0x80 && !g_ascii_isalnum (c))
        return FALSE;
    }
  return TRUE; /* valid UTF-8: decode_text() made it so */
}

static gboolean
is_plain_atoms (const char *text,
                gboolean    domain)
{
  if (text == NULL || text[0] == '\0' || text[0] == '.')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '.')
        {
          if (p[1] == '.' || p[1] == '\0')
            return FALSE;
        }
      else if (!g_ascii_isalnum (c) && c != '-' && (domain || (c != '_' && c != '+')))
        return FALSE;
      if (domain && (p == text || p[-1] == '.') &&
          (c == '-' || g_ascii_strncasecmp (p, "xn--", 4) == 0))
        return FALSE;
    }
  return TRUE;
}

/* NULL when an address of the list is not plain. */
static char *
format_plain_addresses (GPtrArray *addresses)
{
  GString *text = g_string_sized_new (64);

  for (guint i = 0; i < addresses->len; i++)
    {
      const TernImapAddress *address = g_ptr_array_index (addresses, i);
      g_autofree char *name = NULL;

      if (address->host == NULL)
        continue; /* group start or end */
      if (!is_plain_atoms (address->mailbox, FALSE) || !is_plain_atoms (address->host, TRUE))
        break;
      name = decode_text (address->name);
      if (name != NULL && name[0] != '\0' && !is_plain_name (name))
        break;
      if (text->len > 0)
        g_string_append (text, ", ");
      if (name != NULL && name[0] != '\0')
        {
          g_string_append (text, name);
          g_string_append (text, " <");
        }
      g_string_append (text, address->mailbox);
      g_string_append_c (text, '@');
      g_string_append (text, address->host);
      if (name != NULL && name[0] != '\0')
        g_string_append_c (text, '>');
      if (i + 1 == addresses->len)
        return g_string_free (text, text->len == 0);
    }
  g_string_free (text, TRUE);
  return NULL;
}

/* An ENVELOPE address list as RFC 5322 text in UTF-8 ("Name <a@b>, c@d"),
 * group syntax dropped. */
static char *
format_addresses (GPtrArray *addresses)
{
  GHashTable *cache;
  GString *key;
  const char *cached;
  char *text;

  if (addresses == NULL || addresses->len == 0)
    return NULL;
  if ((text = format_plain_addresses (addresses)) != NULL)
    return text;
  cache = g_private_get (&address_cache);
  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_private_set (&address_cache, cache);
    }
  key = g_string_sized_new (128);
  for (guint i = 0; i < addresses->len; i++)
    {
      const TernImapAddress *address = g_ptr_array_index (addresses, i);

      /* What format_addresses_uncached() reads of it. */
      append_key_field (key, address->name);
      append_key_field (key, address->mailbox);
      append_key_field (key, address->host);
    }
  if (g_hash_table_lookup_extended (cache, key->str, NULL, (gpointer *) &cached))
    {
      g_string_free (key, TRUE);
      return g_strdup (cached);
    }
  text = format_addresses_uncached (addresses);
  if (g_hash_table_size (cache) >= ADDRESS_CACHE_MAX)
    g_hash_table_remove_all (cache);
  g_hash_table_insert (cache, g_string_free (key, FALSE), g_strdup (text));
  return text;
}

static char *
format_addresses_uncached (GPtrArray *addresses)
{
  InternetAddressList *list;
  char *text = NULL;

  if (addresses == NULL || addresses->len == 0)
    return NULL;
  list = internet_address_list_new ();
  for (guint i = 0; i < addresses->len; i++)
    {
      const TernImapAddress *address = g_ptr_array_index (addresses, i);
      g_autofree char *spec = NULL;
      g_autofree char *name = NULL;
      InternetAddress *mailbox;

      if (address->host == NULL)
        continue; /* group start or end */
      spec = address_spec (address);
      name = decode_text (address->name);
      mailbox = internet_address_mailbox_new (name, spec);
      internet_address_list_add (list, mailbox);
      g_object_unref (mailbox);
    }
  if (internet_address_list_length (list) > 0)
    text = internet_address_list_to_string (list, NULL, FALSE);
  g_object_unref (list);
  return text;
}

/* RFC 5322 dot-atom-text: atoms of atext joined by single dots. */
static gboolean
is_dot_atom (const char *p,
             const char *end)
{
  if (p == end || *p == '.' || end[-1] == '.')
    return FALSE;
  for (; p < end; p++)
    {
      guchar c = (guchar) *p;

      if (c == '.' ? p[1] == '.'
                   : !g_ascii_isalnum (c) && (c == '\0' || strchr ("!#$%&'*+-/=?^_`{|}~", c) == NULL))
        return FALSE;
    }
  return TRUE;
}

/* Nearly every Message-ID, In-Reply-To and References is "<left@right>"
 * of dot atoms, separated by white space, and GMime gives such IDs back
 * as they are.  Read here, they cost a tenth of GMime's parse (2% of a
 * header sync); anything else (comments, quoted strings, domain
 * literals, words outside brackets) is NULL, left to GMime.  (Checked
 * against GMime by test-mail-store/message-ids.) */
typedef enum {
  PLAIN_ID,
  PLAIN_END,
  NOT_PLAIN
} PlainStep;

/* The plain Message-ID at *@p (after white space), as *@id of *@len
 * bytes without its brackets; *@p moves past it. */
static PlainStep
next_plain_message_id (const char **p,
                       const char **id,
                       gsize       *len)
{
  const char *close;
  const char *at;
  const char *q = *p;

  while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
    q++;
  if (*q == '\0')
    return PLAIN_END;
  if (*q != '<' || (close = strchr (q + 1, '>')) == NULL ||
      (at = memchr (q + 1, '@', close - (q + 1))) == NULL ||
      !is_dot_atom (q + 1, at) || !is_dot_atom (at + 1, close))
    return NOT_PLAIN;
  *id = q + 1;
  *len = close - (q + 1);
  *p = close + 1;
  return PLAIN_ID;
}

static GPtrArray *
parse_plain_message_ids (const char *text)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;
  const char *id;
  gsize len;
  PlainStep step;

  while ((step = next_plain_message_id (&p, &id, &len)) == PLAIN_ID)
    g_ptr_array_add (ids, g_strndup (id, len));
  return step == PLAIN_END && ids->len > 0 ? g_steal_pointer (&ids) : NULL;
}

/* The Message-IDs in @text ("<a@b> <c@d>") without angle brackets. */
GPtrArray *
_tern_mail_parse_message_ids (const char *text)
{
  GPtrArray *ids;
  GMimeReferences *refs;

  if (text != NULL && (ids = parse_plain_message_ids (text)) != NULL)
    return ids;
  ids = g_ptr_array_new_with_free_func (g_free);
  if (text == NULL)
    return ids;
  refs = g_mime_references_parse (NULL, text);
  if (refs != NULL)
    {
      for (int i = 0; i < g_mime_references_length (refs); i++)
        g_ptr_array_add (ids, g_strdup (g_mime_references_get_message_id (refs, i)));
      g_mime_references_free (refs);
    }
  return ids;
}

static gboolean
read_digits (const char **p,
             guint        count,
             guint       *value)
{
  *value = 0;
  for (guint i = 0; i < count; i++, (*p)++)
    {
      if (!g_ascii_isdigit (**p))
        return FALSE;
      *value = *value * 10 + (**p - '0');
    }
  return TRUE;
}

/* A Date in the form nearly every mailer writes, "Wed, 25 Nov 2026
 * 10:00:00 +0300" (the day's name optional).  GMime builds a GDateTime
 * and a GTimeZone for each (3% of a header sync); anything else, or a
 * date that does not exist, is FALSE, left to GMime.  (Checked against
 * GMime by test-mail-store/dates.) */
static gboolean
parse_plain_date (const char *text,
                  gint64     *seconds)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  static const char week[] = "MonTueWedThuFriSatSun";
  const char *p = text;
  const char *month_name;
  guint day, month, year, hour, minute, second, zone;
  gint64 offset;

  if (g_ascii_isalpha (*p))
    {
      const char *name;

      if (strlen (p) < 5 || p[3] != ',' || p[4] != ' ' ||
          (name = strstr (week, (char[]) { p[0], p[1], p[2], '\0' })) == NULL ||
          (name - week) % 3 != 0)
        return FALSE;
      p += 5;
    }
  if (!read_digits (&p, 1, &day))
    return FALSE;
  if (g_ascii_isdigit (*p))
    {
      day = day * 10 + (*p - '0');
      p++;
    }
  if (*p++ != ' ' || strlen (p) < 4 || p[3] != ' ')
    return FALSE;
  month_name = strstr (months, (char[]) { p[0], p[1], p[2], '\0' });
  if (month_name == NULL || (month_name - months) % 3 != 0)
    return FALSE;
  month = (month_name - months) / 3 + 1;
  p += 4;
  if (!read_digits (&p, 4, &year) || *p++ != ' ' ||
      !read_digits (&p, 2, &hour) || *p++ != ':' ||
      !read_digits (&p, 2, &minute) || *p++ != ':' ||
      !read_digits (&p, 2, &second) || *p++ != ' ' ||
      (*p != '+' && *p != '-'))
    return FALSE;
  offset = *p++ == '-' ? -1 : 1;
  if (!read_digits (&p, 4, &zone) || *p != '\0')
    return FALSE;
  if (year < 1970 || !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year) ||
      hour > 23 || minute > 59 || second > 59 || zone / 100 > 23 || zone % 100 > 59)
    return FALSE;
  offset *= (zone / 100) * 3600 + (zone % 100) * 60;
  *seconds = tern_imap_utc_seconds (year, month, day, hour * 3600 + minute * 60 + second) - offset;
  return TRUE;
}

/* The Date header @text in seconds since the epoch; FALSE when it is not
 * a date. */
gboolean
_tern_mail_decode_date (const char *text,
                        gint64     *seconds)
{
  g_autoptr(GDateTime) date = NULL;

  if (parse_plain_date (text, seconds))
    return TRUE;
  date = g_mime_utils_header_decode_date (text);
  if (date == NULL)
    return FALSE;
  *seconds = g_date_time_to_unix (date);
  return TRUE;
}

/* The first of _tern_mail_parse_message_ids (@text), without a list of
 * them all when every one is plain (twice a message in a header sync). */
static char *
first_message_id (const char *text)
{
  g_autoptr(GPtrArray) ids = NULL;
  const char *p = text;
  const char *first = NULL;
  gsize first_len = 0;
  const char *id;
  gsize len;
  PlainStep step;

  if (text == NULL)
    return NULL;
  while ((step = next_plain_message_id (&p, &id, &len)) == PLAIN_ID)
    if (first == NULL)
      {
        first = id;
        first_len = len;
      }
  if (step == PLAIN_END && first != NULL)
    return g_strndup (first, first_len);
  ids = _tern_mail_parse_message_ids (text);
  return ids->len > 0 ? g_strdup (g_ptr_array_index (ids, 0)) : NULL;
}

/* Finds header @name in the HEADER.FIELDS literal, unfolded: each line
 * without its trailing white space, continuation lines appended.  Read in
 * place (the block ends at a NUL, if any). */
static char *
find_header (GBytes     *headers,
             const char *name)
{
  gsize size;
  const char *p, *end;
  GString *value = NULL;
  gsize name_len = strlen (name);

  if (headers == NULL)
    return NULL;
  p = g_bytes_get_data (headers, &size);
  if (p == NULL)
    return NULL;
  end = memchr (p, '\0', size);
  if (end == NULL)
    end = p + size;
  while (p < end)
    {
      const char *lf = memchr (p, '\n', end - p);
      const char *next = lf != NULL ? lf + 1 : end;
      const char *e = lf != NULL ? lf : end;

      while (e > p && g_ascii_isspace (e[-1]))
        e--;
      if (value != NULL)
        {
          if (e > p && (p[0] == ' ' || p[0] == '\t'))
            {
              g_string_append_len (value, p, e - p);
              p = next;
              continue;
            }
          break;
        }
      if ((gsize) (e - p) > name_len && p[name_len] == ':' &&
          g_ascii_strncasecmp (p, name, name_len) == 0)
        value = g_string_new_len (p + name_len + 1, e - p - name_len - 1);
      p = next;
    }
  if (value == NULL)
    return NULL;
  return g_strstrip (g_string_free (value, FALSE));
}

/* Whether @text starts with @prefix (lower case) in any case. */
static gboolean
starts_with_folded (const char *text,
                    const char *prefix)
{
  /* The first letter first: most subjects start with none of them. */
  if ((guchar) prefix[0] < 0x80)
    return g_ascii_tolower (text[0]) == prefix[0] &&
           g_ascii_strncasecmp (text, prefix, strlen (prefix)) == 0;
  /* Only a letter of the prefix's script can fold to its first letter. */
  if ((guchar) text[0] < 0x80)
    return FALSE;
  /* Letter by letter (@prefix is lower case), without lowercasing a copy
   * of @text for each prefix tried: a Cyrillic subject was folded three
   * times before its own key was. */
  for (const char *p = prefix; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (text, -1);

      /* The end of @text, or bytes that are not UTF-8, end the match. */
      if (c == 0 || c == (gunichar) -1 || c == (gunichar) -2 ||
          g_unichar_tolower (c) != g_utf8_get_char (p))
        return FALSE;
      text = g_utf8_next_char (text);
    }
  return TRUE;
}

/* "Re: Fwd: AW: subject" -> "subject"; @is_reply tells whether anything was
 * stripped. */
static char *
thread_subject (const char *subject,
                gboolean   *is_reply)
{
  static const char *prefixes[] = { "re", "fwd", "fw", "aw", "wg", "sv", "tr", "ответ", "отв", "пересл", NULL };
  const char *p = subject;
  gboolean stripped = TRUE;

  *is_reply = FALSE;
  if (p == NULL)
    return NULL;
  while (stripped)
    {
      stripped = FALSE;
      while (*p == ' ' || *p == '\t')
        p++;
      for (gsize i = 0; prefixes[i] != NULL; i++)
        {
          const char *after;

          if (!starts_with_folded (p, prefixes[i]))
            continue;
          after = p + strlen (prefixes[i]);
          /* "Re:", "Re[2]:", "RE :" */
          if (*after == '[')
            {
              while (*after != '\0' && *after != ']')
                after++;
              if (*after == ']')
                after++;
            }
          while (*after == ' ')
            after++;
          if (*after == ':')
            {
              p = after + 1;
              stripped = *is_reply = TRUE;
              break;
            }
        }
    }
  while (*p == ' ' || *p == '\t')
    p++;
  /* Most subjects: no Unicode case tables, and a key that does not
   * depend on the locale (Turkish lowercases I to dotless ı). */
  if (g_str_is_ascii (p))
    return g_ascii_strdown (p, -1);
  return g_utf8_strdown (p, -1);
}

static gboolean
body_has_attachments (const TernImapBody *body)
{
  if (body == NULL)
    return FALSE;
  if (g_strcmp0 (body->disposition, "attachment") == 0)
    return TRUE;
  if (g_strcmp0 (body->type, "multipart") != 0 &&
      g_strcmp0 (body->type, "text") != 0 &&
      (tern_imap_params_lookup (body->params, "name") != NULL ||
       tern_imap_params_lookup (body->disposition_params, "filename") != NULL))
    return TRUE;
  if (g_strcmp0 (body->type, "message") == 0 && g_strcmp0 (body->subtype, "rfc822") == 0)
    return TRUE;
  for (guint i = 0; body->children != NULL && i < body->children->len; i++)
    if (body_has_attachments (g_ptr_array_index (body->children, i)))
      return TRUE;
  return FALSE;
}

typedef TernMailNewMessage Decoded;

void
tern_mail_new_message_free (TernMailNewMessage *d)
{
  if (d == NULL)
    return;
  g_free (d->subject);
  g_free (d->thread_subject);
  g_free (d->from_name);
  g_free (d->from_address);
  g_free (d->to_list);
  g_free (d->cc_list);
  g_free (d->reply_to);
  g_free (d->message_id);
  g_free (d->in_reply_to);
  g_free (d->references);
  g_clear_pointer (&d->reference_ids, g_ptr_array_unref);
  g_free (d->list_id);
  g_free (d->keywords);
  g_free (d->pop3_uidl);
  g_clear_pointer (&d->body, g_bytes_unref);
  g_free (d->body_text);
  g_free (d);
}

TernMailNewMessage *
tern_mail_new_message_from_imap (const TernImapMessage *message)
{
  const TernImapEnvelope *envelope = message->envelope;
  g_autofree char *refs = NULL;
  Decoded *d = g_new0 (Decoded, 1);

  _tern_mail_ensure_gmime ();
  d->uid = message->uid;
  d->flags = message->flags & SYSTEM_FLAGS_MASK;
  d->modseq = message->modseq;
  d->internal_date = message->internal_date;
  d->size = message->size;
  d->has_attachments = body_has_attachments (message->body);
  d->keywords = _tern_mail_join_keywords (message->keywords);
  d->date = message->internal_date;
  if (envelope != NULL)
    {
      d->subject = decode_text (envelope->subject);
      d->thread_subject = thread_subject (d->subject, &d->is_reply);
      if (envelope->from != NULL && envelope->from->len > 0)
        {
          const TernImapAddress *from = g_ptr_array_index (envelope->from, 0);

          d->from_name = decode_text (from->name);
          d->from_address = address_spec (from);
        }
      d->to_list = format_addresses (envelope->to);
      d->cc_list = format_addresses (envelope->cc);
      d->reply_to = format_addresses (envelope->reply_to);
      d->message_id = first_message_id (envelope->message_id);
      d->in_reply_to = first_message_id (envelope->in_reply_to);
      if (envelope->date != NULL)
        _tern_mail_decode_date (envelope->date, &d->date);
    }
  if (message->headers != NULL)
    {
      refs = find_header (message->headers, "References");
      d->list_id = find_header (message->headers, "List-Id");
      /* The header only when the ENVELOPE had none (read for nothing
       * otherwise: a scan of the block and a copy). */
      if (d->in_reply_to == NULL)
        {
          g_autofree char *in_reply_to_header = find_header (message->headers, "In-Reply-To");

          d->in_reply_to = first_message_id (in_reply_to_header);
        }
    }
  /* An empty list without a References header. */
  d->reference_ids = _tern_mail_parse_message_ids (refs);
  if (d->reference_ids->len > 0)
    {
      g_ptr_array_add (d->reference_ids, NULL);
      d->references = g_strjoinv (" ", (char **) d->reference_ids->pdata);
      g_ptr_array_remove_index (d->reference_ids, d->reference_ids->len - 1);
    }
  return d;
}


static void
find_attachment_cb (GMimeObject *parent,
                    GMimeObject *part,
                    gpointer     user_data)
{
  gboolean *found = user_data;

  if ((GMIME_IS_PART (part) && g_mime_part_is_attachment (GMIME_PART (part))) ||
      GMIME_IS_MESSAGE_PART (part))
    *found = TRUE;
}

static char *
header_text (GMimeMessage *message,
             const char   *name)
{
  const char *value = g_mime_object_get_header (GMIME_OBJECT (message), name);

  return value != NULL ? g_strstrip (g_strdup (value)) : NULL;
}

static char *
format_address_list (InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  return internet_address_list_to_string (list, NULL, FALSE);
}

/* Where the header block ends: the first "\r\n\r\n" or "\n\n", whichever
 * starts first, or NULL.  The scan stops there: searching the whole
 * message for "\n\n", which CRLF mail never has, read up to 5 MB a
 * message.  A NUL before the end makes no difference to the caller, which
 * leaves such a header block alone either way. */
static const char *
find_header_end (const char *data,
                 gsize       size)
{
  const char *limit = data + size;
  const char *p = data;

  while ((p = memchr (p, '\n', limit - p)) != NULL && p + 1 < limit)
    {
      if (p[1] == '\n')
        return p;
      if (p > data && p[-1] == '\r' && p + 2 < limit && p[1] == '\r' && p[2] == '\n')
        return p - 1;
      p++;
    }
  return NULL;
}

/* @raw with its header block repaired for GMime (see above), or a new
 * reference to @raw when there is nothing to repair. */
static GBytes *
repair_header_block (GBytes *raw)
{
  gsize size;
  const char *data = g_bytes_get_data (raw, &size);
  const char *end = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *repaired = NULL;
  GByteArray *out;
  gsize header_len;

  if (data == NULL)
    return g_bytes_ref (raw);
  end = find_header_end (data, size);
  header_len = end != NULL ? (gsize) (end - data) : size;
  if (memchr (data, '\0', header_len) != NULL)
    return g_bytes_ref (raw);
  headers = g_strndup (data, header_len);
  repaired = _tern_mail_repair_encoded_words (headers);
  if (strcmp (headers, repaired) == 0)
    return g_bytes_ref (raw);
  out = g_byte_array_sized_new (size);
  g_byte_array_append (out, (const guint8 *) repaired, strlen (repaired));
  g_byte_array_append (out, (const guint8 *) data + header_len, size - header_len);
  return g_byte_array_free_to_bytes (out);
}

TernMailNewMessage *
tern_mail_new_message_from_pop3 (const char *uidl,
                                 GBytes     *raw,
                                 gboolean    store_body,
                                 gint64      downloaded)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  g_autofree char *refs = NULL;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *message_id = NULL;
  Decoded *d = g_new0 (Decoded, 1);
  gsize size = g_bytes_get_size (raw);
  g_autoptr(GBytes) parse_bytes = NULL;
  gconstpointer parse_data;
  gsize parse_size;

  _tern_mail_ensure_gmime ();
  d->pop3_uidl = g_strdup (uidl);
  d->body = store_body ? g_bytes_ref (raw) : NULL;
  d->internal_date = downloaded;
  d->date = downloaded;
  d->size = size;

  /* GMime reads the headers of the repaired copy; the store keeps @raw. */
  parse_bytes = repair_header_block (raw);
  parse_data = g_bytes_get_data (parse_bytes, &parse_size);
  stream = g_mime_stream_mem_new_with_buffer (parse_data ? parse_data : "", parse_size);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    {
      d->reference_ids = _tern_mail_parse_message_ids (NULL);
      return d;
    }
  d->subject = decode_text (g_mime_message_get_subject (message));
  d->thread_subject = thread_subject (d->subject, &d->is_reply);
  {
    InternetAddressList *from = g_mime_message_get_from (message);

    if (from != NULL && internet_address_list_length (from) > 0)
      {
        InternetAddress *first = internet_address_list_get_address (from, 0);

        if (INTERNET_ADDRESS_IS_MAILBOX (first))
          {
            const char *name = internet_address_get_name (first);
            InternetAddressMailbox *mailbox = INTERNET_ADDRESS_MAILBOX (first);

            d->from_name = name != NULL && name[0] != '\0' ? g_strdup (name) : NULL;
            d->from_address = g_strdup (internet_address_mailbox_get_addr (mailbox));
          }
      }
  }
  d->to_list = format_address_list (g_mime_message_get_to (message));
  d->cc_list = format_address_list (g_mime_message_get_cc (message));
  d->reply_to = format_address_list (g_mime_message_get_reply_to (message));
  message_id = header_text (message, "Message-ID");
  d->message_id = first_message_id (message_id);
  in_reply_to = header_text (message, "In-Reply-To");
  d->in_reply_to = first_message_id (in_reply_to);
  refs = header_text (message, "References");
  d->reference_ids = _tern_mail_parse_message_ids (refs);
  if (d->reference_ids->len > 0)
    {
      g_ptr_array_add (d->reference_ids, NULL);
      d->references = g_strjoinv (" ", (char **) d->reference_ids->pdata);
      g_ptr_array_remove_index (d->reference_ids, d->reference_ids->len - 1);
    }
  d->list_id = header_text (message, "List-Id");
  {
    GDateTime *date = g_mime_message_get_date (message);

    if (date != NULL)
      d->date = g_date_time_to_unix (date);
  }
  g_mime_message_foreach (message, find_attachment_cb, &d->has_attachments);
  /* A body stored now is indexed with its row, from this parse: indexing
   * it later parsed it again after reading it back. */
  if (d->body != NULL)
    d->body_text = _tern_search_message_text (raw, message);
  g_object_unref (message);
  return d;
}
