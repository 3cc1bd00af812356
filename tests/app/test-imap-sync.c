/* test-imap-sync.c: syncing accounts of the real Dovecot of tests/servers/,
 * checked against what doveadm says the server holds.
 *
 * Commands are counted in Dovecot's rawlog (rawlog_dir: one file per IMAP
 * session with every line the client sent), so the test sees what reached
 * the server, not what Tern believes it sent.  COMPRESS is switched off for
 * that, as the rawlog would otherwise hold deflated bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gmime/gmime.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-context.h"
#include "tern-imap-client.h"
#include "tern-imap-session.h"
#include "tern-imap-sync.h"
#include "tern-search.h"
#include "tern-mail-store.h"
#include "tern-test-servers.h"
#include "tern-test-store.h"
#include "tern-test-util.h"

static TernTestServers *servers;
static char *dovecot_conf;
static char *password_file[2];

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernAccount *account; /* owned by the context's manager */
} Fixture;

/* doveadm */

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

/* doveadm -f tab output: a header line, then rows; each row a table of
 * column -> value. */
static GPtrArray *
parse_tab (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_auto(GStrv) header = NULL;

  if (lines[0] == NULL)
    return rows;
  header = g_strsplit (lines[0], "\t", -1);
  for (gsize i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) values = NULL;
      GHashTable *row;

      if (lines[i][0] == '\0')
        continue;
      values = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (values), ==, g_strv_length (header));
      row = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      for (gsize j = 0; header[j] != NULL; j++)
        g_hash_table_insert (row, g_strdup (header[j]), g_strdup (values[j]));
      g_ptr_array_add (rows, row);
    }
  return rows;
}

static TernImapFlags
parse_flags (const char *text)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  TernImapFlags flags = 0;

  for (gsize i = 0; words[i] != NULL; i++)
    {
      if (g_str_equal (words[i], "\\Seen"))
        flags |= TERN_IMAP_FLAG_SEEN;
      else if (g_str_equal (words[i], "\\Answered"))
        flags |= TERN_IMAP_FLAG_ANSWERED;
      else if (g_str_equal (words[i], "\\Flagged"))
        flags |= TERN_IMAP_FLAG_FLAGGED;
      else if (g_str_equal (words[i], "\\Deleted"))
        flags |= TERN_IMAP_FLAG_DELETED;
      else if (g_str_equal (words[i], "\\Draft"))
        flags |= TERN_IMAP_FLAG_DRAFT;
    }
  return flags;
}

static guint
user_index (const char *user)
{
  return g_str_equal (user, tern_test_servers_get_user (servers, 0)) ? 0 : 1;
}

static GHashTable *
mailbox_status (const char *user,
                const char *mailbox)
{
  g_autofree char *out = doveadm ("-f", "tab", "mailbox", "status", "-u", user,
                                  "messages uidvalidity uidnext", mailbox, NULL);
  g_autoptr(GPtrArray) rows = parse_tab (out);

  g_assert_cmpuint (rows->len, ==, 1);
  return g_hash_table_ref (g_ptr_array_index (rows, 0));
}

/* Fixture */

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  const char *user = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-imap-sync-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  server = tern_server_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                            tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (user);
  account = tern_account_new (user, user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  command = g_strdup_printf ("cat '%s'", password_file[user_index (user)]);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
}

static TernImapSyncStats
sync_ok (Fixture            *fixture,
         TernImapSyncBodies  bodies)
{
  g_autoptr(GError) error = NULL;
  TernImapSyncStats stats = { 0 };

  tern_imap_sync_account (fixture->context, fixture->account, bodies, NULL, NULL, &stats, NULL,
                          &error);
  g_assert_no_error (error);
  return stats;
}

static TernMailFolder *
find_folder (Fixture    *fixture,
             const char *name)
{
  g_autoptr(GError) error = NULL;
  TernMailFolder *folder;

  folder = tern_mail_store_find_folder (tern_context_get_store (fixture->context),
                                        tern_account_get_id (fixture->account), name, &error);
  g_assert_no_error (error);
  return folder;
}

static gboolean
count_fill_indexes_cb (sqlite3  *db,
                       gpointer  user_data,
                       GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 *counts = user_data;

  /* The indexes a first sync leaves out (tern-mail-store.c) and builds at
   * the end of each folder, whether the folder's sync ended well or not;
   * and one it keeps.  And the conversations it counted as it stored. */
  stmt = tern_store_prepare (db,
    "SELECT (SELECT count (*) FROM sqlite_master WHERE type = 'index' AND name IN"
    "  ('messages_thread', 'messages_folder_sort_date',"
    "   'messages_sort_date',"
    "   'messages_folder_thread', 'folder_threads_date')),"
    " (SELECT count (*) FROM deferred_indexes),"
    " (" TERN_TEST_MISCOUNTED_CONVERSATIONS_SQL ")",
    error);
  if (stmt == NULL)
    return FALSE;
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  counts[0] = sqlite3_column_int64 (stmt, 0);
  counts[1] = sqlite3_column_int64 (stmt, 1);
  counts[2] = sqlite3_column_int64 (stmt, 2);
  return TRUE;
}

static void
assert_indexes_built (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  gint64 counts[3] = { -1, -1, -1 };

  g_assert_true (tern_store_read (tern_context_get_store (fixture->context), count_fill_indexes_cb,
                                  counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts[0], ==, 5);
  g_assert_cmpint (counts[1], ==, 0);
  g_assert_cmpint (counts[2], ==, 0);
}

/* The store's copy of @mailbox equals the server's: count, UIDVALIDITY,
 * UIDNEXT, and per UID the flags, size and subject.  Returns the count. */
static guint
assert_folder_matches (Fixture    *fixture,
                       const char *user,
                       const char *mailbox)
{
  g_autoptr(GHashTable) status = mailbox_status (user, mailbox);
  g_autofree char *out = doveadm ("-f", "tab", "fetch", "-u", user,
                                  "uid flags size.virtual hdr.subject", "mailbox", mailbox, "all",
                                  NULL);
  g_autoptr(GPtrArray) server_rows = parse_tab (out);
  g_autoptr(TernMailFolder) folder = find_folder (fixture, mailbox);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) by_uid = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;

  messages = tern_mail_store_list_messages (tern_context_get_store (fixture->context), folder->id,
                                            0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, server_rows->len);
  g_assert_cmpuint (folder->total_count, ==, server_rows->len);
  g_assert_cmpuint (messages->len, ==,
                    g_ascii_strtoull (g_hash_table_lookup (status, "messages"), NULL, 10));
  g_assert_cmpuint (folder->uidvalidity, ==,
                    g_ascii_strtoull (g_hash_table_lookup (status, "uidvalidity"), NULL, 10));
  g_assert_cmpuint (folder->uidnext, ==,
                    g_ascii_strtoull (g_hash_table_lookup (status, "uidnext"), NULL, 10));

  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);

      /* No UID twice. */
      g_assert_false (g_hash_table_contains (by_uid, GUINT_TO_POINTER (message->uid)));
      g_hash_table_insert (by_uid, GUINT_TO_POINTER (message->uid), message);
    }
  for (guint i = 0; i < server_rows->len; i++)
    {
      GHashTable *row = g_ptr_array_index (server_rows, i);
      guint32 uid = g_ascii_strtoull (g_hash_table_lookup (row, "uid"), NULL, 10);
      TernMailMessage *message = g_hash_table_lookup (by_uid, GUINT_TO_POINTER (uid));
      g_autofree char *subject = g_mime_utils_header_decode_text (NULL, g_hash_table_lookup (row, "hdr.subject"));

      g_assert_nonnull (message);
      g_assert_cmpuint (message->flags & 0x1f, ==, parse_flags (g_hash_table_lookup (row, "flags")));
      g_assert_cmpuint (message->size, ==,
                        g_ascii_strtoull (g_hash_table_lookup (row, "size.virtual"), NULL, 10));
      g_assert_cmpstr (message->subject, ==, subject);
    }
  return messages->len;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static char *
folder_names (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  folders = tern_mail_store_list_folders (tern_context_get_store (fixture->context),
                                          tern_account_get_id (fixture->account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    g_ptr_array_add (names, ((TernMailFolder *) g_ptr_array_index (folders, i))->name);
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static void
add_messages (const char *user,
              const char *folder,
              guint       count)
{
  g_autoptr(GError) error = NULL;

  tern_test_servers_add_messages (servers, user, folder, count, &error);
  g_assert_no_error (error);
}

/* Writes @text as Dovecot's configuration and has it reloaded (which
 * takes effect some time later: the callers wait in their own way). */
static void
reload_dovecot (const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (dovecot_conf, text, -1, &error);
  g_assert_no_error (error);
  g_free (doveadm ("reload", NULL));
}

/* Appends @settings to Dovecot's configuration in a "protocol imap"
 * block (a later value wins) and reloads; returns the configuration
 * before, for reload_dovecot() to put back. */
static char *
add_imap_settings (const char *settings)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *extra = NULL;
  char *conf = NULL;

  g_file_get_contents (dovecot_conf, &conf, NULL, &error);
  g_assert_no_error (error);
  extra = g_strdup_printf ("%s\nprotocol imap {\n%s\n}\n", conf, settings);
  reload_dovecot (extra);
  return conf;
}

/* Rawlog: the client lines of every session, in DIR/rawlog/NAME.in. */

static char *rawlog_dir;

static void
enable_rawlog (void)
{
  g_autofree char *settings = NULL;

  rawlog_dir = g_build_filename (tern_test_servers_get_dir (servers), "rawlog", NULL);
  g_assert_cmpint (g_mkdir_with_parents (rawlog_dir, 0755), ==, 0);
  g_assert_cmpint (chown (rawlog_dir, 5000, 5000), ==, 0);
  /* imap_zlib (COMPRESS) goes, the rawlog comes. */
  settings = g_strdup_printf ("  mail_plugins = zlib\n  rawlog_dir = %s", rawlog_dir);
  g_free (add_imap_settings (settings));
  /* Wait for the new configuration to be served. */
  g_usleep (300 * 1000);
}

static void
clear_rawlog (void)
{
  tern_test_remove_tree (rawlog_dir);
  g_assert_cmpint (g_mkdir_with_parents (rawlog_dir, 0755), ==, 0);
  g_assert_cmpint (chown (rawlog_dir, 5000, 5000), ==, 0);
}

/* The commands (without tags) of every session logged since clear_rawlog(). */
static GPtrArray *
rawlog_commands (void)
{
  g_autoptr(GDir) dir = g_dir_open (rawlog_dir, 0, NULL);
  GPtrArray *commands = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_str_has_suffix (name, ".in"))
        continue;
      path = g_build_filename (rawlog_dir, name, NULL);
      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      lines = g_strsplit (text, "\n", -1);
      for (gsize i = 0; lines[i] != NULL; i++)
        {
          /* "TIMESTAMP TAG COMMAND ..." */
          g_auto(GStrv) parts = g_strsplit (lines[i], " ", 3);

          if (g_strv_length (parts) == 3)
            g_ptr_array_add (commands, g_strdup (parts[2]));
        }
    }
  return commands;
}

/* Tests */

static const char *const alice_folders[] = { "INBOX", "Проекты", "Проекты/2026", "Отчёты", "Archive" };
static const guint alice_counts[] = { 1000, 150, 400, 300, 200 };

static void
test_initial_and_changes (Fixture       *fixture,
                          gconstpointer  data)
{
  const char *user = data;
  g_autoptr(GTimer) timer = NULL;
  g_autofree char *names = NULL;
  g_autoptr(TernMailFolder) project = NULL;
  g_autoptr(TernMailFolder) recreated = NULL;
  TernImapSyncStats stats;
  guint total = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (alice_folders); i++)
    add_messages (user, g_str_equal (alice_folders[i], "INBOX") ? NULL : alice_folders[i],
                  alice_counts[i]);
  g_free (doveadm ("mailbox", "create", "-u", user, "Пустая", NULL));

  timer = g_timer_new ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_test_message ("initial header sync: %u messages in %.3f s", stats.new_messages,
                  g_timer_elapsed (timer, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (alice_folders); i++)
    total += assert_folder_matches (fixture, user, alice_folders[i]);
  g_assert_cmpuint (total, ==, 2050);
  g_assert_cmpuint (stats.new_messages, ==, 2050);
  assert_indexes_built (fixture);
  names = folder_names (fixture);
  g_assert_cmpstr (names, ==, "Archive,Drafts,INBOX,Junk,Sent,Trash,Отчёты,Проекты,Проекты/2026,Пустая");

  /* Behind Tern's back: new mail, flags, expunges, folders created,
   * renamed and deleted, a folder recreated (new UIDVALIDITY). */
  project = find_folder (fixture, "Проекты/2026");
  add_messages (user, NULL, 25);
  g_free (doveadm ("flags", "add", "-u", user, "\\Flagged \\Seen", "mailbox", "INBOX", "uid", "1:40", NULL));
  g_free (doveadm ("flags", "remove", "-u", user, "\\Seen", "mailbox", "INBOX", "uid", "5", NULL));
  g_free (doveadm ("flags", "add", "-u", user, "\\Answered", "mailbox", "Отчёты", "uid", "7", NULL));
  g_free (doveadm ("expunge", "-u", user, "mailbox", "INBOX", "uid", "100:150", NULL));
  g_free (doveadm ("expunge", "-u", user, "mailbox", "Archive", "uid", "1", NULL));
  g_free (doveadm ("mailbox", "rename", "-u", user, "Пустая", "Новая", NULL));
  g_free (doveadm ("mailbox", "delete", "-u", user, "Проекты/2026", NULL));
  add_messages (user, "Проекты/2026", 12);
  add_messages (user, "Новая/Вложенная", 3);

  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.uidvalidity_resets, ==, 1);
  g_assert_cmpuint (stats.new_messages, ==, 25 + 12 + 3);
  assert_folder_matches (fixture, user, "INBOX");
  assert_folder_matches (fixture, user, "Отчёты");
  assert_folder_matches (fixture, user, "Archive");
  assert_folder_matches (fixture, user, "Проекты/2026");
  assert_folder_matches (fixture, user, "Новая/Вложенная");
  recreated = find_folder (fixture, "Проекты/2026");
  g_assert_cmpuint (recreated->uidvalidity, !=, project->uidvalidity);
  g_clear_pointer (&names, g_free);
  names = folder_names (fixture);
  g_assert_cmpstr (names, ==,
                   "Archive,Drafts,INBOX,Junk,Sent,Trash,Новая,Новая/Вложенная,Отчёты,Проекты,Проекты/2026");
}

static gboolean
is_selectable (const TernMailFolder *folder)
{
  return !(folder->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT));
}

/* The selectable folders of the fixture's account. */
static guint
count_selectable (Fixture *fixture)
{
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;
  guint selectable = 0;

  folders = tern_mail_store_list_folders (tern_context_get_store (fixture->context),
                                          tern_account_get_id (fixture->account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    selectable += is_selectable (g_ptr_array_index (folders, i));
  return selectable;
}

/* The commands since clear_rawlog() that SELECT or EXAMINE a folder: each
 * with QRESYNC, and nothing else but the session's set-up and end. */
static guint
count_selects (gboolean *listed_status)
{
  g_autoptr(GPtrArray) commands = rawlog_commands ();
  guint selects = 0;

  g_assert_cmpuint (commands->len, >, 0);
  *listed_status = FALSE;
  for (guint i = 0; i < commands->len; i++)
    {
      const char *command = g_ptr_array_index (commands, i);

      g_test_message ("client: %s", command);
      if (g_str_has_prefix (command, "SELECT ") || g_str_has_prefix (command, "EXAMINE "))
        {
          g_assert_nonnull (strstr (command, "(QRESYNC ("));
          selects++;
          continue;
        }
      if (g_str_has_prefix (command, "STATUS ") &&
          strstr (command, "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)") != NULL)
        {
          *listed_status = TRUE;
          continue;
        }
      /* The session's set-up and end, once per sync. */
      g_assert_true (g_str_has_prefix (command, "ENABLE ") || g_str_has_prefix (command, "ID ") ||
                     g_str_has_prefix (command, "NAMESPACE") ||
                     g_str_has_prefix (command, "CAPABILITY") ||
                     g_str_has_prefix (command, "LIST ") || g_str_has_prefix (command, "LOGOUT"));
    }
  return selects;
}

/* With CONDSTORE, a folder whose STATUS (pipelined for every folder
 * right after the folder list) shows the UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ and message count of the last sync is not selected at
 * all; a folder where a flag changed or a message was expunged elsewhere
 * is, and the change arrives (with QRESYNC, in the SELECT's answer). */
static void
test_qresync_noop (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *user = data;
  TernImapSyncStats stats;
  guint selectable;
  gboolean listed_status = FALSE;

  add_messages (user, "QRESYNC", 30);
  add_messages (user, "QRESYNC-expunge", 10);
  sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  selectable = count_selectable (fixture);

  enable_rawlog ();
  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.flag_updates, ==, 0);
  g_assert_cmpuint (stats.removed_messages, ==, 0);
  g_assert_cmpuint (stats.folders, ==, selectable);
  g_assert_cmpuint (stats.unselected_folders, ==, selectable);
  g_assert_cmpuint (count_selects (&listed_status), ==, 0);
  g_assert_true (listed_status);
  g_test_message ("no-change resync: %u folders, none selected", selectable);

  /* Changed elsewhere: a flag in one folder, an expunge in another. */
  g_free (doveadm ("flags", "add", "-u", user, "\\Flagged", "mailbox", "QRESYNC", "uid", "7",
                   NULL));
  g_free (doveadm ("expunge", "-u", user, "mailbox", "QRESYNC-expunge", "uid", "4", NULL));
  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.flag_updates, ==, 1);
  g_assert_cmpuint (stats.removed_messages, ==, 1);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.unselected_folders, ==, selectable - 2);
  g_assert_cmpuint (count_selects (&listed_status), ==, 2);
  assert_folder_matches (fixture, user, "QRESYNC");
  assert_folder_matches (fixture, user, "QRESYNC-expunge");

  /* And once more: nothing changed since. */
  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.flag_updates + stats.removed_messages + stats.new_messages, ==, 0);
  g_assert_cmpuint (count_selects (&listed_status), ==, 0);
}

/* Servers without QRESYNC: Dovecot advertising less (imap_capability).
 * Changes behind Tern's back still arrive, through CHANGEDSINCE with
 * CONDSTORE, through a full flag comparison without. */
#define CAPABILITY_BASE                                                                        \
  "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UNSELECT CHILDREN NAMESPACE UIDPLUS "     \
  "LIST-EXTENDED ESEARCH SEARCHRES LIST-STATUS MOVE LITERAL+ SPECIAL-USE"

/* Whether a new session of @user is offered @capability: 1 or 0, or -1
 * when none opens (Dovecot reloading closes connections for a moment). */
static int
session_offers (const char *user,
                const char *capability)
{
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  gboolean offered;

  connection = tern_connection_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                                    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                                    TERN_TLS_MODE_IMPLICIT);
  tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  client = tern_imap_client_new (connection);
  if (!tern_imap_client_open (client, NULL, &error) ||
      !tern_imap_client_login (client, user,
                               tern_test_servers_get_password (servers, user_index (user)),
                               NULL, FALSE, NULL, &error))
    {
      g_test_message ("no session yet: %s", error->message);
      return -1;
    }
  offered = tern_imap_client_has_capability (client, capability);
  tern_imap_client_logout (client, NULL, NULL);
  return offered ? 1 : 0;
}

typedef struct
{
  const char *user;
  const char *probe;
  gboolean offered;
} CapabilityWait;

static gboolean
capability_served (gpointer data)
{
  CapabilityWait *wait = data;

  return session_offers (wait->user, wait->probe) == (wait->offered ? 1 : 0);
}

/* Dovecot's configuration before set_capability() changed it. */
static char *conf_before_capability;

/* Makes Dovecot advertise @capability after login, and waits until a new
 * session offers @probe (or not, as @offered says). */
static void
set_capability (const char *user,
                const char *capability,
                const char *probe,
                gboolean    offered)
{
  CapabilityWait wait = { user, probe, offered };
  g_autofree char *settings = g_strdup_printf ("  imap_capability = %s", capability);
  g_autofree char *conf = add_imap_settings (settings);

  if (conf_before_capability == NULL)
    conf_before_capability = g_steal_pointer (&conf);
  /* The reload is asynchronous: wait until new sessions see it. */
  tern_test_wait_until (capability_served, &wait, "the new capabilities");
}

/* Undoes set_capability(): the tests after one run against the server's
 * own capabilities (QRESYNC). */
static void
restore_capability (const char *user)
{
  CapabilityWait wait = { user, "QRESYNC", TRUE };
  g_autofree char *conf = g_steal_pointer (&conf_before_capability);

  g_assert_nonnull (conf);
  reload_dovecot (conf);
  tern_test_wait_until (capability_served, &wait, "the server's own capabilities");
}

static void
test_resync_without_qresync (Fixture       *fixture,
                             gconstpointer  data)
{
  const char *user = data;
  gboolean condstore = g_str_has_suffix (g_test_get_path (), "-condstore");
  g_autoptr(GPtrArray) commands = NULL;
  const char *folder = condstore ? "Resync-CONDSTORE" : "Resync-plain";
  gboolean changedsince = FALSE;
  TernImapSyncStats stats;

  if (rawlog_dir == NULL)
    enable_rawlog ();
  if (condstore)
    set_capability (user, CAPABILITY_BASE " CONDSTORE", "QRESYNC", FALSE);
  else
    set_capability (user, CAPABILITY_BASE, "CONDSTORE", FALSE);
  add_messages (user, folder, 40);
  sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  assert_folder_matches (fixture, user, folder);

  g_free (doveadm ("flags", "add", "-u", user, "\\Flagged", "mailbox", folder, "uid", "3:6", NULL));
  g_free (doveadm ("flags", "add", "-u", user, "\\Seen", "mailbox", folder, "uid", "10", NULL));
  g_free (doveadm ("expunge", "-u", user, "mailbox", folder, "uid", "20:22", NULL));
  add_messages (user, folder, 5);

  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  commands = rawlog_commands ();
  for (guint i = 0; i < commands->len; i++)
    g_test_message ("client: %s", (const char *) g_ptr_array_index (commands, i));
  g_assert_cmpuint (stats.new_messages, ==, 5);
  g_assert_cmpuint (stats.removed_messages, ==, 3);
  g_assert_cmpuint (assert_folder_matches (fixture, user, folder), ==, 42);
  assert_folder_matches (fixture, user, "INBOX");

  for (guint i = 0; i < commands->len; i++)
    {
      const char *command = g_ptr_array_index (commands, i);

      g_assert_null (strstr (command, "(QRESYNC"));
      if (strstr (command, "CHANGEDSINCE") != NULL)
        changedsince = TRUE;
    }
  /* Only the folder that changed is asked what changed. */
  g_assert_true (changedsince == condstore);
  restore_capability (user);
}

/* A sync cut in the middle of fetching, by the user (cancelled from another
 * thread) or by the server (Dovecot stopped under it), leaves a consistent
 * store; the next one completes it, nothing missing or twice. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean batch_fetched;
  gboolean cancelled;
  GCancellable *cancellable;
  Fixture *fixture;
  GError *error;
} Interrupt;

/* On the sync thread, after the first batch of INBOX was fetched (and
 * handed to the writer): waits until the main thread has cancelled. */
static void
interrupt_progress_cb (const char *folder,
                       guint       done,
                       guint       total,
                       gpointer    user_data)
{
  Interrupt *interrupt = user_data;

  if (total == 0 || !g_str_equal (folder, "INBOX"))
    return;
  g_mutex_lock (&interrupt->lock);
  interrupt->batch_fetched = TRUE;
  g_cond_signal (&interrupt->cond);
  while (!interrupt->cancelled)
    g_cond_wait (&interrupt->cond, &interrupt->lock);
  g_mutex_unlock (&interrupt->lock);
}

static gpointer
interrupt_thread (gpointer user_data)
{
  Interrupt *interrupt = user_data;

  tern_imap_sync_account (interrupt->fixture->context, interrupt->fixture->account,
                          TERN_IMAP_SYNC_BODIES_NONE, interrupt_progress_cb, interrupt, NULL,
                          interrupt->cancellable, &interrupt->error);
  return NULL;
}

static void
run_interrupted (Fixture    *fixture,
                 const char *user,
                 gboolean    server_cut)
{
  Interrupt interrupt = { 0 };
  g_autoptr(GThread) thread = NULL;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GHashTable) status = NULL;
  g_autoptr(GError) error = NULL;
  TernImapSyncStats stats;
  guint total;

  add_messages (user, NULL, 2200);
  status = mailbox_status (user, "INBOX");
  total = atoi (g_hash_table_lookup (status, "messages"));
  g_mutex_init (&interrupt.lock);
  g_cond_init (&interrupt.cond);
  interrupt.cancellable = g_cancellable_new ();
  interrupt.fixture = fixture;

  thread = g_thread_new ("sync", interrupt_thread, &interrupt);
  g_mutex_lock (&interrupt.lock);
  while (!interrupt.batch_fetched)
    g_cond_wait (&interrupt.cond, &interrupt.lock);
  /* From this thread, while the sync thread is between two FETCHes and
   * its writer may still be storing. */
  if (server_cut)
    {
      tern_test_servers_stop_dovecot (servers, &error);
      g_assert_no_error (error);
    }
  else
    g_cancellable_cancel (interrupt.cancellable);
  interrupt.cancelled = TRUE;
  g_cond_broadcast (&interrupt.cond);
  g_mutex_unlock (&interrupt.lock);
  g_thread_join (g_steal_pointer (&thread));
  if (server_cut)
    {
      /* The connection was closed under the client: a connection error,
       * reported as such (not a parse error, not a hang). */
      g_assert_nonnull (interrupt.error);
      g_assert_true (interrupt.error->domain == TERN_CONNECTION_ERROR ||
                     interrupt.error->domain == TERN_IMAP_ERROR);
      g_test_message ("the cut: %s", interrupt.error->message);
      tern_test_servers_start_dovecot (servers, &error);
      g_assert_no_error (error);
    }
  else
    g_assert_error (interrupt.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&interrupt.error);

  inbox = find_folder (fixture, "INBOX");
  stored = tern_mail_store_list_messages (tern_context_get_store (fixture->context), inbox->id, 0,
                                          &error);
  g_assert_no_error (error);
  g_test_message ("stored before the cut: %u of %u", stored->len, total);
  g_assert_cmpuint (stored->len, >=, 1000);
  g_assert_cmpuint (stored->len, <, total);
  /* Nothing recorded as synced: the next sync starts from the old state. */
  g_assert_cmpuint (inbox->uidnext, ==, 0);
  assert_indexes_built (fixture);

  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  /* The rest of INBOX (and other folders of the user, never reached). */
  g_assert_cmpuint (stats.new_messages, >=, total - stored->len);
  g_assert_cmpuint (assert_folder_matches (fixture, user, "INBOX"), ==, total);

  g_object_unref (interrupt.cancellable);
  g_mutex_clear (&interrupt.lock);
  g_cond_clear (&interrupt.cond);
}

static void
test_interrupted (Fixture       *fixture,
                  gconstpointer  data)
{
  run_interrupted (fixture, data, FALSE);
}

static void
test_server_cut (Fixture       *fixture,
                 gconstpointer  data)
{
  run_interrupted (fixture, data, TRUE);
}

/* The store refuses every write to INBOX past 1,500 messages (as a full
 * disk would) during a first sync: the sync fails with the store's error,
 * keeps its first batch, records nothing as synced, builds the indexes it
 * left out; the next sync takes the rest. */
static void
test_store_fails (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *user = data;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GError) error = NULL;
  TernImapSyncStats stats = { 0 };

  add_messages (user, NULL, 2200);
  tern_test_store_exec (tern_context_get_store (fixture->context),
                        "CREATE TRIGGER test_full BEFORE INSERT ON messages"
                        " WHEN (SELECT count (*) FROM messages WHERE folder_id = new.folder_id)"
                        " >= 1500 BEGIN SELECT RAISE (ABORT, 'database or disk is full'); END");

  g_assert_false (tern_imap_sync_account (fixture->context, fixture->account,
                                          TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, &stats, NULL,
                                          &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "disk is full"));
  g_clear_error (&error);
  inbox = find_folder (fixture, "INBOX");
  stored = tern_mail_store_list_messages (tern_context_get_store (fixture->context), inbox->id, 0,
                                          &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 1000); /* the first batch */
  g_assert_cmpuint (inbox->uidnext, ==, 0);
  assert_indexes_built (fixture);

  tern_test_store_exec (tern_context_get_store (fixture->context), "DROP TRIGGER test_full");
  sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  assert_folder_matches (fixture, user, "INBOX");
}

static void
assert_no_prefetch (Fixture *fixture,
                    gint64   folder_id)
{
  TernStore *store = tern_context_get_store (fixture->context);
  g_autoptr(TernImapClient) client = NULL;
  static const char raw[] = "Subject: now\r\n\r\nNow.\r\n";
  g_autoptr(GBytes) message = g_bytes_new_static (raw, sizeof raw - 1);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint32 uids[2] = { 0 };
  TernImapSyncStats stats;

  g_assert_true (tern_account_options_set_integer (store, tern_account_get_id (fixture->account),
                                                   TERN_ACCOUNT_OPTIONS_SYNC,
                                                   TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS, 0, &error));
  g_assert_no_error (error);
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, "Bodies", 0, now, message, NULL, &uids[0], NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, "Bodies", 0, now + 3600, message, NULL, &uids[1], NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);

  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_WINDOW);
  g_assert_cmpuint (stats.new_messages, ==, 2);
  g_assert_cmpuint (stats.bodies, ==, 0);
  messages = tern_mail_store_list_messages (store, folder_id, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *stored = g_ptr_array_index (messages, i);

      if (stored->uid == uids[0] || stored->uid == uids[1])
        g_assert_false (stored->has_body);
    }
  /* Nor do those bodies make the folder look changed: none is selected. */
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_WINDOW);
  g_assert_cmpuint (stats.unselected_folders, ==, stats.folders);
}

static void
assert_session_error (Fixture     *fixture,
                      TernAccount *account,
                      GQuark       domain,
                      int          code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = tern_imap_session_open (fixture->context, account, NULL,
                                                             &error);

  g_assert_null (client);
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
}

/* A password that cannot be had is the error whether or not the server
 * answers (it is asked for before connecting: a password command may
 * prompt for longer than a server waits for a login); a server that does
 * not answer is the error when the password is there. */
static void
test_password_and_connection (Fixture       *fixture,
                              gconstpointer  data)
{
  const char *user = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) server = NULL;
  g_autoptr(TernAccount) unreachable = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autofree char *good = g_strdup (tern_account_get_password_command (fixture->account));

  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (client);
  tern_imap_client_logout (client, NULL, NULL);

  server = tern_server_new ("127.0.0.1", tern_test_closed_port (G_SOCKET_FAMILY_IPV4),
                            TERN_TLS_MODE_IMPLICIT);
  server->username = g_strdup (user);
  unreachable = tern_account_new (user, user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (unreachable, good);
  assert_session_error (fixture, unreachable, TERN_CONNECTION_ERROR,
                        TERN_CONNECTION_ERROR_CONNECT_FAILED);

  tern_account_set_password_command (fixture->account, "echo 'no password for you' >&2; exit 3");
  assert_session_error (fixture, fixture->account, TERN_APP_ERROR,
                        TERN_APP_ERROR_PASSWORD_COMMAND);
  tern_account_set_password_command (unreachable, "exit 3");
  assert_session_error (fixture, unreachable, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND);
}

/* A folder the server will not open (here: its Maildir unreadable, as
 * after a server-side fault or a name it cannot handle) costs that folder
 * alone: the folders after it still sync, and the sync then fails naming
 * it. */
static void
test_refused_folder (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *user = data;
  static const char raw[] = "Subject: after\r\n\r\nAfter the locked folder.\r\n";
  g_autoptr(GBytes) message = g_bytes_new_static (raw, sizeof raw - 1);
  g_autofree char *locked = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernMailFolder) after = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  TernImapSyncStats stats = { 0 };
  GStatBuf st;
  int status;

  g_free (doveadm ("mailbox", "create", "-u", user, "Aaa Locked", NULL));
  g_free (doveadm ("mailbox", "create", "-u", user, "Zzz After", NULL));
  locked = g_strstrip (doveadm ("mailbox", "path", "-u", user, "Aaa Locked", NULL));
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, "Zzz After", 0, 0, message, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);

  g_assert_cmpint (g_stat (locked, &st), ==, 0);
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  tern_imap_sync_account (fixture->context, fixture->account, TERN_IMAP_SYNC_BODIES_NONE, NULL,
                          NULL, &stats, NULL, &error);
  status = g_chmod (locked, st.st_mode & 07777);
  g_assert_cmpint (status, ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "Aaa Locked"));
  g_clear_error (&error);
  g_assert_cmpuint (stats.refused_folders, ==, 1);
  after = find_folder (fixture, "Zzz After");
  g_assert_nonnull (after);
  messages = tern_mail_store_list_messages (tern_context_get_store (fixture->context), after->id,
                                            0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);

  /* Readable again: everything syncs. */
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.refused_folders, ==, 0);

  g_free (doveadm ("mailbox", "delete", "-u", user, "Aaa Locked", NULL));
  g_free (doveadm ("mailbox", "delete", "-u", user, "Zzz After", NULL));
}

/* The sessions logged since clear_rawlog(). */
static guint
count_sessions (void)
{
  g_autoptr(GDir) dir = g_dir_open (rawlog_dir, 0, NULL);
  const char *name;
  guint sessions = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    sessions += g_str_has_suffix (name, ".in");
  return sessions;
}

/* Every selectable folder of the store matches the server, each selected
 * (or examined) once by one of the sessions logged: the messages in all. */
static guint
assert_all_folders_match (Fixture    *fixture,
                          const char *user)
{
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) commands = rawlog_commands ();
  g_autoptr(GError) error = NULL;
  guint total = 0;
  guint selects = 0;

  folders = tern_mail_store_list_folders (tern_context_get_store (fixture->context),
                                          tern_account_get_id (fixture->account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    {
      const TernMailFolder *folder = g_ptr_array_index (folders, i);

      if (is_selectable (folder))
        total += assert_folder_matches (fixture, user, folder->name);
    }
  for (guint i = 0; i < commands->len; i++)
    {
      const char *command = g_ptr_array_index (commands, i);

      selects += g_str_has_prefix (command, "SELECT ") || g_str_has_prefix (command, "EXAMINE ");
    }
  g_assert_cmpuint (selects, ==, count_selectable (fixture));
  return total;
}

/* Opens two sessions at once: how many opened.  A second refused by a
 * server over its connection limit ([LIMIT]) is not taken for a wrong
 * password; none opens while the server restarts. */
static guint
open_two_sessions (Fixture *fixture)
{
  g_autoptr(TernImapClient) first = NULL;
  g_autoptr(TernImapClient) second = NULL;
  g_autoptr(GError) error = NULL;

  first = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  if (first == NULL)
    {
      g_test_message ("no session: %s", error->message);
      return 0;
    }
  second = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  if (second != NULL)
    tern_imap_client_logout (second, NULL, NULL);
  tern_imap_client_logout (first, NULL, NULL);
  if (second != NULL)
    return 2;
  g_test_message ("refused: %s", error->message);
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO);
  return 1;
}

typedef struct
{
  Fixture *fixture;
  guint expected;
} SessionsWait;

static gboolean
sessions_open (gpointer data)
{
  SessionsWait *wait = data;

  return open_two_sessions (wait->fixture) == wait->expected;
}

/* Waits (the reload is asynchronous) until open_two_sessions() opens
 * @expected of the two. */
static void
wait_for_sessions (Fixture *fixture,
                   guint    expected)
{
  SessionsWait wait = { fixture, expected };

  tern_test_wait_until (sessions_open, &wait, "the reloaded configuration's sessions");
}

/* A first sync with new mail in several folders syncs them over two
 * connections, each folder once; a sync with new mail in one folder uses
 * one.  A server that takes one connection at a time gets the whole sync
 * over the first. */
static void
test_second_connection (Fixture       *fixture,
                        gconstpointer  data)
{
  const char *user = data;
  g_autofree char *conf = NULL;
  g_autofree char *password_command = g_strdup (tern_account_get_password_command (fixture->account));
  g_autofree char *runs_file = g_build_filename (tern_test_servers_get_dir (servers),
                                                 "password-runs", NULL);
  g_autofree char *counting = g_strdup_printf ("echo run >> '%s'; %s", runs_file,
                                               password_command);
  g_autofree char *runs = NULL;
  TernImapSyncStats stats;

  if (rawlog_dir == NULL)
    enable_rawlog ();
  /* Besides the largest folder's new mail, at least 500 messages (see
   * tern-imap-sync.c), with what the tests before left in the others. */
  add_messages (user, NULL, 400);
  add_messages (user, "Second-A", 400);
  add_messages (user, "Second-B", 400);
  clear_rawlog ();
  /* Both connections sign in with one run of the password command: it may
   * ask the user. */
  g_unlink (runs_file);
  tern_account_set_password_command (fixture->account, counting);
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  tern_account_set_password_command (fixture->account, password_command);
  g_assert_cmpuint (count_sessions (), ==, 2);
  g_assert_true (g_file_get_contents (runs_file, &runs, NULL, NULL));
  g_assert_cmpstr (runs, ==, "run\n");
  g_assert_cmpuint (stats.new_messages, ==, assert_all_folders_match (fixture, user));
  g_assert_cmpuint (stats.folders, ==, count_selectable (fixture));
  assert_indexes_built (fixture);

  add_messages (user, "Second-A", 5);
  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.new_messages, ==, 5);
  g_assert_cmpuint (count_sessions (), ==, 1);
  assert_folder_matches (fixture, user, "Second-A");

  /* One connection a user: the second is refused at its login. */
  conf = add_imap_settings ("  mail_max_userip_connections = 1");
  wait_for_sessions (fixture, 1);
  add_messages (user, "Second-A", 600);
  add_messages (user, "Second-B", 600);
  clear_rawlog ();
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_NONE);
  g_assert_cmpuint (stats.new_messages, ==, 1200);
  g_assert_cmpuint (count_sessions (), ==, 1);
  assert_folder_matches (fixture, user, "Second-A");
  assert_folder_matches (fixture, user, "Second-B");

  g_free (doveadm ("mailbox", "delete", "-u", user, "Second-A", NULL));
  g_free (doveadm ("mailbox", "delete", "-u", user, "Second-B", NULL));
  reload_dovecot (conf);
  /* Until the reload is through (its auth process takes no lookups while
   * it restarts): the next tests need both. */
  wait_for_sessions (fixture, 2);
}

/* Bodies: the window fetches the last 30 days; on demand fetches one. */
static void
test_bodies (Fixture       *fixture,
             gconstpointer  data)
{
  const char *user = data;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) missing = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  TernStore *store = tern_context_get_store (fixture->context);
  gint64 month_ago;
  TernImapSyncStats stats;
  guint in_window = 0;

  /* One message every ~37 minutes back from now: 1300 span ~33 days. */
  add_messages (user, "Bodies", 1300);
  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_WINDOW);
  /* Taken after the sync, whose window started earlier: what is inside
   * this one was inside the sync's. */
  month_ago = g_get_real_time () / G_USEC_PER_SEC - 30 * 24 * 3600;
  folder = find_folder (fixture, "Bodies");
  messages = tern_mail_store_list_messages (store, folder->id, 0, &error);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);

      if (message->internal_date >= month_ago)
        {
          g_assert_true (message->has_body);
          in_window++;
        }
    }
  g_assert_cmpuint (in_window, >, 0);
  g_assert_cmpuint (in_window, <, 1300);
  g_assert_cmpuint (stats.bodies, >=, in_window);

  missing = tern_mail_store_list_missing_bodies (store, folder->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (missing->len, >, 0);
  body = tern_imap_sync_fetch_body (fixture->context, g_array_index (missing, TernMailBodyRef, 0).id,
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (body), ==, g_array_index (missing, TernMailBodyRef, 0).size);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "Message-ID:"));

  /* prefetch-days 0 is none ahead: not even mail of this second or dated
   * ahead by the server's clock. */
  assert_no_prefetch (fixture, folder->id);
}

/* Bodies, all of them: fetched many to a command, several commands on the
 * wire; each stored whole, small ones in the database and a large one in a
 * file under the profile, with no partial file left behind. */
static void
test_bodies_all (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *user = data;
  TernStore *store = tern_context_get_store (fixture->context);
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) missing = NULL;
  g_autoptr(GString) large = g_string_new (NULL);
  g_autoptr(GBytes) large_bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *folder_dir = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  TernImapSyncStats stats;
  guint32 uid = 0;
  guint files = 0;
  gboolean found_large = FALSE;
  g_autoptr(TernMessageList) results = NULL;

  /* More than BODY_BATCH × FETCH_IN_FLIGHT, so that the pipe refills. */
  add_messages (user, "AllBodies", 450);
  g_string_append (large, "From: Ann <ann@example.org>\r\nTo: <bob@tern.test>\r\n"
                          "Subject: large\r\nMessage-ID: <large@tern.test>\r\n\r\n");
  for (guint i = 0; large->len < 600 * 1024; i++)
    g_string_append_printf (large, "line %u of a large message, long enough to matter\r\n", i);
  large_bytes = g_bytes_new (large->str, large->len);
  client = tern_imap_session_open (fixture->context, fixture->account, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, "AllBodies", 0, 0, large_bytes, NULL, &uid, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_logout (client, NULL, NULL);

  stats = sync_ok (fixture, TERN_IMAP_SYNC_BODIES_ALL);
  folder = find_folder (fixture, "AllBodies");
  missing = tern_mail_store_list_missing_bodies (store, folder->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (missing->len, ==, 0);
  messages = tern_mail_store_list_messages (store, folder->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 451);
  g_assert_cmpuint (stats.bodies, >=, 451);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);
      g_autoptr(GBytes) body = tern_mail_store_get_body (store, message->id, &error);

      g_assert_no_error (error);
      g_assert_nonnull (body);
      g_assert_cmpuint (g_bytes_get_size (body), ==, message->size);
      if (g_bytes_get_size (body) == large->len)
        {
          g_assert_true (g_bytes_equal (body, large_bytes));
          found_large = TRUE;
        }
      else
        g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                        "Message-ID:"));
    }
  g_assert_true (found_large);

  id = g_strdup_printf ("%" G_GINT64_FORMAT, folder->id);
  folder_dir = g_build_filename (fixture->profile, "bodies", id, NULL);
  dir = g_dir_open (folder_dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_true (g_str_has_suffix (name, ".eml"));
      files++;
    }
  g_assert_cmpuint (files, ==, 1);

  /* The sync put the bodies into the search index: no caller has to. */
  results = tern_search_run (store, "\"long enough to matter\"", FALSE, TERN_SEARCH_SCOPE_FOLDER,
                             folder->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (results)), ==, 1);
}

/* tern-cli */

static char *
run_cli (const char *profile,
         int         expect_status,
         const char *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, (char *) "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (servers));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "TERN_PROFILE", profile, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_exit_status (process) != expect_status)
    g_error ("tern-cli %s: status %d: %s", first, g_subprocess_get_exit_status (process), err);
  return out;
}

/* How many top-level items the JSON document @json has, by Python's json
 * module: the output must parse as one document. */
static guint
json_length (const char *json)
{
  const char *argv[] = { "python3", "-c",
                         "import json, sys; print(len(json.load(sys.stdin)))", NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, json, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  return atoi (out);
}

static void
test_cli (void)
{
  const char *user = tern_test_servers_get_user (servers, 1);
  g_autofree char *dir = tern_test_make_tmpdir ("tern-imap-sync-cli-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *imap = g_strdup_printf ("%s:%u:tls",
                                           tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                                           tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file[1]);
  g_autofree char *out = NULL;
  g_autofree char *id = NULL;
  const char *p;

  add_messages (user, "CLI/Тест", 20);
  g_free (run_cli (profile, 0, "account", "add", "--email", user, "--imap", imap,
                   "--password-command", command, NULL));

  out = run_cli (profile, 0, "sync", "--json", NULL);
  g_assert_cmpuint (json_length (out), ==, 1);
  g_assert_nonnull (strstr (out, "\"new\":"));
  g_clear_pointer (&out, g_free);

  out = run_cli (profile, 0, "folders", "--json", NULL);
  g_assert_cmpuint (json_length (out), >=, 7);
  g_assert_nonnull (strstr (out, "\"name\":\"CLI/Тест\""));
  g_assert_nonnull (strstr (out, "\"role\":\"inbox\""));
  g_clear_pointer (&out, g_free);

  out = run_cli (profile, 0, "list", "--folder", "CLI/Тест", "--limit", "5", "--json", NULL);
  g_assert_cmpuint (json_length (out), ==, 5);
  /* Newest first: UID 20 leads. */
  g_assert_true (g_str_has_prefix (out, "[{\"id\":"));
  g_assert_nonnull (strstr (out, "\"uid\":20,"));
  p = strstr (out, "\"id\":") + 5;
  id = g_strndup (p, strspn (p, "0123456789"));
  g_clear_pointer (&out, g_free);

  out = run_cli (profile, 0, "show", id, "--text", NULL);
  g_assert_true (g_str_has_prefix (out, "Hello,"));
  g_clear_pointer (&out, g_free);
  out = run_cli (profile, 0, "show", id, "--raw", NULL);
  g_assert_nonnull (strstr (out, "Message-ID: <"));
  g_clear_pointer (&out, g_free);
  out = run_cli (profile, 2, "list", "--limit", "-1", NULL);
  g_clear_pointer (&out, g_free);

  tern_test_remove_tree (dir);
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
  dovecot_conf = g_build_filename (tern_test_servers_get_dir (servers), "dovecot", "dovecot.conf", NULL);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("password%u", i);

      password_file[i] = g_build_filename (tern_test_servers_get_dir (servers), name, NULL);
      g_file_set_contents (password_file[i], tern_test_servers_get_password (servers, i), -1, &error);
      g_assert_no_error (error);
    }

#define ADD(path, user, func) \
  g_test_add ("/tern/imap-sync/" path, Fixture, user, fixture_setup, func, fixture_teardown)
  ADD ("initial-and-changes", tern_test_servers_get_user (servers, 0), test_initial_and_changes);
  /* Bodies first: bob's INBOX is still empty, only the test's folder has
   * bodies to fetch. */
  ADD ("bodies", tern_test_servers_get_user (servers, 1), test_bodies);
  ADD ("interrupted", tern_test_servers_get_user (servers, 1), test_interrupted);
  ADD ("store-fails", tern_test_servers_get_user (servers, 1), test_store_fails);
  ADD ("qresync-noop", tern_test_servers_get_user (servers, 0), test_qresync_noop);
  /* The resync tests take QRESYNC (and CONDSTORE) away while they run,
   * and give them back. */
  ADD ("second-connection", tern_test_servers_get_user (servers, 0), test_second_connection);
  ADD ("resync-condstore", tern_test_servers_get_user (servers, 0), test_resync_without_qresync);
  ADD ("resync-plain", tern_test_servers_get_user (servers, 0), test_resync_without_qresync);
  ADD ("bodies-all", tern_test_servers_get_user (servers, 0), test_bodies_all);
  ADD ("refused-folder", tern_test_servers_get_user (servers, 0), test_refused_folder);
  ADD ("password-and-connection", tern_test_servers_get_user (servers, 1),
       test_password_and_connection);
  g_test_add_func ("/tern/imap-sync/cli", test_cli);
  /* Last: it restarts Dovecot, and no other test should depend on how
   * soon a restarted server takes logins. */
  ADD ("server-cut", tern_test_servers_get_user (servers, 1), test_server_cut);
#undef ADD

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  for (guint i = 0; i < 2; i++)
    g_free (password_file[i]);
  g_free (dovecot_conf);
  g_free (rawlog_dir);
  g_mime_shutdown ();
  return status;
}
