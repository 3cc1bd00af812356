/* tern-sidebar.h: accounts and their folders, "All Inboxes" on top.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"
#include "tern-folder-list.h"

G_BEGIN_DECLS

#define TERN_TYPE_SIDEBAR (tern_sidebar_get_type ())
G_DECLARE_FINAL_TYPE (TernSidebar, tern_sidebar, TERN, SIDEBAR, GtkWidget)

GtkWidget      *tern_sidebar_new                  (TernContext *context);
/* The folders whose messages the selected row shows (gint64): one folder,
 * every account's Inbox for "All Inboxes", none for an account row. */
GArray         *tern_sidebar_get_selected_folders (TernSidebar *self);
/* The title of the selected row ("Inbox", "All Inboxes"), or NULL. */
const char     *tern_sidebar_get_selected_title   (TernSidebar *self);
/* Selects folder @folder_id; FALSE when no row shows it. */
gboolean        tern_sidebar_select_folder        (TernSidebar *self,
                                                   gint64       folder_id);
/* Selects the first account's Inbox, else "All Inboxes" and returns
 * FALSE (no account has an Inbox yet). */
gboolean        tern_sidebar_select_inbox         (TernSidebar *self);
/* The folders of @account as the sidebar shows them.  Transfer none. */
TernFolderList *tern_sidebar_get_folder_list      (TernSidebar *self,
                                                   TernAccount *account);
/* Re-reads the folders (after a sync) and the outbox. */
void            tern_sidebar_reload               (TernSidebar *self);
/* The GtkListView, for tests. */
GtkListView    *tern_sidebar_get_list_view        (TernSidebar *self);
/* "Synced 2 minutes ago", "Never synced" (@last_sync 0): what an
 * account's row says when hovered; both in seconds since the epoch. */
char           *tern_sidebar_describe_last_sync   (gint64       last_sync,
                                                   gint64       now);

G_END_DECLS
