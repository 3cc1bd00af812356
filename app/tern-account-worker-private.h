/* tern-account-worker-private.h: how TernWorkerPool drives the workers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-account-worker.h"
#include "tern-worker-pool.h"

G_BEGIN_DECLS

typedef enum {
  TERN_WORKER_OUTCOME_NONE,
  TERN_WORKER_OUTCOME_SUCCESS,
  TERN_WORKER_OUTCOME_CANCELLED,
  TERN_WORKER_OUTCOME_NETWORK,
  TERN_WORKER_OUTCOME_FAILED,
} TernWorkerOutcome;

/* Main context. */
TernAccountWorker *_tern_account_worker_new         (TernWorkerPool     *pool,
                                                     TernAccount        *account,
                                                     GMainContext       *context);
/* The pool goes: no more reconnects or notifications. */
void               _tern_account_worker_detach      (TernAccountWorker  *self);

/* The job queue; any thread.  push returns TRUE when no thread drains the
 * queue yet (the caller starts one); pop returns the next job, now the
 * current one, or NULL when the queue is empty (the draining ends). */
gboolean           _tern_account_worker_push        (TernAccountWorker  *self,
                                                     TernWorkerJob      *job);
TernWorkerJob     *_tern_account_worker_pop         (TernAccountWorker  *self);
void               _tern_account_worker_job_done    (TernAccountWorker  *self);
void               _tern_account_worker_cancel_jobs (TernAccountWorker  *self);

/* What a job reports, from its thread. */
void               _tern_account_worker_set_state   (TernAccountWorker  *self,
                                                     TernWorkerState     state);
void               _tern_account_worker_set_folder  (TernAccountWorker  *self,
                                                     const char         *folder);
void               _tern_account_worker_set_progress (TernAccountWorker *self,
                                                     guint               done,
                                                     guint               total);
void               _tern_account_worker_mark_synced (TernAccountWorker  *self);
void               _tern_account_worker_finish_job  (TernAccountWorker  *self,
                                                     TernWorkerOutcome   outcome,
                                                     const GError       *error);

/* tern-worker-pool.c */
GCancellable      *_tern_worker_job_get_cancellable (TernWorkerJob      *job);
void               _tern_worker_pool_emit_reconnect (TernWorkerPool     *pool,
                                                     TernAccount        *account);

G_END_DECLS
