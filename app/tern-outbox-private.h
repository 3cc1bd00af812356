/* tern-outbox-private.h: what the outbox and the drafts share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-imap-types.h"
#include "tern-store.h"

G_BEGIN_DECLS

/* @message with its header rewritten: without its Bcc: fields when
 * @drop_bcc, and with @new_message_id (if not NULL) as its only Message-ID:
 * field, on top.  Continuation lines go with their field; the body is not
 * touched. */
GBytes *_tern_outbox_rewrite_header (GBytes     *message,
                                     gboolean    drop_bcc,
                                     const char *new_message_id);

/* Stores @message in the local folder @folder_id (of a POP3 account) as
 * POP3 mail is stored, without a UIDL, with @flags, its raw bytes as the
 * body.  It needs a Message-ID.  Returns the new row's id, or 0 with
 * @error set. */
gint64  _tern_outbox_store_local    (TernStore      *store,
                                     gint64          folder_id,
                                     GBytes         *message,
                                     TernImapFlags   flags,
                                     GError        **error);

G_END_DECLS
