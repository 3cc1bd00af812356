/* test-search.c: the search parser, its SQL and FTS5 over a store filled
 * by direct writes, Russian folding, scopes, bodies, and tern-cli search.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-context.h"
#include "tern-mail-store-private.h"
#include "tern-message-list-private.h"
#include "tern-search.h"
#include "tern-test-store.h"
#include "tern-test-util.h"

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  TernStore *store;
  gint64 inbox_id;   /* account 7 */
  gint64 other_id;   /* account 7 */
  gint64 second_id;  /* account 8 */
  gint64 body_message_id;
} Fixture;

static gint64
day (int year,
     int month,
     int dom)
{
  g_autoptr(GDateTime) date = g_date_time_new_local (year, month, dom, 12, 0, 0);

  return g_date_time_to_unix (date);
}

static TernMailNewMessage *
new_message (guint32        uid,
             const char    *from_name,
             const char    *from_address,
             const char    *to,
             const char    *subject,
             gint64         date,
             TernImapFlags  flags)
{
  TernMailNewMessage *d = g_new0 (TernMailNewMessage, 1);

  d->uid = uid;
  d->flags = flags;
  d->date = d->internal_date = date;
  d->size = 500;
  d->from_name = g_strdup (from_name);
  d->from_address = g_strdup (from_address);
  d->to_list = g_strdup (to);
  d->subject = g_strdup (subject);
  d->thread_subject = g_strdup (subject);
  d->message_id = g_strdup_printf ("<%u.%s@test>", uid, from_address);
  d->reference_ids = g_ptr_array_new ();
  return d;
}

static void
store_one (Fixture            *fixture,
           gint64              folder_id,
           TernMailNewMessage *message)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (messages, message);
  tern_mail_store_add_new_messages (fixture->store, folder_id, messages, NULL, &error);
  g_assert_no_error (error);
}

static const char body_message[] =
  "From: Dan <dan@example.org>\r\n"
  "To: a@example.org\r\n"
  "Subject: Lunch\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "Content-Transfer-Encoding: 8bit\r\n"
  "\r\n"
  "The secret word is pineapple. Привет, ёжик!\r\n";

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static (body_message, sizeof body_message - 1);
  TernMailNewMessage *m;

  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
  fixture->store = tern_context_get_store (fixture->context);
  /* Addresses of their own: the tern-cli test names account 7 by its address. */
  tern_test_store_exec (fixture->store,
                        "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol,"
                        " incoming_host, incoming_port, incoming_security, incoming_username,"
                        " created) VALUES (7, 'u7', 'A', 'a@example.org', 'imap', 'h', 993,"
                        " 'tls', 'a', 0), (8, 'u8', 'E', 'e@example.org', 'imap', 'h', 993, 'tls',"
                        " 'e', 0)");
  fixture->inbox_id = tern_test_store_add_folder (fixture->store, 7, "INBOX");
  fixture->other_id = tern_test_store_add_folder (fixture->store, 7, "Other");
  fixture->second_id = tern_test_store_add_folder (fixture->store, 8, "INBOX");

  store_one (fixture, fixture->inbox_id,
             new_message (1, "Алиса Петрова", "alice@example.org", "bob@example.org",
                          "Ёлка ЗЕЛЁНАЯ, всё ёё", day (2026, 1, 10), 0));
  m = new_message (2, "Bob Builder", "bob@example.org", "alice@example.org", "Quarterly report",
                   day (2026, 2, 15), TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED);
  m->has_attachments = TRUE;
  store_one (fixture, fixture->inbox_id, m);
  store_one (fixture, fixture->inbox_id,
             new_message (3, "Carol", "carol@example.org", "team@example.org",
                          "cats OR dogs (NEAR) \"quoted\" *", day (2026, 3, 20), TERN_IMAP_FLAG_SEEN));
  store_one (fixture, fixture->inbox_id,
             new_message (4, "Dan", "dan@example.org", "a@example.org", "Lunch", day (2026, 3, 25), 0));
  store_one (fixture, fixture->other_id,
             new_message (1, "Алиса", "alisa@example.org", "a@example.org", "елка в другой папке",
                          day (2026, 1, 11), 0));
  store_one (fixture, fixture->second_id,
             new_message (1, "Eve", "eve@example.org", "e@example.org", "Quarterly numbers",
                          day (2026, 4, 1), 0));

  {
    g_autoptr(TernMailMessage) lunch = tern_mail_store_find_message (fixture->store, fixture->inbox_id,
                                                                     4, &error);

    g_assert_no_error (error);
    fixture->body_message_id = lunch->id;
    tern_mail_store_set_body (fixture->store, lunch->id, body, NULL, g_bytes_get_size (body), &error);
    g_assert_no_error (error);
  }
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (fixture->context);
  tern_test_profile_teardown (&fixture->profile, data);
}

static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **stored = user_data;

  g_assert_null (*stored);
  *stored = g_object_ref (result);
}

/* tern_search_run_async() with the main loop run until it is done. */
static TernMessageList *
run_async (TernStore        *store,
           const char       *text,
           gboolean          prefix,
           TernSearchScope   scope,
           gint64            scope_id,
           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tern_search_run_async (store, text, prefix, scope, scope_id, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tern_search_run_finish (store, result, error);
}

/* The message ids of @list in order; every counted row is there to read. */
static GArray *
list_ids (TernMessageList *list)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);
      gint64 id;

      g_assert_nonnull (item);
      id = tern_message_item_get_id (item);
      g_array_append_val (ids, id);
    }
  return ids;
}

/* How many messages @text finds in @scope; the asynchronous search finds
 * the same ones, in the same order. */
static guint
count_in (Fixture         *fixture,
          const char      *text,
          gboolean         prefix,
          TernSearchScope  scope,
          gint64           scope_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = tern_search_run (fixture->store, text, prefix, scope, scope_id,
                                                     &error);
  g_autoptr(TernMessageList) async_list = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) async_ids = NULL;

  g_assert_no_error (error);
  ids = list_ids (list);
  g_assert_finalize_object (g_steal_pointer (&list));
  async_list = run_async (fixture->store, text, prefix, scope, scope_id, &error);
  g_assert_no_error (error);
  async_ids = list_ids (async_list);
  g_assert_finalize_object (g_steal_pointer (&async_list));
  g_assert_cmpmem (async_ids->data, async_ids->len * sizeof (gint64), ids->data,
                   ids->len * sizeof (gint64));
  return ids->len;
}

static guint
count (Fixture    *fixture,
       const char *text)
{
  return count_in (fixture, text, FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0);
}

static void
assert_invalid (Fixture    *fixture,
                const char *text,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = tern_search_run (fixture->store, text, FALSE,
                                                     TERN_SEARCH_SCOPE_EVERYWHERE, 0, &error);

  g_autoptr(GError) async_error = NULL;

  g_assert_null (list);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  if (message_part != NULL)
    g_assert_nonnull (strstr (error->message, message_part));
  /* The same error from the asynchronous search. */
  g_assert_null (run_async (fixture->store, text, FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0,
                            &async_error));
  g_assert_error (async_error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_assert_cmpstr (async_error->message, ==, error->message);
}

static void
test_operators (Fixture       *fixture,
                gconstpointer  data)
{
  g_assert_cmpuint (count (fixture, "from:alice"), ==, 1);
  g_assert_cmpuint (count (fixture, "from:alice@example.org"), ==, 1);
  g_assert_cmpuint (count (fixture, "from:\"Алиса Петрова\""), ==, 1);
  g_assert_cmpuint (count (fixture, "from:алиса"), ==, 2);
  g_assert_cmpuint (count (fixture, "to:alice"), ==, 1);
  g_assert_cmpuint (count (fixture, "subject:quarterly"), ==, 2);
  g_assert_cmpuint (count (fixture, "subject:bob"), ==, 0);
  g_assert_cmpuint (count (fixture, "bob"), ==, 2); /* sender of one, recipient of the other */
  g_assert_cmpuint (count (fixture, "has:attachment"), ==, 1);
  g_assert_cmpuint (count (fixture, "is:unread"), ==, 4);
  g_assert_cmpuint (count (fixture, "is:read"), ==, 2);
  g_assert_cmpuint (count (fixture, "is:starred"), ==, 1);
  g_assert_cmpuint (count (fixture, "before:2026-02-01"), ==, 2);
  g_assert_cmpuint (count (fixture, "after:2026-03-01"), ==, 3);
  g_assert_cmpuint (count (fixture, "after:2026-02-01 before:2026-03-21"), ==, 2);
  g_assert_cmpuint (count (fixture, "quarterly is:unread"), ==, 1);
  g_assert_cmpuint (count (fixture, "\"quarterly report\""), ==, 1);
  g_assert_cmpuint (count (fixture, "\"report quarterly\""), ==, 0);
  g_assert_cmpuint (count (fixture, "Subject:Quarterly FROM:bob"), ==, 1);
  /* Not an operator: just text. */
  g_assert_cmpuint (count (fixture, "foo:bar"), ==, 0);

  assert_invalid (fixture, "before:yesterday", "YYYY-MM-DD");
  assert_invalid (fixture, "after:2026-02-30", "YYYY-MM-DD");
  assert_invalid (fixture, "is:urgent", "is:unread");
  assert_invalid (fixture, "has:pdf", "has:attachment");
  assert_invalid (fixture, "from:", "from:");
}

static void
test_prefix (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernSearchQuery) query = NULL;

  g_assert_cmpuint (count_in (fixture, "quart", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 2);
  g_assert_cmpuint (count_in (fixture, "quart", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 0);
  /* Only the word being typed is a prefix. */
  g_assert_cmpuint (count_in (fixture, "quart rep", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 0);
  g_assert_cmpuint (count_in (fixture, "quarterly rep", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 1);
  g_assert_cmpuint (count_in (fixture, "quarterly rep ", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 0);
  g_assert_cmpuint (count_in (fixture, "from:ali", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 2);
  g_assert_cmpuint (count_in (fixture, "зел", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 1);

  query = tern_search_query_parse ("quarterly rep", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tern_search_query_get_match (query), ==, "\"quarterly\" AND \"rep\" *");
}

static void
test_injection (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernSearchQuery) query = NULL;

  /* FTS5 keywords and syntax are words like any other. */
  g_assert_cmpuint (count (fixture, "OR"), ==, 1);
  g_assert_cmpuint (count (fixture, "NEAR"), ==, 1);
  g_assert_cmpuint (count (fixture, "cats OR dogs"), ==, 1);
  g_assert_cmpuint (count (fixture, "cats AND NOT dogs"), ==, 0);
  g_assert_cmpuint (count (fixture, "NEAR(cats dogs)"), ==, 0);
  g_assert_cmpuint (count (fixture, "(cats)"), ==, 1);
  g_assert_cmpuint (count (fixture, "dogs*"), ==, 1);
  g_assert_cmpuint (count (fixture, "\"quoted\" *"), ==, 1);
  g_assert_cmpuint (count (fixture, "subject:\"cats\" OR 1=1 --"), ==, 0);
  g_assert_cmpuint (count (fixture, "'; DROP TABLE messages; --"), ==, 0);
  g_assert_cmpuint (count (fixture, "{subject}:cats"), ==, 0);
  g_assert_cmpuint (count (fixture, "subject:a\"b"), ==, 0);
  g_assert_cmpuint (count (fixture, "is:unread"), ==, 4); /* the table is still there */

  query = tern_search_query_parse ("a\"b OR", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tern_search_query_get_match (query), ==, "\"a\"\"b\" AND \"OR\"");

  /* Nothing but syntax: a clear error, not an FTS5 one. */
  assert_invalid (fixture, "\"", "nothing to search");
  assert_invalid (fixture, "*", "nothing to search");
  assert_invalid (fixture, "( )", "nothing to search");
  assert_invalid (fixture, "   ", "nothing to search");
  assert_invalid (fixture, "subject:\"", "subject:");
}

static void
test_russian (Fixture       *fixture,
              gconstpointer  data)
{
  /* Case and ё/е both ways, in the index and in the query. */
  g_assert_cmpuint (count (fixture, "ёлка"), ==, 2);
  g_assert_cmpuint (count (fixture, "ЕЛКА"), ==, 2);
  g_assert_cmpuint (count (fixture, "Ёлка"), ==, 2);
  g_assert_cmpuint (count (fixture, "зеленая"), ==, 1);
  g_assert_cmpuint (count (fixture, "ЗЕЛЁНАЯ"), ==, 1);
  g_assert_cmpuint (count (fixture, "\"ёлка зеленая\""), ==, 1);
  /* ё last in a word, and one after another. */
  g_assert_cmpuint (count (fixture, "ВСЕ"), ==, 1);
  g_assert_cmpuint (count (fixture, "всё"), ==, 1);
  g_assert_cmpuint (count (fixture, "ее"), ==, 1);
  g_assert_cmpuint (count (fixture, "subject:папке"), ==, 1);
  /* й is a letter of its own, not и with a breve. */
  g_assert_cmpuint (count (fixture, "другои"), ==, 0);
}

static void
test_scopes (Fixture       *fixture,
             gconstpointer  data)
{
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0), ==, 2);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 7), ==, 1);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 8), ==, 1);
  g_assert_cmpuint (count_in (fixture, "елка", FALSE, TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id), ==, 1);
  g_assert_cmpuint (count_in (fixture, "елка", FALSE, TERN_SEARCH_SCOPE_FOLDER, fixture->other_id), ==, 1);
  g_assert_cmpuint (count_in (fixture, "елка", FALSE, TERN_SEARCH_SCOPE_FOLDER, fixture->second_id), ==, 0);
  g_assert_cmpuint (count_in (fixture, "is:unread", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 7), ==, 3);
}

/* The index's scope tokens (migration 007) are not words: nothing the
 * user types finds every message of a folder or account; a message moved
 * to another folder is found there, and no longer where it was. */
static void
test_scope_tokens (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *folder_token = g_strdup_printf ("\xee\x80\x80" "f%" G_GINT64_FORMAT,
                                                   fixture->inbox_id);
  g_autofree char *folder_word = g_strdup_printf ("f%" G_GINT64_FORMAT, fixture->inbox_id);
  g_autofree char *move = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) report = NULL;

  g_assert_cmpuint (count (fixture, folder_token), ==, 0);
  g_assert_cmpuint (count (fixture, folder_word), ==, 0);
  g_assert_cmpuint (count (fixture, "a7"), ==, 0);
  g_assert_cmpuint (count_in (fixture, folder_token, TRUE, TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id),
                    ==, 0);
  /* As typed: "f" and "a" as prefixes find their words only. */
  g_assert_cmpuint (count_in (fixture, "f", TRUE, TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id), ==, 0);
  g_assert_cmpuint (count_in (fixture, "a", TRUE, TERN_SEARCH_SCOPE_ACCOUNT, 7), ==, 4);
  assert_invalid (fixture, "\xee\x80\x80", "nothing to search");

  report = tern_mail_store_find_message (fixture->store, fixture->inbox_id, 2, &error);
  g_assert_no_error (error);
  move = g_strdup_printf ("UPDATE messages SET folder_id = %" G_GINT64_FORMAT
                          " WHERE id = %" G_GINT64_FORMAT, fixture->second_id, report->id);
  tern_test_store_exec (fixture->store, move);
  g_assert_no_error (error);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id),
                    ==, 0);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_FOLDER, fixture->second_id),
                    ==, 2);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 7), ==, 0);
  g_assert_cmpuint (count_in (fixture, "quarterly", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 8), ==, 2);
  g_assert_cmpuint (count_in (fixture, "quarterly is:starred", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 8),
                    ==, 1);
}

/* A profile from before migration 007 (schema 6): its index is written
 * again with the scope of each message, and searches by folder and
 * account find what they found before. */

static gint64
query_int (TernStore  *store,
           const char *sql)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = tern_store_get_main_reader (store, &error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64 (stmt, 0);
}

/* Two accounts, the first with two folders, the second with one. */
#define TWO_ACCOUNTS                                                                            \
  "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol, incoming_host,"   \
  " incoming_port, incoming_security, incoming_username, created)"                            \
  " VALUES (1, 'u1', 'A', 'a@example.org', 'imap', 'h', 993, 'tls', 'a', 0),"                 \
  " (2, 'u2', 'B', 'b@example.org', 'imap', 'h', 993, 'tls', 'b', 0);"                        \
  "INSERT INTO folders (id, account_id, name) VALUES (1, 1, 'INBOX'), (2, 1, 'Archive'),"     \
  " (3, 2, 'INBOX');"

/* A profile at @path as the migrations @names (in order) left it. */
static sqlite3 *
old_profile (const char         *path,
             const char * const *names,
             guint               n_names)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_true (tern_search_register_tokenizer (db, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n_names; i++)
    tern_test_exec_migration (db, names[i]);
  return db;
}

static void
test_migration (void)
{
  static const char * const before[] = {
    "001-initial.sql", "002-sync.sql", "003-pop3-seen.sql", "004-outbox.sql",
    "005-message-list.sql", "006-search.sql",
  };
  g_autofree char *dir = tern_test_make_tmpdir ("tern-search-migration-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tern.db", NULL);
  g_autoptr(TernStore) store = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  struct { const char *text; TernSearchScope scope; gint64 id; guint n; } searches[] = {
    { "report", TERN_SEARCH_SCOPE_FOLDER, 1, 2 },
    { "report", TERN_SEARCH_SCOPE_FOLDER, 2, 1 },
    { "report", TERN_SEARCH_SCOPE_FOLDER, 3, 1 },
    { "report", TERN_SEARCH_SCOPE_ACCOUNT, 1, 3 },
    { "report", TERN_SEARCH_SCOPE_ACCOUNT, 2, 1 },
    { "report", TERN_SEARCH_SCOPE_EVERYWHERE, 0, 4 },
    { "pineapple", TERN_SEARCH_SCOPE_FOLDER, 1, 1 },
    { "pineapple", TERN_SEARCH_SCOPE_FOLDER, 2, 0 },
    { "from:bob", TERN_SEARCH_SCOPE_FOLDER, 1, 1 },
    { "report is:unread", TERN_SEARCH_SCOPE_ACCOUNT, 1, 2 },
  };

  /* Registers the migrations' resources. */
  g_assert_cmpint (tern_store_get_latest_version (), >=, 7);
  db = old_profile (path, before, G_N_ELEMENTS (before));
  g_assert_cmpint (sqlite3_exec (db,
    "PRAGMA user_version = 6;"
    TWO_ACCOUNTS
    "INSERT INTO messages (id, folder_id, uid, flags, date, subject, from_name)"
    " VALUES (1, 1, 1, 0, 100, 'Report one', 'Bob'), (2, 1, 2, 1, 200, 'Report two', 'Carol'),"
    " (3, 2, 1, 0, 300, 'Report three', 'Dan'), (4, 3, 1, 0, 400, 'Report four', 'Eve'),"
    " (5, 1, 3, 0, 500, 'Lunch', 'Dan');"
    "INSERT INTO messages_fts (rowid, subject, sender, recipients, body)"
    " SELECT id, subject, from_name, '', CASE id WHEN 5 THEN 'pineapple' END FROM messages;"
    /* A row whose message is gone does not come along. */
    "INSERT INTO messages_fts (rowid, subject, sender, recipients) VALUES (99, 'Report gone', '', '');",
    NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM messages_fts"), ==, 5);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM sqlite_master"
                                     " WHERE name LIKE 'messages_fts_old%'"), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM sqlite_master WHERE type = 'trigger'"
                                     " AND name IN ('messages_fts_delete', 'messages_fts_move')"), ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
    {
      g_autoptr(TernMessageList) list = tern_search_run (store, searches[i].text, FALSE,
                                                         searches[i].scope, searches[i].id, &error);

      g_assert_no_error (error);
      g_test_message ("%s in scope %d %" G_GINT64_FORMAT, searches[i].text, searches[i].scope,
                      searches[i].id);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, searches[i].n);
      g_assert_finalize_object (g_steal_pointer (&list));
    }
  g_assert_finalize_object (g_steal_pointer (&store));
  tern_test_remove_tree (dir);
}

/* Five messages in three folders of two accounts, and their rows of
 * the search index with scopes (migration 007): where the tests of the
 * migrations that rewrite the index start. */
#define SCOPED_ROWS                                                                            \
  TWO_ACCOUNTS                                                                                 \
  "INSERT INTO messages (id, folder_id, uid, flags, date, subject, from_name)"                 \
  " VALUES (1, 1, 1, 0, 100, 'Report one', 'Bob'), (2, 1, 2, 1, 200, 'Report two', 'Carol'),"  \
  " (3, 2, 1, 0, 300, 'Report three', 'Dan'), (4, 3, 1, 0, 400, 'Review', 'Eve'),"             \
  " (5, 1, 3, 0, 500, 'Lunch', 'Dan');"                                                        \
  "INSERT INTO messages_fts (rowid, subject, sender, recipients, body, scope)"                 \
  " SELECT m.id, m.subject, m.from_name, '', CASE m.id WHEN 5 THEN 'pineapple письмо' END,"    \
  "        char (57344) || 'f' || f.id || ' ' || char (57344) || 'a' || f.account_id"          \
  " FROM messages m JOIN folders f ON f.id = m.folder_id;"

typedef struct
{
  const char *text;
  gboolean prefix;
  TernSearchScope scope;
  gint64 id;
  guint n;  /* messages found */
} SearchCase;

static void
assert_searches (TernStore        *store,
                 const SearchCase *cases,
                 gsize             n_cases)
{
  for (gsize i = 0; i < n_cases; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TernMessageList) list = tern_search_run (store, cases[i].text, cases[i].prefix,
                                                         cases[i].scope, cases[i].id, &error);

      g_assert_no_error (error);
      g_test_message ("%s%s in scope %d %" G_GINT64_FORMAT, cases[i].text,
                      cases[i].prefix ? "*" : "", cases[i].scope, cases[i].id);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, cases[i].n);
      g_assert_finalize_object (g_steal_pointer (&list));
    }
}

/* A rewritten index: the old table gone, the triggers on the new one. */
static void
assert_index_rewritten (TernStore *store)
{
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM sqlite_master"
                                     " WHERE name LIKE 'messages_fts_old%'"), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM sqlite_master WHERE type = 'trigger'"
                                     " AND name IN ('messages_fts_delete', 'messages_fts_move')"
                                     " AND sql NOT LIKE '%messages_fts_old%'"), ==, 2);
}

/* Migration 009: the index is written again with prefixes of two
 * characters only; every search, prefix or not, finds what it did. */
static void
test_migration_prefix (void)
{
  static const char * const before[] = {
    "001-initial.sql", "002-sync.sql", "003-pop3-seen.sql", "004-outbox.sql",
    "005-message-list.sql", "006-search.sql", "007-search-scope.sql", "008-deferred-indexes.sql",
  };
  g_autofree char *dir = tern_test_make_tmpdir ("tern-search-migration-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tern.db", NULL);
  g_autoptr(TernStore) store = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  static const SearchCase searches[] = {
    { "re", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 4 },  /* report, review */
    { "rep", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 3 },
    { "r", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 4 },
    { "re", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 0 },
    { "report", FALSE, TERN_SEARCH_SCOPE_FOLDER, 1, 2 },
    { "report", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 1, 3 },
    { "pi", TRUE, TERN_SEARCH_SCOPE_FOLDER, 1, 1 },
    { "пи", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 1 },
    { "from:ca", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 1 },
  };

  g_assert_cmpint (tern_store_get_latest_version (), >=, 9);
  db = old_profile (path, before, G_N_ELEMENTS (before));
  g_assert_cmpint (sqlite3_exec (db,
    "PRAGMA user_version = 8;"
    SCOPED_ROWS,
    NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM messages_fts"), ==, 5);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM sqlite_master"
                                     " WHERE sql LIKE '%prefix = ''2''%' AND name = 'messages_fts'"),
                   ==, 1);
  assert_index_rewritten (store);
  assert_searches (store, searches, G_N_ELEMENTS (searches));
  /* The triggers work on the new table: a deleted message leaves it. */
  g_assert_true (tern_mail_store_remove_messages (store, (gint64[]) { 4 }, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM messages_fts"), ==, 4);
  g_assert_finalize_object (g_steal_pointer (&store));
  tern_test_remove_tree (dir);
}

/* Migration 017: the index is written again without its table of
 * column sizes (columnsize = 0), keeps the automerge of migration 015,
 * and finds what it did: words, prefixes, phrases, columns, scopes. */
static void
test_migration_column_sizes (void)
{
  static const char * const before[] = {
    "001-initial.sql", "002-sync.sql", "003-pop3-seen.sql", "004-outbox.sql",
    "005-message-list.sql", "006-search.sql", "007-search-scope.sql", "008-deferred-indexes.sql",
    "009-search-prefix.sql", "010-drop-folder-date.sql", "011-drop-parts.sql",
    "012-partial-id-indexes.sql", "013-insert-triggers-in-code.sql",
    "014-conversation-newest-by-thread.sql", "015-fts-automerge.sql",
    "016-sort-indexes-on-first-use.sql",
  };
  static const char docsize[] = "SELECT count (*) FROM sqlite_master WHERE name = 'messages_fts_docsize'";
  g_autofree char *dir = tern_test_make_tmpdir ("tern-search-migration-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "tern.db", NULL);
  g_autoptr(TernStore) store = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  static const SearchCase searches[] = {
    { "report", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 3 },
    { "report", FALSE, TERN_SEARCH_SCOPE_FOLDER, 1, 2 },
    { "report", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 2, 0 },
    { "re", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 4 },
    { "\"report two\"", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 1 },
    { "\"two report\"", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 0 },
    { "from:carol", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, 1 },
    { "письмо", FALSE, TERN_SEARCH_SCOPE_FOLDER, 1, 1 },
  };

  g_assert_cmpint (tern_store_get_latest_version (), >=, 17);
  db = old_profile (path, before, G_N_ELEMENTS (before));
  g_assert_cmpint (sqlite3_exec (db,
    "PRAGMA user_version = 16;"
    SCOPED_ROWS,
    NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "SELECT count (*) FROM messages_fts_docsize", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);

  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_store_get_schema_version (store), ==, tern_store_get_latest_version ());
  g_assert_cmpint (query_int (store, docsize), ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM messages_fts"), ==, 5);
  g_assert_cmpint (query_int (store, "SELECT v FROM messages_fts_config WHERE k = 'automerge'"), ==, 16);
  assert_index_rewritten (store);
  assert_searches (store, searches, G_N_ELEMENTS (searches));
  g_assert_true (tern_mail_store_remove_messages (store, (gint64[]) { 2 }, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM messages_fts WHERE messages_fts MATCH 'report'"),
                   ==, 2);
  g_assert_finalize_object (g_steal_pointer (&store));
  tern_test_remove_tree (dir);

  /* A new profile has no such table either. */
  g_free (dir);
  dir = tern_test_make_tmpdir ("tern-search-migration-XXXXXX");
  g_free (path);
  path = g_build_filename (dir, "tern.db", NULL);
  store = tern_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, docsize), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&store));
  tern_test_remove_tree (dir);
}

/* 600 cached bodies, indexed 250 a transaction while the next batch is
 * parsed; the store refuses the second batch (as a full disk would): the
 * first stays indexed, indexing reports the error and returns, and the
 * next pass does the rest. */
static void
test_index_fails (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GBytes) body = g_bytes_new_static (body_message, sizeof body_message - 1);
  g_autoptr(GError) error = NULL;
  guint indexed = 0;

  for (guint uid = 100; uid < 699; uid++)
    {
      g_autoptr(TernMailMessage) stored = NULL;

      store_one (fixture, fixture->other_id,
                 new_message (uid, "Dan", "dan@example.org", "a@example.org", "Lunch",
                              day (2026, 3, 25), 0));
      stored = tern_mail_store_find_message (fixture->store, fixture->other_id, uid, &error);
      g_assert_no_error (error);
      tern_mail_store_set_body (fixture->store, stored->id, body, NULL, g_bytes_get_size (body),
                                &error);
      g_assert_no_error (error);
    }
  tern_test_store_exec (fixture->store,
                        "CREATE TRIGGER test_full BEFORE INSERT ON search_bodies"
                        " WHEN (SELECT count (*) FROM search_bodies) >= 250"
                        " BEGIN SELECT RAISE (ABORT, 'database or disk is full'); END");

  g_assert_false (tern_search_index_bodies (fixture->store, &indexed, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "disk is full"));
  g_clear_error (&error);
  g_assert_cmpuint (indexed, ==, 250);
  g_assert_cmpint (query_int (fixture->store, "SELECT count (*) FROM search_bodies"), ==, 250);

  tern_test_store_exec (fixture->store, "DROP TRIGGER test_full");
  g_assert_true (tern_search_index_bodies (fixture->store, &indexed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (indexed, ==, 600 - 250);
  g_assert_cmpuint (count (fixture, "pineapple"), ==, 600);
}

static void
test_bodies (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) live = NULL;
  g_autoptr(TernMessageItem) item = NULL;
  guint indexed = 0;

  live = tern_search_run (fixture->store, "pineapple", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0,
                          &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (live)), ==, 0);

  tern_search_index_bodies (fixture->store, &indexed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (indexed, ==, 1);
  g_assert_cmpuint (count (fixture, "pineapple"), ==, 1);
  g_assert_cmpuint (count (fixture, "ежик"), ==, 1);
  g_assert_cmpuint (count (fixture, "lunch pineapple"), ==, 1);
  /* Indexing the body kept the row's other columns. */
  g_assert_cmpuint (count (fixture, "from:dan subject:lunch"), ==, 1);

  /* Done once: nothing left the second time. */
  tern_search_index_bodies (fixture->store, &indexed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (indexed, ==, 0);

  /* A body in windows-1251 is read in its charset. */
  store_one (fixture, fixture->other_id,
             new_message (2, "Бухгалтерия", "buh@example.org", "a@example.org", "Документы",
                          day (2026, 3, 1), TERN_IMAP_FLAG_SEEN));
  {
    g_autoptr(TernMailMessage) buh = tern_mail_store_find_message (fixture->store, fixture->other_id,
                                                                   2, &error);
    g_autofree char *cp1251 = g_convert ("Квартальный ОТЧЁТ во вложении.\r\n", -1, "windows-1251",
                                         "UTF-8", NULL, NULL, &error);
    g_autofree char *raw = NULL;
    g_autoptr(GBytes) bytes = NULL;

    g_assert_no_error (error);
    raw = g_strconcat ("From: buh@example.org\r\nSubject: Documents\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=windows-1251\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n\r\n", cp1251, NULL);
    bytes = g_bytes_new (raw, strlen (raw));
    tern_mail_store_set_body (fixture->store, buh->id, bytes, NULL, g_bytes_get_size (bytes), &error);
    g_assert_no_error (error);
  }
  tern_search_index_bodies (fixture->store, &indexed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (indexed, ==, 1);
  g_assert_cmpuint (count (fixture, "квартальный отчет"), ==, 1);

  /* A result list follows the store: the matching message goes away. */
  g_assert_cmpuint (count (fixture, "from:dan"), ==, 1);
  g_clear_object (&live);
  live = tern_search_run (fixture->store, "from:dan", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0, &error);
  g_assert_no_error (error);
  item = g_list_model_get_item (G_LIST_MODEL (live), 0);
  g_assert_cmpint (tern_message_item_get_id (item), ==, fixture->body_message_id);
  tern_mail_store_remove_messages (fixture->store, &fixture->body_message_id, 1, &error);
  g_assert_no_error (error);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (live)), ==, 0);
  g_assert_cmpuint (count (fixture, "pineapple"), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&live));
}

/* A list made before bodies were indexed finds them once they are: the
 * index announces their folders as changed. */
static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *changes)
{
  (*changes)++;
}

/* Indexes the bodies waiting (@expected of them): each of @lists, empty
 * before, announces one change and then holds one message. */
static void
index_refreshes (Fixture          *fixture,
                 TernMessageList **lists,
                 guint             n_lists,
                 guint             expected)
{
  g_autoptr(GError) error = NULL;
  guint changes[4] = { 0 };
  guint indexed = 0;

  g_assert_cmpuint (n_lists, <=, G_N_ELEMENTS (changes));
  for (guint i = 0; i < n_lists; i++)
    {
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lists[i])), ==, 0);
      g_signal_connect (lists[i], "items-changed", G_CALLBACK (items_changed_cb), &changes[i]);
    }

  tern_search_index_bodies (fixture->store, &indexed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (indexed, ==, expected);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < n_lists; i++)
    {
      g_signal_handlers_disconnect_by_data (lists[i], &changes[i]);
      g_assert_cmpuint (changes[i], ==, 1);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lists[i])), ==, 1);
    }
}

static void
test_refresh (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernMessageList *lists[3];

  lists[0] = tern_search_run (fixture->store, "pineapple", FALSE, TERN_SEARCH_SCOPE_FOLDER,
                              fixture->inbox_id, &error);
  g_assert_no_error (error);
  lists[1] = tern_search_run (fixture->store, "pineapple", FALSE, TERN_SEARCH_SCOPE_ACCOUNT, 7,
                              &error);
  g_assert_no_error (error);
  lists[2] = tern_search_run (fixture->store, "ежик lunch", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE,
                              0, &error);
  g_assert_no_error (error);
  index_refreshes (fixture, lists, G_N_ELEMENTS (lists), 1);
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      g_autoptr(TernMessageItem) item = NULL;

      item = g_list_model_get_item (G_LIST_MODEL (lists[i]), 0);
      g_assert_cmpint (tern_message_item_get_id (item), ==, fixture->body_message_id);
      g_clear_object (&item);
      g_assert_finalize_object (lists[i]);
    }
}

/* Bodies of two folders indexed in one batch: a list of each folder
 * finds its message (the index announces every folder of the batch), and
 * the text part after an attachment is the body, the attachment not. */
static const char attachment_first[] =
  "From: alisa@example.org\r\nSubject: Photos\r\nMIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
  "--b\r\nContent-Type: application/octet-stream\r\n"
  "Content-Disposition: attachment; filename=\"a.txt\"\r\n"
  "Content-Transfer-Encoding: base64\r\n\r\n"
  "enVjY2hpbmkgaW4gdGhlIGF0dGFjaG1lbnQ=\r\n" /* "zucchini in the attachment" */
  "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
  "Sweet mango after the attachment.\r\n"
  "--b--\r\n";

static void
test_refresh_folders (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static (attachment_first, sizeof attachment_first - 1);
  g_autoptr(TernMailMessage) alisa = NULL;
  TernMessageList *lists[2];

  alisa = tern_mail_store_find_message (fixture->store, fixture->other_id, 1, &error);
  g_assert_no_error (error);
  tern_mail_store_set_body (fixture->store, alisa->id, body, NULL, g_bytes_get_size (body), &error);
  g_assert_no_error (error);

  lists[0] = tern_search_run (fixture->store, "pineapple", FALSE, TERN_SEARCH_SCOPE_FOLDER,
                              fixture->inbox_id, &error);
  g_assert_no_error (error);
  lists[1] = tern_search_run (fixture->store, "mango", FALSE, TERN_SEARCH_SCOPE_FOLDER,
                              fixture->other_id, &error);
  g_assert_no_error (error);
  index_refreshes (fixture, lists, G_N_ELEMENTS (lists), 2);
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    g_assert_finalize_object (lists[i]);
  g_assert_cmpuint (count (fixture, "mango"), ==, 1);
  g_assert_cmpuint (count (fixture, "zucchini"), ==, 0);
  /* The row's other columns are kept. */
  g_assert_cmpuint (count (fixture, "from:alisa mango"), ==, 1);
}

/* Asynchronous search */

typedef struct
{
  const char *name;
  GPtrArray *order; /* names, as the callbacks ran */
  TernMessageList *list;
  GError *error;
} Search;

static void
search_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Search *search = user_data;

  search->list = tern_search_run_finish (TERN_STORE (source), result, &search->error);
  g_ptr_array_add (search->order, (gpointer) search->name);
}

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Until the worker of the search just started has returned: its callback
 * is waiting in the main context (which was drained before). */
static void
wait_for_worker (void)
{
  while (!g_main_context_pending (NULL))
    g_usleep (1000);
}

/* Typing cancels the search of the keystroke before; a cancelled search
 * never delivers results, even when its worker had finished (whichever
 * callback runs first), and the newer one does. */
static void
test_async_cancel (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) order = g_ptr_array_new ();
  g_autoptr(GCancellable) older_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) newer_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  Search older = { "older", order }, newer = { "newer", order }, before = { "before", order };

  drain ();
  tern_search_run_async (fixture->store, "quart", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0,
                         older_cancellable, search_done_cb, &older);
  wait_for_worker ();
  g_assert_cmpuint (order->len, ==, 0);
  g_cancellable_cancel (older_cancellable);
  tern_search_run_async (fixture->store, "quarterly", TRUE, TERN_SEARCH_SCOPE_EVERYWHERE, 0,
                         newer_cancellable, search_done_cb, &newer);
  while (order->len < 2)
    g_main_context_iteration (NULL, TRUE);

  g_assert_null (older.list);
  g_assert_error (older.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_no_error (newer.error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (newer.list)), ==, 2);

  /* Cancelled before it started: no worker reads anything. */
  g_cancellable_cancel (cancelled);
  tern_search_run_async (fixture->store, "quarterly", FALSE, TERN_SEARCH_SCOPE_EVERYWHERE, 0,
                         cancelled, search_done_cb, &before);
  while (order->len < 3)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (before.list);
  g_assert_error (before.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_error (&older.error);
  g_clear_error (&before.error);
  g_assert_finalize_object (newer.list);
}

/* Searches "zeppelin" in @folder_id on a worker; once the worker has
 * counted, stores message @uid (a zeppelin) in INBOX, lets the store
 * announce it, and then takes the result. */
static TernMessageList *
search_then_store (Fixture    *fixture,
                   gint64      folder_id,
                   guint32     uid,
                   const char *subject)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TernMessageList *list;

  tern_search_run_async (fixture->store, "zeppelin", FALSE, TERN_SEARCH_SCOPE_FOLDER, folder_id,
                         NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  store_one (fixture, fixture->inbox_id,
             new_message (uid, "Zed", "zed@example.org", "a@example.org", subject,
                          day (2026, 5, uid - 9), 0));
  drain ();
  list = tern_search_run_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  return list;
}

/* A write that commits after the worker read, and is announced before
 * the search is finished, is in the list it returns; one after that is
 * followed like in any list. */
static void
test_async_write_between (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(TernMessageItem) item = NULL;
  g_autoptr(TernMailMessage) zeppelin = NULL;
  guint changes = 0;

  drain ();
  /* The worker counted none; then one is written and announced. */
  list = search_then_store (fixture, fixture->inbox_id, 10, "Zeppelin tickets");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  zeppelin = tern_mail_store_find_message (fixture->store, fixture->inbox_id, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_message_item_get_id (item), ==, zeppelin->id);

  /* After it: the list refreshes itself. */
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);
  store_one (fixture, fixture->inbox_id,
             new_message (11, "Zed", "zed@example.org", "a@example.org", "More zeppelin tickets",
                          day (2026, 5, 2), 0));
  drain ();
  g_assert_cmpuint (changes, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  g_signal_handlers_disconnect_by_data (list, &changes);
  g_clear_object (&item);
  g_assert_finalize_object (g_steal_pointer (&list));

  /* A search in another folder is not refreshed by this one's writes. */
  list = search_then_store (fixture, fixture->other_id, 12, "Zeppelin again");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&list));
}

/* The plans SQLite makes for a search's count: from the full-text matches
 * alone (their scope is in the index), each looked up by id only for
 * filters, never a scan of the messages nor a set of all the matches built
 * first; for every operator and scope. */
static char *
count_plan (TernMessageList *list)
{
  sqlite3_stmt *count = _tern_message_list_statement (list, TERN_MESSAGE_STMT_COUNT);

  sqlite3_reset (count);
  return tern_test_query_plan (list->db, sqlite3_sql (count));
}

static void
test_plans (Fixture       *fixture,
            gconstpointer  data)
{
  static const char * const queries[] = {
    "quarterly", "from:bob", "to:alice", "subject:report", "report has:attachment",
    "report is:unread", "report is:read", "report is:starred", "report before:2026-03-01",
    "report after:2026-01-01", "from:bob to:alice subject:quarterly is:starred",
  };
  struct { TernSearchScope scope; gint64 id; } scopes[] = {
    { TERN_SEARCH_SCOPE_EVERYWHERE, 0 },
    { TERN_SEARCH_SCOPE_ACCOUNT, 7 },
    { TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id },
  };

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    for (guint s = 0; s < G_N_ELEMENTS (scopes); s++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(TernMessageList) list = tern_search_run (fixture->store, queries[q], FALSE,
                                                           scopes[s].scope, scopes[s].id, &error);
        g_autofree char *plan = NULL;
        gboolean filters = strstr (queries[q], "is:") || strstr (queries[q], "has:") ||
                           strstr (queries[q], "before:") || strstr (queries[q], "after:");

        g_assert_no_error (error);
        plan = count_plan (list);
        g_test_message ("%s (scope %d):\n%s", queries[q], scopes[s].scope, plan);
        g_assert_true (g_str_has_prefix (plan, "SCAN messages_fts VIRTUAL TABLE"));
        /* Only the full-text index when only the scope matters (it is in
         * the index); each match by id for filters. */
        if (!filters)
          g_assert_cmpstr (strstr (plan, "\n"), ==, "\n");
        else
          g_assert_nonnull (strstr (plan, "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)"));
        /* The full-text matches are the only scan, read once. */
        g_assert_null (strstr (strstr (plan, "\n"), "SCAN "));
        g_assert_null (strstr (plan, "folders"));
        g_assert_null (strstr (strstr (plan, "\n"), "messages_fts"));
        g_assert_null (strstr (plan, "TEMP B-TREE"));
        g_assert_finalize_object (g_steal_pointer (&list));
      }
}

/* Results equal a scan: a generated corpus of a few thousand messages,
 * more than a word search sorts from its matches (tern-search.c), every
 * operator in every scope, compared with what a loop over the messages
 * finds, in the same order. */

#define SCAN_MESSAGES 5000

static const char * const scan_words[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
static const char * const scan_senders[] = { "Anna", "Boris", "Clara" };
static const char * const scan_recipients[] = { "team", "sales" };

typedef struct
{
  gint64 id;
  gint64 folder_id;
  gint64 account_id;
  gint64 date;
  TernImapFlags flags;
  gboolean attachment;
  gboolean common;
  guint word;
  guint sender;
  guint recipient;
} ScanMessage;

typedef struct
{
  const char *text;
  int common;         /* 1: "common", 0: "rare", -1: either */
  int word;           /* a scan word anywhere, or -1 */
  int subject_word;   /* subject:, or -1 */
  int sender;         /* from:, or -1 */
  int recipient;      /* to:, or -1 */
  int unread;         /* is:unread 1, is:read 0, -1 */
  gboolean starred;
  gboolean attachment;
  gint64 after;       /* 0: none */
  gint64 before;      /* 0: none */
} ScanQuery;

static gboolean
scan_matches (const ScanMessage *m,
              const ScanQuery   *q)
{
  return (q->common < 0 || (q->common == 1) == m->common) &&
         (q->word < 0 || (guint) q->word == m->word) &&
         (q->subject_word < 0 || (guint) q->subject_word == m->word) &&
         (q->sender < 0 || (guint) q->sender == m->sender) &&
         (q->recipient < 0 || (guint) q->recipient == m->recipient) &&
         (q->unread < 0 || ((m->flags & TERN_IMAP_FLAG_SEEN) == 0) == (q->unread == 1)) &&
         (!q->starred || (m->flags & TERN_IMAP_FLAG_FLAGGED) != 0) &&
         (!q->attachment || m->attachment) &&
         (q->after == 0 || m->date >= q->after) &&
         (q->before == 0 || m->date < q->before);
}

static int
compare_newest_first (gconstpointer a,
                      gconstpointer b)
{
  const ScanMessage *x = *(const ScanMessage **) a, *y = *(const ScanMessage **) b;

  if (x->date != y->date)
    return x->date > y->date ? -1 : 1;
  return x->id > y->id ? -1 : x->id < y->id;
}

static void
fill_scan_corpus (Fixture *fixture,
                  GArray  *corpus)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const gint64 folders[] = { fixture->inbox_id, fixture->other_id, fixture->second_id };
  const gint64 accounts[] = { 7, 7, 8 };
  guint32 uids[G_N_ELEMENTS (folders)] = { 100, 100, 100 };
  GPtrArray *batches[G_N_ELEMENTS (folders)];
  g_autoptr(GError) error = NULL;

  for (guint f = 0; f < G_N_ELEMENTS (folders); f++)
    batches[f] = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  for (guint i = 0; i < SCAN_MESSAGES; i++)
    {
      /* Most messages in the first folder, as in an inbox. */
      guint f = g_rand_int_range (rand, 0, 10) < 7 ? 0 : g_rand_int_range (rand, 1, 3);
      ScanMessage m = { 0 };
      g_autofree char *subject = NULL;
      g_autofree char *address = NULL;
      TernMailNewMessage *d;

      m.folder_id = folders[f];
      m.account_id = accounts[f];
      /* Pairs of messages share a date: the order falls back on ids. */
      m.date = day (2025, 1, 1) + (i / 2) * 3600;
      m.flags = (g_rand_boolean (rand) ? TERN_IMAP_FLAG_SEEN : 0) |
                (g_rand_int_range (rand, 0, 4) == 0 ? TERN_IMAP_FLAG_FLAGGED : 0);
      m.attachment = g_rand_int_range (rand, 0, 3) == 0;
      m.common = g_rand_int_range (rand, 0, 10) != 0;
      m.word = g_rand_int_range (rand, 0, G_N_ELEMENTS (scan_words));
      m.sender = g_rand_int_range (rand, 0, G_N_ELEMENTS (scan_senders));
      m.recipient = g_rand_int_range (rand, 0, G_N_ELEMENTS (scan_recipients));
      subject = g_strdup_printf ("%s %s", m.common ? "Common" : "Rare", scan_words[m.word]);
      address = g_strdup_printf ("%s@example.net", scan_senders[m.sender]);
      d = new_message (uids[f]++, scan_senders[m.sender], address,
                       scan_recipients[m.recipient], subject, m.date, m.flags);
      d->has_attachments = m.attachment;
      g_ptr_array_add (batches[f], d);
      g_array_append_val (corpus, m);
    }
  for (guint f = 0; f < G_N_ELEMENTS (folders); f++)
    {
      tern_mail_store_add_new_messages (fixture->store, folders[f], batches[f], NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_unref (batches[f]);
    }
  /* The store's ids, by folder and UID. */
  memset (uids, 0, sizeof uids);
  for (guint i = 0; i < corpus->len; i++)
    {
      ScanMessage *m = &g_array_index (corpus, ScanMessage, i);
      guint f = m->folder_id == folders[0] ? 0 : m->folder_id == folders[1] ? 1 : 2;
      g_autoptr(TernMailMessage) stored =
        tern_mail_store_find_message (fixture->store, m->folder_id, 100 + uids[f]++, &error);

      g_assert_no_error (error);
      m->id = stored->id;
    }
}

/* @list holds exactly the ScanMessages of @expected, in order. */
static void
assert_rows (TernMessageList *list,
             GPtrArray       *expected,
             const char      *text,
             TernSearchScope  scope,
             gint64           scope_id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));

  if (n != expected->len)
    g_error ("“%s” in scope %d/%" G_GINT64_FORMAT ": %u results, the scan finds %u",
             text, scope, scope_id, n, expected->len);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);
      const ScanMessage *m = g_ptr_array_index (expected, i);

      if (tern_message_item_get_id (item) != m->id)
        g_error ("“%s” in scope %d/%" G_GINT64_FORMAT ": row %u is %" G_GINT64_FORMAT
                 ", the scan has %" G_GINT64_FORMAT, text, scope, scope_id, i,
                 tern_message_item_get_id (item), m->id);
    }
}

/* The search finds what the scan does, counted on the main thread and
 * on a worker (tern_search_run_async()). */
static void
assert_scan (Fixture         *fixture,
             GArray          *corpus,
             const ScanQuery *query,
             TernSearchScope  scope,
             gint64           scope_id)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = NULL;

  for (guint i = 0; i < corpus->len; i++)
    {
      ScanMessage *m = &g_array_index (corpus, ScanMessage, i);

      if ((scope == TERN_SEARCH_SCOPE_FOLDER && m->folder_id != scope_id) ||
          (scope == TERN_SEARCH_SCOPE_ACCOUNT && m->account_id != scope_id))
        continue;
      if (scan_matches (m, query))
        g_ptr_array_add (expected, m);
    }
  g_ptr_array_sort (expected, compare_newest_first);

  list = tern_search_run (fixture->store, query->text, FALSE, scope, scope_id, &error);
  g_assert_no_error (error);
  assert_rows (list, expected, query->text, scope, scope_id);
  g_assert_finalize_object (g_steal_pointer (&list));
  list = run_async (fixture->store, query->text, FALSE, scope, scope_id, &error);
  g_assert_no_error (error);
  assert_rows (list, expected, query->text, scope, scope_id);
}

static void
test_equals_scan (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GArray) corpus = g_array_new (FALSE, FALSE, sizeof (ScanMessage));
  /* The operators' days start at local midnight, day() is noon. */
  gint64 after = day (2025, 2, 1) - 12 * 3600, before = day (2025, 4, 1) - 12 * 3600;
  ScanQuery queries[] = {
    { "common", 1, -1, -1, -1, -1, -1, FALSE, FALSE, 0, 0 },
    { "rare", 0, -1, -1, -1, -1, -1, FALSE, FALSE, 0, 0 },
    { "common alpha", 1, 0, -1, -1, -1, -1, FALSE, FALSE, 0, 0 },
    { "beta is:unread", -1, 1, -1, -1, -1, 1, FALSE, FALSE, 0, 0 },
    { "common is:read", 1, -1, -1, -1, -1, 0, FALSE, FALSE, 0, 0 },
    { "from:boris gamma", -1, 2, -1, 1, -1, -1, FALSE, FALSE, 0, 0 },
    { "to:sales common is:starred", 1, -1, -1, -1, 1, -1, TRUE, FALSE, 0, 0 },
    { "has:attachment delta", -1, 3, -1, -1, -1, -1, FALSE, TRUE, 0, 0 },
    { "subject:epsilon", -1, -1, 4, -1, -1, -1, FALSE, FALSE, 0, 0 },
    { "from:clara to:team", -1, -1, -1, 2, 0, -1, FALSE, FALSE, 0, 0 },
    { "common after:2025-02-01 before:2025-04-01", 1, -1, -1, -1, -1, -1, FALSE, FALSE, after, before },
  };
  struct { TernSearchScope scope; gint64 id; } scopes[] = {
    { TERN_SEARCH_SCOPE_EVERYWHERE, 0 },
    { TERN_SEARCH_SCOPE_ACCOUNT, 7 },
    { TERN_SEARCH_SCOPE_ACCOUNT, 8 },
    { TERN_SEARCH_SCOPE_FOLDER, fixture->inbox_id },
    { TERN_SEARCH_SCOPE_FOLDER, fixture->other_id },
    { TERN_SEARCH_SCOPE_FOLDER, fixture->second_id },
  };

  fill_scan_corpus (fixture, corpus);
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    for (guint s = 0; s < G_N_ELEMENTS (scopes); s++)
      assert_scan (fixture, corpus, &queries[q], scopes[s].scope, scopes[s].id);
}

/* tern-cli search */

static char *
run_cli (const char *profile,
         int         expect_status,
         const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, (char *) profile);
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_exit_status (process) != expect_status)
    g_error ("tern-cli %s: status %d: %s", first, g_subprocess_get_exit_status (process), err);
  return out;
}

/* @expression over the JSON document @json, by Python's json module: the
 * output must parse as one document. */
static char *
json_eval (const char *json,
           const char *expression)
{
  g_autofree char *program = g_strdup_printf ("import json, sys; d = json.load (sys.stdin); "
                                              "print (%s)", expression);
  const char *argv[] = { "python3", "-c", program, NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, json, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_strchomp (out);
  return out;
}

static void
assert_json (const char *json,
             const char *expression,
             const char *expected)
{
  g_autofree char *value = json_eval (json, expression);

  g_assert_cmpstr (value, ==, expected);
}

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  const char *profile = fixture->profile.profile;
  g_autofree char *out = NULL;

  out = run_cli (profile, 0, "search", "--json", "quarterly", NULL);
  assert_json (out, "len (d)", "2");
  /* Newest first. */
  assert_json (out, "d[0]['subject']", "Quarterly numbers");
  assert_json (out, "d[1]['from_address']", "bob@example.org");
  assert_json (out, "(d[1]['unread'], d[1]['starred'], d[1]['has_attachment'])",
               "(False, True, True)");
  g_clear_pointer (&out, g_free);

  out = run_cli (profile, 0, "search", "--json", "--account", "a@example.org", "quarterly", NULL);
  assert_json (out, "len (d)", "1");
  g_clear_pointer (&out, g_free);
  out = run_cli (profile, 0, "search", "--json", "--account", "a@example.org", "--folder", "Other",
                 "ЁЛКА", NULL);
  assert_json (out, "[m['subject'] for m in d]", "['елка в другой папке']");
  g_clear_pointer (&out, g_free);

  /* Bodies cached since the last run are indexed first. */
  out = run_cli (profile, 0, "search", "--json", "pineapple", NULL);
  assert_json (out, "[m['subject'] for m in d]", "['Lunch']");
  g_clear_pointer (&out, g_free);

  /* Several arguments are one query; --limit cuts. */
  out = run_cli (profile, 0, "search", "--json", "--limit", "1", "is:unread", "after:2026-01-01", NULL);
  assert_json (out, "len (d)", "1");
  g_clear_pointer (&out, g_free);

  out = run_cli (profile, 0, "search", "from:bob", NULL);
  g_assert_nonnull (strstr (out, "Quarterly report"));
  g_clear_pointer (&out, g_free);

  g_free (run_cli (profile, 2, "search", "is:urgent", NULL));
  g_free (run_cli (profile, 2, "search", NULL));
  g_free (run_cli (profile, 1, "search", "--account", "nobody@example.org", "x", NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/tern/search/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("operators", test_operators);
  ADD ("prefix", test_prefix);
  ADD ("injection", test_injection);
  ADD ("russian", test_russian);
  ADD ("scopes", test_scopes);
  ADD ("scope-tokens", test_scope_tokens);
  ADD ("bodies", test_bodies);
  ADD ("index-fails", test_index_fails);
  ADD ("refresh", test_refresh);
  ADD ("refresh-folders", test_refresh_folders);
  ADD ("async-cancel", test_async_cancel);
  ADD ("async-write-between", test_async_write_between);
  ADD ("equals-scan", test_equals_scan);
  ADD ("plans", test_plans);
  ADD ("cli", test_cli);
#undef ADD
  g_test_add_func ("/tern/search/migration", test_migration);
  g_test_add_func ("/tern/search/migration-prefix", test_migration_prefix);
  g_test_add_func ("/tern/search/migration-column-sizes", test_migration_column_sizes);

  return g_test_run ();
}
