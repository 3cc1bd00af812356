/* tern-smtp-client-private.h: what the files of TernSmtpClient share.
 *
 * tern-smtp-client.c holds the session (greeting, EHLO, STARTTLS, AUTH)
 * and the envelope; tern-smtp-reply.c reads and parses replies and turns
 * them into errors and per-recipient results; tern-smtp-data.c streams
 * the message after DATA, dot-stuffed and with CRLF line ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-smtp-client.h"

G_BEGIN_DECLS

struct _TernSmtpClient
{
  GObject parent_instance;

  /* Owned references */
  TernConnection *connection;
  char *label;              /* "host:port", for messages */
  GHashTable *extensions;   /* upper-case EHLO keyword -> parameters */
  char *domain;
};

/* One reply, all of its lines. */
typedef struct
{
  guint code;
  char *enhanced;   /* "x.y.z" or NULL */
  char *text;       /* lines joined by spaces, without code */
  GPtrArray *lines; /* each line's text, for EHLO */
} TernSmtpReply;

void                     _tern_smtp_reply_free             (TernSmtpReply        *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernSmtpReply, _tern_smtp_reply_free)

/* "code [enhanced] text", to quote the server in messages. */
char                    *_tern_smtp_reply_describe         (const TernSmtpReply  *reply);
TernSmtpRecipientResult *_tern_smtp_recipient_result_new   (const char           *address,
                                                            const TernSmtpReply  *reply);

/* Closes the connection; always FALSE. */
gboolean                 _tern_smtp_client_fail_protocol   (TernSmtpClient       *self,
                                                            const char           *what,
                                                            GError              **error);
/* Reads a whole reply to @what (which names it in messages); NULL only
 * for I/O errors and replies that are not SMTP.  A 421 closes the
 * connection. */
TernSmtpReply           *_tern_smtp_client_read_reply      (TernSmtpClient       *self,
                                                            const char           *what,
                                                            GCancellable         *cancellable,
                                                            GError              **error);
/* A failure reply to @what as an error: TEMPORARY for 4xx, PERMANENT for
 * 5xx (and for anything unexpected).  Always FALSE. */
gboolean                 _tern_smtp_client_set_reply_error (TernSmtpClient       *self,
                                                            const TernSmtpReply  *reply,
                                                            const char           *what,
                                                            GError              **error);
/* After DATA's 354: the message from @message, dot-stuffed with CRLF line
 * ends, then the final ".".  A message that cannot be read closes the
 * connection rather than end a partial message. */
gboolean                 _tern_smtp_client_send_data       (TernSmtpClient       *self,
                                                            GInputStream         *message,
                                                            GCancellable         *cancellable,
                                                            GError              **error);

G_END_DECLS
