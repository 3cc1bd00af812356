/* tern-window.h: the main window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-application.h"
#include "tern-message-list-view.h"
#include "tern-message-view.h"
#include "tern-outbox-view.h"
#include "tern-sidebar.h"

G_BEGIN_DECLS

#define TERN_TYPE_WINDOW (tern_window_get_type ())
G_DECLARE_FINAL_TYPE (TernWindow, tern_window, TERN, WINDOW, AdwApplicationWindow)

TernWindow          *tern_window_new                   (TernApplication *application,
                                                        TernContext     *context,
                                                        GSettings       *settings);
/* The panes, for tests. */
TernSidebar         *tern_window_get_sidebar           (TernWindow      *self);
TernMessageListView *tern_window_get_message_list_view (TernWindow      *self);
TernMessageView     *tern_window_get_message_view      (TernWindow      *self);
/* Whether the panes are folded into one at a time (a narrow window). */
gboolean             tern_window_get_folded            (TernWindow      *self);
/* What the sidebar's Outbox shows, for tests. */
TernOutboxView      *tern_window_get_outbox_view       (TernWindow      *self);
/* Selects the folder of message @message_id and the message (a
 * notification's click). */
void                 tern_window_show_message          (TernWindow      *self,
                                                        gint64           message_id);

G_END_DECLS
