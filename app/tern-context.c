/* tern-context.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-context"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-certificate-pins.h"
#include "tern-context-private.h"

#define DATABASE_NAME "tern.db"

struct _TernContext
{
  GObject parent_instance;

  char *profile_dir;
  char *ca_file;
  TernStore *store;
  TernAccountManager *accounts;
  TernWorkerPool *workers;
};

G_DEFINE_FINAL_TYPE (TernContext, tern_context, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CA_FILE,
  PROP_OFFLINE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* TERN_PROFILE, else $XDG_DATA_HOME/tern. */
char *
tern_context_get_default_profile_dir (void)
{
  const char *env = g_getenv ("TERN_PROFILE");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "tern", NULL);
}

static char *
profile_or_default (const char *profile_dir)
{
  return profile_dir ? g_strdup (profile_dir) : tern_context_get_default_profile_dir ();
}

static void
tern_context_finalize (GObject *object)
{
  TernContext *self = TERN_CONTEXT (object);

  /* Jobs keep the pool alive until they returned, but not the store:
   * cancel them and wait for their threads before the store goes. */
  if (self->workers != NULL)
    g_object_run_dispose (G_OBJECT (self->workers));
  g_clear_object (&self->workers);
  g_clear_object (&self->accounts);
  g_clear_object (&self->store);
  g_free (self->profile_dir);
  g_free (self->ca_file);

  G_OBJECT_CLASS (tern_context_parent_class)->finalize (object);
}

static void
tern_context_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TernContext *self = TERN_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_OFFLINE:
      g_value_set_boolean (value, tern_context_get_offline (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_context_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TernContext *self = TERN_CONTEXT (object);

  switch (prop_id)
    {
    case PROP_CA_FILE:
      tern_context_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_OFFLINE:
      tern_context_set_offline (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_context_class_init (TernContextClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_context_finalize;
  object_class->get_property = tern_context_get_property;
  object_class->set_property = tern_context_set_property;

  /* An extra PEM file of trusted CAs, for private CAs and for tests. */
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* "Work Offline"; the pool's flag, so that job threads see it too. */
  properties[PROP_OFFLINE] =
    g_param_spec_boolean ("offline", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_context_init (TernContext *self)
{
}

TernContext *
tern_context_new (const char  *profile_dir,
                  GError     **error)
{
  g_autoptr(TernContext) self = g_object_new (TERN_TYPE_CONTEXT, NULL);
  g_autofree char *db_path = NULL;

  self->profile_dir = profile_or_default (profile_dir);
  db_path = g_build_filename (self->profile_dir, DATABASE_NAME, NULL);

  self->store = tern_store_open (db_path, error);
  if (self->store == NULL)
    return NULL;
  self->accounts = tern_account_manager_new (self->store, error);
  if (self->accounts == NULL)
    return NULL;
  self->workers = tern_worker_pool_new ();

  return g_steal_pointer (&self);
}

/* Opening without blocking */

static GFunc open_hook;
static gpointer open_hook_data;

void
_tern_context_set_open_hook (GFunc    hook,
                             gpointer data)
{
  open_hook = hook;
  open_hook_data = data;
}

/* The slow part of opening, on a worker: the migrations (and whatever
 * else tern_store_open() does to a profile that needs it), in a store of
 * its own that is closed again.  Its change notifications go to a main
 * context that nobody runs: nothing outside the worker sees this store. */
static void
prepare_store_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *db_path = g_build_filename (task_data, DATABASE_NAME, NULL);
  g_autoptr(TernStore) store = NULL;
  GError *error = NULL;

  g_main_context_push_thread_default (context);
  store = tern_store_open (db_path, &error);
  g_clear_object (&store);
  g_main_context_pop_thread_default (context);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (open_hook != NULL)
    open_hook (task_data, open_hook_data);
  g_task_return_boolean (task, TRUE);
}

static void
store_prepared_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  TernContext *self;

  /* The store is current now: opening it here only reads its version. */
  if (!g_task_propagate_boolean (G_TASK (result), &error) ||
      (self = tern_context_new (g_task_get_task_data (task), &error)) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, self, g_object_unref);
}

void
tern_context_new_async (const char          *profile_dir,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GTask) prepare = NULL;
  char *profile = profile_or_default (profile_dir);

  g_task_set_source_tag (task, tern_context_new_async);
  g_task_set_task_data (task, profile, g_free);
  /* The worker's task holds neither the outer task nor anything the
   * caller's thread frees. */
  prepare = g_task_new (NULL, cancellable, store_prepared_cb, g_steal_pointer (&task));
  g_task_set_source_tag (prepare, tern_context_new_async);
  g_task_set_name (prepare, "[tern] open profile");
  g_task_set_task_data (prepare, g_strdup (profile), g_free);
  g_task_run_in_thread (prepare, prepare_store_thread);
}

TernContext *
tern_context_new_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tern_context_new_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
tern_context_get_profile_dir (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  return self->profile_dir;
}

TernStore *
tern_context_get_store (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  return self->store;
}

TernAccountManager *
tern_context_get_accounts (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  return self->accounts;
}

TernWorkerPool *
tern_context_get_worker_pool (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  return self->workers;
}

const char *
tern_context_get_ca_file (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  return self->ca_file;
}

void
tern_context_set_ca_file (TernContext *self,
                          const char  *ca_file)
{
  g_return_if_fail (TERN_IS_CONTEXT (self));

  if (ca_file != NULL && *ca_file == '\0')
    ca_file = NULL;
  if (g_strcmp0 (self->ca_file, ca_file) == 0)
    return;
  g_free (self->ca_file);
  self->ca_file = g_strdup (ca_file);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CA_FILE]);
}

gboolean
tern_context_get_offline (TernContext *self)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (self), FALSE);
  return tern_worker_pool_get_offline (self->workers);
}

void
tern_context_set_offline (TernContext *self,
                          gboolean     offline)
{
  g_return_if_fail (TERN_IS_CONTEXT (self));

  if (tern_worker_pool_get_offline (self->workers) == !!offline)
    return;
  tern_worker_pool_set_offline (self->workers, offline);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OFFLINE]);
}

/* A connection to @server that trusts what this profile trusts: the system's
 * CAs, the extra CA file, and the one certificate the user accepted for
 * exactly this host and port. */
TernConnection *
tern_context_new_connection (TernContext       *self,
                             const TernServer  *server,
                             GError           **error)
{
  g_autoptr(TernConnection) connection = NULL;
  g_autofree char *pin = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (TERN_IS_CONTEXT (self), NULL);
  g_return_val_if_fail (server != NULL, NULL);

  /* Every connection of the engine starts here (the worker pool refuses
   * its jobs too; this covers IDLE's own connections). */
  if (tern_worker_pool_get_offline (self->workers))
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE,
                           _("Tern is working offline. Turn off Work Offline to connect."));
      return NULL;
    }

  pin = tern_certificate_pins_lookup (self->store, server->host, server->port, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  connection = tern_connection_new (server->host, server->port, server->security);
  tern_connection_set_ca_file (connection, self->ca_file);
  tern_connection_set_pinned_fingerprint (connection, pin);
  return g_steal_pointer (&connection);
}
