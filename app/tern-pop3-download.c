/* tern-pop3-download.c: see tern-pop3-download.h for what is guaranteed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-pop3-download"

#include "config.h"

#include "tern-pop3-download.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-mail-store.h"

#define CONNECT_TIMEOUT_SECONDS 20
/* Messages per transaction: few commits, little lost work on a crash. */
#define BATCH_SIZE 100
#define OPTIONS_GROUP "pop3"

/* Options */

typedef struct
{
  gint64 account_id;
  char *options;
} AccountOptions;

static gboolean
read_options_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  AccountOptions *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT options FROM accounts WHERE id = ?1",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No such account"));
      return FALSE;
    }
  data->options = tern_store_dup_text (stmt, 0);
  return TRUE;
}

static GKeyFile *
load_key_file (TernStore  *store,
               gint64      account_id,
               GError    **error)
{
  AccountOptions data = { account_id, NULL };
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autofree char *text = NULL;

  if (!tern_store_read (store, read_options_cb, &data, error))
    return NULL;
  text = data.options;
  if (text != NULL && text[0] != '\0' &&
      !g_key_file_load_from_data (key_file, text, -1, G_KEY_FILE_KEEP_COMMENTS, error))
    return NULL;
  return g_steal_pointer (&key_file);
}

static gboolean
get_boolean (GKeyFile   *key_file,
             const char *key,
             gboolean    fallback)
{
  g_autoptr(GError) error = NULL;
  gboolean value = g_key_file_get_boolean (key_file, OPTIONS_GROUP, key, &error);

  return error != NULL ? fallback : value;
}

gboolean
tern_pop3_options_load (TernStore        *store,
                        gint64            account_id,
                        TernPop3Options  *options,
                        GError          **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GError) local_error = NULL;
  guint64 days;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  *options = (TernPop3Options) { 0 };
  key_file = load_key_file (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  options->delete_after_download = get_boolean (key_file, "delete-after-download", FALSE);
  options->delete_when_deleted_locally = get_boolean (key_file, "delete-when-deleted-locally", FALSE);
  options->headers_only = get_boolean (key_file, "headers-only", FALSE);
  days = g_key_file_get_uint64 (key_file, OPTIONS_GROUP, "delete-after-days", &local_error);
  options->delete_after_days = local_error == NULL ? (guint) MIN (days, G_MAXUINT) : 0;
  return TRUE;
}

typedef struct
{
  gint64 account_id;
  const char *options;
} WriteOptions;

static gboolean
write_options_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  WriteOptions *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db,
                                                     "UPDATE accounts SET options = ?2 WHERE id = ?1",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  tern_store_bind_text (stmt, 2, data->options);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_pop3_options_save (TernStore              *store,
                        gint64                  account_id,
                        const TernPop3Options  *options,
                        GError                **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *text = NULL;
  WriteOptions data;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  /* Read and write are two transactions: options are only changed from
   * the main thread, one account at a time. */
  key_file = load_key_file (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "delete-after-download",
                          options->delete_after_download);
  g_key_file_set_uint64 (key_file, OPTIONS_GROUP, "delete-after-days", options->delete_after_days);
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "delete-when-deleted-locally",
                          options->delete_when_deleted_locally);
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "headers-only", options->headers_only);
  text = g_key_file_to_data (key_file, NULL, NULL);
  data = (WriteOptions) { account_id, text };
  return tern_store_write (store, write_options_cb, &data, error);
}

/* Folders */

gint64
tern_pop3_ensure_folders (TernStore  *store,
                          gint64      account_id,
                          GError    **error)
{
  gint64 ids[TERN_POP3_N_FOLDERS];

  if (!tern_pop3_ensure_all_folders (store, account_id, ids, error))
    return 0;
  return ids[0];
}

gboolean
tern_pop3_ensure_all_folders (TernStore  *store,
                              gint64      account_id,
                              gint64     *ids,
                              GError    **error)
{
  static const struct
  {
    const char *name;
    const char *role;
  } folders[] = {
    { "Inbox", "inbox" },
    { "Sent", "sent" },
    { "Drafts", "drafts" },
    { "Trash", "trash" },
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (folders) == TERN_POP3_N_FOLDERS);

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      g_autoptr(TernMailFolder) folder = NULL;
      g_autoptr(GError) local_error = NULL;
      gint64 id;

      folder = tern_mail_store_find_folder_by_role (store, account_id, folders[i].role,
                                                    &local_error);
      if (folder != NULL)
        id = folder->id;
      else if (g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
        {
          g_autoptr(TernMailFolder) new_folder = tern_mail_folder_new ();

          new_folder->account_id = account_id;
          new_folder->name = g_strdup (folders[i].name);
          new_folder->role = g_strdup (folders[i].role);
          new_folder->subscribed = TRUE;
          id = tern_mail_store_upsert_folder (store, new_folder, error);
          if (id == 0)
            return FALSE;
        }
      else
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      ids[i] = id;
    }
  return TRUE;
}

/* The UIDLs of every folder of the account (a message moved to Trash is
 * not new again), each to its download time; in @trash (optional) those
 * of Trash. */
static GHashTable *
stored_uidls (TernStore     *store,
              const gint64  *folder_ids,
              GHashTable   **trash,
              GError       **error)
{
  g_autoptr(GHashTable) all = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint i = 0; i < TERN_POP3_N_FOLDERS; i++)
    {
      g_autoptr(GHashTable) uidls = tern_mail_store_get_pop3_uidls (store, folder_ids[i], error);
      GHashTableIter iter;
      gpointer key, value;

      if (uidls == NULL)
        return NULL;
      if (i == TERN_POP3_FOLDER_TRASH && trash != NULL)
        *trash = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_iter_init (&iter, uidls);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          if (i == TERN_POP3_FOLDER_TRASH && trash != NULL)
            g_hash_table_add (*trash, g_strdup (key));
          g_hash_table_iter_steal (&iter);
          g_hash_table_replace (all, key, value);
        }
    }
  return g_steal_pointer (&all);
}

/* Session */

TernPop3Client *
tern_pop3_session_open (TernContext   *context,
                        TernAccount   *account,
                        GCancellable  *cancellable,
                        GError       **error)
{
  const TernServer *server;
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernPop3Client) client = NULL;
  g_autofree char *password = NULL;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_POP3)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The account %s does not use POP3"), tern_account_get_address (account));
      return NULL;
    }
  server = tern_account_get_incoming (account);
  password = tern_account_manager_get_password (tern_context_get_accounts (context), account,
                                                TERN_SECRET_ROLE_INCOMING, cancellable, error);
  if (password == NULL)
    return NULL;
  connection = tern_context_new_connection (context, server, error);
  if (connection == NULL)
    return NULL;
  tern_connection_set_connect_timeout (connection, CONNECT_TIMEOUT_SECONDS);
  client = tern_pop3_client_new (connection);
  if (!tern_pop3_client_open (client, cancellable, error) ||
      !tern_pop3_client_login (client,
                               server->username ? server->username
                                                : tern_account_get_address (account),
                               password, server->auth, cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

/* Download */

typedef struct
{
  TernStore *store;
  const gint64 *folder_ids;
  gint64 inbox_id;
  gboolean headers_only;
  GHashTable *uids;   /* message number -> UIDL (borrowed from the entries) */
  GPtrArray *batch;   /* of TernMailNewMessage */
  guint done;
  guint total;
  TernPop3DownloadProgress progress;
  gpointer user_data;
  TernPop3DownloadStats *stats;
} Download;

static gboolean
flush_batch (Download  *download,
             GError   **error)
{
  guint inserted = 0;

  if (download->batch->len == 0)
    return TRUE;
  if (!tern_mail_store_add_new_messages (download->store, download->inbox_id, download->batch,
                                         &inserted, error))
    return FALSE;
  download->stats->new_messages += inserted;
  g_ptr_array_set_size (download->batch, 0);
  return TRUE;
}

static GOutputStream *
begin_cb (guint     number,
          gpointer  user_data,
          GError  **error)
{
  return g_memory_output_stream_new_resizable ();
}

static gboolean
end_cb (guint           number,
        GOutputStream  *stream,
        gpointer        user_data,
        GError        **error)
{
  Download *download = user_data;
  const char *uidl = g_hash_table_lookup (download->uids, GUINT_TO_POINTER (number));
  g_autoptr(GBytes) raw = NULL;

  if (!g_output_stream_close (stream, NULL, error))
    return FALSE;
  raw = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
  download->stats->bytes += g_bytes_get_size (raw);
  g_ptr_array_add (download->batch,
                   tern_mail_new_message_from_pop3 (uidl, raw, !download->headers_only,
                                                    g_get_real_time () / G_USEC_PER_SEC));
  download->done++;
  if (download->batch->len >= BATCH_SIZE && !flush_batch (download, error))
    return FALSE;
  if (download->progress != NULL)
    download->progress (download->done, download->total, download->user_data);
  return TRUE;
}

/* The message numbers to DELE: stored locally, and old enough or any
 * when deleting after download; or in Trash when deleted locally. */
static GArray *
numbers_to_delete (Download               *download,
                   GPtrArray              *entries,
                   const TernPop3Options  *options,
                   GError                **error)
{
  g_autoptr(GHashTable) stored = NULL;
  g_autoptr(GHashTable) trash = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (options->headers_only ||
      (!options->delete_after_download && options->delete_after_days == 0 &&
       !options->delete_when_deleted_locally))
    return g_steal_pointer (&numbers);
  stored = stored_uidls (download->store, download->folder_ids, &trash, error);
  if (stored == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      const TernPop3Entry *entry = g_ptr_array_index (entries, i);
      const gint64 *downloaded = g_hash_table_lookup (stored, entry->uid);

      if (downloaded == NULL)
        continue;
      if (options->delete_after_download ||
          (options->delete_when_deleted_locally && g_hash_table_contains (trash, entry->uid)) ||
          (options->delete_after_days > 0 &&
           now - *downloaded >= (gint64) options->delete_after_days * 24 * 60 * 60))
        g_array_append_val (numbers, entry->number);
    }
  return g_steal_pointer (&numbers);
}

gboolean
tern_pop3_download_account (TernContext               *context,
                            TernAccount               *account,
                            TernPop3DownloadProgress   progress,
                            gpointer                   user_data,
                            TernPop3DownloadStats     *stats,
                            GCancellable              *cancellable,
                            GError                   **error)
{
  TernStore *store;
  TernPop3Options options;
  TernPop3DownloadStats local_stats = { 0 };
  g_autoptr(TernPop3Client) client = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GHashTable) stored = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) doomed = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 started = g_get_monotonic_time ();
  gint64 folder_ids[TERN_POP3_N_FOLDERS];
  gint64 inbox_id;
  Download download = { 0 };
  gboolean ok;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  if (stats == NULL)
    stats = &local_stats;
  *stats = (TernPop3DownloadStats) { 0 };
  store = tern_context_get_store (context);
  if (!tern_pop3_options_load (store, tern_account_get_id (account), &options, error))
    return FALSE;
  if (!tern_pop3_ensure_all_folders (store, tern_account_get_id (account), folder_ids, error))
    return FALSE;
  inbox_id = folder_ids[TERN_POP3_FOLDER_INBOX];

  client = tern_pop3_session_open (context, account, cancellable, error);
  if (client == NULL)
    return FALSE;
  entries = tern_pop3_client_uidl (client, cancellable, &local_error);
  if (entries == NULL)
    {
      if (g_error_matches (local_error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED))
        g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED,
                     _("%s: the server cannot tell messages apart (no UIDL), so Tern cannot "
                       "download only new mail; use IMAP for this account"),
                     tern_account_get_address (account));
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      tern_pop3_client_quit (client, NULL, NULL);
      return FALSE;
    }
  stats->on_server = entries->len;

  stored = stored_uidls (store, folder_ids, NULL, error);
  if (stored == NULL)
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      TernPop3Entry *entry = g_ptr_array_index (entries, i);

      if (g_hash_table_contains (stored, entry->uid) || g_hash_table_contains (wanted, entry->uid))
        continue;
      g_hash_table_add (wanted, entry->uid);
      g_hash_table_insert (uids, GUINT_TO_POINTER (entry->number), entry->uid);
      g_array_append_val (numbers, entry->number);
    }

  download = (Download) {
    .store = store,
    .folder_ids = folder_ids,
    .inbox_id = inbox_id,
    .headers_only = options.headers_only,
    .uids = uids,
    .batch = batch,
    .total = numbers->len,
    .progress = progress,
    .user_data = user_data,
    .stats = stats,
  };
  ok = numbers->len == 0 ||
       tern_pop3_client_retrieve_many (client, (const guint *) numbers->data, numbers->len,
                                       options.headers_only, begin_cb, end_cb, &download,
                                       cancellable, error);
  /* What arrived complete is kept even when the rest failed. */
  if (!flush_batch (&download, ok ? error : NULL))
    ok = FALSE;
  if (!tern_mail_store_update_counts (store, inbox_id, ok ? error : NULL))
    ok = FALSE;
  if (!ok)
    {
      tern_pop3_client_quit (client, NULL, NULL);
      stats->seconds = (g_get_monotonic_time () - started) / (gdouble) G_USEC_PER_SEC;
      return FALSE;
    }

  doomed = numbers_to_delete (&download, entries, &options, error);
  if (doomed == NULL ||
      (doomed->len > 0 &&
       !tern_pop3_client_delete (client, (const guint *) doomed->data, doomed->len,
                                 cancellable, error)))
    {
      /* Without QUIT nothing is deleted. */
      tern_pop3_client_reset (client, NULL, NULL);
      tern_pop3_client_quit (client, NULL, NULL);
      return FALSE;
    }
  if (!tern_pop3_client_quit (client, cancellable, error))
    return FALSE;
  stats->deleted = doomed->len;
  stats->seconds = (g_get_monotonic_time () - started) / (gdouble) G_USEC_PER_SEC;
  return TRUE;
}
