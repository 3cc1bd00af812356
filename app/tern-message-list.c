/* tern-message-list.c: the messages of folders as a lazy GListModel.
 *
 * The list holds a window of consecutive rows (items, their sort keys and
 * identities), read a page at a time on its own reader connection with
 * statements prepared once.  Scrolling down extends the window by keyset
 * (rows after the last key: the cost of a page, wherever it is); a jump
 * reads by OFFSET.  Sort keys never change for a message, so after a
 * write the window is found again by its first and last keys, and what
 * changed is told precisely:
 *
 *   prefix | window | suffix
 *
 * The window is diffed by identity; before and after it only a count and
 * a sum of identities are known, and a region whose fingerprint changed is
 * replaced as a whole (rows nobody has looked at recently).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list"

#include "config.h"

#include "tern-message-item-private.h"
#include "tern-message-list-private.h"

#define PAGE_SIZE 256
#define MAX_WINDOW (4 * PAGE_SIZE)

#define DATE_KEY "coalesce (m.date, m.internal_date, 0)"

typedef enum {
  STMT_COUNT,        /* count (*), sum (ident) */
  STMT_COUNT_BEFORE, /* the same, of rows before (:k, :i) */
  STMT_PAGE,         /* :limit rows from :offset */
  STMT_AFTER,        /* :limit rows after (:k, :i) */
  STMT_RANGE,        /* rows from (:k, :i) to (:k2, :i2), both included */
  N_STMTS
} StmtKind;

/* Consecutive rows of the list. */
typedef struct
{
  guint start;       /* position of the first row */
  gint64 prefix_sum; /* sum of the identities before it */
  GPtrArray *items;  /* TernMessageItem */
  GPtrArray *keys;   /* sqlite3_value: sort keys */
  GArray *idents;    /* gint64: message id, or thread key when threaded */
} Window;

/* One change, in the positions of the list before the refresh (old) and
 * after it (new). */
typedef struct
{
  guint old_pos;
  guint removed;
  guint new_pos;
  guint added;
} Change;

struct _TernMessageList
{
  GObject parent_instance;

  /* Owned references */
  TernStore *store;
  sqlite3 *db;
  sqlite3_stmt *stmts[N_STMTS];
  gulong changed_id;

  /* What the list shows */
  char *condition;
  GPtrArray *bindings; /* GVariant */
  GArray *folder_ids;  /* gint64; empty: any folder */
  TernMessageListSort sort;
  gboolean descending;
  gboolean threaded;

  /* State */
  guint n_items;
  gint64 total_sum;
  Window *window;
  guint64 rows_read;

  /* While a refresh emits items-changed, listeners see the old rows up to
   * split_old and the new ones from split_new on. */
  gboolean emitting;
  guint split_old;
  guint split_new;
  Window *old_window;
};

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

/* Windows */

static Window *
window_new (guint start)
{
  Window *window = g_new0 (Window, 1);

  window->start = start;
  window->items = g_ptr_array_new_with_free_func (g_object_unref);
  window->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite3_value_free);
  window->idents = g_array_new (FALSE, FALSE, sizeof (gint64));
  return window;
}

static void
window_free (Window *window)
{
  g_ptr_array_unref (window->items);
  g_ptr_array_unref (window->keys);
  g_array_unref (window->idents);
  g_free (window);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Window, window_free)

static gint64
window_ident (Window *window,
              guint   index)
{
  return g_array_index (window->idents, gint64, index);
}

static gint64
window_sum (Window *window,
            guint   from,
            guint   to)
{
  gint64 sum = 0;

  for (guint i = from; i < to; i++)
    sum += window_ident (window, i);
  return sum;
}

static gboolean
window_contains (Window *window,
                 guint   position)
{
  return position >= window->start && position - window->start < window->items->len;
}

/* The items of @window by identity, to be reused by the next read. */
static GHashTable *
window_index (Window *window)
{
  GHashTable *index = g_hash_table_new (g_int64_hash, g_int64_equal);

  for (guint i = 0; window != NULL && i < window->items->len; i++)
    g_hash_table_insert (index, &g_array_index (window->idents, gint64, i),
                         g_ptr_array_index (window->items, i));
  return index;
}

/* SQL */

static const char *
sort_key (TernMessageList *self)
{
  if (self->threaded)
    return "max (" DATE_KEY ")";
  switch (self->sort)
    {
    case TERN_MESSAGE_LIST_SORT_SENDER:
      return "coalesce (m.from_name, m.from_address, '') COLLATE NOCASE";
    case TERN_MESSAGE_LIST_SORT_SUBJECT:
      return "coalesce (m.subject, '') COLLATE NOCASE";
    case TERN_MESSAGE_LIST_SORT_DATE:
    default:
      return DATE_KEY;
    }
}

/* The list's rows, in the column order of tern-message-item-private.h,
 * then the sort key k and the identity ident.  A conversation's row is its
 * newest message: SQLite takes the bare columns of a max() query from the
 * row holding the maximum. */
static char *
rows_sql (TernMessageList *self)
{
  return g_strdup_printf ("SELECT m.id, m.folder_id, m.thread_id, " DATE_KEY ", m.from_name,"
                          " m.from_address, m.subject, m.flags, m.has_attachments, %s, %s AS k,"
                          " %s AS ident FROM messages m WHERE (%s)%s",
                          self->threaded ? "count (*)" : "1", sort_key (self),
                          self->threaded ? "coalesce (m.thread_id, -m.id)" : "m.id",
                          self->condition, self->threaded ? " GROUP BY ident" : "");
}

static char *
statement_sql (TernMessageList *self,
               StmtKind         kind)
{
  g_autofree char *rows = rows_sql (self);
  const char *dir = self->descending ? "DESC" : "ASC";
  const char *after = self->descending ? "<" : ">";
  const char *before = self->descending ? ">" : "<";

  switch (kind)
    {
    case STMT_COUNT:
      return g_strdup_printf ("SELECT count (*), sum (ident) FROM (%s)", rows);
    case STMT_COUNT_BEFORE:
      return g_strdup_printf ("SELECT count (*), sum (ident) FROM (%s) WHERE (k, ident) %s (:k, :i)",
                              rows, before);
    case STMT_PAGE:
      return g_strdup_printf ("SELECT * FROM (%s) ORDER BY k %s, ident %s LIMIT :limit OFFSET :offset",
                              rows, dir, dir);
    case STMT_AFTER:
      return g_strdup_printf ("SELECT * FROM (%s) WHERE (k, ident) %s (:k, :i)"
                              " ORDER BY k %s, ident %s LIMIT :limit",
                              rows, after, dir, dir);
    case STMT_RANGE:
      return g_strdup_printf ("SELECT * FROM (%s) WHERE (k, ident) %s= (:k, :i)"
                              " AND (k, ident) %s= (:k2, :i2) ORDER BY k %s, ident %s",
                              rows, after, before, dir, dir);
    case N_STMTS:
    default:
      g_assert_not_reached ();
    }
}

static void
clear_statements (TernMessageList *self)
{
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
}

static void
bind_named_int (sqlite3_stmt *stmt,
                const char   *name,
                gint64        value)
{
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, name), value);
}

/* @kind's statement, prepared on first use, with the condition bound. */
static sqlite3_stmt *
statement (TernMessageList *self,
           StmtKind         kind)
{
  sqlite3_stmt *stmt = self->stmts[kind];

  if (stmt == NULL)
    {
      g_autofree char *sql = statement_sql (self, kind);

      if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        {
          g_warning ("Cannot read the message list: %s", sqlite3_errmsg (self->db));
          return NULL;
        }
      self->stmts[kind] = stmt;
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  for (guint i = 0; i < self->bindings->len; i++)
    {
      GVariant *value = g_ptr_array_index (self->bindings, i);

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
        sqlite3_bind_int64 (stmt, i + 1, g_variant_get_int64 (value));
      else
        sqlite3_bind_text (stmt, i + 1, g_variant_get_string (value, NULL), -1, SQLITE_STATIC);
    }
  return stmt;
}

static void
bind_key (sqlite3_stmt *stmt,
          const char   *key_name,
          const char   *ident_name,
          Window       *window,
          guint         index)
{
  sqlite3_bind_value (stmt, sqlite3_bind_parameter_index (stmt, key_name),
                      g_ptr_array_index (window->keys, index));
  bind_named_int (stmt, ident_name, window_ident (window, index));
}

static void
query_failed (TernMessageList *self)
{
  g_warning ("Cannot read the message list: %s", sqlite3_errmsg (self->db));
}

/* Runs a count statement: rows and the sum of their identities. */
static gboolean
run_count (TernMessageList *self,
           sqlite3_stmt    *stmt,
           guint           *count,
           gint64          *sum)
{
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    {
      query_failed (self);
      *count = 0;
      *sum = 0;
      return FALSE;
    }
  *count = sqlite3_column_int64 (stmt, 0);
  *sum = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  return TRUE;
}

/* Appends the rows of @stmt to @window, reusing the items of @reuse. */
static void
read_rows (TernMessageList *self,
           sqlite3_stmt    *stmt,
           GHashTable      *reuse,
           Window          *window)
{
  int rc;

  if (stmt == NULL)
    return;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 ident = sqlite3_column_int64 (stmt, 11);
      TernMessageItem *item = reuse ? g_hash_table_lookup (reuse, &ident) : NULL;

      if (item != NULL)
        {
          g_object_ref (item);
          _tern_message_item_update (item, stmt);
        }
      else
        item = _tern_message_item_new_from_row (stmt);
      g_ptr_array_add (window->items, item);
      g_ptr_array_add (window->keys, sqlite3_value_dup (sqlite3_column_value (stmt, 10)));
      g_array_append_val (window->idents, ident);
      self->rows_read++;
    }
  if (rc != SQLITE_DONE)
    query_failed (self);
  sqlite3_reset (stmt);
}

/* Paging */

static void
trim_front (Window *window)
{
  while (window->items->len > MAX_WINDOW)
    {
      window->prefix_sum += window_sum (window, 0, PAGE_SIZE);
      g_ptr_array_remove_range (window->items, 0, PAGE_SIZE);
      g_ptr_array_remove_range (window->keys, 0, PAGE_SIZE);
      g_array_remove_range (window->idents, 0, PAGE_SIZE);
      window->start += PAGE_SIZE;
    }
}

/* Scrolling down: the next page after the window's last key. */
static void
extend_window (TernMessageList *self)
{
  Window *window = self->window;
  sqlite3_stmt *stmt = statement (self, STMT_AFTER);

  if (stmt == NULL)
    return;
  bind_key (stmt, ":k", ":i", window, window->items->len - 1);
  bind_named_int (stmt, ":limit", PAGE_SIZE);
  read_rows (self, stmt, NULL, window);
  trim_front (window);
}

/* A jump: the page at @start by OFFSET, and what comes before it. */
static void
replace_window (TernMessageList *self,
                guint            start)
{
  g_autoptr(GHashTable) reuse = window_index (self->window);
  g_autoptr(Window) window = window_new (start);
  sqlite3_stmt *stmt = statement (self, STMT_PAGE);
  guint count;

  if (stmt == NULL)
    return;
  bind_named_int (stmt, ":limit", PAGE_SIZE);
  bind_named_int (stmt, ":offset", start);
  read_rows (self, stmt, reuse, window);
  if (start > 0 && window->items->len > 0)
    {
      stmt = statement (self, STMT_COUNT_BEFORE);
      if (stmt != NULL)
        bind_key (stmt, ":k", ":i", window, 0);
      run_count (self, stmt, &count, &window->prefix_sum);
    }
  g_clear_pointer (&self->window, window_free);
  self->window = g_steal_pointer (&window);
}

static void
load_position (TernMessageList *self,
               guint            position)
{
  Window *window = self->window;
  guint start = position - position % PAGE_SIZE;

  if (window != NULL && window->items->len > 0 &&
      position >= window->start + window->items->len &&
      position < window->start + window->items->len + PAGE_SIZE)
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
  if (self->window == NULL || !window_contains (self->window, position))
    load_position (self, position);
  if (self->window == NULL || !window_contains (self->window, position))
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
  if (self->old_window != NULL && window_contains (self->old_window, position))
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

/* Refreshing */

static void
add_change (GArray *changes,
            guint   old_pos,
            guint   removed,
            guint   new_pos,
            guint   added)
{
  Change change = { old_pos, removed, new_pos, added };

  if (removed > 0 || added > 0)
    g_array_append_val (changes, change);
}

/* Whether the rows both windows hold are in the same order (a
 * conversation moves when a message joins it). */
static gboolean
same_order (Window     *old_window,
            Window     *new_window,
            GHashTable *in_old,
            GHashTable *in_new)
{
  guint j = 0;

  for (guint i = 0; i < old_window->idents->len; i++)
    {
      gint64 ident = window_ident (old_window, i);

      if (!g_hash_table_contains (in_new, &ident))
        continue;
      while (j < new_window->idents->len &&
             !g_hash_table_contains (in_old, &g_array_index (new_window->idents, gint64, j)))
        j++;
      if (j == new_window->idents->len || window_ident (new_window, j) != ident)
        return FALSE;
      j++;
    }
  return TRUE;
}

/* The changes between two windows of the same key range: runs of removed
 * and added rows between the rows both hold. */
static void
diff_windows (Window *old_window,
              Window *new_window,
              GArray *changes)
{
  g_autoptr(GHashTable) in_old = window_index (old_window);
  g_autoptr(GHashTable) in_new = window_index (new_window);
  guint i = 0, j = 0;

  if (!same_order (old_window, new_window, in_old, in_new))
    {
      add_change (changes, old_window->start, old_window->idents->len, new_window->start,
                  new_window->idents->len);
      return;
    }
  while (i < old_window->idents->len || j < new_window->idents->len)
    {
      guint i0 = i, j0 = j;

      while (i < old_window->idents->len &&
             !g_hash_table_contains (in_new, &g_array_index (old_window->idents, gint64, i)))
        i++;
      while (j < new_window->idents->len &&
             !g_hash_table_contains (in_old, &g_array_index (new_window->idents, gint64, j)))
        j++;
      add_change (changes, old_window->start + i0, i - i0, new_window->start + j0, j - j0);
      if (i < old_window->idents->len && j < new_window->idents->len)
        {
          i++;
          j++;
        }
    }
}

/* The window's key range read again, with the count and sum of what
 * comes before it. */
static Window *
reread_window (TernMessageList *self,
               Window          *old_window)
{
  g_autoptr(GHashTable) reuse = window_index (old_window);
  Window *window = window_new (0);
  sqlite3_stmt *stmt;

  stmt = statement (self, STMT_COUNT_BEFORE);
  if (stmt != NULL)
    bind_key (stmt, ":k", ":i", old_window, 0);
  run_count (self, stmt, &window->start, &window->prefix_sum);

  stmt = statement (self, STMT_RANGE);
  if (stmt != NULL)
    {
      bind_key (stmt, ":k", ":i", old_window, 0);
      bind_key (stmt, ":k2", ":i2", old_window, old_window->items->len - 1);
    }
  read_rows (self, stmt, reuse, window);
  return window;
}

static void
emit_changes (TernMessageList *self,
              GArray          *changes,
              Window          *old_window)
{
  self->old_window = old_window;
  self->emitting = TRUE;
  /* From the last change to the first, so that the positions of the ones
   * still to come stay those of the old rows. */
  for (guint k = changes->len; k > 0; k--)
    {
      const Change *change = &g_array_index (changes, Change, k - 1);

      /* Listeners see the old rows up to the change, then the new ones
       * from its start: the added rows are at the change's position. */
      self->split_old = change->old_pos;
      self->split_new = change->new_pos;
      g_list_model_items_changed (G_LIST_MODEL (self), change->old_pos, change->removed,
                                  change->added);
    }
  self->emitting = FALSE;
  self->old_window = NULL;
}

static void
refresh (TernMessageList *self)
{
  g_autoptr(Window) old_window = g_steal_pointer (&self->window);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  guint old_n = self->n_items;
  gint64 old_sum = self->total_sum;
  Window *window;
  guint old_end, new_end;
  gint64 old_suffix_sum, new_suffix_sum;

  run_count (self, statement (self, STMT_COUNT), &self->n_items, &self->total_sum);
  if (old_window == NULL || old_window->items->len == 0)
    {
      if (old_n != self->n_items || old_sum != self->total_sum)
        add_change (changes, 0, old_n, 0, self->n_items);
      emit_changes (self, changes, NULL);
      return;
    }

  window = self->window = reread_window (self, old_window);
  old_end = old_window->start + old_window->items->len;
  new_end = window->start + window->items->len;
  if (old_window->start != window->start || old_window->prefix_sum != window->prefix_sum)
    add_change (changes, 0, old_window->start, 0, window->start);
  diff_windows (old_window, window, changes);
  old_suffix_sum = old_sum - old_window->prefix_sum - window_sum (old_window, 0, old_window->items->len);
  new_suffix_sum = self->total_sum - window->prefix_sum - window_sum (window, 0, window->items->len);
  if (old_n - old_end != self->n_items - new_end || old_suffix_sum != new_suffix_sum)
    add_change (changes, old_end, old_n - old_end, new_end, self->n_items - new_end);
  emit_changes (self, changes, old_window);
}

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
  if (concerns_list (self, folder_ids))
    refresh (self);
}

/* A new order or grouping: every row may have moved. */
static void
reset (TernMessageList *self)
{
  guint old_n = self->n_items;

  clear_statements (self);
  g_clear_pointer (&self->window, window_free);
  run_count (self, statement (self, STMT_COUNT), &self->n_items, &self->total_sum);
  if (old_n > 0 || self->n_items > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
}

/* GObject */

static void
tern_message_list_dispose (GObject *object)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_pointer (&self->window, window_free);
  clear_statements (self);
  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (tern_message_list_parent_class)->dispose (object);
}

static void
tern_message_list_finalize (GObject *object)
{
  TernMessageList *self = TERN_MESSAGE_LIST (object);

  g_free (self->condition);
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
      g_value_set_int (value, self->sort);
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
      tern_message_list_set_sort (self, g_value_get_int (value), self->descending);
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

  /* A TernMessageListSort. */
  properties[PROP_SORT] =
    g_param_spec_int ("sort", NULL, NULL, TERN_MESSAGE_LIST_SORT_DATE,
                      TERN_MESSAGE_LIST_SORT_SUBJECT, TERN_MESSAGE_LIST_SORT_DATE,
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
  g_autoptr(TernMessageList) self = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (condition != NULL, NULL);

  self = g_object_new (TERN_TYPE_MESSAGE_LIST, NULL);
  self->store = g_object_ref (store);
  self->condition = g_strdup (condition);
  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    g_ptr_array_add (self->bindings, g_variant_ref_sink (g_ptr_array_index (bindings, i)));
  g_array_append_vals (self->folder_ids, folder_ids, n_folder_ids);
  self->db = tern_store_open_reader (store, error);
  if (self->db == NULL)
    return NULL;
  if (!run_count (self, statement (self, STMT_COUNT), &self->n_items, &self->total_sum))
    return NULL;
  self->changed_id = g_signal_connect (store, "messages-changed",
                                       G_CALLBACK (messages_changed_cb), self);
  return g_steal_pointer (&self);
}

TernMessageList *
tern_message_list_new_for_folders (TernStore     *store,
                                   const gint64  *folder_ids,
                                   guint          n_folder_ids,
                                   GError       **error)
{
  g_autoptr(GPtrArray) bindings = g_ptr_array_new ();
  g_autoptr(GString) condition = g_string_new ("m.folder_id IN (");

  g_return_val_if_fail (n_folder_ids > 0, NULL);

  for (guint i = 0; i < n_folder_ids; i++)
    {
      g_string_append_printf (condition, "%s?%u", i > 0 ? ", " : "", i + 1);
      g_ptr_array_add (bindings, g_variant_new_int64 (folder_ids[i]));
    }
  g_string_append_c (condition, ')');
  return _tern_message_list_new_filtered (store, condition->str, bindings, folder_ids,
                                          n_folder_ids, error);
}

TernMessageList *
tern_message_list_new (TernStore  *store,
                       gint64      folder_id,
                       GError    **error)
{
  return tern_message_list_new_for_folders (store, &folder_id, 1, error);
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
  self->sort = sort;
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
