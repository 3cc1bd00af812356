/* tern-outbox.h: messages waiting to be sent, in the store's outbox table.
 *
 * Enqueue parses the message (GMime), takes the envelope sender from its
 * From: and the recipients from To:, Cc: and Bcc:, removes the Bcc: header
 * from the bytes that will be transmitted (the body is kept byte for byte),
 * adds a Message-ID: on the sender's domain when there is none, and stores a
 * `queued` row in one transaction.
 *
 * Flush sends the account's due rows through its outgoing server.  A row is
 * marked `sending` (a committed, synchronous write) before its data is
 * written, and `sent` as soon as the server accepted it (the final 250),
 * before anything else happens; only then is a \Seen copy appended to the
 * Sent folder through the offline queue, which retries it on its own and
 * cannot make the message go out again.  A 4xx reply or a broken connection
 * puts the row back to `queued` with the reason, one more attempt and a later
 * next_attempt (backoff); a 5xx reply, a refused sign-in or a refused sender
 * make it `failed`, kept for the user with the reason.  Recipients refused
 * while others were accepted are recorded in last_error of the `sent` row.
 *
 * The guarantee is at most once.  A row still `sending` when a flush starts
 * was being sent when Tern stopped (a crash, a kill, a power cut) between
 * writing the data and recording the answer: the server may or may not have
 * taken it.  Such a row is never sent again automatically: it becomes `sent`
 * when the account's Sent folder (IMAP) already holds its Message-ID, and
 * `failed` with "may have been sent" otherwise, for the user to check and
 * send again by hand.  (A connection that breaks after the end of the data
 * and before the reply is the one ambiguity SMTP itself has, RFC 5321
 * 4.1.1.4; that row goes back to `queued`.)
 *
 * Functions taking a TernStore run one transaction each and may be called
 * from any thread; flush is blocking, for a worker job of the account, and
 * assumes it is the only flush of that account running.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"
#include "tern-store.h"

G_BEGIN_DECLS

typedef enum {
  TERN_OUTBOX_STATE_QUEUED,
  TERN_OUTBOX_STATE_SENDING,
  TERN_OUTBOX_STATE_SENT,
  TERN_OUTBOX_STATE_FAILED,
} TernOutboxState;

/* One row of the outbox, without the message data. */
typedef struct
{
  gint64           id;
  gint64           account_id;
  TernOutboxState  state;
  char            *message_id;    /* without angle brackets */
  char            *envelope_from;
  char           **recipients;
  guint            attempts;
  char            *last_error;    /* NULL when none */
  gint64           next_attempt;  /* seconds since the epoch, 0: now */
  gint64           created;
} TernOutboxEntry;

void        tern_outbox_entry_free      (TernOutboxEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernOutboxEntry, tern_outbox_entry_free)

const char *tern_outbox_state_to_string (TernOutboxState state);

/* Queues @message (RFC 5322 bytes) for @account.  Returns the row's id, or
 * 0 with @error set (TERN_APP_ERROR_INVALID when the message has no
 * recipient or no sender, or the same Message-ID is queued already). */
gint64           tern_outbox_enqueue (TernStore     *store,
                                      TernAccount   *account,
                                      GBytes        *message,
                                      GError       **error);

/* The rows of @account_id (0: all accounts), oldest first. */
GPtrArray       *tern_outbox_list    (TernStore     *store,
                                      gint64         account_id,
                                      GError       **error);
/* NULL with TERN_APP_ERROR_NOT_FOUND when there is no row @id. */
TernOutboxEntry *tern_outbox_get     (TernStore     *store,
                                      gint64         id,
                                      GError       **error);
/* The bytes that are (or were) transmitted. */
GBytes          *tern_outbox_get_data (TernStore    *store,
                                       gint64        id,
                                       GError      **error);

/* Settles rows left `sending` (see above), then sends the due `queued`
 * rows of @account.  Per-message outcomes are recorded in the rows; the
 * error is for what stopped the flush as a whole (the server unreachable,
 * the sign-in refused).  @n_sent (optional) receives how many were sent. */
gboolean         tern_outbox_flush   (TernContext   *context,
                                      TernAccount   *account,
                                      guint         *n_sent,
                                      GCancellable  *cancellable,
                                      GError       **error);

G_END_DECLS
