/* tern-outbox-list.h: the messages waiting in the outbox, as a GListModel
 * of TernOutboxItem.
 *
 * Every account's rows that are not sent yet (queued, being sent, failed),
 * oldest first.  The list follows the outbox by itself (tern_outbox_watch():
 * a flush on a worker thread, a message queued, retried or removed), with
 * items-changed only over the rows that changed.  Main thread only.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-outbox-item.h"
#include "tern-store.h"

G_BEGIN_DECLS

#define TERN_TYPE_OUTBOX_LIST (tern_outbox_list_get_type ())
G_DECLARE_FINAL_TYPE (TernOutboxList, tern_outbox_list, TERN, OUTBOX_LIST, GObject)

TernOutboxList *tern_outbox_list_new    (TernStore       *store,
                                         GError         **error);
/* Reads the outbox again now (the list does it by itself after writes). */
gboolean        tern_outbox_list_reload (TernOutboxList  *self,
                                         GError         **error);
/* The item of outbox row @id, or NULL.  Transfer none. */
TernOutboxItem *tern_outbox_list_find   (TernOutboxList  *self,
                                         gint64           id);

G_END_DECLS
