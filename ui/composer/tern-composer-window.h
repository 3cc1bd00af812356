/* tern-composer-window.h: the window a message is written in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-address-entry.h"
#include "tern-application.h"
#include "tern-composer.h"

G_BEGIN_DECLS

#define TERN_TYPE_COMPOSER_WINDOW (tern_composer_window_get_type ())
G_DECLARE_FINAL_TYPE (TernComposerWindow, tern_composer_window, TERN, COMPOSER_WINDOW,
                      AdwApplicationWindow)

/* @application may be NULL (tests).  A new message from @account (NULL:
 * the first account). */
TernComposerWindow *tern_composer_window_new             (TernApplication *application,
                                                          TernContext     *context,
                                                          TernAccount     *account);
/* A reply to, or forward of, the stored message @message_id (a messages
 * row), from its account: its bytes come from the cache, or from the
 * server through the worker pool; the fields fill in when they arrive. */
TernComposerWindow *tern_composer_window_new_reply       (TernApplication *application,
                                                          TernContext     *context,
                                                          gint64           message_id,
                                                          TernReplyMode    mode);
/* A new message from the first account filled from a mailto: link; a
 * link that does not parse leaves it empty with the reason shown. */
TernComposerWindow *tern_composer_window_new_from_mailto (TernApplication *application,
                                                          TernContext     *context,
                                                          const char      *uri);
/* The saved draft @message_id (a messages row in a Drafts folder), to go
 * on writing; saving replaces it. */
TernComposerWindow *tern_composer_window_new_from_draft  (TernApplication *application,
                                                          TernContext     *context,
                                                          gint64           message_id);

TernComposer       *tern_composer_window_get_composer    (TernComposerWindow *self);
/* Attaches @file (what the file chooser and a drop do). */
gboolean            tern_composer_window_add_file        (TernComposerWindow  *self,
                                                          GFile               *file,
                                                          GError             **error);
/* The draft saved last (a messages row), 0 when none. */
gint64              tern_composer_window_get_draft_id    (TernComposerWindow *self);
/* Saves the draft now, as the timer and closing do. */
gboolean            tern_composer_window_save_draft      (TernComposerWindow  *self,
                                                          GError             **error);
/* Whether the fields are filled in (a reply's message has arrived). */
gboolean            tern_composer_window_get_ready       (TernComposerWindow *self);
/* The To entry and the status line, for tests. */
TernAddressEntry   *tern_composer_window_get_to_entry    (TernComposerWindow *self);
const char         *tern_composer_window_get_status      (TernComposerWindow *self);
/* The warning that the message is larger than the outgoing server takes,
 * NULL when it is not shown; for tests. */
const char         *tern_composer_window_get_size_warning (TernComposerWindow *self);

G_END_DECLS
