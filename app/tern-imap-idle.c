/* tern-imap-idle.c
 *
 * One thread per watcher runs the blocking client; what it learns goes to
 * the main context as idle sources that the watcher keeps track of, so
 * tern_imap_idle_stop() can withdraw the ones not yet dispatched.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap-idle"

#include "config.h"

#include "tern-imap-idle.h"

#include "tern-imap-client.h"
#include "tern-imap-session.h"
#include "tern-mail-store.h"
#include "tern-worker-pool.h"

#define DEFAULT_IDLE_SECONDS (28 * 60)
#define DEFAULT_POLL_SECONDS 60
#define DEFAULT_RECONNECT_MS (5 * 1000)
#define MAX_RECONNECT_MS (5 * 60 * 1000)

struct _TernImapIdle
{
  GObject parent_instance;

  TernContext *context;
  TernAccount *account;
  char *folder;
  guint idle_seconds;
  guint poll_seconds;
  guint reconnect_ms;
  gboolean allow_idle;

  GMainContext *main_context;
  GThread *thread;
  GCancellable *cancellable;

  /* Main context only. */
  gboolean uses_idle;
  gboolean connected;
  gboolean running;
  char *last_error;
  guint cycles;

  /* Under lock. */
  GMutex lock;
  GCond wake;
  GPtrArray *pending;       /* GSource */

  /* The watcher thread only. */
  TernImapClient *client;
  gint64 folder_id;         /* 0: not in the store */
  guint32 uidnext;
  gboolean exists_changed;
};

G_DEFINE_FINAL_TYPE (TernImapIdle, tern_imap_idle, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FOLDER,
  PROP_USES_IDLE,
  PROP_CONNECTED,
  PROP_LAST_ERROR,
  PROP_CYCLES,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_NEW_MESSAGE,
  SIGNAL_EXPUNGED,
  SIGNAL_FLAGS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------- to the main context */

typedef enum {
  EVENT_NEW_MESSAGE,
  EVENT_EXPUNGED,
  EVENT_FLAGS_CHANGED,
  EVENT_CONNECTED,
  EVENT_DISCONNECTED,
  EVENT_CYCLE,
  EVENT_GAVE_UP,
} EventKind;

typedef struct
{
  TernImapIdle *self;
  GSource *source;          /* unowned */
  EventKind kind;
  guint32 uid;
  gint64 message_id;
  guint flags;
  char *text;               /* subject, or error message */
} Event;

static void
event_free (gpointer data)
{
  Event *event = data;

  g_object_unref (event->self);
  g_free (event->text);
  g_free (event);
}

static void
set_connected (TernImapIdle *self,
               gboolean      connected)
{
  if (self->connected == connected)
    return;
  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
}

static void
set_running (TernImapIdle *self,
             gboolean      running)
{
  if (self->running == running)
    return;
  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static gboolean
dispatch_cb (gpointer data)
{
  Event *event = data;
  TernImapIdle *self = event->self;

  g_mutex_lock (&self->lock);
  if (g_ptr_array_remove_fast (self->pending, event->source))
    g_source_unref (event->source);
  g_mutex_unlock (&self->lock);

  switch (event->kind)
    {
    case EVENT_NEW_MESSAGE:
      g_signal_emit (self, signals[SIGNAL_NEW_MESSAGE], 0, event->uid, event->message_id,
                     event->text);
      break;
    case EVENT_EXPUNGED:
      g_signal_emit (self, signals[SIGNAL_EXPUNGED], 0, event->uid);
      break;
    case EVENT_FLAGS_CHANGED:
      g_signal_emit (self, signals[SIGNAL_FLAGS_CHANGED], 0, event->uid, event->flags);
      break;
    case EVENT_CONNECTED:
      g_object_freeze_notify (G_OBJECT (self));
      set_connected (self, TRUE);
      if (self->uses_idle != (event->flags != 0))
        {
          self->uses_idle = event->flags != 0;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USES_IDLE]);
        }
      if (self->last_error != NULL)
        {
          g_clear_pointer (&self->last_error, g_free);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
        }
      g_object_thaw_notify (G_OBJECT (self));
      break;
    case EVENT_DISCONNECTED:
      g_object_freeze_notify (G_OBJECT (self));
      set_connected (self, FALSE);
      if (g_strcmp0 (self->last_error, event->text) != 0)
        {
          g_free (self->last_error);
          self->last_error = g_strdup (event->text);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
        }
      g_object_thaw_notify (G_OBJECT (self));
      break;
    case EVENT_CYCLE:
      self->cycles++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CYCLES]);
      break;
    case EVENT_GAVE_UP:
      set_running (self, FALSE);
      break;
    }
  return G_SOURCE_REMOVE;
}

/* From the watcher thread; takes @text. */
static void
post (TernImapIdle *self,
      EventKind     kind,
      guint32       uid,
      gint64        message_id,
      guint         flags,
      char         *text)
{
  Event *event = g_new0 (Event, 1);
  GSource *source = g_idle_source_new ();

  event->self = g_object_ref (self);
  event->source = source;
  event->kind = kind;
  event->uid = uid;
  event->message_id = message_id;
  event->flags = flags;
  event->text = text;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[tern] imap idle event");
  g_source_set_callback (source, dispatch_cb, event, event_free);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->pending, source);
  g_source_attach (source, self->main_context);
  g_mutex_unlock (&self->lock);
}

/* ------------------------------------------------------ watcher thread */

static void
exists_cb (guint32  count,
           gpointer user_data)
{
  TernImapIdle *self = user_data;

  self->exists_changed = TRUE;
}

static void
vanished_cb (const TernImapSet *uids,
             gpointer           user_data)
{
  TernImapIdle *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->folder_id != 0
      && !tern_mail_store_remove_uids (tern_context_get_store (self->context), self->folder_id,
                                       uids, &error))
    g_debug ("Cannot remove expunged messages: %s", error->message);
  for (guint i = 0; i < uids->ranges->len; i++)
    {
      const TernImapRange *range = &g_array_index (uids->ranges, TernImapRange, i);

      for (guint64 uid = range->first; uid <= range->last; uid++)
        post (self, EVENT_EXPUNGED, (guint32) uid, 0, 0, NULL);
    }
}

static void
fetch_cb (const TernImapMessage *message,
          gpointer               user_data)
{
  TernImapIdle *self = user_data;

  /* Without a UID (no QRESYNC) the change cannot be placed; the next sync
   * picks it up. */
  if ((message->present & TERN_IMAP_FETCH_UID) && (message->present & TERN_IMAP_FETCH_FLAGS))
    post (self, EVENT_FLAGS_CHANGED, message->uid, 0, message->flags, NULL);
}

static const TernImapClientEvents events = {
  .exists = exists_cb,
  .vanished = vanished_cb,
  .fetch = fetch_cb,
};

/* Sleeps @ms unless cancelled first; FALSE when cancelled. */
static gboolean
sleep_cancellable (TernImapIdle *self,
                   guint         ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  g_mutex_lock (&self->lock);
  while (!g_cancellable_is_cancelled (self->cancellable)
         && g_cond_wait_until (&self->wake, &self->lock, end))
    ;
  g_mutex_unlock (&self->lock);
  return !g_cancellable_is_cancelled (self->cancellable);
}

static void
wake_cb (GCancellable *cancellable,
         gpointer      user_data)
{
  TernImapIdle *self = user_data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->wake);
  g_mutex_unlock (&self->lock);
}

typedef struct
{
  TernImapIdle *self;
  GPtrArray *batch;          /* TernMailNewMessage */
  GArray *uids;
} Collect;

static gboolean
collect_cb (TernImapMessage  *message,
            gpointer          user_data,
            GError          **error)
{
  Collect *collect = user_data;

  if (!(message->present & TERN_IMAP_FETCH_UID) || message->uid < collect->self->uidnext)
    return TRUE;
  g_array_append_val (collect->uids, message->uid);
  g_ptr_array_add (collect->batch, tern_mail_new_message_from_imap (message));
  return TRUE;
}

/* The messages at or above the UIDNEXT we knew: fetch their headers,
 * store them, announce them. */
static gboolean
fetch_new (TernImapIdle  *self,
           GError       **error)
{
  g_autofree char *criteria = g_strdup_printf ("UID %u:*", MAX (self->uidnext, 1));
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GArray) new_uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  Collect collect = { self, batch, new_uids };
  TernStore *store = tern_context_get_store (self->context);
  TernImapFetchItems items = TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS
                             | TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE
                             | TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE
                             | TERN_IMAP_FETCH_HEADERS;

  uids = tern_imap_client_search_uids (self->client, criteria, self->cancellable, error);
  if (uids == NULL)
    return FALSE;
  /* "n:*" matches the highest UID even when it is below n. */
  if (tern_imap_set_is_empty (uids)
      || g_array_index (uids->ranges, TernImapRange, uids->ranges->len - 1).last < self->uidnext)
    return TRUE;
  if (!tern_imap_client_fetch (self->client, uids, items, 0, collect_cb, &collect,
                               self->cancellable, error))
    return FALSE;
  if (self->folder_id != 0
      && !tern_mail_store_add_new_messages (store, self->folder_id, batch, NULL, error))
    return FALSE;

  for (guint i = 0; i < new_uids->len; i++)
    {
      guint32 uid = g_array_index (new_uids, guint32, i);
      g_autoptr(TernMailMessage) message = NULL;

      if (self->folder_id != 0)
        message = tern_mail_store_find_message (store, self->folder_id, uid, NULL);
      post (self, EVENT_NEW_MESSAGE, uid, message ? message->id : 0, 0,
            message ? g_strdup (message->subject) : NULL);
      self->uidnext = MAX (self->uidnext, uid + 1);
    }
  return TRUE;
}

static gint64
find_folder_id (TernImapIdle *self)
{
  g_autoptr(TernMailFolder) folder = NULL;

  folder = tern_mail_store_find_folder (tern_context_get_store (self->context),
                                        tern_account_get_id (self->account), self->folder, NULL);
  return folder ? folder->id : 0;
}

/* One connection's life; returns with @error set when it ends. */
static void
watch (TernImapIdle  *self,
       guint         *failures,
       GError       **error)
{
  TernImapSelected selected = { 0 };
  TernImapSelectParams params = { 0 };
  gboolean uses_idle;

  self->client = tern_imap_session_open (self->context, self->account, self->cancellable, error);
  if (self->client == NULL)
    return;
  tern_imap_client_set_events (self->client, &events, self);
  if (!tern_imap_client_select (self->client, self->folder, TRUE, &params, &selected,
                                self->cancellable, error))
    return;
  self->uidnext = selected.uidnext;
  self->folder_id = find_folder_id (self);
  self->exists_changed = FALSE;
  tern_imap_selected_clear (&selected);
  uses_idle = self->allow_idle && tern_imap_client_has_capability (self->client, "IDLE");
  post (self, EVENT_CONNECTED, 0, 0, uses_idle, NULL);
  *failures = 0;

  for (;;)
    {
      if (uses_idle)
        {
          post (self, EVENT_CYCLE, 0, 0, 0, NULL);
          if (!tern_imap_client_idle (self->client, self->idle_seconds, self->cancellable, error))
            return;
        }
      else if (!sleep_cancellable (self, self->poll_seconds * 1000)
               || !tern_imap_client_noop (self->client, self->cancellable, error))
        {
          g_cancellable_set_error_if_cancelled (self->cancellable, error);
          return;
        }
      if (self->exists_changed)
        {
          self->exists_changed = FALSE;
          if (!fetch_new (self, error))
            return;
        }
    }
}

static gpointer
watcher_thread (gpointer data)
{
  TernImapIdle *self = data;
  guint failures = 0;

  while (!g_cancellable_is_cancelled (self->cancellable))
    {
      g_autoptr(GError) error = NULL;
      guint64 delay;

      watch (self, &failures, &error);
      g_clear_object (&self->client);
      if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        break;
      g_debug ("IDLE on %s: %s", self->folder, error->message);
      post (self, EVENT_DISCONNECTED, 0, 0, 0, g_strdup (error->message));
      if (!tern_worker_error_is_network (error))
        {
          /* Retrying cannot fix a refused login: stop until told again. */
          post (self, EVENT_GAVE_UP, 0, 0, 0, NULL);
          break;
        }
      failures++;
      delay = (guint64) self->reconnect_ms << MIN (failures - 1, 16);
      if (!sleep_cancellable (self, MIN (delay, MAX_RECONNECT_MS)))
        break;
    }
  return NULL;
}

/* ---------------------------------------------------------------- object */

static void
tern_imap_idle_dispose (GObject *object)
{
  TernImapIdle *self = TERN_IMAP_IDLE (object);

  tern_imap_idle_stop (self);
  g_clear_object (&self->context);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (tern_imap_idle_parent_class)->dispose (object);
}

static void
tern_imap_idle_finalize (GObject *object)
{
  TernImapIdle *self = TERN_IMAP_IDLE (object);

  g_free (self->folder);
  g_free (self->last_error);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_ptr_array_unref (self->pending);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->wake);

  G_OBJECT_CLASS (tern_imap_idle_parent_class)->finalize (object);
}

static void
tern_imap_idle_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TernImapIdle *self = TERN_IMAP_IDLE (object);

  switch (prop_id)
    {
    case PROP_FOLDER:
      g_value_set_string (value, self->folder);
      break;
    case PROP_USES_IDLE:
      g_value_set_boolean (value, self->uses_idle);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_CYCLES:
      g_value_set_uint (value, self->cycles);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_imap_idle_class_init (TernImapIdleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = tern_imap_idle_dispose;
  object_class->finalize = tern_imap_idle_finalize;
  object_class->get_property = tern_imap_idle_get_property;

  properties[PROP_FOLDER] = g_param_spec_string ("folder", NULL, NULL, NULL, flags);
  properties[PROP_USES_IDLE] = g_param_spec_boolean ("uses-idle", NULL, NULL, FALSE, flags);
  properties[PROP_CONNECTED] = g_param_spec_boolean ("connected", NULL, NULL, FALSE, flags);
  properties[PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, flags);
  properties[PROP_CYCLES] = g_param_spec_uint ("cycles", NULL, NULL, 0, G_MAXUINT, 0, flags);
  /* From start until stop, or until an error retrying cannot fix. */
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A new message: its UID, its row in the store (0 when the folder is not
   * in the store) and its decoded subject (NULL then). */
  signals[SIGNAL_NEW_MESSAGE] =
    g_signal_new ("new-message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT64, G_TYPE_STRING);
  signals[SIGNAL_EXPUNGED] =
    g_signal_new ("expunged", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT);
  /* The message's flags now (TernImapFlags). */
  signals[SIGNAL_FLAGS_CHANGED] =
    g_signal_new ("flags-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
tern_imap_idle_init (TernImapIdle *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->wake);
  self->pending = g_ptr_array_new ();
  self->idle_seconds = DEFAULT_IDLE_SECONDS;
  self->poll_seconds = DEFAULT_POLL_SECONDS;
  self->reconnect_ms = DEFAULT_RECONNECT_MS;
  self->allow_idle = TRUE;
}

TernImapIdle *
tern_imap_idle_new (TernContext *context,
                    TernAccount *account,
                    const char  *folder)
{
  TernImapIdle *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  self = g_object_new (TERN_TYPE_IMAP_IDLE, NULL);
  self->context = g_object_ref (context);
  self->account = g_object_ref (account);
  self->folder = g_strdup (folder ? folder : "INBOX");
  return self;
}

const char *
tern_imap_idle_get_folder (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), NULL);
  return self->folder;
}

void
tern_imap_idle_set_intervals (TernImapIdle *self,
                              guint         idle_seconds,
                              guint         poll_seconds,
                              guint         reconnect_ms)
{
  g_return_if_fail (TERN_IS_IMAP_IDLE (self));
  g_return_if_fail (self->thread == NULL);
  g_return_if_fail (idle_seconds > 0 && poll_seconds > 0 && reconnect_ms > 0);

  self->idle_seconds = MIN (idle_seconds, DEFAULT_IDLE_SECONDS);
  self->poll_seconds = poll_seconds;
  self->reconnect_ms = reconnect_ms;
}

void
tern_imap_idle_set_use_idle (TernImapIdle *self,
                             gboolean      use_idle)
{
  g_return_if_fail (TERN_IS_IMAP_IDLE (self));
  g_return_if_fail (self->thread == NULL);

  self->allow_idle = !!use_idle;
}

gboolean
tern_imap_idle_get_uses_idle (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), FALSE);
  return self->uses_idle;
}

gboolean
tern_imap_idle_get_connected (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), FALSE);
  return self->connected;
}

const char *
tern_imap_idle_get_last_error (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), NULL);
  return self->last_error;
}

gboolean
tern_imap_idle_get_running (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), FALSE);
  return self->running;
}

guint
tern_imap_idle_get_cycles (TernImapIdle *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_IDLE (self), 0);
  return self->cycles;
}

void
tern_imap_idle_start (TernImapIdle *self)
{
  g_return_if_fail (TERN_IS_IMAP_IDLE (self));
  g_return_if_fail (self->thread == NULL);

  g_clear_pointer (&self->main_context, g_main_context_unref);
  self->main_context = g_main_context_ref_thread_default ();
  self->cancellable = g_cancellable_new ();
  g_cancellable_connect (self->cancellable, G_CALLBACK (wake_cb), self, NULL);
  self->thread = g_thread_new ("tern-imap-idle", watcher_thread, self);
  set_running (self, TRUE);
}

void
tern_imap_idle_stop (TernImapIdle *self)
{
  g_autoptr(GPtrArray) pending = NULL;

  g_return_if_fail (TERN_IS_IMAP_IDLE (self));

  if (self->thread == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_thread_join (g_steal_pointer (&self->thread));
  g_clear_object (&self->cancellable);

  /* Withdraw what was not dispatched yet. */
  g_mutex_lock (&self->lock);
  pending = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new ();
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < pending->len; i++)
    g_source_destroy (g_ptr_array_index (pending, i));
  for (guint i = 0; i < pending->len; i++)
    g_source_unref (g_ptr_array_index (pending, i));
  if (self->connected)
    set_connected (self, FALSE);
  set_running (self, FALSE);
}
