/* tern-offline-queue.h: changes the user made that the server does not have
 * yet, in the store's pending_operations table.
 *
 * Each enqueue is one write transaction that changes the cache (flag bits,
 * the folder of a message row) and appends the operation, so the views show
 * the change at once and a crash loses neither.  Replay sends them to the
 * server in id order and removes an operation only after the server
 * confirmed it; an operation whose confirmation was lost (a crash between
 * the server's OK and the removal) is checked against the server before it
 * is sent again, so nothing is moved, expunged or appended twice.
 *
 * When the server changed meanwhile, the user's change still applies
 * (flags are added and removed, not set); a message that is gone from the
 * server drops its operation quietly.
 *
 * Enqueue functions run one transaction each and may be called from any
 * thread; replay is blocking, for a worker job.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-context.h"
#include "tern-imap-client.h"
#include "tern-store.h"

G_BEGIN_DECLS

/* Sets @add and clears @remove on the messages (row ids). */
gboolean tern_offline_queue_set_flags (TernStore      *store,
                                       const gint64   *message_ids,
                                       guint           n_message_ids,
                                       TernImapFlags   add,
                                       TernImapFlags   remove,
                                       GError        **error);
/* Moves the messages to @folder_id (a folder of the same account). */
gboolean tern_offline_queue_move      (TernStore      *store,
                                       const gint64   *message_ids,
                                       guint           n_message_ids,
                                       gint64          folder_id,
                                       GError        **error);
/* Copies the messages to @folder_id; the copies are new rows. */
gboolean tern_offline_queue_copy      (TernStore      *store,
                                       const gint64   *message_ids,
                                       guint           n_message_ids,
                                       gint64          folder_id,
                                       GError        **error);
/* Moves the messages to the account's Trash, or expunges them when they
 * are in the Trash already (or the account has none). */
gboolean tern_offline_queue_delete    (TernStore      *store,
                                       const gint64   *message_ids,
                                       guint           n_message_ids,
                                       GError        **error);
/* Stores @message (RFC 5322 bytes, with a Message-ID: header, which is how
 * a repeated replay finds it) for APPEND to @folder_id, and shows it in the
 * folder at once.  Returns the new message row's id, or 0 with @error set. */
gint64   tern_offline_queue_append    (TernStore      *store,
                                       gint64          folder_id,
                                       GBytes         *message,
                                       TernImapFlags   flags,
                                       GError        **error);

/* How many operations of @account_id wait; -1 with @error set on failure. */
gint64   tern_offline_queue_count     (TernStore      *store,
                                       gint64          account_id,
                                       GError        **error);

/* Sends the operations of @account_id over @client (logged in), in order.
 * Stops at the first error that retrying may fix (network, server
 * unavailable) and returns it; an operation the server refuses is retried
 * on the next replay and given up after a few attempts.  @replayed
 * (optional) receives how many operations were done. */
gboolean tern_offline_queue_replay    (TernStore      *store,
                                       gint64          account_id,
                                       TernImapClient *client,
                                       guint          *replayed,
                                       GCancellable   *cancellable,
                                       GError        **error);

/* Replays @account's queue over a session of its own, as a job of the
 * context's worker pool, so the account's other jobs wait their turn.
 * The account's worker shows the state (syncing, offline, error).  Does
 * nothing for accounts that are not IMAP. */
void     tern_offline_queue_replay_async  (TernContext          *context,
                                           TernAccount          *account,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
/* @replayed (optional) receives how many operations were done; a failure
 * leaves the rest queued for the next replay. */
gboolean tern_offline_queue_replay_finish (TernContext          *context,
                                           GAsyncResult         *result,
                                           guint                *replayed,
                                           GError              **error);

G_END_DECLS
