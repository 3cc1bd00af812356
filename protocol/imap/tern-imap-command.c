/* tern-imap-command.c: building one IMAP command line.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include "tern-imap-command.h"

#include <string.h>

#include "tern-imap-types.h"

/* The largest literal LITERAL- lets us send without waiting (RFC 7888). */
#define LITERAL_MINUS_MAX 4096

TernImapCommand *
tern_imap_command_new (const char           *tag,
                       const char           *what,
                       TernImapCommandFlags  flags)
{
  TernImapCommand *command = g_new0 (TernImapCommand, 1);

  g_return_val_if_fail (tag != NULL, NULL);

  command->tag = g_strdup (tag);
  command->what = g_strdup (what);
  command->flags = flags;
  command->segments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  command->current = g_byte_array_new ();
  tern_imap_command_add (command, tag);
  tern_imap_command_add (command, " ");
  return command;
}

void
tern_imap_command_free (TernImapCommand *command)
{
  if (command == NULL)
    return;

  g_free (command->tag);
  g_free (command->what);
  g_ptr_array_unref (command->segments);
  if (command->current != NULL)
    g_byte_array_unref (command->current);
  g_free (command);
}

void
tern_imap_command_add (TernImapCommand *command,
                       const char      *text)
{
  g_return_if_fail (command->current != NULL);

  g_byte_array_append (command->current, (const guint8 *) text, strlen (text));
}

void
tern_imap_command_add_printf (TernImapCommand *command,
                              const char      *format,
                              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  tern_imap_command_add (command, text);
}

static void
cut_segment (TernImapCommand *command)
{
  g_ptr_array_add (command->segments,
                   g_byte_array_free_to_bytes (g_steal_pointer (&command->current)));
}

void
tern_imap_command_add_literal (TernImapCommand *command,
                               const void      *data,
                               gsize            len)
{
  gboolean plus = (command->flags & TERN_IMAP_COMMAND_LITERAL_PLUS) ||
                  ((command->flags & TERN_IMAP_COMMAND_LITERAL_MINUS) && len <= LITERAL_MINUS_MAX);

  tern_imap_command_add_printf (command, "{%" G_GSIZE_FORMAT "%s}\r\n", len, plus ? "+" : "");
  if (!plus)
    {
      cut_segment (command);
      command->current = g_byte_array_new ();
    }
  g_byte_array_append (command->current, data, len);
}

static gboolean
is_atom_char (guchar c)
{
  /* ATOM-CHAR plus "]", which astring allows (RFC 3501 §9). */
  return c > 0x20 && c < 0x7f && strchr ("(){%*\"\\", c) == NULL;
}

void
tern_imap_command_add_string (TernImapCommand *command,
                              const char      *text)
{
  gboolean atom = *text != '\0';
  gboolean quotable = TRUE;
  gboolean utf8 = (command->flags & TERN_IMAP_COMMAND_UTF8) != 0;
  g_autoptr(GString) quoted = NULL;

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (!is_atom_char (*p))
        atom = FALSE;
      if (*p == '\r' || *p == '\n' || (*p >= 0x80 && !utf8))
        quotable = FALSE;
    }
  /* "NIL" as an atom would read as NIL. */
  if (atom && g_ascii_strcasecmp (text, "NIL") == 0)
    atom = FALSE;

  if (atom)
    {
      tern_imap_command_add (command, text);
      return;
    }
  if (!quotable)
    {
      tern_imap_command_add_literal (command, text, strlen (text));
      return;
    }

  quoted = g_string_new ("\"");
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, *p);
    }
  g_string_append_c (quoted, '"');
  tern_imap_command_add (command, quoted->str);
}

void
tern_imap_command_add_mailbox (TernImapCommand *command,
                               const char      *mailbox)
{
  g_autofree char *encoded = NULL;

  if (g_ascii_strcasecmp (mailbox, "INBOX") == 0)
    tern_imap_command_add (command, "INBOX");
  else if (command->flags & TERN_IMAP_COMMAND_UTF8)
    tern_imap_command_add_string (command, mailbox);
  else
    {
      encoded = tern_imap_utf7_encode (mailbox);
      tern_imap_command_add_string (command, encoded);
    }
}

void
tern_imap_command_end (TernImapCommand *command)
{
  tern_imap_command_add (command, "\r\n");
  cut_segment (command);
}

char *
tern_imap_command_to_string (TernImapCommand *command,
                             gsize           *len_out)
{
  GByteArray *all = g_byte_array_new ();

  for (guint i = 0; i < command->segments->len; i++)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (command->segments->pdata[i], &len);

      g_byte_array_append (all, data, len);
    }
  if (command->current != NULL)
    g_byte_array_append (all, command->current->data, command->current->len);
  if (len_out != NULL)
    *len_out = all->len;
  g_byte_array_append (all, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (all, FALSE);
}

void
tern_imap_command_wipe (TernImapCommand *command)
{
  for (guint i = 0; i < command->segments->len; i++)
    {
      gsize len;
      gconstpointer data = g_bytes_get_data (command->segments->pdata[i], &len);

      explicit_bzero ((gpointer) data, len);
    }
  if (command->current != NULL)
    explicit_bzero (command->current->data, command->current->len);
}
