/* tern-folder-item.h: one folder of a TernFolderList.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"

G_BEGIN_DECLS

#define TERN_TYPE_FOLDER_ITEM (tern_folder_item_get_type ())
G_DECLARE_FINAL_TYPE (TernFolderItem, tern_folder_item, TERN, FOLDER_ITEM, GObject)

gint64       tern_folder_item_get_id           (TernFolderItem *self);
TernAccount *tern_folder_item_get_account      (TernFolderItem *self);
/* The folder's full name on the server. */
const char  *tern_folder_item_get_name         (TernFolderItem *self);
/* What the user sees: the role's name in the user's language for special
 * folders, whatever the server calls them; else the last part of the name. */
const char  *tern_folder_item_get_display_name (TernFolderItem *self);
/* NULL or "inbox", "drafts", "sent", "archive", "junk", "trash", ... */
const char  *tern_folder_item_get_role         (TernFolderItem *self);
const char  *tern_folder_item_get_icon_name    (TernFolderItem *self);
guint        tern_folder_item_get_unread_count (TernFolderItem *self);
guint        tern_folder_item_get_total_count  (TernFolderItem *self);
/* The subfolders (TernFolderItem), live. */
GListModel  *tern_folder_item_get_children     (TernFolderItem *self);

/* The user-visible name of a folder @role, or NULL for an unknown role. */
const char  *tern_folder_role_display_name     (const char     *role);
const char  *tern_folder_role_icon_name        (const char     *role);

G_END_DECLS
