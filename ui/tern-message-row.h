/* tern-message-row.h: one row of the message list.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-message-item.h"

G_BEGIN_DECLS

#define TERN_TYPE_MESSAGE_ROW (tern_message_row_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageRow, tern_message_row, TERN, MESSAGE_ROW, GtkWidget)

GtkWidget       *tern_message_row_new      (void);
/* Shows @item (NULL: nothing) and follows its changes. */
void             tern_message_row_set_item (TernMessageRow  *self,
                                            TernMessageItem *item);
TernMessageItem *tern_message_row_get_item (TernMessageRow  *self);

/* "14:05" today, "Yesterday", else the locale's date; @now for tests
 * (NULL: now). */
char            *tern_message_row_format_date (gint64     date,
                                               GDateTime *now);
/* Writes the date of every row showing a message again, as of @now (NULL:
 * now); rows do it themselves within a minute of the day changing. */
void             tern_message_row_refresh_dates (GDateTime *now);

G_END_DECLS
