/* test-demo.c: the setup of `tern --demo` (tern_demo_open(), the same code
 * the application runs) against the real servers data/demo/tern-demo starts:
 * the demo profile gets its two accounts, the IMAP account syncs the demo
 * mailbox, the POP3 account downloads bob's, mail sent from the demo
 * account arrives in the demo mailbox, and a second start reuses the
 * running servers while a start after a stop follows their new ports and
 * passwords without filling the mailbox twice.
 *
 * Run by root (test-demo), the servers are the tests' Dovecot and Postfix;
 * run by a normal user (test-demo-unprivileged: nobody under root), they are
 * a rootless Dovecot, its submission service and the demo's relay, all the
 * user's own processes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tern-composer.h"
#include "tern-demo.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-outbox.h"
#include "tern-pop3-download.h"
#include "tern-test-util.h"

/* data/demo/tern-demo's COUNTS plus its two hand-written messages. */
#define ALICE_INBOX 242
#define ALICE_ARCHIVE 40
#define BOB_INBOX 42
/* How long Postfix may take to hand a message to Dovecot. */
#define DELIVERY_SECONDS 30

typedef struct
{
  char *dir;
  char *runtime;
  char *profile;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->dir = tern_test_make_tmpdir ("tern-test-demo-XXXXXX");
  fixture->runtime = g_build_filename (fixture->dir, "run", NULL);
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  g_assert_cmpint (g_mkdir (fixture->runtime, 0700), ==, 0);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *link = g_build_filename (fixture->runtime, "tern-demo", NULL);
  g_autofree char *servers = g_file_read_link (link, &error);

  g_assert_no_error (error);
  tern_demo_stop (fixture->runtime, &error);
  g_assert_no_error (error);
  /* The servers' directory is outside the runtime directory (see
   * tern-demo's demo_dir()). */
  tern_test_remove_tree (servers);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->runtime);
  g_free (fixture->profile);
}

static TernContext *
open_demo (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  TernContext *context = tern_demo_open (fixture->runtime, fixture->profile, getpid (), NULL,
                                         &error);

  g_assert_no_error (error);
  g_assert_nonnull (context);
  g_assert_cmpstr (tern_context_get_profile_dir (context), ==, fixture->profile);
  g_assert_true (g_file_test (tern_context_get_ca_file (context), G_FILE_TEST_IS_REGULAR));
  return context;
}

/* User @index's password, from the servers' settings file. */
static char *
server_password (Fixture *fixture,
                 guint    index)
{
  char *password;
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (fixture->runtime, "tern-demo", "servers.ini", NULL);
  g_autofree char *key = g_strdup_printf ("password%u", index);
  g_autoptr(GError) error = NULL;

  g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  password = g_key_file_get_string (ini, "users", key, &error);
  g_assert_no_error (error);
  return password;
}

/* The real user id of process @pid. */
static uid_t
process_uid (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *status = NULL;
  g_autoptr(GError) error = NULL;
  const char *line;

  g_file_get_contents (path, &status, NULL, &error);
  g_assert_no_error (error);
  line = strstr (status, "\nUid:\t");
  g_assert_nonnull (line);
  return (uid_t) g_ascii_strtoull (line + strlen ("\nUid:\t"), NULL, 10);
}

/* The process id in the first line of @path. */
static GPid
read_pid_file (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return (GPid) g_ascii_strtoll (text, NULL, 10);
}

static TernAccount *
lookup (TernContext *context,
        const char  *address)
{
  TernAccount *account = tern_account_manager_lookup (tern_context_get_accounts (context), address);

  g_assert_nonnull (account);
  return account;
}

static GPtrArray *
list_folder (TernContext *context,
             TernAccount *account,
             const char  *name)
{
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  GPtrArray *messages;

  folder = tern_mail_store_find_folder (store, tern_account_get_id (account), name, &error);
  g_assert_no_error (error);
  g_assert_nonnull (folder);
  messages = tern_mail_store_list_messages (store, folder->id, 0, &error);
  g_assert_no_error (error);
  return messages;
}

static TernMailMessage *
find_subject (GPtrArray  *messages,
              const char *subject)
{
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);

      if (g_strcmp0 (message->subject, subject) == 0)
        return message;
    }
  return NULL;
}

static void
sync_alice (TernContext *context)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inbox = NULL;
  g_autoptr(GPtrArray) archive = NULL;
  TernAccount *alice = lookup (context, "alice@tern.test");
  TernMailMessage *welcome;
  gboolean russian = FALSE;

  tern_imap_sync_account (context, alice, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL, NULL,
                          &error);
  g_assert_no_error (error);

  inbox = list_folder (context, alice, "INBOX");
  g_assert_cmpuint (inbox->len, ==, ALICE_INBOX);
  welcome = find_subject (inbox, "Welcome to the Tern demo");
  g_assert_nonnull (welcome);
  g_assert_true (welcome->flags & TERN_IMAP_FLAG_FLAGGED);
  g_assert_false (welcome->flags & TERN_IMAP_FLAG_SEEN);
  g_assert_nonnull (find_subject (inbox, "Your weekly digest, with pictures"));
  /* The generator's Russian mail, in whatever charset, decodes to Cyrillic. */
  for (guint i = 0; i < inbox->len && !russian; i++)
    {
      TernMailMessage *message = g_ptr_array_index (inbox, i);

      russian = g_utf8_strchr (message->subject, -1, 0x0435 /* е */) != NULL;
    }
  g_assert_true (russian);

  archive = list_folder (context, alice, "Archive");
  g_assert_cmpuint (archive->len, ==, ALICE_ARCHIVE);
}

static void
test_open_and_sync (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(TernContext) context = open_demo (fixture);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) bob_inbox = NULL;
  g_autofree char *alice_password = server_password (fixture, 0);
  g_autofree char *bob_password = server_password (fixture, 1);
  TernAccount *alice = lookup (context, "alice@tern.test");
  TernAccount *bob = lookup (context, "bob@tern.test");

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (context))),
                    ==, 2);
  g_assert_cmpint (tern_account_get_protocol (alice), ==, TERN_ACCOUNT_PROTOCOL_IMAP);
  g_assert_cmpint (tern_account_get_protocol (bob), ==, TERN_ACCOUNT_PROTOCOL_POP3);
  /* The passwords are in the keyring, not in the profile. */
  g_assert_false (tern_test_tree_contains (fixture->profile, alice_password));
  g_assert_false (tern_test_tree_contains (fixture->profile, bob_password));

  sync_alice (context);

  tern_pop3_download_account (context, bob, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  bob_inbox = list_folder (context, bob, "INBOX");
  g_assert_cmpuint (bob_inbox->len, ==, BOB_INBOX);
}

/* Who runs the servers: under root, the tests' Dovecot and Postfix; for
 * anyone else, Dovecot and the relay as that user, with the mail the user's
 * files. */
static void
test_servers (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(TernContext) context = open_demo (fixture);
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *servers = g_build_filename (fixture->runtime, "tern-demo", NULL);
  g_autofree char *ini_path = g_build_filename (servers, "servers.ini", NULL);
  g_autofree char *base_dir = NULL;
  g_autofree char *dovecot_pid = NULL;
  g_autofree char *maildir = NULL;
  GStatBuf st;

  g_key_file_load_from_file (ini, ini_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  base_dir = g_key_file_get_string (ini, "servers", "base_dir", &error);
  g_assert_no_error (error);
  dovecot_pid = g_build_filename (base_dir, "master.pid", NULL);
  maildir = g_key_file_get_string (ini, "users", "maildir0", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (maildir, &st), ==, 0);

  if (geteuid () == 0)
    {
      g_assert_true (g_key_file_has_key (ini, "servers", "postfix_queue_dir", NULL));
      g_assert_false (g_key_file_has_key (ini, "ports", "relay", NULL));
      g_assert_cmpuint (process_uid (read_pid_file (dovecot_pid)), ==, 0);
      g_assert_cmpuint (st.st_uid, !=, 0);
    }
  else
    {
      g_autofree char *relay_pid = g_build_filename (servers, "relay.pid", NULL);

      g_assert_false (g_key_file_has_key (ini, "servers", "postfix_queue_dir", NULL));
      g_assert_true (g_key_file_has_key (ini, "ports", "relay", NULL));
      g_assert_cmpuint (process_uid (read_pid_file (dovecot_pid)), ==, getuid ());
      g_assert_cmpuint (process_uid (read_pid_file (relay_pid)), ==, getuid ());
      g_assert_cmpuint (st.st_uid, ==, getuid ());
    }
}

/* Sending from the demo account goes through the demo's submission server
 * (Postfix under root, Dovecot's submission service and the demo's relay
 * otherwise) into the demo Dovecot: bob's POP3 account downloads what
 * alice's IMAP account sent. */
static void
test_send (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(TernContext) context = open_demo (fixture);
  TernAccount *alice = lookup (context, "alice@tern.test");
  TernAccount *bob = lookup (context, "bob@tern.test");
  g_autoptr(TernComposer) composer = tern_composer_new_for_account (alice);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  gint64 end = g_get_monotonic_time () + DELIVERY_SECONDS * G_USEC_PER_SEC;
  const char *subject = "Демо: письмо самому себе";
  gboolean arrived = FALSE;
  guint n_sent = 0;

  tern_composer_set_to (composer, "Bob <bob@tern.test>");
  tern_composer_set_subject (composer, subject);
  tern_composer_set_body (composer, "Hello from the demo.\n");
  bytes = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  tern_outbox_enqueue (tern_context_get_store (context), alice, bytes, &error);
  g_assert_no_error (error);
  tern_outbox_flush (context, alice, &n_sent, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, 1);

  while (!arrived && g_get_monotonic_time () < end)
    {
      g_autoptr(GPtrArray) inbox = NULL;

      tern_pop3_download_account (context, bob, NULL, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      inbox = list_folder (context, bob, "INBOX");
      arrived = find_subject (inbox, subject) != NULL;
      if (!arrived)
        g_usleep (G_USEC_PER_SEC / 5);
    }
  g_assert_true (arrived);
}

/* Running servers are reused: the accounts (and their synced mail) stay.
 * Restarted servers have new ports and passwords: the accounts follow, and
 * the mailbox is not filled a second time. */
static void
test_reuse_and_restart (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *alice_uuid = NULL;
  g_autofree char *bob_uuid = NULL;
  guint16 port;

  {
    g_autoptr(TernContext) context = open_demo (fixture);

    alice_uuid = g_strdup (tern_account_get_uuid (lookup (context, "alice@tern.test")));
    bob_uuid = g_strdup (tern_account_get_uuid (lookup (context, "bob@tern.test")));
    port = tern_account_get_incoming (lookup (context, "alice@tern.test"))->port;
  }
  {
    g_autoptr(TernContext) context = open_demo (fixture);

    g_assert_cmpstr (tern_account_get_uuid (lookup (context, "alice@tern.test")), ==, alice_uuid);
    g_assert_cmpstr (tern_account_get_uuid (lookup (context, "bob@tern.test")), ==, bob_uuid);
  }

  tern_demo_stop (fixture->runtime, &error);
  g_assert_no_error (error);
  {
    g_autoptr(TernContext) context = open_demo (fixture);
    TernAccount *alice = lookup (context, "alice@tern.test");

    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (context))),
                      ==, 2);
    g_assert_cmpuint (tern_account_get_incoming (alice)->port, !=, port);
    sync_alice (context);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* test-demo-unprivileged: tern-test-unprivileged must have dropped root. */
  if (g_strcmp0 (g_getenv ("TERN_TEST_UNPRIVILEGED"), "1") == 0)
    g_assert_cmpuint (geteuid (), !=, 0);

  g_test_add ("/tern/demo/servers", Fixture, NULL, fixture_setup, test_servers,
              fixture_teardown);
  g_test_add ("/tern/demo/open-and-sync", Fixture, NULL, fixture_setup, test_open_and_sync,
              fixture_teardown);
  g_test_add ("/tern/demo/send", Fixture, NULL, fixture_setup, test_send, fixture_teardown);
  g_test_add ("/tern/demo/reuse-and-restart", Fixture, NULL, fixture_setup,
              test_reuse_and_restart, fixture_teardown);
  return g_test_run ();
}
