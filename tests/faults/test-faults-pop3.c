/* test-faults-pop3.c: POP3 download, keeping mail on the server and
 * deleting it after download, through a proxy that cuts the connection at
 * seeded random points, and tern-cli sync killed with SIGKILL at random
 * times; after each, a clean download leaves every message in the local
 * Inbox exactly once and whole, and (deleting) nothing on the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include "test-faults-common.h"

/* Fault points per test in CI (tests/faults/README.md). */
#define CI_POINTS 8
#define CI_KILL_POINTS 4

/* Alice keeps her mail on the server, Bob has it deleted. */
enum { KEEP_USER = 0, DELETE_USER = 1 };

typedef struct
{
  TernFaultProxy *proxy;
  FaultsProfile *profile;
  guint user;
  GHashTable *delivered; /* every Message-ID the server had ("<…>") */
} Pop3;

static void
pop3_setup (Pop3  *pop3,
            guint  user)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *server = NULL;

  pop3->user = user;
  pop3->proxy = tern_fault_proxy_new ("127.0.0.1",
                                      tern_test_servers_get_port (faults_servers,
                                                                  TERN_TEST_SERVICE_POP3S),
                                      &error);
  g_assert_no_error (error);
  server = g_strdup_printf ("127.0.0.1:%u:tls", tern_fault_proxy_get_port (pop3->proxy));
  pop3->profile = faults_profile_new (user, NULL, server, NULL);
  if (user == DELETE_USER)
    faults_db_exec (pop3->profile,
                    "UPDATE accounts SET options = '[pop3]\ndelete-after-download=true\n'");
  pop3->delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
pop3_teardown (Pop3 *pop3)
{
  tern_fault_proxy_free (pop3->proxy);
  faults_profile_free (pop3->profile);
  g_hash_table_unref (pop3->delivered);
}

/* New mail, remembered. */
static void
deliver (Pop3  *pop3,
         guint  count,
         GRand *rand)
{
  g_autoptr(GPtrArray) ids = faults_deliver (pop3->user, count, rand);
  g_autofree char *rows = NULL;
  g_auto(GStrv) lines = NULL;

  /* And what an earlier test left there. */
  rows = faults_server_rows (pop3->user, "hdr.message-id", "mailbox INBOX ALL");
  lines = g_strsplit (rows, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_hash_table_add (pop3->delivered, g_strdup (lines[i]));
  for (guint i = 0; i < ids->len; i++)
    g_hash_table_add (pop3->delivered,
                      g_strdup_printf ("<%s>", (const char *) g_ptr_array_index (ids, i)));
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The local Inbox holds each message the server ever had exactly once,
 * whole; the server holds them all (keeping) or none (deleting). */
static void
assert_downloaded (Pop3 *pop3)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autoptr(GString) expected_text = g_string_new (NULL);
  g_autofree char *cache = NULL;
  g_autofree char *server = NULL;
  g_autofree char *sizes = NULL;
  g_autofree char *cached_sizes = NULL;
  GHashTableIter iter;
  gpointer id;

  faults_assert_integrity (pop3->profile);
  g_hash_table_iter_init (&iter, pop3->delivered);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_ptr_array_add (expected, id);
  g_ptr_array_sort (expected, compare_ids);
  for (guint i = 0; i < expected->len; i++)
    g_string_append_printf (expected_text, "%s\n", (const char *) g_ptr_array_index (expected, i));

  cache = faults_db_rows (pop3->profile,
                          "SELECT '<' || trim(m.message_id, '<>') || '>' FROM messages m"
                          " JOIN folders f ON f.id = m.folder_id WHERE f.role = 'inbox'");
  g_assert_cmpstr (cache, ==, expected_text->str);
  g_assert_cmpint (faults_db_int (pop3->profile,
                                  "SELECT count(*) FROM messages m"
                                  " LEFT JOIN bodies b ON b.message_id = m.id"
                                  " WHERE b.message_id IS NULL"),
                   ==, 0);

  server = faults_server_rows (pop3->user, "hdr.message-id", "mailbox INBOX ALL");
  if (pop3->user == DELETE_USER)
    g_assert_cmpstr (server, ==, "");
  else
    {
      g_assert_cmpstr (server, ==, expected_text->str);
      /* Whole: as many bytes as the server sends for each. */
      sizes = faults_server_rows (pop3->user, "hdr.message-id size.virtual", "mailbox INBOX ALL");
      cached_sizes = faults_db_rows (pop3->profile,
                                     "SELECT '<' || trim(m.message_id, '<>') || '>',"
                                     " coalesce(length(b.data), b.size)"
                                     " FROM messages m JOIN bodies b ON b.message_id = m.id");
      g_assert_cmpstr (cached_sizes, ==, sizes);
    }
}

static void
test_download (gconstpointer data)
{
  guint user = GPOINTER_TO_UINT (data);
  const char *name = user == DELETE_USER ? "pop3 delete-after-download" : "pop3 keep";
  g_autoptr(GRand) rand = faults_rand (name);
  guint count = faults_count (CI_POINTS);
  const TernFault none = { 0 };
  guint64 totals[2];
  Pop3 pop3 = { 0 };

  pop3_setup (&pop3, user);
  deliver (&pop3, 15, rand);
  tern_fault_proxy_arm (pop3.proxy, &none);
  g_assert_cmpint (faults_cli (pop3.profile, NULL, "sync", NULL), ==, 0);
  totals[0] = tern_fault_proxy_get_bytes (pop3.proxy, TERN_FAULT_TO_CLIENT);
  totals[1] = tern_fault_proxy_get_bytes (pop3.proxy, TERN_FAULT_TO_SERVER);
  assert_downloaded (&pop3);
  g_test_message ("a download of 15 messages moves %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                  " bytes", totals[0], totals[1]);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *err = NULL;
      TernFault fault;
      int status;

      deliver (&pop3, 15, rand);
      faults_next (rand, totals[0], totals[1], &fault);
      faults_announce (name, i, count, &fault);
      tern_fault_proxy_arm (pop3.proxy, &fault);
      status = faults_cli (pop3.profile, &err, "sync", NULL);
      g_test_message ("the fault %s; tern-cli exited with %d",
                      tern_fault_proxy_fired (pop3.proxy) ? "fired" : "did not fire", status);
      if (status != 0)
        faults_assert_sentence (err);
      tern_fault_proxy_arm (pop3.proxy, &none);
      g_assert_cmpint (faults_cli (pop3.profile, NULL, "sync", NULL), ==, 0);
      assert_downloaded (&pop3);
    }
  g_printerr ("# %s: %u fault points\n", name, count);
  pop3_teardown (&pop3);
}

static void
test_kill (gconstpointer data)
{
  guint user = GPOINTER_TO_UINT (data);
  const char *name = user == DELETE_USER ? "pop3 kill delete" : "pop3 kill keep";
  g_autoptr(GRand) rand = faults_rand (name);
  guint count = faults_count (CI_KILL_POINTS);
  gint64 duration;
  Pop3 pop3 = { 0 };

  pop3_setup (&pop3, user);
  deliver (&pop3, 40, rand);
  duration = faults_cli_time (pop3.profile, "sync", NULL);
  assert_downloaded (&pop3);
  for (guint i = 0; i < count; i++)
    {
      gulong delay = g_rand_double (rand) * duration;
      gint64 took;

      deliver (&pop3, 40, rand);
      g_test_message ("%s %u of %u: after %lu ms", name, i + 1, count, delay / 1000);
      took = faults_cli_kill (pop3.profile, delay, "sync", NULL);
      /* Later downloads are shorter than the first (or the load fell):
       * the next kill is drawn within what this one took. */
      if (took >= 0)
        duration = took;
      g_assert_cmpint (faults_cli (pop3.profile, NULL, "sync", NULL), ==, 0);
      assert_downloaded (&pop3);
    }
  g_printerr ("# %s: %u kills\n", name, count);
  pop3_teardown (&pop3);
}

int
main (int    argc,
      char **argv)
{
  faults_init (&argc, &argv);

  g_test_add_data_func ("/tern/faults/pop3/keep", GUINT_TO_POINTER (KEEP_USER), test_download);
  g_test_add_data_func ("/tern/faults/pop3/delete-after-download",
                        GUINT_TO_POINTER (DELETE_USER), test_download);
  g_test_add_data_func ("/tern/faults/pop3/kill-keep", GUINT_TO_POINTER (KEEP_USER), test_kill);
  g_test_add_data_func ("/tern/faults/pop3/kill-delete", GUINT_TO_POINTER (DELETE_USER),
                        test_kill);

  return faults_run ();
}
