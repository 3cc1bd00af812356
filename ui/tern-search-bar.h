/* tern-search-bar.h: the search bar over the message list.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"
#include "tern-message-list.h"

G_BEGIN_DECLS

#define TERN_TYPE_SEARCH_BAR (tern_search_bar_get_type ())
G_DECLARE_FINAL_TYPE (TernSearchBar, tern_search_bar, TERN, SEARCH_BAR, AdwBin)

GtkWidget       *tern_search_bar_new               (TernContext   *context);
/* The folder the message list shows and its account, for the "This
 * Folder" and "This Account" scopes; 0 and NULL for several folders (All
 * Inboxes) or none, which leave "All Accounts". */
void             tern_search_bar_set_folder        (TernSearchBar *self,
                                                    gint64         folder_id,
                                                    TernAccount   *account);
/* Reveals the bar with the focus in its entry. */
void             tern_search_bar_start             (TernSearchBar *self);
gboolean         tern_search_bar_get_search_mode   (TernSearchBar *self);
void             tern_search_bar_set_search_mode   (TernSearchBar *self,
                                                    gboolean       search_mode);
/* TRUE while the bar is open with a query: the message list shows the
 * results instead of the folder. */
gboolean         tern_search_bar_get_searching     (TernSearchBar *self);
/* The messages found (NULL when the query does not parse; the bar shows
 * why). */
TernMessageList *tern_search_bar_get_results       (TernSearchBar *self);
/* The query's parse error or the server search's failure, or NULL. */
const char      *tern_search_bar_get_error         (TernSearchBar *self);
/* Search on Server is possible: a query that parses, in "This Folder", a
 * folder of an IMAP account. */
gboolean         tern_search_bar_get_can_search_server (TernSearchBar *self);
/* TRUE while the server searches. */
gboolean         tern_search_bar_get_busy          (TernSearchBar *self);
/* Asks the folder's server; its answer becomes the results. */
void             tern_search_bar_search_server     (TernSearchBar *self);
/* The GtkSearchEntry and the scope GtkDropDown, for tests. */
GtkEditable     *tern_search_bar_get_entry         (TernSearchBar *self);
GtkDropDown     *tern_search_bar_get_scope_dropdown (TernSearchBar *self);

G_END_DECLS
