/* tern-message-list-sql.c: the statements of a TernMessageList and the
 * windows of rows they read.
 *
 * Every statement wraps one SELECT of the list's rows, each with its sort
 * key k and identity ident (the message id, or the thread for
 * conversations); rows are ordered by (k, ident), so a row's position is
 * fixed by the pair.  A keyset condition is written as
 * "k <= :k AND (k < :k OR ident < :i)" rather than as a row value: SQLite
 * turns only the former into a range on the sort indexes of migration 005.
 *
 * Pages are read in one of two ways.  Usually in the order of a sort index,
 * stopping after a page: the cost of a page.  When the condition finds few
 * rows of many (a search for a rare word), that walk would test most of
 * the folder to find them, so the list reads them "driven": from what the
 * condition finds (the full-text index), sorted.  A unary + keeps SQLite
 * off an index, which is how the statements choose.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list"

#include "config.h"

#include "tern-message-item-private.h"
#include "tern-message-list-private.h"

#define DATE_KEY "coalesce (m.date, m.internal_date, 0)"
/* The keys of the sender and subject orders, over the messages @t; their
 * indexes (below) must say the same for SQLite to read pages from them. */
#define SENDER_KEY(t) "coalesce (" t "from_name, " t "from_address, '') COLLATE NOCASE"
#define SUBJECT_KEY(t) "coalesce (" t "subject, '') COLLATE NOCASE"
#define KEY_COLUMN 10
#define IDENT_COLUMN 11

/* Windows */

TernMessageWindow *
_tern_message_window_new (guint start)
{
  TernMessageWindow *window = g_new0 (TernMessageWindow, 1);

  window->start = start;
  window->items = g_ptr_array_new_with_free_func (g_object_unref);
  window->keys = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite3_value_free);
  window->idents = g_array_new (FALSE, FALSE, sizeof (gint64));
  return window;
}

void
_tern_message_window_free (TernMessageWindow *window)
{
  g_ptr_array_unref (window->items);
  g_ptr_array_unref (window->keys);
  g_array_unref (window->idents);
  g_free (window);
}

gint64
_tern_message_window_ident (TernMessageWindow *window,
                            guint              index)
{
  return g_array_index (window->idents, gint64, index);
}

gint64
_tern_message_window_sum (TernMessageWindow *window)
{
  gint64 sum = 0;

  for (guint i = 0; i < window->idents->len; i++)
    sum += _tern_message_window_ident (window, i);
  return sum;
}

gboolean
_tern_message_window_contains (TernMessageWindow *window,
                               guint              position)
{
  return window != NULL && position >= window->start &&
         position - window->start < window->items->len;
}

/* The items of @window by identity, for the next read to reuse: a row
 * read again stays the same object, so views keep it selected. */
GHashTable *
_tern_message_window_index (TernMessageWindow *window)
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
      return SENDER_KEY ("m.");
    case TERN_MESSAGE_LIST_SORT_SUBJECT:
      return SUBJECT_KEY ("m.");
    case TERN_MESSAGE_LIST_SORT_DATE:
    default:
      return DATE_KEY;
    }
}

const char *
_tern_message_list_sort_index_sql (TernMessageListSort sort)
{
  switch (sort)
    {
    case TERN_MESSAGE_LIST_SORT_SENDER:
      return "CREATE INDEX IF NOT EXISTS messages_folder_sort_sender"
             " ON messages (folder_id, " SENDER_KEY ("") ")";
    case TERN_MESSAGE_LIST_SORT_SUBJECT:
      return "CREATE INDEX IF NOT EXISTS messages_folder_sort_subject"
             " ON messages (folder_id, " SUBJECT_KEY ("") ")";
    case TERN_MESSAGE_LIST_SORT_DATE:
    default:
      return NULL; /* migration 005's, always there */
    }
}

/* A folder's conversations come from folder_threads (migration 005),
 * with their newest messages; counting them needs no message. */
#define FOLDER_THREADS_SQL                                                              \
  "SELECT m.id, m.folder_id, m.thread_id, " DATE_KEY ", m.from_name, m.from_address,"   \
  " m.subject, m.flags, m.has_attachments, t.message_count, t.last_date AS k,"          \
  " t.thread_key AS ident FROM folder_threads t JOIN messages m ON m.id = t.latest_id"  \
  " WHERE t.folder_id = ?1"
#define FOLDER_THREADS_COUNT_SQL \
  "SELECT t.last_date AS k, t.thread_key AS ident FROM folder_threads t WHERE t.folder_id = ?1"

/* The list's rows, in the column order of tern-message-item-private.h,
 * then k and ident.  Conversations of anything else than one folder are
 * grouped here: SQLite takes the bare columns of a max() query from the
 * row holding the maximum, the newest message.  @condition: which one of
 * the list's. */
static char *
rows_sql (TernMessageList *self,
          const char      *condition,
          gboolean         driven)
{
  if (self->threaded && self->one_folder)
    return g_strdup (FOLDER_THREADS_SQL);
  return g_strdup_printf ("SELECT m.id, m.folder_id, m.thread_id, " DATE_KEY ", m.from_name,"
                          " m.from_address, m.subject, m.flags, m.has_attachments, %s, %s%s AS k,"
                          " %s AS ident FROM messages m WHERE (%s)%s",
                          self->threaded ? "count (*)" : "1", driven ? "+" : "", sort_key (self),
                          self->threaded ? "coalesce (m.thread_id, -m.id)" : "m.id",
                          condition, self->threaded ? " GROUP BY ident" : "");
}

/* The rows that pages are read from, the way the list's size calls for. */
static char *
page_rows_sql (TernMessageList *self)
{
  gboolean date_order = self->sort == TERN_MESSAGE_LIST_SORT_DATE || self->threaded;

  if (self->driven || self->page_condition == NULL ||
      (self->page_condition_date_only && !date_order))
    return rows_sql (self, self->condition, self->driven && !self->threaded);
  return rows_sql (self, self->page_condition, FALSE);
}

/* The rows on @side of (:k, :i) in the list's order ('<' before, '>'
 * after), with the key itself when @inclusive. */
static char *
keyset (TernMessageList *self,
        char             side,
        gboolean         inclusive,
        const char      *k,
        const char      *i)
{
  char op = (side == '>') == self->descending ? '<' : '>';

  return g_strdup_printf ("k %c= %s AND (k %c %s OR ident %c%s %s)", op, k, op, k, op,
                          inclusive ? "=" : "", i);
}

static char *
statement_sql (TernMessageList *self,
               TernMessageStmt  kind)
{
  g_autofree char *rows = self->threaded && self->one_folder ? g_strdup (FOLDER_THREADS_COUNT_SQL)
                                                              : rows_sql (self, self->condition, FALSE);
  g_autofree char *page_rows = page_rows_sql (self);
  g_autofree char *before = keyset (self, '<', FALSE, ":k", ":i");
  g_autofree char *after = keyset (self, '>', FALSE, ":k", ":i");
  g_autofree char *from = keyset (self, '>', TRUE, ":k", ":i");
  g_autofree char *to = keyset (self, '<', TRUE, ":k2", ":i2");
  const char *dir = self->descending ? "DESC" : "ASC";

  switch (kind)
    {
    case TERN_MESSAGE_STMT_COUNT:
      return g_strdup_printf ("SELECT count (*), sum (ident) FROM (%s)",
                              self->count_rows != NULL && !self->threaded ? self->count_rows : rows);
    case TERN_MESSAGE_STMT_COUNT_BEFORE:
      return g_strdup_printf ("SELECT count (*), sum (ident) FROM (%s) WHERE %s", rows, before);
    case TERN_MESSAGE_STMT_PAGE:
      return g_strdup_printf ("SELECT * FROM (%s) ORDER BY k %s, ident %s LIMIT :limit OFFSET :offset",
                              page_rows, dir, dir);
    case TERN_MESSAGE_STMT_AFTER:
      return g_strdup_printf ("SELECT * FROM (%s) WHERE %s ORDER BY k %s, ident %s LIMIT :limit",
                              page_rows, after, dir, dir);
    case TERN_MESSAGE_STMT_RANGE:
      return g_strdup_printf ("SELECT * FROM (%s) WHERE %s AND %s ORDER BY k %s, ident %s",
                              page_rows, from, to, dir, dir);
    case TERN_MESSAGE_N_STMTS:
    default:
      g_assert_not_reached ();
    }
}

void
_tern_message_list_clear_statements (TernMessageList *self)
{
  for (guint i = 0; i < TERN_MESSAGE_N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
}

static void
query_failed (TernMessageList *self)
{
  /* The list's own SQL on its own read-only connection: only a broken
   * database gets here, and the view shows what it could read; or a
   * cancelled load (_tern_message_list_load), which says so itself. */
  if (sqlite3_errcode (self->db) == SQLITE_INTERRUPT)
    return;
  g_warning ("Cannot read the message list: %s", sqlite3_errmsg (self->db));
}

void
_tern_message_list_set_paging (TernMessageList *self,
                               const char      *page_condition,
                               gboolean         date_only,
                               guint            driven_below)
{
  g_free (self->page_condition);
  self->page_condition = g_strdup (page_condition);
  self->page_condition_date_only = date_only;
  self->driven_below = driven_below;
  _tern_message_list_clear_statements (self);
}

static gboolean
is_page_statement (TernMessageStmt kind)
{
  return kind == TERN_MESSAGE_STMT_PAGE || kind == TERN_MESSAGE_STMT_AFTER ||
         kind == TERN_MESSAGE_STMT_RANGE;
}

/* @kind's statement, prepared on first use, with the condition bound. */
sqlite3_stmt *
_tern_message_list_statement (TernMessageList *self,
                              TernMessageStmt  kind)
{
  gboolean driven = self->n_items < self->driven_below;
  sqlite3_stmt *stmt;

  /* A refresh may have crossed the line between the ways to read pages. */
  if (is_page_statement (kind) && driven != self->driven)
    {
      g_clear_pointer (&self->stmts[TERN_MESSAGE_STMT_PAGE], sqlite3_finalize);
      g_clear_pointer (&self->stmts[TERN_MESSAGE_STMT_AFTER], sqlite3_finalize);
      g_clear_pointer (&self->stmts[TERN_MESSAGE_STMT_RANGE], sqlite3_finalize);
      self->driven = driven;
    }
  stmt = self->stmts[kind];

  if (stmt == NULL)
    {
      g_autofree char *sql = statement_sql (self, kind);

      if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        {
          query_failed (self);
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

void
_tern_message_list_bind_int (sqlite3_stmt *stmt,
                             const char   *name,
                             gint64        value)
{
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, name), value);
}

/* Binds the key of @window's row @index as @key_name and @ident_name. */
void
_tern_message_list_bind_key (sqlite3_stmt      *stmt,
                             const char        *key_name,
                             const char        *ident_name,
                             TernMessageWindow *window,
                             guint              index)
{
  sqlite3_bind_value (stmt, sqlite3_bind_parameter_index (stmt, key_name),
                      g_ptr_array_index (window->keys, index));
  _tern_message_list_bind_int (stmt, ident_name, _tern_message_window_ident (window, index));
}

/* Runs a count statement: rows and the sum of their identities. */
gboolean
_tern_message_list_count (TernMessageList *self,
                          sqlite3_stmt    *stmt,
                          guint           *count,
                          gint64          *sum)
{
  *count = 0;
  *sum = 0;
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      query_failed (self);
      sqlite3_reset (stmt);
      return FALSE;
    }
  *count = sqlite3_column_int64 (stmt, 0);
  *sum = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  return TRUE;
}

/* Appends the rows of @stmt to @window, reusing the items of @reuse. */
void
_tern_message_list_read_rows (TernMessageList   *self,
                              sqlite3_stmt      *stmt,
                              GHashTable        *reuse,
                              TernMessageWindow *window)
{
  int rc;

  if (stmt == NULL)
    return;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 ident = sqlite3_column_int64 (stmt, IDENT_COLUMN);
      TernMessageItem *item = reuse ? g_hash_table_lookup (reuse, &ident) : NULL;

      if (item != NULL)
        {
          g_object_ref (item);
          _tern_message_item_update (item, stmt);
        }
      else
        item = _tern_message_item_new_from_row (stmt);
      g_ptr_array_add (window->items, item);
      g_ptr_array_add (window->keys, sqlite3_value_dup (sqlite3_column_value (stmt, KEY_COLUMN)));
      g_array_append_val (window->idents, ident);
      self->rows_read++;
    }
  if (rc != SQLITE_DONE)
    query_failed (self);
  sqlite3_reset (stmt);
}
