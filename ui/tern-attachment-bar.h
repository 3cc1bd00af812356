/* tern-attachment-bar.h: a message's attachments with Open and Save As.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-message-content.h"

G_BEGIN_DECLS

#define TERN_TYPE_ATTACHMENT_BAR (tern_attachment_bar_get_type ())
G_DECLARE_FINAL_TYPE (TernAttachmentBar, tern_attachment_bar, TERN, ATTACHMENT_BAR, AdwBin)

GtkWidget *tern_attachment_bar_new             (void);
/* Shows @attachments (TernMessageAttachments of @content, which the bar
 * keeps); hidden when there are none.  NULL clears. */
void       tern_attachment_bar_set_content     (TernAttachmentBar  *self,
                                                TernMessageContent *content);
/* Writes @attachment to a new private directory (0700) under the user's
 * runtime or temporary directory, for opening; returns the file. */
GFile     *tern_attachment_bar_write_temporary (const TernMessageAttachment  *attachment,
                                                GError                      **error);
/* Save As: writes @attachment to @file (replacing it).  The write keeps
 * its own reference to the data: the bar may show another message, and
 * drop this one's, before it ends. */
void       tern_attachment_bar_save_async      (const TernMessageAttachment  *attachment,
                                                GFile                        *file,
                                                GAsyncReadyCallback           callback,
                                                gpointer                      user_data);
gboolean   tern_attachment_bar_save_finish     (GFile                        *file,
                                                GAsyncResult                 *result,
                                                GError                      **error);
/* @filename made safe as the last component of a path. */
char      *tern_attachment_bar_safe_filename   (const char                   *filename);

G_END_DECLS
