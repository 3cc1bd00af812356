/* tern-message-list-view.h: the middle pane: a folder's messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-message-list.h"

G_BEGIN_DECLS

#define TERN_TYPE_MESSAGE_LIST_VIEW (tern_message_list_view_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageListView, tern_message_list_view, TERN, MESSAGE_LIST_VIEW,
                      GtkWidget)

GtkWidget       *tern_message_list_view_new                (void);
/* Shows @list (NULL: nothing).  With conversations on (the list's
 * threaded), a conversation's row expands to its messages. */
void             tern_message_list_view_set_list           (TernMessageListView *self,
                                                            TernMessageList     *list);
TernMessageList *tern_message_list_view_get_list           (TernMessageListView *self);
/* While @searching, shows @results (NULL: a query that did not parse)
 * instead of the list, and "No Messages Found" with Search on Server
 * (win.search-server) when they are empty.  The list stays underneath:
 * when the search ends it shows again with its selection and scroll
 * position. */
void             tern_message_list_view_set_search_results (TernMessageListView *self,
                                                            gboolean             searching,
                                                            TernMessageList     *results);
gboolean         tern_message_list_view_get_searching      (TernMessageListView *self);
/* A spinner instead of "No Messages Found" while the server searches. */
void             tern_message_list_view_set_search_busy    (TernMessageListView *self,
                                                            gboolean             busy);
/* The selected messages (TernMessageItem), in list order.  A selected
 * conversation row stands for its newest message. */
GPtrArray       *tern_message_list_view_get_selected_items (TernMessageListView *self);
/* The message ids of the selection (gint64): for a collapsed
 * conversation, every message of it. */
GArray          *tern_message_list_view_get_selected_ids   (TernMessageListView *self);
/* Selects the next (or previous) unread message after the selection,
 * scrolling to it; FALSE when there is none. */
gboolean         tern_message_list_view_select_unread      (TernMessageListView *self,
                                                            gboolean             forward);
void             tern_message_list_view_select_all         (TernMessageListView *self);
/* Selects the row at @position alone. */
void             tern_message_list_view_select             (TernMessageListView *self,
                                                            guint                position);
/* The GtkListView that shows the list or the search results, for tests. */
GtkListView     *tern_message_list_view_get_list_view      (TernMessageListView *self);

G_END_DECLS
