/* tern-imap-utf7.c: modified UTF-7 mailbox names (RFC 3501 §5.1.3).
 *
 * Printable ASCII stands for itself except "&", which is written "&-";
 * everything else is UTF-16, base64 with "," for "/", no padding, between
 * "&" and "-".  Decoding is strict: a name that could not have come from a
 * conforming encoder is refused, so that two different wire names never
 * decode to the same UTF-8 name.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <string.h>

#include "tern-imap-types.h"

static const char b64[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static gboolean
is_direct (gunichar c)
{
  return c >= 0x20 && c <= 0x7e;
}

static void
flush_run (GString         *out,
           const gunichar2 *units,
           gsize            n_units)
{
  guint32 bits = 0;
  int n_bits = 0;

  g_string_append_c (out, '&');
  for (gsize i = 0; i < n_units; i++)
    {
      bits = (bits << 16) | units[i];
      n_bits += 16;
      while (n_bits >= 6)
        {
          n_bits -= 6;
          g_string_append_c (out, b64[(bits >> n_bits) & 0x3f]);
        }
    }
  if (n_bits > 0)
    g_string_append_c (out, b64[(bits << (6 - n_bits)) & 0x3f]);
  g_string_append_c (out, '-');
}

char *
tern_imap_utf7_encode (const char *utf8)
{
  GString *out;
  g_autoptr(GArray) run = g_array_new (FALSE, FALSE, sizeof (gunichar2));
  const char *p;

  g_return_val_if_fail (utf8 != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (utf8, -1, NULL), NULL);

  out = g_string_sized_new (strlen (utf8) + 8);
  for (p = utf8; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_direct (c))
        {
          if (run->len > 0)
            {
              flush_run (out, (const gunichar2 *) (gpointer) run->data, run->len);
              g_array_set_size (run, 0);
            }
          if (c == '&')
            g_string_append (out, "&-");
          else
            g_string_append_c (out, (char) c);
        }
      else if (c >= 0x10000)
        {
          gunichar2 pair[2];

          c -= 0x10000;
          pair[0] = (gunichar2) (0xd800 + (c >> 10));
          pair[1] = (gunichar2) (0xdc00 + (c & 0x3ff));
          g_array_append_vals (run, pair, 2);
        }
      else
        {
          gunichar2 unit = (gunichar2) c;
          g_array_append_val (run, unit);
        }
    }
  if (run->len > 0)
    flush_run (out, (const gunichar2 *) (gpointer) run->data, run->len);
  return g_string_free (out, FALSE);
}

static int
b64_value (char c)
{
  const char *at;

  if (c == '\0')
    return -1;
  at = strchr (b64, c);
  return at != NULL ? (int) (at - b64) : -1;
}

/* Decodes the base64 run at *p (just after "&", not empty) up to its "-"
 * into @out; advances *p past the "-". */
static gboolean
decode_run (const char **p,
            GString     *out)
{
  const char *s = *p;
  guint32 bits = 0;
  int n_bits = 0;
  gunichar2 high = 0;

  for (; *s != '-'; s++)
    {
      int v = b64_value (*s);

      if (v < 0)
        return FALSE; /* unterminated, or not base64 */
      bits = (bits << 6) | (guint32) v;
      n_bits += 6;
      if (n_bits >= 16)
        {
          gunichar2 unit;

          n_bits -= 16;
          unit = (gunichar2) ((bits >> n_bits) & 0xffff);
          if (high != 0)
            {
              if (unit < 0xdc00 || unit > 0xdfff)
                return FALSE;
              g_string_append_unichar (out, 0x10000 + (((gunichar) high - 0xd800) << 10)
                                                + ((gunichar) unit - 0xdc00));
              high = 0;
            }
          else if (unit >= 0xd800 && unit <= 0xdbff)
            high = unit;
          else if (unit >= 0xdc00 && unit <= 0xdfff)
            return FALSE;
          else if (is_direct (unit) || unit == 0)
            return FALSE; /* ASCII must be written directly */
          else
            g_string_append_unichar (out, unit);
        }
    }
  /* Leftover bits: fewer than 6, and zero; no lone high surrogate. */
  if (n_bits >= 6 || (bits & ((1u << n_bits) - 1)) != 0 || high != 0)
    return FALSE;
  *p = s + 1;
  return TRUE;
}

char *
tern_imap_utf7_decode (const char *mutf7)
{
  g_autoptr(GString) out = NULL;
  const char *p = mutf7;
  gboolean after_run = FALSE;

  g_return_val_if_fail (mutf7 != NULL, NULL);

  out = g_string_sized_new (strlen (mutf7));
  while (*p != '\0')
    {
      if (*p == '&')
        {
          if (p[1] == '-')
            {
              g_string_append_c (out, '&');
              p += 2;
              after_run = FALSE;
              continue;
            }
          /* Two runs in a row should have been one. */
          if (after_run)
            return NULL;
          p++;
          if (!decode_run (&p, out))
            return NULL;
          after_run = TRUE;
          continue;
        }
      if (!is_direct ((guchar) *p))
        return NULL;
      g_string_append_c (out, *p);
      p++;
      after_run = FALSE;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
