/* tern-offline-replay.c: sending the offline queue to the server.
 *
 * Replay trusts the message row over the payload when the row has a UID
 * (an earlier operation, e.g. a move, mapped it), and falls back to
 * searching for the Message-ID when neither knows the UID in the folder's
 * current UIDVALIDITY.  The payload keys are described in
 * tern-offline-queue.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-offline-queue"

#include "config.h"

#include "tern-offline-queue.h"
#include "tern-offline-queue-private.h"

#include "tern-mail-store-private.h"

#include "tern-app-error.h"
#include "tern-imap-session.h"

/* An operation the server keeps refusing is given up after this many
 * replays. */
#define MAX_ATTEMPTS 5

static guint crash_after_server;

void
_tern_offline_queue_set_crash_after_server (guint nth)
{
  g_atomic_int_set (&crash_after_server, nth);
}

typedef struct
{
  gint64 id;
  char *kind;
  gint64 folder_id;
  int attempts;
  GVariant *payload;  /* NULL when malformed */
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_free (op->kind);
  g_clear_pointer (&op->payload, g_variant_unref);
  g_free (op);
}

typedef struct
{
  gint64 account_id;
  GPtrArray *ops;
} LoadOps;

static gboolean
load_ops_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  LoadOps *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT id, kind, folder_id, attempts, payload FROM pending_operations"
                             " WHERE account_id = ?1 ORDER BY id",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Op *op = g_new0 (Op, 1);

      op->id = sqlite3_column_int64 (stmt, 0);
      op->kind = tern_store_dup_text (stmt, 1);
      op->folder_id = sqlite3_column_int64 (stmt, 2);
      op->attempts = sqlite3_column_int (stmt, 3);
      op->payload = g_variant_parse (G_VARIANT_TYPE_VARDICT,
                                     (const char *) sqlite3_column_text (stmt, 4), NULL, NULL, NULL);
      g_ptr_array_add (data->ops, op);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

typedef struct
{
  TernStore *store;
  TernImapClient *client;
  GCancellable *cancellable;
  char *selected;
  guint32 uidvalidity;
} Replay;

/* Where a message is on the server, as far as we know. */
typedef struct
{
  char *folder;
  guint32 uid;
  guint32 uidvalidity;
  char *message_id;
} Where;

static void
where_clear (Where *where)
{
  g_clear_pointer (&where->folder, g_free);
  g_clear_pointer (&where->message_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Where, where_clear)

/* What to write once the server confirmed: the operation goes, and the
 * message row learns its UID (or goes, when the message is gone). */
typedef struct
{
  gint64 op_id;
  gint64 message;
  gint64 folder_id;
  guint32 uid;
  gboolean delete_message;
} Finish;

static gboolean
load_row_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  Row *row = user_data;

  return _tern_offline_load_row (db, row->id, row, error);
}

/* The message's row when it has a UID (an earlier operation may have
 * mapped it), else what the payload remembers. */
static gboolean
where_from (Replay      *r,
            Op          *op,
            const char  *message_key,
            Where       *where,
            GError     **error)
{
  g_auto(Row) row = { 0 };
  g_autoptr(GError) local_error = NULL;

  if (g_variant_lookup (op->payload, message_key, "x", &row.id)
      && tern_store_read (r->store, load_row_cb, &row, &local_error)
      && row.uid != 0)
    {
      where->folder = g_steal_pointer (&row.folder);
      where->uid = row.uid;
      where->uidvalidity = row.uidvalidity;
      where->message_id = g_steal_pointer (&row.message_id);
      return TRUE;
    }
  if (local_error != NULL && !g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!g_variant_lookup (op->payload, "folder", "s", &where->folder))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, "Operation %" G_GINT64_FORMAT
                   " names no folder", op->id);
      return FALSE;
    }
  g_variant_lookup (op->payload, "uid", "u", &where->uid);
  g_variant_lookup (op->payload, "uidvalidity", "u", &where->uidvalidity);
  g_variant_lookup (op->payload, "message-id", "s", &where->message_id);
  return TRUE;
}

static gboolean
select_folder (Replay      *r,
               const char  *name,
               GError     **error)
{
  TernImapSelectParams params = { 0 };
  TernImapSelected selected = { 0 };

  if (r->selected != NULL && g_str_equal (r->selected, name)
      && g_strcmp0 (tern_imap_client_get_selected (r->client), name) == 0)
    return TRUE;
  g_clear_pointer (&r->selected, g_free);
  if (!tern_imap_client_select (r->client, name, FALSE, &params, &selected, r->cancellable, error))
    return FALSE;
  r->uidvalidity = selected.uidvalidity;
  r->selected = g_strdup (name);
  tern_imap_selected_clear (&selected);
  return TRUE;
}

static guint32
set_last (const TernImapSet *set)
{
  if (set == NULL || tern_imap_set_is_empty (set))
    return 0;
  return g_array_index (set->ranges, TernImapRange, set->ranges->len - 1).last;
}

/* The highest UID that matches @criteria in the selected folder; 0 for
 * none (then check @error). */
static guint32
search_one (Replay      *r,
            const char  *criteria,
            GError     **error)
{
  g_autoptr(TernImapSet) uids = tern_imap_client_search_uids (r->client, criteria, r->cancellable,
                                                              error);

  return set_last (uids);
}

static guint32
search_message_id (Replay      *r,
                   const char  *message_id,
                   GError     **error)
{
  g_autoptr(GString) criteria = g_string_new ("HEADER Message-ID \"");

  if (message_id == NULL || *message_id == '\0')
    return 0;
  for (const char *p = message_id; *p != '\0'; p++)
    {
      /* A quoted string carries 7-bit text without line breaks only. */
      if ((guchar) *p >= 0x80 || *p == '\r' || *p == '\n')
        return 0;
      if (*p == '"' || *p == '\\')
        g_string_append_c (criteria, '\\');
      g_string_append_c (criteria, *p);
    }
  g_string_append_c (criteria, '"');
  return search_one (r, criteria->str, error);
}

/* The message's UID in the selected folder, or 0 when it is not there:
 * by UID when the UIDVALIDITY is the same, else by Message-ID. */
static gboolean
locate (Replay       *r,
        const Where  *where,
        guint32      *uid,
        GError      **error)
{
  g_autoptr(GError) local_error = NULL;

  if (where->uid != 0 && where->uidvalidity != 0 && where->uidvalidity == r->uidvalidity)
    {
      g_autofree char *criteria = g_strdup_printf ("UID %u", where->uid);

      *uid = search_one (r, criteria, &local_error) == where->uid ? where->uid : 0;
    }
  else
    *uid = search_message_id (r, where->message_id, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static TernImapSet *
one_uid (guint32 uid)
{
  TernImapSet *set = tern_imap_set_new ();

  tern_imap_set_add (set, uid);
  return set;
}

static gboolean
replay_flags (Replay  *r,
              Op      *op,
              Finish  *finish,
              GError **error)
{
  g_auto(Where) where = { 0 };
  g_autoptr(TernImapSet) uids = NULL;
  guint32 add = 0, remove = 0, uid;

  if (!where_from (r, op, "message", &where, error) || !select_folder (r, where.folder, error)
      || !locate (r, &where, &uid, error))
    return FALSE;
  if (uid == 0)
    {
      g_debug ("Message of operation %" G_GINT64_FORMAT " is gone from %s; dropped", op->id,
               where.folder);
      return TRUE;
    }
  g_variant_lookup (op->payload, "add", "u", &add);
  g_variant_lookup (op->payload, "remove", "u", &remove);
  uids = one_uid (uid);
  return tern_imap_client_store_flags (r->client, uids, add, remove, r->cancellable, error);
}

/* The destination UID COPYUID gave for @uid. */
static guint32
map_copyuid (const TernImapSet *source,
             const TernImapSet *dest,
             guint32            uid)
{
  guint64 index = 0;

  if (source == NULL || dest == NULL)
    return 0;
  for (guint i = 0; i < source->ranges->len; i++)
    {
      TernImapRange *range = &g_array_index (source->ranges, TernImapRange, i);

      if (uid >= range->first && uid <= range->last)
        {
          index += uid - range->first;
          for (guint j = 0; j < dest->ranges->len; j++)
            {
              TernImapRange *d = &g_array_index (dest->ranges, TernImapRange, j);
              guint64 n = (guint64) d->last - d->first + 1;

              if (index < n)
                return d->first + (guint32) index;
              index -= n;
            }
          return 0;
        }
      index += (guint64) range->last - range->first + 1;
    }
  return 0;
}

static gboolean
replay_move (Replay   *r,
             Op       *op,
             gboolean  move,
             Finish   *finish,
             GError  **error)
{
  g_auto(Where) where = { 0 };
  g_autofree char *dest = NULL;
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(TernImapSet) source_uids = NULL;
  g_autoptr(TernImapSet) dest_uids = NULL;
  g_autoptr(GError) local_error = NULL;
  guint32 dest_uidvalidity = 0, uid;

  if (!g_variant_lookup (op->payload, "dest", "s", &dest)
      || !g_variant_lookup (op->payload, "dest-folder", "x", &finish->folder_id)
      || !g_variant_lookup (op->payload, "message", "x", &finish->message))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, "Operation %" G_GINT64_FORMAT
                   " names no destination", op->id);
      return FALSE;
    }
  if (!where_from (r, op, move ? "message" : "source-message", &where, error))
    return FALSE;

  /* A copy that reached the server before a crash is in the destination. */
  if (!move)
    {
      if (!select_folder (r, dest, error))
        return FALSE;
      finish->uid = search_message_id (r, where.message_id, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (finish->uid != 0)
        return TRUE;
    }

  if (!select_folder (r, where.folder, error) || !locate (r, &where, &uid, error))
    return FALSE;
  if (uid == 0)
    {
      /* Either moved before a crash (then it is in the destination) or
       * gone from the server. */
      if (move)
        {
          if (!select_folder (r, dest, error))
            return FALSE;
          finish->uid = search_message_id (r, where.message_id, &local_error);
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
        }
      if (finish->uid == 0)
        {
          g_debug ("Message of operation %" G_GINT64_FORMAT " is gone from %s; dropped", op->id,
                   where.folder);
          finish->delete_message = TRUE;
        }
      return TRUE;
    }

  uids = one_uid (uid);
  if (!tern_imap_client_copy (r->client, uids, dest, move, &dest_uidvalidity, &source_uids,
                              &dest_uids, r->cancellable, error))
    return FALSE;
  finish->uid = map_copyuid (source_uids, dest_uids, uid);
  if (finish->uid == 0 && select_folder (r, dest, NULL))
    finish->uid = search_message_id (r, where.message_id, NULL);
  return TRUE;
}

static gboolean
replay_expunge (Replay  *r,
                Op      *op,
                Finish  *finish,
                GError **error)
{
  g_auto(Where) where = { 0 };
  g_autoptr(TernImapSet) uids = NULL;
  guint32 uid;

  if (!where_from (r, op, "message", &where, error) || !select_folder (r, where.folder, error)
      || !locate (r, &where, &uid, error))
    return FALSE;
  if (uid == 0)
    {
      g_debug ("Message of operation %" G_GINT64_FORMAT " is gone from %s already", op->id,
               where.folder);
      return TRUE;
    }
  uids = one_uid (uid);
  return tern_imap_client_store_flags (r->client, uids, TERN_IMAP_FLAG_DELETED, 0, r->cancellable,
                                       error)
         && tern_imap_client_expunge (r->client, uids, r->cancellable, error);
}

static gboolean
replay_append (Replay  *r,
               Op      *op,
               Finish  *finish,
               GError **error)
{
  g_autofree char *folder = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *base64 = NULL;
  g_autofree guchar *bytes = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) local_error = NULL;
  guint32 flags = 0, uidvalidity = 0;
  gint64 date = 0;
  gsize size;

  if (!g_variant_lookup (op->payload, "folder", "s", &folder)
      || !g_variant_lookup (op->payload, "message-id", "s", &message_id)
      || !g_variant_lookup (op->payload, "data", "s", &base64))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, "Operation %" G_GINT64_FORMAT
                   " has no message", op->id);
      return FALSE;
    }
  g_variant_lookup (op->payload, "message", "x", &finish->message);
  g_variant_lookup (op->payload, "flags", "u", &flags);
  g_variant_lookup (op->payload, "date", "x", &date);
  finish->folder_id = op->folder_id;

  /* Appended before a crash: never twice. */
  if (!select_folder (r, folder, error))
    return FALSE;
  finish->uid = search_message_id (r, message_id, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (finish->uid != 0)
    return TRUE;

  bytes = g_base64_decode (base64, &size);
  message = g_bytes_new_take (g_steal_pointer (&bytes), size);
  if (!tern_imap_client_append (r->client, folder, flags, date, message, &uidvalidity,
                                &finish->uid, r->cancellable, error))
    return FALSE;
  if (finish->uid == 0)
    {
      /* No APPENDUID: the folder is selected, so a search sees it after a
       * NOOP has reported the new message. */
      tern_imap_client_noop (r->client, r->cancellable, NULL);
      finish->uid = search_message_id (r, message_id, NULL);
    }
  return TRUE;
}

static gboolean
finish_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Finish *finish = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  if (finish->message != 0 && finish->uid != 0)
    {
      /* A sync may have stored the message under its new UID meanwhile;
       * then that row stays and ours goes. */
      stmt = tern_store_prepare (db, "SELECT id FROM messages WHERE folder_id = ?1 AND uid = ?2",
                                 error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, finish->folder_id);
      sqlite3_bind_int64 (stmt, 2, finish->uid);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tern_store_set_error (db, error);
      if (rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) != finish->message)
        finish->delete_message = TRUE;
      else if (!_tern_offline_exec (db, "UPDATE messages SET uid = ?3 WHERE id = ?1 AND folder_id = ?2",
                            finish->message, finish->folder_id, finish->uid, error))
        return FALSE;
    }
  if (finish->delete_message && finish->message != 0)
    {
      if (!_tern_offline_exec (db, "DELETE FROM messages WHERE id = ?1", finish->message, 0, 0, error))
        return FALSE;
      if (finish->folder_id != 0 && !_tern_mail_store_recount (db, finish->folder_id, error))
        return FALSE;
    }
  return _tern_offline_exec (db, "DELETE FROM pending_operations WHERE id = ?1", finish->op_id, 0, 0,
                     error);
}

typedef struct
{
  Op *op;
  gint64 account_id;
  const char *message;
  gboolean give_up;
} Failed;

/* Giving up: the cache shows the server's truth again.  A moved message
 * goes back where it came from, with its UID (an incremental sync would
 * not bring it back); a copy or an append the server never had goes. */
static gboolean
undo_op (sqlite3  *db,
         Failed   *failed,
         GError  **error)
{
  Op *op = failed->op;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *folder = NULL;
  gint64 message = 0;
  guint32 uid = 0;

  if (op->payload == NULL || !g_variant_lookup (op->payload, "message", "x", &message)
      || g_str_equal (op->kind, "flags") || g_str_equal (op->kind, "expunge"))
    return TRUE;
  if (g_str_equal (op->kind, "move") && g_variant_lookup (op->payload, "folder", "&s", &folder)
      && g_variant_lookup (op->payload, "uid", "u", &uid) && uid != 0)
    {
      stmt = tern_store_prepare (db,
                                 "UPDATE messages SET folder_id = f.id, uid = ?3"
                                 " FROM (SELECT id FROM folders WHERE account_id = ?1 AND name = ?2) f"
                                 " WHERE messages.id = ?4 AND NOT EXISTS"
                                 "  (SELECT 1 FROM messages m WHERE m.folder_id = f.id AND m.uid = ?3)",
                                 error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, failed->account_id);
      tern_store_bind_text (stmt, 2, folder);
      sqlite3_bind_int64 (stmt, 3, uid);
      sqlite3_bind_int64 (stmt, 4, message);
      if (!tern_store_step_done (stmt, error))
        return FALSE;
    }
  if ((stmt == NULL || sqlite3_changes (db) == 0)
      && !_tern_offline_exec (db, "DELETE FROM messages WHERE id = ?1", message, 0, 0, error))
    return FALSE;
  return _tern_offline_exec (db,
                             "UPDATE folders SET"
                             " total_count = (SELECT count(*) FROM messages WHERE folder_id = folders.id),"
                             " unread_count = (SELECT count(*) FROM messages WHERE folder_id = folders.id"
                             "   AND (flags & 1) = 0 AND (flags & 8) = 0)"
                             " WHERE account_id = ?1",
                             failed->account_id, 0, 0, error);
}

static gboolean
failed_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Failed *failed = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (failed->give_up)
    {
      /* The server keeps the message where it was (or never had the copy):
       * the row that showed the change goes, and a sync shows the server's
       * truth again. */
      if (!undo_op (db, failed, error))
        return FALSE;
      return _tern_offline_exec (db, "DELETE FROM pending_operations WHERE id = ?1", failed->op->id,
                                 0, 0, error);
    }
  stmt = tern_store_prepare (db,
                             "UPDATE pending_operations SET attempts = attempts + 1, last_error = ?2"
                             " WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, failed->op->id);
  tern_store_bind_text (stmt, 2, failed->message);
  return tern_store_step_done (stmt, error);
}

/* The server refused this operation (as opposed to not being reachable):
 * trying the next one makes sense. */
static gboolean
is_refusal (const GError *error)
{
  return error->domain == TERN_IMAP_ERROR
         && (error->code == TERN_IMAP_ERROR_NO || error->code == TERN_IMAP_ERROR_BAD
             || error->code == TERN_IMAP_ERROR_NONEXISTENT);
}

static gboolean
replay_op (Replay  *r,
           Op      *op,
           Finish  *finish,
           GError **error)
{
  if (op->payload == NULL)
    {
      g_message ("Operation %" G_GINT64_FORMAT " is unreadable; dropped", op->id);
      return TRUE;
    }
  if (g_str_equal (op->kind, "flags"))
    return replay_flags (r, op, finish, error);
  if (g_str_equal (op->kind, "move"))
    return replay_move (r, op, TRUE, finish, error);
  if (g_str_equal (op->kind, "copy"))
    return replay_move (r, op, FALSE, finish, error);
  if (g_str_equal (op->kind, "expunge"))
    return replay_expunge (r, op, finish, error);
  if (g_str_equal (op->kind, "append"))
    return replay_append (r, op, finish, error);
  g_message ("Operation %" G_GINT64_FORMAT " of kind %s is not replayed yet; dropped", op->id,
             op->kind);
  return TRUE;
}

gboolean
tern_offline_queue_replay (TernStore       *store,
                           gint64           account_id,
                           TernImapClient  *client,
                           guint           *replayed,
                           GCancellable    *cancellable,
                           GError         **error)
{
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func (op_free);
  LoadOps load = { account_id, ops };
  Replay r = { store, client, cancellable, NULL, 0 };
  guint done = 0, confirmed = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (client), FALSE);

  if (replayed != NULL)
    *replayed = 0;
  if (!tern_store_read (store, load_ops_cb, &load, error))
    return FALSE;

  for (guint i = 0; ok && i < ops->len; i++)
    {
      Op *op = g_ptr_array_index (ops, i);
      Finish finish = { .op_id = op->id };
      g_autoptr(GError) local_error = NULL;

      if (replay_op (&r, op, &finish, &local_error))
        {
          if (++confirmed == (guint) g_atomic_int_get (&crash_after_server))
            {
              g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                           "Simulated crash after operation %" G_GINT64_FORMAT, op->id);
              ok = FALSE;
            }
          else if (!(ok = tern_store_write (store, finish_cb, &finish, error)))
            ;
          else
            done++;
          continue;
        }

      if (is_refusal (local_error))
        {
          Failed failed = { op, account_id, local_error->message,
                            op->attempts + 1 >= MAX_ATTEMPTS };

          if (failed.give_up)
            g_message ("Giving up operation %" G_GINT64_FORMAT " (%s): %s", op->id, op->kind,
                       local_error->message);
          /* After a refused SELECT nothing is selected. */
          g_clear_pointer (&r.selected, g_free);
          ok = tern_store_write (store, failed_cb, &failed, error);
          continue;
        }

      {
        Failed failed = { op, account_id, local_error->message, FALSE };

        tern_store_write (store, failed_cb, &failed, NULL);
      }
      g_propagate_error (error, g_steal_pointer (&local_error));
      ok = FALSE;
    }

  g_free (r.selected);
  if (replayed != NULL)
    *replayed = done;
  return ok;
}

/* Async replay */

typedef struct
{
  TernContext *context;
  guint        replayed;
} ReplayJob;

static void
replay_job_free (ReplayJob *data)
{
  g_object_unref (data->context);
  g_free (data);
}

static gboolean
replay_job (TernWorkerJob  *job,
            gpointer        user_data,
            GCancellable   *cancellable,
            GError        **error)
{
  ReplayJob *data = user_data;
  TernAccount *account = tern_worker_job_get_account (job);
  g_autoptr(TernImapClient) client = NULL;

  client = tern_imap_session_open (data->context, account, cancellable, error);
  if (client == NULL)
    return FALSE;
  tern_worker_job_set_state (job, TERN_WORKER_STATE_SYNCING);
  if (!tern_offline_queue_replay (tern_context_get_store (data->context),
                                  tern_account_get_id (account), client, &data->replayed,
                                  cancellable, error))
    return FALSE;
  tern_imap_client_logout (client, cancellable, NULL);
  return TRUE;
}

static void
replay_job_done_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ReplayJob *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_int (task, data->replayed);
}

void
tern_offline_queue_replay_async (TernContext         *context,
                                 TernAccount         *account,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ReplayJob *data;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_offline_queue_replay_async);
  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
    {
      g_task_return_int (task, 0);
      return;
    }
  data = g_new0 (ReplayJob, 1);
  data->context = g_object_ref (context);
  g_task_set_task_data (task, data, (GDestroyNotify) replay_job_free);
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, replay_job, data,
                              cancellable, replay_job_done_cb, g_steal_pointer (&task));
}

gboolean
tern_offline_queue_replay_finish (TernContext   *context,
                                  GAsyncResult  *result,
                                  guint         *replayed,
                                  GError       **error)
{
  gssize count;

  g_return_val_if_fail (g_task_is_valid (result, context), FALSE);

  count = g_task_propagate_int (G_TASK (result), error);
  if (count < 0)
    return FALSE;
  if (replayed != NULL)
    *replayed = (guint) count;
  return TRUE;
}
