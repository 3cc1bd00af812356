/* tern-test-store.c: a store filled by direct writes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-store.h"
#include "tern-test-store.h"

static gboolean
exec_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  return tern_store_exec (db, user_data, error);
}

void
tern_test_store_exec (TernStore  *store,
                      const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tern_store_write (store, exec_cb, (gpointer) sql, &error));
  g_assert_no_error (error);
}

void
tern_test_store_add_account (TernStore *store,
                             gint64     id)
{
  g_autofree char *sql = g_strdup_printf (
    "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol, incoming_host,"
    " incoming_port, incoming_security, incoming_username, created)"
    " VALUES (%" G_GINT64_FORMAT ", 'u%" G_GINT64_FORMAT "', 'A', 'a@b', 'imap', 'h', 993, 'tls',"
    " 'a', 0)",
    id, id);

  tern_test_store_exec (store, sql);
}

gint64
tern_test_store_add_folder (TernStore  *store,
                            gint64      account_id,
                            const char *name)
{
  g_autoptr(GError) error = NULL;
  TernMailFolder folder = { 0 };
  gint64 id;

  folder.account_id = account_id;
  folder.name = (char *) name;
  folder.delimiter = '/';
  folder.subscribed = TRUE;
  id = tern_mail_store_upsert_folder (store, &folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

void
tern_test_store_add_messages (TernStore *store,
                              gint64     folder_id,
                              GPtrArray *messages)
{
  g_autoptr(GError) error = NULL;
  guint inserted = 0;

  tern_mail_store_add_new_messages (store, folder_id, messages, &inserted, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (inserted, ==, messages->len);
}

TernMailNewMessage *
tern_test_new_message (guint32     uid,
                       gint64      date,
                       const char *from,
                       const char *subject,
                       const char *reply_to)
{
  TernMailNewMessage *d = g_new0 (TernMailNewMessage, 1);

  d->uid = uid;
  d->date = date;
  d->internal_date = date;
  d->size = 1000;
  d->from_name = g_strdup (from);
  d->from_address = g_strdup_printf ("%s@example.org", from);
  d->to_list = g_strdup ("me@example.org");
  d->subject = g_strdup (subject);
  d->thread_subject = g_strdup (subject);
  d->message_id = g_strdup_printf ("<%u.%" G_GINT64_FORMAT "@test>", uid, date);
  d->in_reply_to = g_strdup (reply_to);
  d->is_reply = reply_to != NULL;
  d->reference_ids = g_ptr_array_new_with_free_func (g_free);
  if (reply_to != NULL)
    g_ptr_array_add (d->reference_ids, g_strdup (reply_to));
  return d;
}
