/* tern-message-item-private.h: how TernMessageList fills its items.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "tern-message-item.h"

G_BEGIN_DECLS

/* The columns a row statement of TernMessageList returns, in order. */
enum {
  TERN_MESSAGE_COLUMN_ID,
  TERN_MESSAGE_COLUMN_FOLDER_ID,
  TERN_MESSAGE_COLUMN_THREAD_ID,
  TERN_MESSAGE_COLUMN_DATE,
  TERN_MESSAGE_COLUMN_FROM_NAME,
  TERN_MESSAGE_COLUMN_FROM_ADDRESS,
  TERN_MESSAGE_COLUMN_SUBJECT,
  TERN_MESSAGE_COLUMN_FLAGS,
  TERN_MESSAGE_COLUMN_HAS_ATTACHMENTS,
  TERN_MESSAGE_COLUMN_THREAD_SIZE,
};

TernMessageItem *_tern_message_item_new_from_row (sqlite3_stmt    *stmt);
/* Takes the row's values, notifying each property that changed. */
void             _tern_message_item_update       (TernMessageItem *self,
                                                  sqlite3_stmt    *stmt);

G_END_DECLS
