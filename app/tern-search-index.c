/* tern-search-index.c: what the full-text index holds.
 *
 * The index (messages_fts, migrations 005, 007 and 009) gets subject,
 * sender, recipients and scope (the tokens of the message's folder and
 * account) from the mail store as messages are stored.  The text of a body
 * stored with its message (POP3, the outbox's copies) comes with it
 * (_tern_search_message_text(), from the parse that decoded the headers);
 * bodies cached later by syncs are indexed by tern_search_index_bodies().
 * Both take the text/plain part, or the words of the HTML one
 * (TernMessageContent), and remember what they did in search_bodies.  The
 * tern_fold tokenizer folds what unicode61 leaves apart.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-search"

#include "config.h"

#include <string.h>

#include "tern-app-error.h"
#include "tern-mail-store.h"
#include "tern-mail-store-private.h"
#include "tern-message-content.h"
#include "tern-message-content-private.h"
#include "tern-search.h"

/* Bodies per write transaction: few fsyncs, and a writer lock held for
 * a fraction of a second. */
#define INDEX_BATCH 250
/* Enough text of one body to find it by; the rest only grows the index. */
#define MAX_BODY_TEXT (256 * 1024)

/* The tern_fold tokenizer: unicode61 (or the tokenizer named by its first
 * argument) with ё folded to е, which unicode61's remove_diacritics does
 * not do for Cyrillic.  Both are two bytes in UTF-8, so offsets hold. */

typedef struct
{
  fts5_tokenizer inner_methods;
  Fts5Tokenizer *inner;
} FoldTokenizer;

typedef struct
{
  void *context;
  int (*token) (void *, int, const char *, int, int, int);
} FoldCall;

static int
fold_create (void                *user_data,
             const char         **argv,
             int                  argc,
             Fts5Tokenizer      **out)
{
  fts5_api *api = user_data;
  FoldTokenizer *tokenizer = g_new0 (FoldTokenizer, 1);
  void *inner_data = NULL;
  int rc;

  rc = api->xFindTokenizer (api, argc > 0 ? argv[0] : "unicode61", &inner_data,
                            &tokenizer->inner_methods);
  if (rc == SQLITE_OK)
    rc = tokenizer->inner_methods.xCreate (inner_data, argc > 0 ? argv + 1 : NULL,
                                           argc > 0 ? argc - 1 : 0, &tokenizer->inner);
  if (rc != SQLITE_OK)
    {
      g_free (tokenizer);
      return rc;
    }
  *out = (Fts5Tokenizer *) tokenizer;
  return SQLITE_OK;
}

static void
fold_delete (Fts5Tokenizer *object)
{
  FoldTokenizer *tokenizer = (FoldTokenizer *) object;

  tokenizer->inner_methods.xDelete (tokenizer->inner);
  g_free (tokenizer);
}

/* The first "ё" (D1 91 in UTF-8) in @token: memchr for its first byte
 * costs a tenth of memmem () for the pair, on every token indexed. */
static char *
find_yo (const char *token,
         int         length)
{
  const char *end = token + length;

  for (const char *p = token; p < end && (p = memchr (p, 0xd1, end - p)) != NULL; p++)
    if (p + 1 < end && (guchar) p[1] == 0x91)
      return (char *) p;
  return NULL;
}

static int
fold_token_cb (void       *user_data,
               int         flags,
               const char *token,
               int         length,
               int         start,
               int         end)
{
  FoldCall *call = user_data;
  char stack[128];
  char *folded;
  int rc;

  if (find_yo (token, length) == NULL)
    return call->token (call->context, flags, token, length, start, end);

  folded = length <= (int) sizeof stack ? stack : g_malloc (length);
  memcpy (folded, token, length);
  for (char *p = folded; (p = find_yo (p, length - (p - folded))) != NULL; p += 2)
    memcpy (p, "е", 2);
  rc = call->token (call->context, flags, folded, length, start, end);
  if (folded != stack)
    g_free (folded);
  return rc;
}

static int
fold_tokenize (Fts5Tokenizer *object,
               void          *context,
               int            flags,
               const char    *text,
               int            length,
               int          (*token) (void *, int, const char *, int, int, int))
{
  FoldTokenizer *tokenizer = (FoldTokenizer *) object;
  FoldCall call = { context, token };

  return tokenizer->inner_methods.xTokenize (tokenizer->inner, &call, flags, text, length,
                                             fold_token_cb);
}

static fts5_api *
get_fts5_api (sqlite3 *db)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  fts5_api *api = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT fts5 (?1)", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_pointer (stmt, 1, &api, "fts5_api_ptr", NULL);
  sqlite3_step (stmt);
  return api;
}

gboolean
tern_search_register_tokenizer (sqlite3  *db,
                                GError  **error)
{
  static fts5_tokenizer methods = { fold_create, fold_delete, fold_tokenize };
  fts5_api *api = get_fts5_api (db);

  if (api == NULL ||
      api->xCreateTokenizer (api, "tern_fold", api, &methods, NULL) != SQLITE_OK)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_STORE,
                   "Cannot set up the search index: %s", sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

/* Body text */

/* Good enough for an index: the words between the tags. */
static char *
strip_tags (const char *html)
{
  GString *out = g_string_new (NULL);
  gboolean in_tag = FALSE;

  for (const char *p = html; *p != '\0'; p++)
    {
      if (*p == '<' || *p == '>')
        {
          in_tag = *p == '<';
          g_string_append_c (out, ' ');
        }
      else if (!in_tag)
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* The text/plain body (its charset read as the reading pane reads it),
 * or the words of the HTML one. */
static char *
content_text (TernMessageContent *content)
{
  const char *text = tern_message_content_get_text (content);
  const char *html = tern_message_content_get_html (content);
  char *result;

  if (text != NULL)
    result = g_strdup (text);
  else if (html != NULL)
    result = strip_tags (html);
  else
    result = g_strdup ("");
  if (strlen (result) > MAX_BODY_TEXT)
    {
      const char *end = result + MAX_BODY_TEXT;

      /* Cut at a character boundary. */
      result[g_utf8_find_prev_char (result, end + 1) - result] = '\0';
    }
  return result;
}

static char *
body_text (GBytes *raw)
{
  g_autoptr(TernMessageContent) content = tern_message_content_new_bodies (raw);

  return content_text (content);
}

char *
_tern_search_message_text (GBytes       *raw,
                           GMimeMessage *message)
{
  g_autoptr(TernMessageContent) content = _tern_message_content_new_bodies_from_message (raw,
                                                                                       message);

  return content_text (content);
}

typedef struct
{
  GArray *ids;
  gint64  after; /* the last id of the batch before */
} Unindexed;

/* The next bodies not indexed yet, in id order from @after on: from the
 * start every time, each batch would step over all those indexed before
 * it, quadratic in a first sync of 100,000 bodies. */
static gboolean
unindexed_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  Unindexed *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT b.message_id FROM bodies b WHERE b.message_id > ?2 AND NOT EXISTS"
                             " (SELECT 1 FROM search_bodies s WHERE s.message_id = b.message_id)"
                             " ORDER BY b.message_id LIMIT ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, INDEX_BATCH);
  sqlite3_bind_int64 (stmt, 2, data->after);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (data->ids, id);
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

typedef struct
{
  GArray *ids;
  GPtrArray *texts;
} IndexBatch;

typedef struct
{
  sqlite3_stmt *update;
  sqlite3_stmt *insert;
  sqlite3_stmt *mark;
  sqlite3_stmt *folder;
  sqlite3_stmt *touch;
  GHashTable *touched; /* folder ids announced in this batch */
} IndexStatements;

static void
index_statements_clear (IndexStatements *stmts)
{
  g_clear_pointer (&stmts->update, sqlite3_finalize);
  g_clear_pointer (&stmts->insert, sqlite3_finalize);
  g_clear_pointer (&stmts->mark, sqlite3_finalize);
  g_clear_pointer (&stmts->folder, sqlite3_finalize);
  g_clear_pointer (&stmts->touch, sqlite3_finalize);
  g_clear_pointer (&stmts->touched, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IndexStatements, index_statements_clear)

/* The body's text into the message's index row (a message stored without
 * one, a local copy, gets one). */
static gboolean
store_text (sqlite3          *db,
            IndexStatements  *stmts,
            gint64            id,
            const char       *text,
            GError          **error)
{
  sqlite3_reset (stmts->update);
  sqlite3_bind_int64 (stmts->update, 1, id);
  sqlite3_bind_text (stmts->update, 2, text, -1, SQLITE_STATIC);
  if (!tern_store_step_done (stmts->update, error))
    return FALSE;
  if (sqlite3_changes (db) > 0)
    return TRUE;
  sqlite3_reset (stmts->insert);
  sqlite3_bind_int64 (stmts->insert, 1, id);
  sqlite3_bind_text (stmts->insert, 2, text, -1, SQLITE_STATIC);
  return tern_store_step_done (stmts->insert, error);
}

/* Remembers that the body was indexed, and announces its folder. */
static gboolean
mark_indexed (sqlite3          *db,
              IndexStatements  *stmts,
              gint64            id,
              const char       *text,
              GError          **error)
{
  gint64 folder_id;
  int rc;

  sqlite3_reset (stmts->mark);
  sqlite3_bind_int64 (stmts->mark, 1, id);
  if (!tern_store_step_done (stmts->mark, error))
    return FALSE;
  if (text[0] == '\0')
    return TRUE;
  /* A message's row is written (unchanged) so that the store announces
   * its folder as changed: searches made before its body was indexed run
   * again and may find it now.  The store announces folders, not
   * messages: one row a folder in a batch is enough, and writing each
   * row (and the indexes with flags) cost more than the lookup. */
  sqlite3_reset (stmts->folder);
  sqlite3_bind_int64 (stmts->folder, 1, id);
  rc = sqlite3_step (stmts->folder);
  if (rc == SQLITE_DONE)
    return TRUE;
  if (rc != SQLITE_ROW)
    return tern_store_set_error (db, error);
  folder_id = sqlite3_column_int64 (stmts->folder, 0);
  if (!g_hash_table_add (stmts->touched, g_memdup2 (&folder_id, sizeof folder_id)))
    return TRUE;
  sqlite3_reset (stmts->touch);
  sqlite3_bind_int64 (stmts->touch, 1, id);
  return tern_store_step_done (stmts->touch, error);
}

static gboolean
index_batch_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  IndexBatch *batch = user_data;
  g_auto(IndexStatements) stmts = { 0 };

  stmts.update = tern_store_prepare (db, "UPDATE messages_fts SET body = ?2 WHERE rowid = ?1",
                                     error);
  stmts.insert = tern_store_prepare (db, TERN_MAIL_STORE_FTS_ROW_SQL, error);
  /* By SELECT: the message may have gone since its body was listed. */
  stmts.mark = tern_store_prepare (db,
                                   "INSERT OR IGNORE INTO search_bodies (message_id)"
                                   " SELECT id FROM messages WHERE id = ?1",
                                   error);
  stmts.folder = tern_store_prepare (db, "SELECT folder_id FROM messages WHERE id = ?1", error);
  stmts.touch = tern_store_prepare (db, "UPDATE messages SET flags = flags WHERE id = ?1", error);
  stmts.touched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  if (stmts.update == NULL || stmts.insert == NULL || stmts.mark == NULL ||
      stmts.folder == NULL || stmts.touch == NULL)
    return FALSE;
  /* Every text first, then the bookkeeping: a statement that may need
   * undoing in part (the INSERT ... SELECT of mark, the touch with its
   * triggers) opens a savepoint, at which FTS5 writes its pending terms
   * as a new segment; interleaved, that was a segment (and merges) per
   * body, about a quarter of the indexer's CPU. */
  for (guint i = 0; i < batch->ids->len; i++)
    if (!store_text (db, &stmts, g_array_index (batch->ids, gint64, i),
                     g_ptr_array_index (batch->texts, i), error))
      return FALSE;
  for (guint i = 0; i < batch->ids->len; i++)
    if (!mark_indexed (db, &stmts, g_array_index (batch->ids, gint64, i),
                       g_ptr_array_index (batch->texts, i), error))
      return FALSE;
  return TRUE;
}

/* Bodies are read and parsed on a thread of their own while the batch
 * before is written (parsing was about two fifths of the indexing's CPU,
 * and the writer waited for it); at most PREPARED_AHEAD batches are held.
 * A batch without ids ends the queue. */
#define PREPARED_AHEAD 2

typedef struct
{
  TernStore *store;
  GCancellable *cancellable;
  GAsyncQueue *batches; /* of IndexBatch */
  GAsyncQueue *slots;   /* tokens: one taken for each batch prepared */
  gint stop;            /* atomic: the writer failed, prepare no more */
  GError *error;        /* the preparing thread's, before its last push */
} Preparer;

static IndexBatch *
index_batch_new (void)
{
  IndexBatch *batch = g_new0 (IndexBatch, 1);

  batch->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  batch->texts = g_ptr_array_new_with_free_func (g_free);
  return batch;
}

static void
index_batch_free (IndexBatch *batch)
{
  g_array_unref (batch->ids);
  g_ptr_array_unref (batch->texts);
  g_free (batch);
}

/* The next batch after @after: its ids, and the text of each body. */
static gboolean
prepare_batch (Preparer    *preparer,
               IndexBatch  *batch,
               gint64       after)
{
  Unindexed unindexed = { batch->ids, after };

  if (g_cancellable_set_error_if_cancelled (preparer->cancellable, &preparer->error) ||
      !tern_store_read (preparer->store, unindexed_cb, &unindexed, &preparer->error))
    return FALSE;
  for (guint i = 0; i < batch->ids->len; i++)
    {
      gint64 id = g_array_index (batch->ids, gint64, i);
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) raw = tern_mail_store_get_body (preparer->store, id, &local_error);

      if (raw == NULL && local_error != NULL)
        g_debug ("Not indexing message %" G_GINT64_FORMAT ": %s", id, local_error->message);
      g_ptr_array_add (batch->texts, raw ? body_text (raw) : g_strdup (""));
    }
  return TRUE;
}

static gpointer
prepare_thread (gpointer user_data)
{
  Preparer *preparer = user_data;
  gint64 after = 0;

  for (;;)
    {
      IndexBatch *batch = index_batch_new ();

      g_async_queue_pop (preparer->slots);
      if (g_atomic_int_get (&preparer->stop) || !prepare_batch (preparer, batch, after) ||
          batch->ids->len == 0)
        {
          g_array_set_size (batch->ids, 0);
          g_async_queue_push (preparer->batches, batch);
          return NULL;
        }
      /* The next batch starts where this one ends. */
      after = g_array_index (batch->ids, gint64, batch->ids->len - 1);
      g_async_queue_push (preparer->batches, batch);
    }
}

static gboolean
index_bodies (TernStore     *store,
              guint         *indexed,
              GCancellable  *cancellable,
              GError       **error)
{
  Preparer preparer = { store, cancellable };
  g_autoptr(GError) write_error = NULL;
  GThread *thread;
  guint total = 0;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  preparer.batches = g_async_queue_new ();
  preparer.slots = g_async_queue_new ();
  for (guint i = 0; i < PREPARED_AHEAD; i++)
    g_async_queue_push (preparer.slots, GINT_TO_POINTER (1));
  thread = g_thread_new ("tern-index-prepare", prepare_thread, &preparer);
  for (;;)
    {
      IndexBatch *batch = g_async_queue_pop (preparer.batches);
      gboolean end = batch->ids->len == 0;

      /* After a failure the batches already prepared are dropped. */
      if (!end && write_error == NULL)
        {
          if (tern_store_write (store, index_batch_cb, batch, &write_error))
            total += batch->ids->len;
          else
            g_atomic_int_set (&preparer.stop, 1);
        }
      index_batch_free (batch);
      if (end)
        break;
      g_async_queue_push (preparer.slots, GINT_TO_POINTER (1));
    }
  g_thread_join (thread);
  g_async_queue_unref (preparer.batches);
  g_async_queue_unref (preparer.slots);

  if (indexed != NULL)
    *indexed = total;
  if (write_error != NULL)
    {
      g_clear_error (&preparer.error);
      g_propagate_error (error, g_steal_pointer (&write_error));
      return FALSE;
    }
  if (preparer.error != NULL)
    {
      g_propagate_error (error, preparer.error);
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_search_index_bodies (TernStore     *store,
                          guint         *indexed,
                          GCancellable  *cancellable,
                          GError       **error)
{
  gboolean ok;

  _tern_mail_pin_charsets ();
  ok = index_bodies (store, indexed, cancellable, error);
  _tern_mail_unpin_charsets ();
  return ok;
}
