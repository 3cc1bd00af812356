/* tern-worker-pool.c
 *
 * Each account has a queue of jobs and at most one thread draining it, so
 * its jobs never overlap; the GThreadPool has no thread limit, so the
 * number of threads is the number of accounts with work.
 *
 * A job thread never touches what the main context sees: it writes what
 * changed into the worker's "pending" fields under the lock and schedules
 * one idle source on the pool's context that copies them over and
 * notifies.  The job's result is handed back the same way (after that
 * idle), so the last reference to the GTask, and with it to the pool, is
 * always dropped on the caller's context, never on a job thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-worker"

#include "config.h"

#include "tern-worker-pool.h"

#include "tern-imap-client.h"
#include "tern-protocol-error.h"

#define DEFAULT_BACKOFF_INITIAL_MS (5 * 1000)
#define DEFAULT_BACKOFF_MAX_MS (5 * 60 * 1000)

G_DEFINE_ENUM_TYPE (TernWorkerState, tern_worker_state,
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_SYNCING, "syncing"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_ERROR, "error"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_OFFLINE, "offline"))

typedef enum {
  OUTCOME_NONE,
  OUTCOME_SUCCESS,
  OUTCOME_CANCELLED,
  OUTCOME_NETWORK,
  OUTCOME_FAILED,
} Outcome;

/* Bits of what changed since the last flush. */
typedef enum {
  CHANGED_STATE = 1 << 0,
  CHANGED_FOLDER = 1 << 1,
  CHANGED_PROGRESS = 1 << 2,
  CHANGED_LAST_ERROR = 1 << 3,
  CHANGED_LAST_SYNC = 1 << 4,
} Changed;

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

struct _TernAccountWorker
{
  GObject parent_instance;

  TernAccount *account;
  GMainContext *context;
  TernWorkerPool *pool;             /* unowned; cleared when the pool goes */

  /* What the properties show: main context only. */
  TernWorkerState state;
  char *folder;
  guint done;
  guint total;
  char *last_error;
  gint64 last_sync;
  guint retry_delay;
  guint failures;
  GSource *retry_source;

  /* Shared with the job threads, under lock. */
  GMutex lock;
  GQueue jobs;
  TernWorkerJob *current;
  gboolean running;
  Changed changed;
  TernWorkerState pending_state;
  char *pending_folder;
  guint pending_done;
  guint pending_total;
  char *pending_error;
  gint64 pending_sync;
  Outcome pending_outcome;
  GSource *flush_source;
};

struct _TernWorkerPool
{
  GObject parent_instance;

  GMainContext *context;
  GThreadPool *threads;
  GHashTable *workers;              /* account id (gint64 *) -> TernAccountWorker */
  guint backoff_initial_ms;
  guint backoff_max_ms;
};

G_DEFINE_FINAL_TYPE (TernAccountWorker, tern_account_worker, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (TernWorkerPool, tern_worker_pool, G_TYPE_OBJECT)

enum {
  WORKER_PROP_0,
  WORKER_PROP_ACCOUNT,
  WORKER_PROP_STATE,
  WORKER_PROP_FOLDER,
  WORKER_PROP_DONE,
  WORKER_PROP_TOTAL,
  WORKER_PROP_LAST_ERROR,
  WORKER_PROP_LAST_SYNC,
  WORKER_PROP_RETRY_DELAY,
  WORKER_N_PROPS
};

static GParamSpec *worker_properties[WORKER_N_PROPS];

enum {
  SIGNAL_RECONNECT,
  N_SIGNALS
};

static guint pool_signals[N_SIGNALS];

/* ------------------------------------------------------------ the worker */

static void
tern_account_worker_finalize (GObject *object)
{
  TernAccountWorker *self = TERN_ACCOUNT_WORKER (object);

  g_assert (g_queue_is_empty (&self->jobs));
  g_assert (self->retry_source == NULL && self->flush_source == NULL);
  g_clear_object (&self->account);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->pending_folder, g_free);
  g_clear_pointer (&self->pending_error, g_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (tern_account_worker_parent_class)->finalize (object);
}

static void
tern_account_worker_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  TernAccountWorker *self = TERN_ACCOUNT_WORKER (object);

  switch (prop_id)
    {
    case WORKER_PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    case WORKER_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case WORKER_PROP_FOLDER:
      g_value_set_string (value, self->folder);
      break;
    case WORKER_PROP_DONE:
      g_value_set_uint (value, self->done);
      break;
    case WORKER_PROP_TOTAL:
      g_value_set_uint (value, self->total);
      break;
    case WORKER_PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case WORKER_PROP_LAST_SYNC:
      g_value_set_int64 (value, self->last_sync);
      break;
    case WORKER_PROP_RETRY_DELAY:
      g_value_set_uint (value, self->retry_delay);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_account_worker_class_init (TernAccountWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = tern_account_worker_finalize;
  object_class->get_property = tern_account_worker_get_property;

  worker_properties[WORKER_PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, TERN_TYPE_ACCOUNT, flags);
  worker_properties[WORKER_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, TERN_TYPE_WORKER_STATE, TERN_WORKER_STATE_IDLE, flags);
  worker_properties[WORKER_PROP_FOLDER] = g_param_spec_string ("folder", NULL, NULL, NULL, flags);
  worker_properties[WORKER_PROP_DONE] =
    g_param_spec_uint ("done", NULL, NULL, 0, G_MAXUINT, 0, flags);
  worker_properties[WORKER_PROP_TOTAL] =
    g_param_spec_uint ("total", NULL, NULL, 0, G_MAXUINT, 0, flags);
  worker_properties[WORKER_PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL, flags);
  worker_properties[WORKER_PROP_LAST_SYNC] =
    g_param_spec_int64 ("last-sync", NULL, NULL, 0, G_MAXINT64, 0, flags);
  worker_properties[WORKER_PROP_RETRY_DELAY] =
    g_param_spec_uint ("retry-delay", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, WORKER_N_PROPS, worker_properties);
}

static void
tern_account_worker_init (TernAccountWorker *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->jobs);
}

TernAccount *
tern_account_worker_get_account (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), NULL);
  return self->account;
}

TernWorkerState
tern_account_worker_get_state (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), TERN_WORKER_STATE_IDLE);
  return self->state;
}

const char *
tern_account_worker_get_folder (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), NULL);
  return self->folder;
}

guint
tern_account_worker_get_done (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), 0);
  return self->done;
}

guint
tern_account_worker_get_total (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), 0);
  return self->total;
}

const char *
tern_account_worker_get_last_error (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), NULL);
  return self->last_error;
}

gint64
tern_account_worker_get_last_sync (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), 0);
  return self->last_sync;
}

guint
tern_account_worker_get_retry_delay (TernAccountWorker *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WORKER (self), 0);
  return self->retry_delay;
}

static void
notify (TernAccountWorker *self,
        guint              prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), worker_properties[prop]);
}

static void
set_string (TernAccountWorker *self,
            char             **field,
            char              *value, /* owned */
            guint              prop)
{
  if (g_strcmp0 (*field, value) == 0)
    {
      g_free (value);
      return;
    }
  g_free (*field);
  *field = value;
  notify (self, prop);
}

static void
set_retry_delay (TernAccountWorker *self,
                 guint              delay)
{
  if (self->retry_delay == delay)
    return;
  self->retry_delay = delay;
  notify (self, WORKER_PROP_RETRY_DELAY);
}

static gboolean
retry_cb (gpointer user_data)
{
  TernAccountWorker *self = user_data;

  g_clear_pointer (&self->retry_source, g_source_unref);
  if (self->pool != NULL)
    g_signal_emit (self->pool, pool_signals[SIGNAL_RECONNECT], 0, self->account);
  return G_SOURCE_REMOVE;
}

static void
cancel_retry (TernAccountWorker *self)
{
  if (self->retry_source == NULL)
    return;
  g_source_destroy (self->retry_source);
  g_clear_pointer (&self->retry_source, g_source_unref);
}

/* After a job: a network failure schedules a reconnect with a longer delay
 * than the last one; anything else ends the series. */
static void
apply_outcome (TernAccountWorker *self,
               Outcome            outcome)
{
  switch (outcome)
    {
    case OUTCOME_NETWORK:
      self->failures++;
      set_retry_delay (self, self->pool ? tern_worker_pool_backoff_delay (self->pool, self->failures) : 0);
      cancel_retry (self);
      if (self->retry_delay == 0)
        break;
      self->retry_source = g_timeout_source_new (self->retry_delay);
      g_source_set_static_name (self->retry_source, "[tern] worker reconnect");
      g_source_set_callback (self->retry_source, retry_cb, g_object_ref (self), g_object_unref);
      g_source_attach (self->retry_source, self->context);
      break;
    case OUTCOME_SUCCESS:
    case OUTCOME_FAILED:
      self->failures = 0;
      set_retry_delay (self, 0);
      cancel_retry (self);
      break;
    case OUTCOME_CANCELLED:
      /* Back to idle, unless an earlier job left an error to show. */
      if (self->state == TERN_WORKER_STATE_CONNECTING || self->state == TERN_WORKER_STATE_SYNCING)
        {
          self->state = TERN_WORKER_STATE_IDLE;
          notify (self, WORKER_PROP_STATE);
        }
      break;
    case OUTCOME_NONE:
      break;
    }
}

static gboolean
flush_cb (gpointer user_data)
{
  TernAccountWorker *self = user_data;
  Changed changed;
  Outcome outcome;
  TernWorkerState state;
  char *folder, *error;
  guint done, total;
  gint64 sync;

  g_mutex_lock (&self->lock);
  changed = self->changed;
  outcome = self->pending_outcome;
  state = self->pending_state;
  folder = g_steal_pointer (&self->pending_folder);
  error = g_steal_pointer (&self->pending_error);
  done = self->pending_done;
  total = self->pending_total;
  sync = self->pending_sync;
  self->changed = 0;
  self->pending_outcome = OUTCOME_NONE;
  g_clear_pointer (&self->flush_source, g_source_unref);
  g_mutex_unlock (&self->lock);

  g_object_freeze_notify (G_OBJECT (self));
  if ((changed & CHANGED_STATE) && self->state != state)
    {
      self->state = state;
      notify (self, WORKER_PROP_STATE);
    }
  if (changed & CHANGED_FOLDER)
    set_string (self, &self->folder, g_steal_pointer (&folder), WORKER_PROP_FOLDER);
  if ((changed & CHANGED_PROGRESS) && self->done != done)
    {
      self->done = done;
      notify (self, WORKER_PROP_DONE);
    }
  if ((changed & CHANGED_PROGRESS) && self->total != total)
    {
      self->total = total;
      notify (self, WORKER_PROP_TOTAL);
    }
  if (changed & CHANGED_LAST_ERROR)
    set_string (self, &self->last_error, g_steal_pointer (&error), WORKER_PROP_LAST_ERROR);
  if ((changed & CHANGED_LAST_SYNC) && self->last_sync != sync)
    {
      self->last_sync = sync;
      notify (self, WORKER_PROP_LAST_SYNC);
    }
  apply_outcome (self, outcome);
  g_object_thaw_notify (G_OBJECT (self));

  g_free (folder);
  g_free (error);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held, from any thread. */
static void
schedule_flush_locked (TernAccountWorker *self,
                       Changed            changed)
{
  self->changed |= changed;
  if (self->flush_source != NULL)
    return;
  self->flush_source = g_idle_source_new ();
  g_source_set_priority (self->flush_source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->flush_source, "[tern] worker notify");
  g_source_set_callback (self->flush_source, flush_cb, g_object_ref (self), g_object_unref);
  g_source_attach (self->flush_source, self->context);
}

static void
worker_set_state (TernAccountWorker *self,
                  TernWorkerState    state)
{
  g_mutex_lock (&self->lock);
  self->pending_state = state;
  schedule_flush_locked (self, CHANGED_STATE);
  g_mutex_unlock (&self->lock);
}

static void
worker_set_folder (TernAccountWorker *self,
                   const char        *folder)
{
  g_mutex_lock (&self->lock);
  g_free (self->pending_folder);
  self->pending_folder = g_strdup (folder);
  schedule_flush_locked (self, CHANGED_FOLDER);
  g_mutex_unlock (&self->lock);
}

static void
worker_set_progress (TernAccountWorker *self,
                     guint              done,
                     guint              total)
{
  g_mutex_lock (&self->lock);
  self->pending_done = done;
  self->pending_total = total;
  schedule_flush_locked (self, CHANGED_PROGRESS);
  g_mutex_unlock (&self->lock);
}

/* The end of a job: state, error and outcome in one flush. */
static void
worker_finish_job (TernAccountWorker *self,
                   Outcome            outcome,
                   const GError      *error)
{
  Changed changed = CHANGED_STATE | CHANGED_FOLDER | CHANGED_PROGRESS;

  g_mutex_lock (&self->lock);
  switch (outcome)
    {
    case OUTCOME_SUCCESS:
      self->pending_state = TERN_WORKER_STATE_IDLE;
      break;
    case OUTCOME_CANCELLED:
    case OUTCOME_NONE:
      /* flush_cb decides, knowing the state shown. */
      changed &= ~CHANGED_STATE;
      break;
    case OUTCOME_NETWORK:
      self->pending_state = TERN_WORKER_STATE_OFFLINE;
      break;
    case OUTCOME_FAILED:
      self->pending_state = TERN_WORKER_STATE_ERROR;
      break;
    }
  g_clear_pointer (&self->pending_folder, g_free);
  self->pending_done = self->pending_total = 0;
  if (outcome == OUTCOME_SUCCESS || outcome == OUTCOME_NETWORK || outcome == OUTCOME_FAILED)
    {
      g_free (self->pending_error);
      self->pending_error = error ? g_strdup (error->message) : NULL;
      changed |= CHANGED_LAST_ERROR;
    }
  if (outcome != OUTCOME_NONE)
    self->pending_outcome = outcome;
  schedule_flush_locked (self, changed);
  g_mutex_unlock (&self->lock);
}

/* ------------------------------------------------------------------ jobs */

TernAccount *
tern_worker_job_get_account (TernWorkerJob *job)
{
  return job->worker->account;
}

void
tern_worker_job_set_state (TernWorkerJob   *job,
                           TernWorkerState  state)
{
  worker_set_state (job->worker, state);
}

void
tern_worker_job_set_folder (TernWorkerJob *job,
                            const char    *folder)
{
  worker_set_folder (job->worker, folder);
}

void
tern_worker_job_set_progress (TernWorkerJob *job,
                              guint          done,
                              guint          total)
{
  worker_set_progress (job->worker, done, total);
}

void
tern_worker_job_mark_synced (TernWorkerJob *job)
{
  TernAccountWorker *self = job->worker;

  g_mutex_lock (&self->lock);
  self->pending_sync = g_get_real_time () / G_USEC_PER_SEC;
  schedule_flush_locked (self, CHANGED_LAST_SYNC);
  g_mutex_unlock (&self->lock);
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
  /* The server said BYE: it is shutting down or dropped us; later it may
   * be back. */
  if (error->domain == TERN_IMAP_ERROR)
    return error->code == TERN_IMAP_ERROR_BYE;
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
run_job (TernWorkerJob *job)
{
  TernAccountWorker *worker = job->worker;
  Outcome outcome;

  if (!g_cancellable_set_error_if_cancelled (job->cancellable, &job->error))
    {
      worker_set_state (worker, TERN_WORKER_STATE_CONNECTING);
      job->ok = job->func (job, job->data, job->cancellable, &job->error);
      g_assert (job->ok == (job->error == NULL));
    }

  if (job->ok)
    outcome = OUTCOME_SUCCESS;
  else if (g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    outcome = OUTCOME_CANCELLED;
  else if (tern_worker_error_is_network (job->error))
    outcome = OUTCOME_NETWORK;
  else
    outcome = OUTCOME_FAILED;
  worker_finish_job (worker, outcome, job->error);
}

/* The GThreadPool function: drains one account's queue. */
static void
drain_worker (gpointer data,
              gpointer user_data)
{
  TernAccountWorker *worker = data;

  for (;;)
    {
      TernWorkerJob *job;
      GSource *source;

      g_mutex_lock (&worker->lock);
      job = g_queue_pop_head (&worker->jobs);
      worker->current = job;
      if (job == NULL)
        worker->running = FALSE;
      g_mutex_unlock (&worker->lock);
      if (job == NULL)
        break;

      run_job (job);

      g_mutex_lock (&worker->lock);
      worker->current = NULL;
      g_mutex_unlock (&worker->lock);

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
cancel_worker_jobs (TernAccountWorker *worker)
{
  g_mutex_lock (&worker->lock);
  if (worker->current != NULL)
    g_cancellable_cancel (worker->current->cancellable);
  for (GList *l = worker->jobs.head; l != NULL; l = l->next)
    g_cancellable_cancel (((TernWorkerJob *) l->data)->cancellable);
  g_mutex_unlock (&worker->lock);
}

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
        cancel_worker_jobs (value);
    }
  /* Jobs hold the pool (through their GTask) until they returned, so this
   * only waits for threads finishing their last lines. */
  if (self->threads != NULL)
    g_thread_pool_free (g_steal_pointer (&self->threads), FALSE, TRUE);
  if (self->workers != NULL)
    {
      g_hash_table_iter_init (&iter, self->workers);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          TernAccountWorker *worker = value;

          worker->pool = NULL;
          cancel_retry (worker);
          g_mutex_lock (&worker->lock);
          if (worker->flush_source != NULL)
            {
              g_source_destroy (worker->flush_source);
              g_clear_pointer (&worker->flush_source, g_source_unref);
            }
          g_mutex_unlock (&worker->lock);
        }
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
      worker = g_object_new (TERN_TYPE_ACCOUNT_WORKER, NULL);
      worker->account = g_object_ref (account);
      worker->context = g_main_context_ref (self->context);
      worker->pool = self;
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
  gboolean start;

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

  g_mutex_lock (&worker->lock);
  g_queue_push_tail (&worker->jobs, job);
  start = !worker->running;
  worker->running = TRUE;
  g_mutex_unlock (&worker->lock);

  /* One work item per account with work; the pool has no thread limit. */
  if (start)
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
    cancel_worker_jobs (worker);
}
