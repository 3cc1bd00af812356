/* tern-new-mail.c
 *
 * Each Inbox has a high-water mark: the highest UID (IMAP) or row id
 * (POP3, whose local rows are numbered in the order they were downloaded)
 * it held when it began to count.  A sync stores headers newest first, so
 * a mark by UID also keeps older mail, fetched later in the same or a
 * resumed sync, from counting; a new UIDVALIDITY starts the mark over.
 * Announced messages are kept by id until they are read or leave the
 * Inbox, so that their notifications can be withdrawn.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-new-mail"

#include "config.h"

#include "tern-imap-types.h"
#include "tern-mail-store.h"
#include "tern-new-mail.h"

typedef struct
{
  gint64 folder_id;
  gint64 account_id;
  gboolean pop3;
  gboolean ready;      /* counts new mail (not in a first sync any more) */
  guint32 uidvalidity;
  gint64 max_uid;
  gint64 max_id;
} Inbox;

struct _TernNewMail
{
  GObject parent_instance;

  TernContext *context;
  GHashTable *inboxes;    /* folder id (gint64 *) -> Inbox */
  GHashTable *others;     /* folder ids known not to be an Inbox */
  GHashTable *announced;  /* message id (gint64 *) -> folder id (gint64 *) */
  GPtrArray *workers;     /* TernAccountWorker whose last-sync we follow */
  gulong changed_id;
  gulong accounts_id;
};

G_DEFINE_FINAL_TYPE (TernNewMail, tern_new_mail, G_TYPE_OBJECT)

enum {
  SIGNAL_NEW_MESSAGES,
  SIGNAL_WITHDRAWN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gint64 *
id_dup (gint64 id)
{
  return g_memdup2 (&id, sizeof id);
}

/* Reading the store */

/* One row of the Inboxes query. */
typedef struct
{
  Inbox inbox;
  gint64 last_sync;
} InboxRow;

static gboolean
read_inboxes_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  GArray *rows = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT f.id, f.account_id, a.incoming_protocol = 'pop3',"
                             " coalesce (f.uidvalidity, 0), coalesce (f.last_sync, 0),"
                             " (SELECT coalesce (max (uid), 0) FROM messages WHERE folder_id = f.id),"
                             /* Only POP3 needs it; the UID's max comes from an index. */
                             " CASE WHEN a.incoming_protocol = 'pop3' THEN"
                             "  (SELECT coalesce (max (id), 0) FROM messages WHERE folder_id = f.id)"
                             " ELSE 0 END"
                             " FROM folders f JOIN accounts a ON a.id = f.account_id"
                             " WHERE f.role = 'inbox'",
                             error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      InboxRow row = { { 0 } };

      row.inbox.folder_id = sqlite3_column_int64 (stmt, 0);
      row.inbox.account_id = sqlite3_column_int64 (stmt, 1);
      row.inbox.pop3 = sqlite3_column_int (stmt, 2) != 0;
      row.inbox.uidvalidity = (guint32) sqlite3_column_int64 (stmt, 3);
      row.last_sync = sqlite3_column_int64 (stmt, 4);
      row.inbox.max_uid = sqlite3_column_int64 (stmt, 5);
      row.inbox.max_id = sqlite3_column_int64 (stmt, 6);
      g_array_append_val (rows, row);
    }
  return rc == SQLITE_DONE || tern_store_set_error (db, error);
}

static GArray *
read_inboxes (TernNewMail *self)
{
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (InboxRow));
  g_autoptr(GError) error = NULL;

  if (!tern_store_read (tern_context_get_store (self->context), read_inboxes_cb, rows, &error))
    {
      g_warning ("Cannot read the Inboxes: %s", error->message);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

typedef struct
{
  Inbox *inbox;
  GPtrArray *messages; /* TernMailMessage above the mark */
} ReadNew;

static gboolean
read_new_cb (sqlite3  *db,
             gpointer  user_data,
             GError  **error)
{
  ReadNew *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  /* A row without a UID in an IMAP Inbox is a local move not replayed yet:
   * the comparison is NULL, so it never counts. */
  stmt = tern_store_prepare (db,
                             "SELECT id, coalesce (uid, 0), flags, subject, from_name, from_address,"
                             " coalesce (date, internal_date, 0)"
                             " FROM messages WHERE folder_id = ?1"
                             " AND CASE WHEN ?2 THEN id > ?3 ELSE uid > ?4 END"
                             " ORDER BY coalesce (date, internal_date, 0) DESC, id DESC",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->inbox->folder_id);
  sqlite3_bind_int (stmt, 2, data->inbox->pop3);
  sqlite3_bind_int64 (stmt, 3, data->inbox->max_id);
  sqlite3_bind_int64 (stmt, 4, data->inbox->max_uid);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TernMailMessage *message = tern_mail_message_new ();

      message->id = sqlite3_column_int64 (stmt, 0);
      message->folder_id = data->inbox->folder_id;
      message->account_id = data->inbox->account_id;
      message->uid = (guint32) sqlite3_column_int64 (stmt, 1);
      message->flags = sqlite3_column_int (stmt, 2);
      message->subject = tern_store_dup_text (stmt, 3);
      message->from_name = tern_store_dup_text (stmt, 4);
      message->from_address = tern_store_dup_text (stmt, 5);
      message->date = sqlite3_column_int64 (stmt, 6);
      g_ptr_array_add (data->messages, message);
    }
  return rc == SQLITE_DONE || tern_store_set_error (db, error);
}

typedef struct
{
  GHashTable *announced;
  GArray *gone;
} ReadAnnounced;

static gboolean
read_announced_cb (sqlite3  *db,
                   gpointer  user_data,
                   GError  **error)
{
  ReadAnnounced *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GHashTableIter iter;
  gpointer key, value;

  stmt = tern_store_prepare (db, "SELECT folder_id, flags FROM messages WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, data->announced);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      int rc;
      gboolean still_new;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, *(gint64 *) key);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return tern_store_set_error (db, error);
      still_new = rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) == *(gint64 *) value
                  && (sqlite3_column_int (stmt, 1) & TERN_IMAP_FLAG_SEEN) == 0;
      if (!still_new)
        g_array_append_val (data->gone, *(gint64 *) key);
    }
  return TRUE;
}

/* Inboxes */

static void
set_mark (Inbox       *inbox,
          const Inbox *now)
{
  inbox->uidvalidity = now->uidvalidity;
  inbox->max_uid = now->max_uid;
  inbox->max_id = now->max_id;
}

/* Learns the Inboxes the store has now.  @initial: watching begins, and an
 * Inbox synced before counts from here on; one found later is being synced
 * for the first time and waits for its account's sync to end. */
static void
update_inboxes (TernNewMail *self,
                gboolean     initial)
{
  g_autoptr(GArray) rows = read_inboxes (self);

  if (rows == NULL)
    return;
  for (guint i = 0; i < rows->len; i++)
    {
      InboxRow *row = &g_array_index (rows, InboxRow, i);
      Inbox *inbox;

      if (g_hash_table_contains (self->inboxes, &row->inbox.folder_id))
        continue;
      inbox = g_memdup2 (&row->inbox, sizeof row->inbox);
      /* A POP3 Inbox is made by the first download: if it is there, that
       * download happened. */
      inbox->ready = initial && (inbox->pop3 || row->last_sync != 0);
      g_hash_table_insert (self->inboxes, id_dup (inbox->folder_id), inbox);
      g_hash_table_remove (self->others, &inbox->folder_id);
    }
}

/* The account's sync ended: its Inboxes count from what they hold now. */
static void
account_synced (TernNewMail *self,
                gint64       account_id)
{
  g_autoptr(GArray) rows = NULL;

  update_inboxes (self, FALSE);
  rows = read_inboxes (self);
  if (rows == NULL)
    return;
  for (guint i = 0; i < rows->len; i++)
    {
      InboxRow *row = &g_array_index (rows, InboxRow, i);
      Inbox *inbox = g_hash_table_lookup (self->inboxes, &row->inbox.folder_id);

      if (inbox == NULL || inbox->account_id != account_id || inbox->ready)
        continue;
      set_mark (inbox, &row->inbox);
      inbox->ready = TRUE;
    }
}

static void
last_sync_cb (TernAccountWorker *worker,
              GParamSpec        *pspec,
              TernNewMail       *self)
{
  account_synced (self, tern_account_get_id (tern_account_worker_get_account (worker)));
}

static void
follow_workers (TernNewMail *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  TernWorkerPool *pool = tern_context_get_worker_pool (self->context);

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);
      TernAccountWorker *worker = tern_worker_pool_get_worker (pool, account);

      if (g_ptr_array_find (self->workers, worker, NULL))
        continue;
      g_signal_connect (worker, "notify::last-sync", G_CALLBACK (last_sync_cb), self);
      g_ptr_array_add (self->workers, g_object_ref (worker));
    }
}

/* New messages */

static gboolean
is_own_address (TernNewMail *self,
                const char  *address)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));

  if (address == NULL)
    return FALSE;
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      if (g_ascii_strcasecmp (tern_account_get_address (account), address) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Moves @inbox's mark over what arrived and adds what counts as new to
 * @found. */
static void
collect_new (TernNewMail *self,
             Inbox       *inbox,
             const Inbox *now,
             GPtrArray   *found)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (
    (GDestroyNotify) tern_mail_message_free);
  g_autoptr(GError) error = NULL;
  ReadNew data = { inbox, messages };

  /* Everything was fetched again under a new UIDVALIDITY: nothing is new. */
  if (!inbox->pop3 && now->uidvalidity != inbox->uidvalidity)
    {
      set_mark (inbox, now);
      return;
    }
  if (!tern_store_read (tern_context_get_store (self->context), read_new_cb, &data, &error))
    {
      g_warning ("Cannot read new messages: %s", error->message);
      return;
    }
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = messages->pdata[i];

      inbox->max_uid = MAX (inbox->max_uid, (gint64) message->uid);
      inbox->max_id = MAX (inbox->max_id, message->id);
      if ((message->flags & TERN_IMAP_FLAG_SEEN) != 0
          || is_own_address (self, message->from_address))
        continue;
      g_hash_table_insert (self->announced, id_dup (message->id), id_dup (message->folder_id));
      g_ptr_array_add (found, g_steal_pointer (&messages->pdata[i]));
    }
}

static gboolean
folder_listed (GArray *folder_ids,
               gint64  folder_id)
{
  for (guint i = 0; i < folder_ids->len; i++)
    {
      gint64 id = g_array_index (folder_ids, gint64, i);

      if (id == 0 || id == folder_id)
        return TRUE;
    }
  return FALSE;
}

static void
check_withdrawn (TernNewMail *self)
{
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  ReadAnnounced data = { self->announced, gone };

  if (g_hash_table_size (self->announced) == 0)
    return;
  if (!tern_store_read (tern_context_get_store (self->context), read_announced_cb, &data, &error))
    {
      g_warning ("Cannot read announced messages: %s", error->message);
      return;
    }
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_remove (self->announced, &g_array_index (gone, gint64, i));
  if (gone->len > 0)
    g_signal_emit (self, signals[SIGNAL_WITHDRAWN], 0, gone);
}

static void
messages_changed_cb (TernStore   *store,
                     GArray      *folder_ids,
                     TernNewMail *self)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (
    (GDestroyNotify) tern_mail_message_free);
  g_autoptr(GArray) rows = NULL;
  gboolean unknown = FALSE;

  for (guint i = 0; i < folder_ids->len && !unknown; i++)
    {
      gint64 id = g_array_index (folder_ids, gint64, i);

      unknown = id == 0 || (!g_hash_table_contains (self->inboxes, &id)
                            && !g_hash_table_contains (self->others, &id));
    }
  if (unknown)
    update_inboxes (self, FALSE);
  for (guint i = 0; i < folder_ids->len; i++)
    {
      gint64 id = g_array_index (folder_ids, gint64, i);

      if (id != 0 && !g_hash_table_contains (self->inboxes, &id))
        g_hash_table_add (self->others, id_dup (id));
    }

  rows = read_inboxes (self);
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    {
      InboxRow *row = &g_array_index (rows, InboxRow, i);
      Inbox *inbox = g_hash_table_lookup (self->inboxes, &row->inbox.folder_id);

      if (inbox != NULL && inbox->ready && folder_listed (folder_ids, inbox->folder_id))
        collect_new (self, inbox, &row->inbox, found);
    }
  if (found->len > 0)
    g_signal_emit (self, signals[SIGNAL_NEW_MESSAGES], 0, found);
  check_withdrawn (self);
}

static void
accounts_changed_cb (TernNewMail *self)
{
  follow_workers (self);
}

/* The object */

static void
tern_new_mail_dispose (GObject *object)
{
  TernNewMail *self = TERN_NEW_MAIL (object);

  if (self->workers != NULL)
    for (guint i = 0; i < self->workers->len; i++)
      g_signal_handlers_disconnect_by_data (self->workers->pdata[i], self);
  g_clear_pointer (&self->workers, g_ptr_array_unref);
  if (self->context != NULL)
    {
      g_clear_signal_handler (&self->changed_id, tern_context_get_store (self->context));
      g_clear_signal_handler (&self->accounts_id, tern_context_get_accounts (self->context));
    }
  g_clear_object (&self->context);

  G_OBJECT_CLASS (tern_new_mail_parent_class)->dispose (object);
}

static void
tern_new_mail_finalize (GObject *object)
{
  TernNewMail *self = TERN_NEW_MAIL (object);

  g_hash_table_unref (self->inboxes);
  g_hash_table_unref (self->others);
  g_hash_table_unref (self->announced);

  G_OBJECT_CLASS (tern_new_mail_parent_class)->finalize (object);
}

static void
tern_new_mail_class_init (TernNewMailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tern_new_mail_dispose;
  object_class->finalize = tern_new_mail_finalize;

  signals[SIGNAL_NEW_MESSAGES] =
    g_signal_new ("new-messages", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
  signals[SIGNAL_WITHDRAWN] =
    g_signal_new ("withdrawn", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ARRAY);
}

static void
tern_new_mail_init (TernNewMail *self)
{
  self->inboxes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->others = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->announced = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->workers = g_ptr_array_new_with_free_func (g_object_unref);
}

TernNewMail *
tern_new_mail_new (TernContext *context)
{
  TernNewMail *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_NEW_MAIL, NULL);
  self->context = g_object_ref (context);
  update_inboxes (self, TRUE);
  follow_workers (self);
  self->changed_id = g_signal_connect (tern_context_get_store (context), "messages-changed",
                                       G_CALLBACK (messages_changed_cb), self);
  self->accounts_id = g_signal_connect_swapped (tern_context_get_accounts (context),
                                                "items-changed", G_CALLBACK (accounts_changed_cb),
                                                self);
  return self;
}

guint
tern_new_mail_get_n_unread (TernNewMail *self)
{
  g_return_val_if_fail (TERN_IS_NEW_MAIL (self), 0);
  return g_hash_table_size (self->announced);
}
