/* tern-message-web-view.h: an HTML mail body in WebKit, locked down.
 *
 * No JavaScript, plugins, WebGL, media autoplay or page cache; the body
 * goes through tern_html_filter_prepare() (strict CSP, no preconnect);
 * every http(s) subresource is refused by a content blocker until remote
 * content is allowed; cid: URIs are served from the message's parts; a
 * click on a link opens http, https and mailto in the browser and nothing
 * else navigates.  Hovering a link shows where it really goes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-message-content.h"

G_BEGIN_DECLS

#define TERN_TYPE_MESSAGE_WEB_VIEW (tern_message_web_view_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageWebView, tern_message_web_view, TERN, MESSAGE_WEB_VIEW, AdwBin)

GtkWidget  *tern_message_web_view_new            (void);
/* Shows @content's HTML body; remote content only when @allow_remote. */
void        tern_message_web_view_load           (TernMessageWebView *self,
                                                  TernMessageContent *content,
                                                  gboolean            allow_remote);
void        tern_message_web_view_clear          (TernMessageWebView *self);
/* The link under the pointer, NULL if none. */
const char *tern_message_web_view_get_hover_uri  (TernMessageWebView *self);
/* The WebKitWebView inside, for tests and printing. */
GtkWidget  *tern_message_web_view_get_web_view   (TernMessageWebView *self);

G_END_DECLS
