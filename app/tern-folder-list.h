/* tern-folder-list.h: an account's folders as a GListModel for the sidebar.
 *
 * The top level holds the special folders (Inbox, Drafts, Sent, Archive,
 * Junk, Trash, ...) in that fixed order, named in the user's language
 * whatever the server calls them, then the other folders by name; a folder
 * whose parent (by the server's delimiter) is known is one of its
 * TernFolderItem:children instead.  Counts are live: on the store's
 * messages-changed the list re-reads the account's folders on a thread,
 * then updates its items in place (on the main thread, a moment after the
 * signal), emitting items-changed only where folders came or went.  Main
 * thread only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-folder-item.h"
#include "tern-store.h"

G_BEGIN_DECLS

#define TERN_TYPE_FOLDER_LIST (tern_folder_list_get_type ())
G_DECLARE_FINAL_TYPE (TernFolderList, tern_folder_list, TERN, FOLDER_LIST, GObject)

TernFolderList *tern_folder_list_new         (TernStore       *store,
                                              TernAccount     *account,
                                              GError         **error);
TernAccount    *tern_folder_list_get_account (TernFolderList  *self);
/* Re-reads the folders now, on the calling thread, e.g. after a sync that
 * may have created or removed some without touching a message. */
gboolean        tern_folder_list_reload      (TernFolderList  *self,
                                              GError         **error);
/* The item of folder @id at any depth, or NULL.  Transfer none. */
TernFolderItem *tern_folder_list_find        (TernFolderList  *self,
                                              gint64           id);
/* The first folder with @role ("inbox", ...), or NULL.  Transfer none. */
TernFolderItem *tern_folder_list_find_role   (TernFolderList  *self,
                                              const char      *role);

G_END_DECLS
