/* tern-drafts.h: drafts, saved at once.
 *
 * A draft is a message row in the account's Drafts folder, flagged \Draft
 * and \Seen, with its raw bytes as the body: the composer saves and loads
 * the bytes.  IMAP accounts save through the offline queue (an APPEND to
 * the Drafts folder) so a draft is in the store at once and on the server
 * after the next replay; POP3 accounts keep drafts in their local Drafts
 * folder only.
 *
 * Every saved version gets a Message-ID of its own (the message that is
 * sent later has its own too): the offline queue tells an APPEND that
 * reached the server from one that did not by the Message-ID, so two
 * versions must not share one.
 *
 * A newer version replaces the older: the new one is queued first, then
 * the previous one is removed (for IMAP, moved to Trash and expunged
 * there, through the offline queue, so the server never shows it again;
 * when its APPEND had not been replayed yet it is dropped and never
 * reaches the server).  Replay runs in that order, so after a full replay
 * the server has exactly the newest version, never none.  A crash between
 * the two steps leaves both versions, never none.
 *
 * Functions run a few transactions each and may be called from any thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"

G_BEGIN_DECLS

/* Saves @message (RFC 5322 bytes) as a draft of @account, replacing the
 * draft @previous_id (0: none; a draft that is gone already is fine).
 * Returns the new draft's id (a messages row), or 0 with @error set
 * (TERN_APP_ERROR_NOT_FOUND when an IMAP account's Drafts folder is not
 * known yet: it is after the first sync). */
gint64   tern_drafts_save   (TernContext  *context,
                             TernAccount  *account,
                             GBytes       *message,
                             gint64        previous_id,
                             GError      **error);
/* Removes the draft @draft_id, e.g. once its message is in the outbox; a
 * draft that is gone already is fine. */
gboolean tern_drafts_delete (TernContext  *context,
                             TernAccount  *account,
                             gint64        draft_id,
                             GError      **error);
/* The draft's bytes as saved; NULL with TERN_APP_ERROR_NOT_FOUND when
 * there is no such draft. */
GBytes  *tern_drafts_load   (TernContext  *context,
                             gint64        draft_id,
                             GError      **error);

/* Takes the message @outbox_id out of the outbox as a draft of its
 * account, to edit: the draft is saved first (with its Bcc recipients,
 * which the outbox had taken out of the header), then the row removed,
 * so the message is never in neither place, nor sent while it is a
 * draft.  A message being sent (or sent) stays: TERN_APP_ERROR_INVALID.
 * Returns the draft's id, or 0 with @error set. */
gint64   tern_drafts_from_outbox (TernContext  *context,
                                  gint64        outbox_id,
                                  GError      **error);

G_END_DECLS
