/* test-server-search.c: "Search on server" against the real Dovecot of
 * tests/servers/: mail whose body is not cached is found by a word of its
 * body, Cyrillic words go through CHARSET UTF-8, mail that arrived after
 * the last sync is fetched to be shown, and tern-cli search --server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-context.h"
#include "tern-imap-session.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-search.h"
#include "tern-server-search.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

#define FOLDER "Searches"

static TernTestServers *servers;
static char *password_file;

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernAccount *account; /* owned by the context's manager */
  gint64 folder_id;
} Fixture;

static const char lunch[] =
  "From: Ann <ann@example.org>\r\n"
  "To: bob@tern.test\r\n"
  "Subject: Lunch\r\n"
  "Date: Tue, 10 Mar 2026 12:00:00 +0000\r\n"
  "Message-ID: <lunch@example.org>\r\n"
  "\r\n"
  "The secret word is pineapple.\r\n";

static const char plan[] =
  "From: =?UTF-8?B?0J/RkdGC0YA=?= <petr@example.org>\r\n"
  "To: bob@tern.test\r\n"
  "Subject: =?UTF-8?B?0J/Qu9Cw0L0=?=\r\n"
  "Date: Wed, 11 Mar 2026 12:00:00 +0000\r\n"
  "Message-ID: <plan@example.org>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "Content-Transfer-Encoding: 8bit\r\n"
  "\r\n"
  "Встреча завтра в переговорной.\r\n";

static const char other[] =
  "From: Carol <carol@example.org>\r\n"
  "To: bob@tern.test\r\n"
  "Subject: Other\r\n"
  "Date: Thu, 12 Mar 2026 12:00:00 +0000\r\n"
  "Message-ID: <other@example.org>\r\n"
  "\r\n"
  "Nothing to see.\r\n";

static const char later[] =
  "From: Dan <dan@example.org>\r\n"
  "To: bob@tern.test\r\n"
  "Subject: Again\r\n"
  "Date: Fri, 13 Mar 2026 12:00:00 +0000\r\n"
  "Message-ID: <again@example.org>\r\n"
  "\r\n"
  "More pineapple for everybody.\r\n";

static void
append (Fixture       *fixture,
        const char    *raw,
        TernImapFlags  flags)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static (raw, strlen (raw));

  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, FOLDER, flags, 0, bytes, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);
}

static void
sync_headers (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  tern_imap_sync_account (fixture->context, fixture->account, TERN_IMAP_SYNC_BODIES_NONE, NULL,
                          NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autofree char *command = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-server-search-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  server = tern_server_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                            tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (user);
  account = tern_account_new (user, user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  command = g_strdup_printf ("cat '%s'", password_file);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;

  /* A folder of its own, emptied by being made again. */
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_delete (client, FOLDER, NULL, NULL);
  tern_imap_client_create (client, FOLDER, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);
  append (fixture, lunch, 0);
  append (fixture, plan, 0);
  append (fixture, other, TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_FLAGGED);

  /* Headers only: no body is cached, the local search cannot see them. */
  sync_headers (fixture);
  folder = tern_mail_store_find_folder (tern_context_get_store (fixture->context),
                                        tern_account_get_id (fixture->account), FOLDER, &error);
  g_assert_no_error (error);
  fixture->folder_id = folder->id;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
}

typedef struct
{
  TernMessageList *list;
  GError *error;
  gboolean done;
} Result;

static void
searched_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Result *out = user_data;

  out->list = tern_server_search_finish (TERN_CONTEXT (source), result, &out->error);
  out->done = TRUE;
}

static TernMessageList *
search_on_server (Fixture     *fixture,
                  gint64       folder_id,
                  const char  *text,
                  GError     **error)
{
  Result result = { 0 };

  tern_server_search_async (fixture->context, folder_id, text, NULL, searched_cb, &result);
  while (!result.done)
    g_main_context_iteration (NULL, TRUE);
  if (result.error != NULL)
    g_propagate_error (error, result.error);
  return result.list;
}

/* The subjects the server search for @text finds, newest first, joined
 * by commas. */
static char *
subjects (Fixture    *fixture,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = search_on_server (fixture, fixture->folder_id, text, &error);
  g_autoptr(GString) out = g_string_new (NULL);
  guint n;

  g_assert_no_error (error);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernMessageItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpint (tern_message_item_get_folder_id (item), ==, fixture->folder_id);
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, tern_message_item_get_subject (item));
    }
  g_assert_finalize_object (g_steal_pointer (&list));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static guint
count_local (Fixture    *fixture,
             const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = NULL;
  guint n;

  tern_search_index_bodies (tern_context_get_store (fixture->context), NULL, NULL, &error);
  g_assert_no_error (error);
  list = tern_search_run (tern_context_get_store (fixture->context), text, FALSE,
                          TERN_SEARCH_SCOPE_FOLDER, fixture->folder_id, &error);
  g_assert_no_error (error);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_finalize_object (g_steal_pointer (&list));
  return n;
}

#define assert_subjects(fixture, text, expected)           \
  G_STMT_START {                                           \
    g_autofree char *found_ = subjects (fixture, text);    \
    g_assert_cmpstr (found_, ==, expected);                \
  } G_STMT_END

static void
test_body_words (Fixture       *fixture,
                 gconstpointer  data)
{
  /* Not cached, so not found here... */
  g_assert_cmpuint (count_local (fixture, "pineapple"), ==, 0);
  /* ...but by the server. */
  assert_subjects (fixture, "pineapple", "Lunch");
  assert_subjects (fixture, "secret pineapple", "Lunch");
  assert_subjects (fixture, "\"secret word\"", "Lunch");
  assert_subjects (fixture, "kiwi", "");
}

static void
test_cyrillic (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = NULL;

  /* Debian 12's Dovecot has no UTF8=ACCEPT: the words below go as
   * literals after CHARSET UTF-8. */
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_is_enabled (client, "UTF8=ACCEPT"));
  tern_imap_client_logout (client, NULL, NULL);

  assert_subjects (fixture, "переговорной", "План");
  assert_subjects (fixture, "ВСТРЕЧА", "План");
  assert_subjects (fixture, "from:Пётр", "План");
  assert_subjects (fixture, "subject:план", "План");
}

static void
test_operators (Fixture       *fixture,
                gconstpointer  data)
{
  assert_subjects (fixture, "from:ann", "Lunch");
  assert_subjects (fixture, "to:bob", "Other,План,Lunch");
  assert_subjects (fixture, "is:unread", "План,Lunch");
  assert_subjects (fixture, "is:read", "Other");
  assert_subjects (fixture, "is:starred", "Other");
  assert_subjects (fixture, "after:2026-03-11", "Other,План");
  assert_subjects (fixture, "before:2026-03-11", "Lunch");
  assert_subjects (fixture, "has:attachment", "");
}

static void
test_not_synced_yet (Fixture       *fixture,
                     gconstpointer  data)
{
  /* Arrived after the last sync: the search fetches its headers. */
  append (fixture, later, 0);
  assert_subjects (fixture, "pineapple", "Again,Lunch");
}

/* More UID ranges than SQLite would take as one expression: every other
 * message of 2,400 read.  The server's unread equal the store's. */
static void
test_scattered (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernImapSet) all = tern_imap_set_new ();
  g_autoptr(TernImapSet) even = tern_imap_set_new ();
  g_autoptr(TernMessageList) list = NULL;
  TernImapSelected selected = { 0 };
  TernImapSelectParams params = { 0 };

  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0), FOLDER, 2400,
                                  &error);
  g_assert_no_error (error);
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_select (client, FOLDER, FALSE, &params, &selected, NULL, &error);
  g_assert_no_error (error);
  tern_imap_set_add_range (all, 1, selected.uidnext - 1);
  for (guint32 uid = 2; uid < selected.uidnext; uid += 2)
    tern_imap_set_add (even, uid);
  tern_imap_selected_clear (&selected);
  tern_imap_client_store_flags (client, all, 0, TERN_IMAP_FLAG_SEEN, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_store_flags (client, even, TERN_IMAP_FLAG_SEEN, 0, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);
  sync_headers (fixture);

  list = search_on_server (fixture, fixture->folder_id, "is:read", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), >=, 1200);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==,
                    count_local (fixture, "is:read"));
  g_assert_finalize_object (g_steal_pointer (&list));
  list = search_on_server (fixture, fixture->folder_id, "is:unread", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==,
                    count_local (fixture, "is:unread"));
  g_assert_finalize_object (g_steal_pointer (&list));
}

static void
test_errors (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = NULL;

  list = search_on_server (fixture, fixture->folder_id, "before:tomorrow", &error);
  g_assert_null (list);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  list = search_on_server (fixture, 424242, "pineapple", &error);
  g_assert_null (list);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
}

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  const char *argv[] = { g_getenv ("TERN_CLI"), "--profile", fixture->profile,
                         "--ca-file", tern_test_servers_get_ca_file (servers), "search",
                         "--server", "--folder", FOLDER, "переговорной", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_finalize_object (g_steal_pointer (&fixture->context));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("tern-cli search --server failed: %s", err);
  g_assert_nonnull (strstr (out, "План"));
  g_assert_null (strstr (out, "Lunch"));
  /* The context is made again for the teardown. */
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  password_file = g_build_filename (tern_test_servers_get_dir (servers), "password-search", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

#define ADD(path, func) \
  g_test_add ("/tern/server-search/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("body-words", test_body_words);
  ADD ("cyrillic", test_cyrillic);
  ADD ("operators", test_operators);
  ADD ("not-synced-yet", test_not_synced_yet);
  ADD ("scattered", test_scattered);
  ADD ("errors", test_errors);
  ADD ("cli", test_cli);
#undef ADD

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  return status;
}
