/* tern-pop3-client.h: one POP3 session (RFC 1939, 2449, 5034) over one
 * TernConnection.
 *
 * Blocking, for one worker thread at a time, like TernConnection; every
 * call takes a GCancellable that may be cancelled from any thread.  RETR,
 * TOP and DELE of many messages are pipelined when the server offers
 * PIPELINING, so fetching a large mailbox costs no round trip per message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-connection.h"

G_BEGIN_DECLS

#define TERN_POP3_ERROR (tern_pop3_error_quark ())

typedef enum {
  TERN_POP3_ERROR_PROTOCOL,         /* unparsable or impossible server data */
  TERN_POP3_ERROR_ERR,              /* a command got -ERR; message = server text */
  TERN_POP3_ERROR_AUTH_FAILED,      /* wrong user name or password ([AUTH] or plain -ERR) */
  TERN_POP3_ERROR_AUTH_UNAVAILABLE, /* no sign-in method both sides support */
  TERN_POP3_ERROR_STARTTLS_REFUSED, /* STLS missing or refused */
  TERN_POP3_ERROR_IN_USE,           /* [IN-USE]: another session holds the mailbox */
  TERN_POP3_ERROR_LOGIN_DELAY,      /* [LOGIN-DELAY]: signed in again too soon */
  TERN_POP3_ERROR_TEMPORARY,        /* [SYS/TEMP]: try again later */
  TERN_POP3_ERROR_PERMANENT,        /* [SYS/PERM]: the server's own failure */
  TERN_POP3_ERROR_UNSUPPORTED,      /* the server lacks a command this call needs */
  TERN_POP3_ERROR_TOO_LARGE,        /* a message over TERN_POP3_MAX_MESSAGE_SIZE */
} TernPop3Error;

/* RETR and TOP answers longer than this are cut off: the connection is
 * closed, and the stream of that message does not reach the end callback.
 * Far more than any mail system sends; it bounds a server that never
 * sends the terminating ".". */
#define TERN_POP3_MAX_MESSAGE_SIZE (256 * 1024 * 1024)
/* Once a RETR or TOP answer has begun, it must come at least this fast
 * (bytes a second, on average, after a grace of the I/O timeout): the I/O
 * timeout alone does not stop a server that sends a byte now and then. */
#define TERN_POP3_MIN_RATE 1024

GQuark tern_pop3_error_quark (void);

/* One message of the maildrop: LIST fills @size, UIDL fills @uid. */
typedef struct
{
  guint    number;
  guint64  size;
  char    *uid;
} TernPop3Entry;

void tern_pop3_entry_free (TernPop3Entry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernPop3Entry, tern_pop3_entry_free)

/* For many messages at once: @begin is called before each message's
 * text and returns the stream to write it to (a new reference), or NULL
 * with @error set to stop; @end is called once the text is complete.
 * The text is written with the dot-stuffing removed and every line ended
 * by CRLF. */
typedef GOutputStream *(*TernPop3BeginFunc) (guint      number,
                                             gpointer   user_data,
                                             GError   **error);
typedef gboolean       (*TernPop3EndFunc)   (guint           number,
                                             GOutputStream  *stream,
                                             gpointer        user_data,
                                             GError        **error);

#define TERN_TYPE_POP3_CLIENT (tern_pop3_client_get_type ())
G_DECLARE_FINAL_TYPE (TernPop3Client, tern_pop3_client, TERN, POP3_CLIENT, GObject)

/* Takes a connection that is set up but not yet connected. */
TernPop3Client *tern_pop3_client_new             (TernConnection  *connection);
TernConnection *tern_pop3_client_get_connection  (TernPop3Client  *self);

/* Connects, reads the greeting, asks CAPA, and for STARTTLS mode upgrades
 * with STLS (closing the connection without a word more when STLS is
 * missing or refused) and asks CAPA again. */
gboolean        tern_pop3_client_open            (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* Signs in.  @mechanism NULL picks AUTH with the best SASL mechanism
 * offered (SCRAM-SHA-256, then PLAIN, then LOGIN), else USER/PASS.  "USER"
 * asks for USER/PASS, "APOP" for APOP (only when the greeting offers it),
 * anything else is a SASL mechanism.  Plain-text methods are used only
 * over TLS or on a TERN_TLS_MODE_PLAIN connection.  Asks CAPA again
 * afterwards. */
gboolean        tern_pop3_client_login           (TernPop3Client  *self,
                                                  const char      *username,
                                                  const char      *password,
                                                  const char      *mechanism,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* A CAPA tag ("PIPELINING", "UIDL", "STLS", "SASL" ...), any case. */
gboolean        tern_pop3_client_has_capability  (TernPop3Client  *self,
                                                  const char      *capability);
/* FALSE when the server's CAPA lacks UIDL, or UIDL was answered -ERR:
 * messages then cannot be told apart across sessions, and the caller
 * falls back (e.g. to downloading and deleting). */
gboolean        tern_pop3_client_has_uidl        (TernPop3Client  *self);
/* FALSE when the server's CAPA lacks TOP; without CAPA, TOP is assumed
 * (and its -ERR tells). */
gboolean        tern_pop3_client_has_top         (TernPop3Client  *self);
/* Whether the greeting carried an APOP timestamp. */
gboolean        tern_pop3_client_has_apop        (TernPop3Client  *self);

gboolean        tern_pop3_client_stat            (TernPop3Client  *self,
                                                  guint           *count,
                                                  guint64         *size,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* Every message, in order, as TernPop3Entry. */
GPtrArray      *tern_pop3_client_list            (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
GPtrArray      *tern_pop3_client_uidl            (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);

/* RETR of one message into @stream. */
gboolean        tern_pop3_client_retrieve        (TernPop3Client  *self,
                                                  guint            number,
                                                  GOutputStream   *stream,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* RETR (or TOP n 0 when @headers_only) of every message in @numbers,
 * pipelined.  When a callback fails, the remaining answers are read and
 * dropped so the session stays usable. */
gboolean        tern_pop3_client_retrieve_many   (TernPop3Client   *self,
                                                  const guint      *numbers,
                                                  gsize             n_numbers,
                                                  gboolean          headers_only,
                                                  TernPop3BeginFunc begin,
                                                  TernPop3EndFunc   end,
                                                  gpointer          user_data,
                                                  GCancellable     *cancellable,
                                                  GError          **error);
/* TOP n 0: the header and the blank line after it. */
gboolean        tern_pop3_client_headers         (TernPop3Client  *self,
                                                  guint            number,
                                                  GOutputStream   *stream,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* DELE of every message in @numbers, pipelined; the server removes them
 * at QUIT, RSET forgets them. */
gboolean        tern_pop3_client_delete          (TernPop3Client  *self,
                                                  const guint     *numbers,
                                                  gsize            n_numbers,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
gboolean        tern_pop3_client_reset           (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
gboolean        tern_pop3_client_noop            (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);
/* QUIT: commits deletions, then closes the connection. */
gboolean        tern_pop3_client_quit            (TernPop3Client  *self,
                                                  GCancellable    *cancellable,
                                                  GError         **error);

G_END_DECLS
