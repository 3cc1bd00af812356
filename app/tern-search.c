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
#include <stdio.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-imap-types.h"
#include "tern-message-list-private.h"
#include "tern-search.h"

/* Below this many matches, sorting them costs less than walking a sort
 * index until a page of them turns up (about √(page × folder) for a
 * folder of 100,000). */
#define FEW_MATCHES 4096

struct _TernSearchQuery
{
  GString *match;       /* FTS5 expression; empty: no words */
  GPtrArray *filters;   /* SQL conditions on m, one ? each */
  GPtrArray *values;    /* GVariant (sunk), one per ? in filters */
  GArray *terms;        /* TernSearchTerm */
};

static void
clear_term (gpointer data)
{
  TernSearchTerm *term = data;

  g_free (term->text);
}

static void
add_term (TernSearchQuery    *query,
          TernSearchTermKind  kind,
          const char         *text,
          gint64              seconds)
{
  TernSearchTerm term = { kind, g_strdup (text), seconds };

  g_array_append_val (query->terms, term);
}

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
  g_array_unref (query->terms);
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

/* U+E000 begins the index's scope tokens (migration 007): a word the
 * user types must not become one. */
#define SCOPE_MARK "\xee\x80\x80"

static char *
without_scope_mark (const char *text)
{
  g_auto(GStrv) pieces = g_strsplit (text, SCOPE_MARK, -1);

  return g_strjoinv (" ", pieces);
}

/* Adds @text as an FTS5 string (in double quotes, a quote doubled), for
 * @column or any column, as a prefix when @prefix. */
static void
add_words (TernSearchQuery *query,
           const char      *column,
           const char      *user_text,
           gboolean         prefix)
{
  static const struct { const char *column; TernSearchTermKind kind; } kinds[] = {
    { "sender", TERN_SEARCH_TERM_FROM },
    { "recipients", TERN_SEARCH_TERM_TO },
    { "subject", TERN_SEARCH_TERM_SUBJECT },
  };
  g_autofree char *text = without_scope_mark (user_text);
  TernSearchTermKind kind = TERN_SEARCH_TERM_WORDS;

  /* FTS5 rejects a string that yields no token at all. */
  if (!has_word_characters (text))
    return;
  for (guint i = 0; column != NULL && i < G_N_ELEMENTS (kinds); i++)
    if (g_str_equal (column, kinds[i].column))
      kind = kinds[i].kind;
  add_term (query, kind, text, 0);
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
  TernSearchTermKind kind;

  if (g_ascii_strcasecmp (value, "unread") == 0)
    {
      sql = g_strdup_printf ("(m.flags & %d) = 0", TERN_IMAP_FLAG_SEEN);
      kind = TERN_SEARCH_TERM_UNREAD;
    }
  else if (g_ascii_strcasecmp (value, "read") == 0)
    {
      sql = g_strdup_printf ("(m.flags & %d) != 0", TERN_IMAP_FLAG_SEEN);
      kind = TERN_SEARCH_TERM_READ;
    }
  else if (g_ascii_strcasecmp (value, "starred") == 0 || g_ascii_strcasecmp (value, "flagged") == 0)
    {
      sql = g_strdup_printf ("(m.flags & %d) != 0", TERN_IMAP_FLAG_FLAGGED);
      kind = TERN_SEARCH_TERM_STARRED;
    }
  else
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“is:%s” is not a search Tern knows: use is:unread, is:read or is:starred."),
                   value);
      return FALSE;
    }
  add_filter (query, sql, NULL);
  add_term (query, kind, NULL, 0);
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
      add_term (query, TERN_SEARCH_TERM_ATTACHMENT, NULL, 0);
    }
  else if (g_str_equal (key, "before") || g_str_equal (key, "after"))
    {
      if (!parse_date (value, key, &seconds, error))
        return FALSE;
      add_filter (query,
                  g_str_equal (key, "before") ? "coalesce (m.date, m.internal_date, 0) < ?"
                                              : "coalesce (m.date, m.internal_date, 0) >= ?",
                  g_variant_new_int64 (seconds));
      add_term (query, g_str_equal (key, "before") ? TERN_SEARCH_TERM_BEFORE : TERN_SEARCH_TERM_AFTER,
                NULL, seconds);
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
  g_autofree char *key = NULL;

  while (g_ascii_isalpha (*colon))
    colon++;
  if (*colon != ':' || colon == scanner->p)
    return NULL;
  key = g_ascii_strdown (scanner->p, colon - scanner->p);
  if (!is_operator (key))
    return NULL;
  scanner->p = colon + 1;
  return g_steal_pointer (&key);
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
  g_autoptr(TernSearchQuery) query = NULL;
  Scanner scanner = { text };

  g_return_val_if_fail (text != NULL, NULL);

  query = g_new0 (TernSearchQuery, 1);
  query->match = g_string_new (NULL);
  query->filters = g_ptr_array_new_with_free_func (g_free);
  query->values = g_ptr_array_new_with_free_func (clear_value);
  query->terms = g_array_new (FALSE, FALSE, sizeof (TernSearchTerm));
  g_array_set_clear_func (query->terms, clear_term);
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

const TernSearchTerm *
tern_search_query_get_terms (TernSearchQuery *query,
                             guint           *n_terms)
{
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (n_terms != NULL, NULL);

  *n_terms = query->terms->len;
  return (const TernSearchTerm *) query->terms->data;
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

/* How a condition is written for SQLite to find its rows the right way. */
typedef enum {
  /* Walking a sort index: the matches are kept off ("+"), a set to test. */
  BY_INDEX,
  /* From the full-text matches: the folder indexes are kept off. */
  BY_MATCHES,
  /* For counting, joined to the matches (COUNT_ROWS_SQL). */
  JOINED,
} Plan;

/* Counting a search's rows is most of its time when a word is common
 * (38,000 matches in a folder of 100,000).  The scope is in the index
 * (migration 007): the expression gets the folder's or account's token,
 * and FTS5 counts the matches by itself, intersecting doclists, instead of
 * the folder of each match being looked up (three times the time).  Only
 * filters need the messages, each match looked up by id.  %s: the
 * condition. */
#define COUNT_MATCHES_SQL "SELECT messages_fts.rowid AS ident FROM messages_fts WHERE %s"
#define COUNT_ROWS_SQL                                                              \
  "SELECT m.id AS ident FROM messages_fts CROSS JOIN messages m"                    \
  " ON m.id = messages_fts.rowid WHERE %s"

static char *
build_sql (TernSearchQuery *query,
           TernSearchScope  scope,
           gint64           scope_id,
           GPtrArray       *bindings,
           Plan             plan)
{
  GString *sql = g_string_new (NULL);
  const char *plus = plan == BY_MATCHES ? "+" : "";

  /* JOINED has its scope in the expression, with the same ?1. */
  if (plan == JOINED && scope != TERN_SEARCH_SCOPE_EVERYWHERE)
    g_ptr_array_add (bindings, g_variant_ref_sink (g_variant_new_int64 (scope_id)));
  else if (scope == TERN_SEARCH_SCOPE_FOLDER)
    {
      g_autofree char *folder = g_strdup_printf ("%sm.folder_id = ?", plus);

      append_bound (sql, folder, g_variant_new_int64 (scope_id), bindings);
    }
  else if (scope == TERN_SEARCH_SCOPE_ACCOUNT)
    {
      g_autofree char *account =
        g_strdup_printf ("%sm.folder_id IN (SELECT id FROM folders WHERE account_id = ?)", plus);

      append_bound (sql, account, g_variant_new_int64 (scope_id), bindings);
    }
  /* BY_INDEX keeps SQLite off the matches, so that it walks a sort index
   * (even when statistics would suggest otherwise).  JOINED and
   * BY_MATCHES read only the matches in scope: the expression gets the
   * scope's token, ... AND "<U+E000>f9" for folder 9 (a: an account),
   * from the same ?1.  BY_INDEX tests a set of the matches, which is
   * built faster from the words alone. */
  if (query->match->len > 0)
    {
      g_autofree char *match = NULL;

      g_ptr_array_add (bindings, g_variant_ref_sink (g_variant_new_string (query->match->str)));
      if (plan != BY_INDEX && scope != TERN_SEARCH_SCOPE_EVERYWHERE)
        match = g_strdup_printf ("messages_fts MATCH (?%u || ' AND \"' || char (57344) || '%c'"
                                 " || ?1 || '\"')", bindings->len,
                                 scope == TERN_SEARCH_SCOPE_FOLDER ? 'f' : 'a');
      else
        match = g_strdup_printf ("messages_fts MATCH ?%u", bindings->len);
      if (plan == JOINED)
        append_condition (sql, match);
      else
        {
          g_autofree char *in = g_strdup_printf ("%sm.id IN (SELECT rowid FROM messages_fts WHERE %s)",
                                                 plan == BY_MATCHES ? "" : "+", match);

          append_condition (sql, in);
        }
    }
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

char *
tern_search_query_to_sql (TernSearchQuery *query,
                          TernSearchScope  scope,
                          gint64           scope_id,
                          GPtrArray       *bindings)
{
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (bindings != NULL, NULL);

  return build_sql (query, scope, scope_id, bindings, BY_INDEX);
}

/* The list of @query's matches: counted now on the main reader, or
 * @pending, to be counted on a worker (tern_search_run_async()). */
static TernMessageList *
new_list (TernStore        *store,
          TernSearchQuery  *query,
          TernSearchScope   scope,
          gint64            scope_id,
          gboolean          pending,
          GError          **error)
{
  g_autoptr(GPtrArray) bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GPtrArray) same_bindings = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autofree char *by_index = NULL;
  g_autofree char *by_matches = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *count_rows = NULL;
  const gint64 *folder_ids = scope == TERN_SEARCH_SCOPE_FOLDER ? &scope_id : NULL;
  guint n_folder_ids = scope == TERN_SEARCH_SCOPE_FOLDER ? 1 : 0;
  TernMessageList *list;

  by_index = build_sql (query, scope, scope_id, bindings, BY_INDEX);
  if (query->match->len == 0)
    {
      if (pending)
        return _tern_message_list_new_pending (store, by_index, NULL, bindings, folder_ids,
                                               n_folder_ids);
      return _tern_message_list_new_filtered (store, by_index, bindings, folder_ids, n_folder_ids,
                                              error);
    }

  /* Words: counted from their matches; pages read in index order when
   * there are many, from the matches when few (tern-message-list-sql.c). */
  by_matches = build_sql (query, scope, scope_id, same_bindings, BY_MATCHES);
  g_ptr_array_set_size (same_bindings, 0);
  joined = build_sql (query, scope, scope_id, same_bindings, JOINED);
  count_rows = g_strdup_printf (query->filters->len == 0 ? COUNT_MATCHES_SQL : COUNT_ROWS_SQL, joined);
  if (pending)
    list = _tern_message_list_new_pending (store, by_matches, count_rows, bindings, folder_ids,
                                           n_folder_ids);
  else
    list = _tern_message_list_new_counted (store, by_matches, count_rows, bindings, folder_ids,
                                           n_folder_ids, error);
  if (list != NULL)
    _tern_message_list_set_paging (list, by_index, FALSE, FEW_MATCHES);
  return list;
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

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  query = tern_search_query_parse (text, prefix, error);
  if (query == NULL)
    return NULL;
  return new_list (store, query, scope, scope_id, FALSE, error);
}

/* Asynchronous search
 *
 * The list is made, kept and released on the caller's thread: an inner
 * task lends it to a worker that counts it and reads its first page on a
 * pooled reader, and the outer task, which no worker touches, holds it
 * until tern_search_run_finish(). */

typedef struct
{
  TernMessageList *list; /* lent: the outer task owns it */
  GCancellable *cancellable;
} LoadData;

static gboolean
load_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  LoadData *load = user_data;

  return _tern_message_list_load (load->list, db, load->cancellable, error);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData load = { task_data, cancellable };
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (!tern_store_read (source_object, load_cb, &load, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_object_ref (g_task_get_task_data (task)), g_object_unref);
}

void
tern_search_run_async (TernStore           *store,
                       const char          *text,
                       gboolean             prefix,
                       TernSearchScope      scope,
                       gint64               scope_id,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) load = NULL;
  g_autoptr(TernSearchQuery) query = NULL;
  TernMessageList *list;
  GError *error = NULL;

  g_return_if_fail (TERN_IS_STORE (store));
  g_return_if_fail (text != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (store, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_search_run_async);
  query = tern_search_query_parse (text, prefix, &error);
  if (query == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Made here, the list follows the store from before the worker reads:
   * a write that commits in between is not lost. */
  list = new_list (store, query, scope, scope_id, TRUE, NULL);
  g_task_set_task_data (task, list, g_object_unref);

  load = g_task_new (store, cancellable, loaded_cb, g_steal_pointer (&task));
  g_task_set_source_tag (load, tern_search_run_async);
  g_task_set_name (load, "[tern] search");
  g_task_set_task_data (load, list, NULL);
  g_task_run_in_thread (load, load_thread);
}

TernMessageList *
tern_search_run_finish (TernStore     *store,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_autoptr(TernMessageList) list = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (g_task_is_valid (result, store), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tern_search_run_async), NULL);

  /* A cancelled search fails even when its worker had finished. */
  list = g_task_propagate_pointer (G_TASK (result), error);
  if (list == NULL || !_tern_message_list_finish_load (list, error))
    return NULL;
  return g_steal_pointer (&list);
}
