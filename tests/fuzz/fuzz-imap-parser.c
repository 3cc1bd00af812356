/* fuzz-imap-parser.c: libFuzzer target for the IMAP response parser.
 *
 * The first bytes of the input choose how the rest is cut into chunks and
 * which literals go to a body sink, so one input explores the framing at
 * many split points.  Limits are small so that they are hit often.  Every
 * response is printed (to a string) so that every field is read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>

#include "tern-imap-parser.h"
#include "tern-imap-print.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static GOutputStream *
sink_cb (guint32     seq,
         const char *item,
         const char *section,
         guint64     size,
         gpointer    user_data)
{
  guint mode = GPOINTER_TO_UINT (user_data);

  /* 0: keep in memory; 1: a stream that takes it; 2: a small fixed stream
   * whose writes fail once it is full. */
  if (mode == 1 || (mode == 3 && seq % 2 == 0))
    return g_memory_output_stream_new_resizable ();
  if (mode == 2)
    return g_memory_output_stream_new (g_malloc (64), 64, NULL, g_free);
  return NULL;
}

static void
drain (TernImapParser *parser)
{
  TernImapResponse *response;

  while ((response = tern_imap_parser_pop (parser)) != NULL)
    {
      g_free (tern_imap_print_response (response));
      tern_imap_response_free (response);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  guint32 state;
  gsize pos = 0;

  if (size < 2)
    return 0;
  state = (guint32) data[0] * 2654435761u + data[1];
  tern_imap_parser_set_limits (parser, 2048, 16, 16 * 1024, 256 * 1024);
  tern_imap_parser_set_utf8_accept (parser, data[0] & 1);
  tern_imap_parser_set_body_sink (parser, sink_cb, GUINT_TO_POINTER ((data[0] >> 1) & 3), NULL);
  data += 2;
  size -= 2;

  while (pos < size)
    {
      gsize chunk;
      g_autoptr(GError) error = NULL;

      state = state * 1103515245u + 12345u;
      chunk = (state >> 16) % 4 == 0 ? 1 : 1 + (state >> 8) % 97;
      chunk = MIN (chunk, size - pos);
      if (!tern_imap_parser_feed (parser, data + pos, chunk, &error))
        {
          g_assert (error != NULL && error->message != NULL);
          g_assert (tern_imap_parser_get_error_offset (parser) <= tern_imap_parser_get_offset (parser) + chunk);
          drain (parser);
          /* A client disconnects here; the parser must still be usable
           * after a reset. */
          tern_imap_parser_reset (parser);
        }
      drain (parser);
      pos += chunk;
    }
  return 0;
}
