/* tern-notifications.h: GNotifications for the new mail TernNewMail finds.
 *
 * One notification per message (title: the sender, body: the subject,
 * clicking it runs app.show-message with the message's id), or one "N new
 * messages" when more than a few arrive at once.  Notifications go only
 * while no window of the application is active, and are withdrawn when
 * their messages are read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tern-new-mail.h"

G_BEGIN_DECLS

#define TERN_TYPE_NOTIFICATIONS (tern_notifications_get_type ())
G_DECLARE_FINAL_TYPE (TernNotifications, tern_notifications, TERN, NOTIFICATIONS, GObject)

/* More than this many at once make one grouped notification. */
#define TERN_NOTIFICATIONS_MAX_SINGLE 3

TernNotifications *tern_notifications_new            (GtkApplication    *application,
                                                      TernNewMail       *new_mail);
/* The id of the notification of message @id ("message-ID"); the grouped
 * one is "new-mail". */
char              *tern_notifications_id_for_message (gint64             id);

G_END_DECLS
