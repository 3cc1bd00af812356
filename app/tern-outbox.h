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
 * next_attempt (backoff); a 5xx reply, a refused sign-in, a refused sender
 * or a message larger than the server's SIZE (refused before its data is
 * sent) make it `failed`, kept for the user with the reason.  Recipients refused
 * while others were accepted are recorded in last_error of the `sent` row.
 *
 * The guarantee is at most once.  A row still `sending` when a flush starts
 * was being sent when Tern stopped (a crash, a kill, a power cut) between
 * writing the data and recording the answer: the server may or may not have
 * taken it.  Such a row is never sent again automatically: it becomes `sent`
 * when the account's Sent folder (IMAP) already holds its Message-ID, and
 * `failed` with "may have been sent" otherwise, for the user to check and
 * send again by hand.  A connection that breaks, or a flush cancelled,
 * after the end of the data and before the reply (the one ambiguity SMTP
 * itself has, RFC 5321 4.1.1.4) leaves the row the same way: `failed`, may
 * have been sent.
 *
 * Such a row is also the one "send now" does not put back in the queue by
 * itself: tern_outbox_retry_now() needs @force for it, the user's decision.
 *
 * The Sent copy: IMAP accounts append it to their Sent folder unless the
 * provider files sent mail itself (the [outbox] save-sent-copy option:
 * auto, the default, skips it for Gmail and Office 365 by the outgoing
 * host; always; never); POP3 accounts store it, \Seen, in their local
 * Sent folder.
 *
 * Functions taking a TernStore run one transaction each and may be called
 * from any thread; flush is blocking, for a worker job of the account, and
 * assumes it is the only flush of that account running.  The UI does not
 * call it: it calls tern_outbox_schedule() after queueing, which runs
 * flushes as worker jobs of the account, one at a time, and again when a
 * row that waits for its backoff comes due.
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
  gboolean         may_have_been_sent; /* `failed` after an interrupted send */
  gint64           size;          /* bytes to transmit */
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

/* Runs tern_outbox_flush() as a job of @account in the context's worker
 * pool; @callback runs on the thread-default main context of this call. */
void             tern_outbox_flush_async  (TernContext          *context,
                                           TernAccount          *account,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean         tern_outbox_flush_finish (TernContext          *context,
                                           GAsyncResult         *result,
                                           guint                *n_sent,
                                           GError              **error);

/* Something was queued for @account (or "send now" was asked): flushes
 * soon, through tern_outbox_flush_async(), never two flushes of an account
 * at once (a request during a flush makes one more afterwards).  After each
 * flush a timeout on the main context is armed for the first row still
 * waiting for its backoff, which schedules the next flush.  Main context
 * of the thread that made @context only; the timeouts go with @context. */
void             tern_outbox_schedule     (TernContext          *context,
                                           TernAccount          *account);

/* "Send now": a `queued` row loses its backoff, a `failed` one goes back
 * to `queued`.  A row that may have been sent (see above) only with
 * @force, otherwise TERN_APP_ERROR_INVALID; a `sent` or `sending` row is
 * TERN_APP_ERROR_INVALID too.  The caller schedules the flush. */
gboolean         tern_outbox_retry_now    (TernStore            *store,
                                           gint64                id,
                                           gboolean              force,
                                           GError              **error);

/* Deletes row @id: the user gave up on the message, or took it back to
 * edit.  A row being sent is TERN_APP_ERROR_INVALID (it may be on its way
 * already); no row @id is TERN_APP_ERROR_NOT_FOUND. */
gboolean         tern_outbox_remove       (TernStore            *store,
                                           gint64                id,
                                           GError              **error);

typedef void (*TernOutboxWatchFunc) (gpointer user_data);

/* Calls @func (with @user_data) on the thread-default main context of this
 * call soon after outbox rows of @store were written, from any thread;
 * writes in quick succession make one call.  Returns an id for
 * tern_outbox_unwatch(). */
guint            tern_outbox_watch        (TernStore            *store,
                                           TernOutboxWatchFunc   func,
                                           gpointer              user_data);
void             tern_outbox_unwatch      (guint                 watch_id);

/* The largest message @account_id's outgoing server takes (its SIZE, in
 * bytes), as the last session with it announced: 0 when it announced none
 * or none was opened yet.  Flushes remember it ([smtp] size-limit in
 * accounts.options). */
guint64          tern_outbox_get_size_limit (TernStore          *store,
                                             gint64              account_id);
gboolean         tern_outbox_set_size_limit (TernStore          *store,
                                             gint64              account_id,
                                             guint64             size_limit,
                                             GError            **error);

/* The [outbox] group of accounts.options. */
typedef enum {
  TERN_OUTBOX_SENT_COPY_AUTO,   /* not for providers that file sent mail */
  TERN_OUTBOX_SENT_COPY_ALWAYS,
  TERN_OUTBOX_SENT_COPY_NEVER,
} TernOutboxSentCopy;

typedef struct
{
  TernOutboxSentCopy save_sent_copy; /* save-sent-copy=auto|always|never */
} TernOutboxOptions;

gboolean         tern_outbox_options_load (TernStore                *store,
                                           gint64                    account_id,
                                           TernOutboxOptions        *options,
                                           GError                  **error);
/* Writes the [outbox] group, keeping the account's other options. */
gboolean         tern_outbox_options_save (TernStore                *store,
                                           gint64                    account_id,
                                           const TernOutboxOptions  *options,
                                           GError                  **error);
/* Whether a flush files a copy of what @account sent in its Sent folder
 * with @setting: `auto` says no when the outgoing server is Gmail's or
 * Office 365's, which put sent mail into Sent themselves. */
gboolean         tern_outbox_wants_sent_copy (TernAccount        *account,
                                              TernOutboxSentCopy  setting);

G_END_DECLS
