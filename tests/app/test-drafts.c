/* test-drafts.c: drafts against the real Dovecot: saved at once, a newer
 * version replaces the older locally and on the server (exactly one copy
 * after the replay, also when saved while Dovecot was down), deleted after
 * sending; POP3 accounts keep drafts locally.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-context.h"
#include "tern-drafts.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

static TernTestServers *servers;
static char *password_file;

#define ALICE (tern_test_servers_get_user (servers, 0))

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account; /* the manager's */
  char *tag;            /* in every version of this test's drafts */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  gboolean pop3 = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *profile = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  fixture->dir = tern_test_make_tmpdir ("tern-drafts-XXXXXX");
  fixture->tag = g_strdup_printf ("draft-%" G_GINT64_FORMAT, g_get_real_time ());
  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  incoming = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, pop3 ? TERN_TEST_SERVICE_POP3S
                                                                        : TERN_TEST_SERVICE_IMAPS),
                              TERN_TLS_MODE_IMPLICIT);
  incoming->username = g_strdup (ALICE);
  outgoing = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS),
                              TERN_TLS_MODE_IMPLICIT);
  outgoing->username = g_strdup (ALICE);
  account = tern_account_new (ALICE, ALICE,
                              pop3 ? TERN_ACCOUNT_PROTOCOL_POP3 : TERN_ACCOUNT_PROTOCOL_IMAP,
                              incoming, outgoing);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = tern_account_manager_lookup (tern_context_get_accounts (fixture->context),
                                                  ALICE);
  g_assert_nonnull (fixture->account);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->tag);
}

static TernStore *
store (Fixture *fixture)
{
  return tern_context_get_store (fixture->context);
}

static void
sync_account (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  tern_imap_sync_account (fixture->context, fixture->account, TERN_IMAP_SYNC_BODIES_NONE, NULL,
                          NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static gint64
save (Fixture *fixture,
      guint    version,
      gint64   previous_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("From: Alice <%s>\r\n"
                                           "To: bob@tern.test\r\n"
                                           "Bcc: carol@tern.test\r\n"
                                           "Subject: Draft %s\r\n"
                                           "Message-ID: <%s@tern.test>\r\n"
                                           "\r\n"
                                           "Version %u of %s.\r\n",
                                           ALICE, fixture->tag, fixture->tag, version,
                                           fixture->tag);
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  gint64 id = tern_drafts_save (fixture->context, fixture->account, bytes, previous_id, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

/* The draft's bytes hold version @version (and its Bcc: a draft keeps). */
static void
assert_version (Fixture *fixture,
                gint64   id,
                guint    version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = tern_drafts_load (fixture->context, id, &error);
  g_autofree char *text = NULL;
  g_autofree char *expected = g_strdup_printf ("\r\n\r\nVersion %u of %s.\r\n", version,
                                               fixture->tag);

  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_true (g_str_has_suffix (text, expected));
  g_assert_nonnull (strstr (text, "\r\nBcc: carol@tern.test\r\n"));
  /* A Message-ID of its own per version. */
  g_assert_null (strstr (text, "Message-ID: <draft-"));
}

/* This test's messages in the account's local Drafts folder (the server's
 * Drafts holds what earlier tests left). */
static GPtrArray *
local_drafts (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  GPtrArray *messages;

  folder = tern_mail_store_find_folder_by_role (store (fixture),
                                                tern_account_get_id (fixture->account), "drafts",
                                                &error);
  g_assert_no_error (error);
  messages = tern_mail_store_list_messages (store (fixture), folder->id, 0, &error);
  g_assert_no_error (error);
  for (guint i = messages->len; i > 0; i--)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i - 1);

      if (message->subject == NULL || strstr (message->subject, fixture->tag) == NULL)
        g_ptr_array_remove_index (messages, i - 1);
    }
  return messages;
}

static char *
maildir (const char *folder)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (tern_test_servers_get_dir (servers), "servers.ini",
                                            NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *root = NULL;

  g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  root = g_key_file_get_string (ini, "users", "maildir0", &error);
  g_assert_no_error (error);
  return g_build_filename (root, folder, NULL);
}

/* The files in alice's @folder on the server that hold this test's tag;
 * the text of the last one in @text, its maildir flags in @flags. */
static guint
on_server (Fixture    *fixture,
           const char *folder,
           char      **text,
           char      **flags)
{
  g_autofree char *root = maildir (folder);
  const char *subdirs[] = { "new", "cur" };
  guint count = 0;

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir = g_build_filename (root, subdirs[i], NULL);
      g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_autofree char *content = NULL;
          const char *info = strstr (name, ":2,");

          if (!g_file_get_contents (path, &content, NULL, NULL)
              || strstr (content, fixture->tag) == NULL)
            continue;
          count++;
          if (text != NULL)
            {
              g_free (*text);
              *text = g_steal_pointer (&content);
            }
          if (flags != NULL)
            {
              g_free (*flags);
              *flags = g_strdup (info ? info + 3 : "");
            }
        }
    }
  return count;
}

/* Exactly one copy on the server, version @version, \Draft \Seen; none in
 * Trash. */
static void
assert_server_has (Fixture *fixture,
                   guint    version)
{
  g_autofree char *text = NULL;
  g_autofree char *flags = NULL;
  g_autofree char *expected = g_strdup_printf ("Version %u of %s.", version, fixture->tag);

  g_assert_cmpuint (on_server (fixture, ".Drafts", &text, &flags), ==, 1);
  g_assert_nonnull (strstr (text, expected));
  g_assert_nonnull (strchr (flags, 'D'));
  g_assert_nonnull (strchr (flags, 'S'));
  g_assert_cmpuint (on_server (fixture, ".Trash", NULL, NULL), ==, 0);
}

/* Tests */

static void
test_replace (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) drafts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) gone = NULL;
  TernMailMessage *message;
  gint64 v1, v2, v3;

  sync_account (fixture);
  v1 = save (fixture, 1, 0);
  assert_version (fixture, v1, 1);
  /* Replaced before its APPEND was replayed: that one never goes out. */
  v2 = save (fixture, 2, v1);
  assert_version (fixture, v2, 2);
  gone = tern_drafts_load (fixture->context, v1, &error);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 1);
  g_clear_pointer (&drafts, g_ptr_array_unref);

  sync_account (fixture);
  g_assert_cmpint (tern_offline_queue_count (store (fixture), tern_account_get_id (fixture->account),
                                             &error), ==, 0);
  assert_server_has (fixture, 2);

  /* Replaced once the server has it: the old one is expunged there. */
  v3 = save (fixture, 3, v2);
  assert_version (fixture, v3, 3);
  sync_account (fixture);
  assert_server_has (fixture, 3);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 1);
  message = g_ptr_array_index (drafts, 0);
  g_assert_cmpint (message->id, ==, v3);
  g_assert_cmpuint (message->uid, !=, 0);
  g_assert_cmpuint (message->flags & (TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN), ==,
                    TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN);
  assert_version (fixture, v3, 3);
}

/* A draft with nothing but a sender and some text: saved, on the server
 * after the replay, loaded back with the same (empty) fields; sending it
 * is refused. */
static void
test_no_recipients (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernComposer) composer = tern_composer_new_for_account (fixture->account);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) loaded = NULL;
  g_autofree char *body = g_strdup_printf ("Only a thought for %s.\n", fixture->tag);
  g_autofree char *text = NULL;
  g_autofree char *on_disk = NULL;
  GMimeMessage *message;
  gint64 id;

  sync_account (fixture);
  tern_composer_set_body (composer, body);
  bytes = tern_composer_to_draft_bytes (composer, &error);
  g_assert_no_error (error);
  id = tern_drafts_save (fixture->context, fixture->account, bytes, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  sync_account (fixture);
  g_assert_cmpuint (on_server (fixture, ".Drafts", &on_disk, NULL), ==, 1);

  loaded = tern_drafts_load (fixture->context, id, &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (loaded, NULL), g_bytes_get_size (loaded));
  g_assert_nonnull (strstr (text, fixture->tag));
  message = _tern_composer_parse_message (loaded);
  g_assert_nonnull (message);
  g_assert_cmpint (internet_address_list_length (
                     g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO)), ==, 0);
  g_assert_cmpint (internet_address_list_length (
                     g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC)), ==, 0);
  g_assert_cmpint (internet_address_list_length (
                     g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_BCC)), ==, 0);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "");
  g_object_unref (message);

  g_assert_cmpint (tern_outbox_enqueue (store (fixture), fixture->account, loaded, &error), ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (tern_drafts_delete (fixture->context, fixture->account, id, &error));
  g_assert_no_error (error);
}

/* Edit from the outbox: the message becomes a draft again, with the Bcc
 * the outbox had taken out of its header, and leaves the outbox; a row
 * being sent stays where it is. */
static void
test_from_outbox (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("From: Alice <%s>\r\n"
                                           "To: bob@tern.test\r\n"
                                           "Bcc: carol@tern.test\r\n"
                                           "Subject: Queued %s\r\n"
                                           "\r\n"
                                           "Back to a draft.\r\n",
                                           ALICE, fixture->tag);
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(TernOutboxEntry) gone = NULL;
  g_autofree char *draft_text = NULL;
  gint64 outbox_id, draft_id;

  sync_account (fixture);
  outbox_id = tern_outbox_enqueue (store (fixture), fixture->account, bytes, &error);
  g_assert_no_error (error);
  draft_id = tern_drafts_from_outbox (fixture->context, outbox_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (draft_id, >, 0);
  gone = tern_outbox_get (store (fixture), outbox_id, &error);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_assert_null (gone);
  g_clear_error (&error);
  draft = tern_drafts_load (fixture->context, draft_id, &error);
  g_assert_no_error (error);
  draft_text = g_strndup (g_bytes_get_data (draft, NULL), g_bytes_get_size (draft));
  g_assert_nonnull (strstr (draft_text, "Bcc: carol@tern.test\r\n"));
  g_assert_nonnull (strstr (draft_text, "To: bob@tern.test\r\n"));
  g_assert_nonnull (strstr (draft_text, "Back to a draft."));
  g_assert_cmpint (tern_drafts_from_outbox (fixture->context, outbox_id, &error), ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tern_drafts_delete (fixture->context, fixture->account, draft_id, &error));
  g_assert_no_error (error);
}

static void
test_offline (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) drafts = NULL;
  gint64 v1, v2, v3;

  sync_account (fixture);
  v1 = save (fixture, 1, 0);
  sync_account (fixture);
  assert_server_has (fixture, 1);

  /* Saved twice while the server is down: at once locally. */
  tern_test_servers_stop_dovecot (servers, &error);
  g_assert_no_error (error);
  v2 = save (fixture, 2, v1);
  v3 = save (fixture, 3, v2);
  assert_version (fixture, v3, 3);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 1);
  g_assert_false (tern_imap_sync_account (fixture->context, fixture->account,
                                          TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL, NULL,
                                          &error));
  g_clear_error (&error);
  tern_test_servers_start_dovecot (servers, &error);
  g_assert_no_error (error);

  sync_account (fixture);
  assert_server_has (fixture, 3);
  /* A second replay has nothing left to do and changes nothing. */
  sync_account (fixture);
  assert_server_has (fixture, 3);
}

static void
test_delete (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) drafts = NULL;
  gint64 id;

  sync_account (fixture);
  id = save (fixture, 1, 0);
  sync_account (fixture);
  assert_server_has (fixture, 1);

  g_assert_true (tern_drafts_delete (fixture->context, fixture->account, id, &error));
  g_assert_no_error (error);
  /* Gone already: fine. */
  g_assert_true (tern_drafts_delete (fixture->context, fixture->account, id, &error));
  g_assert_no_error (error);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 0);
  sync_account (fixture);
  g_assert_cmpuint (on_server (fixture, ".Drafts", NULL, NULL), ==, 0);
  g_assert_cmpuint (on_server (fixture, ".Trash", NULL, NULL), ==, 0);
}

static void
test_not_synced (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static ("Subject: x\r\n\r\nx\r\n", 16);

  g_assert_cmpint (tern_drafts_save (fixture->context, fixture->account, bytes, 0, &error), ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
}

static void
test_not_a_draft (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TernMailMessage) kept = NULL;
  g_autofree char *text = g_strdup_printf ("Subject: %s\r\nMessage-ID: <%s@tern.test>\r\n\r\nx\r\n",
                                           fixture->tag, fixture->tag);
  gint64 id;

  sync_account (fixture);
  inbox = tern_mail_store_find_folder_by_role (store (fixture),
                                               tern_account_get_id (fixture->account), "inbox",
                                               &error);
  g_assert_no_error (error);
  bytes = g_bytes_new (text, strlen (text));
  id = tern_offline_queue_append (store (fixture), inbox->id, bytes, TERN_IMAP_FLAG_SEEN, &error);
  g_assert_no_error (error);
  g_assert_false (tern_drafts_delete (fixture->context, fixture->account, id, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  kept = tern_mail_store_get_message (store (fixture), id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kept);
}

static void
test_pop3 (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) drafts = NULL;
  TernMailMessage *message;
  gint64 v1, v2;

  v1 = save (fixture, 1, 0);
  v2 = save (fixture, 2, v1);
  assert_version (fixture, v2, 2);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 1);
  message = g_ptr_array_index (drafts, 0);
  g_assert_cmpint (message->id, ==, v2);
  g_assert_cmpuint (message->flags & (TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN), ==,
                    TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN);
  /* Nothing for a server. */
  g_assert_cmpint (tern_offline_queue_count (store (fixture), tern_account_get_id (fixture->account),
                                             &error), ==, 0);
  g_clear_pointer (&drafts, g_ptr_array_unref);

  g_assert_true (tern_drafts_delete (fixture->context, fixture->account, v2, &error));
  g_assert_no_error (error);
  drafts = local_drafts (fixture);
  g_assert_cmpuint (drafts->len, ==, 0);
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
  password_file = g_build_filename (tern_test_servers_get_dir (servers), "password0", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

  g_test_add ("/tern/drafts/replace", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_replace, fixture_teardown);
  g_test_add ("/tern/drafts/delete", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_delete, fixture_teardown);
  g_test_add ("/tern/drafts/not-synced", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_not_synced, fixture_teardown);
  g_test_add ("/tern/drafts/not-a-draft", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_not_a_draft, fixture_teardown);
  g_test_add ("/tern/drafts/no-recipients", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_no_recipients, fixture_teardown);
  g_test_add ("/tern/drafts/from-outbox", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_from_outbox, fixture_teardown);
  g_test_add ("/tern/drafts/pop3", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_pop3,
              fixture_teardown);
  /* Last: it stops and starts Dovecot. */
  g_test_add ("/tern/drafts/offline", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_offline, fixture_teardown);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  g_free (password_file);
  return status;
}
