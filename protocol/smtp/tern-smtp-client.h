/* tern-smtp-client.h: one SMTP submission session (RFC 5321, 6409) over one
 * TernConnection.
 *
 * Blocking, for one worker thread at a time, like TernConnection; every
 * call takes a GCancellable that may be cancelled from any thread.  With
 * PIPELINING, MAIL FROM, every RCPT TO and DATA go out in one write; the
 * message itself is dot-stuffed and normalized to CRLF while it streams,
 * in large writes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-connection.h"

G_BEGIN_DECLS

#define TERN_SMTP_ERROR (tern_smtp_error_quark ())

typedef enum {
  TERN_SMTP_ERROR_PROTOCOL,         /* a reply Tern cannot read */
  TERN_SMTP_ERROR_TEMPORARY,        /* a 4xx reply: try again later */
  TERN_SMTP_ERROR_PERMANENT,        /* a 5xx reply (incl. a 554 greeting) */
  TERN_SMTP_ERROR_AUTH_FAILED,      /* wrong user name or password */
  TERN_SMTP_ERROR_AUTH_UNAVAILABLE, /* no mechanism both sides support */
  TERN_SMTP_ERROR_STARTTLS_REFUSED, /* STARTTLS missing or refused */
  TERN_SMTP_ERROR_TOO_BIG,          /* larger than the server's SIZE */
  TERN_SMTP_ERROR_UNSUPPORTED,      /* needs SMTPUTF8, not offered */
  TERN_SMTP_ERROR_INVALID_ADDRESS,  /* an address that cannot be sent */
  TERN_SMTP_ERROR_NO_FINAL_REPLY,   /* the data went out whole, its reply never
                                     * came: the server may have taken the
                                     * message (RFC 5321 §4.1.1.4) */
} TernSmtpError;

GQuark tern_smtp_error_quark (void);

/* The server's answer to one RCPT TO. */
typedef struct
{
  char  *address;
  guint  code;           /* 250, 251 accepted; 4xx, 5xx refused */
  char  *enhanced_code;  /* "5.1.1" (RFC 3463), or NULL */
  char  *text;           /* the rest of the reply, lines joined by spaces */
} TernSmtpRecipientResult;

void     tern_smtp_recipient_result_free        (TernSmtpRecipientResult *result);
gboolean tern_smtp_recipient_result_is_accepted (const TernSmtpRecipientResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernSmtpRecipientResult, tern_smtp_recipient_result_free)

#define TERN_TYPE_SMTP_CLIENT (tern_smtp_client_get_type ())
G_DECLARE_FINAL_TYPE (TernSmtpClient, tern_smtp_client, TERN, SMTP_CLIENT, GObject)

/* Takes a connection that is set up but not yet connected. */
TernSmtpClient *tern_smtp_client_new             (TernConnection  *connection);
TernConnection *tern_smtp_client_get_connection  (TernSmtpClient  *self);

/* Connects, reads the greeting, says EHLO @domain (HELO when EHLO is
 * refused) and, in STARTTLS mode, upgrades and says EHLO again.  @domain is
 * what the client calls itself: the sender address's domain or the host's
 * fully qualified name; NULL uses the host name.  A missing or refused
 * STARTTLS closes the connection before anything else is sent. */
gboolean        tern_smtp_client_open            (TernSmtpClient  *self,
                                                  const char      *domain,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* AUTH through libgsasl: @mechanism NULL picks the best offered
 * (SCRAM-SHA-256, PLAIN, LOGIN, CRAM-MD5), with the initial response on
 * the AUTH line where the mechanism has one.  PLAIN and LOGIN only over
 * TLS. */
gboolean        tern_smtp_client_login           (TernSmtpClient  *self,
                                                  const char      *username,
                                                  const char      *password,
                                                  const char      *mechanism,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* An EHLO keyword (any case), and its parameters ("" when none). */
gboolean        tern_smtp_client_has_extension   (TernSmtpClient  *self,
                                                  const char      *keyword);
const char     *tern_smtp_client_get_extension   (TernSmtpClient  *self,
                                                  const char      *keyword);
/* The server's SIZE limit in bytes; 0 when it announces none. */
guint64         tern_smtp_client_get_size_limit  (TernSmtpClient  *self);

/* Sends one message to @recipients (bare addresses, no angle brackets;
 * @from may be "" for a null sender).  @message is the whole RFC 5322
 * message with any line endings; it is dot-stuffed and sent with CRLF.
 * @size (-1: unknown) is checked against SIZE before anything is sent;
 * @eight_bit says the message has bytes over 127 (BODY=8BITMIME).
 *
 * Returns TRUE only once the server has accepted the message after DATA
 * (the final 250): then it has taken responsibility for it.  Recipients
 * that the server refused while others were accepted do not make it fail:
 * @results (element type TernSmtpRecipientResult, one per recipient, in
 * order) tells them apart; it is also set on failure when the recipients
 * got their replies.  With no accepted recipient the transaction is reset
 * and the error is TEMPORARY when any refusal was 4xx, else PERMANENT.
 * When the reply to the data cannot be read (the connection broke, or
 * @cancellable was cancelled, after the final "."), the error is
 * NO_FINAL_REPLY: sending the message again may deliver it twice.  A
 * cancellation before the final "." went out stays G_IO_ERROR_CANCELLED. */
gboolean        tern_smtp_client_send            (TernSmtpClient     *self,
                                                  const char         *from,
                                                  const char * const *recipients,
                                                  GInputStream       *message,
                                                  gint64              size,
                                                  gboolean            eight_bit,
                                                  GPtrArray         **results,
                                                  GCancellable       *cancellable,
                                                  GError            **error);
/* The same for a message in memory; size and 8-bit content are found out. */
gboolean        tern_smtp_client_send_bytes      (TernSmtpClient     *self,
                                                  const char         *from,
                                                  const char * const *recipients,
                                                  GBytes             *message,
                                                  GPtrArray         **results,
                                                  GCancellable       *cancellable,
                                                  GError            **error);

gboolean        tern_smtp_client_rset            (TernSmtpClient  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
gboolean        tern_smtp_client_noop            (TernSmtpClient  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* Says QUIT, reads the answer if one comes, and closes. */
gboolean        tern_smtp_client_quit            (TernSmtpClient  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);

G_END_DECLS
