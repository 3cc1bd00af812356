/* tern-new-mail.h: which messages just arrived in an Inbox, for
 * notifications.
 *
 * A TernNewMail watches the store's messages-changed.  A message is new
 * when it lands in an account's Inbox above what that Inbox held when it
 * was first watched (IMAP: a higher UID; POP3: a later row), is unread and
 * is not from one of the user's own addresses (the address of any
 * account).  Mail found by an account's first sync is never new: an Inbox
 * only counts once it was synced completely before (IMAP), or existed
 * when watching began (POP3), or once its account's worker marks a sync
 * (TernAccountWorker:last-sync) after that.
 *
 * Main context only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_NEW_MAIL (tern_new_mail_get_type ())
G_DECLARE_FINAL_TYPE (TernNewMail, tern_new_mail, TERN, NEW_MAIL, GObject)

/* TernNewMail::new-messages (TernNewMail *self, GPtrArray *messages)
 *   @messages: TernMailMessage (id, folder_id, account_id, subject,
 *   from_name, from_address, date), newest first; one emission per batch
 *   the store reported.
 *
 * TernNewMail::withdrawn (TernNewMail *self, GArray *ids)
 *   @ids (gint64): messages announced before that are no longer new: read,
 *   moved or deleted. */

TernNewMail *tern_new_mail_new         (TernContext *context);
/* Announced messages still unread. */
guint        tern_new_mail_get_n_unread (TernNewMail *self);

G_END_DECLS
