/* tern-search.h: searching the store's messages.
 *
 * A query is words and operators the way mail clients write them:
 *
 *   from:alice to:bob subject:"quarterly report" has:attachment
 *   is:unread is:read is:starred before:2026-03-31 after:2026-01-01
 *   "an exact phrase" plain words
 *
 * Words and phrases are looked up in the full-text index (subject,
 * sender, recipients and the text of cached bodies), folded for case and
 * diacritics and ё/е; everything the user types is quoted before it
 * reaches FTS5, so "OR", "NEAR", "*" or parentheses are only text.  The
 * result is a TernMessageList, live like any other.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

#include "tern-message-list.h"
#include "tern-store.h"

G_BEGIN_DECLS

typedef enum {
  TERN_SEARCH_SCOPE_EVERYWHERE,
  TERN_SEARCH_SCOPE_ACCOUNT, /* scope_id: an account id */
  TERN_SEARCH_SCOPE_FOLDER,  /* scope_id: a folder id */
} TernSearchScope;

typedef struct _TernSearchQuery TernSearchQuery;

/* Parses @text; with @prefix the last word matches as a prefix (search as
 * you type).  NULL with TERN_APP_ERROR_INVALID for an operator that does
 * not parse or a query without anything to look for. */
TernSearchQuery *tern_search_query_parse   (const char       *text,
                                            gboolean          prefix,
                                            GError          **error);
void             tern_search_query_free    (TernSearchQuery  *query);
/* The FTS5 expression the words became, or NULL when there are none. */
const char      *tern_search_query_get_match (TernSearchQuery *query);
/* The query as an SQL condition on the messages m within @scope; its
 * parameters ?1, ?2... are appended to @bindings as references it owns
 * (give it g_variant_unref as free function). */
char            *tern_search_query_to_sql  (TernSearchQuery  *query,
                                            TernSearchScope   scope,
                                            gint64            scope_id,
                                            GPtrArray        *bindings);

/* What a query asks for, term by term, for searches the SQL cannot do
 * (IMAP SEARCH on the server, tern-server-search.c). */
typedef enum {
  TERN_SEARCH_TERM_WORDS,      /* text: a word or phrase, anywhere */
  TERN_SEARCH_TERM_FROM,       /* text */
  TERN_SEARCH_TERM_TO,         /* text */
  TERN_SEARCH_TERM_SUBJECT,    /* text */
  TERN_SEARCH_TERM_UNREAD,
  TERN_SEARCH_TERM_READ,
  TERN_SEARCH_TERM_STARRED,
  TERN_SEARCH_TERM_ATTACHMENT,
  TERN_SEARCH_TERM_BEFORE,     /* seconds: local midnight of the day */
  TERN_SEARCH_TERM_AFTER,      /* seconds: local midnight of the day */
} TernSearchTermKind;

typedef struct
{
  TernSearchTermKind kind;
  char *text;
  gint64 seconds;
} TernSearchTerm;

/* The terms of @query in the order they were typed; @n_terms receives how
 * many.  Owned by @query. */
const TernSearchTerm *tern_search_query_get_terms (TernSearchQuery *query,
                                                   guint           *n_terms);

/* The messages matching @text within @scope, newest first. */
TernMessageList *tern_search_run           (TernStore        *store,
                                            const char       *text,
                                            gboolean          prefix,
                                            TernSearchScope   scope,
                                            gint64            scope_id,
                                            GError          **error);

/* The same without blocking: the query is parsed at once (a query that
 * does not parse fails with TERN_APP_ERROR_INVALID), the list is counted
 * and its first page read on a worker with a pooled reader of @store, and
 * the callback runs in the caller's main context (the main thread's: the
 * list is used there).  A write committed while the worker reads is
 * picked up by the list when it is finished.  Cancelling @cancellable
 * interrupts the worker's SQLite, and the search then fails with
 * G_IO_ERROR_CANCELLED even if the worker was done: results of a cancelled
 * search never arrive. */
void             tern_search_run_async     (TernStore           *store,
                                            const char          *text,
                                            gboolean             prefix,
                                            TernSearchScope      scope,
                                            gint64               scope_id,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
TernMessageList *tern_search_run_finish    (TernStore           *store,
                                            GAsyncResult        *result,
                                            GError             **error);

/* Puts the text of cached bodies that are not in the index yet into it, a
 * batch per transaction; @indexed (optional) receives how many.  Call it
 * off the main thread after a sync or download cached bodies. */
gboolean         tern_search_index_bodies  (TernStore        *store,
                                            guint            *indexed,
                                            GCancellable     *cancellable,
                                            GError          **error);

/* Registers the tern_fold tokenizer the index uses on @db; TernStore does
 * it for each connection it opens. */
gboolean         tern_search_register_tokenizer (sqlite3     *db,
                                                 GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernSearchQuery, tern_search_query_free)

G_END_DECLS
