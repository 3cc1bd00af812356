/* tern-message-item.h: one row of a TernMessageList.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TERN_TYPE_MESSAGE_ITEM (tern_message_item_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageItem, tern_message_item, TERN, MESSAGE_ITEM, GObject)

gint64      tern_message_item_get_id             (TernMessageItem *self);
gint64      tern_message_item_get_folder_id      (TernMessageItem *self);
gint64      tern_message_item_get_thread_id      (TernMessageItem *self);
const char *tern_message_item_get_sender_name    (TernMessageItem *self);
const char *tern_message_item_get_sender_address (TernMessageItem *self);
const char *tern_message_item_get_subject        (TernMessageItem *self);
gint64      tern_message_item_get_date           (TernMessageItem *self);
gboolean    tern_message_item_get_unread         (TernMessageItem *self);
gboolean    tern_message_item_get_starred        (TernMessageItem *self);
gboolean    tern_message_item_get_has_attachment (TernMessageItem *self);
guint       tern_message_item_get_thread_size    (TernMessageItem *self);

G_END_DECLS
