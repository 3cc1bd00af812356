/* tern-search.c: searching the store's messages.
 *
 * The parser turns the user's text into terms; words become one FTS5
 * expression in which every piece of user text is a quoted string, and
 * operators become SQL conditions with bound parameters.  Nothing the user
 * types is ever pasted into SQL or into FTS5 syntax.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-search"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-imap-types.h"
#include "tern-mail-store-private.h"
#include "tern-message-list-private.h"
#include "tern-search.h"

#define INDEX_BATCH 100
/* Enough text of one body to find it by; the rest only grows the index. */
#define MAX_BODY_TEXT (256 * 1024)

struct _TernSearchQuery
{
  GString *match;       /* FTS5 expression; empty: no words */
  GPtrArray *filters;   /* SQL conditions on m, one ? each */
  GPtrArray *values;    /* GVariant (sunk), one per ? in filters */
};

static void
clear_value (gpointer value)
{
  if (value != NULL)
    g_variant_unref (value);
}

void
tern_search_query_free (TernSearchQuery *query)
{
  if (query == NULL)
    return;
  g_string_free (query->match, TRUE);
  g_ptr_array_unref (query->filters);
  g_ptr_array_unref (query->values);
  g_free (query);
}

/* Words */

static gboolean
has_word_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* Adds @text as an FTS5 string (in double quotes, a quote doubled), for
 * @column or any column, as a prefix when @prefix. */
static void
add_words (TernSearchQuery *query,
           const char      *column,
           const char      *text,
           gboolean         prefix)
{
  /* FTS5 rejects a string that yields no token at all. */
  if (!has_word_characters (text))
    return;
  if (query->match->len > 0)
    g_string_append (query->match, " AND ");
  if (column != NULL)
    g_string_append_printf (query->match, "{%s} : ", column);
  g_string_append_c (query->match, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (query->match, '"');
      g_string_append_c (query->match, *p);
    }
  g_string_append_c (query->match, '"');
  if (prefix)
    g_string_append (query->match, " *");
}

static void
add_filter (TernSearchQuery *query,
            const char      *sql,
            GVariant        *value)
{
  g_ptr_array_add (query->filters, g_strdup (sql));
  g_ptr_array_add (query->values, value ? g_variant_ref_sink (value) : NULL);
}

/* Operators */

static gboolean
parse_date (const char  *text,
            const char  *op,
            gint64      *seconds,
            GError     **error)
{
  unsigned year, month, day;
  char end;
  g_autoptr(GDateTime) date = NULL;

  if (sscanf (text, "%4u-%2u-%2u%c", &year, &month, &day, &end) == 3 &&
      g_date_valid_dmy (day, month, year))
    date = g_date_time_new_local (year, month, day, 0, 0, 0);
  if (date == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   /* TRANSLATORS: %s:%s is the operator and what followed it, e.g.
                    * before:yesterday; keep YYYY-MM-DD as it is. */
                   _("“%s:%s” needs a date written as YYYY-MM-DD, for example %s:2026-03-31."),
                   op, text, op);
      return FALSE;
    }
  *seconds = g_date_time_to_unix (date);
  return TRUE;
}

static gboolean
add_flag_filter (TernSearchQuery  *query,
                 const char       *value,
                 GError          **error)
{
  g_autofree char *sql = NULL;

  if (g_ascii_strcasecmp (value, "unread") == 0)
    sql = g_strdup_printf ("(m.flags & %d) = 0", TERN_IMAP_FLAG_SEEN);
  else if (g_ascii_strcasecmp (value, "read") == 0)
    sql = g_strdup_printf ("(m.flags & %d) != 0", TERN_IMAP_FLAG_SEEN);
  else if (g_ascii_strcasecmp (value, "starred") == 0 || g_ascii_strcasecmp (value, "flagged") == 0)
    sql = g_strdup_printf ("(m.flags & %d) != 0", TERN_IMAP_FLAG_FLAGGED);
  else
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“is:%s” is not a search Tern knows: use is:unread, is:read or is:starred."),
                   value);
      return FALSE;
    }
  add_filter (query, sql, NULL);
  return TRUE;
}

/* key:value; FALSE with @error for a known key with a bad value. */
static gboolean
add_operator (TernSearchQuery  *query,
              const char       *key,
              const char       *value,
              gboolean          prefix,
              GError          **error)
{
  gint64 seconds;

  if (g_str_equal (key, "from"))
    add_words (query, "sender", value, prefix);
  else if (g_str_equal (key, "to"))
    add_words (query, "recipients", value, prefix);
  else if (g_str_equal (key, "subject"))
    add_words (query, "subject", value, prefix);
  else if (g_str_equal (key, "is"))
    return add_flag_filter (query, value, error);
  else if (g_str_equal (key, "has"))
    {
      if (g_ascii_strcasecmp (value, "attachment") != 0 &&
          g_ascii_strcasecmp (value, "attachments") != 0)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("“has:%s” is not a search Tern knows: use has:attachment."), value);
          return FALSE;
        }
      add_filter (query, "m.has_attachments != 0", NULL);
    }
  else if (g_str_equal (key, "before") || g_str_equal (key, "after"))
    {
      if (!parse_date (value, key, &seconds, error))
        return FALSE;
      add_filter (query,
                  g_str_equal (key, "before") ? "coalesce (m.date, m.internal_date, 0) < ?"
                                              : "coalesce (m.date, m.internal_date, 0) >= ?",
                  g_variant_new_int64 (seconds));
    }
  else
    g_assert_not_reached ();
  return TRUE;
}

static gboolean
is_operator (const char *key)
{
  static const char * const keys[] = { "from", "to", "subject", "is", "has", "before", "after" };

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_ascii_strcasecmp (key, keys[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Parsing */

typedef struct
{
  const char *p;
} Scanner;

/* A quoted phrase after its opening quote, up to the closing one or the
 * end of the text (sets @open). */
static char *
scan_quoted (Scanner  *scanner,
             gboolean *open)
{
  const char *start = scanner->p;
  const char *end = strchr (start, '"');

  *open = end == NULL;
  if (end == NULL)
    end = start + strlen (start);
  scanner->p = *end == '"' ? end + 1 : end;
  return g_strndup (start, end - start);
}

static char *
scan_word (Scanner *scanner)
{
  const char *start = scanner->p;

  while (*scanner->p != '\0' && !g_ascii_isspace (*scanner->p))
    scanner->p++;
  return g_strndup (start, scanner->p - start);
}

/* The value of key: (quoted or a word); @last: it ran to the end of the
 * text, so it is still being typed. */
static char *
scan_value (Scanner  *scanner,
            gboolean *last)
{
  gboolean open = FALSE;
  char *value;

  if (*scanner->p == '"')
    {
      scanner->p++;
      value = scan_quoted (scanner, &open);
      *last = open;
      return value;
    }
  value = scan_word (scanner);
  *last = *scanner->p == '\0';
  return value;
}

/* The key of key:value at the scanner, advanced past the colon, or NULL. */
static char *
scan_key (Scanner *scanner)
{
  const char *colon = scanner->p;

  while (g_ascii_isalpha (*colon))
    colon++;
  if (*colon != ':' || colon == scanner->p)
    return NULL;
  {
    g_autofree char *key = g_ascii_strdown (scanner->p, colon - scanner->p);

    if (!is_operator (key))
      return NULL;
    scanner->p = colon + 1;
    return g_steal_pointer (&key);
  }
}

static gboolean
parse_term (TernSearchQuery  *query,
            Scanner          *scanner,
            gboolean          prefix,
            GError          **error)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  gboolean last = FALSE;

  if (*scanner->p == '"')
    {
      scanner->p++;
      value = scan_quoted (scanner, &last);
      add_words (query, NULL, value, prefix && last);
      return TRUE;
    }
  key = scan_key (scanner);
  if (key == NULL)
    {
      value = scan_word (scanner);
      add_words (query, NULL, value, prefix && *scanner->p == '\0');
      return TRUE;
    }
  value = scan_value (scanner, &last);
  if (value[0] == '\0')
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s:” needs something after the colon, for example %s:word."), key, key);
      return FALSE;
    }
  return add_operator (query, key, value, prefix && last, error);
}

TernSearchQuery *
tern_search_query_parse (const char  *text,
                         gboolean     prefix,
                         GError     **error)
{
  g_autoptr(TernSearchQuery) query = g_new0 (TernSearchQuery, 1);
  Scanner scanner = { text };

  g_return_val_if_fail (text != NULL, NULL);

  query->match = g_string_new (NULL);
  query->filters = g_ptr_array_new_with_free_func (g_free);
  query->values = g_ptr_array_new_with_free_func (clear_value);
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The search is not valid UTF-8 text."));
      return NULL;
    }
  for (;;)
    {
      while (g_ascii_isspace (*scanner.p))
        scanner.p++;
      if (*scanner.p == '\0')
        break;
      if (!parse_term (query, &scanner, prefix, error))
        return NULL;
    }
  if (query->match->len == 0 && query->filters->len == 0)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("There is nothing to search for: type a word, or an operator "
                             "such as from:name or is:unread."));
      return NULL;
    }
  return g_steal_pointer (&query);
}

const char *
tern_search_query_get_match (TernSearchQuery *query)
{
  g_return_val_if_fail (query != NULL, NULL);
  return query->match->len > 0 ? query->match->str : NULL;
}

/* SQL */

static void
append_condition (GString    *sql,
                  const char *condition)
{
  if (sql->len > 0)
    g_string_append (sql, " AND ");
  g_string_append (sql, condition);
}

/* @condition with its ? numbered as the next parameter of @bindings. */
static void
append_bound (GString    *sql,
              const char *condition,
              GVariant   *value,
              GPtrArray  *bindings)
{
  const char *mark = strchr (condition, '?');

  g_ptr_array_add (bindings, g_variant_ref_sink (value));
  if (sql->len > 0)
    g_string_append (sql, " AND ");
  g_string_append_len (sql, condition, mark - condition + 1);
  g_string_append_printf (sql, "%u%s", bindings->len, mark + 1);
}

char *
tern_search_query_to_sql (TernSearchQuery *query,
                          TernSearchScope  scope,
                          gint64           scope_id,
                          GPtrArray       *bindings)
{
  GString *sql = g_string_new (NULL);

  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (bindings != NULL, NULL);

  if (scope == TERN_SEARCH_SCOPE_FOLDER)
    append_bound (sql, "m.folder_id = ?", g_variant_new_int64 (scope_id), bindings);
  else if (scope == TERN_SEARCH_SCOPE_ACCOUNT)
    append_bound (sql, "m.folder_id IN (SELECT id FROM folders WHERE account_id = ?)",
                  g_variant_new_int64 (scope_id), bindings);
  if (query->match->len > 0)
    append_bound (sql, "m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)",
                  g_variant_new_string (query->match->str), bindings);
  for (guint i = 0; i < query->filters->len; i++)
    {
      GVariant *value = g_ptr_array_index (query->values, i);

      if (value != NULL)
        append_bound (sql, g_ptr_array_index (query->filters, i), value, bindings);
      else
        append_condition (sql, g_ptr_array_index (query->filters, i));
    }
  return g_string_free (sql, FALSE);
}

TernMessageList *
tern_search_run (TernStore        *store,
                 const char       *text,
                 gboolean          prefix,
                 TernSearchScope   scope,
                 gint64            scope_id,
                 GError          **error)
{
  g_autoptr(TernSearchQuery) query = NULL;
  g_autoptr(GPtrArray) bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree char *condition = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  query = tern_search_query_parse (text, prefix, error);
  if (query == NULL)
    return NULL;
  condition = tern_search_query_to_sql (query, scope, scope_id, bindings);
  return _tern_message_list_new_filtered (store, condition, bindings,
                                          scope == TERN_SEARCH_SCOPE_FOLDER ? &scope_id : NULL,
                                          scope == TERN_SEARCH_SCOPE_FOLDER ? 1 : 0, error);
}

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

  if (memmem (token, length, "ё", 2) == NULL)
    return call->token (call->context, flags, token, length, start, end);

  folded = length <= (int) sizeof stack ? stack : g_malloc (length);
  memcpy (folded, token, length);
  for (char *p = folded; (p = memmem (p, length - (p - folded), "ё", 2)) != NULL; p += 2)
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

typedef struct
{
  char *plain;
  char *html;
} BodyText;

static void
find_text_cb (GMimeObject *parent,
              GMimeObject *part,
              gpointer     user_data)
{
  BodyText *text = user_data;
  GMimeContentType *type = g_mime_object_get_content_type (part);
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (part);

  if (!GMIME_IS_TEXT_PART (part) ||
      (disposition != NULL && g_mime_content_disposition_is_attachment (disposition)))
    return;
  if (text->plain == NULL && g_mime_content_type_is_type (type, "text", "plain"))
    text->plain = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
  else if (text->html == NULL && g_mime_content_type_is_type (type, "text", "html"))
    text->html = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
}

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

static char *
body_text (GBytes *raw)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  BodyText text = { NULL, NULL };
  char *result;

  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    return g_strdup ("");
  g_mime_message_foreach (message, find_text_cb, &text);
  g_object_unref (message);
  if (text.plain != NULL)
    result = g_steal_pointer (&text.plain);
  else if (text.html != NULL)
    result = strip_tags (text.html);
  else
    result = g_strdup ("");
  g_free (text.plain);
  g_free (text.html);
  if (strlen (result) > MAX_BODY_TEXT)
    {
      const char *end = result + MAX_BODY_TEXT;

      /* Cut at a character boundary. */
      result[g_utf8_find_prev_char (result, end + 1) - result] = '\0';
    }
  return result;
}

static gboolean
unindexed_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  GArray *ids = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT b.message_id FROM bodies b WHERE NOT EXISTS"
                             " (SELECT 1 FROM search_bodies s WHERE s.message_id = b.message_id)"
                             " LIMIT ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, INDEX_BATCH);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
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

static gboolean
store_text (sqlite3       *db,
            sqlite3_stmt  *update,
            sqlite3_stmt  *insert,
            sqlite3_stmt  *mark,
            gint64         id,
            const char    *text,
            GError       **error)
{
  sqlite3_reset (update);
  sqlite3_bind_int64 (update, 1, id);
  sqlite3_bind_text (update, 2, text, -1, SQLITE_STATIC);
  if (!tern_store_step_done (update, error))
    return FALSE;
  /* A message stored without its index row (a local copy) gets one. */
  if (sqlite3_changes (db) == 0)
    {
      sqlite3_reset (insert);
      sqlite3_bind_int64 (insert, 1, id);
      sqlite3_bind_text (insert, 2, text, -1, SQLITE_STATIC);
      if (!tern_store_step_done (insert, error))
        return FALSE;
    }
  sqlite3_reset (mark);
  sqlite3_bind_int64 (mark, 1, id);
  return tern_store_step_done (mark, error);
}

static gboolean
index_batch_cb (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  IndexBatch *batch = user_data;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) mark = NULL;

  update = tern_store_prepare (db, "UPDATE messages_fts SET body = ?2 WHERE rowid = ?1", error);
  insert = tern_store_prepare (db,
                               "INSERT INTO messages_fts (rowid, subject, sender, recipients, body)"
                               " SELECT id, subject,"
                               " trim (coalesce (from_name, '') || ' ' || coalesce (from_address, '')),"
                               " trim (coalesce (to_list, '') || ' ' || coalesce (cc_list, '')), ?2"
                               " FROM messages WHERE id = ?1",
                               error);
  /* By SELECT: the message may have gone since its body was listed. */
  mark = tern_store_prepare (db,
                             "INSERT OR IGNORE INTO search_bodies (message_id)"
                             " SELECT id FROM messages WHERE id = ?1",
                             error);
  if (update == NULL || insert == NULL || mark == NULL)
    return FALSE;
  for (guint i = 0; i < batch->ids->len; i++)
    if (!store_text (db, update, insert, mark, g_array_index (batch->ids, gint64, i),
                     g_ptr_array_index (batch->texts, i), error))
      return FALSE;
  return TRUE;
}

gboolean
tern_search_index_bodies (TernStore     *store,
                          guint         *indexed,
                          GCancellable  *cancellable,
                          GError       **error)
{
  guint total = 0;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  for (;;)
    {
      g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      IndexBatch batch = { ids, texts };

      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !tern_store_read (store, unindexed_cb, ids, error))
        return FALSE;
      if (ids->len == 0)
        break;
      /* Parsed outside the write transaction: it holds the writer. */
      for (guint i = 0; i < ids->len; i++)
        {
          g_autoptr(GError) local_error = NULL;
          g_autoptr(GBytes) raw = tern_mail_store_get_body (store, g_array_index (ids, gint64, i),
                                                           &local_error);

          if (raw == NULL && local_error != NULL)
            g_debug ("Not indexing message %" G_GINT64_FORMAT ": %s",
                     g_array_index (ids, gint64, i), local_error->message);
          g_ptr_array_add (texts, raw ? body_text (raw) : g_strdup (""));
        }
      if (!tern_store_write (store, index_batch_cb, &batch, error))
        return FALSE;
      total += ids->len;
    }
  if (indexed != NULL)
    *indexed = total;
  return TRUE;
}
