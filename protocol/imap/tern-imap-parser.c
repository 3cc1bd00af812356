/* tern-imap-parser.c: framing of server bytes into responses, and the
 * response grammar.
 *
 * Framing is incremental: bytes are appended to the response in progress
 * until a line ends that does not announce a literal ("{n}", "{n+}",
 * "~{n}"); the literal's bytes follow the line in the buffer, or go to a
 * body sink and are only remembered by their position.  The complete
 * response is then parsed in one pass by the recursive descent of
 * tern-imap-grammar.c, which never has to wait for more input.  Limits are
 * checked before bytes are buffered, so memory stays bounded whatever the
 * server sends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-imap-parser-private.h"
#include "tern-imap-client.h"

/* Literal chunks read from a TernConnection by read_response(). */
#define READ_CHUNK (64 * 1024)

TernImapParser *
tern_imap_parser_new (void)
{
  TernImapParser *self = g_new0 (TernImapParser, 1);

  self->max_line = TERN_IMAP_PARSER_DEFAULT_MAX_LINE;
  self->max_depth = TERN_IMAP_PARSER_DEFAULT_MAX_DEPTH;
  self->max_literal = TERN_IMAP_PARSER_DEFAULT_MAX_LITERAL;
  self->max_response = TERN_IMAP_PARSER_DEFAULT_MAX_RESPONSE;
  self->buf = g_byte_array_new ();
  self->line = g_byte_array_new ();
  self->streamed = g_array_new (FALSE, FALSE, sizeof (TernImapStreamed));
  g_queue_init (&self->responses);
  return self;
}

static void
clear_response_in_progress (TernImapParser *self)
{
  /* A big response's buffer is not kept for the next small one. */
  if (self->buf->len > 64 * 1024)
    {
      g_byte_array_unref (self->buf);
      self->buf = g_byte_array_new ();
    }
  else
    g_byte_array_set_size (self->buf, 0);
  g_array_set_size (self->streamed, 0);
  self->buf_offset = self->offset;
  self->line_start = 0;
  self->in_literal = FALSE;
  self->literal_remaining = 0;
  g_clear_object (&self->literal_sink);
}

void
tern_imap_parser_reset (TernImapParser *self)
{
  g_return_if_fail (self != NULL);

  clear_response_in_progress (self);
  g_queue_clear_full (&self->responses, (GDestroyNotify) tern_imap_response_free);
  g_clear_error (&self->error);
  self->error_offset = 0;
  self->offset = 0;
  self->buf_offset = 0;
}

void
tern_imap_parser_free (TernImapParser *self)
{
  if (self == NULL)
    return;
  tern_imap_parser_reset (self);
  g_byte_array_unref (self->buf);
  g_byte_array_unref (self->line);
  g_free (self->chunk);
  g_array_unref (self->streamed);
  if (self->sink_destroy != NULL)
    self->sink_destroy (self->sink_data);
  g_clear_object (&self->body_stream);
  g_free (self);
}

void
tern_imap_parser_set_limits (TernImapParser *self,
                             gsize           max_line,
                             guint           max_depth,
                             gsize           max_literal,
                             gsize           max_response)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_line > 0 && max_depth > 0 && max_response > 0);

  self->max_line = max_line;
  self->max_depth = max_depth;
  self->max_literal = max_literal;
  self->max_response = max_response;
}

void
tern_imap_parser_set_utf8_accept (TernImapParser *self,
                                  gboolean        utf8_accept)
{
  g_return_if_fail (self != NULL);

  self->utf8_accept = !!utf8_accept;
}

gboolean
tern_imap_parser_get_utf8_accept (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->utf8_accept;
}

void
tern_imap_parser_set_body_sink (TernImapParser       *self,
                                TernImapBodySinkFunc  func,
                                gpointer              user_data,
                                GDestroyNotify        destroy)
{
  g_return_if_fail (self != NULL);

  if (self->sink_destroy != NULL)
    self->sink_destroy (self->sink_data);
  self->sink_func = func;
  self->sink_data = user_data;
  self->sink_destroy = destroy;
}

void
tern_imap_parser_set_body_stream (TernImapParser *self,
                                  GOutputStream  *stream)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (stream == NULL || G_IS_OUTPUT_STREAM (stream));

  g_set_object (&self->body_stream, stream);
}

guint64
tern_imap_parser_get_offset (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->offset;
}

gsize
tern_imap_parser_get_buffered (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->buf->len;
}

guint64
tern_imap_parser_get_error_offset (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->error_offset;
}

guint64
tern_imap_parser_get_literal_remaining (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->in_literal ? self->literal_remaining : 0;
}

TernImapResponse *
tern_imap_parser_pop (TernImapParser *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_queue_pop_head (&self->responses);
}

/* Errors */

guint64
_tern_imap_parser_stream_offset (TernImapParser *self,
                                 gsize           buf_pos)
{
  guint64 offset = self->buf_offset + buf_pos;

  for (guint i = 0; i < self->streamed->len; i++)
    {
      const TernImapStreamed *s = &g_array_index (self->streamed, TernImapStreamed, i);

      if (s->pos <= buf_pos)
        offset += s->size;
    }
  return offset;
}

static const char *
problem_sentence (TernImapProblem problem)
{
  switch (problem)
    {
    case TERN_IMAP_PROBLEM_LINE_TOO_LONG:
      return _("A line is longer than the limit.");
    case TERN_IMAP_PROBLEM_RESPONSE_TOO_LONG:
      return _("The response is longer than the limit.");
    case TERN_IMAP_PROBLEM_LITERAL_TOO_LONG:
      return _("A literal string is longer than the limit.");
    case TERN_IMAP_PROBLEM_TOO_DEEP:
      return _("Parentheses are nested too deeply.");
    case TERN_IMAP_PROBLEM_EXPECTED_SPACE:
      return _("A space was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_END:
      return _("The end of the line was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_NUMBER:
      return _("A number was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_STRING:
      return _("A string was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_ATOM:
      return _("A word was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_OPEN:
      return _("An opening parenthesis was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_CLOSE:
      return _("A closing parenthesis was expected.");
    case TERN_IMAP_PROBLEM_EXPECTED_BRACKET:
      return _("A closing bracket was expected.");
    case TERN_IMAP_PROBLEM_BAD_LITERAL:
      return _("A literal string is malformed.");
    case TERN_IMAP_PROBLEM_BAD_DATE:
      return _("A date is malformed.");
    case TERN_IMAP_PROBLEM_BAD_SET:
      return _("A set of message numbers is malformed.");
    case TERN_IMAP_PROBLEM_BAD_RESPONSE:
      return _("The kind of response is unknown.");
    case TERN_IMAP_PROBLEM_BAD_CHARACTER:
    default:
      return _("A character is not allowed there.");
    }
}

GError *
_tern_imap_parser_error (guint64         offset,
                         TernImapProblem problem)
{
  return g_error_new (TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                      _("The server sent data that is not valid IMAP at byte %llu. %s"),
                      (unsigned long long) offset, problem_sentence (problem));
}

static gboolean
fail_at (TernImapParser  *self,
         guint64          offset,
         TernImapProblem  problem,
         GError         **error)
{
  if (self->error == NULL)
    {
      self->error = _tern_imap_parser_error (offset, problem);
      self->error_offset = offset;
    }
  if (error != NULL)
    *error = g_error_copy (self->error);
  return FALSE;
}

/* Sinks write to disk, not memory, but a server must not fill that
 * either. */
static gboolean
fail_too_large (TernImapParser  *self,
                guint64          offset,
                GError         **error)
{
  g_autofree char *limit = g_format_size_full (TERN_IMAP_MAX_MESSAGE_SIZE, G_FORMAT_SIZE_IEC_UNITS);

  if (self->error == NULL)
    {
      self->error = g_error_new (TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                                 _("The server sent a message larger than %s, more than Tern "
                                   "accepts; the connection was closed."),
                                 limit);
      self->error_offset = offset;
    }
  if (error != NULL)
    *error = g_error_copy (self->error);
  return FALSE;
}

/* Framing */

static gboolean
ascii_prefix (const guint8 *data,
              gsize         len,
              const char   *word)
{
  gsize n = strlen (word);

  return len >= n && g_ascii_strncasecmp ((const char *) data, word, n) == 0;
}

/* Whether the response starts (in the buffer, then @data) with a line
 * that may grow with the mailbox. */
static gboolean
is_long_kind (TernImapParser *self,
              const guint8   *data,
              gsize           len)
{
  guint8 d[16];
  gsize n = MIN (self->buf->len, sizeof d);

  if (n > 0)
    memcpy (d, self->buf->data, n);
  if (n < sizeof d && len > 0)
    {
      gsize more = MIN (len, sizeof d - n);

      memcpy (d + n, data, more);
      n += more;
    }
  return ascii_prefix (d, n, "* SEARCH") || ascii_prefix (d, n, "* ESEARCH") ||
         ascii_prefix (d, n, "* SORT") || ascii_prefix (d, n, "* VANISHED") ||
         ascii_prefix (d, n, "* THREAD");
}

/* A continuation or a status response: their text ends the line even when
 * it looks like a literal. */
static gboolean
first_line_has_no_literals (TernImapParser *self)
{
  const guint8 *d = self->buf->data;
  gsize len = self->buf->len;
  gsize i = 0;

  if (len > 0 && d[0] == '+')
    return TRUE;
  while (i < len && d[i] != ' ' && d[i] != '\r' && d[i] != '\n')
    i++;
  if (i >= len || d[i] != ' ')
    return FALSE;
  i++;
  return ascii_prefix (d + i, len - i, "OK ") || ascii_prefix (d + i, len - i, "NO ") ||
         ascii_prefix (d + i, len - i, "BAD ") || ascii_prefix (d + i, len - i, "BYE ") ||
         ascii_prefix (d + i, len - i, "PREAUTH ") || ascii_prefix (d + i, len - i, "OK[") ||
         ascii_prefix (d + i, len - i, "NO[") || ascii_prefix (d + i, len - i, "BAD[");
}

/* "* n FETCH": the sequence number, or 0. */
static guint32
fetch_seq (TernImapParser *self)
{
  const guint8 *d = self->buf->data;
  gsize len = self->buf->len, i = 2;
  guint64 n = 0;

  if (len < 3 || d[0] != '*' || d[1] != ' ')
    return 0;
  while (i < len && g_ascii_isdigit (d[i]) && n <= G_MAXUINT32)
    n = n * 10 + (guint64) (d[i++] - '0');
  if (i == 2 || n > G_MAXUINT32 || i >= len || d[i] != ' ')
    return 0;
  i++;
  if (!ascii_prefix (d + i, len - i, "FETCH "))
    return 0;
  return (guint32) n;
}

static gboolean
is_header_section (const char *item,
                   const char *section)
{
  const char *last;

  if (g_ascii_strcasecmp (item, "RFC822.HEADER") == 0)
    return TRUE;
  if (section == NULL)
    return FALSE;
  /* "HEADER", "1.HEADER", "HEADER.FIELDS (...)", "1.MIME" */
  last = section;
  for (const char *p = section; *p != '\0' && *p != ' '; p++)
    if (*p == '.' && g_ascii_isdigit (p[-1]))
      last = p + 1;
  return g_ascii_strncasecmp (last, "HEADER", 6) == 0 || g_ascii_strncasecmp (last, "MIME", 4) == 0;
}

/* The literal starting at @brace in the current line: if it is a FETCH body
 * section, the stream its owner wants it in, or NULL. */
static GOutputStream *
find_sink (TernImapParser *self,
           gsize           brace,
           guint64         size)
{
  const guint8 *d = self->buf->data;
  gsize end, i, name_end;
  guint32 seq;
  g_autofree char *item = NULL;
  g_autofree char *section = NULL;

  if (self->sink_func == NULL && self->body_stream == NULL)
    return NULL;
  seq = fetch_seq (self);
  if (seq == 0 || brace < self->line_start + 1 || d[brace - 1] != ' ')
    return NULL;
  end = brace - 1; /* the space before the literal */
  i = end;
  /* <origin> */
  if (i > self->line_start && d[i - 1] == '>')
    {
      i--;
      while (i > self->line_start && g_ascii_isdigit (d[i - 1]))
        i--;
      if (i == self->line_start || d[i - 1] != '<')
        return NULL;
      i--;
    }
  name_end = i;
  if (i > self->line_start && d[i - 1] == ']')
    {
      gsize close = i - 1;

      i = close;
      while (i > self->line_start && d[i - 1] != '[' && d[i - 1] != ']' && close - i < 4096)
        i--;
      if (i == self->line_start || d[i - 1] != '[')
        return NULL;
      section = g_strndup ((const char *) d + i, close - i);
      name_end = i - 1;
      i--;
    }
  while (i > self->line_start && (g_ascii_isalnum (d[i - 1]) || d[i - 1] == '.'))
    i--;
  item = g_ascii_strup ((const char *) d + i, (gssize) (name_end - i));
  if (section != NULL && strcmp (item, "BODY") != 0 && strcmp (item, "BINARY") != 0)
    return NULL;
  if (section == NULL && strcmp (item, "RFC822") != 0 && strcmp (item, "RFC822.TEXT") != 0 &&
      strcmp (item, "RFC822.HEADER") != 0)
    return NULL;

  if (self->sink_func != NULL)
    return self->sink_func (seq, item, section != NULL ? section : "", size, self->sink_data);
  if (is_header_section (item, section))
    return NULL;
  return g_object_ref (self->body_stream);
}

static gboolean finish_response (TernImapParser *self, GError **error);

/* A line ended (the buffer ends with LF): start a literal or finish the
 * response. */
static gboolean
line_complete (TernImapParser  *self,
               GError         **error)
{
  const guint8 *d = self->buf->data;
  gsize end = self->buf->len - 1, i, brace;
  guint64 size = 0;
  GOutputStream *sink;

  if (end > self->line_start && d[end - 1] == '\r')
    end--;
  if (self->line_start == 0 && first_line_has_no_literals (self))
    return finish_response (self, error);
  if (end == self->line_start || d[end - 1] != '}')
    return finish_response (self, error);
  i = end - 1;
  if (i > self->line_start && d[i - 1] == '+')
    i--;
  while (i > self->line_start && g_ascii_isdigit (d[i - 1]))
    i--;
  if (i == self->line_start || d[i - 1] != '{' || g_ascii_isdigit (d[i]) == FALSE)
    return finish_response (self, error);
  brace = i - 1;
  for (gsize j = i; g_ascii_isdigit (d[j]); j++)
    {
      if (size > (G_MAXUINT64 - 9) / 10)
        return fail_at (self, _tern_imap_parser_stream_offset (self, brace),
                        TERN_IMAP_PROBLEM_LITERAL_TOO_LONG, error);
      size = size * 10 + (guint64) (d[j] - '0');
    }
  if (brace > self->line_start && d[brace - 1] == '~')
    brace--;
  if (size > TERN_IMAP_MAX_MESSAGE_SIZE && (self->sink_func != NULL || self->body_stream != NULL))
    return fail_too_large (self, _tern_imap_parser_stream_offset (self, brace), error);

  sink = find_sink (self, brace, size);
  if (sink == NULL)
    {
      if (size > self->max_literal)
        return fail_at (self, _tern_imap_parser_stream_offset (self, brace),
                        TERN_IMAP_PROBLEM_LITERAL_TOO_LONG, error);
      if (size > self->max_response - MIN (self->max_response, self->buf->len))
        return fail_at (self, _tern_imap_parser_stream_offset (self, brace),
                        TERN_IMAP_PROBLEM_RESPONSE_TOO_LONG, error);
    }
  else
    {
      TernImapStreamed s = { self->buf->len, size };
      g_array_append_val (self->streamed, s);
    }
  self->literal_sink = sink;
  self->in_literal = TRUE;
  self->literal_remaining = size;
  if (size == 0)
    {
      self->in_literal = FALSE;
      g_clear_object (&self->literal_sink);
      self->line_start = self->buf->len;
    }
  return TRUE;
}

static gboolean
finish_response (TernImapParser  *self,
                 GError         **error)
{
  TernImapResponse *response;
  GError *parse_error = NULL;

  response = _tern_imap_parse_response (self, &parse_error);
  if (response == NULL)
    {
      self->error = parse_error;
      if (error != NULL)
        *error = g_error_copy (parse_error);
      return FALSE;
    }
  g_queue_push_tail (&self->responses, response);
  clear_response_in_progress (self);
  return TRUE;
}

static gboolean
feed_literal (TernImapParser  *self,
              const guint8    *data,
              gsize            n,
              GError         **error)
{
  if (self->literal_sink != NULL)
    {
      GError *write_error = NULL;

      if (!g_output_stream_write_all (self->literal_sink, data, n, NULL, NULL, &write_error))
        {
          self->error = write_error;
          self->error_offset = self->offset;
          if (error != NULL)
            *error = g_error_copy (write_error);
          return FALSE;
        }
    }
  else
    g_byte_array_append (self->buf, data, (guint) n);
  self->literal_remaining -= n;
  self->offset += n;
  if (self->literal_remaining == 0)
    {
      self->in_literal = FALSE;
      g_clear_object (&self->literal_sink);
      self->line_start = self->buf->len;
    }
  return TRUE;
}

static gboolean
feed_line (TernImapParser  *self,
           const guint8    *data,
           gsize            len,
           gsize           *consumed,
           GError         **error)
{
  const guint8 *lf = memchr (data, '\n', len);
  gsize n = lf != NULL ? (gsize) (lf - data) + 1 : len;
  gsize line_len = self->buf->len - self->line_start + n;

  /* The line ending does not count. */
  if (line_len > self->max_line + 2 &&
      !(self->line_start == 0 && line_len <= self->max_response && is_long_kind (self, data, n)))
    return fail_at (self, _tern_imap_parser_stream_offset (self, self->line_start) + self->max_line,
                    TERN_IMAP_PROBLEM_LINE_TOO_LONG, error);
  if (self->buf->len + n > self->max_response)
    return fail_at (self, self->offset + (self->max_response - MIN (self->max_response, self->buf->len)),
                    TERN_IMAP_PROBLEM_RESPONSE_TOO_LONG, error);
  g_byte_array_append (self->buf, data, (guint) n);
  self->offset += n;
  *consumed = n;
  if (lf != NULL)
    return line_complete (self, error);
  return TRUE;
}

gboolean
tern_imap_parser_feed (TernImapParser  *self,
                       const void      *data,
                       gsize            len,
                       GError         **error)
{
  const guint8 *p = data;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->error != NULL)
    {
      if (error != NULL)
        *error = g_error_copy (self->error);
      return FALSE;
    }
  while (len > 0)
    {
      gsize n;

      if (self->in_literal)
        {
          n = (gsize) MIN ((guint64) len, self->literal_remaining);
          /* Keep the guint of g_byte_array_append() in range. */
          n = MIN (n, (gsize) G_MAXUINT / 2);
          if (!feed_literal (self, p, n, error))
            return FALSE;
        }
      else
        {
          n = MIN (len, (gsize) G_MAXUINT / 2);
          if (!feed_line (self, p, n, &n, error))
            return FALSE;
        }
      p += n;
      len -= n;
    }
  return TRUE;
}

TernImapResponse *
tern_imap_parser_read_response (TernImapParser  *self,
                                TernConnection  *connection,
                                GCancellable    *cancellable,
                                GError         **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (TERN_IS_CONNECTION (connection), NULL);

  for (;;)
    {
      TernImapResponse *response = tern_imap_parser_pop (self);
      guint64 remaining = tern_imap_parser_get_literal_remaining (self);

      if (response != NULL)
        return response;
      if (remaining > 0)
        {
          gsize n = (gsize) MIN (remaining, (guint64) READ_CHUNK);

          if (self->chunk == NULL)
            self->chunk = g_malloc (READ_CHUNK);
          if (!tern_connection_read_exact (connection, self->chunk, n, cancellable, error) ||
              !tern_imap_parser_feed (self, self->chunk, n, error))
            return NULL;
        }
      else
        {
          /* The parser enforces its own line limits; this one only bounds
           * what the connection buffers. */
          if (!tern_connection_read_line_into (connection, self->line,
                                               MAX (self->max_line, self->max_response),
                                               cancellable, error))
            return NULL;
          g_byte_array_append (self->line, (const guint8 *) "\r\n", 2);
          if (!tern_imap_parser_feed (self, self->line->data, self->line->len, error))
            return NULL;
          /* A long line's buffer is not kept for the next short ones. */
          if (self->line->len > 64 * 1024)
            {
              g_byte_array_unref (self->line);
              self->line = g_byte_array_new ();
            }
        }
    }
}
