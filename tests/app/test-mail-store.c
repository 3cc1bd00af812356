/* test-mail-store.c: folders and messages in the store, and folder roles,
 * without a server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gmime/gmime.h>

#include "tern-batch-writer.h"
#include "tern-context.h"
#include "tern-folder-roles.h"
#include "tern-mail-store.h"
#include "tern-mail-store-private.h"
#include "tern-test-store.h"
#include "tern-test-util.h"

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  TernStore *store;
  gint64 account_id;
  gint64 folder_id;
  gboolean filling;  /* the test runs inside a fill (tern_mail_store_begin_fill) */
} Fixture;

/* The data of a test that runs inside a fill, as a first sync's batches
 * do: thread lookups then go through the fill's filter first. */
#define IN_FILL "in-fill"

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernMailFolder folder = { 0 };

  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
  fixture->store = tern_context_get_store (fixture->context);
  tern_test_store_add_account (fixture->store, 7);
  fixture->account_id = 7;

  folder.account_id = 7;
  folder.name = (char *) "INBOX";
  folder.delimiter = '/';
  folder.role = (char *) "inbox";
  folder.subscribed = TRUE;
  fixture->folder_id = tern_mail_store_upsert_folder (fixture->store, &folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fixture->folder_id, >, 0);
  if (g_strcmp0 (data, IN_FILL) == 0)
    {
      g_assert_true (tern_mail_store_begin_fill (fixture->store, fixture->folder_id, 1000,
                                                 &fixture->filling, &error));
      g_assert_no_error (error);
      g_assert_true (fixture->filling);
    }
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (fixture->filling)
    {
      g_assert_true (tern_mail_store_end_fill (fixture->store, &error));
      g_assert_no_error (error);
    }
  g_assert_finalize_object (fixture->context);
  tern_test_profile_teardown (&fixture->profile, data);
}

static GPtrArray *
address_list (const char *name,
              const char *mailbox,
              const char *host)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_address_free);
  TernImapAddress *address = g_new0 (TernImapAddress, 1);

  address->name = g_strdup (name);
  address->mailbox = g_strdup (mailbox);
  address->host = g_strdup (host);
  g_ptr_array_add (list, address);
  return list;
}

static TernImapMessage *
make_message (guint32     uid,
              const char *subject,
              const char *message_id,
              const char *in_reply_to,
              const char *references,
              TernImapFlags flags)
{
  TernImapMessage *message = tern_imap_message_new ();
  TernImapEnvelope *envelope = g_new0 (TernImapEnvelope, 1);

  message->present = TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS | TERN_IMAP_FETCH_ENVELOPE |
                     TERN_IMAP_FETCH_SIZE | TERN_IMAP_FETCH_INTERNALDATE;
  message->uid = uid;
  message->flags = flags;
  message->size = 1000 + uid;
  message->internal_date = 1700000000 + uid;
  envelope->date = g_strdup_printf ("Tue, 14 Nov 2023 22:%02u:00 +0000", uid % 60);
  envelope->subject = g_strdup (subject);
  envelope->from = address_list ("=?utf-8?b?0JDQu9C40YHQsA==?=", "alice", "tern.test");
  envelope->sender = g_ptr_array_new ();
  envelope->reply_to = g_ptr_array_new ();
  envelope->to = address_list ("Bob", "bob", "tern.test");
  envelope->cc = g_ptr_array_new ();
  envelope->bcc = g_ptr_array_new ();
  envelope->message_id = g_strdup (message_id);
  envelope->in_reply_to = g_strdup (in_reply_to);
  message->envelope = envelope;
  if (references != NULL)
    {
      g_autofree char *text = g_strdup_printf ("References: %s\r\n\r\n", references);

      message->present |= TERN_IMAP_FETCH_HEADERS;
      message->headers = g_bytes_new (text, strlen (text));
    }
  return message;
}

static guint
add (Fixture   *fixture,
     GPtrArray *messages)
{
  g_autoptr(GError) error = NULL;
  guint inserted = 0;

  tern_mail_store_add_messages (fixture->store, fixture->folder_id, messages, &inserted, &error);
  g_assert_no_error (error);
  return inserted;
}

static void
test_add_and_list (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_text = NULL;

  for (guint uid = 1; uid <= 20; uid++)
    g_ptr_array_add (batch, make_message (uid, "=?utf-8?q?Привет?=", NULL, NULL, NULL,
                                          uid % 2 ? TERN_IMAP_FLAG_SEEN : 0));
  g_assert_cmpuint (add (fixture, batch), ==, 20);
  /* A repeated batch (after a cut connection) adds nothing. */
  g_assert_cmpuint (add (fixture, batch), ==, 0);

  tern_mail_store_set_folder_synced (fixture->store, fixture->folder_id, 5, 21, 40, &error);
  g_assert_no_error (error);
  folder = tern_mail_store_find_folder (fixture->store, fixture->account_id, "inbox", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folder->total_count, ==, 20);
  g_assert_cmpuint (folder->unread_count, ==, 10);
  g_assert_cmpuint (folder->uidvalidity, ==, 5);
  g_assert_cmpuint (folder->uidnext, ==, 21);
  g_assert_cmpuint (folder->highestmodseq, ==, 40);

  listed = tern_mail_store_list_messages (fixture->store, fixture->folder_id, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 5);
  message = tern_mail_store_get_message (fixture->store,
                                         ((TernMailMessage *) g_ptr_array_index (listed, 0))->id,
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpuint (message->uid, ==, 20);
  g_assert_cmpstr (message->subject, ==, "Привет");
  g_assert_cmpstr (message->from_name, ==, "Алиса");
  g_assert_cmpstr (message->from_address, ==, "alice@tern.test");
  g_assert_cmpstr (message->to_list, ==, "Bob <bob@tern.test>");
  g_assert_cmpuint (message->size, ==, 1020);

  uids = tern_mail_store_get_uids (fixture->store, fixture->folder_id, &error);
  g_assert_no_error (error);
  uid_text = tern_imap_set_to_string (uids);
  g_assert_cmpstr (uid_text, ==, "1:20");
}

static void
test_flags_and_removal (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GPtrArray) updates = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_flag_update_free);
  g_autoptr(TernImapSet) gone = tern_imap_set_new ();
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_text = NULL;
  TernMailFlagUpdate *update = g_new0 (TernMailFlagUpdate, 1);

  for (guint uid = 1; uid <= 10; uid++)
    g_ptr_array_add (batch, make_message (uid, "s", NULL, NULL, NULL, 0));
  add (fixture, batch);

  update->uid = 3;
  update->flags = TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED;
  update->keywords = g_strdup ("$label1");
  g_ptr_array_add (updates, update);
  tern_mail_store_update_flags (fixture->store, fixture->folder_id, updates, &error);
  g_assert_no_error (error);
  message = tern_mail_store_find_message (fixture->store, fixture->folder_id, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (message->flags, ==, TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED);
  g_assert_cmpstr (message->keywords, ==, "$label1");

  tern_imap_set_add_range (gone, 2, 4);
  tern_imap_set_add (gone, 9);
  tern_mail_store_remove_uids (fixture->store, fixture->folder_id, gone, &error);
  g_assert_no_error (error);
  uids = tern_mail_store_get_uids (fixture->store, fixture->folder_id, &error);
  uid_text = tern_imap_set_to_string (uids);
  g_assert_cmpstr (uid_text, ==, "1,5:8,10");
  folder = tern_mail_store_get_folder (fixture->store, fixture->folder_id, &error);
  g_assert_cmpuint (folder->total_count, ==, 6);
  g_assert_cmpuint (folder->unread_count, ==, 6);

  /* UIDVALIDITY changed: everything goes. */
  tern_mail_store_reset_folder (fixture->store, fixture->folder_id, 99, &error);
  g_assert_no_error (error);
  g_clear_pointer (&folder, tern_mail_folder_free);
  folder = tern_mail_store_get_folder (fixture->store, fixture->folder_id, &error);
  g_assert_cmpuint (folder->total_count, ==, 0);
  g_assert_cmpuint (folder->uidvalidity, ==, 99);
  g_clear_pointer (&uids, tern_imap_set_free);
  uids = tern_mail_store_get_uids (fixture->store, fixture->folder_id, &error);
  g_assert_true (tern_imap_set_is_empty (uids));
}

/* The threads' stored counts against a recount of their messages: the
 * number of threads, after checking that none is off (or empty). */
static gboolean
check_thread_counts_cb (sqlite3  *db,
                        gpointer  user_data,
                        GError  **error)
{
  g_autoptr(sqlite3_stmt) wrong = tern_store_prepare (db,
    "SELECT count(*) FROM threads t"
    " WHERE message_count != (SELECT count(*) FROM messages m WHERE m.thread_id = t.id)"
    " OR message_count <= 0", error);
  g_autoptr(sqlite3_stmt) all = tern_store_prepare (db, "SELECT count(*) FROM threads", error);

  g_assert_cmpint (sqlite3_step (wrong), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (wrong, 0), ==, 0);
  g_assert_cmpint (sqlite3_step (all), ==, SQLITE_ROW);
  *(int *) user_data = sqlite3_column_int (all, 0);
  return TRUE;
}

static int
thread_count (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  int count = -1;

  tern_store_read (fixture->store, check_thread_counts_cb, &count, &error);
  g_assert_no_error (error);
  return count;
}

typedef struct
{
  gint64 folder_id;
  guint32 uid;
  int vm_steps;           /* of the DELETE, its triggers' included */
  gint64 latest_uid;      /* of the conversation of uid 1, after it */
  gint64 conversations;   /* that disagree with the messages they count */
} DeleteOne;

static gboolean
delete_one_cb (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  DeleteOne *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->uid);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  data->vm_steps = sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_VM_STEP, FALSE);
  g_clear_pointer (&stmt, sqlite3_finalize);

  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "SELECT m.uid FROM folder_threads t JOIN messages m ON m.id = t.latest_id"
    " WHERE t.folder_id = ?1 AND t.thread_key ="
    "  (SELECT coalesce (thread_id, -id) FROM messages WHERE folder_id = ?1 AND uid = 1)",
    -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  data->latest_uid = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  g_assert_cmpint (sqlite3_prepare_v2 (db, TERN_TEST_MISCOUNTED_CONVERSATIONS_SQL, -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  data->conversations = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* Conversations that disagree with their messages: count or date
 * (tern-test-util.h), or latest message, the newest by (date, id). */
static gboolean
check_conversations_cb (sqlite3  *db,
                        gpointer  user_data,
                        GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "SELECT (" TERN_TEST_MISCOUNTED_CONVERSATIONS_SQL "),"
    " (SELECT count (*) FROM folder_threads t WHERE t.latest_id IS NOT"
    "   (SELECT m.id FROM messages m WHERE m.folder_id = t.folder_id"
    "    AND coalesce (m.thread_id, -m.id) = t.thread_key"
    "    ORDER BY coalesce (m.date, m.internal_date, 0) DESC, m.id DESC LIMIT 1))",
    -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  *(gint64 *) user_data = sqlite3_column_int64 (stmt, 0) + sqlite3_column_int64 (stmt, 1);
  return TRUE;
}

static gint64
wrong_conversations (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  gint64 wrong = -1;

  g_assert_true (tern_store_read (fixture->store, check_conversations_cb, &wrong, &error));
  g_assert_no_error (error);
  return wrong;
}

static TernImapMessage *
dated_message (guint32     uid,
               const char *message_id,
               const char *in_reply_to,
               const char *date)
{
  TernImapMessage *message = make_message (uid, in_reply_to ? "Re: Plan" : "Plan", message_id,
                                           in_reply_to, NULL, 0);

  g_free (message->envelope->date);
  message->envelope->date = g_strdup (date);
  return message;
}

/* A batch counts its messages in their conversations once per
 * conversation: counts, dates and latest messages as if one by one,
 * within a batch (dates out of order, a tie broken by id) and across
 * batches (an older message, then a newer one). */
static void
test_conversation_batch (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GPtrArray) first = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GPtrArray) second = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);

  g_ptr_array_add (first, dated_message (1, "<a1@x>", NULL, "Tue, 14 Nov 2023 10:05:00 +0000"));
  g_ptr_array_add (first, dated_message (2, "<a2@x>", "<a1@x>", "Tue, 14 Nov 2023 10:30:00 +0000"));
  g_ptr_array_add (first, dated_message (3, "<a3@x>", "<a1@x>", "Tue, 14 Nov 2023 10:10:00 +0000"));
  g_ptr_array_add (first, dated_message (4, "<b1@x>", NULL, "Tue, 14 Nov 2023 11:00:00 +0000"));
  g_ptr_array_add (first, dated_message (5, "<b2@x>", "<b1@x>", "Tue, 14 Nov 2023 11:00:00 +0000"));
  g_ptr_array_add (first, dated_message (6, "<c1@x>", NULL, "Tue, 14 Nov 2023 12:00:00 +0000"));
  g_assert_cmpuint (add (fixture, first), ==, 6);
  g_assert_cmpint (wrong_conversations (fixture), ==, 0);

  g_assert_cmpint (thread_count (fixture), ==, 3);

  g_ptr_array_add (second, dated_message (7, "<a4@x>", "<a1@x>", "Tue, 14 Nov 2023 09:00:00 +0000"));
  g_ptr_array_add (second, dated_message (8, "<b3@x>", "<b1@x>", "Tue, 14 Nov 2023 11:30:00 +0000"));
  g_assert_cmpuint (add (fixture, second), ==, 2);
  g_assert_cmpint (wrong_conversations (fixture), ==, 0);
}

/* The newest message of an old conversation is deleted from a large
 * folder: the conversation's next newest is found among the thread's
 * messages (migration 014), with work in proportion to them, not by
 * walking the folder from its newest message (which took 51 ms a row at
 * 100,000 messages). */
static void
test_conversation_newest_deleted (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GError) error = NULL;
  DeleteOne delete = { fixture->folder_id, 2 };
  const guint total = 2000;

  for (guint uid = total; uid >= 1; uid--)
    {
      g_autofree char *id = g_strdup_printf ("<m%u@x>", uid);
      g_autofree char *subject = g_strdup_printf ("Subject %u", uid);
      g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (1700000000 + uid * 60);
      TernImapMessage *message;

      /* The two oldest, 1 and 2 (its reply), are one conversation. */
      message = make_message (uid, uid == 2 ? "Re: Subject 1" : subject, id,
                              uid == 2 ? "<m1@x>" : NULL, NULL, 0);
      g_free (message->envelope->date);
      message->envelope->date = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");
      g_ptr_array_add (batch, message);
    }
  g_assert_cmpuint (add (fixture, batch), ==, total);

  g_assert_true (tern_store_write (fixture->store, delete_one_cb, &delete, &error));
  g_assert_no_error (error);
  g_assert_cmpint (delete.latest_uid, ==, 1);
  g_assert_cmpint (delete.conversations, ==, 0);
  g_test_message ("DELETE of the newest of a conversation: %d VM steps", delete.vm_steps);
  g_assert_cmpint (delete.vm_steps, <, (int) total);
}

static gint64
thread_of (Fixture *fixture,
           guint32  uid)
{
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = tern_mail_store_find_message (fixture->store, fixture->folder_id, uid, &error);
  g_assert_no_error (error);
  return message->thread_id;
}

static void
test_threads (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  gint64 thread[7];

  /* Newest first, as a sync fetches: replies before their parents. */
  g_ptr_array_add (batch, make_message (6, "Re: Plans", "<c@x>", "<b@x>", "<a@x> <b@x>", 0));
  g_ptr_array_add (batch, make_message (5, "Re: Plans", "<b@x>", "<a@x>", "<a@x>", 0));
  g_ptr_array_add (batch, make_message (4, "Plans", "<a@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (3, "Other", "<d@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (2, "RE: other", "<e@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (1, "Plans", "<f@x>", NULL, NULL, 0));
  add (fixture, batch);

  for (guint uid = 1; uid <= 6; uid++)
    {
      thread[uid] = thread_of (fixture, uid);
      g_assert_cmpint (thread[uid], >, 0);
    }
  g_assert_cmpint (thread[4], ==, thread[5]);
  g_assert_cmpint (thread[5], ==, thread[6]);
  g_assert_cmpint (thread[2], ==, thread[3]); /* subject fallback for a reply */
  g_assert_cmpint (thread[1], !=, thread[4]); /* no prefix, no references: its own */
  g_assert_cmpint (thread[3], !=, thread[4]);
  g_assert_cmpint (thread_count (fixture), ==, 3);

  /* The same batch again (after a cut connection): no thread is made or
   * counted twice; then a reply joins a thread that was stored before. */
  g_assert_cmpuint (add (fixture, batch), ==, 0);
  g_assert_cmpint (thread_count (fixture), ==, 3);
  g_ptr_array_set_size (batch, 0);
  g_ptr_array_add (batch, make_message (7, "Re: Plans", "<g@x>", "<c@x>", "<a@x> <b@x> <c@x>", 0));
  g_ptr_array_add (batch, make_message (8, "New", "<h@x>", NULL, NULL, 0));
  g_assert_cmpuint (add (fixture, batch), ==, 2);
  g_assert_cmpint (thread_count (fixture), ==, 4);

  /* Prefixes and subjects fold case in Cyrillic as in Latin. */
  g_ptr_array_set_size (batch, 0);
  g_ptr_array_add (batch, make_message (9, "Тема", "<i@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (10, "ОТВЕТ: ТЕМА", "<j@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (11, "Aw: Sv: Re[2] : NEW", "<k@x>", NULL, NULL, 0));
  g_assert_cmpuint (add (fixture, batch), ==, 3);
  g_assert_cmpint (thread_count (fixture), ==, 5);
  for (guint uid = 9; uid <= 11; uid++)
    thread[uid - 9] = thread_of (fixture, uid);
  g_assert_cmpint (thread[0], ==, thread[1]);
  g_assert_cmpint (thread[2], ==, thread_of (fixture, 8));
}

/* When a new message's ids name messages of different threads, it joins
 * the first in order: a copy's (its own Message-ID), In-Reply-To's, then
 * References' from the last; past eight ids too. */
static void
test_thread_priority (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GString) many = g_string_new ("<p@x>");
  gint64 p, q;

  g_ptr_array_add (batch, make_message (1, "Plans", "<p@x>", NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (2, "Other", "<q@x>", NULL, NULL, 0));
  g_assert_cmpuint (add (fixture, batch), ==, 2);
  p = thread_of (fixture, 1);
  q = thread_of (fixture, 2);
  g_assert_cmpint (p, !=, q);

  for (guint i = 0; i < 10; i++)
    g_string_append_printf (many, " <n%u@x>", i);
  g_ptr_array_set_size (batch, 0);
  g_ptr_array_add (batch, make_message (3, "Re: x", "<r3@x>", "<q@x>", "<p@x>", 0));
  g_ptr_array_add (batch, make_message (4, "Re: x", "<r4@x>", NULL, "<p@x> <q@x>", 0));
  g_ptr_array_add (batch, make_message (5, "Re: x", "<r5@x>", NULL, "<q@x> <p@x>", 0));
  g_ptr_array_add (batch, make_message (6, "Re: x", "<p@x>", "<q@x>", "<q@x>", 0));
  g_ptr_array_add (batch, make_message (7, "Re: x", "<r7@x>", NULL, many->str, 0));
  g_ptr_array_add (batch, make_message (8, "Re: x", "<r8@x>", "<none@x>", "<q@x> <none@x>", 0));
  g_assert_cmpuint (add (fixture, batch), ==, 6);
  g_assert_cmpint (thread_of (fixture, 3), ==, q);  /* In-Reply-To before References */
  g_assert_cmpint (thread_of (fixture, 4), ==, q);  /* the last reference first */
  g_assert_cmpint (thread_of (fixture, 5), ==, p);
  g_assert_cmpint (thread_of (fixture, 6), ==, p);  /* a copy before its parent */
  g_assert_cmpint (thread_of (fixture, 7), ==, p);  /* the oldest of eleven references */
  g_assert_cmpint (thread_of (fixture, 8), ==, q);  /* after ids nobody has */
}

/* Inside a fill, a message that came another way than the fill's batches
 * (a plain INSERT here, a move or a copy in the app; or a write by
 * another process, here another connection to the file) is found by the
 * replies after it: the fill's filter no longer holds every message, and
 * lookups ask SQL. */
static void
check_message_from_elsewhere (Fixture  *fixture,
                              gboolean  other_process)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autofree char *insert = NULL;
  gint64 side;

  g_assert_true (fixture->filling);
  g_ptr_array_add (batch, make_message (1, "Plans", "<p@x>", NULL, NULL, 0));
  g_assert_cmpuint (add (fixture, batch), ==, 1);

  /* Its thread's subject is no reply's: only its Message-ID finds it. */
  insert = g_strdup_printf ("INSERT INTO threads (account_id, subject, last_date, message_count)"
                            " VALUES (%" G_GINT64_FORMAT ", 'elsewhere', 0, 1);"
                            "INSERT INTO messages (folder_id, uid, message_id, thread_id)"
                            " VALUES (%" G_GINT64_FORMAT ", 100, 's@x', last_insert_rowid ())",
                            fixture->account_id, fixture->folder_id);
  if (other_process)
    {
      sqlite3 *other = NULL;

      g_assert_cmpint (sqlite3_open (tern_store_get_path (fixture->store), &other), ==, SQLITE_OK);
      sqlite3_busy_timeout (other, 5000);
      g_assert_cmpint (sqlite3_exec (other, insert, NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (other);
    }
  else
    tern_test_store_exec (fixture->store, insert);
  side = thread_of (fixture, 100);

  g_ptr_array_set_size (batch, 0);
  g_ptr_array_add (batch, make_message (2, "Re: side", "<r@x>", "<s@x>", "<s@x>", 0));
  g_ptr_array_add (batch, make_message (3, "Re: Plans", "<q@x>", "<p@x>", "<p@x>", 0));
  g_assert_cmpuint (add (fixture, batch), ==, 2);
  g_assert_cmpint (thread_of (fixture, 2), ==, side);
  g_assert_cmpint (thread_of (fixture, 3), ==, thread_of (fixture, 1));
}

static void
test_thread_other_writer (Fixture       *fixture,
                          gconstpointer  data)
{
  check_message_from_elsewhere (fixture, FALSE);
}

static void
test_thread_other_process (Fixture       *fixture,
                           gconstpointer  data)
{
  check_message_from_elsewhere (fixture, TRUE);
}

static gboolean
count_fts_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db,
    "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'алиса AND привет'", error);

  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  *(int *) user_data = sqlite3_column_int (stmt, 0);
  return TRUE;
}

static void
test_fts (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(TernImapSet) gone = tern_imap_set_new ();
  g_autoptr(GError) error = NULL;
  int count = -1;

  g_ptr_array_add (batch, make_message (1, "=?utf-8?q?Привет?=", NULL, NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (2, "other", NULL, NULL, NULL, 0));
  add (fixture, batch);
  tern_store_read (fixture->store, count_fts_cb, &count, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count, ==, 1);

  tern_imap_set_add (gone, 1);
  tern_mail_store_remove_uids (fixture->store, fixture->folder_id, gone, &error);
  g_assert_no_error (error);
  tern_store_read (fixture->store, count_fts_cb, &count, &error);
  g_assert_cmpint (count, ==, 0);
}

static void
test_bodies (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GBytes) raw = g_bytes_new_static ("Subject: x\r\n\r\nhi\r\n", 18);
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GArray) missing = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (batch, make_message (1, "a", NULL, NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (2, "b", NULL, NULL, NULL, 0));
  add (fixture, batch);
  missing = tern_mail_store_list_missing_bodies (fixture->store, fixture->folder_id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (missing->len, ==, 2);
  g_assert_cmpuint (g_array_index (missing, TernMailBodyRef, 0).uid, ==, 2);

  message = tern_mail_store_find_message (fixture->store, fixture->folder_id, 2, &error);
  g_assert_null (tern_mail_store_get_body (fixture->store, message->id, &error));
  g_assert_no_error (error);
  tern_mail_store_set_body (fixture->store, message->id, raw, NULL, 18, &error);
  g_assert_no_error (error);
  back = tern_mail_store_get_body (fixture->store, message->id, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (raw, back));

  g_clear_pointer (&missing, g_array_unref);
  missing = tern_mail_store_list_missing_bodies (fixture->store, fixture->folder_id, 0, &error);
  g_assert_cmpuint (missing->len, ==, 1);
}

static TernImapBody *
make_body (const char *type,
           const char *subtype,
           const char *section,
           const char *filename)
{
  TernImapBody *body = g_new0 (TernImapBody, 1);

  body->type = g_strdup (type);
  body->subtype = g_strdup (subtype);
  body->section = g_strdup (section);
  body->children = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_body_free);
  body->size = 100;
  if (filename != NULL)
    {
      body->disposition = g_strdup ("attachment");
      body->disposition_params = g_new0 (char *, 3);
      body->disposition_params[0] = g_strdup ("filename");
      body->disposition_params[1] = g_strdup (filename);
    }
  return body;
}

/* has_attachments from BODYSTRUCTURE: a named leaf in a multipart/mixed
 * is one, the two bodies of a multipart/alternative are not. */
static void
test_attachments (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(TernMailMessage) with = NULL;
  g_autoptr(TernMailMessage) without = NULL;
  g_autoptr(GError) error = NULL;
  TernImapMessage *imap = make_message (1, "with attachment", NULL, NULL, NULL, 0);
  TernImapMessage *plain = make_message (2, "without", NULL, NULL, NULL, 0);
  TernImapBody *mixed = make_body ("multipart", "mixed", NULL, NULL);
  TernImapBody *alternative = make_body ("multipart", "alternative", "1", NULL);
  TernImapBody *only = make_body ("multipart", "alternative", NULL, NULL);

  g_ptr_array_add (alternative->children, make_body ("text", "plain", "1.1", NULL));
  g_ptr_array_add (alternative->children, make_body ("text", "html", "1.2", NULL));
  g_ptr_array_add (mixed->children, alternative);
  g_ptr_array_add (mixed->children, make_body ("application", "pdf", "2", "=?utf-8?q?=D0=BE=D1=82=D1=87=D1=91=D1=82?=.pdf"));
  imap->body = mixed;
  imap->present |= TERN_IMAP_FETCH_BODYSTRUCTURE;
  g_ptr_array_add (only->children, make_body ("text", "plain", "1", NULL));
  g_ptr_array_add (only->children, make_body ("text", "html", "2", NULL));
  plain->body = only;
  plain->present |= TERN_IMAP_FETCH_BODYSTRUCTURE;
  g_ptr_array_add (batch, imap);
  g_ptr_array_add (batch, plain);
  g_assert_cmpuint (add (fixture, batch), ==, 2);

  with = tern_mail_store_find_message (fixture->store, fixture->folder_id, 1, &error);
  g_assert_no_error (error);
  g_assert_true (with->has_attachments);
  without = tern_mail_store_find_message (fixture->store, fixture->folder_id, 2, &error);
  g_assert_no_error (error);
  g_assert_false (without->has_attachments);
}

static void
test_folders (Fixture       *fixture,
              gconstpointer  data)
{
  const char *names[] = { "Проекты", "Проекты/2026", "Sent", NULL };
  const char *keep[] = { "INBOX", "Проекты/2026", NULL };
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; names[i] != NULL; i++)
    {
      TernMailFolder folder = { 0 };

      folder.account_id = fixture->account_id;
      folder.name = (char *) names[i];
      folder.delimiter = '/';
      folder.role = (char *) tern_folder_role_guess (names[i], '/', 0);
      tern_mail_store_upsert_folder (fixture->store, &folder, &error);
      g_assert_no_error (error);
    }
  folders = tern_mail_store_list_folders (fixture->store, fixture->account_id, &error);
  g_assert_cmpuint (folders->len, ==, 4);
  g_assert_cmpstr (((TernMailFolder *) g_ptr_array_index (folders, 0))->role, ==, "inbox");

  tern_mail_store_remove_folders_except (fixture->store, fixture->account_id, keep, &error);
  g_assert_no_error (error);
  g_clear_pointer (&folders, g_ptr_array_unref);
  folders = tern_mail_store_list_folders (fixture->store, fixture->account_id, &error);
  g_assert_cmpuint (folders->len, ==, 2);
  g_assert_cmpstr (((TernMailFolder *) g_ptr_array_index (folders, 1))->name, ==, "Проекты/2026");
}

/* Mailers split long Cyrillic subjects and names into base64 words that
 * each end in padding; GMime 3.2.13 alone decodes only the first one. */
static void
test_split_encoded_words (Fixture       *fixture,
                          gconstpointer  data)
{
  static const char subject[] = "=?UTF-8?B?0J/RgNC40LI=?= =?UTF-8?B?0LXRgg==?=\r\n"
                                " =?utf-8?b?INC80LjRgA==?= - =?UTF-8?B?0LTQsA==?= "
                                "=?KOI8-R?B?8NLJ?= =?koi8-r?B?18XU?=";
  static const char expected[] = "Привет мир - даПривет";
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(GPtrArray) pop3 = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *raw = NULL;
  TernImapMessage *message = make_message (1, subject, NULL, NULL, NULL, 0);

  g_ptr_array_add (batch, message);
  g_free (((TernImapAddress *) g_ptr_array_index (message->envelope->from, 0))->name);
  ((TernImapAddress *) g_ptr_array_index (message->envelope->from, 0))->name =
    g_strdup ("=?UTF-8?B?0JA=?= =?UTF-8?B?0LvQuNGB0LA=?=");
  g_assert_cmpuint (add (fixture, batch), ==, 1);

  raw = g_strdup_printf ("From: =?UTF-8?B?0JA=?= =?UTF-8?B?0LvQuNGB0LA=?= <alice@tern.test>\r\n"
                         "Subject: %s\r\nMessage-ID: <split@tern.test>\r\n\r\n"
                         "=?UTF-8?B?0J/RgNC40LI=?= =?UTF-8?B?0LXRgg==?= stays in the body\r\n",
                         subject);
  {
    g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
    g_autoptr(GBytes) stored = NULL;
    gint64 id;

    g_ptr_array_add (pop3, tern_mail_new_message_from_pop3 ("uidl-split", bytes, TRUE, 1700000000));
    tern_mail_store_add_new_messages (fixture->store, fixture->folder_id, pop3, NULL, &error);
    g_assert_no_error (error);
    listed = tern_mail_store_list_messages (fixture->store, fixture->folder_id, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (listed->len, ==, 2);
    for (guint i = 0; i < listed->len; i++)
      {
        TernMailMessage *row = g_ptr_array_index (listed, i);

        g_assert_cmpstr (row->subject, ==, expected);
        g_assert_cmpstr (row->from_name, ==, "Алиса");
      }
    /* The store keeps the bytes as they came, repaired or not. */
    id = ((TernMailMessage *) g_ptr_array_index (listed, 0))->uid == 0
           ? ((TernMailMessage *) g_ptr_array_index (listed, 0))->id
           : ((TernMailMessage *) g_ptr_array_index (listed, 1))->id;
    stored = tern_mail_store_get_body (fixture->store, id, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (stored, bytes));
  }
}

static void
test_roles (void)
{
  static const struct
  {
    const char *name;
    TernImapMailboxAttributes attributes;
    const char *role;
  } cases[] = {
    { "INBOX", 0, "inbox" },
    { "inbox", 0, "inbox" },
    { "Stuff", TERN_IMAP_MAILBOX_SENT, "sent" },
    { "Корзина", TERN_IMAP_MAILBOX_TRASH, "trash" },
    { "Входящие", 0, "inbox" },
    { "Отправленные", 0, "sent" },
    { "Черновики", 0, "drafts" },
    { "Корзина", 0, "trash" },
    { "Спам", 0, "junk" },
    { "Архив", 0, "archive" },
    { "Удалённые", 0, "trash" },
    { "Gesendet", 0, "sent" },
    { "Entwürfe", 0, "drafts" },
    { "Papierkorb", 0, "trash" },
    { "Sent Items", 0, "sent" },
    { "Deleted Items", 0, "trash" },
    { "Junk E-mail", 0, "junk" },
    { "[Gmail]/Sent Mail", 0, "sent" },
    { "[Gmail]/All Mail", 0, "all" },
    { "[Gmail]/Spam", 0, "junk" },
    { "INBOX/Drafts", 0, "drafts" },
    { "Projects/Sent", 0, NULL },
    { "Проекты/2026", 0, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpstr (tern_folder_role_guess (cases[i].name, '/', cases[i].attributes), ==,
                     cases[i].role);
}

static void
add_address (GPtrArray  *list,
             const char *name,
             const char *mailbox,
             const char *host)
{
  TernImapAddress *address = g_new0 (TernImapAddress, 1);

  address->name = g_strdup (name);
  address->mailbox = g_strdup (mailbox);
  address->host = g_strdup (host);
  g_ptr_array_add (list, address);
}

/* Address lists, formatted by Tern when they are plain and by GMime (and
 * remembered) otherwise, read as GMime writes them; lists that differ in
 * any field, or only in how the fields split, must not be taken for one
 * another, the first time or the next. */
static void
test_address_lists (void)
{
  static const struct
  {
    const char *fields[9]; /* up to three addresses: name, mailbox, host */
    const char *expected;
  } cases[] = {
    { { "Bob", "bob", "tern.test" }, "Bob <bob@tern.test>" },
    { { "Bob", "bob", "tern.org" }, "Bob <bob@tern.org>" },
    { { NULL, "bob", "tern.test" }, "bob@tern.test" },
    { { "", "bob", "tern.test" }, "bob@tern.test" },
    { { "Doe, John", "john", "tern.test" }, "\"Doe, John\" <john@tern.test>" },
    { { "J. R. Doe", "jr", "tern.test" }, "\"J. R. Doe\" <jr@tern.test>" },
    { { "x@y", "x", "tern.test" }, "\"x@y\" <x@tern.test>" },
    { { "Bob  Two", "b", "xn--e1afmkfd.xn--p1ai" }, "Bob  Two <b@xn--e1afmkfd.xn--p1ai>" },
    { { "Bob", "bob", "tern.test", "J. R. Doe", "jr", "tern.test" },
      "Bob <bob@tern.test>, \"J. R. Doe\" <jr@tern.test>" },
    { { "=?utf-8?b?0JHQvtCx?=", "bob", "tern.test" }, "Боб <bob@tern.test>" },
    { { "Bob", "bob", "tern.test", "Eve", "eve", "tern.test" },
      "Bob <bob@tern.test>, Eve <eve@tern.test>" },
    { { "Bob", "bob", "tern.testEve", NULL, "eve", "tern.test" },
      "Bob <bob@tern.testEve>, eve@tern.test" },
    /* A group: its start and end (no host) are left out. */
    { { NULL, "team", NULL, "Bob", "bob", "tern.test", NULL, NULL, NULL },
      "Bob <bob@tern.test>" },
  };

  for (guint pass = 0; pass < 2; pass++)
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(TernImapMessage) message = make_message (1, "s", NULL, NULL, NULL, 0);
        TernMailNewMessage *d;

        g_ptr_array_set_size (message->envelope->to, 0);
        for (gsize j = 0; j < 9 && (cases[i].fields[j] != NULL || cases[i].fields[j + 1] != NULL ||
                                    cases[i].fields[j + 2] != NULL); j += 3)
          add_address (message->envelope->to, cases[i].fields[j], cases[i].fields[j + 1],
                       cases[i].fields[j + 2]);
        d = tern_mail_new_message_from_imap (message);
        g_assert_cmpstr (d->to_list, ==, cases[i].expected);
        tern_mail_new_message_free (d);
      }
}

/* Encoded words are decoded by GMime once a thread, then remembered:
 * the same text each time, and never one text's for another. */
static void
test_encoded_subjects (void)
{
  static const struct
  {
    const char *raw;
    const char *expected;
  } cases[] = {
    { "=?utf-8?b?0J/RgNC40LLQtdGC?=", "Привет" },
    { "=?koi8-r?b?8NLJ18XU?=", "Привет" },
    { "Re: =?koi8-r?b?8NLJ18XU?=", "Re: Привет" },
    { "=?utf-8?q?caf=C3=A9?=", "café" },
    { "=?utf-8?q?caf=C3=A9?= ", "café " },
    { "=?iso-8859-1?q?caf=E9?=", "café" },
    { "plain =? not a word", "plain =? not a word" },
  };

  for (guint pass = 0; pass < 2; pass++)
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(TernImapMessage) message = make_message (1, cases[i].raw, NULL, NULL, NULL, 0);
        TernMailNewMessage *d = tern_mail_new_message_from_imap (message);

        g_assert_cmpstr (d->subject, ==, cases[i].expected);
        tern_mail_new_message_free (d);
      }
}

/* The HEADER.FIELDS block: names in any case, folded values unfolded,
 * a longer name that starts alike not taken, nothing after a NUL. */
static void
test_header_fields (void)
{
  static const char block[] =
    "References-Old: <z@tern.test>\r\n"
    "references: <a@tern.test>\r\n <b@tern.test>\r\n\t<c@tern.test>  \r\n"
    "LIST-ID: Dev list\r\n  <dev.tern.test>\r\n"
    "In-Reply-To: <c@tern.test>\r\n"
    "\r\n";
  g_autoptr(TernImapMessage) message = make_message (1, "s", NULL, NULL, NULL, 0);
  TernMailNewMessage *d;

  message->present |= TERN_IMAP_FETCH_HEADERS;
  message->headers = g_bytes_new (block, sizeof block - 1);
  d = tern_mail_new_message_from_imap (message);
  g_assert_cmpstr (d->references, ==, "a@tern.test b@tern.test c@tern.test");
  g_assert_cmpuint (d->reference_ids->len, ==, 3);
  g_assert_cmpstr (d->list_id, ==, "Dev list  <dev.tern.test>");
  g_assert_cmpstr (d->in_reply_to, ==, "c@tern.test");
  tern_mail_new_message_free (d);

  g_clear_pointer (&message->headers, g_bytes_unref);
  message->headers = g_bytes_new ("List-Id: <l.tern.test>\r\n\0In-Reply-To: <x@tern.test>\r\n", 53);
  d = tern_mail_new_message_from_imap (message);
  g_assert_cmpstr (d->list_id, ==, "<l.tern.test>");
  g_assert_null (d->in_reply_to);
  g_assert_null (d->references);
  tern_mail_new_message_free (d);
}

/* The Message-IDs GMime reads in @text. */
static GPtrArray *
gmime_message_ids (const char *text)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GMimeReferences *refs = g_mime_references_parse (NULL, text);

  for (int i = 0; refs != NULL && i < g_mime_references_length (refs); i++)
    g_ptr_array_add (ids, g_strdup (g_mime_references_get_message_id (refs, i)));
  if (refs != NULL)
    g_mime_references_free (refs);
  return ids;
}

static void
assert_ids_as_gmime (const char *text)
{
  g_autoptr(GPtrArray) ours = _tern_mail_parse_message_ids (text);
  g_autoptr(GPtrArray) theirs = gmime_message_ids (text);
  g_autoptr(TernImapMessage) message = make_message (1, "s", text, NULL, NULL, 0);
  g_autoptr(TernMailNewMessage) d = NULL;

  if (ours->len != theirs->len)
    g_error ("%s: %u IDs, GMime %u", text, ours->len, theirs->len);
  for (guint i = 0; i < ours->len; i++)
    if (g_strcmp0 (ours->pdata[i], theirs->pdata[i]) != 0)
      g_error ("%s: ID %u is %s, GMime's %s", text, i, (char *) ours->pdata[i],
               (char *) theirs->pdata[i]);
  /* A Message-ID field keeps the first (read without the list when
   * every ID is plain). */
  d = tern_mail_new_message_from_imap (message);
  if (g_strcmp0 (d->message_id, theirs->len > 0 ? theirs->pdata[0] : NULL) != 0)
    g_error ("%s: Message-ID %s, GMime's first %s", text, d->message_id,
             theirs->len > 0 ? (char *) theirs->pdata[0] : "(none)");
}

/* Message-IDs in their common form are read without GMime: the same IDs
 * as GMime's, for those and for anything that looks like them. */
static void
test_message_ids (void)
{
  static const char * const cases[] = {
    "<a@tern.test>",
    "<a.b-c+d_e@mail.tern.test> <f@tern.test>\r\n\t<g!#$%&'*/=?^`{|}~@h.test>",
    "<a@b><c@d>",
    "  <x@y>  ",
    "<a@b> (a comment)",
    "<\"a b\"@c.test>",
    "<a@[127.0.0.1]>",
    "a@b",
    "<a@b",
    "<@b>", "<a@>", "<a..b@c>", "<.a@b>", "<a.@b>", "<a@b.>", "<a@b@c>",
    "<a b@c>", "<a@b>junk", "<>", "", " ",
    "<ид@почта.рф>",
  };
  static const char * const pieces[] = {
    "<", ">", "@", ".", " ", "\t", "\r\n ", "(", ")", "\"", "a", "xy", "1", "-", "[", "]",
    "!", "\\", ",", ";", ":", "ё",
  };
  GRand *rand = g_rand_new_with_seed (5);
  g_autoptr(GPtrArray) ids = NULL;

  _tern_mail_ensure_gmime ();
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_ids_as_gmime (cases[i]);
  ids = _tern_mail_parse_message_ids (cases[1]);
  g_assert_cmpuint (ids->len, ==, 3);
  g_assert_cmpstr (ids->pdata[2], ==, "g!#$%&'*/=?^`{|}~@h.test");

  /* Random IDs of a few atoms, and random runs of the characters that
   * matter to the grammar. */
  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr(GString) text = g_string_new (NULL);

      if (i % 2 == 0)
        for (gint n = g_rand_int_range (rand, 1, 4); n > 0; n--)
          g_string_append_printf (text, "%s<%s%s@%s%s>", g_rand_boolean (rand) ? " " : "",
                                  pieces[g_rand_int_range (rand, 10, 14)],
                                  g_rand_boolean (rand) ? ".k" : "",
                                  pieces[g_rand_int_range (rand, 10, 14)],
                                  g_rand_boolean (rand) ? ".test" : "");
      else
        for (gint n = g_rand_int_range (rand, 1, 16); n > 0; n--)
          g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      assert_ids_as_gmime (text->str);
    }
  g_rand_free (rand);
}

static void
assert_date_as_gmime (const char *text,
                      guint      *read)
{
  g_autoptr(GDateTime) theirs = g_mime_utils_header_decode_date (text);
  gint64 ours = G_MININT64;

  if (!_tern_mail_decode_date (text, &ours))
    {
      if (theirs != NULL)
        g_error ("%s: not read, GMime's %" G_GINT64_FORMAT, text, g_date_time_to_unix (theirs));
      return;
    }
  if (theirs == NULL || g_date_time_to_unix (theirs) != ours)
    g_error ("%s: %" G_GINT64_FORMAT ", GMime's %" G_GINT64_FORMAT, text, ours,
             theirs != NULL ? g_date_time_to_unix (theirs) : -1);
  (*read)++;
}

/* Dates in their common form are read without GMime: the same second as
 * GMime's, for those and for near misses (days that do not exist, hours
 * out of range, other zones, two-digit years...). */
static void
test_dates (void)
{
  static const char * const days[] = { "Mon, ", "Wed, ", "Sun, ", "wed, ", "Wed ", "Xyz, ", "" };
  static const char * const months[] = { "Jan", "Feb", "Nov", "Dec", "nov", "NOV", "Foo" };
  static const char * const years[] = { "2026", "2024", "2000", "1900", "1970", "1969", "9999",
                                        "26", "0099" };
  static const char * const zones[] = { "+0300", "-0530", "+0000", "-0000", "+2400", "+0160",
                                        "GMT", "UT", "EST", "+03", "+0300 (MSK)" };
  GRand *rand = g_rand_new_with_seed (7);
  guint read = 0;
  gint64 seconds = 0;

  _tern_mail_ensure_gmime ();
  g_assert_true (_tern_mail_decode_date ("Wed, 25 Nov 2026 10:00:00 +0300", &seconds));
  g_assert_cmpint (seconds, ==, 1795590000);
  g_assert_true (_tern_mail_decode_date ("29 Feb 2024 23:59:59 -0530", &seconds));
  g_assert_cmpint (seconds, ==, 1709270999);
  g_assert_false (_tern_mail_decode_date ("yesterday", &seconds));

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf ("%s%d %s %s %02d:%02d%s %s",
                              days[g_rand_int_range (rand, 0, G_N_ELEMENTS (days))],
                              g_rand_int_range (rand, 0, 33),
                              months[g_rand_int_range (rand, 0, G_N_ELEMENTS (months))],
                              years[g_rand_int_range (rand, 0, G_N_ELEMENTS (years))],
                              g_rand_int_range (rand, 0, 25), g_rand_int_range (rand, 0, 61),
                              g_rand_int_range (rand, 0, 8) == 0 ? "" :
                              g_rand_boolean (rand) ? ":07" : ":60",
                              zones[g_rand_int_range (rand, 0, G_N_ELEMENTS (zones))]);
      assert_date_as_gmime (text, &read);
    }
  /* Most were dates, to both. */
  g_assert_cmpuint (read, >, 5000);
  g_rand_free (rand);
}

typedef struct
{
  const char *sql;
  gint64 value;
} QueryInt;

static gboolean
query_int_cb (sqlite3  *db,
              gpointer  user_data,
              GError  **error)
{
  QueryInt *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, query->sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  query->value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/* The first column of @sql's first row. */
static gint64
query_int (TernStore  *store,
           const char *sql)
{
  g_autoptr(GError) error = NULL;
  QueryInt query = { sql, -1 };

  g_assert_true (tern_store_read (store, query_int_cb, &query, &error));
  g_assert_no_error (error);
  return query.value;
}

static gboolean
has_index (TernStore  *store,
           const char *name)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sqlite_master"
                                          " WHERE type = 'index' AND name = '%s'", name);

  return query_int (store, sql) > 0;
}

static gint64
count_deferred (TernStore *store)
{
  return query_int (store, "SELECT count (*) FROM deferred_indexes");
}

/* Pushes @n headers from @first_uid through a writer that builds the
 * fill's indexes once @build_at of them are stored. */
static void
write_batches (Fixture *fixture,
               guint32  first_uid,
               guint    n,
               guint    build_at)
{
  TernBatchWriter *writer = tern_batch_writer_start (fixture->store, fixture->folder_id, 2);
  g_autoptr(GError) error = NULL;
  guint inserted = 0;

  tern_batch_writer_build_indexes_at (writer, build_at);
  for (guint32 uid = first_uid; uid < first_uid + n; uid += 10)
    {
      GPtrArray *batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);

      for (guint32 i = uid; i < uid + 10; i++)
        {
          g_autoptr(TernImapMessage) message = make_message (i, "Batch", NULL, NULL, NULL, 0);

          g_ptr_array_add (batch, tern_mail_new_message_from_imap (message));
        }
      tern_batch_writer_push (writer, batch);
    }
  g_assert_true (tern_batch_writer_finish (writer, &inserted, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (inserted, ==, n);
}

/* A large fill's indexes are built by its writer while the last batches
 * are still to come (tern-imap-sync.c), not after them: the rows after
 * go in with the indexes, and the fill's end has none left to build. */
static void
test_indexes_before_fill_end (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GError) error = NULL;
  guint restored = 99;

  g_assert_cmpint (count_deferred (fixture->store), >, 0);
  /* Not reached: still left out. */
  write_batches (fixture, 1, 30, 31);
  g_assert_cmpint (count_deferred (fixture->store), >, 0);
  g_assert_false (has_index (fixture->store, "messages_thread"));
  /* Reached after the second of three batches. */
  write_batches (fixture, 31, 30, 20);
  g_assert_cmpint (count_deferred (fixture->store), ==, 0);
  g_assert_true (has_index (fixture->store, "messages_thread"));
  g_assert_true (tern_store_restore_indexes (fixture->store, &restored, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (restored, ==, 0);
  listed = tern_mail_store_list_messages (fixture->store, fixture->folder_id, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 60);
}

/* A folder's unread messages are counted from their index alone
 * (migration 018), and counted right as flags change and messages go. */
static void
test_unread_count (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  g_autoptr(TernImapSet) gone = tern_imap_set_new ();
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plan = NULL;
  sqlite3 *db = tern_store_get_main_reader (fixture->store, &error);

  g_assert_no_error (error);
  plan = tern_test_query_plan (db, TERN_MAIL_STORE_UNREAD_SQL ("1"));
  g_assert_nonnull (strstr (plan, "COVERING INDEX messages_folder_unread"));

  /* Seen, deleted, both, neither, flagged. */
  g_ptr_array_add (batch, make_message (1, "a", NULL, NULL, NULL, TERN_IMAP_FLAG_SEEN));
  g_ptr_array_add (batch, make_message (2, "b", NULL, NULL, NULL, TERN_IMAP_FLAG_DELETED));
  g_ptr_array_add (batch, make_message (3, "c", NULL, NULL, NULL,
                                        TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_DELETED));
  g_ptr_array_add (batch, make_message (4, "d", NULL, NULL, NULL, 0));
  g_ptr_array_add (batch, make_message (5, "e", NULL, NULL, NULL, TERN_IMAP_FLAG_FLAGGED));
  g_assert_cmpuint (add (fixture, batch), ==, 5);
  tern_imap_set_add (gone, 5);
  tern_mail_store_remove_uids (fixture->store, fixture->folder_id, gone, &error);
  g_assert_no_error (error);
  tern_mail_store_set_folder_synced (fixture->store, fixture->folder_id, 5, 6, 0, &error);
  g_assert_no_error (error);
  folder = tern_mail_store_find_folder (fixture->store, fixture->account_id, "inbox", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folder->total_count, ==, 4);
  g_assert_cmpuint (folder->unread_count, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/mail-store/roles", test_roles);
  g_test_add_func ("/tern/mail-store/address-lists", test_address_lists);
  g_test_add_func ("/tern/mail-store/header-fields", test_header_fields);
  g_test_add_func ("/tern/mail-store/message-ids", test_message_ids);
  g_test_add_func ("/tern/mail-store/encoded-subjects", test_encoded_subjects);
  g_test_add_func ("/tern/mail-store/dates", test_dates);
#define ADD(path, func) \
  g_test_add ("/tern/mail-store/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("add-and-list", test_add_and_list);
  ADD ("flags-and-removal", test_flags_and_removal);
  ADD ("threads", test_threads);
  ADD ("thread-priority", test_thread_priority);
  ADD ("conversation-newest-deleted", test_conversation_newest_deleted);
  ADD ("conversation-batch", test_conversation_batch);
  ADD ("fts", test_fts);
  ADD ("unread-count", test_unread_count);
  ADD ("bodies", test_bodies);
  ADD ("folders", test_folders);
  ADD ("attachments", test_attachments);
  ADD ("split-encoded-words", test_split_encoded_words);
#undef ADD
#define ADD_IN_FILL(path, func) \
  g_test_add ("/tern/mail-store/" path, Fixture, IN_FILL, fixture_setup, func, fixture_teardown)
  ADD_IN_FILL ("threads-in-fill", test_threads);
  ADD_IN_FILL ("indexes-before-fill-end", test_indexes_before_fill_end);
  ADD_IN_FILL ("thread-priority-in-fill", test_thread_priority);
  ADD_IN_FILL ("thread-other-writer", test_thread_other_writer);
  ADD_IN_FILL ("thread-other-process", test_thread_other_process);
#undef ADD_IN_FILL
  return g_test_run ();
}
