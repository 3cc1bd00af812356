/* tern-message-view.h: the reading pane: one message's headers,
 * attachments and body.
 *
 * The window only calls tern_message_view_set_message().  The view shows
 * the headers the store has at once, the body from the cache or, with a
 * spinner, fetched through the context's worker pool; offline it says that
 * the body is not downloaded yet.  HTML bodies load without remote content
 * until the user allows it for the message or, remembered in GSettings'
 * trusted-senders, for its sender.
 *
 * Widget actions: message-view.show-remote, message-view.trust-sender,
 * and message-view.charset (a string state: "" for the declared charset),
 * for View → Encoding; tern_message_view_new_encoding_menu() lists them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"
#include "tern-message-content.h"

G_BEGIN_DECLS

#define TERN_TYPE_MESSAGE_VIEW (tern_message_view_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageView, tern_message_view, TERN, MESSAGE_VIEW, AdwBin)

/* @context may be NULL for a view that only shows given content. */
GtkWidget          *tern_message_view_new              (TernContext        *context);
/* Shows the store's message @message_id; 0 shows nothing. */
void                tern_message_view_set_message      (TernMessageView    *self,
                                                        gint64              message_id);
gint64              tern_message_view_get_message      (TernMessageView    *self);
/* Shows @content (a draft, a message from a file); NULL shows nothing. */
void                tern_message_view_set_content      (TernMessageView    *self,
                                                        TernMessageContent *content);
TernMessageContent *tern_message_view_get_content      (TernMessageView    *self);
/* View → Encoding: NULL or "" for the declared charset. */
void                tern_message_view_set_charset      (TernMessageView    *self,
                                                        const char         *charset);
const char         *tern_message_view_get_charset      (TernMessageView    *self);
/* Whether the body failed to arrive because the server is unreachable. */
gboolean            tern_message_view_is_offline       (TernMessageView    *self);
/* A "View → Encoding" menu whose items set message-view.charset. */
GMenuModel         *tern_message_view_new_encoding_menu (void);

G_END_DECLS
