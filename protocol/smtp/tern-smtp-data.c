/* tern-smtp-data.c: the message after DATA's 354 (RFC 5321 §4.5.2).
 *
 * The message is read from its stream in large chunks; each chunk is
 * dot-stuffed and its line ends turned into CRLF before it is written, so
 * a line that is only "." or starts with "." arrives intact and no bare CR
 * or LF is ever sent, whatever the message's own line ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-smtp"

#include "config.h"

#include "tern-smtp-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* The unit in which the message is read and written. */
#define CHUNK_SIZE (64 * 1024)

typedef struct
{
  gboolean line_start;  /* the next byte begins a line */
  gboolean pending_cr;  /* the last byte was a CR, its LF not seen yet */
} Stuffer;

/* Dot-stuffs @in (RFC 5321 §4.5.2) and turns every CR, LF and CRLF into
 * CRLF, into @out, which has room for 2 * @len + 2 bytes.  State carries
 * over between chunks, so a CRLF or a "." may straddle them. */
static gsize
stuff_chunk (Stuffer      *state,
             const guint8 *in,
             gsize         len,
             guint8       *out)
{
  guint8 *o = out;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = in[i];

      if (state->pending_cr)
        {
          *o++ = '\r';
          *o++ = '\n';
          state->pending_cr = FALSE;
          state->line_start = TRUE;
          if (c == '\n')
            continue;
        }
      if (c == '\r')
        {
          state->pending_cr = TRUE;
          continue;
        }
      if (c == '\n')
        {
          *o++ = '\r';
          *o++ = '\n';
          state->line_start = TRUE;
          continue;
        }
      if (state->line_start && c == '.')
        *o++ = '.';
      *o++ = c;
      state->line_start = FALSE;
    }
  return (gsize) (o - out);
}

gboolean
_tern_smtp_client_send_data (TernSmtpClient  *self,
                             GInputStream    *message,
                             GCancellable    *cancellable,
                             GError         **error)
{
  g_autofree guint8 *in = g_malloc (CHUNK_SIZE);
  g_autofree guint8 *out = g_malloc (2 * CHUNK_SIZE + 8);
  Stuffer state = { TRUE, FALSE };
  gsize n;

  for (;;)
    {
      gssize got = g_input_stream_read (message, in, CHUNK_SIZE, cancellable, error);

      if (got < 0)
        {
          /* The server must not take a partial message: the connection
           * is dropped rather than the message ended. */
          tern_connection_close (self->connection, NULL, NULL);
          g_prefix_error (error, _("The message could not be read, so it was not sent to %s: "),
                          self->label);
          return FALSE;
        }
      if (got == 0)
        break;
      n = stuff_chunk (&state, in, (gsize) got, out);
      if (!tern_connection_write_all (self->connection, out, n, cancellable, error))
        return FALSE;
    }

  n = 0;
  if (state.pending_cr || !state.line_start)
    {
      out[n++] = '\r';
      out[n++] = '\n';
    }
  memcpy (out + n, ".\r\n", 3);
  return tern_connection_write_all (self->connection, out, n + 3, cancellable, error);
}
