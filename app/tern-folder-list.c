/* tern-folder-list.c: an account's folders as a tree of GListModels.
 *
 * A reload reads every folder of the account with its counts in one
 * query, lays them out (special folders first, then a hierarchy by the
 * delimiter), and brings each level's model to the new order by
 * replacing only the span between the unchanged start and end.  Items
 * are kept by folder id, so an expanded row in a GtkTreeListModel stays
 * expanded and a count change is a notify, not a new row.
 *
 * The counts come from the messages themselves rather than from the
 * folders row: local changes (a message marked read through the offline
 * queue) show at once, before a sync recounts.  Counting them reads every
 * row of a folder (45-130 ms for an Inbox of 100,000), so a reload that a
 * write asked for reads on a thread and only lays out the items on the
 * main one; writes during it make one more reload after it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-folder-list"

#include "config.h"

#include "tern-folder-item-private.h"
#include "tern-folder-list.h"
#include "tern-imap-types.h"

#include <string.h>

struct _TernFolderList
{
  GObject parent_instance;

  TernStore *store;
  TernAccount *account;
  gulong changed_id;

  /* The reload on a thread: at most one runs; a write during it asks for
   * another.  @generation counts the rows applied, so that a read older
   * than rows applied since (tern_folder_list_reload()) is dropped. */
  GCancellable *cancellable;
  gboolean reloading;
  gboolean reload_again;
  guint generation;

  /* The top level (TernFolderItem) and every item by its id. */
  GPtrArray *roots;
  GHashTable *items;
};

static void tern_folder_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TernFolderList, tern_folder_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tern_folder_list_model_init))

/* One folders row as read. */
typedef struct
{
  gint64 id;
  char *name;
  char delimiter;
  char *role;
  guint total;
  guint unread;
  /* Filled by layout(). */
  int rank;
  char *display_name;
  char *sort_key;
  gint64 parent_id;
} FolderRow;

static void
folder_row_free (FolderRow *row)
{
  g_free (row->name);
  g_free (row->role);
  g_free (row->display_name);
  g_free (row->sort_key);
  g_free (row);
}

/* The order of special folders at the top; others rank after them. */
static const char *const role_order[] = {
  "inbox", "drafts", "sent", "archive", "all", "flagged", "junk", "trash",
};

static int
role_rank (const char *role)
{
  if (role == NULL)
    return G_N_ELEMENTS (role_order);
  for (guint i = 0; i < G_N_ELEMENTS (role_order); i++)
    if (g_str_equal (role_order[i], role))
      return i;
  return G_N_ELEMENTS (role_order);
}

typedef struct
{
  gint64 account_id;
  GPtrArray *rows; /* FolderRow */
} ReadRows;

static gboolean
read_rows_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  ReadRows *read = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT f.id, f.name, f.delimiter, f.role,"
                             " (SELECT count(*) FROM messages m WHERE m.folder_id = f.id),"
                             " (SELECT count(*) FROM messages m WHERE m.folder_id = f.id"
                             "  AND (m.flags & ?2) = 0)"
                             " FROM folders f WHERE f.account_id = ?1"
                             /* A \NonExistent parent of folders that
                              * exist (Dovecot's "Lists" of "Lists/dev")
                              * is kept for the tree to hang them on. */
                             " AND ((f.attributes & ?3) = 0 OR (f.delimiter IS NOT NULL"
                             "  AND EXISTS (SELECT 1 FROM folders c WHERE c.account_id = ?1"
                             "   AND (c.attributes & ?3) = 0"
                             "   AND substr (c.name, 1, length (f.name) + 1) = f.name || f.delimiter)))",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, read->account_id);
  sqlite3_bind_int (stmt, 2, TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_DELETED);
  sqlite3_bind_int (stmt, 3, TERN_IMAP_MAILBOX_NONEXISTENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FolderRow *row = g_new0 (FolderRow, 1);
      const char *delimiter = (const char *) sqlite3_column_text (stmt, 2);

      row->id = sqlite3_column_int64 (stmt, 0);
      row->name = tern_store_dup_text (stmt, 1);
      row->delimiter = delimiter != NULL ? delimiter[0] : '\0';
      row->role = tern_store_dup_text (stmt, 3);
      row->total = sqlite3_column_int (stmt, 4);
      row->unread = sqlite3_column_int (stmt, 5);
      g_ptr_array_add (read->rows, row);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

/* Where a folder goes: special folders at the top under their role's
 * name; others under their parent when the account has it. */
static void
layout (GPtrArray *rows)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < rows->len; i++)
    {
      FolderRow *row = g_ptr_array_index (rows, i);

      g_hash_table_insert (by_name, row->name, row);
    }
  for (guint i = 0; i < rows->len; i++)
    {
      FolderRow *row = g_ptr_array_index (rows, i);
      const char *special = tern_folder_role_display_name (row->role);
      const char *leaf = row->delimiter != '\0' ? strrchr (row->name, row->delimiter) : NULL;

      row->rank = special != NULL ? role_rank (row->role) : (int) G_N_ELEMENTS (role_order);
      if (special != NULL)
        row->display_name = g_strdup (special);
      else if (leaf != NULL)
        {
          g_autofree char *parent_name = g_strndup (row->name, leaf - row->name);
          FolderRow *parent = g_hash_table_lookup (by_name, parent_name);

          row->parent_id = parent != NULL ? parent->id : 0;
          row->display_name = g_strdup (parent != NULL ? leaf + 1 : row->name);
        }
      else
        row->display_name = g_strdup (row->name);
      row->sort_key = g_utf8_collate_key_for_filename (row->display_name, -1);
    }
}

static int
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const FolderRow *row_a = *(const FolderRow **) a;
  const FolderRow *row_b = *(const FolderRow **) b;

  if (row_a->rank != row_b->rank)
    return row_a->rank < row_b->rank ? -1 : 1;
  return strcmp (row_a->sort_key, row_b->sort_key);
}

/* The span of @old that differs from @new: @position, @removed, @added. */
static void
diff_span (GPtrArray *old,
           GPtrArray *new,
           guint     *position,
           guint     *removed,
           guint     *added)
{
  guint start = 0, end = 0;

  while (start < old->len && start < new->len && old->pdata[start] == new->pdata[start])
    start++;
  while (end < old->len - start && end < new->len - start
         && old->pdata[old->len - 1 - end] == new->pdata[new->len - 1 - end])
    end++;
  *position = start;
  *removed = old->len - start - end;
  *added = new->len - start - end;
}

static void
apply_children (GListStore *store,
                GPtrArray  *children)
{
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (store));
  guint position, removed, added;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (old, g_list_model_get_item (G_LIST_MODEL (store), i));
  diff_span (old, children, &position, &removed, &added);
  if (removed > 0 || added > 0)
    g_list_store_splice (store, position, removed, children->pdata + position, added);
}

static void
apply_roots (TernFolderList *self,
             GPtrArray      *roots)
{
  g_autoptr(GPtrArray) old = g_steal_pointer (&self->roots);
  guint position, removed, added;

  diff_span (old, roots, &position, &removed, &added);
  self->roots = g_ptr_array_ref (roots);
  if (removed > 0 || added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
}

/* Makes or updates the items of @rows (in display order) and gives each
 * level its children in that order. */
static void
apply_rows (TernFolderList *self,
            GPtrArray      *rows)
{
  g_autoptr(GHashTable) items = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                                       g_object_unref);
  g_autoptr(GHashTable) children = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                                          (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  for (guint i = 0; i < rows->len; i++)
    {
      FolderRow *row = g_ptr_array_index (rows, i);
      TernFolderItem *item = g_hash_table_lookup (self->items, &row->id);
      GPtrArray *level;

      item = item != NULL ? g_object_ref (item) : _tern_folder_item_new (self->account, row->id);
      _tern_folder_item_update (item, row->name, row->display_name, row->role, row->unread,
                                row->total);
      g_hash_table_insert (items, &row->id, item);
      level = row->parent_id != 0 ? g_hash_table_lookup (children, &row->parent_id) : roots;
      if (level == NULL)
        {
          level = g_ptr_array_new_with_free_func (g_object_unref);
          g_hash_table_insert (children, &row->parent_id, level);
        }
      g_ptr_array_add (level, g_object_ref (item));
    }

  /* Children before the top level, so that a new folder has its subfolders
   * when a view first asks for them. */
  g_hash_table_iter_init (&iter, items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      gint64 id = tern_folder_item_get_id (value);
      GPtrArray *level = g_hash_table_lookup (children, &id);
      g_autoptr(GPtrArray) none = g_ptr_array_new ();

      apply_children (_tern_folder_item_get_children (value), level != NULL ? level : none);
    }
  apply_roots (self, roots);

  /* The new table's keys point into @rows: re-key by the items' own ids. */
  g_hash_table_remove_all (self->items);
  g_hash_table_iter_init (&iter, items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_hash_table_insert (self->items, g_memdup2 (&(gint64) { tern_folder_item_get_id (value) },
                                                 sizeof (gint64)),
                         g_object_ref (value));
}

/* The account's folders in display order, laid out.  Any thread. */
static GPtrArray *
read_folder_rows (TernStore  *store,
                  gint64      account_id,
                  GError    **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) folder_row_free);
  ReadRows read = { account_id, rows };

  if (!tern_store_read (store, read_rows_cb, &read, error))
    return NULL;
  layout (rows);
  g_ptr_array_sort (rows, compare_rows);
  return g_steal_pointer (&rows);
}

gboolean
tern_folder_list_reload (TernFolderList  *self,
                         GError         **error)
{
  g_autoptr(GPtrArray) rows = NULL;

  g_return_val_if_fail (TERN_IS_FOLDER_LIST (self), FALSE);

  rows = read_folder_rows (self->store, tern_account_get_id (self->account), error);
  if (rows == NULL)
    return FALSE;
  self->generation++;
  apply_rows (self, rows);
  return TRUE;
}

typedef struct
{
  TernStore *store;
  gint64 account_id;
} Reload;

static void
reload_free (Reload *reload)
{
  g_object_unref (reload->store);
  g_free (reload);
}

static void
reload_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Reload *reload = task_data;
  GError *error = NULL;
  GPtrArray *rows;

  rows = read_folder_rows (reload->store, reload->account_id, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

static void reload_in_background (TernFolderList *self);

static void
reload_done_cb (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  TernFolderList *self = TERN_FOLDER_LIST (source_object);
  guint generation = GPOINTER_TO_UINT (user_data);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;

  rows = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* disposed */
  self->reloading = FALSE;
  if (rows == NULL)
    g_warning ("Could not read the folders of %s: %s", tern_account_get_address (self->account),
               error->message);
  else if (generation == self->generation)
    {
      self->generation++;
      apply_rows (self, rows);
    }
  if (self->reload_again)
    reload_in_background (self);
}

static void
reload_in_background (TernFolderList *self)
{
  g_autoptr(GTask) task = NULL;
  Reload *reload;

  if (self->reloading)
    {
      self->reload_again = TRUE;
      return;
    }
  self->reloading = TRUE;
  self->reload_again = FALSE;
  task = g_task_new (self, self->cancellable, reload_done_cb,
                     GUINT_TO_POINTER (self->generation));
  g_task_set_source_tag (task, reload_in_background);
  reload = g_new0 (Reload, 1);
  reload->store = g_object_ref (self->store);
  reload->account_id = tern_account_get_id (self->account);
  g_task_set_task_data (task, reload, (GDestroyNotify) reload_free);
  g_task_run_in_thread (task, reload_thread);
}

static void
messages_changed_cb (TernStore *store,
                     GArray    *folder_ids,
                     gpointer   user_data)
{
  /* Any change may concern this account: a folder the list does not know
   * yet may just have got its first messages. */
  reload_in_background (user_data);
}

static GType
tern_folder_list_get_item_type (GListModel *model)
{
  return TERN_TYPE_FOLDER_ITEM;
}

static guint
tern_folder_list_get_n_items (GListModel *model)
{
  return TERN_FOLDER_LIST (model)->roots->len;
}

static gpointer
tern_folder_list_get_item (GListModel *model,
                           guint       position)
{
  TernFolderList *self = TERN_FOLDER_LIST (model);

  if (position >= self->roots->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->roots, position));
}

static void
tern_folder_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tern_folder_list_get_item_type;
  iface->get_n_items = tern_folder_list_get_n_items;
  iface->get_item = tern_folder_list_get_item;
}

static void
tern_folder_list_dispose (GObject *object)
{
  TernFolderList *self = TERN_FOLDER_LIST (object);

  g_clear_signal_handler (&self->changed_id, self->store);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->account);
  g_clear_pointer (&self->items, g_hash_table_unref);

  G_OBJECT_CLASS (tern_folder_list_parent_class)->dispose (object);
}

static void
tern_folder_list_finalize (GObject *object)
{
  TernFolderList *self = TERN_FOLDER_LIST (object);

  g_clear_pointer (&self->roots, g_ptr_array_unref);

  G_OBJECT_CLASS (tern_folder_list_parent_class)->finalize (object);
}

static void
tern_folder_list_class_init (TernFolderListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tern_folder_list_dispose;
  object_class->finalize = tern_folder_list_finalize;
}

static void
tern_folder_list_init (TernFolderList *self)
{
  self->roots = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->items = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
}

TernFolderList *
tern_folder_list_new (TernStore    *store,
                      TernAccount  *account,
                      GError      **error)
{
  g_autoptr(TernFolderList) self = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  self = g_object_new (TERN_TYPE_FOLDER_LIST, NULL);
  self->store = g_object_ref (store);
  self->account = g_object_ref (account);
  if (!tern_folder_list_reload (self, error))
    return NULL;
  self->changed_id = g_signal_connect (store, "messages-changed",
                                       G_CALLBACK (messages_changed_cb), self);
  return g_steal_pointer (&self);
}

TernAccount *
tern_folder_list_get_account (TernFolderList *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_LIST (self), NULL);
  return self->account;
}

TernFolderItem *
tern_folder_list_find (TernFolderList *self,
                       gint64          id)
{
  g_return_val_if_fail (TERN_IS_FOLDER_LIST (self), NULL);
  return g_hash_table_lookup (self->items, &id);
}

TernFolderItem *
tern_folder_list_find_role (TernFolderList *self,
                            const char     *role)
{
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (TERN_IS_FOLDER_LIST (self), NULL);

  /* The top level is in display order, and that is where roles are. */
  for (guint i = 0; i < self->roots->len; i++)
    if (g_strcmp0 (tern_folder_item_get_role (self->roots->pdata[i]), role) == 0)
      return self->roots->pdata[i];
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_strcmp0 (tern_folder_item_get_role (value), role) == 0)
      return value;
  return NULL;
}
