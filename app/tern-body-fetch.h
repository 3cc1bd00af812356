/* tern-body-fetch.h: a message's raw body for the reading pane, from the
 * cache or, off the main thread, from the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-context.h"

G_BEGIN_DECLS

/* The cached raw message of @message_id, or NULL (without an error) when
 * it is not cached.  Reads the store: cheap, but blocking. */
GBytes *tern_body_fetch_cached (TernContext          *context,
                                gint64                message_id,
                                GError              **error);

/* The raw message of @message_id: from the cache at once, else fetched
 * through the context's worker pool as a job of the message's account
 * (and cached).  A POP3 message that is not cached cannot be fetched
 * again: TERN_APP_ERROR_NOT_FOUND.  A network failure is an error for
 * which tern_worker_error_is_network() is TRUE. */
void    tern_body_fetch_async  (TernContext          *context,
                                gint64                message_id,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data);
GBytes *tern_body_fetch_finish (TernContext          *context,
                                GAsyncResult         *result,
                                GError              **error);

G_END_DECLS
