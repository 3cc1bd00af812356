/* tern-message-list.c: the messages of folders as a lazy GListModel.
 *
 * The list holds a window of consecutive rows (items, their sort keys and
 * identities), read a page at a time on a reader connection of its own
 * with statements prepared once (tern-message-list-sql.c).  Scrolling
 * down extends the window by keyset (the rows after its last key: the
 * cost of a page, wherever it is); a jump reads by OFFSET; the window
 * keeps at most four pages.  Writes to the store are followed by
 * tern-message-list-refresh.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list"

#include "config.h"

#include "tern-app-error.h"
#include "tern-message-list-private.h"

#define MAX_WINDOW_ROWS (4 * TERN_MESSAGE_LIST_PAGE_SIZE)

G_DEFINE_ENUM_TYPE (TernMessageListSort, tern_message_list_sort,
                    G_DEFINE_ENUM_VALUE (TERN_MESSAGE_LIST_SORT_DATE, "date"),
                    G_DEFINE_ENUM_VALUE (TERN_MESSAGE_LIST_SORT_SENDER, "sender"),
                    G_DEFINE_ENUM_VALUE (TERN_MESSAGE_LIST_SORT_SUBJECT, "subject"))

static void tern_message_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TernMessageList, tern_message_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tern_message_list_model_init))

enum {
  PROP_0,
  PROP_SORT,
  PROP_DESCENDING,
  PROP_THREADED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Paging */

static gint64
first_page_sum (TernMessageWindow *window)
{
  gint64 sum = 0;

  for (guint i = 0; i < TERN_MESSAGE_LIST_PAGE_SIZE; i++)
    sum += _tern_message_window_ident (window, i);
  return sum;
}

static void
trim_front (TernMessageWindow *window)
{
  while (window->items->len > MAX_WINDOW_ROWS)
    {
      window->prefix_sum += first_page_sum (window);
      g_ptr_array_remove_range (window->items, 0, TERN_MESSAGE_LIST_PAGE_SIZE);
      g_ptr_array_remove_range (window->keys, 0, TERN_MESSAGE_LIST_PAGE_SIZE);
      g_array_remove_range (window->idents, 0, TERN_MESSAGE_LIST_PAGE_SIZE);
      window->start += TERN_MESSAGE_LIST_PAGE_SIZE;
    }
}

/* Scrolling down: the next page after the window's last key. */
static void
extend_window (TernMessageList *self)
{
  TernMessageWindow *window = self->window;
  sqlite3_stmt *stmt = _tern_message_list_statement (self, TERN_MESSAGE_STMT_AFTER);

  if (stmt == NULL)
    return;
  _tern_message_list_bind_key (stmt, ":k", ":i", window, window->items->len - 1);
  _tern_message_list_bind_int (stmt, ":limit", TERN_MESSAGE_LIST_PAGE_SIZE);
  _tern_message_list_read_rows (self, stmt, NULL, window);
  trim_front (window);
}

/* A jump: the page at @start by OFFSET, and what comes before it. */
static void
replace_window (TernMessageList *self,
                guint            start)
{
  g_autoptr(GHashTable) reuse = _tern_message_window_index (self->window);
  g_autoptr(TernMessageWindow) window = _tern_message_window_new (start);
  sqlite3_stmt *stmt = _tern_message_list_statement (self, TERN_MESSAGE_STMT_PAGE);
  guint count;

  if (stmt == NULL)
    return;
  _tern_message_list_bind_int (stmt, ":limit", TERN_MESSAGE_LIST_PAGE_SIZE);
  _tern_message_list_bind_int (stmt, ":offset", start);
  _tern_message_list_read_rows (self, stmt, reuse, window);
  if (start > 0 && window->items->len > 0)
    {
      stmt = _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT_BEFORE);
      if (stmt != NULL)
        _tern_message_list_bind_key (stmt, ":k", ":i", window, 0);
      _tern_message_list_count (self, stmt, &count, &window->prefix_sum);
    }
  g_clear_pointer (&self->window, _tern_message_window_free);
  self->window = g_steal_pointer (&window);
}

static void
load_position (TernMessageList *self,
               guint            position)
{
  TernMessageWindow *window = self->window;
  guint start = position - position % TERN_MESSAGE_LIST_PAGE_SIZE;

  if (window != NULL && window->items->len > 0 &&
      position >= window->start + window->items->len &&
      position < window->start + window->items->len + TERN_MESSAGE_LIST_PAGE_SIZE)
    extend_window (self);
  else
    replace_window (self, start);
}

/* GListModel */

static GType
tern_message_list_get_item_type (GListModel *model)
{
  return TERN_TYPE_MESSAGE_ITEM;
}

static guint
tern_message_list_get_n_items (GListModel *model)
{
  TernMessageList *self = TERN_MESSAGE_LIST (model);

  if (self->emitting)
    return self->split_old + (self->n_items - self->split_new);
  return self->n_items;
}

static gpointer
current_item (TernMessageList *self,
              guint            position)
{
  if (position >= self->n_items)
    return NULL;
  if (self->window == NULL || !_tern_message_window_contains (self->window, position))
    load_position (self, position);
  if (self->window == NULL || !_tern_message_window_contains (self->window, position))
    return NULL;
  return g_object_ref (g_ptr_array_index (self->window->items, position - self->window->start));
}

static gpointer
tern_message_list_get_item (GListModel *model,
                            guint       position)
{
  TernMessageList *self = TERN_MESSAGE_LIST (model);

  if (!self->emitting)
    return current_item (self, position);

  /* In the middle of a refresh: rows before the split are the old ones. */
  if (position >= self->split_old)
    return current_item (self, position - self->split_old + self->split_new);
  if (self->old_window != NULL && _tern_message_window_contains (self->old_window, position))
    return g_object_ref (g_ptr_array_index (self->old_window->items,
                                            position - self->old_window->start));
  return current_item (self, position);
}

static void
tern_message_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tern_message_list_get_item_type;
  iface->get_n_items = tern_message_list_get_n_items;
  iface->get_item = tern_message_list_get_item;
}

/* Following the store */

static gboolean
concerns_list (TernMessageList *self,
               GArray          *folder_ids)
{
  if (self->folder_ids->len == 0)
    return TRUE;
  for (guint i = 0; i < folder_ids->len; i++)
    {
      gint64 id = g_array_index (folder_ids, gint64, i);

      if (id == 0)
        return TRUE;
      for (guint j = 0; j < self->folder_ids->len; j++)
        if (g_array_index (self->folder_ids, gint64, j) == id)
          return TRUE;
    }
  return FALSE;
}

static void
messages_changed_cb (TernStore       *store,
                     GArray          *folder_ids,
                     TernMessageList *self)
{
  if (!concerns_list (self, folder_ids))
    return;
  /* A worker is reading the rows, maybe of a snapshot before this write:
   * they are read again once it is done. */
  if (self->loading)
    self->missed_change = TRUE;
  else
    _tern_message_list_refresh (self);
}

/* A new order or grouping: every row may have moved. */
static void
reset (TernMessageList *self)
{
  guint old_n = self->n_items;

  _tern_message_list_clear_statements (self);
  g_clear_pointer (&self->window, _tern_message_window_free);
  _tern_message_list_count (self, _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT),
                            &self->n_items, &self->total_sum);
  if (old_n > 0 || self->n_items > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
}

/* GObject */

static void
tern_message_list_dispose (GObject *object)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_pointer (&self->window, _tern_message_window_free);
  _tern_message_list_clear_statements (self);
  self->db = NULL; /* the store's */
  g_clear_object (&self->store);

  G_OBJECT_CLASS (tern_message_list_parent_class)->dispose (object);
}

static void
tern_message_list_finalize (GObject *object)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  g_free (self->condition);
  g_free (self->page_condition);
  g_free (self->count_rows);
  g_ptr_array_unref (self->bindings);
  g_array_unref (self->folder_ids);

  G_OBJECT_CLASS (tern_message_list_parent_class)->finalize (object);
}

static void
tern_message_list_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_SORT:
      g_value_set_enum (value, self->sort);
      break;
    case PROP_DESCENDING:
      g_value_set_boolean (value, self->descending);
      break;
    case PROP_THREADED:
      g_value_set_boolean (value, self->threaded);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_message_list_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_SORT:
      tern_message_list_set_sort (self, g_value_get_enum (value), self->descending);
      break;
    case PROP_DESCENDING:
      tern_message_list_set_sort (self, self->sort, g_value_get_boolean (value));
      break;
    case PROP_THREADED:
      tern_message_list_set_threaded (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_message_list_class_init (TernMessageListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tern_message_list_dispose;
  object_class->finalize = tern_message_list_finalize;
  object_class->get_property = tern_message_list_get_property;
  object_class->set_property = tern_message_list_set_property;

  properties[PROP_SORT] =
    g_param_spec_enum ("sort", NULL, NULL, TERN_TYPE_MESSAGE_LIST_SORT, TERN_MESSAGE_LIST_SORT_DATE,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DESCENDING] =
    g_param_spec_boolean ("descending", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_THREADED] =
    g_param_spec_boolean ("threaded", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_message_list_init (TernMessageList *self)
{
  self->descending = TRUE;
  self->folder_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

TernMessageList *
_tern_message_list_new_filtered (TernStore     *store,
                                 const char    *condition,
                                 GPtrArray     *bindings,
                                 const gint64  *folder_ids,
                                 guint          n_folder_ids,
                                 GError       **error)
{
  return _tern_message_list_new_counted (store, condition, NULL, bindings, folder_ids,
                                         n_folder_ids, error);
}

/* A list of @condition that has read nothing yet and follows no store. */
static TernMessageList *
new_list (TernStore     *store,
          const char    *condition,
          const char    *count_rows,
          GPtrArray     *bindings,
          const gint64  *folder_ids,
          guint          n_folder_ids)
{
  TernMessageList *self = g_object_new (TERN_TYPE_MESSAGE_LIST, NULL);

  self->store = g_object_ref (store);
  self->condition = g_strdup (condition);
  self->count_rows = g_strdup (count_rows);
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    g_ptr_array_add (self->bindings, g_variant_ref_sink (g_ptr_array_index (bindings, i)));
  g_array_append_vals (self->folder_ids, folder_ids, n_folder_ids);
  return self;
}

static void
follow_store (TernMessageList *self)
{
  self->changed_id = g_signal_connect (self->store, "messages-changed",
                                       G_CALLBACK (messages_changed_cb), self);
}

TernMessageList *
_tern_message_list_new_counted (TernStore     *store,
                                const char    *condition,
                                const char    *count_rows,
                                GPtrArray     *bindings,
                                const gint64  *folder_ids,
                                guint          n_folder_ids,
                                GError       **error)
{
  g_autoptr(TernMessageList) self = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (condition != NULL, NULL);

  self = new_list (store, condition, count_rows, bindings, folder_ids, n_folder_ids);
  self->db = tern_store_get_main_reader (store, error);
  if (self->db == NULL)
    return NULL;
  if (!_tern_message_list_count (self, _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT),
                                 &self->n_items, &self->total_sum))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE, "Cannot read the message list: %s",
                   sqlite3_errmsg (self->db));
      return NULL;
    }
  follow_store (self);
  return g_steal_pointer (&self);
}

TernMessageList *
_tern_message_list_new_pending (TernStore     *store,
                                const char    *condition,
                                const char    *count_rows,
                                GPtrArray     *bindings,
                                const gint64  *folder_ids,
                                guint          n_folder_ids)
{
  TernMessageList *self;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (condition != NULL, NULL);

  self = new_list (store, condition, count_rows, bindings, folder_ids, n_folder_ids);
  self->loading = TRUE;
  /* From before the worker's snapshot: no write can fall in between. */
  follow_store (self);
  return self;
}

/* SQLite asks this every PROGRESS_STEPS steps of its virtual machine: a
 * cancelled load stops within a fraction of a millisecond. */
#define PROGRESS_STEPS 1000

static int
interrupt_cb (void *cancellable)
{
  return g_cancellable_is_cancelled (cancellable);
}

gboolean
_tern_message_list_load (TernMessageList  *self,
                         sqlite3          *db,
                         GCancellable     *cancellable,
                         GError          **error)
{
  g_autofree char *failure = NULL;

  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), FALSE);
  g_return_val_if_fail (self->loading && self->db == NULL, FALSE);
  g_return_val_if_fail (db != NULL, FALSE);

  self->db = db;
  if (cancellable != NULL)
    sqlite3_progress_handler (db, PROGRESS_STEPS, interrupt_cb, cancellable);
  if (!_tern_message_list_count (self, _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT),
                                 &self->n_items, &self->total_sum))
    failure = g_strdup (sqlite3_errmsg (db));
  else if (self->n_items > 0)
    replace_window (self, 0);
  sqlite3_progress_handler (db, 0, NULL, NULL);
  /* The statements are the worker's connection's; pages to come are
   * prepared on the main reader. */
  _tern_message_list_clear_statements (self);
  self->db = NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (failure != NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE, "Cannot read the message list: %s",
                   failure);
      return FALSE;
    }
  return TRUE;
}

gboolean
_tern_message_list_finish_load (TernMessageList  *self,
                                GError          **error)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), FALSE);
  g_return_val_if_fail (self->loading, FALSE);

  self->db = tern_store_get_main_reader (self->store, error);
  if (self->db == NULL)
    return FALSE;
  self->loading = FALSE;
  if (self->missed_change)
    {
      self->missed_change = FALSE;
      _tern_message_list_refresh (self);
    }
  return TRUE;
}

TernMessageList *
tern_message_list_new_for_folders (TernStore     *store,
                                   const gint64  *folder_ids,
                                   guint          n_folder_ids,
                                   GError       **error)
{
  g_autoptr(GPtrArray) bindings = g_ptr_array_new ();
  g_autoptr(GString) condition = g_string_new ("m.folder_id IN (");
  TernMessageList *self;

  g_return_val_if_fail (n_folder_ids > 0, NULL);

  for (guint i = 0; i < n_folder_ids; i++)
    {
      g_string_append_printf (condition, "%s?%u", i > 0 ? ", " : "", i + 1);
      g_ptr_array_add (bindings, g_variant_new_int64 (folder_ids[i]));
    }
  g_string_append_c (condition, ')');
  self = _tern_message_list_new_filtered (store, condition->str, bindings, folder_ids,
                                          n_folder_ids, error);
  if (self != NULL && n_folder_ids == 1)
    self->one_folder = TRUE;
  /* Pages of several folders in date order come from the date index of
   * all messages ("+" keeps SQLite off the folder index), not from sorting
   * every row of the folders; counting still uses the folder index. */
  if (self != NULL && n_folder_ids > 1)
    {
      g_autofree char *unified = g_strdup_printf ("+%s", condition->str);

      _tern_message_list_set_paging (self, unified, TRUE, 0);
    }
  return self;
}

TernMessageList *
tern_message_list_new (TernStore  *store,
                       gint64      folder_id,
                       GError    **error)
{
  return tern_message_list_new_for_folders (store, &folder_id, 1, error);
}

static gboolean
exec_cb (sqlite3   *db,
         gpointer   sql,
         GError   **error)
{
  return tern_store_exec (db, sql, error);
}

static void
build_index_thread (GTask        *task,
                    gpointer      store,
                    gpointer      sql,
                    GCancellable *cancellable)
{
  GError *error = NULL;

  if (tern_store_write (store, exec_cb, sql, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
index_built_cb (GObject      *store,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Not the list's failure: it reads the same rows without the index,
   * only slower, and the next list sorted this way tries again. */
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("Cannot build the index of a sort order: %s", error->message);
}

/* The sender and subject orders have their indexes made the first time a
 * list sorts by them (migration 016), on the writer in the background:
 * at 100,000 messages that takes a few tenths of a second, while the list
 * reads its pages by sorting; its statements, prepared again after the
 * schema changed, use the index from then on. */
static void
ensure_sort_index (TernMessageList *self)
{
  const char *sql = _tern_message_list_sort_index_sql (self->sort);
  g_autoptr(GTask) task = NULL;

  if (sql == NULL)
    return;
  task = g_task_new (self->store, NULL, index_built_cb, NULL);
  g_task_set_source_tag (task, ensure_sort_index);
  g_task_set_task_data (task, (gpointer) sql, NULL);
  g_task_run_in_thread (task, build_index_thread);
}

void
tern_message_list_set_sort (TernMessageList     *self,
                            TernMessageListSort  sort,
                            gboolean             descending)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST (self));

  descending = !!descending;
  if (self->sort == sort && self->descending == descending)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  if (self->sort != sort)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SORT]);
  if (self->descending != descending)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCENDING]);
  if (self->sort != sort)
    {
      self->sort = sort;
      ensure_sort_index (self);
    }
  self->descending = descending;
  reset (self);
  g_object_thaw_notify (G_OBJECT (self));
}

TernMessageListSort
tern_message_list_get_sort (TernMessageList *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), TERN_MESSAGE_LIST_SORT_DATE);
  return self->sort;
}

gboolean
tern_message_list_get_descending (TernMessageList *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), TRUE);
  return self->descending;
}

void
tern_message_list_set_threaded (TernMessageList *self,
                                gboolean         threaded)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST (self));

  threaded = !!threaded;
  if (self->threaded == threaded)
    return;
  self->threaded = threaded;
  reset (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREADED]);
}

gboolean
tern_message_list_get_threaded (TernMessageList *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), FALSE);
  return self->threaded;
}

TernMessageList *
tern_message_list_get_thread (TernMessageList  *self,
                              TernMessageItem  *item,
                              GError          **error)
{
  g_autoptr(GPtrArray) bindings = g_ptr_array_new ();
  g_autofree char *condition = NULL;
  TernMessageList *thread;
  guint n = self->bindings->len;

  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), NULL);
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (item), NULL);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (bindings, g_ptr_array_index (self->bindings, i));
  if (tern_message_item_get_thread_id (item) != 0)
    {
      condition = g_strdup_printf ("(%s) AND m.thread_id = ?%u", self->condition, n + 1);
      g_ptr_array_add (bindings, g_variant_new_int64 (tern_message_item_get_thread_id (item)));
    }
  else
    {
      condition = g_strdup_printf ("(%s) AND m.id = ?%u", self->condition, n + 1);
      g_ptr_array_add (bindings, g_variant_new_int64 (tern_message_item_get_id (item)));
    }
  thread = _tern_message_list_new_filtered (self->store, condition, bindings,
                                            (const gint64 *) self->folder_ids->data,
                                            self->folder_ids->len, error);
  if (thread != NULL)
    tern_message_list_set_sort (thread, TERN_MESSAGE_LIST_SORT_DATE, FALSE);
  return thread;
}

guint64
tern_message_list_get_rows_read (TernMessageList *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST (self), 0);
  return self->rows_read;
}
