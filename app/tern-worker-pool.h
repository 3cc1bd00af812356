/* tern-worker-pool.h: blocking protocol work off the main thread.
 *
 * Jobs belong to an account.  The jobs of one account run one after the
 * other (an account has one command connection at a time), the jobs of
 * different accounts run in parallel on threads of their own, so an account
 * whose server hangs never holds up another.
 *
 * What an account is doing is a TernAccountWorker whose properties change
 * and notify only on the main context of the thread that made the pool, so
 * the UI can bind to them.  After a network error the worker goes offline
 * and the pool emits TernWorkerPool::reconnect for the account once a
 * backoff delay (5 s, doubling up to 5 min, reset by a success) has passed;
 * after any other error (wrong password, certificate, server refusal) it
 * stays in the error state until a job succeeds again, without retrying.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-account-worker.h"

G_BEGIN_DECLS

/* What a job function gets: its account and a way to report progress.
 * The setters may be called from the job's thread. */
typedef struct _TernWorkerJob TernWorkerJob;

TernAccount *tern_worker_job_get_account  (TernWorkerJob   *job);
void         tern_worker_job_set_state    (TernWorkerJob   *job,
                                           TernWorkerState  state);
void         tern_worker_job_set_folder   (TernWorkerJob   *job,
                                           const char      *folder);
void         tern_worker_job_set_progress (TernWorkerJob   *job,
                                           guint            done,
                                           guint            total);
void         tern_worker_job_mark_synced  (TernWorkerJob   *job);

/* Runs on a worker thread.  @cancellable is the job's own: cancelled when
 * the caller's cancellable is, by tern_worker_pool_cancel_account(), and
 * when the pool goes away.  Return FALSE and set @error on failure. */
typedef gboolean (*TernWorkerJobFunc) (TernWorkerJob  *job,
                                       gpointer        data,
                                       GCancellable   *cancellable,
                                       GError        **error);

#define TERN_TYPE_WORKER_POOL (tern_worker_pool_get_type ())
G_DECLARE_FINAL_TYPE (TernWorkerPool, tern_worker_pool, TERN, WORKER_POOL, GObject)

TernWorkerPool    *tern_worker_pool_new            (void);
/* Shortens the backoff, for tests; both in milliseconds. */
void               tern_worker_pool_set_backoff    (TernWorkerPool       *self,
                                                    guint                 initial_ms,
                                                    guint                 max_ms);
/* The delay before the @failures-th reconnect (1 for the first). */
guint              tern_worker_pool_backoff_delay  (TernWorkerPool       *self,
                                                    guint                 failures);
/* The account's worker, made on first use.  Main context only. */
TernAccountWorker *tern_worker_pool_get_worker     (TernWorkerPool       *self,
                                                    TernAccount          *account);
/* Queues @func for @account.  @data stays the caller's: free it in
 * @callback, which runs on the thread-default main context of this call
 * (also when the job was cancelled before it started). */
void               tern_worker_pool_run_async      (TernWorkerPool       *self,
                                                    TernAccount          *account,
                                                    TernWorkerJobFunc     func,
                                                    gpointer              data,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
gboolean           tern_worker_pool_run_finish     (TernWorkerPool       *self,
                                                    GAsyncResult         *result,
                                                    GError              **error);
/* While offline ("Work Offline"), jobs fail at once with
 * TERN_APP_ERROR_OFFLINE, before their function runs, and no reconnect is
 * emitted.  Main context only. */
void               tern_worker_pool_set_offline    (TernWorkerPool       *self,
                                                    gboolean              offline);
gboolean           tern_worker_pool_get_offline    (TernWorkerPool       *self);
/* Cancels the running and the queued jobs of @account. */
void               tern_worker_pool_cancel_account (TernWorkerPool       *self,
                                                    TernAccount          *account);

/* Whether @error means the server could not be reached (retry later), as
 * opposed to a refusal that retrying cannot fix.  Working offline counts
 * as unreachable. */
gboolean           tern_worker_error_is_network    (const GError         *error);

G_END_DECLS
