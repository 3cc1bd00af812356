/* tern-plain-text-view.h: a text/plain body, read-only, with quote levels
 * tinted and links that open in the browser.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TERN_TYPE_PLAIN_TEXT_VIEW (tern_plain_text_view_get_type ())
G_DECLARE_FINAL_TYPE (TernPlainTextView, tern_plain_text_view, TERN, PLAIN_TEXT_VIEW, GtkTextView)

GtkWidget *tern_plain_text_view_new      (void);
/* Replaces the text; @text is UTF-8. */
void       tern_plain_text_view_set_text (TernPlainTextView *self,
                                          const char        *text);
/* The link at buffer @iter, NULL if none. */
char      *tern_plain_text_view_get_link (TernPlainTextView *self,
                                          const GtkTextIter *iter);
/* Whether @uri may leave Tern for the browser or mailer: http, https and
 * mailto only. */
gboolean   tern_plain_text_view_uri_is_openable (const char *uri);

G_END_DECLS
