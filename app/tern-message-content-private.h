/* tern-message-content-private.h: a message's text for the search index
 * from a message already parsed, for the stores that have one in hand.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gmime/gmime.h>

#include "tern-message-content.h"

G_BEGIN_DECLS

/* As tern_message_content_new_bodies(), from @message, parsed from @raw. */
TernMessageContent *_tern_message_content_new_bodies_from_message (GBytes       *raw,
                                                                   GMimeMessage *message);

/* What the search index holds of @message's bodies (tern-search-index.c):
 * the same text as the indexing of a cached body gives. */
char *_tern_search_message_text (GBytes       *raw,
                                 GMimeMessage *message);

G_END_DECLS
