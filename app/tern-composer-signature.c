/* tern-composer-signature.c: the signature in the body's text, and the HTML
 * a plain text body becomes when the user writes HTML mail.
 *
 * The signature is part of the text the user sees and edits: "-- " on a
 * line of its own (RFC 3676, 4.3), then the account's signature.  It goes
 * below the user's own text: at the end of a new message or of a reply
 * written below the quote, above the quote or the forwarded message
 * otherwise.  Changing the sender replaces the block the composer put in
 * (where the body still has it unchanged) instead of adding a second one,
 * and a body that already has the block (a draft reopened) keeps its one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer"

#include "config.h"

#include <string.h>

#include "tern-composer-private.h"

#define SEPARATOR "-- \n"

/* "-- \nSIGNATURE\n", NULL for no signature. */
static char *
signature_block (const char *signature)
{
  g_autofree char *text = NULL;
  gsize len;

  if (signature == NULL)
    return NULL;
  text = _tern_composer_normalize_text (signature);
  len = strlen (text);
  while (len > 0 && text[len - 1] == '\n')
    text[--len] = '\0';
  if (_tern_composer_is_blank (text))
    return NULL;
  return g_strconcat (SEPARATOR, text, "\n", NULL);
}

/* Where @block starts on a line of its own in @body, or NULL.  It ends
 * the body or a blank line follows it: "-- \nAnna\n" is not the start of
 * "-- \nAnna\nTern Ltd\n". */
static const char *
find_block (const char *body,
            const char *block)
{
  gsize len = strlen (block);
  const char *found = NULL;

  for (const char *p = strstr (body, block); p != NULL; p = strstr (p + 1, block))
    if ((p == body || p[-1] == '\n') && (p[len] == '\0' || p[len] == '\n'))
      found = p; /* the last one: a quoted signature comes earlier */
  return found;
}

static char *
insert_block (const char *body,
              const char *block,
              gboolean    above)
{
  gsize len = strlen (body);

  if (above)
    {
      /* The user writes on the first line; the quote keeps its blank line. */
      while (*body == '\n')
        body++;
      return g_strconcat ("\n\n", block, *body != '\0' ? "\n" : "", body, NULL);
    }
  if (len == 0)
    return g_strconcat ("\n\n", block, NULL);
  /* A blank line between the text and the separator; after a reply's
   * quote (which ends in one) a line to write on as well. */
  return g_strconcat (body, body[len - 1] == '\n' ? "\n" : "\n\n", block, NULL);
}

char *
_tern_composer_replace_signature (const char *body,
                                  const char *old_signature,
                                  const char *new_signature,
                                  gboolean    above)
{
  g_autofree char *old_block = signature_block (old_signature);
  g_autofree char *new_block = signature_block (new_signature);
  const char *at;

  if (body == NULL)
    body = "";
  if (g_strcmp0 (old_block, new_block) == 0 && old_block != NULL)
    return NULL;

  /* Already there: a draft reopened, or the same signature again. */
  if (new_block != NULL && find_block (body, new_block) != NULL)
    return NULL;

  at = old_block != NULL ? find_block (body, old_block) : NULL;
  if (at != NULL)
    {
      g_autoptr(GString) out = g_string_new_len (body, at - body);

      if (new_block != NULL)
        g_string_append (out, new_block);
      else
        {
          /* The blank lines that set it apart go with it. */
          while (out->len > 0 && out->str[out->len - 1] == '\n')
            g_string_truncate (out, out->len - 1);
          if (out->len > 0)
            g_string_append_c (out, '\n');
        }
      g_string_append (out, at + strlen (old_block));
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  /* The user changed the old signature: theirs now, not replaced. */
  if (old_block != NULL || new_block == NULL)
    return NULL;
  return insert_block (body, new_block, above);
}

gboolean
_tern_composer_has_signature (const char *body,
                              const char *signature)
{
  g_autofree char *block = signature_block (signature);

  return block != NULL && body != NULL && find_block (body, block) != NULL;
}

/* Quoted lines become blockquotes, the signature a div of its own. */
char *
_tern_composer_text_to_html (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  GString *out = g_string_new ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
                               "<body style=\"white-space: pre-wrap\">");
  guint depth = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      guint level = 0;
      g_autofree char *escaped = NULL;

      if (lines[i + 1] == NULL && line[0] == '\0')
        break; /* the text's final line break */
      while (line[0] == '>')
        {
          level++;
          line++;
          if (line[0] == ' ')
            line++;
        }
      for (; depth < level; depth++)
        g_string_append (out, "<blockquote type=\"cite\">");
      for (; depth > level; depth--)
        g_string_append (out, "</blockquote>");
      escaped = g_markup_escape_text (line, -1);
      g_string_append (out, escaped);
      g_string_append (out, "<br>");
    }
  for (; depth > 0; depth--)
    g_string_append (out, "</blockquote>");
  g_string_append (out, "</body></html>\n");
  return g_string_free (out, FALSE);
}
