/* tern-message-list-private.h: lists over any condition, for search.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-message-list.h"

G_BEGIN_DECLS

/* A list of the messages m for which the SQL @condition holds; it refers
 * to @bindings (GVariants of type x or s, floating ones sunk) as ?1, ?2...
 * The list refreshes when messages of @folder_ids change, or of any folder
 * when @n_folder_ids is 0. */
TernMessageList *_tern_message_list_new_filtered (TernStore     *store,
                                                  const char    *condition,
                                                  GPtrArray     *bindings,
                                                  const gint64  *folder_ids,
                                                  guint          n_folder_ids,
                                                  GError       **error);

G_END_DECLS
