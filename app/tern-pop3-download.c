/* tern-pop3-download.c: see tern-pop3-download.h for what is guaranteed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-pop3-download"

#include "config.h"

#include "tern-pop3-download.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/resource.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-batch-writer.h"
#include "tern-mail-store.h"
#include "tern-mail-store-private.h"
#include "tern-search.h"
#include "tern-worker-pool.h"

#define CONNECT_TIMEOUT_SECONDS 20
/* Messages per transaction, or fewer when their bytes reach BATCH_BYTES
 * first: few commits (each is an fdatasync), little lost work on a crash,
 * and a bounded batch in memory. */
#define BATCH_SIZE 500
#define BATCH_BYTES (32 * 1024 * 1024)
/* Batches waiting for the writer thread while the next one is read: one,
 * so that at most three batches' bytes are held. */
#define PENDING_BATCHES 1
#define OPTIONS_GROUP "pop3"
/* The "UIDL" of a message on a server without UIDL: see the header. */
#define DIGEST_PREFIX "tern-sha256:"

/* Stage timers for G_MESSAGES_DEBUG: wall and this thread's CPU. */

typedef struct
{
  gint64 wall;
  gint64 cpu;
} Stamp;

static Stamp
stamp_now (void)
{
  Stamp stamp = { g_get_monotonic_time (), 0 };
  struct rusage usage;

  if (getrusage (RUSAGE_THREAD, &usage) == 0)
    stamp.cpu = (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
                usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  return stamp;
}

static void
stamp_debug (const char *stage,
             Stamp      *since)
{
  Stamp now = stamp_now ();

  g_debug ("%s: %.3f s, CPU %.3f s", stage, (now.wall - since->wall) / (gdouble) G_USEC_PER_SEC,
           (now.cpu - since->cpu) / (gdouble) G_USEC_PER_SEC);
  *since = now;
}

/* Options */

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
  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  options->delete_after_download =
    tern_account_options_get_boolean (key_file, OPTIONS_GROUP, "delete-after-download", FALSE);
  options->delete_when_deleted_locally =
    tern_account_options_get_boolean (key_file, OPTIONS_GROUP, "delete-when-deleted-locally", FALSE);
  options->headers_only =
    tern_account_options_get_boolean (key_file, OPTIONS_GROUP, "headers-only", FALSE);
  days = g_key_file_get_uint64 (key_file, OPTIONS_GROUP, "delete-after-days", &local_error);
  options->delete_after_days = local_error == NULL ? (guint) MIN (days, G_MAXUINT) : 0;
  return TRUE;
}

gboolean
tern_pop3_options_save (TernStore              *store,
                        gint64                  account_id,
                        const TernPop3Options  *options,
                        GError                **error)
{
  g_autoptr(GKeyFile) key_file = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "delete-after-download",
                          options->delete_after_download);
  g_key_file_set_uint64 (key_file, OPTIONS_GROUP, "delete-after-days", options->delete_after_days);
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "delete-when-deleted-locally",
                          options->delete_when_deleted_locally);
  g_key_file_set_boolean (key_file, OPTIONS_GROUP, "headers-only", options->headers_only);
  return tern_account_options_save (store, account_id, key_file, error);
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

/* The UIDLs of every folder of the account, each to its download time;
 * in @trash (optional) those of Trash. */
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

/* UIDLs seen (the pop3_seen table) */

typedef struct
{
  gint64 account_id;
  GHashTable *uidls;  /* to read: UIDL -> first_seen (gint64 *); to prune: those to keep */
  guint pruned;
} Seen;

static gboolean
read_seen_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  Seen *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db, "SELECT uidl, first_seen FROM pop3_seen WHERE account_id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 *first_seen = g_new (gint64, 1);

      *first_seen = sqlite3_column_int64 (stmt, 1);
      g_hash_table_replace (data->uidls, tern_store_dup_text (stmt, 0), first_seen);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

/* Every UIDL the account has stored, even if its message is gone, each
 * to when it was first stored. */
static GHashTable *
seen_uidls (TernStore  *store,
            gint64      account_id,
            GError    **error)
{
  g_autoptr(GHashTable) uidls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Seen data = { account_id, uidls, 0 };

  if (!tern_store_read (store, read_seen_cb, &data, error))
    return NULL;
  return g_steal_pointer (&uidls);
}

static gboolean
prune_seen_cb (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  Seen *data = user_data;
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) delete = NULL;
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  int rc;

  select = tern_store_prepare (db, "SELECT uidl FROM pop3_seen WHERE account_id = ?1", error);
  delete = tern_store_prepare (db, "DELETE FROM pop3_seen WHERE account_id = ?1 AND uidl = ?2",
                               error);
  if (select == NULL || delete == NULL)
    return FALSE;
  sqlite3_bind_int64 (select, 1, data->account_id);
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    if (!g_hash_table_contains (data->uidls, sqlite3_column_text (select, 0)))
      g_ptr_array_add (gone, tern_store_dup_text (select, 0));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);

  sqlite3_bind_int64 (delete, 1, data->account_id);
  for (guint i = 0; i < gone->len; i++)
    {
      tern_store_bind_text (delete, 2, g_ptr_array_index (gone, i));
      if (!tern_store_step_done (delete, error))
        return FALSE;
      sqlite3_reset (delete);
    }
  data->pruned = gone->len;
  return TRUE;
}

/* After a session that ended with QUIT: forgets the UIDLs that are not in
 * @keep, the server's list less what QUIT deleted.  They cannot come back
 * (UIDLs are not reused), and the table stays the size of the maildrop. */
static gboolean
prune_seen (TernStore   *store,
            gint64       account_id,
            GHashTable  *keep,
            GError     **error)
{
  Seen data = { account_id, keep, 0 };

  if (!tern_store_write (store, prune_seen_cb, &data, error))
    return FALSE;
  if (data.pruned > 0)
    g_debug ("Forgot %u UIDLs that account %" G_GINT64_FORMAT " no longer has on the server",
             data.pruned, account_id);
  return TRUE;
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

/* Servers without UIDL */

/* Fields that mbox-based servers add or rewrite when a message is read
 * (Status: RO after a RETR): left out of the digest, so that reading a
 * message does not make it new. */
static gboolean
is_volatile_field (const char *line,
                   gsize       len)
{
  static const char * const fields[] = {
    "Status", "X-Status", "X-Keywords", "X-UID", "X-UIDL", "X-IMAP", "X-IMAPbase",
    "X-Mozilla-Status", "X-Mozilla-Status2",
  };
  const char *colon = memchr (line, ':', len);

  if (colon == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (strlen (fields[i]) == (gsize) (colon - line) &&
        g_ascii_strncasecmp (line, fields[i], colon - line) == 0)
      return TRUE;
  return FALSE;
}

/* DIGEST_PREFIX and the SHA-256 of the header as TOP n 0 gives it, less
 * the volatile fields (with their continuation lines). */
static char *
header_digest (GBytes *header)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize size;
  const char *data = g_bytes_get_data (header, &size);
  const char *end = data + size;
  gboolean skipping = FALSE;

  for (const char *line = data; line < end;)
    {
      const char *newline = memchr (line, '\n', end - line);
      const char *next = newline != NULL ? newline + 1 : end;

      if (line[0] != ' ' && line[0] != '\t')
        skipping = is_volatile_field (line, next - line);
      if (!skipping)
        g_checksum_update (checksum, (const guchar *) line, next - line);
      line = next;
    }
  return g_strconcat (DIGEST_PREFIX, g_checksum_get_string (checksum), NULL);
}

static GOutputStream *
begin_cb (guint     number,
          gpointer  user_data,
          GError  **error)
{
  return g_memory_output_stream_new_resizable ();
}

static gboolean
digest_end_cb (guint           number,
               GOutputStream  *stream,
               gpointer        user_data,
               GError        **error)
{
  GHashTable *digests = user_data;
  g_autoptr(GBytes) header = NULL;

  if (!g_output_stream_close (stream, NULL, error))
    return FALSE;
  header = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
  g_hash_table_replace (digests, GUINT_TO_POINTER (number), header_digest (header));
  return TRUE;
}

/* LIST, then TOP n 0 of every message (pipelined): the entries as UIDL
 * would give them, with header digests for UIDLs.  Messages whose digests
 * are the same get ":2", ":3"... after theirs, in message-number order.
 * @top_refused is set when TOP was answered -ERR. */
static GPtrArray *
digest_entries (TernPop3Client  *client,
                gboolean        *top_refused,
                GCancellable    *cancellable,
                GError         **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GHashTable) digests = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GHashTable) occurrences = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) local_error = NULL;

  *top_refused = FALSE;
  entries = tern_pop3_client_list (client, cancellable, error);
  if (entries == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    g_array_append_val (numbers, ((TernPop3Entry *) g_ptr_array_index (entries, i))->number);
  if (numbers->len > 0 &&
      !tern_pop3_client_retrieve_many (client, (const guint *) numbers->data, numbers->len, TRUE,
                                       begin_cb, digest_end_cb, digests, cancellable,
                                       &local_error))
    {
      *top_refused = g_error_matches (local_error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      TernPop3Entry *entry = g_ptr_array_index (entries, i);
      const char *digest = g_hash_table_lookup (digests, GUINT_TO_POINTER (entry->number));
      guint n;

      g_assert (digest != NULL);  /* every TOP was answered +OK */
      n = GPOINTER_TO_UINT (g_hash_table_lookup (occurrences, digest)) + 1;
      g_hash_table_insert (occurrences, (gpointer) digest, GUINT_TO_POINTER (n));
      entry->uid = n == 1 ? g_strdup (digest) : g_strdup_printf ("%s:%u", digest, n);
    }
  return g_steal_pointer (&entries);
}

/* Every message of the maildrop with its UIDL, or with its header digest
 * when the server has no UIDL (@digests is then set). */
static GPtrArray *
list_messages (TernPop3Client  *client,
               TernAccount     *account,
               gboolean        *digests,
               GCancellable    *cancellable,
               GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  GPtrArray *entries;
  gboolean top_refused = FALSE;

  *digests = FALSE;
  entries = tern_pop3_client_uidl (client, cancellable, &local_error);
  if (entries != NULL)
    return entries;
  if (!g_error_matches (local_error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_clear_error (&local_error);

  if (tern_pop3_client_has_top (client))
    {
      entries = digest_entries (client, &top_refused, cancellable, &local_error);
      if (entries != NULL)
        {
          g_debug ("%s: no UIDL, messages told apart by their headers",
                   tern_account_get_address (account));
          *digests = TRUE;
          return entries;
        }
      if (!top_refused)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED,
               _("%s: the server cannot tell messages apart (it offers neither UIDL nor TOP), so "
                 "Tern cannot download only new mail; use IMAP for this account"),
               tern_account_get_address (account));
  return NULL;
}

/* Download */

typedef struct
{
  TernStore *store;
  gint64 account_id;
  const gint64 *folder_ids;
  gint64 inbox_id;
  gboolean headers_only;
  gboolean digests;   /* no UIDL: uids are header digests */
  GHashTable *uids;   /* message number -> UIDL (borrowed from the entries) */
  TernBatchWriter *writer; /* started by the first batch */
  GPtrArray *batch;   /* of TernMailNewMessage */
  gsize batch_bytes;  /* as retrieved, of the messages in batch */
  GCancellable *cancellable;
  guint done;
  guint total;
  TernPop3DownloadProgress progress;
  gpointer user_data;
  TernPop3DownloadStats *stats;
} Download;

/* Hands the batch to the writer thread, which stores it (the bodies with
 * their text in the search index, from the parse the download made)
 * while the next messages arrive; FALSE once a batch failed to store. */
static gboolean
flush_batch (Download  *download,
             GError   **error)
{
  if (download->batch->len == 0)
    return TRUE;
  if (download->writer == NULL)
    download->writer = tern_batch_writer_start (download->store, download->inbox_id,
                                                PENDING_BATCHES);
  tern_batch_writer_push (download->writer, g_steal_pointer (&download->batch));
  download->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  download->batch_bytes = 0;
  if (tern_batch_writer_failed (download->writer))
    {
      /* The writer's error is the one reported (finish_writes()). */
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
      return FALSE;
    }
  return TRUE;
}

/* Waits for the writer to store what was handed to it. */
static gboolean
finish_writes (Download  *download,
               GError   **error)
{
  guint inserted = 0;
  gboolean ok;

  if (download->writer == NULL)
    return TRUE;
  ok = tern_batch_writer_finish (g_steal_pointer (&download->writer), &inserted, error);
  download->stats->new_messages += inserted;
  return ok;
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
  download->batch_bytes += g_bytes_get_size (raw);
  g_ptr_array_add (download->batch,
                   tern_mail_new_message_from_pop3 (uidl, raw, !download->headers_only,
                                                    g_get_real_time () / G_USEC_PER_SEC));
  download->done++;
  if ((download->batch->len >= BATCH_SIZE || download->batch_bytes >= BATCH_BYTES) &&
      !flush_batch (download, error))
    return FALSE;
  if (download->progress != NULL)
    download->progress (download->done, download->total, download->user_data);
  return TRUE;
}

/* Whether the options ask to delete a stored message: any after download;
 * those first stored long enough ago; those in Trash or deleted for good
 * (seen, but in no folder) when deleted locally.  Header digests only
 * identify a message within one session, so with them only
 * delete-after-download applies. */
static gboolean
should_delete (const TernPop3Options  *options,
               gboolean                digests,
               const char             *uidl,
               gint64                  first_seen,
               GHashTable             *held,
               GHashTable             *trash)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (options->delete_after_download)
    return TRUE;
  if (digests)
    return FALSE;
  if (options->delete_after_days > 0 &&
      now - first_seen >= (gint64) options->delete_after_days * 24 * 60 * 60)
    return TRUE;
  return options->delete_when_deleted_locally &&
         (g_hash_table_contains (trash, uidl) || !g_hash_table_contains (held, uidl));
}

/* The message numbers to DELE: only messages committed to the store (their
 * UIDL is seen) that the options ask to delete; none in headers-only
 * mode, where the bodies are not stored. */
static GArray *
numbers_to_delete (Download               *download,
                   GPtrArray              *entries,
                   const TernPop3Options  *options,
                   GError                **error)
{
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(GHashTable) held = NULL;
  g_autoptr(GHashTable) trash = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));

  if (options->headers_only ||
      (!options->delete_after_download && options->delete_after_days == 0 &&
       !options->delete_when_deleted_locally))
    return g_steal_pointer (&numbers);
  seen = seen_uidls (download->store, download->account_id, error);
  if (seen == NULL)
    return NULL;
  held = stored_uidls (download->store, download->folder_ids, &trash, error);
  if (held == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      const TernPop3Entry *entry = g_ptr_array_index (entries, i);
      const gint64 *first_seen = g_hash_table_lookup (seen, entry->uid);

      if (first_seen != NULL &&
          should_delete (options, download->digests, entry->uid, *first_seen, held, trash))
        g_array_append_val (numbers, entry->number);
    }
  return g_steal_pointer (&numbers);
}

/* The UIDLs still on the server after QUIT: listed and not deleted. */
static GHashTable *
remaining_uidls (GPtrArray *entries,
                 GArray    *deleted)
{
  GHashTable *remaining = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) gone = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < deleted->len; i++)
    g_hash_table_add (gone, GUINT_TO_POINTER (g_array_index (deleted, guint, i)));
  for (guint i = 0; i < entries->len; i++)
    {
      const TernPop3Entry *entry = g_ptr_array_index (entries, i);

      if (!g_hash_table_contains (gone, GUINT_TO_POINTER (entry->number)))
        g_hash_table_add (remaining, entry->uid);
    }
  return remaining;
}

/* Retrieves what @seen does not hold and stores it in batches; what
 * arrived complete is kept even when the rest failed. */
static gboolean
retrieve_new (Download        *download,
              TernPop3Client  *client,
              GPtrArray       *entries,
              GHashTable      *seen,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) retrieve_error = NULL;
  gboolean ok;

  for (guint i = 0; i < entries->len; i++)
    {
      TernPop3Entry *entry = g_ptr_array_index (entries, i);

      if (g_hash_table_contains (seen, entry->uid) || g_hash_table_contains (wanted, entry->uid))
        continue;
      g_hash_table_add (wanted, entry->uid);
      g_hash_table_insert (download->uids, GUINT_TO_POINTER (entry->number), entry->uid);
      g_array_append_val (numbers, entry->number);
    }
  download->total = numbers->len;

  ok = numbers->len == 0 ||
       tern_pop3_client_retrieve_many (client, (const guint *) numbers->data, numbers->len,
                                       download->headers_only, begin_cb, end_cb, download,
                                       cancellable, &retrieve_error);
  /* What arrived whole is stored, also when the rest failed; a store
   * failure is the error to report, it explains a "Stopped". */
  if (!flush_batch (download, ok ? &retrieve_error : NULL))
    ok = FALSE;
  if (!finish_writes (download, error))
    ok = FALSE;
  else if (!ok)
    g_propagate_error (error, g_steal_pointer (&retrieve_error));
  if (!tern_mail_store_update_counts (download->store, download->inbox_id, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static gboolean
download_account (TernContext               *context,
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
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) remaining = NULL;
  g_autoptr(GArray) doomed = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  gint64 started = g_get_monotonic_time ();
  Stamp stage = stamp_now ();
  gint64 account_id;
  gint64 folder_ids[TERN_POP3_N_FOLDERS];
  Download download = { 0 };
  gboolean digests = FALSE;
  gboolean retrieved;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  if (stats == NULL)
    stats = &local_stats;
  *stats = (TernPop3DownloadStats) { 0 };
  store = tern_context_get_store (context);
  account_id = tern_account_get_id (account);
  if (!tern_pop3_options_load (store, account_id, &options, error))
    return FALSE;
  if (!tern_pop3_ensure_all_folders (store, account_id, folder_ids, error))
    return FALSE;

  client = tern_pop3_session_open (context, account, cancellable, error);
  if (client == NULL)
    return FALSE;
  entries = list_messages (client, account, &digests, cancellable, error);
  seen = entries != NULL ? seen_uidls (store, account_id, error) : NULL;
  if (seen == NULL)
    {
      tern_pop3_client_quit (client, NULL, NULL);
      return FALSE;
    }
  stats->on_server = entries->len;
  stats->header_digests = digests;
  stamp_debug ("POP3 session open and list", &stage);

  download = (Download) {
    .store = store,
    .account_id = account_id,
    .folder_ids = folder_ids,
    .inbox_id = folder_ids[TERN_POP3_FOLDER_INBOX],
    .headers_only = options.headers_only,
    .digests = digests,
    .uids = uids,
    .batch = g_steal_pointer (&batch),
    .cancellable = cancellable,
    .progress = progress,
    .user_data = user_data,
    .stats = stats,
  };
  retrieved = retrieve_new (&download, client, entries, seen, cancellable, error);
  g_clear_pointer (&download.batch, g_ptr_array_unref);
  if (!retrieved)
    {
      tern_pop3_client_quit (client, NULL, NULL);
      stats->seconds = (g_get_monotonic_time () - started) / (gdouble) G_USEC_PER_SEC;
      return FALSE;
    }
  stamp_debug ("POP3 retrieve and store", &stage);

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

  remaining = remaining_uidls (entries, doomed);
  if (!prune_seen (store, account_id, remaining, error))
    return FALSE;
  stamp_debug ("POP3 delete, quit and prune", &stage);
  /* Bodies are indexed as they are stored; this finds those whose text
   * could not be read then.  Indexing is not the download's failure: the
   * next download or search catches up. */
  if (stats->new_messages > 0 && !options.headers_only)
    {
      g_autoptr(GError) index_error = NULL;

      if (!tern_search_index_bodies (store, NULL, cancellable, &index_error))
        g_debug ("Bodies not indexed yet: %s", index_error->message);
    }
  stamp_debug ("POP3 search index, the rest", &stage);
  stats->seconds = (g_get_monotonic_time () - started) / (gdouble) G_USEC_PER_SEC;
  return TRUE;
}

/* The charsets stay pinned for the download and its writer thread,
 * which parse every message with GMime. */
gboolean
tern_pop3_download_account (TernContext               *context,
                            TernAccount               *account,
                            TernPop3DownloadProgress   progress,
                            gpointer                   user_data,
                            TernPop3DownloadStats     *stats,
                            GCancellable              *cancellable,
                            GError                   **error)
{
  gboolean ok;

  _tern_mail_pin_charsets ();
  ok = download_account (context, account, progress, user_data, stats, cancellable, error);
  _tern_mail_unpin_charsets ();
  return ok;
}

/* As a worker-pool job */

typedef struct
{
  TernContext *context;
  TernPop3DownloadStats stats;
} DownloadJob;

static void
download_job_free (DownloadJob *job)
{
  g_object_unref (job->context);
  g_free (job);
}

static void
job_progress_cb (guint    done,
                 guint    total,
                 gpointer user_data)
{
  TernWorkerJob *job = user_data;

  tern_worker_job_set_state (job, TERN_WORKER_STATE_SYNCING);
  tern_worker_job_set_progress (job, done, total);
}

static gboolean
download_job_cb (TernWorkerJob  *job,
                 gpointer        data,
                 GCancellable   *cancellable,
                 GError        **error)
{
  DownloadJob *download = data;

  tern_worker_job_set_folder (job, "Inbox");
  if (!tern_pop3_download_account (download->context, tern_worker_job_get_account (job),
                                   job_progress_cb, job, &download->stats, cancellable, error))
    return FALSE;
  tern_worker_job_mark_synced (job);
  return TRUE;
}

static void
download_job_done_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
tern_pop3_download_account_async (TernContext         *context,
                                  TernAccount         *account,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DownloadJob *job;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_pop3_download_account_async);
  job = g_new0 (DownloadJob, 1);
  job->context = g_object_ref (context);
  g_task_set_task_data (task, job, (GDestroyNotify) download_job_free);
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, download_job_cb,
                              job, cancellable, download_job_done_cb, g_steal_pointer (&task));
}

gboolean
tern_pop3_download_account_finish (TernContext            *context,
                                   GAsyncResult           *result,
                                   TernPop3DownloadStats  *stats,
                                   GError                **error)
{
  DownloadJob *job;

  g_return_val_if_fail (g_task_is_valid (result, context), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        tern_pop3_download_account_async, FALSE);

  job = g_task_get_task_data (G_TASK (result));
  if (stats != NULL)
    *stats = job->stats;
  return g_task_propagate_boolean (G_TASK (result), error);
}
