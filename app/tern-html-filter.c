/* tern-html-filter.c: a careful tag scanner for HTML mail.
 *
 * The states and their transitions are those of the HTML tokenizer
 * (https://html.spec.whatwg.org/#tokenization) for tags and attributes, so
 * that a tag ends where WebKit's does whatever the quoting.  Where the two
 * could still disagree, the output leaves nothing to disagree about:
 * comments, CDATA sections and bogus comments are dropped, raw text (style,
 * title, ...) keeps no '<', and every other '<' that starts no tag becomes
 * "&lt;".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-html-filter"

#include "config.h"

#include "tern-html-filter.h"

#include <string.h>

/* Fonts, images and styles only from the message itself (cid:, data:);
 * no scripts, frames, objects, forms or base URIs at all. */
#define CSP_COMMON                                                                    \
  "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "     \
  "child-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'; "      \
  "media-src cid: data:; "
#define CSP_LOCAL \
  CSP_COMMON "img-src cid: data:; style-src 'unsafe-inline' cid: data:; font-src cid: data:"
#define CSP_REMOTE                                                                    \
  CSP_COMMON "img-src cid: data: http: https:; style-src 'unsafe-inline' cid: data: " \
             "http: https:; font-src cid: data: http: https:"

/* Elements whose content the tokenizer reads as text up to their end tag.
 * Their content is written without '<' (as "&lt;"), so that it cannot turn
 * into markup where the browser disagrees (foreign content, noscript). */
static const char *const raw_text_elements[] = {
  "iframe", "noembed", "noframes", "script", "style", "textarea", "title", "xmp",
};

/* Substrings of a <link rel> that make the link fetch by itself. */
static const char *const fetching_rels[] = {
  "preconnect", "prefetch", "prerender", "preload",
};

typedef struct
{
  char *name;        /* lower case */
  gboolean is_end;
  GPtrArray *names;  /* attribute names, lower case */
  GPtrArray *values; /* raw values; "" when there is none */
} Tag;

typedef struct
{
  GString *out;
  TernHtmlFilterFlags flags;
  gboolean csp_pending;
  guint removed;
} Filter;

const char *
tern_html_filter_get_csp (TernHtmlFilterFlags flags)
{
  return (flags & TERN_HTML_FILTER_ALLOW_REMOTE) ? CSP_REMOTE : CSP_LOCAL;
}

static gboolean
is_space (char c)
{
  /* The tokenizer's whitespace, with CR (which it normalises to LF). */
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static void
tag_clear (Tag *tag)
{
  g_clear_pointer (&tag->name, g_free);
  g_clear_pointer (&tag->names, g_ptr_array_unref);
  g_clear_pointer (&tag->values, g_ptr_array_unref);
}

static void
add_attribute (Tag        *tag,
               const char *name,
               gsize       name_len,
               const char *value,
               gsize       value_len)
{
  g_ptr_array_add (tag->names, g_ascii_strdown (name, name_len));
  g_ptr_array_add (tag->values, g_strndup (value, value_len));
}

/* Scans the tag at @p ('<' and a letter, or "</" and a letter) into @tag.
 * Returns the position after its '>', or NULL when the input ends inside
 * it (the tokenizer drops such a tag). */
static const char *
scan_tag (const char *p,
          Tag        *tag)
{
  const char *q = p + 1;
  const char *start;

  tag->is_end = *q == '/';
  if (tag->is_end)
    q++;
  start = q;
  while (*q != '\0' && !is_space (*q) && *q != '/' && *q != '>')
    q++;
  tag->name = g_ascii_strdown (start, q - start);
  tag->names = g_ptr_array_new_with_free_func (g_free);
  tag->values = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      const char *name;
      gsize name_len;

      /* Before attribute name. */
      while (is_space (*q))
        q++;
      if (*q == '\0')
        return NULL;
      if (*q == '>')
        return q + 1;
      if (*q == '/')
        {
          /* Self-closing start tag: anything but '>' is read again. */
          q++;
          if (*q == '>')
            return q + 1;
          continue;
        }
      /* Attribute name; its first character may be '='. */
      name = q++;
      while (*q != '\0' && !is_space (*q) && *q != '/' && *q != '>' && *q != '=')
        q++;
      name_len = q - name;
      /* After attribute name. */
      while (is_space (*q))
        q++;
      if (*q == '\0')
        return NULL;
      if (*q != '=')
        {
          add_attribute (tag, name, name_len, "", 0);
          continue;
        }
      q++;
      /* Before attribute value. */
      while (is_space (*q))
        q++;
      if (*q == '\0')
        return NULL;
      if (*q == '"' || *q == '\'')
        {
          char quote = *q++;
          const char *value = q;

          while (*q != '\0' && *q != quote)
            q++;
          if (*q == '\0')
            return NULL;
          add_attribute (tag, name, name_len, value, q - value);
          q++;
        }
      else
        {
          const char *value = q;

          while (*q != '\0' && !is_space (*q) && *q != '>')
            q++;
          add_attribute (tag, name, name_len, value, q - value);
        }
    }
}

static gboolean
has_fetching_rel (const Tag *tag)
{
  for (guint i = 0; i < tag->names->len; i++)
    {
      g_autofree char *value = NULL;

      if (strcmp (g_ptr_array_index (tag->names, i), "rel") != 0)
        continue;
      /* A character reference could spell any of them: no mail needs one
       * in a rel. */
      if (strchr (g_ptr_array_index (tag->values, i), '&') != NULL)
        return TRUE;
      value = g_ascii_strdown (g_ptr_array_index (tag->values, i), -1);
      for (gsize j = 0; j < G_N_ELEMENTS (fetching_rels); j++)
        if (strstr (value, fetching_rels[j]) != NULL)
          return TRUE;
    }
  return FALSE;
}

/* Any http-equiv but the two that only describe the document: refresh
 * navigates, and the others (Link, X-DNS-Prefetch-Control, Set-Cookie)
 * are no business of a mail. */
static gboolean
has_unsafe_http_equiv (const Tag *tag)
{
  for (guint i = 0; i < tag->names->len; i++)
    {
      const char *value = g_ptr_array_index (tag->values, i);

      if (strcmp (g_ptr_array_index (tag->names, i), "http-equiv") != 0)
        continue;
      if (g_ascii_strcasecmp (value, "content-type") != 0 &&
          g_ascii_strcasecmp (value, "content-security-policy") != 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_raw_text (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (raw_text_elements); i++)
    if (strcmp (name, raw_text_elements[i]) == 0)
      return TRUE;
  return FALSE;
}

static void
flush_csp (Filter *filter)
{
  if (!filter->csp_pending)
    return;
  g_string_append_printf (filter->out, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">",
                          tern_html_filter_get_csp (filter->flags));
  filter->csp_pending = FALSE;
}

/* Writes text, '<' as "&lt;". */
static void
append_text (Filter     *filter,
             const char *text,
             gsize       len)
{
  const char *end = text + len;

  while (text < end)
    {
      const char *lt = memchr (text, '<', end - text);
      const char *stop = lt != NULL ? lt : end;

      for (const char *c = text; c < stop && filter->csp_pending; c++)
        if (!is_space (*c))
          flush_csp (filter);
      g_string_append_len (filter->out, text, stop - text);
      if (lt == NULL)
        break;
      flush_csp (filter);
      g_string_append (filter->out, "&lt;");
      text = lt + 1;
    }
}

/* The end of the raw text of element @name that starts at @p: the "</name"
 * that the tokenizer takes for its end tag, or the end of the input. */
static const char *
raw_text_end (const char *p,
              const char *name)
{
  gsize len = strlen (name);

  for (const char *q = strstr (p, "</"); q != NULL; q = strstr (q + 2, "</"))
    if (g_ascii_strncasecmp (q + 2, name, len) == 0 &&
        (is_space (q[2 + len]) || q[2 + len] == '/' || q[2 + len] == '>'))
      return q;
  return p + strlen (p);
}

static const char *
skip_past (const char *p,
           const char *needle)
{
  const char *found = strstr (p, needle);

  return found != NULL ? found + strlen (needle) : p + strlen (p);
}

/* "<!--": the comment ends at "-->" or "--!>", or at once with "<!-->"
 * and "<!--->". */
static const char *
skip_comment (const char *p)
{
  const char *q = p + 4;
  const char *end = strstr (q, "-->");
  const char *bang = strstr (q, "--!>");

  if (q[0] == '>')
    return q + 1;
  if (q[0] == '-' && q[1] == '>')
    return q + 2;
  if (bang != NULL && (end == NULL || bang < end))
    return bang + 4;
  return end != NULL ? end + 3 : q + strlen (q);
}

/* "<!" and "<?": comments, CDATA and bogus comments are dropped; a
 * doctype is kept, before the policy. */
static const char *
markup_declaration (Filter     *filter,
                    const char *p)
{
  const char *end;

  if (strncmp (p, "<!--", 4) == 0)
    return skip_comment (p);
  if (strncmp (p, "<![CDATA[", 9) == 0)
    return skip_past (p + 9, "]]>");
  end = skip_past (p + 2, ">");
  if (g_ascii_strncasecmp (p, "<!doctype", 9) == 0 && end[-1] == '>')
    g_string_append_len (filter->out, p, end - p);
  return end;
}

static const char *
start_or_end_tag (Filter     *filter,
                  const char *p)
{
  Tag tag = { 0 };
  const char *end = scan_tag (p, &tag);
  gboolean keep;

  if (end == NULL)
    {
      tag_clear (&tag);
      return p + strlen (p);
    }
  keep = !(strcmp (tag.name, "link") == 0 && has_fetching_rel (&tag)) &&
         !(strcmp (tag.name, "meta") == 0 && has_unsafe_http_equiv (&tag));
  if (!keep)
    filter->removed++;
  /* Without its tags, noscript's content is markup whether or not the
   * browser runs scripts, as it is for the scanner. */
  if (keep && strcmp (tag.name, "noscript") != 0)
    {
      flush_csp (filter);
      g_string_append_len (filter->out, p, end - p);
    }
  if (keep && !tag.is_end && is_raw_text (tag.name))
    {
      const char *text_end = raw_text_end (end, tag.name);

      append_text (filter, end, text_end - end);
      end = text_end;
    }
  tag_clear (&tag);
  return end;
}

char *
tern_html_filter_prepare (const char          *html,
                          TernHtmlFilterFlags  flags,
                          guint               *n_removed)
{
  Filter filter = { g_string_new (NULL), flags, TRUE, 0 };
  const char *p = html;

  g_return_val_if_fail (html != NULL, NULL);

  while (*p != '\0')
    {
      const char *lt = strchr (p, '<');

      if (lt == NULL)
        {
          append_text (&filter, p, strlen (p));
          break;
        }
      append_text (&filter, p, lt - p);
      p = lt;
      if (g_ascii_isalpha (p[1]) || (p[1] == '/' && g_ascii_isalpha (p[2])))
        p = start_or_end_tag (&filter, p);
      else if (p[1] == '!' || p[1] == '?')
        p = markup_declaration (&filter, p);
      else if (p[1] == '/' && p[2] != '\0')
        p = skip_past (p + 2, ">"); /* "</>" and bogus comments */
      else
        {
          append_text (&filter, p, 1);
          p++;
        }
    }
  flush_csp (&filter);
  if (n_removed != NULL)
    *n_removed = filter.removed;
  return g_string_free (filter.out, FALSE);
}
