/* test-message-list.c: the lazy message list over a store filled by direct
 * writes (counting, paging, sorting, conversations) and by the real IMAP
 * sync of Dovecot's messages (live updates).
 *
 * Live updates are checked against a mirror: the ids a view would hold,
 * changed only by the list's items-changed signals (reading the added items
 * while the signal runs, as GTK does).  After each write the mirror must
 * equal the store's own order, and the signals must have removed and added
 * no more rows than the write did.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-account-manager.h"
#include "tern-context.h"
#include "tern-imap-sync.h"
#include "tern-server.h"
#include "tern-mail-store-private.h"
#include "tern-message-list-private.h"
#include "tern-test-servers.h"
#include "tern-test-store.h"
#include "tern-test-util.h"

#define PAGE_SIZE TERN_MESSAGE_LIST_PAGE_SIZE
#define BASE_DATE 1700000000

static TernTestServers *servers;
static char *dovecot_conf;

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  TernStore *store;
  gint64 folder_id;
  gint64 other_folder_id;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
  fixture->store = tern_context_get_store (fixture->context);
  tern_test_store_add_account (fixture->store, 7);
  fixture->folder_id = tern_test_store_add_folder (fixture->store, 7, "INBOX");
  fixture->other_folder_id = tern_test_store_add_folder (fixture->store, 7, "Other");
}

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  drain_main_context ();
  g_assert_finalize_object (fixture->context);
  tern_test_profile_teardown (&fixture->profile, data);
}

/* @n messages, uid i + 1 dated BASE_DATE + 60 i: newest last. */
static void
fill_folder (Fixture *fixture,
             gint64   folder_id,
             guint    n)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *from = g_strdup_printf ("sender%05u", (i * 7919) % n);
      g_autofree char *subject = g_strdup_printf ("Subject %05u", (i * 104729) % n);

      g_ptr_array_add (messages,
                       tern_test_new_message (i + 1, BASE_DATE + 60 * i, from, subject, NULL));
      if (messages->len == 1000)
        {
          tern_test_store_add_messages (fixture->store, folder_id, messages);
          g_ptr_array_set_size (messages, 0);
        }
    }
  if (messages->len > 0)
    tern_test_store_add_messages (fixture->store, folder_id, messages);
  drain_main_context ();
}

static TernMessageList *
open_list (Fixture *fixture,
           gint64   folder_id)
{
  g_autoptr(GError) error = NULL;
  TernMessageList *list = tern_message_list_new (fixture->store, folder_id, &error);

  g_assert_no_error (error);
  return list;
}

static TernMessageItem *
item_at (TernMessageList *list,
         guint            position)
{
  TernMessageItem *item = g_list_model_get_item (G_LIST_MODEL (list), position);

  g_assert_nonnull (item);
  /* The list keeps a reference while the row is in its window. */
  g_object_unref (item);
  return item;
}

/* The size: a folder of 100,000 messages opens without reading them. */
#define BIG_FOLDER 100000

static void
test_count_without_rows (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(TernMessageList) list = NULL;
  TernMessageItem *item;

  fill_folder (fixture, fixture->folder_id, BIG_FOLDER);
  list = open_list (fixture, fixture->folder_id);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, BIG_FOLDER);
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, 0);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == TERN_TYPE_MESSAGE_ITEM);

  /* The first row costs one page; the newest message leads. */
  item = item_at (list, 0);
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, PAGE_SIZE);
  g_assert_cmpint (tern_message_item_get_date (item), ==, BASE_DATE + 60 * (BIG_FOLDER - 1));
  g_assert_true (tern_message_item_get_unread (item));
  g_assert_cmpuint (tern_message_item_get_thread_size (item), ==, 1);

  /* The last row costs the last page, not the rows between. */
  item = item_at (list, BIG_FOLDER - 1);
  g_assert_cmpint (tern_message_item_get_date (item), ==, BASE_DATE);
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, PAGE_SIZE + BIG_FOLDER % PAGE_SIZE);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), BIG_FOLDER));
  g_assert_finalize_object (g_steal_pointer (&list));
}

static void
test_paging (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const guint n = 3000;

  fill_folder (fixture, fixture->folder_id, n);
  list = open_list (fixture, fixture->folder_id);

  /* Scrolling down reads every row once, across page and window limits. */
  for (guint i = 0; i < n; i++)
    {
      TernMessageItem *item = item_at (list, i);

      gint64 id = tern_message_item_get_id (item);

      g_array_append_val (ids, id);
      g_assert_cmpint (tern_message_item_get_date (item), ==, BASE_DATE + 60 * (n - 1 - i));
    }
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, n);
  for (guint i = 0; i < ids->len; i++)
    g_assert_true (g_hash_table_add (seen, &g_array_index (ids, gint64, i)));

  /* Back to the top: the window has moved on, the first page is read again
   * and still holds the same rows. */
  g_assert_cmpint (tern_message_item_get_id (item_at (list, 0)), ==, g_array_index (ids, gint64, 0));
  g_assert_cmpint (tern_message_item_get_id (item_at (list, 300)), ==, g_array_index (ids, gint64, 300));
  g_assert_cmpuint (tern_message_list_get_rows_read (list), ==, n + 2 * PAGE_SIZE);
  g_assert_finalize_object (g_steal_pointer (&list));
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_sort (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(TernMessageList) list = NULL;
  const guint n = 600;
  guint notified = 0;

  fill_folder (fixture, fixture->folder_id, n);
  list = open_list (fixture, fixture->folder_id);
  g_signal_connect (list, "notify::sort", G_CALLBACK (notify_count_cb), &notified);

  tern_message_list_set_sort (list, TERN_MESSAGE_LIST_SORT_DATE, FALSE);
  g_assert_cmpint (tern_message_item_get_date (item_at (list, 0)), ==, BASE_DATE);
  g_assert_cmpint (tern_message_item_get_date (item_at (list, n - 1)), ==, BASE_DATE + 60 * (n - 1));

  /* Senders and subjects are permutations of 0..n-1: position i holds i
   * (and across the page boundary too). */
  tern_message_list_set_sort (list, TERN_MESSAGE_LIST_SORT_SENDER, FALSE);
  g_assert_cmpuint (notified, ==, 1);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("sender%05u", i);

      g_assert_cmpstr (tern_message_item_get_sender_name (item_at (list, i)), ==, expected);
    }
  tern_message_list_set_sort (list, TERN_MESSAGE_LIST_SORT_SUBJECT, TRUE);
  g_assert_true (tern_message_list_get_descending (list));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("Subject %05u", n - 1 - i);

      g_assert_cmpstr (tern_message_item_get_subject (item_at (list, i)), ==, expected);
    }
  g_assert_cmpint (tern_message_list_get_sort (list), ==, TERN_MESSAGE_LIST_SORT_SUBJECT);
  g_object_set (list, "sort", TERN_MESSAGE_LIST_SORT_DATE, "descending", TRUE, NULL);
  g_assert_cmpint (tern_message_item_get_date (item_at (list, 0)), ==, BASE_DATE + 60 * (n - 1));
  g_assert_finalize_object (g_steal_pointer (&list));
}

static gboolean
has_index (TernStore  *store,
           const char *name)
{
  sqlite3 *db = tern_store_get_main_reader (store, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_master WHERE type = 'index'"
                                           " AND name = ?1", -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

typedef struct
{
  TernStore *store;
  const char *name;
} IndexWait;

static gboolean
index_made (gpointer data)
{
  IndexWait *wait = data;

  return has_index (wait->store, wait->name);
}

/* Waits until the list's background build has made the index @name. */
static void
wait_for_index (Fixture    *fixture,
                const char *name)
{
  IndexWait wait = { fixture->store, name };

  tern_test_wait_until (index_made, &wait, name);
}

/* What SQLite does for the list's next page. */
static char *
page_plan (TernMessageList *list)
{
  sqlite3_stmt *page = _tern_message_list_statement (list, TERN_MESSAGE_STMT_PAGE);

  sqlite3_reset (page);
  return tern_test_query_plan (list->db, sqlite3_sql (page));
}

/* The sender and subject orders have indexes only once a list sorted by
 * them (migration 016): made in the background, then read from; a large
 * fill leaves them out and builds them again at its end, like the others. */
static void
test_sort_indexes (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plan = NULL;
  gboolean deferred = FALSE;
  const guint n = 300;

  fill_folder (fixture, fixture->folder_id, n);
  list = open_list (fixture, fixture->folder_id);
  g_assert_false (has_index (fixture->store, "messages_folder_sort_sender"));
  g_assert_false (has_index (fixture->store, "messages_folder_sort_subject"));
  plan = page_plan (list);
  g_test_message ("date order:\n%s", plan);
  g_assert_nonnull (strstr (plan, "messages_folder_sort_date"));
  g_clear_pointer (&plan, g_free);

  tern_message_list_set_sort (list, TERN_MESSAGE_LIST_SORT_SENDER, FALSE);
  wait_for_index (fixture, "messages_folder_sort_sender");
  plan = page_plan (list);
  g_test_message ("sender order:\n%s", plan);
  g_assert_nonnull (strstr (plan, "USING INDEX messages_folder_sort_sender"));
  g_assert_null (strstr (plan, "TEMP B-TREE"));
  g_clear_pointer (&plan, g_free);
  g_assert_cmpstr (tern_message_item_get_sender_name (item_at (list, n - 1)), ==, "sender00299");
  g_assert_false (has_index (fixture->store, "messages_folder_sort_subject"));

  tern_message_list_set_sort (list, TERN_MESSAGE_LIST_SORT_SUBJECT, TRUE);
  wait_for_index (fixture, "messages_folder_sort_subject");
  plan = page_plan (list);
  g_assert_nonnull (strstr (plan, "USING INDEX messages_folder_sort_subject"));
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 0)), ==, "Subject 00299");

  /* More new rows than there are: left out for the fill, built at its end. */
  g_assert_true (tern_mail_store_begin_fill (fixture->store, fixture->folder_id, 2 * n, &deferred,
                                             &error));
  g_assert_no_error (error);
  g_assert_true (deferred);
  g_assert_false (has_index (fixture->store, "messages_folder_sort_sender"));
  g_assert_false (has_index (fixture->store, "messages_folder_sort_subject"));
  g_assert_true (tern_mail_store_end_fill (fixture->store, &error));
  g_assert_no_error (error);
  g_assert_true (has_index (fixture->store, "messages_folder_sort_sender"));
  g_assert_true (has_index (fixture->store, "messages_folder_sort_subject"));
  drain_main_context ();
  g_assert_finalize_object (g_steal_pointer (&list));
}

static void
test_several_folders (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(GError) error = NULL;
  gint64 folders[2] = { fixture->folder_id, fixture->other_folder_id };

  fill_folder (fixture, fixture->folder_id, 300);
  g_ptr_array_add (messages, tern_test_new_message (1, BASE_DATE + 30, "other", "Between", NULL));
  g_ptr_array_add (messages,
                   tern_test_new_message (2, BASE_DATE + 60 * 1000, "other", "Newest", NULL));
  tern_test_store_add_messages (fixture->store, fixture->other_folder_id, messages);

  list = tern_message_list_new_for_folders (fixture->store, folders, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 302);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 0)), ==, "Newest");
  g_assert_cmpint (tern_message_item_get_folder_id (item_at (list, 0)), ==, fixture->other_folder_id);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 300)), ==, "Between");
  g_assert_finalize_object (g_steal_pointer (&list));
}

/* As the offline queue moves a message: its row changes folder. */
static gboolean
move_alone_cb (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  Fixture *fixture = user_data;
  g_autofree char *sql = g_strdup_printf ("UPDATE messages SET folder_id = %" G_GINT64_FORMAT
                                          " WHERE subject = 'Alone'",
                                          fixture->other_folder_id);

  return tern_store_exec (db, sql, error);
}

static void
test_threads (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(TernMessageList) thread = NULL;
  g_autoptr(GError) error = NULL;
  TernMessageItem *item;

  /* A: 1 <- 2 <- 4 (newest of all); B: 3 <- 5; C: 6 alone. */
  g_ptr_array_add (messages, tern_test_new_message (1, BASE_DATE + 10, "ann", "Plans", NULL));
  g_ptr_array_add (messages,
                   tern_test_new_message (2, BASE_DATE + 20, "ben", "Re: Plans", "<1.1700000010@test>"));
  g_ptr_array_add (messages, tern_test_new_message (3, BASE_DATE + 30, "cat", "Lunch", NULL));
  g_ptr_array_add (messages,
                   tern_test_new_message (4, BASE_DATE + 90, "ann", "Re: Plans", "<2.1700000020@test>"));
  g_ptr_array_add (messages,
                   tern_test_new_message (5, BASE_DATE + 50, "dan", "Re: Lunch", "<3.1700000030@test>"));
  g_ptr_array_add (messages, tern_test_new_message (6, BASE_DATE + 60, "eve", "Alone", NULL));
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);
  drain_main_context ();

  list = open_list (fixture, fixture->folder_id);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 6);
  tern_message_list_set_threaded (list, TRUE);
  g_assert_true (tern_message_list_get_threaded (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);

  /* Conversations by their newest message, which each row shows. */
  item = item_at (list, 0);
  g_assert_cmpint (tern_message_item_get_date (item), ==, BASE_DATE + 90);
  g_assert_cmpuint (tern_message_item_get_thread_size (item), ==, 3);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 1)), ==, "Alone");
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 1)), ==, 1);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 2)), ==, "Re: Lunch");
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 2)), ==, 2);

  /* Expanded: the conversation oldest first. */
  thread = tern_message_list_get_thread (list, item_at (list, 0), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (thread)), ==, 3);
  g_assert_cmpint (tern_message_item_get_date (item_at (thread, 0)), ==, BASE_DATE + 10);
  g_assert_cmpint (tern_message_item_get_date (item_at (thread, 2)), ==, BASE_DATE + 90);
  g_assert_finalize_object (g_steal_pointer (&thread));

  /* A reply to Lunch brings its conversation to the top. */
  g_ptr_array_set_size (messages, 0);
  g_ptr_array_add (messages,
                   tern_test_new_message (7, BASE_DATE + 100, "cat", "Re: Lunch", "<5.1700000050@test>"));
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);
  drain_main_context ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_cmpint (tern_message_item_get_date (item_at (list, 0)), ==, BASE_DATE + 100);
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 0)), ==, 3);
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 1)), ==, 3);

  /* The newest message of Plans goes: the row shows the one before. */
  tern_mail_store_remove_messages (fixture->store,
                                   (gint64[]){ tern_message_item_get_id (item_at (list, 1)) }, 1,
                                   &error);
  g_assert_no_error (error);
  drain_main_context ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_cmpint (tern_message_item_get_date (item_at (list, 2)), ==, BASE_DATE + 20);
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 2)), ==, 2);

  /* Moved to another folder, a message leaves its conversation here. */
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 1)), ==, "Alone");
  tern_store_write (fixture->store, move_alone_cb, fixture, &error);
  g_assert_no_error (error);
  drain_main_context ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);

  tern_message_list_set_threaded (list, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 5);
  g_assert_finalize_object (g_steal_pointer (&list));

  /* Conversations across folders are grouped from the messages. */
  list = tern_message_list_new_for_folders (fixture->store,
                                            (gint64[]){ fixture->folder_id, fixture->other_folder_id },
                                            2, &error);
  g_assert_no_error (error);
  tern_message_list_set_threaded (list, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 0)), ==, 3);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 1)), ==, "Alone");
  g_assert_cmpuint (tern_message_item_get_thread_size (item_at (list, 2)), ==, 2);
  g_assert_finalize_object (g_steal_pointer (&list));
}

/* Mirror: what a view holds, changed only through items-changed. */

typedef struct
{
  TernMessageList *list;
  GArray *ids;    /* gint64 */
  guint removed;  /* rows removed and added by the signals so far */
  guint added;
  guint signals;
} Mirror;

static void
mirror_items_changed_cb (GListModel *model,
                         guint       position,
                         guint       removed,
                         guint       added,
                         Mirror     *mirror)
{
  g_assert_cmpuint (position + removed, <=, mirror->ids->len);
  g_array_remove_range (mirror->ids, position, removed);
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (model, position + i);
      gint64 id;

      g_assert_nonnull (item);
      id = tern_message_item_get_id (item);
      g_array_insert_val (mirror->ids, position + i, id);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, mirror->ids->len);
  mirror->removed += removed;
  mirror->added += added;
  mirror->signals++;
}

static void
mirror_init (Mirror          *mirror,
             TernMessageList *list)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));

  mirror->list = list;
  mirror->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < n; i++)
    {
      gint64 id = tern_message_item_get_id (item_at (list, i));

      g_array_append_val (mirror->ids, id);
    }
  g_signal_connect (list, "items-changed", G_CALLBACK (mirror_items_changed_cb), mirror);
}

static void
mirror_reset_counts (Mirror *mirror)
{
  mirror->removed = mirror->added = mirror->signals = 0;
}

/* The mirror holds the store's messages of @folder_id, newest first. */
static void
assert_mirror_matches (Mirror    *mirror,
                       TernStore *store,
                       gint64     folder_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = tern_mail_store_list_messages (store, folder_id, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (mirror->ids->len, ==, messages->len);
  for (guint i = 0; i < messages->len; i++)
    g_assert_cmpint (g_array_index (mirror->ids, gint64, i), ==,
                     ((TernMailMessage *) g_ptr_array_index (messages, i))->id);
}

static void
mirror_clear (Mirror *mirror)
{
  g_signal_handlers_disconnect_by_data (mirror->list, mirror);
  g_array_unref (mirror->ids);
}

static void
test_live_direct (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageItem) watched = NULL;
  Mirror mirror = { 0 };
  gint64 removed_id;
  guint unread_notified = 0;

  fill_folder (fixture, fixture->folder_id, 100);
  list = open_list (fixture, fixture->folder_id);
  mirror_init (&mirror, list);

  /* One new message on top: one row added at 0, nothing else. */
  g_ptr_array_add (messages,
                   tern_test_new_message (1000, BASE_DATE + 60 * 500, "new", "Fresh", NULL));
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);
  g_assert_cmpuint (mirror.signals, ==, 0); /* announced on the main context, not in the write */
  drain_main_context ();
  g_assert_cmpuint (mirror.signals, ==, 1);
  g_assert_cmpuint (mirror.removed, ==, 0);
  g_assert_cmpuint (mirror.added, ==, 1);
  g_assert_cmpstr (tern_message_item_get_subject (item_at (list, 0)), ==, "Fresh");
  assert_mirror_matches (&mirror, fixture->store, fixture->folder_id);

  /* Flags change rows in place: no items-changed, a notify. */
  mirror_reset_counts (&mirror);
  watched = g_list_model_get_item (G_LIST_MODEL (list), 10);
  g_signal_connect (watched, "notify::unread", G_CALLBACK (notify_count_cb), &unread_notified);
  tern_mail_store_change_flags (fixture->store, (gint64[]){ tern_message_item_get_id (watched) }, 1,
                                TERN_IMAP_FLAG_SEEN, 0, &error);
  g_assert_no_error (error);
  drain_main_context ();
  g_assert_cmpuint (mirror.signals, ==, 0);
  g_assert_cmpuint (unread_notified, ==, 1);
  g_assert_false (tern_message_item_get_unread (watched));
  g_assert_true (item_at (list, 10) == watched);

  /* Removing two rows apart: exactly those two, the rest keep their items. */
  removed_id = tern_message_item_get_id (item_at (list, 20));
  tern_mail_store_remove_messages (fixture->store,
                                   (gint64[]){ removed_id, tern_message_item_get_id (item_at (list, 50)) },
                                   2, &error);
  g_assert_no_error (error);
  drain_main_context ();
  g_assert_cmpuint (mirror.removed, ==, 2);
  g_assert_cmpuint (mirror.added, ==, 0);
  g_assert_true (item_at (list, 10) == watched);
  assert_mirror_matches (&mirror, fixture->store, fixture->folder_id);

  /* Writes elsewhere are not this list's business. */
  mirror_reset_counts (&mirror);
  g_ptr_array_set_size (messages, 0);
  g_ptr_array_add (messages,
                   tern_test_new_message (1, BASE_DATE + 60 * 900, "x", "Elsewhere", NULL));
  tern_test_store_add_messages (fixture->store, fixture->other_folder_id, messages);
  drain_main_context ();
  g_assert_cmpuint (mirror.signals, ==, 0);

  mirror_clear (&mirror);
  g_clear_object (&watched);
  g_assert_finalize_object (g_steal_pointer (&list));
}

/* The window in the middle of a big folder: changes before, inside and
 * after it all arrive, and the view ends up with the store's order. */
static void
test_live_window (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(GError) error = NULL;
  Mirror mirror = { 0 };
  gint64 inside;

  fill_folder (fixture, fixture->folder_id, 2000);
  list = open_list (fixture, fixture->folder_id);
  mirror_init (&mirror, list);
  item_at (list, 600); /* the window: rows 512-767 */
  mirror_reset_counts (&mirror);

  /* Inside the window only: precise. */
  inside = tern_message_item_get_id (item_at (list, 700));
  tern_mail_store_remove_messages (fixture->store, &inside, 1, &error);
  g_assert_no_error (error);
  drain_main_context ();
  g_assert_cmpuint (mirror.removed, ==, 1);
  g_assert_cmpuint (mirror.added, ==, 0);
  assert_mirror_matches (&mirror, fixture->store, fixture->folder_id);

  /* Before, inside and after the window at once. */
  item_at (list, 600);
  g_ptr_array_add (messages,
                   tern_test_new_message (5000, BASE_DATE + 60 * 5000, "top", "Top", NULL));
  g_ptr_array_add (messages,
                   tern_test_new_message (5001, BASE_DATE + 60 * (2000 - 650) + 1, "mid", "Middle", NULL));
  g_ptr_array_add (messages, tern_test_new_message (5002, BASE_DATE - 60, "end", "Bottom", NULL));
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);
  drain_main_context ();
  assert_mirror_matches (&mirror, fixture->store, fixture->folder_id);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2002);

  mirror_clear (&mirror);
  g_assert_finalize_object (g_steal_pointer (&list));
}

/* Live updates from the real IMAP sync */

static char *
doveadm (const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;
  va_list ap;

  g_ptr_array_add (argv, (char *) "doveadm");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, dovecot_conf);
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("doveadm %s failed: %s", first, err);
  return out;
}

static TernAccount *
add_imap_account (TernContext *context,
                  const char  *dir,
                  guint        user_index)
{
  const char *user = tern_test_servers_get_user (servers, user_index);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *password_file = g_build_filename (dir, "password", NULL);
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  g_file_set_contents (password_file, tern_test_servers_get_password (servers, user_index), -1,
                       &error);
  g_assert_no_error (error);
  server = tern_server_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                            tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (user);
  account = tern_account_new (user, user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return account; /* owned by the manager */
}

static void
sync_account (TernContext *context,
              TernAccount *account)
{
  g_autoptr(GError) error = NULL;

  tern_imap_sync_account (context, account, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL, NULL,
                          &error);
  g_assert_no_error (error);
  drain_main_context ();
}

static void
test_live_imap (void)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autofree char *dir = tern_test_make_tmpdir ("tern-message-list-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(TernMessageList) list = NULL;
  g_autoptr(TernMessageItem) flagged = NULL;
  g_autoptr(TernMailMessage) expunged = NULL;
  g_autofree char *out = NULL;
  g_autofree char *uid = NULL;
  TernAccount *account;
  TernStore *store;
  Mirror mirror = { 0 };
  guint starred_notified = 0;

  g_assert_true (tern_test_servers_add_messages (servers, user, "Live", 40, &error));
  g_assert_no_error (error);
  context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (context, tern_test_servers_get_ca_file (servers));
  store = tern_context_get_store (context);
  account = add_imap_account (context, dir, 0);
  sync_account (context, account);

  folder = tern_mail_store_find_folder (store, tern_account_get_id (account), "Live", &error);
  g_assert_no_error (error);
  list = tern_message_list_new (store, folder->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 40);
  mirror_init (&mirror, list);

  /* New mail: three rows added, none removed, where the store has them. */
  g_assert_true (tern_test_servers_add_messages (servers, user, "Live", 3, &error));
  sync_account (context, account);
  g_assert_cmpuint (mirror.added, ==, 3);
  g_assert_cmpuint (mirror.removed, ==, 0);
  assert_mirror_matches (&mirror, store, folder->id);

  /* A flag set on the server: the row changes in place. */
  mirror_reset_counts (&mirror);
  flagged = g_list_model_get_item (G_LIST_MODEL (list), 5);
  g_signal_connect (flagged, "notify::starred", G_CALLBACK (notify_count_cb), &starred_notified);
  expunged = tern_mail_store_get_message (store, tern_message_item_get_id (flagged), &error);
  g_assert_no_error (error);
  uid = g_strdup_printf ("%u", expunged->uid);
  g_free (doveadm ("flags", "add", "-u", user, "\\Flagged", "mailbox", "Live", "uid", uid, NULL));
  sync_account (context, account);
  g_assert_cmpuint (mirror.signals, ==, 0);
  g_assert_cmpuint (starred_notified, ==, 1);
  g_assert_true (tern_message_item_get_starred (flagged));

  /* Expunged on the server: that row goes, the others stay. */
  g_clear_pointer (&expunged, tern_mail_message_free);
  g_clear_pointer (&uid, g_free);
  expunged = tern_mail_store_get_message (store, tern_message_item_get_id (item_at (list, 12)), &error);
  g_assert_no_error (error);
  uid = g_strdup_printf ("%u", expunged->uid);
  g_free (doveadm ("expunge", "-u", user, "mailbox", "Live", "uid", uid, NULL));
  sync_account (context, account);
  g_assert_cmpuint (mirror.removed, ==, 1);
  g_assert_cmpuint (mirror.added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 42);
  g_assert_true (item_at (list, 5) == flagged);
  assert_mirror_matches (&mirror, store, folder->id);

  mirror_clear (&mirror);
  g_clear_object (&flagged);
  g_assert_finalize_object (g_steal_pointer (&list));
  g_assert_finalize_object (g_steal_pointer (&context));
  tern_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  dovecot_conf = g_build_filename (tern_test_servers_get_dir (servers), "dovecot", "dovecot.conf", NULL);

#define ADD(path, func) \
  g_test_add ("/tern/message-list/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("count-without-rows", test_count_without_rows);
  ADD ("paging", test_paging);
  ADD ("sort", test_sort);
  ADD ("sort-indexes", test_sort_indexes);
  ADD ("several-folders", test_several_folders);
  ADD ("threads", test_threads);
  ADD ("live-direct", test_live_direct);
  ADD ("live-window", test_live_window);
#undef ADD
  g_test_add_func ("/tern/message-list/live-imap", test_live_imap);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (dovecot_conf);
  return status;
}
