/* tern-message-list-private.h: what the files of TernMessageList share,
 * and lists over any condition, for search.
 *
 * tern-message-list.c       the GObject, the GListModel and paging
 * tern-message-list-sql.c   statements, windows of rows and reading them
 * tern-message-list-refresh.c  finding what a write changed, items-changed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "tern-message-list.h"

G_BEGIN_DECLS

#define TERN_MESSAGE_LIST_PAGE_SIZE 256

typedef enum {
  TERN_MESSAGE_STMT_COUNT,        /* count (*), sum (ident) */
  TERN_MESSAGE_STMT_COUNT_BEFORE, /* the same, of the rows before (:k, :i) */
  TERN_MESSAGE_STMT_PAGE,         /* :limit rows from :offset */
  TERN_MESSAGE_STMT_AFTER,        /* :limit rows after (:k, :i) */
  TERN_MESSAGE_STMT_RANGE,        /* the rows from (:k, :i) to (:k2, :i2), both included */
  TERN_MESSAGE_N_STMTS
} TernMessageStmt;

/* Consecutive rows of the list. */
typedef struct
{
  guint start;       /* position of the first row */
  gint64 prefix_sum; /* sum of the identities before it */
  GPtrArray *items;  /* TernMessageItem */
  GPtrArray *keys;   /* sqlite3_value: sort keys */
  GArray *idents;    /* gint64: message id, or thread key when threaded */
} TernMessageWindow;

struct _TernMessageList
{
  GObject parent_instance;

  /* Owned references */
  TernStore *store;
  sqlite3 *db; /* the store's main reader */
  sqlite3_stmt *stmts[TERN_MESSAGE_N_STMTS];
  gulong changed_id;
  /* While a worker reads the first rows (_tern_message_list_load): the
   * main thread only notes that a write concerned the list. */
  gboolean loading;
  gboolean missed_change;

  /* What the list shows */
  char *condition;      /* SQL on the messages m, with ?1, ?2... */
  /* How pages are read best (tern-message-list-sql.c). */
  char *page_condition; /* the same rows, for reading pages; NULL: condition */
  gboolean page_condition_date_only;
  guint driven_below;   /* fewer rows: pages sort what condition finds */
  char *count_rows;     /* a SELECT of the same rows' ident, cheaper to count; NULL: condition */
  gboolean driven;      /* the way the page statements are prepared */
  GPtrArray *bindings;  /* GVariant */
  GArray *folder_ids;   /* gint64; empty: any folder */
  gboolean one_folder;  /* condition is the folder ?1: conversations from folder_threads */
  TernMessageListSort sort;
  gboolean descending;
  gboolean threaded;

  /* State */
  guint n_items;
  gint64 total_sum; /* of the identities of all rows */
  TernMessageWindow *window;
  guint64 rows_read;

  /* While a refresh emits items-changed, listeners see the old rows up to
   * split_old and the new ones from split_new on. */
  gboolean emitting;
  guint split_old;
  guint split_new;
  TernMessageWindow *old_window;
};

/* tern-message-list-sql.c */
TernMessageWindow *_tern_message_window_new      (guint              start);
void               _tern_message_window_free     (TernMessageWindow *window);
gint64             _tern_message_window_ident    (TernMessageWindow *window,
                                                  guint              index);
gint64             _tern_message_window_sum      (TernMessageWindow *window);
gboolean           _tern_message_window_contains (TernMessageWindow *window,
                                                  guint              position);
GHashTable        *_tern_message_window_index    (TernMessageWindow *window);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernMessageWindow, _tern_message_window_free)

void          _tern_message_list_clear_statements (TernMessageList   *self);
sqlite3_stmt *_tern_message_list_statement (TernMessageList   *self,
                                            TernMessageStmt    kind);
void          _tern_message_list_bind_key  (sqlite3_stmt      *stmt,
                                            const char        *key_name,
                                            const char        *ident_name,
                                            TernMessageWindow *window,
                                            guint              index);
void          _tern_message_list_bind_int  (sqlite3_stmt      *stmt,
                                            const char        *name,
                                            gint64             value);
gboolean      _tern_message_list_count     (TernMessageList   *self,
                                            sqlite3_stmt      *stmt,
                                            guint             *count,
                                            gint64            *sum);
void          _tern_message_list_read_rows (TernMessageList   *self,
                                            sqlite3_stmt      *stmt,
                                            GHashTable        *reuse,
                                            TernMessageWindow *window);

/* CREATE INDEX IF NOT EXISTS of the index a folder's list sorted by
 * @sort reads its pages from, when that one is made on first use
 * (migration 016); NULL for the date order. */
const char   *_tern_message_list_sort_index_sql (TernMessageListSort sort);

void          _tern_message_list_set_paging (TernMessageList *self,
                                             const char      *page_condition,
                                             gboolean         date_only,
                                             guint            driven_below);

/* tern-message-list-refresh.c */
void          _tern_message_list_refresh   (TernMessageList   *self);

/* A list of the messages m for which the SQL @condition holds; it refers
 * to @bindings (GVariants of type x or s, floating ones sunk) as ?1, ?2...
 * The list refreshes when messages of @folder_ids change, or of any folder
 * when @n_folder_ids is 0. */
TernMessageList *_tern_message_list_new_filtered (TernStore     *store,
                                                  const char    *condition,
                                                  GPtrArray     *bindings,
                                                  const gint64  *folder_ids,
                                                  guint          n_folder_ids,
                                                  GError       **error);

/* The same, counted (when not threaded) as the idents that @count_rows
 * selects with the same bindings: the same rows found a cheaper way (a
 * search counts from its full-text matches). */
TernMessageList *_tern_message_list_new_counted (TernStore     *store,
                                                 const char    *condition,
                                                 const char    *count_rows,
                                                 GPtrArray     *bindings,
                                                 const gint64  *folder_ids,
                                                 guint          n_folder_ids,
                                                 GError       **error);

/* The same list, made on the main thread without reading anything: it
 * follows the store's changes from now on, and _tern_message_list_load()
 * reads its count and first page elsewhere (a search as the user types). */
TernMessageList *_tern_message_list_new_pending (TernStore     *store,
                                                 const char    *condition,
                                                 const char    *count_rows,
                                                 GPtrArray     *bindings,
                                                 const gint64  *folder_ids,
                                                 guint          n_folder_ids);
/* Counts a pending list and reads its first page on @db, a reader of the
 * store on any thread (in a read transaction, so that both are of one
 * snapshot); nothing else may use the list meanwhile.  @cancellable
 * interrupts SQLite. */
gboolean         _tern_message_list_load        (TernMessageList  *self,
                                                 sqlite3          *db,
                                                 GCancellable     *cancellable,
                                                 GError          **error);
/* Back on the main thread after _tern_message_list_load(): the list pages
 * on the store's main reader from now on, and a write that committed
 * while it loaded is refreshed now. */
gboolean         _tern_message_list_finish_load (TernMessageList  *self,
                                                 GError          **error);

G_END_DECLS
