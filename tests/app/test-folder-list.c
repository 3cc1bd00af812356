/* test-folder-list.c: the sidebar's folder model over a store filled by
 * direct writes: order, names of special folders, hierarchy, live counts
 * and precise items-changed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-context.h"
#include "tern-folder-list.h"
#include "tern-mail-store.h"
#include "tern-test-util.h"

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  TernStore *store;
  TernAccount *account;
} Fixture;

/* items-changed as a view sees them. */
typedef struct
{
  guint calls;
  guint position;
  guint removed;
  guint added;
} Changes;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = tern_account_new ("Ann", "ann@example.org",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, imap, NULL);

  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
  fixture->store = tern_context_get_store (fixture->context);
  /* A password command keeps the keyring out of this test. */
  tern_account_set_password_command (account, "echo pw");
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;
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

static gint64
add_folder_with (Fixture                   *fixture,
                 const char                *name,
                 const char                *role,
                 TernImapMailboxAttributes  attributes)
{
  g_autoptr(GError) error = NULL;
  TernMailFolder folder = { 0 };
  gint64 id;

  folder.account_id = tern_account_get_id (fixture->account);
  folder.name = (char *) name;
  folder.delimiter = '/';
  folder.role = (char *) role;
  folder.attributes = attributes;
  folder.subscribed = TRUE;
  id = tern_mail_store_upsert_folder (fixture->store, &folder, &error);
  g_assert_no_error (error);
  return id;
}

static gint64
add_folder (Fixture    *fixture,
            const char *name,
            const char *role)
{
  return add_folder_with (fixture, name, role, 0);
}

/* @n unread messages into @folder_id; returns the first one's id. */
static gint64
add_messages (Fixture *fixture,
              gint64   folder_id,
              guint    n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GPtrArray) stored = NULL;
  static guint serial;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("uidl-%u", ++serial);
      g_autofree char *raw = g_strdup_printf ("From: Bob <bob@example.org>\r\n"
                                              "Subject: Note %u\r\n"
                                              "Message-ID: <%u@example.org>\r\n"
                                              "\r\nHello\r\n", serial, serial);
      g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));

      g_ptr_array_add (messages, tern_mail_new_message_from_pop3 (uidl, bytes, FALSE, 1700000000));
    }
  tern_mail_store_add_new_messages (fixture->store, folder_id, messages, NULL, &error);
  g_assert_no_error (error);
  stored = tern_mail_store_list_messages (fixture->store, folder_id, 0, &error);
  g_assert_no_error (error);
  return ((TernMailMessage *) g_ptr_array_index (stored, 0))->id;
}

static char *
names_of (GListModel *model)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TernFolderItem) item = g_list_model_get_item (model, i);

      g_string_append_printf (names, "%s%s", i > 0 ? "," : "",
                              tern_folder_item_get_display_name (item));
    }
  return g_string_free (names, FALSE);
}

static void
test_order (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernFolderList) list = NULL;
  g_autofree char *top = NULL;
  g_autofree char *children = NULL;
  TernFolderItem *projects, *sent;

  add_folder (fixture, "zeta", NULL);
  add_folder (fixture, "Trash", "trash");
  add_folder (fixture, "Projects/Tern", NULL);
  add_folder (fixture, "Отправленные", "sent");
  add_folder (fixture, "Projects", NULL);
  add_folder (fixture, "Junk", "junk");
  add_folder (fixture, "INBOX", "inbox");
  add_folder (fixture, "Projects/Alpha", NULL);
  add_folder (fixture, "Alpha", NULL);
  add_folder (fixture, "Drafts", "drafts");
  add_folder (fixture, "Archives", "archive");
  add_folder (fixture, "Lost/Child", NULL);
  /* As Dovecot lists "Lists" after CREATE "Lists/dev": a parent that is
   * not a mailbox, over one that is; and one with nothing under it. */
  add_folder_with (fixture, "Lists", NULL, TERN_IMAP_MAILBOX_NONEXISTENT
                                           | TERN_IMAP_MAILBOX_NOSELECT
                                           | TERN_IMAP_MAILBOX_HAS_CHILDREN);
  add_folder (fixture, "Lists/dev", NULL);
  add_folder_with (fixture, "Gone", NULL, TERN_IMAP_MAILBOX_NONEXISTENT);
  add_folder_with (fixture, "Gone/Too", NULL, TERN_IMAP_MAILBOX_NONEXISTENT);

  list = tern_folder_list_new (fixture->store, fixture->account, &error);
  g_assert_no_error (error);
  top = names_of (G_LIST_MODEL (list));
  /* Special folders in the fixed order under the user's names for them,
   * then the rest by name; a folder whose parent is not there keeps its
   * full name at the top; one that is not there itself only shows to
   * hold folders that are. */
  g_assert_cmpstr (top, ==,
                   "Inbox,Drafts,Sent,Archive,Junk,Trash,Alpha,Lists,Lost/Child,Projects,zeta");
  {
    g_autoptr(TernFolderItem) lists = g_list_model_get_item (G_LIST_MODEL (list), 7);
    g_autofree char *under = names_of (tern_folder_item_get_children (lists));

    g_assert_cmpstr (under, ==, "dev");
  }

  projects = g_list_model_get_item (G_LIST_MODEL (list), 9);
  children = names_of (tern_folder_item_get_children (projects));
  g_assert_cmpstr (children, ==, "Alpha,Tern");
  g_assert_cmpstr (tern_folder_item_get_name (projects), ==, "Projects");
  g_assert_cmpstr (tern_folder_item_get_icon_name (projects), ==, "folder-symbolic");
  g_object_unref (projects);

  sent = tern_folder_list_find_role (list, "sent");
  g_assert_nonnull (sent);
  g_assert_cmpstr (tern_folder_item_get_name (sent), ==, "Отправленные");
  g_assert_cmpstr (tern_folder_item_get_role (sent), ==, "sent");
  g_assert_cmpstr (tern_folder_item_get_icon_name (sent), ==, "mail-send-symbolic");
  g_assert_true (tern_folder_item_get_account (sent) == fixture->account);
  g_assert_true (tern_folder_list_find (list, tern_folder_item_get_id (sent)) == sent);
  g_assert_finalize_object (g_steal_pointer (&list));
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Changes    *changes)
{
  changes->calls++;
  changes->position = position;
  changes->removed = removed;
  changes->added = added;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *notifies)
{
  (*notifies)++;
}

typedef struct
{
  TernFolderItem *item;
  guint unread;
} UnreadIs;

static gboolean
unread_is (gpointer data)
{
  UnreadIs *wanted = data;

  return tern_folder_item_get_unread_count (wanted->item) == wanted->unread;
}

/* The list reads on a thread: its items change a moment after a write. */
static void
wait_for_unread (TernFolderItem *item,
                 guint           unread)
{
  UnreadIs wanted = { item, unread };

  tern_test_wait_until (unread_is, &wanted, "the unread count");
}

static void
test_live (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernFolderList) list = NULL;
  gint64 inbox_id = add_folder (fixture, "INBOX", "inbox");
  gint64 work_id, first;
  TernFolderItem *inbox;
  Changes changes = { 0 };
  guint notifies = 0;

  add_folder (fixture, "Trash", "trash");
  add_folder (fixture, "Work", NULL);
  list = tern_folder_list_new (fixture->store, fixture->account, &error);
  g_assert_no_error (error);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);
  inbox = tern_folder_list_find (list, inbox_id);
  g_signal_connect (inbox, "notify::unread-count", G_CALLBACK (count_notify_cb), &notifies);
  g_assert_cmpuint (tern_folder_item_get_unread_count (inbox), ==, 0);

  /* New mail: the counts follow, and no row comes or goes. */
  first = add_messages (fixture, inbox_id, 3);
  wait_for_unread (inbox, 3);
  g_assert_cmpuint (tern_folder_item_get_total_count (inbox), ==, 3);
  g_assert_cmpuint (tern_folder_item_get_unread_count (inbox), ==, 3);
  g_assert_cmpuint (notifies, ==, 1);
  g_assert_cmpuint (changes.calls, ==, 0);

  /* A message read here: the unread count drops before any sync. */
  tern_mail_store_change_flags (fixture->store, &first, 1, TERN_IMAP_FLAG_SEEN, 0, &error);
  g_assert_no_error (error);
  wait_for_unread (inbox, 2);
  g_assert_true (tern_folder_list_find (list, inbox_id) == inbox);

  /* A folder the server made: exactly one row added where it sorts. */
  work_id = add_folder (fixture, "Apples", NULL);
  g_assert_true (tern_folder_list_reload (list, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes.calls, ==, 1);
  g_assert_cmpuint (changes.position, ==, 2);
  g_assert_cmpuint (changes.removed, ==, 0);
  g_assert_cmpuint (changes.added, ==, 1);

  /* And one removed. */
  tern_mail_store_remove_folder (fixture->store, work_id, &error);
  g_assert_no_error (error);
  g_assert_true (tern_folder_list_reload (list, &error));
  g_assert_cmpuint (changes.calls, ==, 2);
  g_assert_cmpuint (changes.position, ==, 2);
  g_assert_cmpuint (changes.removed, ==, 1);
  g_assert_cmpuint (changes.added, ==, 0);
  g_assert_null (tern_folder_list_find (list, work_id));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);

  g_signal_handlers_disconnect_by_data (inbox, &notifies);
  tern_test_wait_for_last_ref (list);
  g_assert_finalize_object (g_steal_pointer (&list));
}

typedef struct
{
  TernFolderItem *inbox;
  guint unread_seen;  /* in the store's signal, after the list's handler */
  guint signals;
} InSignal;

static void
after_list_cb (TernStore *store,
               GArray    *folder_ids,
               InSignal  *in_signal)
{
  in_signal->signals++;
  in_signal->unread_seen = tern_folder_item_get_unread_count (in_signal->inbox);
}

static gboolean
signalled (gpointer data)
{
  return ((InSignal *) data)->signals > 0;
}

/* Counting a large folder's messages takes tens of milliseconds: the
 * list's handler of messages-changed must not read on the main thread.
 * Writes during a reload are not lost: the counts end up right. */
static void
test_reload_off_main (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernFolderList) list = NULL;
  gint64 inbox_id = add_folder (fixture, "INBOX", "inbox");
  InSignal in_signal = { 0 };
  gulong handler;

  add_messages (fixture, inbox_id, 2);
  list = tern_folder_list_new (fixture->store, fixture->account, &error);
  g_assert_no_error (error);
  in_signal.inbox = tern_folder_list_find (list, inbox_id);
  g_assert_cmpuint (tern_folder_item_get_unread_count (in_signal.inbox), ==, 2);
  /* Connected after the list's handler: runs right after it. */
  handler = g_signal_connect (fixture->store, "messages-changed", G_CALLBACK (after_list_cb),
                              &in_signal);

  add_messages (fixture, inbox_id, 3);
  tern_test_wait_until (signalled, &in_signal, "messages-changed");
  g_assert_cmpuint (in_signal.signals, >=, 1);
  /* Read synchronously, the handler would have updated the item already. */
  g_assert_cmpuint (in_signal.unread_seen, ==, 2);
  wait_for_unread (in_signal.inbox, 5);

  /* Several writes in a row, some while a reload runs. */
  for (guint i = 0; i < 4; i++)
    {
      add_messages (fixture, inbox_id, 1);
      g_main_context_iteration (NULL, FALSE);
    }
  wait_for_unread (in_signal.inbox, 9);
  g_assert_cmpuint (tern_folder_item_get_total_count (in_signal.inbox), ==, 9);

  g_signal_handler_disconnect (fixture->store, handler);
  /* A reload still running holds the list. */
  tern_test_wait_for_last_ref (list);
  g_assert_finalize_object (g_steal_pointer (&list));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/app/folder-list/order", Fixture, NULL, fixture_setup, test_order,
              fixture_teardown);
  g_test_add ("/tern/app/folder-list/live", Fixture, NULL, fixture_setup, test_live,
              fixture_teardown);
  g_test_add ("/tern/app/folder-list/reload-off-main", Fixture, NULL, fixture_setup,
              test_reload_off_main, fixture_teardown);
  return g_test_run ();
}
