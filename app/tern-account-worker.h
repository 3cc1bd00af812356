/* tern-account-worker.h: what one account's worker is doing, for the UI
 * to bind to.
 *
 * Made by TernWorkerPool (tern_worker_pool_get_worker()); its properties
 * change and notify only on the pool's main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"

G_BEGIN_DECLS

typedef enum {
  TERN_WORKER_STATE_IDLE,
  TERN_WORKER_STATE_CONNECTING,
  TERN_WORKER_STATE_SYNCING,
  TERN_WORKER_STATE_ERROR,
  TERN_WORKER_STATE_OFFLINE,
} TernWorkerState;

#define TERN_TYPE_WORKER_STATE (tern_worker_state_get_type ())
GType tern_worker_state_get_type (void) G_GNUC_CONST;

#define TERN_TYPE_ACCOUNT_WORKER (tern_account_worker_get_type ())
G_DECLARE_FINAL_TYPE (TernAccountWorker, tern_account_worker, TERN, ACCOUNT_WORKER, GObject)

/* The account never changes: any thread. */
TernAccount     *tern_account_worker_get_account     (TernAccountWorker *self);
/* Read these on the main context only. */
TernWorkerState  tern_account_worker_get_state       (TernAccountWorker *self);
const char      *tern_account_worker_get_folder      (TernAccountWorker *self);
guint            tern_account_worker_get_done        (TernAccountWorker *self);
guint            tern_account_worker_get_total       (TernAccountWorker *self);
const char      *tern_account_worker_get_last_error  (TernAccountWorker *self);
/* Seconds since the epoch of the last job that marked a sync; 0: never. */
gint64           tern_account_worker_get_last_sync   (TernAccountWorker *self);
/* Milliseconds until TernWorkerPool::reconnect while offline; else 0. */
guint            tern_account_worker_get_retry_delay (TernAccountWorker *self);

G_END_DECLS
