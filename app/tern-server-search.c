/* tern-server-search.c: "Search on server" through IMAP SEARCH.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-server-search"

#include "config.h"

#include "tern-server-search.h"

#include <glib/gi18n-lib.h>

void
tern_server_search_async (TernContext         *context,
                          gint64               folder_id,
                          const char          *text,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (text != NULL);

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_server_search_async);
  /* Not there yet: the API is, for the search bar to build on. */
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "Search on server is not available yet.");
  (void) folder_id;
}

TernMessageList *
tern_server_search_finish (TernContext   *context,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, context), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tern_server_search_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
