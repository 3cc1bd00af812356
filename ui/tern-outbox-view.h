/* tern-outbox-view.h: what waits in the outbox, with Retry, Edit and
 * Delete.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"
#include "tern-outbox-list.h"

G_BEGIN_DECLS

#define TERN_TYPE_OUTBOX_VIEW (tern_outbox_view_get_type ())
G_DECLARE_FINAL_TYPE (TernOutboxView, tern_outbox_view, TERN, OUTBOX_VIEW, GtkWidget)

GtkWidget      *tern_outbox_view_new       (TernContext    *context);
/* The rows shown, for tests. */
TernOutboxList *tern_outbox_view_get_list  (TernOutboxView *self);
/* The last thing that went wrong (shown as a toast), or NULL; for tests. */
const char     *tern_outbox_view_get_error (TernOutboxView *self);

G_END_DECLS
