/* tern-folder-item-private.h: what TernFolderList changes in its items.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-folder-item.h"

G_BEGIN_DECLS

TernFolderItem *_tern_folder_item_new          (TernAccount    *account,
                                                gint64          id);
/* Sets the row's values, notifying only those that changed. */
void            _tern_folder_item_update       (TernFolderItem *self,
                                                const char     *name,
                                                const char     *display_name,
                                                const char     *role,
                                                guint           unread_count,
                                                guint           total_count);
GListStore     *_tern_folder_item_get_children (TernFolderItem *self);

G_END_DECLS
