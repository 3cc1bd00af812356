/* tern-imap-command.h: building one IMAP command line, with its strings
 * as atoms, quoted strings or literals as each needs.
 *
 * A command is a list of segments: with synchronizing literals, each
 * segment after the first may be sent only after the server's "+"
 * go-ahead.  With LITERAL+ (or LITERAL- for small ones) literals do not
 * wait and the command is a single segment, ready to be pipelined.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the server allows, from its capabilities and ENABLEs. */
typedef enum {
  TERN_IMAP_COMMAND_LITERAL_PLUS  = 1 << 0, /* LITERAL+: every literal non-synchronizing */
  TERN_IMAP_COMMAND_LITERAL_MINUS = 1 << 1, /* LITERAL-: up to 4096 octets */
  TERN_IMAP_COMMAND_UTF8          = 1 << 2, /* UTF8=ACCEPT enabled */
} TernImapCommandFlags;

typedef struct
{
  char                 *tag;
  char                 *what;      /* "SELECT Drafts", for messages; never secrets */
  TernImapCommandFlags  flags;
  GPtrArray            *segments;  /* GBytes, complete after tern_imap_command_end() */
  GByteArray           *current;   /* the segment being built; NULL after end */
} TernImapCommand;

/* Starts "@tag ". */
TernImapCommand *tern_imap_command_new          (const char           *tag,
                                                 const char           *what,
                                                 TernImapCommandFlags  flags);
void             tern_imap_command_free         (TernImapCommand      *command);

/* Raw text, as is. */
void             tern_imap_command_add          (TernImapCommand      *command,
                                                 const char           *text);
void             tern_imap_command_add_printf   (TernImapCommand      *command,
                                                 const char           *format,
                                                 ...) G_GNUC_PRINTF (2, 3);
/* An astring: an atom when possible, else a quoted string, else (line
 * breaks, or 8-bit without UTF8=ACCEPT) a literal. */
void             tern_imap_command_add_string   (TernImapCommand      *command,
                                                 const char           *text);
/* A mailbox name given in UTF-8: modified UTF-7 on the wire unless
 * UTF8=ACCEPT; INBOX in any case is INBOX. */
void             tern_imap_command_add_mailbox  (TernImapCommand      *command,
                                                 const char           *mailbox);
void             tern_imap_command_add_literal  (TernImapCommand      *command,
                                                 const void           *data,
                                                 gsize                 len);
/* Appends CRLF and closes the last segment. */
void             tern_imap_command_end          (TernImapCommand      *command);
/* The whole command as one string (tests, and commands known to be one
 * segment); NUL bytes in literals are kept, so use @len_out. */
char            *tern_imap_command_to_string    (TernImapCommand      *command,
                                                 gsize                *len_out);
/* Zeroes the command's bytes, once a command carrying a password was sent. */
void             tern_imap_command_wipe         (TernImapCommand      *command);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapCommand, tern_imap_command_free)

G_END_DECLS
