/* tern-cli-search.c: tern-cli search.
 *
 * Brings the index up to date with the bodies cached since the last run,
 * then prints the matches newest first, as lines or with --json as one
 * JSON array.  With --server (and --folder), the folder's IMAP server
 * searches instead, bodies that are not cached included.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <stdio.h>

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-json.h"
#include "tern-mail-store.h"
#include "tern-search.h"
#include "tern-server-search.h"

#define DEFAULT_LIMIT 50

static char *
format_date (gint64 seconds)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_local (seconds);

  return date ? g_date_time_format (date, "%Y-%m-%d %H:%M") : g_strdup ("");
}

static void
append_item_json (GString         *out,
                  TernMessageItem *item)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (tern_message_item_get_date (item));
  g_autofree char *iso = date ? g_date_time_format_iso8601 (date) : NULL;

  g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",\"folder\":%" G_GINT64_FORMAT ",",
                          tern_message_item_get_id (item), tern_message_item_get_folder_id (item));
  tern_json_append_key (out, "date");
  tern_json_append_string (out, iso);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "from");
  tern_json_append_string (out, tern_message_item_get_sender_name (item));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "from_address");
  tern_json_append_string (out, tern_message_item_get_sender_address (item));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "subject");
  tern_json_append_string (out, tern_message_item_get_subject (item));
  g_string_append_printf (out, ",\"unread\":%s,\"starred\":%s,\"has_attachment\":%s}",
                          tern_message_item_get_unread (item) ? "true" : "false",
                          tern_message_item_get_starred (item) ? "true" : "false",
                          tern_message_item_get_has_attachment (item) ? "true" : "false");
}

static void
append_item_line (GString         *out,
                  TernMessageItem *item)
{
  g_autofree char *date = format_date (tern_message_item_get_date (item));
  const char *sender = tern_message_item_get_sender_name (item);

  if (sender == NULL)
    sender = tern_message_item_get_sender_address (item);
  g_string_append_printf (out, "%-7" G_GINT64_FORMAT " %s %c %s — %s\n",
                          tern_message_item_get_id (item), date,
                          tern_message_item_get_unread (item) ? 'N' : ' ', sender ? sender : "",
                          tern_message_item_get_subject (item) ? tern_message_item_get_subject (item) : "");
}

/* The scope --account and --folder give: a folder, an account or all. */
static gboolean
resolve_scope (TernContext      *tern,
               const char       *account_key,
               const char       *folder_name,
               TernSearchScope  *scope,
               gint64           *scope_id,
               GError          **error)
{
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernMailFolder) folder = NULL;

  *scope = TERN_SEARCH_SCOPE_EVERYWHERE;
  if (account_key == NULL && folder_name == NULL)
    return TRUE;
  if (account_key != NULL)
    {
      account = tern_account_manager_lookup (tern_context_get_accounts (tern), account_key);
      if (account == NULL)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No account “%s”"),
                       account_key);
          return FALSE;
        }
      g_object_ref (account);
    }
  else if ((account = tern_cli_pick_imap_account (tern, NULL, error)) == NULL)
    return FALSE;

  *scope = TERN_SEARCH_SCOPE_ACCOUNT;
  *scope_id = tern_account_get_id (account);
  if (folder_name == NULL)
    return TRUE;
  folder = tern_mail_store_find_folder (tern_context_get_store (tern), *scope_id, folder_name,
                                        error);
  if (folder == NULL)
    return FALSE;
  *scope = TERN_SEARCH_SCOPE_FOLDER;
  *scope_id = folder->id;
  return TRUE;
}

typedef struct
{
  TernMessageList *results;
  GError *error;
  gboolean done;
} ServerResult;

static void
server_search_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ServerResult *out = user_data;

  out->results = tern_server_search_finish (TERN_CONTEXT (source), result, &out->error);
  out->done = TRUE;
}

/* The folder's server searches; the list is made on this thread. */
static TernMessageList *
search_on_server (TernContext  *tern,
                  gint64        folder_id,
                  const char   *query,
                  GError      **error)
{
  ServerResult result = { 0 };

  tern_server_search_async (tern, folder_id, query, NULL, server_search_cb, &result);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  if (result.error != NULL)
    g_propagate_error (error, result.error);
  return result.results;
}

int
tern_cli_search (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  g_autofree char *account_key = NULL;
  g_autofree char *folder_name = NULL;
  int limit = DEFAULT_LIMIT;
  gboolean json = FALSE;
  gboolean server = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("Search this account only (id, UUID or address)"), N_("ACCOUNT") },
    { "folder", 0, 0, G_OPTION_ARG_STRING, &folder_name, N_("Search this folder only"), N_("NAME") },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show the newest N matches (0: all; default 50)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { "server", 0, 0, G_OPTION_ARG_NONE, &server, N_("Let the IMAP server search the folder, bodies that are not downloaded included (needs --folder)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("QUERY — search messages, newest first"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernMessageList) results = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *query = NULL;
  TernSearchScope scope;
  gint64 scope_id = 0;
  guint n;

  g_option_context_set_summary (context,
                                _("Operators: from: to: subject: has:attachment is:unread is:read "
                                  "is:starred before:YYYY-MM-DD after:YYYY-MM-DD, and \"phrases\"."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc < 2)
    return tern_cli_usage_error (context, _("What should be searched for?"));
  if (limit < 0)
    return tern_cli_usage_error (context, _("--limit must not be negative"));
  if (server && folder_name == NULL)
    return tern_cli_usage_error (context, _("--server searches one folder: give it with --folder"));
  query = g_strjoinv (" ", argv + 1);

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      !resolve_scope (tern, account_key, folder_name, &scope, &scope_id, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  if (server)
    results = search_on_server (tern, scope_id, query, &error);
  else if (tern_search_index_bodies (tern_context_get_store (tern), NULL, NULL, &error))
    results = tern_search_run (tern_context_get_store (tern), query, FALSE, scope, scope_id,
                               &error);
  if (results == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  n = g_list_model_get_n_items (G_LIST_MODEL (results));
  if (limit > 0)
    n = MIN (n, (guint) limit);
  if (json)
    g_string_append_c (out, '[');
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (G_LIST_MODEL (results), i);

      if (json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_item_json (out, item);
        }
      else
        append_item_line (out, item);
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return EXIT_SUCCESS;
}
