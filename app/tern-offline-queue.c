/* tern-offline-queue.c
 *
 * One row of pending_operations per message and operation; the payload is
 * a GVariant a{sv} in text form:
 *
 *   message      x  the message row the operation is about (the copy's row
 *                   for "copy", the new row for "append")
 *   folder, uid, uidvalidity, message-id
 *                s u u s  where the message was on the server when the
 *                   operation was made (uid 0: not known yet)
 *   add, remove  u u  flags ("flags")
 *   dest         s  destination folder name ("move", "copy"); the row's
 *                   folder_id column is the folder acted on
 *   dest-folder  x  its folder id
 *   flags, date, data   u x s  APPEND flags, internal date, base64 bytes
 *
 * Replay trusts the message row over the payload when the row has a UID
 * (an earlier operation, e.g. a move, mapped it), and falls back to
 * searching for the Message-ID when neither knows the UID in the folder's
 * current UIDVALIDITY.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-offline-queue"

#include "config.h"

#include "tern-offline-queue.h"
#include "tern-offline-queue-private.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-mail-store-private.h"

/* ------------------------------------------------------------ the cache */

void
_tern_offline_row_clear (Row *row)
{
  g_clear_pointer (&row->message_id, g_free);
  g_clear_pointer (&row->folder, g_free);
  g_clear_pointer (&row->role, g_free);
}

/* The message row @id with its folder.  FALSE with TERN_APP_ERROR_NOT_FOUND
 * when there is none. */
gboolean
_tern_offline_load_row (sqlite3  *db,
          gint64    id,
          Row      *row,
          GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT m.folder_id, f.account_id, m.uid, m.flags, m.message_id, f.name,"
                             " f.uidvalidity, f.role"
                             " FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("There is no message %s."),
                   id_text);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return tern_store_set_error (db, error);
  row->id = id;
  row->folder_id = sqlite3_column_int64 (stmt, 0);
  row->account_id = sqlite3_column_int64 (stmt, 1);
  row->uid = (guint32) sqlite3_column_int64 (stmt, 2);
  row->flags = (TernImapFlags) sqlite3_column_int64 (stmt, 3);
  row->message_id = tern_store_dup_text (stmt, 4);
  row->folder = tern_store_dup_text (stmt, 5);
  row->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 6);
  row->role = tern_store_dup_text (stmt, 7);
  return TRUE;
}

typedef struct
{
  gint64 id;
  gint64 account_id;
  char *name;
  char *role;
  guint32 uidvalidity;
} Folder;

static void
folder_clear (Folder *folder)
{
  g_clear_pointer (&folder->name, g_free);
  g_clear_pointer (&folder->role, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Folder, folder_clear)

static gboolean
load_folder_where (sqlite3     *db,
                   const char  *where,
                   gint64       arg,
                   Folder      *folder,
                   GError     **error)
{
  g_autofree char *sql = g_strconcat ("SELECT id, account_id, name, role, uidvalidity FROM folders"
                                      " WHERE ", where, NULL);
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, arg);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("There is no such folder."));
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return tern_store_set_error (db, error);
  folder->id = sqlite3_column_int64 (stmt, 0);
  folder->account_id = sqlite3_column_int64 (stmt, 1);
  folder->name = tern_store_dup_text (stmt, 2);
  folder->role = tern_store_dup_text (stmt, 3);
  folder->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 4);
  return TRUE;
}

static gboolean
load_folder (sqlite3  *db,
             gint64    id,
             Folder   *folder,
             GError  **error)
{
  return load_folder_where (db, "id = ?1", id, folder, error);
}

gboolean
_tern_offline_exec (sqlite3     *db,
            const char  *sql,
            gint64       a,
            gint64       b,
            gint64       c,
            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, a);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    sqlite3_bind_int64 (stmt, 2, b);
  if (sqlite3_bind_parameter_count (stmt) >= 3)
    sqlite3_bind_int64 (stmt, 3, c);
  return tern_store_step_done (stmt, error);
}

static gboolean
insert_op (sqlite3     *db,
           gint64       account_id,
           gint64       folder_id,
           const char  *kind,
           GVariant    *payload,
           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (payload);
  g_autofree char *text = g_variant_print (owned, TRUE);

  stmt = tern_store_prepare (db,
                             "INSERT INTO pending_operations (account_id, folder_id, kind, payload,"
                             " created) VALUES (?1, ?2, ?3, ?4, ?5)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_int64 (stmt, 2, folder_id);
  tern_store_bind_text (stmt, 3, kind);
  tern_store_bind_text (stmt, 4, text);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
  return tern_store_step_done (stmt, error);
}

/* Where @row is on the server, for the payload. */
static void
add_location (GVariantDict *dict,
              const Row    *row)
{
  g_variant_dict_insert (dict, "message", "x", row->id);
  g_variant_dict_insert (dict, "folder", "s", row->folder);
  g_variant_dict_insert (dict, "uid", "u", row->uid);
  g_variant_dict_insert (dict, "uidvalidity", "u", row->uidvalidity);
  g_variant_dict_insert (dict, "message-id", "s", row->message_id ? row->message_id : "");
}

typedef struct
{
  const gint64 *ids;
  guint n_ids;
  TernImapFlags add;
  TernImapFlags remove;
  gint64 folder_id;
  GBytes *message;
  gint64 new_id;
  GHashTable *touched;   /* folder ids to recount */
} Enqueue;

static gboolean
recount_touched (sqlite3  *db,
                 Enqueue  *data,
                 GError  **error)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, data->touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!_tern_mail_store_recount (db, *(gint64 *) key, error))
      return FALSE;
  return TRUE;
}

static void
touch (Enqueue *data,
       gint64   folder_id)
{
  g_hash_table_add (data->touched, g_memdup2 (&folder_id, sizeof folder_id));
}

static gboolean
set_flags_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  Enqueue *data = user_data;

  for (guint i = 0; i < data->n_ids; i++)
    {
      g_auto(Row) row = { 0 };
      g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

      if (!_tern_offline_load_row (db, data->ids[i], &row, error))
        return FALSE;
      if (!_tern_offline_exec (db, "UPDATE messages SET flags = ?2 WHERE id = ?1", row.id,
                       (row.flags | data->add) & ~data->remove, 0, error))
        return FALSE;
      add_location (&dict, &row);
      g_variant_dict_insert (&dict, "add", "u", (guint32) data->add);
      g_variant_dict_insert (&dict, "remove", "u", (guint32) data->remove);
      if (!insert_op (db, row.account_id, row.folder_id, "flags", g_variant_dict_end (&dict), error))
        return FALSE;
      touch (data, row.folder_id);
    }
  return recount_touched (db, data, error);
}

/* A message whose UID is not known yet was moved or appended by an
 * operation still waiting: that operation now goes to @dest instead, so a
 * message moved twice offline moves once. */
static gboolean
retarget_pending (sqlite3       *db,
                  const Row     *row,
                  const Folder  *dest,
                  gboolean      *found,
                  GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *found = FALSE;
  stmt = tern_store_prepare (db,
                             "SELECT id, kind, payload FROM pending_operations"
                             " WHERE account_id = ?1 AND kind IN ('move', 'append') ORDER BY id DESC",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->account_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(GVariant) payload = NULL;
      g_autoptr(GVariantDict) dict = NULL;
      g_autoptr(GVariant) updated = NULL;
      gint64 op_id = sqlite3_column_int64 (stmt, 0);
      const char *kind = (const char *) sqlite3_column_text (stmt, 1);
      gint64 message = 0;
      g_autoptr(sqlite3_stmt) update = NULL;
      g_autofree char *text = NULL;

      payload = g_variant_parse (G_VARIANT_TYPE_VARDICT, (const char *) sqlite3_column_text (stmt, 2),
                                 NULL, NULL, NULL);
      if (payload == NULL)
        continue;
      dict = g_variant_dict_new (payload);
      if (!g_variant_dict_lookup (dict, "message", "x", &message) || message != row->id)
        continue;

      if (g_str_equal (kind, "move"))
        {
          g_variant_dict_insert (dict, "dest", "s", dest->name);
          g_variant_dict_insert (dict, "dest-folder", "x", dest->id);
        }
      else
        g_variant_dict_insert (dict, "folder", "s", dest->name);
      updated = g_variant_ref_sink (g_variant_dict_end (dict));
      text = g_variant_print (updated, TRUE);
      update = tern_store_prepare (db,
                                   g_str_equal (kind, "move")
                                   ? "UPDATE pending_operations SET payload = ?2 WHERE id = ?1"
                                   : "UPDATE pending_operations SET payload = ?2, folder_id = ?3"
                                     " WHERE id = ?1",
                                   error);
      if (update == NULL)
        return FALSE;
      sqlite3_bind_int64 (update, 1, op_id);
      tern_store_bind_text (update, 2, text);
      if (!g_str_equal (kind, "move"))
        sqlite3_bind_int64 (update, 3, dest->id);
      *found = TRUE;
      return tern_store_step_done (update, error);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static gboolean
move_one (sqlite3  *db,
          Enqueue  *data,
          Row      *row,
          Folder   *dest,
          GError  **error)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  gboolean retargeted = FALSE;

  if (dest->account_id != row->account_id)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("Messages can only be moved between folders of the same account."));
      return FALSE;
    }
  if (dest->id == row->folder_id)
    return TRUE;
  if (row->uid == 0 && !retarget_pending (db, row, dest, &retargeted, error))
    return FALSE;
  /* The UID belongs to the old folder; the new one is known after replay. */
  if (!_tern_offline_exec (db, "UPDATE messages SET folder_id = ?2, uid = NULL WHERE id = ?1", row->id,
                   dest->id, 0, error))
    return FALSE;
  touch (data, row->folder_id);
  touch (data, dest->id);
  if (retargeted)
    return TRUE;

  add_location (&dict, row);
  g_variant_dict_insert (&dict, "dest", "s", dest->name);
  g_variant_dict_insert (&dict, "dest-folder", "x", dest->id);
  return insert_op (db, row->account_id, row->folder_id, "move", g_variant_dict_end (&dict), error);
}

static gboolean
move_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  Enqueue *data = user_data;
  g_auto(Folder) dest = { 0 };

  if (!load_folder (db, data->folder_id, &dest, error))
    return FALSE;
  for (guint i = 0; i < data->n_ids; i++)
    {
      g_auto(Row) row = { 0 };

      if (!_tern_offline_load_row (db, data->ids[i], &row, error) || !move_one (db, data, &row, &dest, error))
        return FALSE;
    }
  return recount_touched (db, data, error);
}

static gboolean
copy_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  Enqueue *data = user_data;
  g_auto(Folder) dest = { 0 };

  if (!load_folder (db, data->folder_id, &dest, error))
    return FALSE;
  for (guint i = 0; i < data->n_ids; i++)
    {
      g_auto(Row) row = { 0 };
      g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
      gint64 copy_id;

      if (!_tern_offline_load_row (db, data->ids[i], &row, error))
        return FALSE;
      if (dest.account_id != row.account_id)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("Messages can only be copied between folders of the same account."));
          return FALSE;
        }
      if (!_tern_offline_exec (db,
                       "INSERT INTO messages (folder_id, flags, keywords, internal_date, date, size,"
                       " subject, from_name, from_address, to_list, cc_list, reply_to, message_id,"
                       " in_reply_to, references_list, list_id, thread_id, has_attachments,"
                       " bodystructure, preview)"
                       " SELECT ?2, flags, keywords, internal_date, date, size, subject, from_name,"
                       " from_address, to_list, cc_list, reply_to, message_id, in_reply_to,"
                       " references_list, list_id, thread_id, has_attachments, bodystructure, preview"
                       " FROM messages WHERE id = ?1",
                       row.id, dest.id, 0, error))
        return FALSE;
      copy_id = sqlite3_last_insert_rowid (db);
      if (!_tern_mail_store_count_conversation (db, copy_id, error))
        return FALSE;
      add_location (&dict, &row);
      g_variant_dict_insert (&dict, "source-message", "x", row.id);
      g_variant_dict_insert (&dict, "message", "x", copy_id);
      g_variant_dict_insert (&dict, "dest", "s", dest.name);
      g_variant_dict_insert (&dict, "dest-folder", "x", dest.id);
      if (!insert_op (db, row.account_id, row.folder_id, "copy", g_variant_dict_end (&dict), error))
        return FALSE;
      touch (data, dest.id);
    }
  return recount_touched (db, data, error);
}

/* A message appended offline and deleted before the append was replayed
 * never reaches the server: both go. */
static gboolean
drop_pending_append (sqlite3    *db,
                     const Row  *row,
                     gboolean   *dropped,
                     GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *dropped = FALSE;
  stmt = tern_store_prepare (db,
                             "SELECT id, payload FROM pending_operations"
                             " WHERE account_id = ?1 AND kind = 'append'",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, row->account_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(GVariant) payload = NULL;
      gint64 message = 0;

      payload = g_variant_parse (G_VARIANT_TYPE_VARDICT, (const char *) sqlite3_column_text (stmt, 1),
                                 NULL, NULL, NULL);
      if (payload == NULL || !g_variant_lookup (payload, "message", "x", &message)
          || message != row->id)
        continue;
      *dropped = TRUE;
      return _tern_offline_exec (db, "DELETE FROM pending_operations WHERE id = ?1",
                         sqlite3_column_int64 (stmt, 0), 0, 0, error);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static gboolean
delete_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Enqueue *data = user_data;

  for (guint i = 0; i < data->n_ids; i++)
    {
      g_auto(Row) row = { 0 };
      g_auto(Folder) trash = { 0 };
      g_autoptr(GError) local_error = NULL;
      g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
      gboolean dropped = FALSE;

      if (!_tern_offline_load_row (db, data->ids[i], &row, error))
        return FALSE;
      if (!load_folder_where (db, "account_id = ?1 AND role = 'trash'", row.account_id, &trash,
                              &local_error)
          && !g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (trash.id != 0 && trash.id != row.folder_id)
        {
          if (!move_one (db, data, &row, &trash, error))
            return FALSE;
          continue;
        }

      if (row.uid == 0 && !drop_pending_append (db, &row, &dropped, error))
        return FALSE;
      if (!_tern_offline_exec (db, "DELETE FROM messages WHERE id = ?1", row.id, 0, 0, error))
        return FALSE;
      touch (data, row.folder_id);
      if (dropped)
        continue;
      add_location (&dict, &row);
      if (!insert_op (db, row.account_id, row.folder_id, "expunge", g_variant_dict_end (&dict),
                      error))
        return FALSE;
    }
  return recount_touched (db, data, error);
}

/* GMime 3.2 has no autoptr cleanups. */
static GMimeMessage *
parse_message (GBytes *bytes)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (data, size);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  return message;
}

static gboolean
insert_appended (sqlite3        *db,
                 Enqueue        *data,
                 const Folder   *folder,
                 GMimeMessage   *message,
                 GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autofree char *base64 = NULL;
  InternetAddressList *from = g_mime_message_get_from (message);
  InternetAddress *sender = NULL;
  GDateTime *date = g_mime_message_get_date (message);
  const char *message_id = g_mime_message_get_message_id (message);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data->message, &size);

  if (from != NULL && internet_address_list_length (from) > 0)
    sender = internet_address_list_get_address (from, 0);

  stmt = tern_store_prepare (db,
                             "INSERT INTO messages (folder_id, flags, internal_date, date, size,"
                             " subject, from_name, from_address, message_id)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder->id);
  sqlite3_bind_int64 (stmt, 2, data->add);
  sqlite3_bind_int64 (stmt, 3, now);
  sqlite3_bind_int64 (stmt, 4, date ? g_date_time_to_unix (date) : now);
  sqlite3_bind_int64 (stmt, 5, size);
  tern_store_bind_text (stmt, 6, g_mime_message_get_subject (message));
  tern_store_bind_text (stmt, 7, sender ? internet_address_get_name (sender) : NULL);
  tern_store_bind_text (stmt, 8, sender && INTERNET_ADDRESS_IS_MAILBOX (sender)
                                 ? internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (sender))
                                 : NULL);
  tern_store_bind_text (stmt, 9, message_id);
  if (!tern_store_step_done (stmt, error))
    return FALSE;
  data->new_id = sqlite3_last_insert_rowid (db);
  if (!_tern_mail_store_count_conversation (db, data->new_id, error))
    return FALSE;

  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = tern_store_prepare (db,
                             "INSERT INTO bodies (message_id, data, size, fetched)"
                             " VALUES (?1, ?2, ?3, ?4)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->new_id);
  sqlite3_bind_blob64 (stmt, 2, bytes, size, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, size);
  sqlite3_bind_int64 (stmt, 4, now);
  if (!tern_store_step_done (stmt, error))
    return FALSE;

  base64 = g_base64_encode (bytes, size);
  g_variant_dict_insert (&dict, "message", "x", data->new_id);
  g_variant_dict_insert (&dict, "folder", "s", folder->name);
  g_variant_dict_insert (&dict, "message-id", "s", message_id);
  g_variant_dict_insert (&dict, "flags", "u", (guint32) data->add);
  g_variant_dict_insert (&dict, "date", "x", now);
  g_variant_dict_insert (&dict, "data", "s", base64);
  if (!insert_op (db, folder->account_id, folder->id, "append", g_variant_dict_end (&dict), error))
    return FALSE;
  return _tern_mail_store_recount (db, folder->id, error);
}

static gboolean
append_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Enqueue *data = user_data;
  g_auto(Folder) folder = { 0 };
  GMimeMessage *message;
  const char *message_id;
  gboolean ok;

  if (!load_folder (db, data->folder_id, &folder, error))
    return FALSE;
  message = parse_message (data->message);
  message_id = message ? g_mime_message_get_message_id (message) : NULL;
  if (message_id == NULL || *message_id == '\0')
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The message has no Message-ID header."));
      g_clear_object (&message);
      return FALSE;
    }
  ok = insert_appended (db, data, &folder, message, error);
  g_object_unref (message);
  return ok;
}

static gboolean
enqueue (TernStore      *store,
         TernStoreFunc   func,
         Enqueue        *data,
         GError        **error)
{
  gboolean ok;

  data->touched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  ok = tern_store_write (store, func, data, error);
  g_hash_table_unref (data->touched);
  return ok;
}

gboolean
tern_offline_queue_set_flags (TernStore      *store,
                              const gint64   *message_ids,
                              guint           n_message_ids,
                              TernImapFlags   add,
                              TernImapFlags   remove,
                              GError        **error)
{
  Enqueue data = { .ids = message_ids, .n_ids = n_message_ids, .add = add, .remove = remove };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (message_ids != NULL || n_message_ids == 0, FALSE);
  return enqueue (store, set_flags_cb, &data, error);
}

gboolean
tern_offline_queue_move (TernStore     *store,
                         const gint64  *message_ids,
                         guint          n_message_ids,
                         gint64         folder_id,
                         GError       **error)
{
  Enqueue data = { .ids = message_ids, .n_ids = n_message_ids, .folder_id = folder_id };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (message_ids != NULL || n_message_ids == 0, FALSE);
  return enqueue (store, move_cb, &data, error);
}

gboolean
tern_offline_queue_copy (TernStore     *store,
                         const gint64  *message_ids,
                         guint          n_message_ids,
                         gint64         folder_id,
                         GError       **error)
{
  Enqueue data = { .ids = message_ids, .n_ids = n_message_ids, .folder_id = folder_id };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (message_ids != NULL || n_message_ids == 0, FALSE);
  return enqueue (store, copy_cb, &data, error);
}

gboolean
tern_offline_queue_delete (TernStore     *store,
                           const gint64  *message_ids,
                           guint          n_message_ids,
                           GError       **error)
{
  Enqueue data = { .ids = message_ids, .n_ids = n_message_ids };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (message_ids != NULL || n_message_ids == 0, FALSE);
  return enqueue (store, delete_cb, &data, error);
}

gint64
tern_offline_queue_append (TernStore      *store,
                           gint64          folder_id,
                           GBytes         *message,
                           TernImapFlags   flags,
                           GError        **error)
{
  Enqueue data = { .folder_id = folder_id, .message = message, .add = flags };

  g_return_val_if_fail (TERN_IS_STORE (store), 0);
  g_return_val_if_fail (message != NULL, 0);
  if (!enqueue (store, append_cb, &data, error))
    return 0;
  return data.new_id;
}

static gboolean
count_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  gint64 *count = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db, "SELECT count(*) FROM pending_operations WHERE account_id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, *count);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return tern_store_set_error (db, error);
  *count = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gint64
tern_offline_queue_count (TernStore  *store,
                          gint64      account_id,
                          GError    **error)
{
  gint64 count = account_id;

  g_return_val_if_fail (TERN_IS_STORE (store), -1);
  if (!tern_store_read (store, count_cb, &count, error))
    return -1;
  return count;
}
