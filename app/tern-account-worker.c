/* tern-account-worker.c
 *
 * A job thread never touches what the main context sees: it writes what
 * changed into the "pending" fields under the lock and schedules one idle
 * source on the pool's context that copies them over and notifies.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-worker"

#include "config.h"

#include "tern-account-worker.h"
#include "tern-account-worker-private.h"

G_DEFINE_ENUM_TYPE (TernWorkerState, tern_worker_state,
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_SYNCING, "syncing"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_ERROR, "error"),
                    G_DEFINE_ENUM_VALUE (TERN_WORKER_STATE_OFFLINE, "offline"))

/* Bits of what changed since the last flush. */
typedef enum {
  CHANGED_STATE = 1 << 0,
  CHANGED_FOLDER = 1 << 1,
  CHANGED_PROGRESS = 1 << 2,
  CHANGED_LAST_ERROR = 1 << 3,
  CHANGED_LAST_SYNC = 1 << 4,
} Changed;

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
  TernWorkerOutcome pending_outcome;
  GSource *flush_source;
};

G_DEFINE_FINAL_TYPE (TernAccountWorker, tern_account_worker, G_TYPE_OBJECT)

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
    _tern_worker_pool_emit_reconnect (self->pool, self->account);
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
               TernWorkerOutcome  outcome)
{
  switch (outcome)
    {
    case TERN_WORKER_OUTCOME_NETWORK:
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
    case TERN_WORKER_OUTCOME_SUCCESS:
    case TERN_WORKER_OUTCOME_FAILED:
      self->failures = 0;
      set_retry_delay (self, 0);
      cancel_retry (self);
      break;
    case TERN_WORKER_OUTCOME_CANCELLED:
      /* Back to idle, unless an earlier job left an error to show. */
      if (self->state == TERN_WORKER_STATE_CONNECTING || self->state == TERN_WORKER_STATE_SYNCING)
        {
          self->state = TERN_WORKER_STATE_IDLE;
          notify (self, WORKER_PROP_STATE);
        }
      break;
    case TERN_WORKER_OUTCOME_NONE:
      break;
    }
}

static gboolean
flush_cb (gpointer user_data)
{
  TernAccountWorker *self = user_data;
  Changed changed;
  TernWorkerOutcome outcome;
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
  self->pending_outcome = TERN_WORKER_OUTCOME_NONE;
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

void
_tern_account_worker_set_state (TernAccountWorker *self,
                  TernWorkerState    state)
{
  g_mutex_lock (&self->lock);
  self->pending_state = state;
  schedule_flush_locked (self, CHANGED_STATE);
  g_mutex_unlock (&self->lock);
}

void
_tern_account_worker_set_folder (TernAccountWorker *self,
                   const char        *folder)
{
  g_mutex_lock (&self->lock);
  g_free (self->pending_folder);
  self->pending_folder = g_strdup (folder);
  schedule_flush_locked (self, CHANGED_FOLDER);
  g_mutex_unlock (&self->lock);
}

void
_tern_account_worker_set_progress (TernAccountWorker *self,
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
void
_tern_account_worker_finish_job (TernAccountWorker *self,
                   TernWorkerOutcome  outcome,
                   const GError      *error)
{
  Changed changed = CHANGED_STATE | CHANGED_FOLDER | CHANGED_PROGRESS;

  g_mutex_lock (&self->lock);
  switch (outcome)
    {
    case TERN_WORKER_OUTCOME_SUCCESS:
      self->pending_state = TERN_WORKER_STATE_IDLE;
      break;
    case TERN_WORKER_OUTCOME_CANCELLED:
    case TERN_WORKER_OUTCOME_NONE:
      /* flush_cb decides, knowing the state shown. */
      changed &= ~CHANGED_STATE;
      break;
    case TERN_WORKER_OUTCOME_NETWORK:
      self->pending_state = TERN_WORKER_STATE_OFFLINE;
      break;
    case TERN_WORKER_OUTCOME_FAILED:
      self->pending_state = TERN_WORKER_STATE_ERROR;
      break;
    }
  g_clear_pointer (&self->pending_folder, g_free);
  self->pending_done = self->pending_total = 0;
  if (outcome == TERN_WORKER_OUTCOME_SUCCESS || outcome == TERN_WORKER_OUTCOME_NETWORK || outcome == TERN_WORKER_OUTCOME_FAILED)
    {
      g_free (self->pending_error);
      self->pending_error = error ? g_strdup (error->message) : NULL;
      changed |= CHANGED_LAST_ERROR;
    }
  if (outcome != TERN_WORKER_OUTCOME_NONE)
    self->pending_outcome = outcome;
  schedule_flush_locked (self, changed);
  g_mutex_unlock (&self->lock);
}

void
_tern_account_worker_mark_synced (TernAccountWorker *self)
{
  g_mutex_lock (&self->lock);
  self->pending_sync = g_get_real_time () / G_USEC_PER_SEC;
  schedule_flush_locked (self, CHANGED_LAST_SYNC);
  g_mutex_unlock (&self->lock);
}

TernAccountWorker *
_tern_account_worker_new (TernWorkerPool *pool,
                          TernAccount    *account,
                          GMainContext   *context)
{
  TernAccountWorker *self = g_object_new (TERN_TYPE_ACCOUNT_WORKER, NULL);

  self->account = g_object_ref (account);
  self->context = g_main_context_ref (context);
  self->pool = pool;
  return self;
}

void
_tern_account_worker_detach (TernAccountWorker *self)
{
  self->pool = NULL;
  cancel_retry (self);
  g_mutex_lock (&self->lock);
  if (self->flush_source != NULL)
    {
      g_source_destroy (self->flush_source);
      g_clear_pointer (&self->flush_source, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
}

gboolean
_tern_account_worker_push (TernAccountWorker *self,
                           TernWorkerJob     *job)
{
  gboolean start;

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->jobs, job);
  start = !self->running;
  self->running = TRUE;
  g_mutex_unlock (&self->lock);
  return start;
}

TernWorkerJob *
_tern_account_worker_pop (TernAccountWorker *self)
{
  TernWorkerJob *job;

  g_mutex_lock (&self->lock);
  job = g_queue_pop_head (&self->jobs);
  self->current = job;
  if (job == NULL)
    self->running = FALSE;
  g_mutex_unlock (&self->lock);
  return job;
}

void
_tern_account_worker_job_done (TernAccountWorker *self)
{
  g_mutex_lock (&self->lock);
  self->current = NULL;
  g_mutex_unlock (&self->lock);
}

void
_tern_account_worker_cancel_jobs (TernAccountWorker *self)
{
  g_mutex_lock (&self->lock);
  if (self->current != NULL)
    g_cancellable_cancel (_tern_worker_job_get_cancellable (self->current));
  for (GList *l = self->jobs.head; l != NULL; l = l->next)
    g_cancellable_cancel (_tern_worker_job_get_cancellable (l->data));
  g_mutex_unlock (&self->lock);
}
