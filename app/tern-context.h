/* tern-context.h: one running engine: a profile, its store and accounts.
 *
 * The UI and tern-cli each make one and hand it to whoever needs it; there
 * are no globals.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account-manager.h"
#include "tern-connection.h"
#include "tern-server.h"
#include "tern-store.h"
#include "tern-worker-pool.h"

G_BEGIN_DECLS

#define TERN_TYPE_CONTEXT (tern_context_get_type ())
G_DECLARE_FINAL_TYPE (TernContext, tern_context, TERN, CONTEXT, GObject)

char               *tern_context_get_default_profile_dir (void);
TernContext        *tern_context_new                     (const char   *profile_dir,
                                                          GError      **error);
/* The same without blocking the caller's thread: the store is opened,
 * and migrated to the current schema if it was older (which may take a
 * while on a large profile), on a worker; the context itself is made in
 * the caller's main context, where the callback runs.  Cancelling cannot
 * stop a migration (a migration is one transaction, so the profile stays
 * whole) but the task then fails with G_IO_ERROR_CANCELLED. */
void                tern_context_new_async               (const char           *profile_dir,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
TernContext        *tern_context_new_finish              (GAsyncResult         *result,
                                                          GError              **error);
const char         *tern_context_get_profile_dir         (TernContext  *self);
TernStore          *tern_context_get_store               (TernContext  *self);
TernAccountManager *tern_context_get_accounts            (TernContext  *self);
/* Where protocol work runs; its state notifies on the main context of the
 * thread that made the context. */
TernWorkerPool     *tern_context_get_worker_pool         (TernContext  *self);
const char         *tern_context_get_ca_file             (TernContext  *self);
void                tern_context_set_ca_file             (TernContext  *self,
                                                          const char   *ca_file);
/* "Work Offline": while TRUE, new connections and worker jobs fail at once
 * with TERN_APP_ERROR_OFFLINE, so nothing reaches the network. */
gboolean            tern_context_get_offline             (TernContext  *self);
void                tern_context_set_offline             (TernContext  *self,
                                                          gboolean      offline);
TernConnection     *tern_context_new_connection          (TernContext       *self,
                                                          const TernServer  *server,
                                                          GError           **error);

G_END_DECLS
