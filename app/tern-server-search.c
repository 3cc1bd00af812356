/* tern-server-search.c: "Search on server" through IMAP SEARCH.
 *
 * The query is parsed on the caller's thread (an error there costs no
 * connection); the job, on the account's worker, selects the folder
 * read-only, sends one UID SEARCH and, when the server found messages the
 * store does not have yet, syncs the account's headers so that they can be
 * shown.  The result is a list of the folder's messages whose UIDs the
 * server answered, made back on the caller's thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-server-search"

#include "config.h"

#include "tern-server-search.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-imap-session.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-message-list-private.h"
#include "tern-search.h"

typedef struct
{
  TernContext *context;
  TernMailFolder *folder;
  TernSearchQuery *query;
  TernImapSet *uids;  /* the server's answer */
  GArray *found;      /* guint32: those of its UIDs the store has, ascending */
} ServerSearch;

static void
server_search_free (ServerSearch *search)
{
  g_clear_object (&search->context);
  g_clear_pointer (&search->folder, tern_mail_folder_free);
  g_clear_pointer (&search->query, tern_search_query_free);
  g_clear_pointer (&search->uids, tern_imap_set_free);
  g_clear_pointer (&search->found, g_array_unref);
  g_free (search);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerSearch, server_search_free)

/* Query to SEARCH keys */

/* An RFC 3501 date, whose month names do not depend on the locale. */
static char *
imap_date (gint64 seconds)
{
  static const char * const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (seconds);

  return g_strdup_printf ("%d-%s-%d", g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1], g_date_time_get_year (date));
}

static void
add_key (GArray     *keys,
         const char *key,
         const char *value)
{
  TernImapSearchKey search_key = { key, value };

  g_array_append_val (keys, search_key);
}

/* The keys of @query into @keys (TernImapSearchKey), their strings kept
 * in @strings.  Dates compare with the Date header (SENTBEFORE,
 * SENTSINCE) as the local search does; to: is To or Cc, as the local
 * recipients are; has:attachment has no key: it is checked on the
 * result. */
static void
query_to_keys (TernSearchQuery *query,
               GArray          *keys,
               GPtrArray       *strings)
{
  guint n_terms;
  const TernSearchTerm *terms = tern_search_query_get_terms (query, &n_terms);

  for (guint i = 0; i < n_terms; i++)
    {
      const TernSearchTerm *term = &terms[i];
      char *date;

      switch (term->kind)
        {
        case TERN_SEARCH_TERM_WORDS:
          add_key (keys, "TEXT", term->text);
          break;
        case TERN_SEARCH_TERM_FROM:
          add_key (keys, "FROM", term->text);
          break;
        case TERN_SEARCH_TERM_TO:
          add_key (keys, "OR TO", term->text);
          add_key (keys, "CC", term->text);
          break;
        case TERN_SEARCH_TERM_SUBJECT:
          add_key (keys, "SUBJECT", term->text);
          break;
        case TERN_SEARCH_TERM_UNREAD:
          add_key (keys, "UNSEEN", NULL);
          break;
        case TERN_SEARCH_TERM_READ:
          add_key (keys, "SEEN", NULL);
          break;
        case TERN_SEARCH_TERM_STARRED:
          add_key (keys, "FLAGGED", NULL);
          break;
        case TERN_SEARCH_TERM_ATTACHMENT:
          break;
        case TERN_SEARCH_TERM_BEFORE:
        case TERN_SEARCH_TERM_AFTER:
          date = imap_date (term->seconds);
          g_ptr_array_add (strings, date);
          add_key (keys, term->kind == TERN_SEARCH_TERM_BEFORE ? "SENTBEFORE" : "SENTSINCE", date);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static gboolean
wants_attachments (TernSearchQuery *query)
{
  guint n_terms;
  const TernSearchTerm *terms = tern_search_query_get_terms (query, &n_terms);

  for (guint i = 0; i < n_terms; i++)
    if (terms[i].kind == TERN_SEARCH_TERM_ATTACHMENT)
      return TRUE;
  return FALSE;
}

/* The job */

/* The UIDs of the server's answer that the store has, by range: as many
 * as the folder holds at most, whatever ranges a server sends. */
static gboolean
find_stored_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  ServerSearch *search = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT uid FROM messages"
                             " WHERE folder_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid",
                             error);
  if (stmt == NULL)
    return FALSE;
  g_array_set_size (search->found, 0);
  for (guint i = 0; i < search->uids->ranges->len; i++)
    {
      const TernImapRange *range = &g_array_index (search->uids->ranges, TernImapRange, i);

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, search->folder->id);
      sqlite3_bind_int64 (stmt, 2, range->first);
      sqlite3_bind_int64 (stmt, 3, range->last);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          guint32 uid = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (search->found, uid);
        }
      if (rc != SQLITE_DONE)
        return tern_store_set_error (db, error);
    }
  return TRUE;
}

static TernImapSet *
search_folder (ServerSearch  *search,
               TernAccount   *account,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (TernImapSearchKey));
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  TernImapSelectParams params = { 0 };
  TernImapSelected selected = { 0 };
  TernImapSet *uids;
  gboolean same;

  query_to_keys (search->query, keys, strings);
  client = tern_imap_session_open (search->context, account, cancellable, error);
  if (client == NULL)
    return NULL;
  if (!tern_imap_client_select (client, search->folder->name, TRUE, &params, &selected,
                                cancellable, error))
    return NULL;
  same = selected.uidvalidity == search->folder->uidvalidity;
  tern_imap_selected_clear (&selected);
  if (!same)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("The folder %s changed on the server; sync it and try again."),
                   search->folder->name);
      return NULL;
    }
  uids = tern_imap_client_uid_search (client, (const TernImapSearchKey *) keys->data, keys->len,
                                      cancellable, error);
  tern_imap_client_logout (client, cancellable, NULL);
  return uids;
}

static gboolean
search_job (TernWorkerJob  *job,
            gpointer        user_data,
            GCancellable   *cancellable,
            GError        **error)
{
  ServerSearch *search = user_data;
  TernAccount *account = tern_worker_job_get_account (job);
  TernStore *store;

  tern_worker_job_set_folder (job, search->folder->name);
  search->uids = search_folder (search, account, cancellable, error);
  if (search->uids == NULL)
    return FALSE;

  /* Mail that arrived since the last sync: its headers first. */
  search->found = g_array_new (FALSE, FALSE, sizeof (guint32));
  store = tern_context_get_store (search->context);
  if (!tern_store_read (store, find_stored_cb, search, error))
    return FALSE;
  if (search->found->len < tern_imap_set_count (search->uids) &&
      (!tern_imap_sync_account (search->context, account, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL,
                                NULL, cancellable, error) ||
       !tern_store_read (store, find_stored_cb, search, error)))
    return FALSE;
  return TRUE;
}

/* The result */

/* The folder's messages with the UIDs found, as SQL whose ?2 is
 * @uids_json: a JSON array of the UIDs.  One parameter however many there
 * are and however scattered, where a condition per UID range would hit
 * SQLite's limit on the depth of an expression. */
static char *
result_condition (ServerSearch  *search,
                  char         **uids_json)
{
  GString *json = g_string_new ("[");

  for (guint i = 0; i < search->found->len; i++)
    g_string_append_printf (json, "%s%u", i > 0 ? "," : "",
                            g_array_index (search->found, guint32, i));
  g_string_append_c (json, ']');
  *uids_json = g_string_free (json, FALSE);
  return g_strdup_printf ("m.folder_id = ?1 AND m.uid IN (SELECT value FROM json_each (?2))%s",
                          wants_attachments (search->query) ? " AND m.has_attachments != 0" : "");
}

static void
search_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ServerSearch *search = g_task_get_task_data (task);
  g_autoptr(GPtrArray) bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree char *condition = NULL;
  g_autofree char *uids_json = NULL;
  GError *error = NULL;
  TernMessageList *list;

  if (!tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  condition = result_condition (search, &uids_json);
  g_ptr_array_add (bindings, g_variant_ref_sink (g_variant_new_int64 (search->folder->id)));
  g_ptr_array_add (bindings, g_variant_ref_sink (g_variant_new_string (uids_json)));
  list = _tern_message_list_new_filtered (tern_context_get_store (search->context), condition,
                                          bindings, &search->folder->id, 1, &error);
  if (list == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, list, g_object_unref);
}

static TernAccount *
lookup_account (TernContext     *context,
                TernMailFolder  *folder,
                GError         **error)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, folder->account_id);
  TernAccount *account = tern_account_manager_lookup (tern_context_get_accounts (context), key);

  if (account == NULL)
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                 _("The account of this folder was removed."));
  else if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Only IMAP servers can search: the mail of %s is downloaded by POP3, so "
                     "search what Tern has downloaded instead."),
                   tern_account_get_address (account));
      account = NULL;
    }
  return account;
}

void
tern_server_search_async (TernContext         *context,
                          gint64               folder_id,
                          const char          *text,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(ServerSearch) search = NULL;
  GError *error = NULL;
  TernAccount *account;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (text != NULL);

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_server_search_async);

  search = g_new0 (ServerSearch, 1);
  search->context = g_object_ref (context);
  search->query = tern_search_query_parse (text, FALSE, &error);
  if (search->query != NULL)
    search->folder = tern_mail_store_get_folder (tern_context_get_store (context), folder_id,
                                                 &error);
  account = search->folder != NULL ? lookup_account (context, search->folder, &error) : NULL;
  if (account == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, search, (GDestroyNotify) server_search_free);
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, search_job,
                              g_steal_pointer (&search), cancellable, search_done_cb,
                              g_steal_pointer (&task));
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
