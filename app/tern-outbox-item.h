/* tern-outbox-item.h: one message of a TernOutboxList.
 *
 * A snapshot of an outbox row: the list replaces the item when the row
 * changes, so an item never changes under a view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-outbox.h"

G_BEGIN_DECLS

#define TERN_TYPE_OUTBOX_ITEM (tern_outbox_item_get_type ())
G_DECLARE_FINAL_TYPE (TernOutboxItem, tern_outbox_item, TERN, OUTBOX_ITEM, GObject)

/* Takes @entry. */
TernOutboxItem  *tern_outbox_item_new                   (TernOutboxEntry *entry,
                                                         const char      *subject);
gint64           tern_outbox_item_get_id                (TernOutboxItem  *self);
gint64           tern_outbox_item_get_account_id        (TernOutboxItem  *self);
TernOutboxState  tern_outbox_item_get_state             (TernOutboxItem  *self);
/* "bob@example.org, carol@example.org" (Bcc included). */
const char      *tern_outbox_item_get_recipients        (TernOutboxItem  *self);
const char      *tern_outbox_item_get_subject           (TernOutboxItem  *self);
gint64           tern_outbox_item_get_size              (TernOutboxItem  *self);
/* Why the last attempt failed, as the server or Tern said it; NULL. */
const char      *tern_outbox_item_get_reason            (TernOutboxItem  *self);
gboolean         tern_outbox_item_get_may_have_been_sent (TernOutboxItem *self);
/* Seconds since the epoch; 0 when it is due now. */
gint64           tern_outbox_item_get_next_attempt      (TernOutboxItem  *self);
guint            tern_outbox_item_get_attempts          (TernOutboxItem  *self);
/* Whether @self and @other show the same row in the same state. */
gboolean         tern_outbox_item_equal                 (TernOutboxItem  *self,
                                                         TernOutboxItem  *other);

G_END_DECLS
