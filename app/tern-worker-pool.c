/* tern-worker-pool.c
 *
 * Each account has a queue of jobs and at most one thread draining it, so
 * its jobs never overlap; the GThreadPool has no thread limit, so the
 * number of threads is the number of accounts with work.
 *
 * What a job reports goes to its TernAccountWorker, which shows it on the
 * main context.  The job's result is handed back through an idle source
 * too (attached after the worker's), so the last reference to the GTask,
 * and with it to the pool, is always dropped on the caller's context,
 * never on a job thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-worker"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-worker-pool.h"
#include "tern-account-worker-private.h"
#include "tern-app-error.h"

#include "tern-imap-client.h"
#include "tern-pop3-client.h"
#include "tern-protocol-error.h"

#define DEFAULT_BACKOFF_INITIAL_MS (5 * 1000)
#define DEFAULT_BACKOFF_MAX_MS (5 * 60 * 1000)

struct _TernWorkerJob
{
  TernAccountWorker *worker;
  TernWorkerJobFunc func;
  gpointer data;
  GTask *task;
  GCancellable *cancellable;        /* the job's own */
  GCancellable *caller_cancellable;
  gulong caller_handler;
  GError *error;
  gboolean ok;
};

struct _TernWorkerPool
{
  GObject parent_instance;

  GMainContext *context;
  GThreadPool *threads;
  GHashTable *workers;              /* account id (gint64 *) -> TernAccountWorker */
  guint backoff_initial_ms;
  guint backoff_max_ms;
  gint offline;                     /* atomic: read by job threads */
};

G_DEFINE_FINAL_TYPE (TernWorkerPool, tern_worker_pool, G_TYPE_OBJECT)

enum {
  SIGNAL_RECONNECT,
  N_SIGNALS
};

static guint pool_signals[N_SIGNALS];

/* ------------------------------------------------------------------ jobs */

TernAccount *
tern_worker_job_get_account (TernWorkerJob *job)
{
  return tern_account_worker_get_account (job->worker);
}

void
tern_worker_job_set_state (TernWorkerJob   *job,
                           TernWorkerState  state)
{
  _tern_account_worker_set_state (job->worker, state);
}

void
tern_worker_job_set_folder (TernWorkerJob *job,
                            const char    *folder)
{
  _tern_account_worker_set_folder (job->worker, folder);
}

void
tern_worker_job_set_progress (TernWorkerJob *job,
                              guint          done,
                              guint          total)
{
  _tern_account_worker_set_progress (job->worker, done, total);
}

void
tern_worker_job_mark_synced (TernWorkerJob *job)
{
  _tern_account_worker_mark_synced (job->worker);
}

GCancellable *
_tern_worker_job_get_cancellable (TernWorkerJob *job)
{
  return job->cancellable;
}

static void
cancel_job_cb (GCancellable *caller,
               gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static void
job_free (gpointer data)
{
  TernWorkerJob *job = data;

  if (job->caller_handler != 0)
    g_cancellable_disconnect (job->caller_cancellable, job->caller_handler);
  g_clear_object (&job->caller_cancellable);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->task);
  g_clear_object (&job->worker);
  g_clear_error (&job->error);
  g_free (job);
}

/* On the caller's context. */
static gboolean
return_job_cb (gpointer data)
{
  TernWorkerJob *job = data;

  if (job->ok)
    g_task_return_boolean (job->task, TRUE);
  else
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  return G_SOURCE_REMOVE;
}

gboolean
tern_worker_error_is_network (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == TERN_CONNECTION_ERROR)
    return error->code == TERN_CONNECTION_ERROR_CONNECT_FAILED
           || error->code == TERN_CONNECTION_ERROR_TIMED_OUT
           || error->code == TERN_CONNECTION_ERROR_CLOSED
           || error->code == TERN_CONNECTION_ERROR_IO_FAILED;
  if (error->domain == G_RESOLVER_ERROR)
    return TRUE;
  if (error->domain == TERN_APP_ERROR)
    return error->code == TERN_APP_ERROR_OFFLINE;
  /* The server said BYE: it is shutting down or dropped us; later it may
   * be back. */
  if (error->domain == TERN_IMAP_ERROR)
    return error->code == TERN_IMAP_ERROR_BYE;
  /* POP3 [IN-USE] (another session holds the maildrop), [LOGIN-DELAY] (too
   * soon after the last sign-in) and [SYS/TEMP] pass by themselves: retry
   * later rather than wait for the user. */
  if (error->domain == TERN_POP3_ERROR)
    return error->code == TERN_POP3_ERROR_IN_USE
           || error->code == TERN_POP3_ERROR_LOGIN_DELAY
           || error->code == TERN_POP3_ERROR_TEMPORARY;
  if (error->domain == G_IO_ERROR)
    switch (error->code)
      {
      case G_IO_ERROR_CONNECTION_REFUSED:
      case G_IO_ERROR_CONNECTION_CLOSED:
      case G_IO_ERROR_TIMED_OUT:
      case G_IO_ERROR_HOST_NOT_FOUND:
      case G_IO_ERROR_HOST_UNREACHABLE:
      case G_IO_ERROR_NETWORK_UNREACHABLE:
      case G_IO_ERROR_NOT_CONNECTED:
        return TRUE;
      default:
        return FALSE;
      }
  return FALSE;
}

static void
run_job (TernWorkerPool *self,
         TernWorkerJob  *job)
{
  TernAccountWorker *worker = job->worker;
  TernWorkerOutcome outcome;

  if (g_atomic_int_get (&self->offline))
    g_set_error_literal (&job->error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE,
                         _("Tern is working offline. Turn off Work Offline to connect."));
  else if (!g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
    {
      _tern_account_worker_set_state (worker, TERN_WORKER_STATE_CONNECTING);
      job->ok = job->func (job, job->data, job->cancellable, &job->error);
      g_assert (job->ok == (job->error == NULL));
    }

  if (job->ok)
    outcome = TERN_WORKER_OUTCOME_SUCCESS;
  else if (g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    outcome = TERN_WORKER_OUTCOME_CANCELLED;
  else if (tern_worker_error_is_network (job->error))
    outcome = TERN_WORKER_OUTCOME_NETWORK;
  else
    outcome = TERN_WORKER_OUTCOME_FAILED;
  _tern_account_worker_finish_job (worker, outcome, job->error);
}

/* The GThreadPool function: drains one account's queue. */
static void
drain_worker (gpointer data,
              gpointer user_data)
{
  TernAccountWorker *worker = data;
  TernWorkerPool *self = user_data;

  for (;;)
    {
      TernWorkerJob *job;
      GSource *source;

      job = _tern_account_worker_pop (worker);
      if (job == NULL)
        break;
      run_job (self, job);
      _tern_account_worker_job_done (worker);

      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[tern] worker job done");
      g_source_set_callback (source, return_job_cb, job, job_free);
      g_source_attach (source, g_task_get_context (job->task));
      g_source_unref (source);
    }
  g_object_unref (worker);
}

/* ------------------------------------------------------------------ pool */

static void
tern_worker_pool_dispose (GObject *object)
{
  TernWorkerPool *self = TERN_WORKER_POOL (object);
  GHashTableIter iter;
  gpointer value;

  if (self->workers != NULL)
    {
      g_hash_table_iter_init (&iter, self->workers);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        _tern_account_worker_cancel_jobs (value);
    }
  /* Jobs hold the pool (through their GTask) until they returned, so this
   * only waits for threads finishing their last lines. */
  if (self->threads != NULL)
    g_thread_pool_free (g_steal_pointer (&self->threads), FALSE, TRUE);
  if (self->workers != NULL)
    {
      g_hash_table_iter_init (&iter, self->workers);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        _tern_account_worker_detach (value);
      g_clear_pointer (&self->workers, g_hash_table_unref);
    }

  G_OBJECT_CLASS (tern_worker_pool_parent_class)->dispose (object);
}

static void
tern_worker_pool_finalize (GObject *object)
{
  TernWorkerPool *self = TERN_WORKER_POOL (object);

  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (tern_worker_pool_parent_class)->finalize (object);
}

static void
tern_worker_pool_class_init (TernWorkerPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tern_worker_pool_dispose;
  object_class->finalize = tern_worker_pool_finalize;

  /* The backoff after a network error has passed: whoever runs the
   * account's sync runs it again now. */
  pool_signals[SIGNAL_RECONNECT] =
    g_signal_new ("reconnect", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TERN_TYPE_ACCOUNT);
}

static void
tern_worker_pool_init (TernWorkerPool *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->workers = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->threads = g_thread_pool_new (drain_worker, self, -1, FALSE, NULL);
  self->backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
  self->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
}

TernWorkerPool *
tern_worker_pool_new (void)
{
  return g_object_new (TERN_TYPE_WORKER_POOL, NULL);
}

void
tern_worker_pool_set_backoff (TernWorkerPool *self,
                              guint           initial_ms,
                              guint           max_ms)
{
  g_return_if_fail (TERN_IS_WORKER_POOL (self));
  g_return_if_fail (initial_ms > 0 && initial_ms <= max_ms);

  self->backoff_initial_ms = initial_ms;
  self->backoff_max_ms = max_ms;
}

guint
tern_worker_pool_backoff_delay (TernWorkerPool *self,
                                guint           failures)
{
  guint64 delay;

  g_return_val_if_fail (TERN_IS_WORKER_POOL (self), 0);

  if (failures == 0)
    return 0;
  delay = self->backoff_initial_ms;
  for (guint i = 1; i < failures && delay < self->backoff_max_ms; i++)
    delay *= 2;
  return MIN (delay, self->backoff_max_ms);
}

void
_tern_worker_pool_emit_reconnect (TernWorkerPool *self,
                                  TernAccount    *account)
{
  /* Failing at once without a connection is what offline means; going
   * online syncs everything anyway. */
  if (g_atomic_int_get (&self->offline))
    return;
  g_signal_emit (self, pool_signals[SIGNAL_RECONNECT], 0, account);
}

TernAccountWorker *
tern_worker_pool_get_worker (TernWorkerPool *self,
                             TernAccount    *account)
{
  gint64 id;
  TernAccountWorker *worker;

  g_return_val_if_fail (TERN_IS_WORKER_POOL (self), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  id = tern_account_get_id (account);
  worker = g_hash_table_lookup (self->workers, &id);
  if (worker == NULL)
    {
      worker = _tern_account_worker_new (self, account, self->context);
      g_hash_table_insert (self->workers, g_memdup2 (&id, sizeof id), worker);
    }
  return worker;
}

void
tern_worker_pool_run_async (TernWorkerPool      *self,
                            TernAccount         *account,
                            TernWorkerJobFunc    func,
                            gpointer             data,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  TernAccountWorker *worker;
  TernWorkerJob *job;

  g_return_if_fail (TERN_IS_WORKER_POOL (self));
  g_return_if_fail (TERN_IS_ACCOUNT (account));
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  worker = tern_worker_pool_get_worker (self, account);
  job = g_new0 (TernWorkerJob, 1);
  job->worker = g_object_ref (worker);
  job->func = func;
  job->data = data;
  job->cancellable = g_cancellable_new ();
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, tern_worker_pool_run_async);
  g_task_set_check_cancellable (job->task, FALSE);
  if (cancellable != NULL)
    {
      job->caller_cancellable = g_object_ref (cancellable);
      job->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_job_cb),
                                                   g_object_ref (job->cancellable), g_object_unref);
    }

  /* One work item per account with work; the pool has no thread limit. */
  if (_tern_account_worker_push (worker, job))
    g_thread_pool_push (self->threads, g_object_ref (worker), NULL);
}

gboolean
tern_worker_pool_run_finish (TernWorkerPool  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (TERN_IS_WORKER_POOL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tern_worker_pool_run_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
tern_worker_pool_set_offline (TernWorkerPool *self,
                              gboolean        offline)
{
  g_return_if_fail (TERN_IS_WORKER_POOL (self));
  g_atomic_int_set (&self->offline, !!offline);
}

gboolean
tern_worker_pool_get_offline (TernWorkerPool *self)
{
  g_return_val_if_fail (TERN_IS_WORKER_POOL (self), FALSE);
  return g_atomic_int_get (&self->offline);
}

void
tern_worker_pool_cancel_account (TernWorkerPool *self,
                                 TernAccount    *account)
{
  gint64 id;
  TernAccountWorker *worker;

  g_return_if_fail (TERN_IS_WORKER_POOL (self));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  id = tern_account_get_id (account);
  worker = g_hash_table_lookup (self->workers, &id);
  if (worker != NULL)
    _tern_account_worker_cancel_jobs (worker);
}
