/* tern-imap-parse: reads an IMAP server's byte stream (a file or stdin) and
 * prints one line per response, or where parsing failed.
 *
 *   tern-imap-parse [--chunk N] [--utf8-accept] [FILE]
 *
 * Exit status 0 when everything parsed, 1 on a parse error, 2 on misuse.
 * The regression transcripts of tests/protocol/imap/transcripts/ are run
 * through it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <gio/gunixinputstream.h>

#include "tern-imap-parser.h"
#include "tern-imap-print.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  int chunk = 4096;
  gboolean utf8_accept = FALSE;
  GOptionEntry entries[] = {
    { "chunk", 'c', 0, G_OPTION_ARG_INT, &chunk, "Feed the parser N bytes at a time", "N" },
    { "utf8-accept", 'u', 0, G_OPTION_ARG_NONE, &utf8_accept, "Mailbox names are UTF-8", NULL },
    { NULL },
  };

  context = g_option_context_new ("[FILE] - print the responses of an IMAP server stream");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 2 || chunk < 1)
    {
      fprintf (stderr, "%s\n", error != NULL ? error->message : "usage: tern-imap-parse [FILE]");
      return 2;
    }

  if (argc == 2)
    {
      if (!g_file_get_contents (argv[1], &contents, &len, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 2;
        }
    }
  else
    {
      g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
        {
          fprintf (stderr, "%s\n", error->message);
          return 2;
        }
      len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
      contents = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
    }

  tern_imap_parser_set_utf8_accept (parser, utf8_accept);
  for (gsize pos = 0; pos < len || pos == 0; pos += (gsize) chunk)
    {
      TernImapResponse *response;
      gboolean ok = len == 0 || tern_imap_parser_feed (parser, contents + pos,
                                                       MIN ((gsize) chunk, len - pos), &error);

      while ((response = tern_imap_parser_pop (parser)) != NULL)
        {
          g_autofree char *line = tern_imap_print_response (response);

          printf ("%s\n", line);
          tern_imap_response_free (response);
        }
      if (!ok)
        {
          printf ("error at offset %" G_GUINT64_FORMAT ": %s\n",
                  tern_imap_parser_get_error_offset (parser), error->message);
          return 1;
        }
      if (len == 0)
        break;
    }
  if (tern_imap_parser_get_buffered (parser) > 0)
    {
      printf ("error at offset %" G_GUINT64_FORMAT ": the stream ends inside a response\n",
              tern_imap_parser_get_offset (parser));
      return 1;
    }
  return 0;
}
