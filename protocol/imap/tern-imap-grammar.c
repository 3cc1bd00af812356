/* tern-imap-grammar.c: the response grammar of RFC 3501 and RFC 9051 and
 * the extensions Tern uses, by recursive descent over one complete
 * response (tern-imap-parser.c frames them).
 *
 * Strict where a misreading would corrupt data (numbers, literals, sets,
 * dates), lenient where servers are known to stray harmlessly: keywords in
 * any case, extra spaces, a missing text after a response code, trailing
 * spaces, NIL where a string belongs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tern-imap-parser-private.h"

typedef struct
{
  TernImapParser *parser;
  const guint8   *d;
  gsize           len;
  gsize           pos;
  guint           depth;
  guint           next_streamed;
  GError         *error;
  GStringChunk   *strings;  /* while an ENVELOPE or a BODYSTRUCTURE is read:
                             * its message's (see TernImapMessage) */
} Cursor;

/* A string as read: bytes (NUL-terminated, may hold NULs) or, for a
 * literal that went to a sink, only its size. */
typedef struct
{
  char    *data;
  gsize    len;
  gboolean is_nil;
  gboolean streamed;
  gboolean kept;     /* @data is in the cursor's strings, not allocated */
} Str;

static void
str_clear (Str *s)
{
  if (!s->kept)
    g_free (s->data);
  s->data = NULL;
}

/* A copy of @len bytes at @data (and a NUL) among the strings of the
 * message being read. */
static char *
keep_bytes (Cursor     *c,
            const void *data,
            gsize       len)
{
  return g_string_chunk_insert_len (c->strings, data, (gssize) len);
}

static char *
keep_text (Cursor     *c,
           const char *text)
{
  return keep_bytes (c, text, strlen (text));
}

static gboolean
fail (Cursor          *c,
      TernImapProblem  problem)
{
  if (c->error == NULL)
    {
      c->parser->error_offset = _tern_imap_parser_stream_offset (c->parser, c->pos);
      c->error = _tern_imap_parser_error (c->parser->error_offset, problem);
    }
  return FALSE;
}

static int
peek (Cursor *c)
{
  return c->pos < c->len ? c->d[c->pos] : -1;
}

static gboolean
at_eol (Cursor *c)
{
  int ch = peek (c);

  return ch == '\r' || ch == '\n' || ch == -1;
}

static gboolean
accept (Cursor *c,
        int     ch)
{
  if (peek (c) != ch)
    return FALSE;
  c->pos++;
  return TRUE;
}

/* One space, and any extra ones a sloppy server adds. */
static gboolean
sp (Cursor *c)
{
  if (!accept (c, ' '))
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_SPACE);
  while (peek (c) == ' ')
    c->pos++;
  return TRUE;
}

/* Trailing spaces, CRLF (or LF), and nothing after. */
static gboolean
crlf (Cursor *c)
{
  while (peek (c) == ' ')
    c->pos++;
  accept (c, '\r');
  if (!accept (c, '\n') || c->pos != c->len)
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_END);
  return TRUE;
}

static gboolean
enter (Cursor *c)
{
  if (!accept (c, '('))
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_OPEN);
  if (++c->depth > c->parser->max_depth)
    return fail (c, TERN_IMAP_PROBLEM_TOO_DEEP);
  while (peek (c) == ' ')
    c->pos++;
  return TRUE;
}

static gboolean
leave (Cursor *c)
{
  while (peek (c) == ' ')
    c->pos++;
  if (!accept (c, ')'))
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_CLOSE);
  c->depth--;
  return TRUE;
}

/* Between items of a list: a space, or nothing before the closing
 * parenthesis.  Returns FALSE at the end of the list. */
static gboolean
list_next (Cursor *c)
{
  while (peek (c) == ' ')
    c->pos++;
  return peek (c) != ')' && !at_eol (c);
}

static gboolean
is_atom_char (int  ch,
              gboolean allow_bracket)
{
  if (ch < 0 || ch <= 0x20 || ch == 0x7f)
    return FALSE;
  if (ch == '(' || ch == ')' || ch == '{' || ch == '"')
    return FALSE;
  return allow_bracket || ch != ']';
}

static gboolean
read_atom (Cursor    *c,
           gboolean   allow_bracket,
           char     **out)
{
  gsize start = c->pos;

  while (is_atom_char (peek (c), allow_bracket))
    c->pos++;
  if (c->pos == start)
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_ATOM);
  *out = g_strndup ((const char *) c->d + start, c->pos - start);
  return TRUE;
}

static gboolean
read_atom_upper (Cursor  *c,
                 char   **out)
{
  if (!read_atom (c, FALSE, out))
    return FALSE;
  for (char *p = *out; *p != '\0'; p++)
    *p = g_ascii_toupper (*p);
  return TRUE;
}

/* Whether the next token is the atom @word (case-insensitive); consumes it
 * if so. */
static gboolean
accept_word (Cursor     *c,
             const char *word)
{
  gsize n = strlen (word);

  if (c->len - c->pos < n ||
      g_ascii_strncasecmp ((const char *) c->d + c->pos, word, n) != 0)
    return FALSE;
  if (is_atom_char (c->pos + n < c->len ? c->d[c->pos + n] : -1, FALSE) &&
      word[n - 1] != ')')
    return FALSE;
  c->pos += n;
  return TRUE;
}

/* NIL in any case: asked before every nstring, most of an ENVELOPE's
 * fields among them, where accept_word()'s general compare showed. */
static gboolean
accept_nil (Cursor *c)
{
  const guint8 *p = c->d + c->pos;

  /* A byte ORed with 0x20 is 'n' only for 'n' and 'N', and so on. */
  if (c->len - c->pos < 3 || (p[0] | 0x20) != 'n' || (p[1] | 0x20) != 'i' ||
      (p[2] | 0x20) != 'l' || is_atom_char (c->len - c->pos > 3 ? p[3] : -1, FALSE))
    return FALSE;
  c->pos += 3;
  return TRUE;
}

static gboolean
read_number64 (Cursor  *c,
               guint64 *out)
{
  guint64 n = 0;
  gsize start = c->pos;

  while (g_ascii_isdigit (peek (c)))
    {
      guint digit = (guint) (c->d[c->pos] - '0');

      if (n > (G_MAXUINT64 - digit) / 10)
        return fail (c, TERN_IMAP_PROBLEM_EXPECTED_NUMBER);
      n = n * 10 + digit;
      c->pos++;
    }
  if (c->pos == start || g_ascii_isalpha (peek (c)))
    {
      c->pos = start;
      return fail (c, TERN_IMAP_PROBLEM_EXPECTED_NUMBER);
    }
  *out = n;
  return TRUE;
}

static gboolean
read_number (Cursor  *c,
             guint32 *out)
{
  guint64 n;
  gsize start = c->pos;

  if (!read_number64 (c, &n))
    return FALSE;
  if (n > G_MAXUINT32)
    {
      c->pos = start;
      return fail (c, TERN_IMAP_PROBLEM_EXPECTED_NUMBER);
    }
  *out = (guint32) n;
  return TRUE;
}

/* The bytes that end the fast scan of a quoted string: one table load a
 * byte rather than four compares, over most of a FETCH's text. */
static const guint8 quoted_special[256] = {
  ['"'] = 1, ['\\'] = 1, ['\r'] = 1, ['\n'] = 1,
};

static gboolean
read_quoted (Cursor *c,
             Str    *out)
{
  GString *s;
  gsize start = c->pos + 1, end;

  /* Most quoted strings have no escapes: copied in one piece. */
  for (end = start; end < c->len && !quoted_special[c->d[end]]; end++)
    ;
  if (end < c->len && c->d[end] == '"')
    {
      out->len = end - start;
      if (c->strings != NULL)
        {
          out->data = keep_bytes (c, c->d + start, out->len);
          out->kept = TRUE;
        }
      else
        {
          out->data = g_malloc (out->len + 1);
          memcpy (out->data, c->d + start, out->len);
          out->data[out->len] = '\0';
        }
      c->pos = end + 1;
      return TRUE;
    }

  s = g_string_new (NULL);
  c->pos++; /* the opening quote */
  for (;;)
    {
      int ch = peek (c);

      if (ch == '"')
        break;
      if (ch == '\\')
        {
          c->pos++;
          ch = peek (c);
        }
      if (ch == -1 || ch == '\r' || ch == '\n')
        {
          g_string_free (s, TRUE);
          return fail (c, TERN_IMAP_PROBLEM_EXPECTED_STRING);
        }
      g_string_append_c (s, (char) ch);
      c->pos++;
    }
  c->pos++;
  out->len = s->len;
  if (c->strings != NULL)
    {
      out->data = keep_bytes (c, s->str, s->len);
      out->kept = TRUE;
      g_string_free (s, TRUE);
    }
  else
    out->data = g_string_free (s, FALSE);
  return TRUE;
}

static gboolean
read_literal (Cursor *c,
              Str    *out)
{
  guint64 size = 0;

  accept (c, '~');
  if (!accept (c, '{') || !read_number64 (c, &size))
    return fail (c, TERN_IMAP_PROBLEM_BAD_LITERAL);
  accept (c, '+');
  if (!accept (c, '}'))
    return fail (c, TERN_IMAP_PROBLEM_BAD_LITERAL);
  accept (c, '\r');
  if (!accept (c, '\n'))
    return fail (c, TERN_IMAP_PROBLEM_BAD_LITERAL);

  /* A literal skipped as raw text may have passed a marker. */
  while (c->next_streamed < c->parser->streamed->len &&
         g_array_index (c->parser->streamed, TernImapStreamed, c->next_streamed).pos < c->pos)
    c->next_streamed++;
  if (c->next_streamed < c->parser->streamed->len)
    {
      const TernImapStreamed *s =
        &g_array_index (c->parser->streamed, TernImapStreamed, c->next_streamed);

      if (s->pos == c->pos)
        {
          c->next_streamed++;
          out->streamed = TRUE;
          out->len = (gsize) s->size;
          return TRUE;
        }
    }
  if (size > c->len - c->pos)
    return fail (c, TERN_IMAP_PROBLEM_BAD_LITERAL);
  out->data = g_malloc ((gsize) size + 1);
  memcpy (out->data, c->d + c->pos, (gsize) size);
  out->data[size] = '\0';
  out->len = (gsize) size;
  c->pos += (gsize) size;
  return TRUE;
}

static gboolean
read_string (Cursor *c,
             Str    *out)
{
  int ch = peek (c);

  memset (out, 0, sizeof *out);
  if (ch == '"')
    return read_quoted (c, out);
  if (ch == '{' || ch == '~')
    return read_literal (c, out);
  return fail (c, TERN_IMAP_PROBLEM_EXPECTED_STRING);
}

static gboolean
read_nstring (Cursor *c,
              Str    *out)
{
  memset (out, 0, sizeof *out);
  if (accept_nil (c))
    {
      out->is_nil = TRUE;
      return TRUE;
    }
  return read_string (c, out);
}

static gboolean
read_astring (Cursor *c,
              Str    *out)
{
  int ch = peek (c);

  memset (out, 0, sizeof *out);
  if (ch == '"' || ch == '{' || ch == '~')
    return read_string (c, out);
  if (!read_atom (c, TRUE, &out->data))
    return FALSE;
  out->len = strlen (out->data);
  return TRUE;
}

/* Valid UTF-8 from server bytes: NULs become U+FFFD too. */
static char *
to_utf8 (const char *data,
         gsize       len)
{
  if (memchr (data, '\0', len) != NULL)
    {
      GString *s = g_string_sized_new (len);
      g_autofree char *tmp = NULL;
      char *ret;

      for (gsize i = 0; i < len; i++)
        if (data[i] == '\0')
          g_string_append (s, "\xef\xbf\xbd");
        else
          g_string_append_c (s, data[i]);
      tmp = g_string_free (s, FALSE);
      ret = g_utf8_make_valid (tmp, -1);
      return ret;
    }
  return g_utf8_make_valid (data, (gssize) len);
}

/* Whether @data holds only ASCII without NULs, the most common text of an
 * ENVELOPE or BODYSTRUCTURE: eight bytes at a time, no branch a byte,
 * unlike UTF-8 validation. */
static gboolean
is_plain_ascii (const char *data,
                gsize       len)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  guint8 seen = 0;
  gsize i = 0;

  /* A byte of 0x80 and above has its top bit; (w - ones) & ~w has the
   * top bit of the first zero byte at least, and of no byte if none is. */
  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, data + i, sizeof w);
      if (((w | ((w - ones) & ~w)) & highs) != 0)
        return FALSE;
    }
  /* The top bit of b or of b - 1 is set for 0x80 and above, and for 0. */
  for (; i < len; i++)
    seen |= (guint8) data[i] | (guint8) ((guint8) data[i] - 1);
  return (seen & 0x80) == 0;
}

/* An nstring as UTF-8, NULL for NIL (and for a streamed literal, which
 * cannot be a text field). */
static gboolean
read_ntext (Cursor  *c,
            char   **out)
{
  Str s;

  if (!read_nstring (c, &s))
    return FALSE;
  *out = NULL;
  if (s.data == NULL)
    return TRUE;
  /* Valid UTF-8 without NULs (g_utf8_validate_len() refuses them) is
   * kept as read. */
  if (is_plain_ascii (s.data, s.len) || g_utf8_validate_len (s.data, s.len, NULL))
    {
      if (s.kept || c->strings == NULL)
        *out = g_steal_pointer (&s.data);
      else
        *out = keep_bytes (c, s.data, s.len);
    }
  else if (c->strings == NULL)
    *out = to_utf8 (s.data, s.len);
  else
    {
      g_autofree char *text = to_utf8 (s.data, s.len);

      *out = keep_text (c, text);
    }
  str_clear (&s);
  return TRUE;
}

static gboolean
read_atext (Cursor  *c,
            char   **out)
{
  Str s;

  if (!read_astring (c, &s))
    return FALSE;
  *out = to_utf8 (s.data != NULL ? s.data : "", s.data != NULL ? s.len : 0);
  str_clear (&s);
  return TRUE;
}

/* The rest of the line, raw, as UTF-8. */
static char *
rest_of_line (Cursor *c)
{
  gsize start = c->pos;

  while (!at_eol (c))
    c->pos++;
  return to_utf8 ((const char *) c->d + start, c->pos - start);
}

/* Any value, to skip what Tern does not use: atoms (with [sections]),
 * strings, literals, lists. */
static gboolean
skip_value (Cursor *c)
{
  int ch = peek (c);

  if (ch == '(')
    {
      if (!enter (c))
        return FALSE;
      while (list_next (c))
        if (!skip_value (c))
          return FALSE;
      return leave (c);
    }
  if (ch == '"' || ch == '{' || ch == '~')
    {
      Str s;
      gboolean ok = read_string (c, &s);

      str_clear (&s);
      return ok;
    }
  {
    gsize start = c->pos;

    while (is_atom_char (peek (c), TRUE) || peek (c) == '[')
      {
        if (accept (c, '['))
          {
            while (!at_eol (c) && peek (c) != ']')
              c->pos++;
            if (!accept (c, ']'))
              return fail (c, TERN_IMAP_PROBLEM_EXPECTED_BRACKET);
          }
        else
          c->pos++;
      }
    if (c->pos == start)
      return fail (c, TERN_IMAP_PROBLEM_EXPECTED_ATOM);
  }
  return TRUE;
}

/* Flags */

static void
add_flag (const char    *flag,
          TernImapFlags *flags,
          GPtrArray     *keywords,
          gboolean      *any)
{
  static const struct
  {
    const char   *name;
    TernImapFlags flag;
  } system[] = {
    { "\\Seen", TERN_IMAP_FLAG_SEEN },         { "\\Answered", TERN_IMAP_FLAG_ANSWERED },
    { "\\Flagged", TERN_IMAP_FLAG_FLAGGED },   { "\\Deleted", TERN_IMAP_FLAG_DELETED },
    { "\\Draft", TERN_IMAP_FLAG_DRAFT },       { "\\Recent", TERN_IMAP_FLAG_RECENT },
    { "$Forwarded", TERN_IMAP_FLAG_FORWARDED }, { "$Junk", TERN_IMAP_FLAG_JUNK },
  };

  if (strcmp (flag, "\\*") == 0)
    {
      if (any != NULL)
        *any = TRUE;
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (system); i++)
    if (g_ascii_strcasecmp (flag, system[i].name) == 0)
      {
        *flags |= system[i].flag;
        return;
      }
  g_ptr_array_add (keywords, to_utf8 (flag, strlen (flag)));
}

static gboolean
read_flag_list (Cursor        *c,
                TernImapFlags *flags,
                GPtrArray     *keywords,
                gboolean      *any)
{
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree char *flag = NULL;

      /* "\*" is the only flag with a character atoms may not hold. */
      if (peek (c) == '\\' && c->pos + 1 < c->len && c->d[c->pos + 1] == '*')
        {
          c->pos += 2;
          flag = g_strdup ("\\*");
        }
      else if (!read_atom (c, FALSE, &flag))
        return FALSE;
      add_flag (flag, flags, keywords, any);
    }
  return leave (c);
}

/* Sets */

static gboolean
read_set (Cursor       *c,
          TernImapSet **out)
{
  gsize start = c->pos;
  g_autofree char *text = NULL;

  while (g_ascii_isdigit (peek (c)) || peek (c) == ':' || peek (c) == ',' || peek (c) == '*')
    c->pos++;
  text = g_strndup ((const char *) c->d + start, c->pos - start);
  *out = tern_imap_set_parse (text);
  if (*out == NULL || is_atom_char (peek (c), FALSE))
    {
      g_clear_pointer (out, tern_imap_set_free);
      c->pos = start;
      return fail (c, TERN_IMAP_PROBLEM_BAD_SET);
    }
  return TRUE;
}

/* Mailbox names */

static char *
decode_name (TernImapParser *parser,
             const char     *raw)
{
  char *name;

  if (g_ascii_strcasecmp (raw, "INBOX") == 0)
    return g_strdup ("INBOX");
  if (parser->utf8_accept)
    return g_strdup (raw);
  name = tern_imap_utf7_decode (raw);
  /* Not modified UTF-7: keep what the server sent, made valid. */
  return name != NULL ? name : g_strdup (raw);
}

static gboolean
read_mailbox (Cursor  *c,
              char   **raw_out,
              char   **name_out)
{
  g_autofree char *raw = NULL;

  if (!read_atext (c, &raw))
    return FALSE;
  *name_out = decode_name (c->parser, raw);
  *raw_out = g_steal_pointer (&raw);
  return TRUE;
}

static gboolean
read_delimiter (Cursor *c,
                char   *out)
{
  Str s;

  if (!read_nstring (c, &s))
    return FALSE;
  *out = s.data != NULL && s.len > 0 && (guchar) s.data[0] < 0x80 ? s.data[0] : '\0';
  str_clear (&s);
  return TRUE;
}

/* Response codes */

static const struct
{
  const char  *name;
  TernImapCode code;
} codes[] = {
  { "ALERT", TERN_IMAP_CODE_ALERT },
  { "BADCHARSET", TERN_IMAP_CODE_BADCHARSET },
  { "CAPABILITY", TERN_IMAP_CODE_CAPABILITY },
  { "PARSE", TERN_IMAP_CODE_PARSE },
  { "PERMANENTFLAGS", TERN_IMAP_CODE_PERMANENTFLAGS },
  { "READ-ONLY", TERN_IMAP_CODE_READ_ONLY },
  { "READ-WRITE", TERN_IMAP_CODE_READ_WRITE },
  { "TRYCREATE", TERN_IMAP_CODE_TRYCREATE },
  { "UIDNEXT", TERN_IMAP_CODE_UIDNEXT },
  { "UIDVALIDITY", TERN_IMAP_CODE_UIDVALIDITY },
  { "UNSEEN", TERN_IMAP_CODE_UNSEEN },
  { "HIGHESTMODSEQ", TERN_IMAP_CODE_HIGHESTMODSEQ },
  { "NOMODSEQ", TERN_IMAP_CODE_NOMODSEQ },
  { "MODIFIED", TERN_IMAP_CODE_MODIFIED },
  { "APPENDUID", TERN_IMAP_CODE_APPENDUID },
  { "COPYUID", TERN_IMAP_CODE_COPYUID },
  { "UIDNOTSTICKY", TERN_IMAP_CODE_UIDNOTSTICKY },
  { "CLOSED", TERN_IMAP_CODE_CLOSED },
  { "NONEXISTENT", TERN_IMAP_CODE_NONEXISTENT },
  { "ALREADYEXISTS", TERN_IMAP_CODE_ALREADYEXISTS },
  { "REFERRAL", TERN_IMAP_CODE_REFERRAL },
  { "COMPRESSIONACTIVE", TERN_IMAP_CODE_COMPRESSIONACTIVE },
  { "UNAVAILABLE", TERN_IMAP_CODE_UNAVAILABLE },
  { "AUTHENTICATIONFAILED", TERN_IMAP_CODE_AUTHENTICATIONFAILED },
  { "AUTHORIZATIONFAILED", TERN_IMAP_CODE_AUTHORIZATIONFAILED },
  { "EXPIRED", TERN_IMAP_CODE_EXPIRED },
  { "PRIVACYREQUIRED", TERN_IMAP_CODE_PRIVACYREQUIRED },
  { "CONTACTADMIN", TERN_IMAP_CODE_CONTACTADMIN },
  { "NOPERM", TERN_IMAP_CODE_NOPERM },
  { "INUSE", TERN_IMAP_CODE_INUSE },
  { "EXPUNGEISSUED", TERN_IMAP_CODE_EXPUNGEISSUED },
  { "CORRUPTION", TERN_IMAP_CODE_CORRUPTION },
  { "SERVERBUG", TERN_IMAP_CODE_SERVERBUG },
  { "CLIENTBUG", TERN_IMAP_CODE_CLIENTBUG },
  { "CANNOT", TERN_IMAP_CODE_CANNOT },
  { "LIMIT", TERN_IMAP_CODE_LIMIT },
  { "OVERQUOTA", TERN_IMAP_CODE_OVERQUOTA },
  { "HASCHILDREN", TERN_IMAP_CODE_HASCHILDREN },
  { "UNKNOWN-CTE", TERN_IMAP_CODE_UNKNOWN_CTE },
};

static gboolean
read_capabilities (Cursor    *c,
                   GPtrArray *out)
{
  /* CAPABILITY data may end the line; in a code it ends at "]". */
  while (peek (c) == ' ')
    {
      char *cap;

      c->pos++;
      if (at_eol (c) || peek (c) == ']' || peek (c) == ' ')
        continue;
      if (!read_atom_upper (c, &cap))
        return FALSE;
      g_ptr_array_add (out, cap);
    }
  return TRUE;
}

static gboolean
read_code_args (Cursor           *c,
                TernImapResponse *r)
{
  switch (r->code)
    {
    case TERN_IMAP_CODE_CAPABILITY:
      r->capabilities = g_ptr_array_new_with_free_func (g_free);
      return read_capabilities (c, r->capabilities);
    case TERN_IMAP_CODE_PERMANENTFLAGS:
      r->keywords = g_ptr_array_new_with_free_func (g_free);
      return sp (c) && read_flag_list (c, &r->flags, r->keywords, &r->permanent_any);
    case TERN_IMAP_CODE_BADCHARSET:
      r->code_strings = g_ptr_array_new_with_free_func (g_free);
      if (!accept (c, ' ') || peek (c) == ']')
        return TRUE;
      if (!enter (c))
        return FALSE;
      while (list_next (c))
        {
          char *charset;

          if (!read_atext (c, &charset))
            return FALSE;
          g_ptr_array_add (r->code_strings, charset);
        }
      return leave (c);
    case TERN_IMAP_CODE_UIDNEXT:
    case TERN_IMAP_CODE_UIDVALIDITY:
    case TERN_IMAP_CODE_UNSEEN:
      return sp (c) && read_number (c, &r->code_number);
    case TERN_IMAP_CODE_HIGHESTMODSEQ:
      return sp (c) && read_number64 (c, &r->code_modseq);
    case TERN_IMAP_CODE_MODIFIED:
      return sp (c) && read_set (c, &r->code_set);
    case TERN_IMAP_CODE_APPENDUID:
      return sp (c) && read_number (c, &r->code_number) && sp (c) && read_set (c, &r->code_set);
    case TERN_IMAP_CODE_COPYUID:
      {
        gsize start = c->pos;

        if (!sp (c) || !read_number (c, &r->code_number) || !sp (c) ||
            !read_set (c, &r->code_source_set) || !sp (c) || !read_set (c, &r->code_set))
          return FALSE;
        r->code_text = to_utf8 ((const char *) c->d + start + 1, c->pos - start - 1);
        return TRUE;
      }
    default:
      {
        /* REFERRAL, unknown codes, and arguments where none belong: kept
         * as text. */
        gsize start;

        if (!accept (c, ' '))
          return TRUE;
        start = c->pos;
        while (!at_eol (c) && peek (c) != ']')
          c->pos++;
        r->code_text = to_utf8 ((const char *) c->d + start, c->pos - start);
        return TRUE;
      }
    }
}

static gboolean
read_code (Cursor           *c,
           TernImapResponse *r)
{
  gsize start;

  c->pos++; /* "[" */
  start = c->pos;
  while (is_atom_char (peek (c), FALSE) && peek (c) != '[')
    c->pos++;
  if (c->pos == start)
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_ATOM);
  r->code_name = g_ascii_strup ((const char *) c->d + start, (gssize) (c->pos - start));
  r->code = TERN_IMAP_CODE_UNKNOWN;
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strcmp (r->code_name, codes[i].name) == 0)
      r->code = codes[i].code;
  if (!read_code_args (c, r))
    return FALSE;
  while (peek (c) == ' ')
    c->pos++;
  if (!accept (c, ']'))
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_BRACKET);
  return TRUE;
}

/* [SP ["[" code "]" [SP]] text] */
static gboolean
read_resp_text (Cursor           *c,
                TernImapResponse *r)
{
  while (peek (c) == ' ')
    c->pos++;
  if (peek (c) == '[' && !read_code (c, r))
    return FALSE;
  while (peek (c) == ' ')
    c->pos++;
  r->text = rest_of_line (c);
  return TRUE;
}

/* ENVELOPE */

/* Lists of addresses whose strings are the message's. */
static GPtrArray *
address_list_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

static gboolean
read_addresses (Cursor     *c,
                GPtrArray **out)
{
  *out = address_list_new ();
  if (accept_nil (c))
    return TRUE;
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree TernImapAddress *a = g_new0 (TernImapAddress, 1);

      if (!enter (c) || !read_ntext (c, &a->name) || !sp (c) || !read_ntext (c, &a->adl) ||
          !sp (c) || !read_ntext (c, &a->mailbox) || !sp (c) || !read_ntext (c, &a->host) ||
          !leave (c))
        return FALSE;
      g_ptr_array_add (*out, g_steal_pointer (&a));
    }
  return leave (c);
}

/* Whether the text at the cursor repeats bytes @start to @end (a list
 * just read, without literals) up to a delimiter; if so, skips it. */
static gboolean
accept_repeat (Cursor *c,
               gsize   start,
               gsize   end)
{
  gsize n = end - start;

  if (n == 0 || c->len - c->pos < n || memchr (c->d + start, '{', n) != NULL ||
      memcmp (c->d + c->pos, c->d + start, n) != 0 ||
      (c->pos + n < c->len && c->d[c->pos + n] != ' ' && c->d[c->pos + n] != ')'))
    return FALSE;
  c->pos += n;
  return TRUE;
}

/* An envelope or a body part being read: its strings are the message's. */
typedef TernImapEnvelope KeptEnvelope;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KeptEnvelope, _tern_imap_envelope_free_kept)
typedef TernImapBody KeptBody;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KeptBody, _tern_imap_body_free_kept)

static gboolean
read_envelope (Cursor            *c,
               TernImapEnvelope **out)
{
  g_autoptr(KeptEnvelope) e = g_new0 (TernImapEnvelope, 1);
  GPtrArray **lists[] = { &e->from, &e->sender, &e->reply_to, &e->to, &e->cc, &e->bcc };
  gsize from_start = 0, from_end = 0;
  gboolean ok;

  ok = enter (c) && read_ntext (c, &e->date) && sp (c) && read_ntext (c, &e->subject);
  for (gsize i = 0; ok && i < G_N_ELEMENTS (lists); i++)
    {
      ok = sp (c);
      /* A server fills Sender and Reply-To with the From list when a
       * message has none (RFC 3501 7.4.2): the same bytes, the same
       * list, shared rather than parsed and allocated again (about a
       * third of the addresses of a header sync). */
      if (ok && (lists[i] == &e->sender || lists[i] == &e->reply_to) &&
          accept_repeat (c, from_start, from_end))
        {
          *lists[i] = g_ptr_array_ref (e->from);
          continue;
        }
      from_start = lists[i] == &e->from ? c->pos : from_start;
      ok = ok && read_addresses (c, lists[i]);
      from_end = lists[i] == &e->from ? c->pos : from_end;
    }
  ok = ok && sp (c) && read_ntext (c, &e->in_reply_to) && sp (c) &&
       read_ntext (c, &e->message_id) && leave (c);
  /* Fields never reached stay NULL: make them empty lists. */
  for (gsize i = 0; i < G_N_ELEMENTS (lists); i++)
    if (*lists[i] == NULL)
      *lists[i] = address_list_new ();
  if (!ok)
    return FALSE;
  *out = g_steal_pointer (&e);
  return TRUE;
}

/* BODYSTRUCTURE */

static char *
lower_text (char *s)
{
  if (s != NULL)
    for (char *p = s; *p != '\0'; p++)
      *p = g_ascii_tolower (*p);
  return s;
}

/* Into *@params, made at the first parameter (most parts have no
 * disposition parameters) as a vector of name and value pairs: a part has
 * one to three, and a hash table of them cost four allocations and four
 * frees where this costs one of each.  Its names and values are the
 * message's strings.  A name sent twice keeps its last value. */
static gboolean
read_params (Cursor   *c,
             char   ***params)
{
  gsize n = 0;
  gsize size = 0;

  if (accept_nil (c))
    return TRUE;
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      char *name = NULL;
      char *value = NULL;
      gsize i;

      if (!read_ntext (c, &name) || !sp (c) || !read_ntext (c, &value))
        return FALSE;
      if (name == NULL)
        continue;
      lower_text (name);
      if (value == NULL)
        value = keep_text (c, "");
      for (i = 0; i < n && strcmp ((*params)[i], name) != 0; i += 2)
        ;
      if (i == n)
        {
          /* Room for the pair and the NULL after it. */
          if (n + 3 > size)
            {
              size = MAX (5, 2 * size);
              *params = g_renew (char *, *params, size);
            }
          (*params)[n] = name;
          n += 2;
          (*params)[n] = NULL;
        }
      (*params)[i + 1] = value;
    }
  return leave (c);
}

static gboolean
read_disposition (Cursor       *c,
                  TernImapBody *b)
{
  if (accept_nil (c))
    return TRUE;
  return enter (c) && read_ntext (c, &b->disposition) && sp (c) &&
         read_params (c, &b->disposition_params) && leave (c) &&
         (lower_text (b->disposition), TRUE);
}

static gboolean
read_language (Cursor       *c,
               TernImapBody *b)
{
  if (peek (c) != '(')
    return read_ntext (c, &b->language);
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      char *lang = NULL;

      if (!read_ntext (c, &lang))
        return FALSE;
      if (b->language == NULL)
        b->language = lang;
    }
  return leave (c);
}

/* [SP dsp [SP lang [SP loc *(SP extension)]]] up to the closing ")". */
static gboolean
read_body_ext_tail (Cursor       *c,
                    TernImapBody *b)
{
  if (!list_next (c))
    return TRUE;
  if (!read_disposition (c, b))
    return FALSE;
  if (!list_next (c))
    return TRUE;
  if (!read_language (c, b))
    return FALSE;
  if (!list_next (c))
    return TRUE;
  if (!read_ntext (c, &b->location))
    return FALSE;
  while (list_next (c))
    if (!skip_value (c))
      return FALSE;
  return TRUE;
}

static void
add_child (TernImapBody *b,
           TernImapBody *child)
{
  if (b->children == NULL)
    b->children = g_ptr_array_new_with_free_func ((GDestroyNotify) _tern_imap_body_free_kept);
  g_ptr_array_add (b->children, child);
}

static gboolean read_body (Cursor *c, TernImapBody **out);

static gboolean
read_body_multipart (Cursor       *c,
                     TernImapBody *b)
{
  b->type = keep_text (c, "multipart");
  while (peek (c) == '(')
    {
      TernImapBody *child = NULL;

      if (!read_body (c, &child))
        return FALSE;
      add_child (b, child);
      while (peek (c) == ' ')
        c->pos++;
    }
  if (!read_ntext (c, &b->subtype))
    return FALSE;
  lower_text (b->subtype);
  if (!list_next (c))
    return TRUE;
  if (!read_params (c, &b->params))
    return FALSE;
  return read_body_ext_tail (c, b);
}

static gboolean
read_body_single (Cursor       *c,
                  TernImapBody *b)
{
  if (!read_ntext (c, &b->type) || !sp (c) || !read_ntext (c, &b->subtype) || !sp (c) ||
      !read_params (c, &b->params) || !sp (c) || !read_ntext (c, &b->id) || !sp (c) ||
      !read_ntext (c, &b->description) || !sp (c) || !read_ntext (c, &b->encoding) || !sp (c) ||
      !read_number64 (c, &b->size))
    return FALSE;
  lower_text (b->type);
  lower_text (b->subtype);
  lower_text (b->encoding);
  if (b->type == NULL)
    b->type = keep_text (c, "application");
  if (b->subtype == NULL)
    b->subtype = keep_text (c, "octet-stream");

  if (strcmp (b->type, "message") == 0 &&
      (strcmp (b->subtype, "rfc822") == 0 || strcmp (b->subtype, "global") == 0) &&
      c->pos + 1 < c->len && c->d[c->pos] == ' ' && c->d[c->pos + 1] == '(')
    {
      TernImapBody *child = NULL;

      if (!sp (c) || !read_envelope (c, &b->envelope) || !sp (c) || !read_body (c, &child))
        return FALSE;
      add_child (b, child);
      if (!sp (c) || !read_number64 (c, &b->lines))
        return FALSE;
    }
  else if (strcmp (b->type, "text") == 0 && list_next (c) && g_ascii_isdigit (peek (c)))
    {
      if (!read_number64 (c, &b->lines))
        return FALSE;
    }

  if (!list_next (c))
    return TRUE;
  if (!read_ntext (c, &b->md5))
    return FALSE;
  return read_body_ext_tail (c, b);
}

static gboolean
read_body (Cursor        *c,
           TernImapBody **out)
{
  g_autoptr(KeptBody) b = g_new0 (TernImapBody, 1);
  gboolean ok;

  if (!enter (c))
    return FALSE;
  if (peek (c) == '(')
    ok = read_body_multipart (c, b);
  else
    ok = read_body_single (c, b);
  if (!ok || !leave (c))
    return FALSE;
  *out = g_steal_pointer (&b);
  return TRUE;
}

/* "@prefix.@n", or "@n" under the top, among the message's strings: a
 * printf per part was a tenth of reading a BODYSTRUCTURE. */
static char *
join_section (Cursor     *c,
              const char *prefix,
              guint       n)
{
  char digits[16];
  gsize i = sizeof digits;
  g_autofree char *joined = NULL;

  digits[--i] = '\0';
  do
    digits[--i] = (char) ('0' + n % 10);
  while ((n /= 10) > 0);
  if (prefix[0] == '\0')
    return keep_text (c, digits + i);
  joined = g_strconcat (prefix, ".", digits + i, NULL);
  return keep_text (c, joined);
}

/* Part numbers as in RFC 3501 §6.4.5: the top of a single-part message is
 * "1"; the parts of a multipart are its number plus ".n"; the body of a
 * message/rfc822 part N is numbered like a message of its own under N.
 * @number is one of the message's strings, and parts may share it. */
static void
assign_sections (Cursor       *c,
                 TernImapBody *b,
                 char         *number,
                 gboolean      is_message_top)
{
  if (strcmp (b->type, "multipart") == 0)
    {
      b->section = number;
      for (guint i = 0; b->children != NULL && i < b->children->len; i++)
        assign_sections (c, g_ptr_array_index (b->children, i), join_section (c, number, i + 1),
                         FALSE);
      return;
    }
  b->section = is_message_top ? join_section (c, number, 1) : number;
  if (b->children != NULL && b->children->len > 0)
    assign_sections (c, g_ptr_array_index (b->children, 0), b->section, TRUE);
}

/* FETCH */

/* Reads 1 to @max digits at *@p, as sscanf's "%2d" did, without its
 * signs and white space (and its cost: a tenth of the parse). */
static gboolean
read_digits (const char **p,
             int          max,
             int         *out)
{
  int n = 0;
  int value = 0;

  while (n < max && g_ascii_isdigit ((*p)[n]))
    value = value * 10 + ((*p)[n++] - '0');
  *p += n;
  *out = value;
  return n > 0;
}

/* date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 3501), the day perhaps
 * one digit after a space. */
static gboolean
parse_internaldate (const char *s,
                    gint64     *out)
{
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int day, year, h, m, sec, zone, month = 0;
  char sign;

  while (*s == ' ')
    s++;
  if (!read_digits (&s, 2, &day) || *s++ != '-')
    return FALSE;
  for (int i = 0; i < 12 && s[0] != '\0' && s[1] != '\0' && s[2] != '\0'; i++)
    if (g_ascii_strncasecmp (s, months + 3 * i, 3) == 0)
      {
        month = i + 1;
        break;
      }
  if (month == 0)
    return FALSE;
  s += 3;
  if (*s++ != '-' || !read_digits (&s, 4, &year) || *s++ != ' ' ||
      !read_digits (&s, 2, &h) || *s++ != ':' || !read_digits (&s, 2, &m) || *s++ != ':' ||
      !read_digits (&s, 2, &sec) || *s++ != ' ')
    return FALSE;
  sign = *s++;
  if ((sign != '+' && sign != '-') || !read_digits (&s, 4, &zone) || *s != '\0')
    return FALSE;
  if (year < 1 || day < 1 || !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year) ||
      h > 23 || m > 59 || sec > 60 || h < 0 || m < 0 || sec < 0 || zone < 0 || zone % 100 > 59)
    return FALSE;
  {
    gint64 offset = (zone / 100) * 3600 + (zone % 100) * 60;

    *out = tern_imap_utc_seconds (year, month, day, h * 3600 + m * 60 + sec) -
           (sign == '+' ? offset : -offset);
  }
  return TRUE;
}

/* Where the strings of @message's envelope and body go (made at the
 * first: a FETCH of flags alone has none).  Most messages' fit in one
 * block of this size.  No larger: glibc serves up to 1,032 bytes from its
 * per-thread cache, while a larger request first merges every small chunk
 * freed since (malloc_consolidate(), once a message at 2,048: 10,800
 * headers, 12,452 such merges against 6,843, 16 million instructions
 * fewer). */
#define MESSAGE_STRINGS_BLOCK 1024

static GStringChunk *
message_strings (TernImapMessage *message)
{
  if (message->strings == NULL)
    message->strings = g_string_chunk_new (MESSAGE_STRINGS_BLOCK);
  return message->strings;
}

static gboolean
read_section_item (Cursor           *c,
                   TernImapResponse *r,
                   const char       *item)
{
  g_autoptr(TernImapFetchSection) fs = g_new0 (TernImapFetchSection, 1);
  Str s;

  fs->item = g_strdup (item);
  if (accept (c, '['))
    {
      gsize start = c->pos;

      while (!at_eol (c) && peek (c) != ']')
        c->pos++;
      if (!accept (c, ']'))
        return fail (c, TERN_IMAP_PROBLEM_EXPECTED_BRACKET);
      fs->section = g_ascii_strup ((const char *) c->d + start, (gssize) (c->pos - start - 1));
      if (accept (c, '<'))
        {
          if (!read_number (c, &fs->origin) || !accept (c, '>'))
            return fail (c, TERN_IMAP_PROBLEM_EXPECTED_NUMBER);
          fs->has_origin = TRUE;
        }
    }
  if (!sp (c) || !read_nstring (c, &s))
    return FALSE;
  fs->is_nil = s.is_nil;
  fs->streamed = s.streamed;
  fs->size = s.len;
  if (s.data != NULL)
    fs->data = g_bytes_new_take (g_steal_pointer (&s.data), s.len);

  if (strcmp (item, "RFC822.HEADER") == 0 ||
      (fs->section != NULL && g_str_has_prefix (fs->section, "HEADER")))
    {
      r->message->present |= TERN_IMAP_FETCH_HEADERS;
      g_clear_pointer (&r->message->headers, g_bytes_unref);
      if (fs->data != NULL)
        r->message->headers = g_bytes_ref (fs->data);
    }
  else
    r->message->present |= TERN_IMAP_FETCH_BODY;
  g_ptr_array_add (r->sections, g_steal_pointer (&fs));
  return TRUE;
}

static gboolean
read_fetch_item (Cursor           *c,
                 TernImapResponse *r)
{
  TernImapMessage *msg = r->message;
  gsize start = c->pos;
  char name[32] = "";
  gsize n = 0;

  while (g_ascii_isalnum (peek (c)) || peek (c) == '.' || peek (c) == '-' || peek (c) == '_')
    c->pos++;
  if (c->pos == start)
    return fail (c, TERN_IMAP_PROBLEM_EXPECTED_ATOM);
  /* Uppercased on the stack (eight items a message); a longer name is
   * none of those read below, and stays "" to be skipped. */
  if (c->pos - start < sizeof name)
    for (n = 0; n < c->pos - start; n++)
      {
        char ch = (char) c->d[start + n];

        name[n] = ch >= 'a' && ch <= 'z' ? (char) (ch - 'a' + 'A') : ch;
      }
  /* Its length first: a chain of strcmp() was a tenth of the work of
   * reading the items. */
#define IS_ITEM(literal) (n == sizeof (literal) - 1 && memcmp (name, literal, n) == 0)

  if (IS_ITEM ("UID"))
    {
      msg->present |= TERN_IMAP_FETCH_UID;
      return sp (c) && read_number (c, &msg->uid);
    }
  if (IS_ITEM ("FLAGS"))
    {
      msg->present |= TERN_IMAP_FETCH_FLAGS;
      msg->flags = 0;
      g_ptr_array_set_size (msg->keywords, 0);
      return sp (c) && read_flag_list (c, &msg->flags, msg->keywords, NULL);
    }
  if (IS_ITEM ("INTERNALDATE"))
    {
      Str s;
      gboolean ok;

      if (!sp (c) || !read_string (c, &s))
        return FALSE;
      ok = s.data != NULL && strlen (s.data) == s.len &&
           parse_internaldate (s.data, &msg->internal_date);
      str_clear (&s);
      if (!ok)
        {
          c->pos = start;
          return fail (c, TERN_IMAP_PROBLEM_BAD_DATE);
        }
      msg->present |= TERN_IMAP_FETCH_INTERNALDATE;
      return TRUE;
    }
  if (IS_ITEM ("RFC822.SIZE"))
    {
      msg->present |= TERN_IMAP_FETCH_SIZE;
      return sp (c) && read_number64 (c, &msg->size);
    }
  if (IS_ITEM ("ENVELOPE"))
    {
      gboolean ok;

      msg->present |= TERN_IMAP_FETCH_ENVELOPE;
      g_clear_pointer (&msg->envelope, _tern_imap_envelope_free_kept);
      c->strings = message_strings (msg);
      ok = sp (c) && read_envelope (c, &msg->envelope);
      c->strings = NULL;
      return ok;
    }
  if (IS_ITEM ("MODSEQ"))
    {
      msg->present |= TERN_IMAP_FETCH_MODSEQ;
      return sp (c) && enter (c) && read_number64 (c, &msg->modseq) && leave (c);
    }
  if ((IS_ITEM ("BODY") && peek (c) != '[') || IS_ITEM ("BODYSTRUCTURE"))
    {
      gboolean ok;

      msg->present |= TERN_IMAP_FETCH_BODYSTRUCTURE;
      g_clear_pointer (&msg->body, _tern_imap_body_free_kept);
      c->strings = message_strings (msg);
      ok = sp (c) && read_body (c, &msg->body);
      if (ok)
        assign_sections (c, msg->body, keep_text (c, ""), TRUE);
      c->strings = NULL;
      return ok;
    }
  if (IS_ITEM ("BODY") || IS_ITEM ("BINARY") || IS_ITEM ("RFC822") || IS_ITEM ("RFC822.HEADER") ||
      IS_ITEM ("RFC822.TEXT"))
    return read_section_item (c, r, name);
#undef IS_ITEM

  /* BINARY.SIZE[...], X-GM-*, EMAILID, THREADID, SAVEDATE, PREVIEW, ... */
  if (accept (c, '['))
    {
      while (!at_eol (c) && peek (c) != ']')
        c->pos++;
      if (!accept (c, ']'))
        return fail (c, TERN_IMAP_PROBLEM_EXPECTED_BRACKET);
    }
  return sp (c) && skip_value (c);
}

static gboolean
read_fetch (Cursor           *c,
            TernImapResponse *r)
{
  r->message = tern_imap_message_new ();
  r->message->seq = r->number;
  r->sections = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_fetch_section_free);
  if (!sp (c) || !enter (c))
    return FALSE;
  while (list_next (c))
    if (!read_fetch_item (c, r))
      return FALSE;
  return leave (c);
}

/* Mailbox data */

static const struct
{
  const char               *name;
  TernImapMailboxAttributes attribute;
} mailbox_attributes[] = {
  { "\\Noselect", TERN_IMAP_MAILBOX_NOSELECT },
  { "\\NoInferiors", TERN_IMAP_MAILBOX_NOINFERIORS },
  { "\\HasChildren", TERN_IMAP_MAILBOX_HAS_CHILDREN },
  { "\\HasNoChildren", TERN_IMAP_MAILBOX_HAS_NO_CHILDREN },
  { "\\NonExistent", TERN_IMAP_MAILBOX_NONEXISTENT | TERN_IMAP_MAILBOX_NOSELECT },
  { "\\Subscribed", TERN_IMAP_MAILBOX_SUBSCRIBED },
  { "\\Marked", TERN_IMAP_MAILBOX_MARKED },
  { "\\Unmarked", TERN_IMAP_MAILBOX_UNMARKED },
  { "\\All", TERN_IMAP_MAILBOX_ALL },
  { "\\Archive", TERN_IMAP_MAILBOX_ARCHIVE },
  { "\\Drafts", TERN_IMAP_MAILBOX_DRAFTS },
  { "\\Flagged", TERN_IMAP_MAILBOX_FLAGGED },
  { "\\Junk", TERN_IMAP_MAILBOX_JUNK },
  { "\\Sent", TERN_IMAP_MAILBOX_SENT },
  { "\\Trash", TERN_IMAP_MAILBOX_TRASH },
};

static gboolean
read_list (Cursor           *c,
           TernImapResponse *r)
{
  TernImapMailbox *mb = r->mailbox = g_new0 (TernImapMailbox, 1);

  if (!sp (c) || !enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree char *attr = NULL;

      if (!read_atom (c, FALSE, &attr))
        return FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (mailbox_attributes); i++)
        if (g_ascii_strcasecmp (attr, mailbox_attributes[i].name) == 0)
          mb->attributes |= mailbox_attributes[i].attribute;
    }
  if (!leave (c) || !sp (c) || !read_delimiter (c, &mb->delimiter) || !sp (c) ||
      !read_mailbox (c, &mb->raw_name, &mb->name))
    return FALSE;
  if (!list_next (c))
    return TRUE;
  /* mbox-list-extended (RFC 5258) */
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree char *tag = NULL;

      if (!read_atext (c, &tag) || !sp (c))
        return FALSE;
      if (g_ascii_strcasecmp (tag, "CHILDINFO") == 0 && peek (c) == '(')
        {
          g_clear_pointer (&r->childinfo, g_ptr_array_unref);
          r->childinfo = g_ptr_array_new_with_free_func (g_free);
          if (!enter (c))
            return FALSE;
          while (list_next (c))
            {
              char *info;

              if (!read_atext (c, &info))
                return FALSE;
              g_ptr_array_add (r->childinfo, g_ascii_strup (info, -1));
              g_free (info);
            }
          if (!leave (c))
            return FALSE;
        }
      else if (g_ascii_strcasecmp (tag, "OLDNAME") == 0 && peek (c) == '(')
        {
          g_autofree char *raw = NULL;

          g_clear_pointer (&r->oldname, g_free);
          if (!enter (c) || !read_mailbox (c, &raw, &r->oldname) || !leave (c))
            return FALSE;
        }
      else if (!skip_value (c))
        return FALSE;
    }
  return leave (c);
}

static gboolean
read_status (Cursor           *c,
             TernImapResponse *r)
{
  TernImapMailbox *mb = r->mailbox = g_new0 (TernImapMailbox, 1);
  TernImapStatus *st = &mb->status;

  if (!sp (c) || !read_mailbox (c, &mb->raw_name, &mb->name) || !sp (c) || !enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree char *att = NULL;
      guint64 value;

      if (!read_atom_upper (c, &att) || !sp (c) || !read_number64 (c, &value))
        return FALSE;
      if (strcmp (att, "MESSAGES") == 0)
        st->present |= TERN_IMAP_STATUS_MESSAGES, st->messages = (guint32) MIN (value, G_MAXUINT32);
      else if (strcmp (att, "UIDNEXT") == 0)
        st->present |= TERN_IMAP_STATUS_UIDNEXT, st->uidnext = (guint32) MIN (value, G_MAXUINT32);
      else if (strcmp (att, "UIDVALIDITY") == 0)
        st->present |= TERN_IMAP_STATUS_UIDVALIDITY,
          st->uidvalidity = (guint32) MIN (value, G_MAXUINT32);
      else if (strcmp (att, "UNSEEN") == 0)
        st->present |= TERN_IMAP_STATUS_UNSEEN, st->unseen = (guint32) MIN (value, G_MAXUINT32);
      else if (strcmp (att, "RECENT") == 0)
        st->present |= TERN_IMAP_STATUS_RECENT, st->recent = (guint32) MIN (value, G_MAXUINT32);
      else if (strcmp (att, "HIGHESTMODSEQ") == 0)
        st->present |= TERN_IMAP_STATUS_HIGHESTMODSEQ, st->highestmodseq = value;
      else if (strcmp (att, "SIZE") == 0)
        st->present |= TERN_IMAP_STATUS_SIZE, st->size = value;
    }
  return leave (c);
}

/* Searches */

static gboolean
read_search (Cursor           *c,
             TernImapResponse *r)
{
  r->set = tern_imap_set_new ();
  while (list_next (c))
    {
      guint32 n;

      if (peek (c) == '(')
        {
          /* (MODSEQ n), RFC 7162 */
          if (!enter (c) || !accept_word (c, "MODSEQ") || !sp (c) ||
              !read_number64 (c, &r->modseq) || !leave (c))
            return fail (c, TERN_IMAP_PROBLEM_EXPECTED_NUMBER);
          continue;
        }
      if (!read_number (c, &n))
        return FALSE;
      tern_imap_set_add (r->set, n);
    }
  return TRUE;
}

static gboolean
read_esearch (Cursor           *c,
              TernImapResponse *r)
{
  TernImapEsearch *es = r->esearch = g_new0 (TernImapEsearch, 1);

  r->set = tern_imap_set_new ();
  if (!list_next (c))
    return TRUE;
  if (peek (c) == '(')
    {
      if (!enter (c) || !accept_word (c, "TAG") || !sp (c) || !read_atext (c, &es->tag) ||
          !leave (c))
        return fail (c, TERN_IMAP_PROBLEM_EXPECTED_STRING);
    }
  while (list_next (c))
    {
      g_autofree char *name = NULL;

      if (!read_atom_upper (c, &name))
        return FALSE;
      if (strcmp (name, "UID") == 0)
        {
          es->uid = TRUE;
          continue;
        }
      if (!sp (c))
        return FALSE;
      if (strcmp (name, "MIN") == 0)
        {
          es->present |= TERN_IMAP_ESEARCH_MIN;
          if (!read_number (c, &es->min))
            return FALSE;
        }
      else if (strcmp (name, "MAX") == 0)
        {
          es->present |= TERN_IMAP_ESEARCH_MAX;
          if (!read_number (c, &es->max))
            return FALSE;
        }
      else if (strcmp (name, "COUNT") == 0)
        {
          es->present |= TERN_IMAP_ESEARCH_COUNT;
          if (!read_number (c, &es->count))
            return FALSE;
        }
      else if (strcmp (name, "MODSEQ") == 0)
        {
          es->present |= TERN_IMAP_ESEARCH_MODSEQ;
          if (!read_number64 (c, &es->modseq))
            return FALSE;
        }
      else if (strcmp (name, "ALL") == 0)
        {
          es->present |= TERN_IMAP_ESEARCH_ALL;
          tern_imap_set_free (r->set);
          r->set = NULL;
          if (!read_set (c, &r->set))
            return FALSE;
        }
      else if (!skip_value (c))
        return FALSE;
    }
  return TRUE;
}

/* ID, NAMESPACE */

static gboolean
read_id (Cursor           *c,
         TernImapResponse *r)
{
  if (!sp (c))
    return FALSE;
  if (accept_nil (c))
    return TRUE;
  r->id_params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      g_autofree char *key = NULL;
      g_autofree char *value = NULL;

      if (!read_ntext (c, &key) || !sp (c) || !read_ntext (c, &value))
        return FALSE;
      if (key != NULL)
        g_hash_table_replace (r->id_params, g_steal_pointer (&key), g_steal_pointer (&value));
    }
  return leave (c);
}

static gboolean
read_namespace (Cursor     *c,
                GPtrArray **out)
{
  if (accept_nil (c))
    return TRUE;
  *out = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_namespace_free);
  if (!enter (c))
    return FALSE;
  while (list_next (c))
    {
      TernImapNamespace *ns;
      g_autofree char *prefix = NULL;
      char delimiter = '\0';

      if (!enter (c) || !read_atext (c, &prefix) || !sp (c) || !read_delimiter (c, &delimiter))
        return FALSE;
      /* Namespace-response-extensions */
      while (list_next (c))
        if (!skip_value (c))
          return FALSE;
      if (!leave (c))
        return FALSE;
      ns = g_new0 (TernImapNamespace, 1);
      ns->prefix = g_strdup (prefix);
      ns->delimiter = delimiter;
      if (!c->parser->utf8_accept)
        {
          char *decoded = tern_imap_utf7_decode (prefix);

          if (decoded != NULL)
            {
              g_free (ns->prefix);
              ns->prefix = decoded;
            }
        }
      g_ptr_array_add (*out, ns);
    }
  return leave (c);
}

/* Responses */

static gboolean
read_untagged_numbered (Cursor           *c,
                        TernImapResponse *r)
{
  if (!read_number (c, &r->number) || !sp (c) || !read_atom_upper (c, &r->name))
    return FALSE;
  if (strcmp (r->name, "EXISTS") == 0)
    r->data = TERN_IMAP_DATA_EXISTS;
  else if (strcmp (r->name, "RECENT") == 0)
    r->data = TERN_IMAP_DATA_RECENT;
  else if (strcmp (r->name, "EXPUNGE") == 0)
    r->data = TERN_IMAP_DATA_EXPUNGE;
  else if (strcmp (r->name, "FETCH") == 0)
    {
      r->data = TERN_IMAP_DATA_FETCH;
      return read_fetch (c, r);
    }
  else
    {
      gsize rest = c->pos;

      r->data = TERN_IMAP_DATA_OTHER;
      while (list_next (c))
        if (!skip_value (c))
          return FALSE;
      r->text = to_utf8 ((const char *) c->d + rest, c->pos - rest);
      g_strstrip (r->text);
    }
  return TRUE;
}

static gboolean
read_untagged (Cursor           *c,
               TernImapResponse *r)
{
  static const struct
  {
    const char            *name;
    TernImapResponseStatus status;
  } statuses[] = {
    { "OK", TERN_IMAP_RESPONSE_STATUS_OK },   { "NO", TERN_IMAP_RESPONSE_STATUS_NO },
    { "BAD", TERN_IMAP_RESPONSE_STATUS_BAD }, { "BYE", TERN_IMAP_RESPONSE_STATUS_BYE },
    { "PREAUTH", TERN_IMAP_RESPONSE_STATUS_PREAUTH },
  };
  gsize rest;

  if (g_ascii_isdigit (peek (c)))
    return read_untagged_numbered (c, r);
  if (!read_atom_upper (c, &r->name))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
    if (strcmp (r->name, statuses[i].name) == 0)
      {
        r->status = statuses[i].status;
        return read_resp_text (c, r);
      }

  if (strcmp (r->name, "CAPABILITY") == 0)
    {
      r->data = TERN_IMAP_DATA_CAPABILITY;
      r->capabilities = g_ptr_array_new_with_free_func (g_free);
      return read_capabilities (c, r->capabilities);
    }
  if (strcmp (r->name, "ENABLED") == 0)
    {
      r->data = TERN_IMAP_DATA_ENABLED;
      r->capabilities = g_ptr_array_new_with_free_func (g_free);
      return read_capabilities (c, r->capabilities);
    }
  if (strcmp (r->name, "FLAGS") == 0)
    {
      r->data = TERN_IMAP_DATA_FLAGS;
      r->keywords = g_ptr_array_new_with_free_func (g_free);
      return sp (c) && read_flag_list (c, &r->flags, r->keywords, NULL);
    }
  if (strcmp (r->name, "LIST") == 0 || strcmp (r->name, "LSUB") == 0)
    {
      r->data = r->name[1] == 'I' ? TERN_IMAP_DATA_LIST : TERN_IMAP_DATA_LSUB;
      return read_list (c, r);
    }
  if (strcmp (r->name, "STATUS") == 0)
    {
      r->data = TERN_IMAP_DATA_STATUS;
      return read_status (c, r);
    }
  if (strcmp (r->name, "SEARCH") == 0)
    {
      r->data = TERN_IMAP_DATA_SEARCH;
      return read_search (c, r);
    }
  if (strcmp (r->name, "ESEARCH") == 0)
    {
      r->data = TERN_IMAP_DATA_ESEARCH;
      return read_esearch (c, r);
    }
  if (strcmp (r->name, "VANISHED") == 0)
    {
      r->data = TERN_IMAP_DATA_VANISHED;
      if (!sp (c))
        return FALSE;
      if (accept_word (c, "(EARLIER)"))
        {
          r->earlier = TRUE;
          if (!sp (c))
            return FALSE;
        }
      return read_set (c, &r->set);
    }
  if (strcmp (r->name, "ID") == 0)
    {
      r->data = TERN_IMAP_DATA_ID;
      return read_id (c, r);
    }
  if (strcmp (r->name, "NAMESPACE") == 0)
    {
      r->data = TERN_IMAP_DATA_NAMESPACE;
      return sp (c) && read_namespace (c, &r->namespaces[0]) && sp (c) &&
             read_namespace (c, &r->namespaces[1]) && sp (c) &&
             read_namespace (c, &r->namespaces[2]);
    }

  /* Unknown data (SORT, THREAD, QUOTA, METADATA, ...): skipped value by
   * value, so literals inside are framed right; the text keeps the rest. */
  r->data = TERN_IMAP_DATA_OTHER;
  rest = c->pos;
  while (list_next (c))
    if (!skip_value (c))
      return FALSE;
  r->text = to_utf8 ((const char *) c->d + rest, c->pos - rest);
  g_strstrip (r->text);
  return TRUE;
}

static gboolean
read_response (Cursor           *c,
               TernImapResponse *r)
{
  if (accept (c, '+'))
    {
      r->kind = TERN_IMAP_RESPONSE_CONTINUATION;
      accept (c, ' ');
      r->text = rest_of_line (c);
      return crlf (c);
    }
  if (accept (c, '*'))
    {
      r->kind = TERN_IMAP_RESPONSE_UNTAGGED;
      if (!sp (c) || !read_untagged (c, r))
        return FALSE;
      return crlf (c);
    }

  r->kind = TERN_IMAP_RESPONSE_TAGGED;
  {
    gsize start = c->pos;

    while (is_atom_char (peek (c), TRUE) && peek (c) != '+')
      c->pos++;
    if (c->pos == start)
      return fail (c, TERN_IMAP_PROBLEM_BAD_RESPONSE);
    r->tag = g_strndup ((const char *) c->d + start, c->pos - start);
  }
  if (!sp (c) || !read_atom_upper (c, &r->name))
    return FALSE;
  if (strcmp (r->name, "OK") == 0)
    r->status = TERN_IMAP_RESPONSE_STATUS_OK;
  else if (strcmp (r->name, "NO") == 0)
    r->status = TERN_IMAP_RESPONSE_STATUS_NO;
  else if (strcmp (r->name, "BAD") == 0)
    r->status = TERN_IMAP_RESPONSE_STATUS_BAD;
  else
    {
      c->pos -= strlen (r->name);
      return fail (c, TERN_IMAP_PROBLEM_BAD_RESPONSE);
    }
  return read_resp_text (c, r) && crlf (c);
}

TernImapResponse *
_tern_imap_parse_response (TernImapParser  *self,
                           GError         **error)
{
  g_autoptr(TernImapResponse) r = g_new0 (TernImapResponse, 1);
  Cursor c = { self, self->buf->data, self->buf->len, 0, 0, 0, NULL };

  if (!read_response (&c, r))
    {
      if (c.error == NULL)
        fail (&c, TERN_IMAP_PROBLEM_BAD_CHARACTER);
      g_propagate_error (error, c.error);
      return NULL;
    }
  if (r->text == NULL)
    r->text = g_strdup ("");
  if (r->name == NULL)
    r->name = g_strdup (r->kind == TERN_IMAP_RESPONSE_CONTINUATION ? "+" : "");
  return g_steal_pointer (&r);
}

/* Freeing */

void
tern_imap_fetch_section_free (TernImapFetchSection *section)
{
  if (section == NULL)
    return;
  g_free (section->item);
  g_free (section->section);
  g_clear_pointer (&section->data, g_bytes_unref);
  g_free (section);
}

void
tern_imap_namespace_free (TernImapNamespace *ns)
{
  if (ns == NULL)
    return;
  g_free (ns->prefix);
  g_free (ns);
}

void
tern_imap_response_free (TernImapResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->tag);
  g_free (r->name);
  g_free (r->text);
  g_free (r->code_name);
  g_free (r->code_text);
  g_clear_pointer (&r->code_set, tern_imap_set_free);
  g_clear_pointer (&r->code_source_set, tern_imap_set_free);
  g_clear_pointer (&r->code_strings, g_ptr_array_unref);
  g_clear_pointer (&r->capabilities, g_ptr_array_unref);
  g_clear_pointer (&r->keywords, g_ptr_array_unref);
  g_clear_pointer (&r->message, tern_imap_message_free);
  g_clear_pointer (&r->sections, g_ptr_array_unref);
  g_clear_pointer (&r->mailbox, tern_imap_mailbox_free);
  g_clear_pointer (&r->childinfo, g_ptr_array_unref);
  g_free (r->oldname);
  g_clear_pointer (&r->set, tern_imap_set_free);
  if (r->esearch != NULL)
    g_free (r->esearch->tag);
  g_free (r->esearch);
  g_clear_pointer (&r->id_params, g_hash_table_unref);
  for (int i = 0; i < 3; i++)
    g_clear_pointer (&r->namespaces[i], g_ptr_array_unref);
  g_free (r);
}

gboolean
tern_imap_response_has_capability (const TernImapResponse *response,
                                   const char             *capability)
{
  g_return_val_if_fail (response != NULL && capability != NULL, FALSE);

  if (response->capabilities == NULL)
    return FALSE;
  for (guint i = 0; i < response->capabilities->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (response->capabilities, i), capability) == 0)
      return TRUE;
  return FALSE;
}
