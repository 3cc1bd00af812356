/* tern-mail-store.c: folders and messages of IMAP accounts in the store.
 *
 * The envelope strings the IMAP layer hands over are raw header bytes; they
 * are decoded (RFC 2047) here with GMime, once, so that every reader of the
 * store sees UTF-8.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-mail-store"

#include "config.h"

#include "tern-mail-store.h"
#include "tern-mail-store-private.h"

#include <gmime/gmime.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tern-app-error.h"

void
_tern_mail_ensure_gmime (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_mime_init ();
      g_once_init_leave (&once, 1);
    }
}

/* glibc loads a charset's converter (a gconv module) on iconv_open() and
 * unloads it soon after the last iconv_close(); GMime opens and closes
 * one per encoded word or body it converts, so a header sync spent a
 * tenth of its time in dlopen() and dlclose(), and a POP3 download (its
 * parse and the search indexer's) about 6 %.  While anything is pinned,
 * one converter per common legacy charset keeps their modules loaded
 * (about 2 ms to open them all). */
static const char *const pinned_charsets[] = {
  "ISO-8859-1", "ISO-8859-2", "ISO-8859-5", "ISO-8859-7", "ISO-8859-9", "ISO-8859-15",
  "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254",
  "WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "KOI8-R", "KOI8-U",
  "GB18030", "GBK", "BIG5", "SHIFT_JIS", "EUC-JP", "ISO-2022-JP", "EUC-KR",
};
static GMutex pin_lock;
static guint pin_count;
static GArray *pinned_converters; /* of GIConv */

void
_tern_mail_pin_charsets (void)
{
  g_mutex_lock (&pin_lock);
  if (pin_count++ == 0)
    {
      pinned_converters = g_array_new (FALSE, FALSE, sizeof (GIConv));
      for (guint i = 0; i < G_N_ELEMENTS (pinned_charsets); i++)
        {
          GIConv converter = g_iconv_open ("UTF-8", pinned_charsets[i]);

          if (converter != (GIConv) -1)
            g_array_append_val (pinned_converters, converter);
        }
    }
  g_mutex_unlock (&pin_lock);
}

void
_tern_mail_unpin_charsets (void)
{
  g_mutex_lock (&pin_lock);
  g_assert (pin_count > 0);
  if (--pin_count == 0)
    {
      for (guint i = 0; i < pinned_converters->len; i++)
        g_iconv_close (g_array_index (pinned_converters, GIConv, i));
      g_clear_pointer (&pinned_converters, g_array_unref);
    }
  g_mutex_unlock (&pin_lock);
}

TernMailFolder *
tern_mail_folder_new (void)
{
  return g_new0 (TernMailFolder, 1);
}

void
tern_mail_folder_free (TernMailFolder *folder)
{
  if (folder == NULL)
    return;
  g_free (folder->name);
  g_free (folder->role);
  g_free (folder);
}

TernMailMessage *
tern_mail_message_new (void)
{
  return g_new0 (TernMailMessage, 1);
}

void
tern_mail_message_free (TernMailMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->keywords);
  g_free (message->subject);
  g_free (message->from_name);
  g_free (message->from_address);
  g_free (message->to_list);
  g_free (message->cc_list);
  g_free (message->message_id);
  g_free (message->in_reply_to);
  g_free (message->references_list);
  g_free (message->list_id);
  g_free (message);
}

char *
_tern_mail_join_keywords (GPtrArray *keywords)
{
  GString *out;

  if (keywords == NULL || keywords->len == 0)
    return NULL;
  out = g_string_new (NULL);
  for (guint i = 0; i < keywords->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, g_ptr_array_index (keywords, i));
    }
  return g_string_free (out, FALSE);
}

TernMailFlagUpdate *
tern_mail_flag_update_new_from_imap (const TernImapMessage *message)
{
  TernMailFlagUpdate *update = g_new0 (TernMailFlagUpdate, 1);

  update->uid = message->uid;
  update->flags = message->flags & SYSTEM_FLAGS_MASK;
  update->keywords = _tern_mail_join_keywords (message->keywords);
  update->modseq = message->modseq;
  return update;
}

void
tern_mail_flag_update_free (TernMailFlagUpdate *update)
{
  if (update == NULL)
    return;
  g_free (update->keywords);
  g_free (update);
}

/* Folders */

/* Text that outlives the statement's use of it (the batch's decoded
 * messages outlive its statements): bound without SQLite's copy. */
static void
bind_static_text (sqlite3_stmt *stmt,
                  int           index,
                  const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static void
bind_optional_int (sqlite3_stmt *stmt,
                   int           index,
                   gint64        value)
{
  if (value == 0)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, value);
}

typedef struct
{
  const TernMailFolder *folder;
  gint64 id;
} UpsertFolder;

static gboolean
upsert_folder_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  UpsertFolder *data = user_data;
  const TernMailFolder *folder = data->folder;
  char delimiter[2] = { folder->delimiter, '\0' };
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "INSERT INTO folders (account_id, name, delimiter, role, attributes, subscribed)"
                             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                             " ON CONFLICT (account_id, name) DO UPDATE SET"
                             " delimiter = ?3, role = ?4, attributes = ?5, subscribed = ?6"
                             " RETURNING id",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder->account_id);
  tern_store_bind_text (stmt, 2, folder->name);
  tern_store_bind_text (stmt, 3, folder->delimiter ? delimiter : NULL);
  tern_store_bind_text (stmt, 4, folder->role);
  sqlite3_bind_int64 (stmt, 5, folder->attributes);
  sqlite3_bind_int (stmt, 6, folder->subscribed ? 1 : 0);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return tern_store_set_error (db, error);
  data->id = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gint64
tern_mail_store_upsert_folder (TernStore             *store,
                               const TernMailFolder  *folder,
                               GError               **error)
{
  UpsertFolder data = { folder, 0 };

  g_return_val_if_fail (TERN_IS_STORE (store), 0);
  g_return_val_if_fail (folder != NULL && folder->name != NULL, 0);

  if (!tern_store_write (store, upsert_folder_cb, &data, error))
    return 0;
  return data.id;
}

/* Files of cached bodies belong to the store: whatever deletes rows with
 * files (a folder, a UIDVALIDITY reset) removes the files after commit. */
static char *
resolve_body_path (TernStore  *store,
                   const char *relative)
{
  g_autofree char *dir = g_path_get_dirname (tern_store_get_path (store));

  return g_build_filename (dir, relative, NULL);
}

static void
unlink_body_files (TernStore *store,
                   GPtrArray *paths)
{
  for (guint i = 0; paths != NULL && i < paths->len; i++)
    {
      g_autofree char *path = resolve_body_path (store, g_ptr_array_index (paths, i));

      if (g_unlink (path) != 0)
        g_debug ("Cannot remove %s: %s", path, g_strerror (errno));
    }
}

static gboolean
collect_paths (sqlite3     *db,
               const char  *sql,
               gint64       key,
               GPtrArray   *paths,
               GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (paths, tern_store_dup_text (stmt, 0));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

typedef struct
{
  gint64 account_id;
  const char * const *keep;
  GPtrArray *paths;
} RemoveFolders;

static gboolean
remove_folders_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  RemoveFolders *data = user_data;
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) delete = NULL;
  g_autoptr(GArray) doomed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  int rc;

  for (gsize i = 0; data->keep != NULL && data->keep[i] != NULL; i++)
    g_hash_table_add (keep, (gpointer) data->keep[i]);

  select = tern_store_prepare (db, "SELECT id, name FROM folders WHERE account_id = ?", error);
  delete = tern_store_prepare (db, "DELETE FROM folders WHERE id = ?", error);
  if (select == NULL || delete == NULL)
    return FALSE;
  sqlite3_bind_int64 (select, 1, data->account_id);
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (select, 0);

      if (!g_hash_table_contains (keep, sqlite3_column_text (select, 1)))
        g_array_append_val (doomed, id);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);

  for (guint i = 0; i < doomed->len; i++)
    {
      gint64 id = g_array_index (doomed, gint64, i);

      if (!collect_paths (db,
                          "SELECT b.path FROM bodies b JOIN messages m ON m.id = b.message_id"
                          " WHERE m.folder_id = ? AND b.path IS NOT NULL",
                          id, data->paths, error))
        return FALSE;
      sqlite3_reset (delete);
      sqlite3_bind_int64 (delete, 1, id);
      if (!tern_store_step_done (delete, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tern_mail_store_remove_folders_except (TernStore           *store,
                                       gint64               account_id,
                                       const char * const  *keep,
                                       GError             **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  RemoveFolders data = { account_id, keep, paths };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  if (!tern_store_write (store, remove_folders_cb, &data, error))
    return FALSE;
  unlink_body_files (store, paths);
  return TRUE;
}

typedef struct
{
  gint64 folder_id;
  guint32 uidvalidity;
  GPtrArray *paths;
} FolderOp;

static gboolean
remove_folder_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  FolderOp *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!collect_paths (db,
                      "SELECT b.path FROM bodies b JOIN messages m ON m.id = b.message_id"
                      " WHERE m.folder_id = ? AND b.path IS NOT NULL",
                      data->folder_id, data->paths, error))
    return FALSE;
  stmt = tern_store_prepare (db, "DELETE FROM folders WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_mail_store_remove_folder (TernStore  *store,
                               gint64      folder_id,
                               GError    **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  FolderOp data = { folder_id, 0, paths };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  if (!tern_store_write (store, remove_folder_cb, &data, error))
    return FALSE;
  unlink_body_files (store, paths);
  return TRUE;
}

#define FOLDER_COLUMNS                                                                  \
  "id, account_id, name, delimiter, role, attributes, subscribed, uidvalidity, uidnext," \
  " highestmodseq, total_count, unread_count, last_sync"

static TernMailFolder *
folder_from_row (sqlite3_stmt *stmt)
{
  TernMailFolder *folder = tern_mail_folder_new ();
  const char *delimiter = (const char *) sqlite3_column_text (stmt, 3);

  folder->id = sqlite3_column_int64 (stmt, 0);
  folder->account_id = sqlite3_column_int64 (stmt, 1);
  folder->name = tern_store_dup_text (stmt, 2);
  folder->delimiter = delimiter != NULL ? delimiter[0] : '\0';
  folder->role = tern_store_dup_text (stmt, 4);
  folder->attributes = sqlite3_column_int64 (stmt, 5);
  folder->subscribed = sqlite3_column_int (stmt, 6) != 0;
  folder->uidvalidity = sqlite3_column_int64 (stmt, 7);
  folder->uidnext = sqlite3_column_int64 (stmt, 8);
  folder->highestmodseq = sqlite3_column_int64 (stmt, 9);
  folder->total_count = sqlite3_column_int (stmt, 10);
  folder->unread_count = sqlite3_column_int (stmt, 11);
  folder->last_sync = sqlite3_column_int64 (stmt, 12);
  return folder;
}

/* A read that runs one statement with up to two bound values and turns its
 * rows into objects. */
typedef struct
{
  const char *sql;
  gint64 int_arg;
  const char *text_arg;
  gint64 int_arg2;
  gpointer (*from_row) (sqlite3_stmt *stmt);
  GPtrArray *rows;
} Query;

static gboolean
query_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Query *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, query->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, query->int_arg);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    {
      if (query->text_arg != NULL)
        tern_store_bind_text (stmt, 2, query->text_arg);
      else
        sqlite3_bind_int64 (stmt, 2, query->int_arg2);
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (query->rows, query->from_row (stmt));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static GPtrArray *
run_query (TernStore       *store,
           Query           *query,
           GDestroyNotify   free_func,
           GError         **error)
{
  query->rows = g_ptr_array_new_with_free_func (free_func);
  if (!tern_store_read (store, query_cb, query, error))
    {
      g_clear_pointer (&query->rows, g_ptr_array_unref);
      return NULL;
    }
  return query->rows;
}

static gpointer
run_query_one (TernStore       *store,
               Query           *query,
               GDestroyNotify   free_func,
               const char      *what,
               GError         **error)
{
  g_autoptr(GPtrArray) rows = run_query (store, query, free_func, error);

  if (rows == NULL)
    return NULL;
  if (rows->len == 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, "%s", what);
      return NULL;
    }
  return g_ptr_array_steal_index (rows, 0);
}

GPtrArray *
tern_mail_store_list_folders (TernStore  *store,
                              gint64      account_id,
                              GError    **error)
{
  Query query = {
    "SELECT " FOLDER_COLUMNS " FROM folders WHERE account_id = ?"
    " ORDER BY role IS NOT 'inbox', name",
    account_id, NULL, 0, (gpointer) folder_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  return run_query (store, &query, (GDestroyNotify) tern_mail_folder_free, error);
}

TernMailFolder *
tern_mail_store_get_folder (TernStore  *store,
                            gint64      folder_id,
                            GError    **error)
{
  Query query = {
    "SELECT " FOLDER_COLUMNS " FROM folders WHERE id = ?",
    folder_id, NULL, 0, (gpointer) folder_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  return run_query_one (store, &query, (GDestroyNotify) tern_mail_folder_free,
                        "No such folder", error);
}

TernMailFolder *
tern_mail_store_find_folder (TernStore   *store,
                             gint64       account_id,
                             const char  *name,
                             GError     **error)
{
  Query query = {
    "SELECT " FOLDER_COLUMNS " FROM folders WHERE account_id = ?1 AND"
    " (name = ?2 OR (?2 = 'INBOX' COLLATE NOCASE AND role = 'inbox'))",
    account_id, name, 0, (gpointer) folder_from_row, NULL,
  };
  g_autoptr(GError) local_error = NULL;
  TernMailFolder *folder;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  folder = run_query_one (store, &query, (GDestroyNotify) tern_mail_folder_free, "", &local_error);
  if (g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, "No folder “%s”", name);
  else if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return folder;
}

TernMailFolder *
tern_mail_store_find_folder_by_role (TernStore   *store,
                                     gint64       account_id,
                                     const char  *role,
                                     GError     **error)
{
  Query query = {
    "SELECT " FOLDER_COLUMNS " FROM folders WHERE account_id = ?1 AND role = ?2"
    " ORDER BY name LIMIT 1",
    account_id, role, 0, (gpointer) folder_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (role != NULL, NULL);
  return run_query_one (store, &query, (GDestroyNotify) tern_mail_folder_free,
                        "No folder has this role", error);
}

/* Inside a write transaction: totals and unread counts of one folder from
 * its rows. */
gboolean
_tern_mail_store_recount (sqlite3  *db,
                          gint64    folder_id,
                          GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "UPDATE folders SET"
                             " total_count = (SELECT count(*) FROM messages WHERE folder_id = ?1),"
                             " unread_count = (" TERN_MAIL_STORE_UNREAD_SQL ("?1") ")"
                             " WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  return tern_store_step_done (stmt, error);
}

static gboolean
update_counts_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  return _tern_mail_store_recount (db, *(gint64 *) user_data, error);
}

gboolean
tern_mail_store_update_counts (TernStore  *store,
                               gint64      folder_id,
                               GError    **error)
{
  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  return tern_store_write (store, update_counts_cb, &folder_id, error);
}

typedef struct
{
  gint64 folder_id;
  guint32 uidvalidity;
  guint32 uidnext;
  guint64 highestmodseq;
} FolderSynced;

static gboolean
set_folder_synced_cb (sqlite3  *db,
                      gpointer  user_data,
                      GError  **error)
{
  FolderSynced *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "UPDATE folders SET uidvalidity = ?2, uidnext = ?3, highestmodseq = ?4,"
                             " last_sync = ?5 WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  bind_optional_int (stmt, 2, data->uidvalidity);
  bind_optional_int (stmt, 3, data->uidnext);
  bind_optional_int (stmt, 4, (gint64) data->highestmodseq);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
  return tern_store_step_done (stmt, error) && _tern_mail_store_recount (db, data->folder_id, error);
}

gboolean
tern_mail_store_set_folder_synced (TernStore  *store,
                                   gint64      folder_id,
                                   guint32     uidvalidity,
                                   guint32     uidnext,
                                   guint64     highestmodseq,
                                   GError    **error)
{
  FolderSynced data = { folder_id, uidvalidity, uidnext, highestmodseq };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  return tern_store_write (store, set_folder_synced_cb, &data, error);
}

static gboolean
reset_folder_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  FolderOp *data = user_data;
  g_autoptr(sqlite3_stmt) delete = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;

  if (!collect_paths (db,
                      "SELECT b.path FROM bodies b JOIN messages m ON m.id = b.message_id"
                      " WHERE m.folder_id = ? AND b.path IS NOT NULL",
                      data->folder_id, data->paths, error))
    return FALSE;
  delete = tern_store_prepare (db, "DELETE FROM messages WHERE folder_id = ?", error);
  update = tern_store_prepare (db,
                               "UPDATE folders SET uidvalidity = ?2, uidnext = NULL,"
                               " highestmodseq = NULL, total_count = 0, unread_count = 0"
                               " WHERE id = ?1",
                               error);
  if (delete == NULL || update == NULL)
    return FALSE;
  sqlite3_bind_int64 (delete, 1, data->folder_id);
  sqlite3_bind_int64 (update, 1, data->folder_id);
  bind_optional_int (update, 2, data->uidvalidity);
  return tern_store_step_done (delete, error) && tern_store_step_done (update, error);
}

gboolean
tern_mail_store_reset_folder (TernStore  *store,
                              gint64      folder_id,
                              guint32     uidvalidity,
                              GError    **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  FolderOp data = { folder_id, uidvalidity, paths };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  if (!tern_store_write (store, reset_folder_cb, &data, error))
    return FALSE;
  unlink_body_files (store, paths);
  return TRUE;
}

/* Messages */

typedef struct
{
  gint64 folder_id;
  TernImapSet *set;
} GetUids;

static gboolean
get_uids_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  GetUids *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  guint32 first = 0, last = 0;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT uid FROM messages WHERE folder_id = ? AND uid IS NOT NULL"
                             " ORDER BY uid",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  /* Rows come sorted: build ranges directly rather than adding one by one. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint32 uid = sqlite3_column_int64 (stmt, 0);

      if (first != 0 && uid == last + 1)
        {
          last = uid;
          continue;
        }
      if (first != 0)
        tern_imap_set_add_range (data->set, first, last);
      first = last = uid;
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  if (first != 0)
    tern_imap_set_add_range (data->set, first, last);
  return TRUE;
}

TernImapSet *
tern_mail_store_get_uids (TernStore  *store,
                          gint64      folder_id,
                          GError    **error)
{
  g_autoptr(TernImapSet) set = tern_imap_set_new ();
  GetUids data = { folder_id, set };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  if (!tern_store_read (store, get_uids_cb, &data, error))
    return NULL;
  return g_steal_pointer (&set);
}

typedef TernMailNewMessage Decoded;

/* Counts new messages in their folder's conversation (folder_threads,
 * migration 005): the row of their thread, or of a message alone when it
 * has none (thread_key -id), gets message_count more messages and keeps
 * the latest.  The values are (folder_id, thread_key, date, message id,
 * message_count). */
#define COUNT_CONVERSATION_UPSERT                                                       \
  " ON CONFLICT (folder_id, thread_key) DO UPDATE SET"                                  \
  " message_count = message_count + excluded.message_count,"                            \
  " latest_id = CASE WHEN excluded.last_date > last_date"                               \
  "   OR (excluded.last_date = last_date AND excluded.latest_id > latest_id)"          \
  "   THEN excluded.latest_id ELSE latest_id END,"                                      \
  " last_date = max (last_date, excluded.last_date)"

gboolean
_tern_mail_store_count_conversation (sqlite3  *db,
                                     gint64    message_id,
                                     GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* WHERE before ON CONFLICT: SQLite's grammar needs one after a SELECT. */
  stmt = tern_store_prepare (db,
    "INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id, message_count)"
    " SELECT folder_id, coalesce (thread_id, -id), coalesce (date, internal_date, 0), id, 1"
    " FROM messages WHERE id = ?1" COUNT_CONVERSATION_UPSERT,
    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, message_id);
  return tern_store_step_done (stmt, error);
}

static gboolean folder_account (sqlite3  *db,
                                gint64    folder_id,
                                gint64   *account_id,
                                GError  **error);

/* Thread lookups during a fill.
 *
 * find_thread() looks a new message's Message-ID, In-Reply-To and
 * References up, and in a first sync nearly every lookup finds nothing:
 * 23,000 of 27,000 for 10,000 headers, each a statement of 3,800
 * instructions.  While a fill lasts, a set of the hashes of the
 * Message-IDs (and one of the In-Reply-Tos) of all the account's messages
 * answers "none" without SQL; a hash it holds (a collision included)
 * still asks SQL, so the thread found is the same.  The lookups of those
 * 10,000 headers went from 104 to 42 million instructions (callgrind).
 *
 * The sets hold every message of the account only as long as messages
 * arrive through the fill's batches, which add to them: when any other
 * write of this process has added a message or moved one between folders
 * (tern_store_get_messages_added()), or another process has written to
 * the profile (PRAGMA data_version), they are stale, and lookups ask SQL
 * until the fill ends.  Used and changed under the store's writer lock. */
typedef struct
{
  gint64 account_id;
  guint64 added;         /* tern_store_get_messages_added() it is good for */
  gint64 data_version;   /* and the writer's PRAGMA data_version */
  GHashTable *ids;       /* filter_key () of each message_id */
  GHashTable *parents;   /* of each in_reply_to */
} ThreadFilter;

#define THREAD_FILTER_KEY "tern-mail-store-thread-filter"

static gpointer
filter_key (const char *text)
{
  return GUINT_TO_POINTER (g_str_hash (text));
}

static void
thread_filter_free (ThreadFilter *filter)
{
  g_hash_table_unref (filter->ids);
  g_hash_table_unref (filter->parents);
  g_free (filter);
}

static void
thread_filter_add (ThreadFilter *filter,
                   const char   *message_id,
                   const char   *in_reply_to)
{
  if (message_id != NULL)
    g_hash_table_add (filter->ids, filter_key (message_id));
  if (in_reply_to != NULL)
    g_hash_table_add (filter->parents, filter_key (in_reply_to));
}

/* Commits of other connections (other processes) change it. */
static gint64
data_version (sqlite3 *db)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "PRAGMA data_version", NULL);

  return stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
}

/* The fill's filter for @account_id, if it still holds every message. */
static ThreadFilter *
thread_filter_for (TernStore *store,
                   sqlite3   *db,
                   gint64     account_id)
{
  ThreadFilter *filter = g_object_get_data (G_OBJECT (store), THREAD_FILTER_KEY);

  if (filter == NULL || filter->account_id != account_id)
    return NULL;
  if (filter->added != tern_store_get_messages_added (store) ||
      filter->data_version != data_version (db))
    {
      g_debug ("Messages came another way during the fill: its thread lookups ask SQL");
      g_object_set_data (G_OBJECT (store), THREAD_FILTER_KEY, NULL);
      return NULL;
    }
  return filter;
}

typedef struct
{
  TernStore *store;
  gint64 folder_id;
} FillFilter;

/* Makes the filter of @folder_id's account from the messages there. */
static gboolean
make_thread_filter_cb (sqlite3  *db,
                       gpointer  user_data,
                       GError  **error)
{
  FillFilter *fill = user_data;
  ThreadFilter *filter;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;
  int rc;

  if (g_object_get_data (G_OBJECT (fill->store), THREAD_FILTER_KEY) != NULL)
    return TRUE; /* one fill at a time has one */
  if (!folder_account (db, fill->folder_id, &account_id, error))
    return FALSE;
  stmt = tern_store_prepare (db,
                             "SELECT m.message_id, m.in_reply_to FROM messages m"
                             " JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  filter = g_new0 (ThreadFilter, 1);
  filter->account_id = account_id;
  filter->ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  filter->parents = g_hash_table_new (g_direct_hash, g_direct_equal);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    thread_filter_add (filter, (const char *) sqlite3_column_text (stmt, 0),
                       (const char *) sqlite3_column_text (stmt, 1));
  if (rc != SQLITE_DONE)
    {
      thread_filter_free (filter);
      return tern_store_set_error (db, error);
    }
  filter->added = tern_store_get_messages_added (fill->store);
  filter->data_version = data_version (db);
  g_object_set_data_full (G_OBJECT (fill->store), THREAD_FILTER_KEY, filter,
                          (GDestroyNotify) thread_filter_free);
  return TRUE;
}

static gboolean
drop_thread_filter_cb (sqlite3  *db,
                       gpointer  user_data,
                       GError  **error)
{
  g_object_set_data (G_OBJECT (user_data), THREAD_FILTER_KEY, NULL);
  return TRUE;
}

/* Statements of one add_messages batch, prepared once. */
typedef struct
{
  TernStore *store;
  gint64 folder_id;
  gint64 account_id;
  GPtrArray *messages;
  guint inserted;
  ThreadFilter *filter;  /* the fill's, when it holds every message */

  sqlite3_stmt *insert;
  sqlite3_stmt *update_flags;
  sqlite3_stmt *thread_by_id;
  sqlite3_stmt *thread_by_parent;
  sqlite3_stmt *thread_by_subject;
  sqlite3_stmt *new_thread;
  sqlite3_stmt *count_thread;
  sqlite3_stmt *drop_thread;
  sqlite3_stmt *count_conversation;
  sqlite3_stmt *pop3_seen;
  sqlite3_stmt *fts;
  sqlite3_stmt *mark_indexed;
  sqlite3_stmt *body;

  /* Conversations the batch adds to, counted at its end (thread id ->
   * Conversation). */
  GHashTable *conversations;

  /* Full-text rows wait for the end of the batch: FTS5 flushes its
   * pending terms to a new segment at every savepoint, and a statement
   * with triggers opens one (the INSERT into messages did until migration
   * 013), so interleaving them made a segment (and merges) per message. */
  GArray *fts_rows;  /* of FtsRow */
} AddMessages;

typedef struct
{
  gint64 row_id;
  const Decoded *decoded;
} FtsRow;

/* A batch's new messages in one conversation: how many, and the latest
 * by (date, id), the order of COUNT_CONVERSATION_UPSERT. */
typedef struct
{
  gint64 thread_id;
  gint64 last_date;
  gint64 latest_id;
  gint64 count;
} Conversation;

static void
add_messages_clear (AddMessages *data)
{
  g_clear_pointer (&data->insert, sqlite3_finalize);
  g_clear_pointer (&data->update_flags, sqlite3_finalize);
  g_clear_pointer (&data->thread_by_id, sqlite3_finalize);
  g_clear_pointer (&data->thread_by_parent, sqlite3_finalize);
  g_clear_pointer (&data->thread_by_subject, sqlite3_finalize);
  g_clear_pointer (&data->new_thread, sqlite3_finalize);
  g_clear_pointer (&data->count_thread, sqlite3_finalize);
  g_clear_pointer (&data->drop_thread, sqlite3_finalize);
  g_clear_pointer (&data->count_conversation, sqlite3_finalize);
  g_clear_pointer (&data->pop3_seen, sqlite3_finalize);
  g_clear_pointer (&data->fts, sqlite3_finalize);
  g_clear_pointer (&data->mark_indexed, sqlite3_finalize);
  g_clear_pointer (&data->body, sqlite3_finalize);
}

static gboolean
prepare_add_messages (sqlite3      *db,
                      AddMessages  *data,
                      GError      **error)
{
  data->insert = tern_store_prepare (db,
    "INSERT INTO messages (folder_id, uid, flags, keywords, modseq, internal_date, date, size,"
    " subject, from_name, from_address, to_list, cc_list, reply_to, message_id, in_reply_to,"
    " references_list, list_id, has_attachments, pop3_uidl, thread_id)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
    " ?20, ?21)"
    " ON CONFLICT DO NOTHING",
    error);
  if (data->insert == NULL)
    return FALSE;
  data->update_flags = tern_store_prepare (db,
    "UPDATE messages SET flags = ?3, keywords = ?4, modseq = coalesce (?5, modseq)"
    " WHERE folder_id = ?1 AND uid = ?2",
    error);
  if (data->update_flags == NULL)
    return FALSE;
  data->thread_by_id = tern_store_prepare (db, TERN_MAIL_STORE_THREAD_BY_ID_SQL, error);
  if (data->thread_by_id == NULL)
    return FALSE;
  data->thread_by_parent = tern_store_prepare (db, TERN_MAIL_STORE_THREAD_BY_PARENT_SQL, error);
  if (data->thread_by_parent == NULL)
    return FALSE;
  data->thread_by_subject = tern_store_prepare (db,
    "SELECT id FROM threads WHERE account_id = ?2 AND subject = ?1"
    " ORDER BY last_date DESC LIMIT 1",
    error);
  if (data->thread_by_subject == NULL)
    return FALSE;
  data->new_thread = tern_store_prepare (db,
    "INSERT INTO threads (account_id, subject, last_date, message_count) VALUES (?1, ?2, ?3, 1)",
    error);
  if (data->new_thread == NULL)
    return FALSE;
  data->count_thread = tern_store_prepare (db,
    "UPDATE threads SET message_count = message_count + 1,"
    " last_date = max (coalesce (last_date, 0), ?2) WHERE id = ?1",
    error);
  if (data->count_thread == NULL)
    return FALSE;
  data->drop_thread = tern_store_prepare (db,
    "DELETE FROM threads WHERE id = ?1", error);
  if (data->drop_thread == NULL)
    return FALSE;
  data->count_conversation = tern_store_prepare (db,
    "INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id, message_count)"
    " VALUES (?1, ?2, ?3, ?4, ?5)" COUNT_CONVERSATION_UPSERT,
    error);
  if (data->count_conversation == NULL)
    return FALSE;
  /* When the server gave no date: now, as migration 003's trigger did. */
  data->pop3_seen = tern_store_prepare (db,
    "INSERT OR IGNORE INTO pop3_seen (account_id, uidl, first_seen)"
    " VALUES (?1, ?2, coalesce (?3, CAST (strftime ('%s', 'now') AS INTEGER)))",
    error);
  if (data->pop3_seen == NULL)
    return FALSE;
  data->fts = tern_store_prepare (db, TERN_MAIL_STORE_FTS_ROW_SQL, error);
  if (data->fts == NULL)
    return FALSE;
  /* A body indexed with its row (tern-search-index.c reads the table). */
  data->mark_indexed = tern_store_prepare (db,
    "INSERT OR IGNORE INTO search_bodies (message_id) VALUES (?1)", error);
  if (data->mark_indexed == NULL)
    return FALSE;
  data->body = tern_store_prepare (db,
    "INSERT OR REPLACE INTO bodies (message_id, data, size, fetched) VALUES (?1, ?2, ?3, ?4)",
    error);
  return data->body != NULL;
}

static gint64
lookup_thread (sqlite3_stmt *stmt,
               const char   *key,
               gint64        account_id,
               GHashTable   *known)
{
  gint64 id = 0;

  if (key == NULL || (known != NULL && !g_hash_table_contains (known, filter_key (key))))
    return 0;
  sqlite3_reset (stmt);
  bind_static_text (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, account_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return id;
}

/* The thread of a new message: its parent's (References, In-Reply-To), a
 * copy's (same Message-ID), a child's that arrived first, or for a reply
 * without those headers the latest thread of the same subject. */
static gint64
find_thread (AddMessages   *data,
             const Decoded *d)
{
  GHashTable *ids = data->filter != NULL ? data->filter->ids : NULL;
  GHashTable *parents = data->filter != NULL ? data->filter->parents : NULL;
  gint64 id;

  if ((id = lookup_thread (data->thread_by_id, d->message_id, data->account_id, ids)) != 0 ||
      (id = lookup_thread (data->thread_by_id, d->in_reply_to, data->account_id, ids)) != 0)
    return id;
  for (guint i = d->reference_ids->len; i > 0; i--)
    if ((id = lookup_thread (data->thread_by_id, g_ptr_array_index (d->reference_ids, i - 1),
                             data->account_id, ids)) != 0)
      return id;
  if ((id = lookup_thread (data->thread_by_parent, d->message_id, data->account_id, parents)) != 0)
    return id;
  if (d->is_reply && d->thread_subject != NULL && d->thread_subject[0] != '\0')
    return lookup_thread (data->thread_by_subject, d->thread_subject, data->account_id, NULL);
  return 0;
}

/* The thread @d joins, found or created before its row is inserted, so
 * that the row is inserted with it: setting it afterwards is an UPDATE
 * that the message list's triggers turn into a move between
 * conversations.  *@created says a thread row was made for it. */
static gboolean
thread_for_message (sqlite3        *db,
                    AddMessages    *data,
                    const Decoded  *d,
                    gint64         *thread_id,
                    gboolean       *created,
                    GError        **error)
{
  *thread_id = find_thread (data, d);
  *created = *thread_id == 0;
  if (!*created)
    return TRUE;
  sqlite3_reset (data->new_thread);
  sqlite3_bind_int64 (data->new_thread, 1, data->account_id);
  bind_static_text (data->new_thread, 2, d->thread_subject);
  sqlite3_bind_int64 (data->new_thread, 3, d->date);
  if (!tern_store_step_done (data->new_thread, error))
    return FALSE;
  *thread_id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

/* The message was stored (count it in the thread it joined; a thread
 * made for it counts it already), or was known already (drop the thread
 * made for it: nothing else can have joined it since). */
static gboolean
settle_thread (AddMessages    *data,
               gint64          thread_id,
               gboolean        created,
               gboolean        stored,
               const Decoded  *d,
               GError        **error)
{
  if (stored ? created : !created)
    return TRUE;
  if (!stored)
    {
      sqlite3_reset (data->drop_thread);
      sqlite3_bind_int64 (data->drop_thread, 1, thread_id);
      return tern_store_step_done (data->drop_thread, error);
    }
  sqlite3_reset (data->count_thread);
  sqlite3_bind_int64 (data->count_thread, 1, thread_id);
  sqlite3_bind_int64 (data->count_thread, 2, d->date);
  return tern_store_step_done (data->count_thread, error);
}

/* From the row just inserted, as the body indexer does
 * (tern-search-index.c). */
static gboolean
add_fts_row (AddMessages    *data,
             gint64          row_id,
             const Decoded  *d,
             GError        **error)
{
  sqlite3_reset (data->fts);
  sqlite3_bind_int64 (data->fts, 1, row_id);
  bind_static_text (data->fts, 2, d->body_text);
  return tern_store_step_done (data->fts, error);
}

/* Whether the batch's new rows are ids first..last with none between
 * (nothing else writes messages inside the batch's transaction) and
 * without body text: a header sync's batches. */
static gboolean
fts_rows_in_range (GArray *rows)
{
  gint64 first;

  if (rows->len < 2)
    return FALSE;
  first = g_array_index (rows, FtsRow, 0).row_id;
  for (guint i = 0; i < rows->len; i++)
    {
      const FtsRow *row = &g_array_index (rows, FtsRow, i);

      if (row->row_id != first + i || row->decoded->body_text != NULL)
        return FALSE;
    }
  return TRUE;
}

/* The full-text rows of a batch of headers in one statement, the
 * columns of add_fts_row(): a statement per message (bindings, cursors,
 * registers freed at its end) was about a fifth of the cost of a
 * header's row. */
static gboolean
add_fts_range (sqlite3      *db,
               AddMessages  *data,
               GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GArray *rows = data->fts_rows;

  stmt = tern_store_prepare (db,
    "INSERT INTO messages_fts (rowid, subject, sender, recipients, scope)"
    " SELECT " TERN_MAIL_STORE_FTS_HEADERS_SQL ("?3", "?4")
    " FROM messages m WHERE m.id BETWEEN ?1 AND ?2",
    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, g_array_index (rows, FtsRow, 0).row_id);
  sqlite3_bind_int64 (stmt, 2, g_array_index (rows, FtsRow, rows->len - 1).row_id);
  /* The batch's folder: no join per message. */
  sqlite3_bind_int64 (stmt, 3, data->folder_id);
  sqlite3_bind_int64 (stmt, 4, data->account_id);
  return tern_store_step_done (stmt, error);
}

static gboolean
add_body (AddMessages    *data,
          gint64          row_id,
          const Decoded  *d,
          GError        **error)
{
  gconstpointer bytes;
  gsize size;

  if (d->body == NULL)
    return TRUE;
  bytes = g_bytes_get_data (d->body, &size);
  sqlite3_reset (data->body);
  sqlite3_bind_int64 (data->body, 1, row_id);
  sqlite3_bind_blob64 (data->body, 2, bytes ? bytes : "", size, SQLITE_STATIC);
  sqlite3_bind_int64 (data->body, 3, (gint64) size);
  sqlite3_bind_int64 (data->body, 4, g_get_real_time () / G_USEC_PER_SEC);
  return tern_store_step_done (data->body, error);
}

/* The new row in its folder's conversation (a trigger until migration
 * 013), written by count_conversations() at the end of the batch: an
 * upsert per conversation, not per message (the 10,000 messages of the
 * benchmark's INBOX are in 6,131 conversations, and a thread's messages
 * mostly arrive in the same batch). */
static void
count_conversation (AddMessages   *data,
                    gint64         row_id,
                    gint64         thread_id,
                    const Decoded *d)
{
  gint64 date = d->date != 0 ? d->date : d->internal_date;
  Conversation *c = g_hash_table_lookup (data->conversations, &thread_id);

  if (c == NULL)
    {
      c = g_new (Conversation, 1);
      *c = (Conversation) { thread_id, date, row_id, 0 };
      g_hash_table_insert (data->conversations, &c->thread_id, c);
    }
  else if (date > c->last_date || (date == c->last_date && row_id > c->latest_id))
    {
      c->last_date = date;
      c->latest_id = row_id;
    }
  c->count++;
}

static gboolean
count_conversations (AddMessages  *data,
                     GError      **error)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, data->conversations);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const Conversation *c = value;

      sqlite3_reset (data->count_conversation);
      sqlite3_bind_int64 (data->count_conversation, 1, data->folder_id);
      sqlite3_bind_int64 (data->count_conversation, 2, c->thread_id);
      sqlite3_bind_int64 (data->count_conversation, 3, c->last_date);
      sqlite3_bind_int64 (data->count_conversation, 4, c->latest_id);
      sqlite3_bind_int64 (data->count_conversation, 5, c->count);
      if (!tern_store_step_done (data->count_conversation, error))
        return FALSE;
    }
  return TRUE;
}

/* A POP3 message's UIDL among those ever seen (a trigger until migration
 * 013). */
static gboolean
record_pop3_seen (AddMessages    *data,
                  const Decoded  *d,
                  GError        **error)
{
  if (d->pop3_uidl == NULL)
    return TRUE;
  sqlite3_reset (data->pop3_seen);
  sqlite3_bind_int64 (data->pop3_seen, 1, data->account_id);
  bind_static_text (data->pop3_seen, 2, d->pop3_uidl);
  bind_optional_int (data->pop3_seen, 3, d->internal_date);
  return tern_store_step_done (data->pop3_seen, error);
}

static gboolean
add_one_message (sqlite3        *db,
                 AddMessages    *data,
                 const Decoded  *message,
                 GError        **error)
{
  const Decoded *d = message;
  sqlite3_stmt *stmt = data->insert;
  gint64 row_id;
  gint64 thread_id;
  gboolean created;
  gboolean stored;
  FtsRow fts;

  if (!thread_for_message (db, data, d, &thread_id, &created, error))
    return FALSE;
  sqlite3_reset (stmt);
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  bind_optional_int (stmt, 2, message->uid);
  sqlite3_bind_int64 (stmt, 3, message->flags);
  bind_static_text (stmt, 4, d->keywords);
  bind_optional_int (stmt, 5, (gint64) message->modseq);
  bind_optional_int (stmt, 6, message->internal_date);
  bind_optional_int (stmt, 7, d->date);
  sqlite3_bind_int64 (stmt, 8, (gint64) message->size);
  bind_static_text (stmt, 9, d->subject);
  bind_static_text (stmt, 10, d->from_name);
  bind_static_text (stmt, 11, d->from_address);
  bind_static_text (stmt, 12, d->to_list);
  bind_static_text (stmt, 13, d->cc_list);
  bind_static_text (stmt, 14, d->reply_to);
  bind_static_text (stmt, 15, d->message_id);
  bind_static_text (stmt, 16, d->in_reply_to);
  bind_static_text (stmt, 17, d->references);
  bind_static_text (stmt, 18, d->list_id);
  sqlite3_bind_int (stmt, 19, message->has_attachments ? 1 : 0);
  bind_static_text (stmt, 20, d->pop3_uidl);
  sqlite3_bind_int64 (stmt, 21, thread_id);
  if (!tern_store_step_done (stmt, error))
    return FALSE;
  stored = sqlite3_changes (db) > 0;
  row_id = sqlite3_last_insert_rowid (db);
  if (!settle_thread (data, thread_id, created, stored, d, error))
    return FALSE;

  if (!stored && d->pop3_uidl != NULL)
    return TRUE; /* POP3: this UIDL is stored already; its row is not touched */
  if (!stored)
    {
      /* Known already (a batch repeated after a cut connection). */
      sqlite3_reset (data->update_flags);
      sqlite3_bind_int64 (data->update_flags, 1, data->folder_id);
      sqlite3_bind_int64 (data->update_flags, 2, message->uid);
      sqlite3_bind_int64 (data->update_flags, 3, message->flags);
      bind_static_text (data->update_flags, 4, d->keywords);
      bind_optional_int (data->update_flags, 5, (gint64) message->modseq);
      return tern_store_step_done (data->update_flags, error);
    }

  count_conversation (data, row_id, thread_id, d);
  if (data->filter != NULL)
    thread_filter_add (data->filter, d->message_id, d->in_reply_to);
  if (!record_pop3_seen (data, d, error))
    return FALSE;
  data->inserted++;
  fts = (FtsRow) { row_id, d };
  g_array_append_val (data->fts_rows, fts);
  return add_body (data, row_id, d, error);
}

static gboolean
folder_account (sqlite3  *db,
                gint64    folder_id,
                gint64   *account_id,
                GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT account_id FROM folders WHERE id = ?",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, "No such folder");
      return FALSE;
    }
  *account_id = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
add_messages_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  AddMessages *data = user_data;
  gboolean ok = TRUE;

  data->inserted = 0;
  if (!folder_account (db, data->folder_id, &data->account_id, error))
    return FALSE;
  /* Every messages row below is in the folder (a known message's flags
   * included). */
  tern_store_writes_in_folder (data->store, data->folder_id);
  data->filter = thread_filter_for (data->store, db, data->account_id);
  if (!prepare_add_messages (db, data, error))
    ok = FALSE;
  data->fts_rows = g_array_sized_new (FALSE, FALSE, sizeof (FtsRow), data->messages->len);
  data->conversations = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  for (guint i = 0; ok && i < data->messages->len; i++)
    ok = add_one_message (db, data, g_ptr_array_index (data->messages, i), error);
  ok = ok && count_conversations (data, error);
  g_clear_pointer (&data->conversations, g_hash_table_unref);
  if (ok && fts_rows_in_range (data->fts_rows))
    ok = add_fts_range (db, data, error);
  else
    for (guint i = 0; ok && i < data->fts_rows->len; i++)
      {
        FtsRow *fts = &g_array_index (data->fts_rows, FtsRow, i);

        ok = add_fts_row (data, fts->row_id, fts->decoded, error);
      }
  /* After every full-text row: this INSERT may open a savepoint, at
   * which FTS5 would write its pending terms out as a segment. */
  for (guint i = 0; ok && i < data->fts_rows->len; i++)
    {
      FtsRow *fts = &g_array_index (data->fts_rows, FtsRow, i);

      if (fts->decoded->body_text == NULL)
        continue;
      sqlite3_reset (data->mark_indexed);
      sqlite3_bind_int64 (data->mark_indexed, 1, fts->row_id);
      ok = tern_store_step_done (data->mark_indexed, error);
    }
  g_clear_pointer (&data->fts_rows, g_array_unref);
  add_messages_clear (data);
  return ok;
}

gboolean
tern_mail_store_add_new_messages (TernStore  *store,
                                  gint64      folder_id,
                                  GPtrArray  *messages,
                                  guint      *inserted,
                                  GError    **error)
{
  AddMessages data = { .store = store, .folder_id = folder_id, .messages = messages };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (messages != NULL, FALSE);

  if (!tern_store_write (store, add_messages_cb, &data, error))
    return FALSE;
  if (inserted != NULL)
    *inserted = data.inserted;
  return TRUE;
}

gboolean
tern_mail_store_add_messages (TernStore  *store,
                              gint64      folder_id,
                              GPtrArray  *messages,
                              guint      *inserted,
                              GError    **error)
{
  g_autoptr(GPtrArray) decoded = NULL;

  g_return_val_if_fail (messages != NULL, FALSE);

  decoded = g_ptr_array_new_full (messages->len, (GDestroyNotify) tern_mail_new_message_free);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (decoded, tern_mail_new_message_from_imap (g_ptr_array_index (messages, i)));
  return tern_mail_store_add_new_messages (store, folder_id, decoded, inserted, error);
}

/* Indexes of messages that adding messages does not read (the UID,
 * Message-ID and In-Reply-To indexes, threads' subjects and folder_threads
 * are read by it, and stay): left out while a large folder is filled,
 * built at its end.  Most are keyed at random (sender, subject...), so
 * each batch's commit rewrote pages all over them; a CREATE INDEX is one
 * sort (about 0.1 s of CPU each at 108,000 messages).  A first header
 * sync of 108,000 messages: CPU about 10.1 -> 9.5 s with batches of
 * 1,000, 8.4 s with later batches of 2,500 (medians of 4-8 runs at load
 * 15-29, measured with folder_threads_date left out too); leaving out
 * only the four random ones (sender, subject, both thread indexes) saved
 * less.  folder_threads_date stays: with it left out, test-main-window
 * failed twice in a row (a conversation shown from a notification was
 * not selected), not understood yet.  messages_folder_thread stays too:
 * a folder that ends while another still fills (a sync's second
 * connection) counts its messages through it (_tern_mail_store_recount),
 * where without an index on folder_id each count read the whole table:
 * 0.28 s a folder at 100,000 messages (and its unread messages, without
 * messages_folder_unread, are found through it).  The sender and
 * subject indexes are there only once a message list sorted by them
 * (migration 016); an index that is not there is not built at the end
 * either. */
static const char * const fill_indexes[] = {
  "messages_thread",
  "messages_folder_unread",
  "messages_folder_sort_date",
  "messages_folder_sort_sender",
  "messages_folder_sort_subject",
  "messages_sort_date",
  NULL
};

static gboolean
max_message_id_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT max (id) FROM messages", error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return tern_store_set_error (db, error);
  *(gint64 *) user_data = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
tern_mail_store_begin_fill (TernStore  *store,
                            gint64      folder_id,
                            guint       count,
                            gboolean   *deferred,
                            GError    **error)
{
  FillFilter fill = { store, folder_id };
  g_autoptr(GError) filter_error = NULL;
  gint64 max_id = 0;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (deferred != NULL, FALSE);

  *deferred = FALSE;
  /* Building an index again sorts every row of its table: worth it when
   * the new rows are at least as many as those there (max (id) is at
   * least their count, and costs one lookup). */
  if (count == 0 || !tern_store_read (store, max_message_id_cb, &max_id, error))
    return count == 0;
  if ((gint64) count < max_id)
    return TRUE;
  if (!tern_store_defer_indexes (store, fill_indexes, NULL, error))
    return FALSE;
  *deferred = TRUE;
  /* Without it the fill is as right, only slower. */
  if (!tern_store_write (store, make_thread_filter_cb, &fill, &filter_error))
    g_debug ("No thread filter for the fill: %s", filter_error->message);
  return TRUE;
}

gboolean
tern_mail_store_end_fill (TernStore  *store,
                          GError    **error)
{
  g_autoptr(GError) filter_error = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  /* Under the writer's lock: a batch of another connection may be using
   * it.  One that stays is still right (the batches keep it), only held. */
  if (!tern_store_write (store, drop_thread_filter_cb, store, &filter_error))
    g_debug ("The thread filter stays: %s", filter_error->message);
  return tern_store_restore_indexes (store, NULL, error);
}

typedef struct
{
  gint64 folder_id;
  GPtrArray *updates;
} UpdateFlags;

static gboolean
update_flags_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  UpdateFlags *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "UPDATE messages SET flags = ?3, keywords = ?4,"
                             " modseq = coalesce (?5, modseq) WHERE folder_id = ?1 AND uid = ?2",
                             error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < data->updates->len; i++)
    {
      const TernMailFlagUpdate *update = g_ptr_array_index (data->updates, i);

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, data->folder_id);
      sqlite3_bind_int64 (stmt, 2, update->uid);
      sqlite3_bind_int64 (stmt, 3, update->flags & SYSTEM_FLAGS_MASK);
      tern_store_bind_text (stmt, 4, update->keywords);
      bind_optional_int (stmt, 5, (gint64) update->modseq);
      if (!tern_store_step_done (stmt, error))
        return FALSE;
    }
  return _tern_mail_store_recount (db, data->folder_id, error);
}

gboolean
tern_mail_store_update_flags (TernStore  *store,
                              gint64      folder_id,
                              GPtrArray  *updates,
                              GError    **error)
{
  UpdateFlags data = { folder_id, updates };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (updates != NULL, FALSE);

  if (updates->len == 0)
    return TRUE;
  return tern_store_write (store, update_flags_cb, &data, error);
}

typedef struct
{
  const gint64 *ids;
  guint n_ids;
  TernImapFlags add;
  TernImapFlags remove;
  GPtrArray *paths;
} ById;

/* Recounts every folder the rows @ids live in (before or after a change). */
static gboolean
collect_folders (sqlite3       *db,
                 const gint64  *ids,
                 guint          n_ids,
                 GHashTable    *folders,
                 GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT folder_id FROM messages WHERE id = ?",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < n_ids; i++)
    {
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, ids[i]);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          gint64 *folder = g_new (gint64, 1);

          *folder = sqlite3_column_int64 (stmt, 0);
          g_hash_table_add (folders, folder);
        }
    }
  return TRUE;
}

static gboolean
recount_folders (sqlite3     *db,
                 GHashTable  *folders,
                 GError     **error)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, folders);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!_tern_mail_store_recount (db, *(gint64 *) key, error))
      return FALSE;
  return TRUE;
}

static gboolean
change_flags_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  ById *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) folders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  stmt = tern_store_prepare (db, "UPDATE messages SET flags = (flags | ?2) & ~?3 WHERE id = ?1",
                             error);
  if (stmt == NULL || !collect_folders (db, data->ids, data->n_ids, folders, error))
    return FALSE;
  for (guint i = 0; i < data->n_ids; i++)
    {
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, data->ids[i]);
      sqlite3_bind_int64 (stmt, 2, data->add & SYSTEM_FLAGS_MASK);
      sqlite3_bind_int64 (stmt, 3, data->remove & SYSTEM_FLAGS_MASK);
      if (!tern_store_step_done (stmt, error))
        return FALSE;
    }
  return recount_folders (db, folders, error);
}

gboolean
tern_mail_store_change_flags (TernStore     *store,
                              const gint64  *message_ids,
                              guint          n_message_ids,
                              TernImapFlags  add,
                              TernImapFlags  remove,
                              GError       **error)
{
  ById data = { message_ids, n_message_ids, add, remove, NULL };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  return tern_store_write (store, change_flags_cb, &data, error);
}

static gboolean
remove_messages_cb (sqlite3  *db,
                    gpointer  user_data,
                    GError  **error)
{
  ById *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) folders = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  stmt = tern_store_prepare (db, "DELETE FROM messages WHERE id = ?", error);
  if (stmt == NULL || !collect_folders (db, data->ids, data->n_ids, folders, error))
    return FALSE;
  for (guint i = 0; i < data->n_ids; i++)
    {
      if (!collect_paths (db, "SELECT path FROM bodies WHERE message_id = ? AND path IS NOT NULL",
                          data->ids[i], data->paths, error))
        return FALSE;
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, data->ids[i]);
      if (!tern_store_step_done (stmt, error))
        return FALSE;
    }
  return recount_folders (db, folders, error);
}

gboolean
tern_mail_store_remove_messages (TernStore     *store,
                                 const gint64  *message_ids,
                                 guint          n_message_ids,
                                 GError       **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  ById data = { message_ids, n_message_ids, 0, 0, paths };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  if (!tern_store_write (store, remove_messages_cb, &data, error))
    return FALSE;
  unlink_body_files (store, paths);
  return TRUE;
}

typedef struct
{
  gint64 folder_id;
  const TernImapSet *uids;
  GPtrArray *paths;
} RemoveUids;

static gboolean
remove_uids_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  RemoveUids *data = user_data;
  g_autoptr(sqlite3_stmt) paths = NULL;
  g_autoptr(sqlite3_stmt) delete = NULL;
  int rc;

  /* By range, so that "1:*" costs one statement, not one per UID. */
  paths = tern_store_prepare (db,
                              "SELECT b.path FROM bodies b JOIN messages m ON m.id = b.message_id"
                              " WHERE m.folder_id = ?1 AND m.uid BETWEEN ?2 AND ?3"
                              " AND b.path IS NOT NULL",
                              error);
  delete = tern_store_prepare (db,
                               "DELETE FROM messages WHERE folder_id = ?1 AND uid BETWEEN ?2 AND ?3",
                               error);
  if (paths == NULL || delete == NULL)
    return FALSE;
  for (guint i = 0; i < data->uids->ranges->len; i++)
    {
      const TernImapRange *range = &g_array_index (data->uids->ranges, TernImapRange, i);

      sqlite3_reset (paths);
      sqlite3_bind_int64 (paths, 1, data->folder_id);
      sqlite3_bind_int64 (paths, 2, range->first);
      sqlite3_bind_int64 (paths, 3, range->last);
      while ((rc = sqlite3_step (paths)) == SQLITE_ROW)
        g_ptr_array_add (data->paths, tern_store_dup_text (paths, 0));
      if (rc != SQLITE_DONE)
        return tern_store_set_error (db, error);

      sqlite3_reset (delete);
      sqlite3_bind_int64 (delete, 1, data->folder_id);
      sqlite3_bind_int64 (delete, 2, range->first);
      sqlite3_bind_int64 (delete, 3, range->last);
      if (!tern_store_step_done (delete, error))
        return FALSE;
    }
  return _tern_mail_store_recount (db, data->folder_id, error);
}

gboolean
tern_mail_store_remove_uids (TernStore          *store,
                             gint64              folder_id,
                             const TernImapSet  *uids,
                             GError            **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  RemoveUids data = { folder_id, uids, paths };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (uids != NULL, FALSE);

  if (tern_imap_set_is_empty (uids))
    return TRUE;
  if (!tern_store_write (store, remove_uids_cb, &data, error))
    return FALSE;
  unlink_body_files (store, paths);
  return TRUE;
}

#define MESSAGE_COLUMNS                                                                        \
  "m.id, m.folder_id, f.account_id, m.uid, m.flags, m.keywords, m.internal_date,"              \
  " coalesce (m.date, m.internal_date), m.size, m.subject, m.from_name, m.from_address,"       \
  " m.to_list, m.cc_list, m.message_id, m.in_reply_to, m.references_list, m.list_id,"          \
  " m.thread_id, m.has_attachments,"                                                           \
  " EXISTS (SELECT 1 FROM bodies b WHERE b.message_id = m.id)"                                 \
  " FROM messages m JOIN folders f ON f.id = m.folder_id"

static TernMailMessage *
message_from_row (sqlite3_stmt *stmt)
{
  TernMailMessage *message = tern_mail_message_new ();

  message->id = sqlite3_column_int64 (stmt, 0);
  message->folder_id = sqlite3_column_int64 (stmt, 1);
  message->account_id = sqlite3_column_int64 (stmt, 2);
  message->uid = sqlite3_column_int64 (stmt, 3);
  message->flags = sqlite3_column_int64 (stmt, 4);
  message->keywords = tern_store_dup_text (stmt, 5);
  message->internal_date = sqlite3_column_int64 (stmt, 6);
  message->date = sqlite3_column_int64 (stmt, 7);
  message->size = sqlite3_column_int64 (stmt, 8);
  message->subject = tern_store_dup_text (stmt, 9);
  message->from_name = tern_store_dup_text (stmt, 10);
  message->from_address = tern_store_dup_text (stmt, 11);
  message->to_list = tern_store_dup_text (stmt, 12);
  message->cc_list = tern_store_dup_text (stmt, 13);
  message->message_id = tern_store_dup_text (stmt, 14);
  message->in_reply_to = tern_store_dup_text (stmt, 15);
  message->references_list = tern_store_dup_text (stmt, 16);
  message->list_id = tern_store_dup_text (stmt, 17);
  message->thread_id = sqlite3_column_int64 (stmt, 18);
  message->has_attachments = sqlite3_column_int (stmt, 19) != 0;
  message->has_body = sqlite3_column_int (stmt, 20) != 0;
  return message;
}

GPtrArray *
tern_mail_store_list_messages (TernStore  *store,
                               gint64      folder_id,
                               guint       limit,
                               GError    **error)
{
  Query query = {
    "SELECT " MESSAGE_COLUMNS " WHERE m.folder_id = ?1"
    " ORDER BY coalesce (m.date, m.internal_date, 0) DESC, m.uid DESC LIMIT ?2",
    folder_id, NULL, limit == 0 ? -1 : (gint64) limit, (gpointer) message_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  return run_query (store, &query, (GDestroyNotify) tern_mail_message_free, error);
}

TernMailMessage *
tern_mail_store_get_message (TernStore  *store,
                             gint64      message_id,
                             GError    **error)
{
  Query query = {
    "SELECT " MESSAGE_COLUMNS " WHERE m.id = ?1",
    message_id, NULL, 0, (gpointer) message_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  return run_query_one (store, &query, (GDestroyNotify) tern_mail_message_free,
                        "No such message", error);
}

TernMailMessage *
tern_mail_store_find_message (TernStore  *store,
                              gint64      folder_id,
                              guint32     uid,
                              GError    **error)
{
  Query query = {
    "SELECT " MESSAGE_COLUMNS " WHERE m.folder_id = ?1 AND m.uid = ?2",
    folder_id, NULL, uid, (gpointer) message_from_row, NULL,
  };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  return run_query_one (store, &query, (GDestroyNotify) tern_mail_message_free,
                        "No such message", error);
}

typedef struct
{
  gint64 folder_id;
  gint64 since;
  GArray *ids;
} MissingBodies;

static gboolean
missing_bodies_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  MissingBodies *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT id, uid, size FROM messages m WHERE folder_id = ?1 AND uid IS NOT NULL"
                             " AND coalesce (internal_date, 0) >= ?2"
                             " AND NOT EXISTS (SELECT 1 FROM bodies b WHERE b.message_id = m.id)"
                             " ORDER BY uid DESC",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->since);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TernMailBodyRef ref = {
        sqlite3_column_int64 (stmt, 0),
        sqlite3_column_int64 (stmt, 1),
        sqlite3_column_int64 (stmt, 2),
      };

      g_array_append_val (data->ids, ref);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

GArray *
tern_mail_store_list_missing_bodies (TernStore  *store,
                                     gint64      folder_id,
                                     gint64      since,
                                     GError    **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (TernMailBodyRef));
  MissingBodies data = { folder_id, since, ids };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  if (!tern_store_read (store, missing_bodies_cb, &data, error))
    return NULL;
  return g_steal_pointer (&ids);
}

typedef struct
{
  gint64 message_id;
  GBytes *data;
  const char *path;
  guint64 size;
} Body;

static gboolean
set_body_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  Body *body = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "INSERT OR REPLACE INTO bodies (message_id, data, path, size, fetched)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, body->message_id);
  if (body->data != NULL)
    {
      gsize size;
      gconstpointer bytes = g_bytes_get_data (body->data, &size);

      sqlite3_bind_blob64 (stmt, 2, bytes ? bytes : "", size, SQLITE_STATIC);
    }
  else
    sqlite3_bind_null (stmt, 2);
  tern_store_bind_text (stmt, 3, body->path);
  sqlite3_bind_int64 (stmt, 4, body->size);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time () / G_USEC_PER_SEC);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_mail_store_set_body (TernStore   *store,
                          gint64       message_id,
                          GBytes      *data,
                          const char  *path,
                          guint64      size,
                          GError     **error)
{
  Body body = { message_id, data, path, size };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail ((data == NULL) != (path == NULL), FALSE);
  return tern_store_write (store, set_body_cb, &body, error);
}

typedef struct
{
  const TernMailBody *bodies;
  guint n_bodies;
} Bodies;

static gboolean
set_bodies_cb (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  Bodies *batch = user_data;

  for (guint i = 0; i < batch->n_bodies; i++)
    {
      const TernMailBody *one = &batch->bodies[i];
      Body body = { one->message_id, one->data, one->path, one->size };

      if (!set_body_cb (db, &body, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tern_mail_store_set_bodies (TernStore           *store,
                            const TernMailBody  *bodies,
                            guint                n_bodies,
                            GError             **error)
{
  Bodies batch = { bodies, n_bodies };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (bodies != NULL || n_bodies == 0, FALSE);
  if (n_bodies == 0)
    return TRUE;
  return tern_store_write (store, set_bodies_cb, &batch, error);
}

typedef struct
{
  gint64 message_id;
  GBytes *data;
  char *path;
} GetBody;

static gboolean
get_body_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  GetBody *body = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db, "SELECT data, path FROM bodies WHERE message_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, body->message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        body->data = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
      else
        body->path = tern_store_dup_text (stmt, 1);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

GBytes *
tern_mail_store_get_body (TernStore  *store,
                          gint64      message_id,
                          GError    **error)
{
  GetBody body = { message_id, NULL, NULL };
  g_autofree char *path = NULL;
  g_autoptr(GMappedFile) file = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  if (!tern_store_read (store, get_body_cb, &body, error))
    return NULL;
  if (body.path == NULL)
    return body.data;

  path = resolve_body_path (store, body.path);
  g_free (body.path);
  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;
  return g_mapped_file_get_bytes (file);
}

typedef struct
{
  gint64 folder_id;
  GHashTable *uidls;
} GetUidls;

static gboolean
get_pop3_uidls_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  GetUidls *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT pop3_uidl, coalesce (internal_date, 0) FROM messages"
                             " WHERE folder_id = ?1 AND pop3_uidl IS NOT NULL",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 *date = g_new (gint64, 1);

      *date = sqlite3_column_int64 (stmt, 1);
      g_hash_table_insert (data->uidls, tern_store_dup_text (stmt, 0), date);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

GHashTable *
tern_mail_store_get_pop3_uidls (TernStore  *store,
                                gint64      folder_id,
                                GError    **error)
{
  g_autoptr(GHashTable) uidls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GetUidls data = { folder_id, uidls };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  if (!tern_store_read (store, get_pop3_uidls_cb, &data, error))
    return NULL;
  return g_steal_pointer (&uidls);
}
