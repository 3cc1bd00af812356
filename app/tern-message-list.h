/* tern-message-list.h: the messages of folders as a lazy GListModel.
 *
 * A list reads its rows from the store when they are asked for: opening
 * a folder costs one count, and scrolling a page of rows; rows it has read
 * are kept in a bounded window.  When the store's messages change, the list
 * re-reads what it holds and emits items-changed for exactly what moved,
 * so a GtkListView keeps its selection and scroll position.  Main thread
 * only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-message-item.h"
#include "tern-store.h"

G_BEGIN_DECLS

typedef enum {
  TERN_MESSAGE_LIST_SORT_DATE,
  TERN_MESSAGE_LIST_SORT_SENDER,
  TERN_MESSAGE_LIST_SORT_SUBJECT,
} TernMessageListSort;

#define TERN_TYPE_MESSAGE_LIST_SORT (tern_message_list_sort_get_type ())
GType tern_message_list_sort_get_type (void);

#define TERN_TYPE_MESSAGE_LIST (tern_message_list_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageList, tern_message_list, TERN, MESSAGE_LIST, GObject)

/* The messages of one folder, newest first. */
TernMessageList     *tern_message_list_new             (TernStore           *store,
                                                        gint64               folder_id,
                                                        GError             **error);
/* The messages of several folders as one list (the unified "All
 * Inboxes"). */
TernMessageList     *tern_message_list_new_for_folders (TernStore           *store,
                                                        const gint64        *folder_ids,
                                                        guint                n_folder_ids,
                                                        GError             **error);

void                 tern_message_list_set_sort        (TernMessageList     *self,
                                                        TernMessageListSort  sort,
                                                        gboolean             descending);
TernMessageListSort  tern_message_list_get_sort        (TernMessageList     *self);
gboolean             tern_message_list_get_descending  (TernMessageList     *self);

/* Conversations: one row per thread, ordered by its newest message, which
 * the row shows; thread-size counts the thread's messages in the list.
 * Conversations are always in date order (the sort's direction applies). */
void                 tern_message_list_set_threaded    (TernMessageList     *self,
                                                        gboolean             threaded);
gboolean             tern_message_list_get_threaded    (TernMessageList     *self);

/* The messages of @item's conversation in this list, oldest first, as a
 * list of their own (live as well).  Returns a new reference. */
TernMessageList     *tern_message_list_get_thread      (TernMessageList     *self,
                                                        TernMessageItem     *item,
                                                        GError             **error);

/* For tests and benchmarks: how many rows the list has read from the
 * store so far (counting queries excepted). */
guint64              tern_message_list_get_rows_read   (TernMessageList     *self);

G_END_DECLS
