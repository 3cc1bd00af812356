/* tern-body-fetch.c: the reading pane's body, cached or fetched.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-body-fetch"

#include "config.h"

#include "tern-body-fetch.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"

typedef struct
{
  TernContext *context;
  gint64 message_id;
  GBytes *body;
} FetchData;

static void
fetch_data_free (FetchData *data)
{
  g_clear_object (&data->context);
  g_clear_pointer (&data->body, g_bytes_unref);
  g_free (data);
}

GBytes *
tern_body_fetch_cached (TernContext  *context,
                        gint64        message_id,
                        GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  GBytes *body;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  body = tern_mail_store_get_body (tern_context_get_store (context), message_id, &local_error);
  /* A cached file that went missing is as good as not cached. */
  if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    g_clear_error (&local_error);
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return body;
}

/* The account a message belongs to, through its folder. */
static TernAccount *
lookup_account (TernContext  *context,
                gint64        message_id,
                GError      **error)
{
  TernStore *store = tern_context_get_store (context);
  g_autoptr(TernMailMessage) message = tern_mail_store_get_message (store, message_id, error);
  g_autoptr(TernMailFolder) folder = NULL;
  g_autofree char *key = NULL;
  TernAccount *account;

  if (message == NULL)
    return NULL;
  folder = tern_mail_store_get_folder (store, message->folder_id, error);
  if (folder == NULL)
    return NULL;
  key = g_strdup_printf ("%" G_GINT64_FORMAT, folder->account_id);
  account = tern_account_manager_lookup (tern_context_get_accounts (context), key);
  if (account == NULL)
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                 _("The account of this message was removed."));
  return account;
}

static gboolean
fetch_job (TernWorkerJob  *job,
           gpointer        user_data,
           GCancellable   *cancellable,
           GError        **error)
{
  FetchData *data = user_data;

  data->body = tern_imap_sync_fetch_body (data->context, data->message_id, cancellable, error);
  return data->body != NULL;
}

static void
fetch_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_bytes_ref (data->body), (GDestroyNotify) g_bytes_unref);
}

/* Back on the caller's thread: the cached body, or a job for the
 * account's worker to fetch it.  The account list lives there. */
static void
cache_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) cached = NULL;
  GCancellable *cancellable;
  GError *error = NULL;
  TernAccount *account;

  cached = g_task_propagate_pointer (G_TASK (result), &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (cached != NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&cached), (GDestroyNotify) g_bytes_unref);
      return;
    }
  account = lookup_account (data->context, data->message_id, &error);
  if (account == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
    {
      g_task_return_new_error (task, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                               _("This message was downloaded without its body, and the server "
                                 "no longer offers it."));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  tern_worker_pool_run_async (tern_context_get_worker_pool (data->context), account, fetch_job,
                              data, cancellable, fetch_done_cb, g_steal_pointer (&task));
}

/* The cache is read on a thread: a cached body may be a file of
 * megabytes, and the caller is the UI. */
static void
read_cache_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  FetchData *data = task_data;
  GError *error = NULL;
  GBytes *cached = tern_body_fetch_cached (data->context, data->message_id, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, cached, (GDestroyNotify) g_bytes_unref);
}

void
tern_body_fetch_async (TernContext         *context,
                       gint64               message_id,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) read = NULL;
  FetchData *data;

  g_return_if_fail (TERN_IS_CONTEXT (context));

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_body_fetch_async);
  data = g_new0 (FetchData, 1);
  data->context = g_object_ref (context);
  data->message_id = message_id;
  g_task_set_task_data (task, data, (GDestroyNotify) fetch_data_free);
  /* No source object: the thread pool may drop its reference to @read a
   * moment after the callback ran, and that must not keep @context. */
  read = g_task_new (NULL, cancellable, cache_read_cb, g_steal_pointer (&task));
  g_task_set_task_data (read, data, NULL);
  g_task_run_in_thread (read, read_cache_thread);
}

GBytes *
tern_body_fetch_finish (TernContext   *context,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, context), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tern_body_fetch_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
