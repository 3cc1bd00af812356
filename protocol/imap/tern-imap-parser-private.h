/* tern-imap-parser-private.h: what the framing (tern-imap-parser.c) and
 * the grammar (tern-imap-grammar.c) share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-imap-parser.h"

G_BEGIN_DECLS

/* A literal that went to a body sink: where it would have been in the
 * buffer, and its size. */
typedef struct
{
  gsize   pos;
  guint64 size;
} TernImapStreamed;

struct _TernImapParser
{
  /* Settings */
  gsize                max_line;
  guint                max_depth;
  gsize                max_literal;
  gsize                max_response;
  gboolean             utf8_accept;
  TernImapBodySinkFunc sink_func;
  gpointer             sink_data;
  GDestroyNotify       sink_destroy;
  GOutputStream       *body_stream;

  /* The response in progress */
  GByteArray          *buf;
  guint64              buf_offset;   /* stream offset of buf->data[0] */
  gsize                line_start;   /* of the current line in buf */
  GArray              *streamed;     /* of TernImapStreamed, by pos */
  gboolean             in_literal;
  guint64              literal_remaining;
  GOutputStream       *literal_sink; /* owned; NULL: into buf */

  /* What read_response() reads into, kept from one response to the next
   * (a header sync reads two lines and a literal a message). */
  GByteArray          *line;
  guint8              *chunk;        /* READ_CHUNK bytes, or NULL */

  GQueue               responses;    /* of TernImapResponse, complete */
  GError              *error;        /* sticky after a failure */
  guint64              error_offset; /* where it happened */
  guint64              offset;       /* bytes consumed */
};

typedef enum {
  TERN_IMAP_PROBLEM_LINE_TOO_LONG,
  TERN_IMAP_PROBLEM_RESPONSE_TOO_LONG,
  TERN_IMAP_PROBLEM_LITERAL_TOO_LONG,
  TERN_IMAP_PROBLEM_TOO_DEEP,
  TERN_IMAP_PROBLEM_EXPECTED_SPACE,
  TERN_IMAP_PROBLEM_EXPECTED_END,
  TERN_IMAP_PROBLEM_EXPECTED_NUMBER,
  TERN_IMAP_PROBLEM_EXPECTED_STRING,
  TERN_IMAP_PROBLEM_EXPECTED_ATOM,
  TERN_IMAP_PROBLEM_EXPECTED_OPEN,
  TERN_IMAP_PROBLEM_EXPECTED_CLOSE,
  TERN_IMAP_PROBLEM_EXPECTED_BRACKET,
  TERN_IMAP_PROBLEM_BAD_LITERAL,
  TERN_IMAP_PROBLEM_BAD_DATE,
  TERN_IMAP_PROBLEM_BAD_SET,
  TERN_IMAP_PROBLEM_BAD_RESPONSE,
  TERN_IMAP_PROBLEM_BAD_CHARACTER,
} TernImapProblem;

guint64           _tern_imap_parser_stream_offset (TernImapParser  *self,
                                                   gsize            buf_pos);
GError           *_tern_imap_parser_error         (guint64          offset,
                                                   TernImapProblem  problem);
/* Parses the complete response in self->buf. */
TernImapResponse *_tern_imap_parse_response       (TernImapParser  *self,
                                                   GError         **error);

/* The envelope and body of a parsed message are freed with these
 * (tern-imap-types.c): their strings are the message's (see
 * TernImapMessage.strings). */
void _tern_imap_envelope_free_kept (TernImapEnvelope *envelope);
void _tern_imap_body_free_kept     (TernImapBody     *body);

G_END_DECLS
