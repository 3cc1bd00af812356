/* test-faults-imap.c: IMAP sync (headers and bodies) and the replay of
 * offline changes through a proxy that cuts the connection at seeded
 * random points, and tern-cli sync killed with SIGKILL at random times;
 * after each, a clean sync leaves every message of the server in the
 * cache exactly once and every offline change applied exactly once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-faults-common.h"

/* Fault points per test in CI (tests/faults/README.md). */
#define CI_SYNC_POINTS 12
#define CI_REPLAY_POINTS 5
#define CI_KILL_POINTS 5

static TernFaultProxy *
imap_proxy (void)
{
  g_autoptr(GError) error = NULL;
  TernFaultProxy *proxy;

  proxy = tern_fault_proxy_new ("127.0.0.1",
                                tern_test_servers_get_port (faults_servers,
                                                            TERN_TEST_SERVICE_IMAPS),
                                &error);
  g_assert_no_error (error);
  return proxy;
}

static FaultsProfile *
imap_profile (TernFaultProxy *proxy)
{
  g_autofree char *imap = g_strdup_printf ("127.0.0.1:%u:tls", tern_fault_proxy_get_port (proxy));

  return faults_profile_new (0, imap, NULL, NULL);
}

static void
add_messages (const char *folder,
              guint       count)
{
  g_autoptr(GError) error = NULL;

  tern_test_servers_add_messages (faults_servers, tern_test_servers_get_user (faults_servers, 0),
                                  folder, count, &error);
  g_assert_no_error (error);
}

/* Some changes on the server for the next sync to find: new mail, a
 * flag set, a message expunged. */
static void
change_server (GRand *rand)
{
  g_autofree char *flag = NULL;
  g_autofree char *expunge = NULL;
  g_autofree char *config = g_strdup (tern_test_servers_get_dovecot_config (faults_servers));
  const char *user = tern_test_servers_get_user (faults_servers, 0);
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_unref (faults_deliver (0, 3, rand));
  flag = g_strdup_printf ("doveadm -c '%s' flags add -u '%s' '\\Flagged' mailbox INBOX %d",
                          config, user, g_rand_int_range (rand, 1, 4));
  g_spawn_command_line_sync (flag, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  expunge = g_strdup_printf ("doveadm -c '%s' expunge -u '%s' mailbox INBOX %d",
                             config, user, g_rand_int_range (rand, 1, 4));
  g_spawn_command_line_sync (expunge, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* The faulted run, then the clean one, then the checks. */
static void
sync_with_fault (TernFaultProxy  *proxy,
                 FaultsProfile   *profile,
                 const TernFault *fault,
                 char           **err_out)
{
  g_autofree char *err = NULL;
  const TernFault none = { 0 };
  int status;

  tern_fault_proxy_arm (proxy, fault);
  status = faults_cli (profile, &err, "sync", "--bodies", "all", NULL);
  g_test_message ("the fault %s; tern-cli exited with %d",
                  tern_fault_proxy_fired (proxy) ? "fired" : "did not fire", status);
  if (status != 0)
    faults_assert_sentence (err);
  tern_fault_proxy_arm (proxy, &none);

  g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "all", NULL), ==, 0);
  faults_assert_integrity (profile);
  faults_assert_imap_cache (profile, TRUE);
  if (err_out != NULL)
    *err_out = g_steal_pointer (&err);
}

static void
test_sync (void)
{
  g_autoptr(TernFaultProxy) proxy = imap_proxy ();
  g_autoptr(GRand) rand = faults_rand ("imap-sync");
  g_autoptr(FaultsProfile) profile = NULL;
  guint count = faults_count (CI_SYNC_POINTS);
  guint64 full[2], incremental[2];
  const TernFault none = { 0 };

  add_messages (NULL, 20);
  add_messages ("Archive", 5);

  /* What clean runs move, for the offsets: a first sync, then one that
   * finds a few changes. */
  profile = imap_profile (proxy);
  tern_fault_proxy_arm (proxy, &none);
  g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "all", NULL), ==, 0);
  full[0] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_CLIENT);
  full[1] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_SERVER);
  change_server (rand);
  tern_fault_proxy_arm (proxy, &none);
  g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "all", NULL), ==, 0);
  incremental[0] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_CLIENT);
  incremental[1] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_SERVER);
  g_test_message ("a first sync moves %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                  " bytes, a later one %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT,
                  full[0], full[1], incremental[0], incremental[1]);

  for (guint i = 0; i < count; i++)
    {
      /* Every third point cuts a first sync, the others a later one. */
      gboolean first = i % 3 == 0;
      TernFault fault;

      if (first)
        {
          g_clear_pointer (&profile, faults_profile_free);
          profile = imap_profile (proxy);
        }
      else
        change_server (rand);
      faults_next (rand, first ? full[0] : incremental[0], first ? full[1] : incremental[1],
                   &fault);
      faults_announce (first ? "imap first sync" : "imap sync", i, count, &fault);
      sync_with_fault (proxy, profile, &fault, NULL);
    }
  g_printerr ("# imap sync: %u fault points\n", count);
}

/* A regression case: a connection cut inside a TLS record was reported
 * with GnuTLS's "Error decoding the received TLS packet". */
static void
test_cut_inside_record (void)
{
  g_autoptr(TernFaultProxy) proxy = imap_proxy ();
  g_autoptr(FaultsProfile) calibration = imap_profile (proxy);
  g_autoptr(FaultsProfile) profile = imap_profile (proxy);
  g_autofree char *err = NULL;
  const TernFault none = { 0 };
  TernFault fault = { TERN_FAULT_TRUNCATE, TERN_FAULT_TO_CLIENT, 0, 1, 0 };

  /* Halfway through what a first sync of the same mailbox reads: records
   * are at most 16 kB, and they begin and end in so few places that this
   * is inside one. */
  tern_fault_proxy_arm (proxy, &none);
  g_assert_cmpint (faults_cli (calibration, NULL, "sync", "--bodies", "all", NULL), ==, 0);
  fault.offset = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_CLIENT) / 2 + 7;
  faults_announce ("imap cut inside a record", 0, 1, &fault);
  sync_with_fault (proxy, profile, &fault, &err);
  g_assert_nonnull (strstr (err, "closed the connection"));
}

/* The cache's id and Message-ID of the first message of INBOX not yet
 * flagged. */
static gint64
pick_message (FaultsProfile *profile,
              guint          skip,
              char         **message_id)
{
  g_autofree char *sql = g_strdup_printf ("SELECT m.id || char(9) || m.message_id FROM messages m"
                                          " JOIN folders f ON f.id = m.folder_id"
                                          " WHERE f.name = 'INBOX' AND m.flags & 4 = 0"
                                          " ORDER BY m.uid LIMIT 1 OFFSET %u",
                                          skip);
  g_autofree char *row = faults_db_rows (profile, sql);
  g_auto(GStrv) fields = g_strsplit (g_strstrip (row), "\t", 2);

  g_assert_cmpuint (g_strv_length (fields), ==, 2);
  *message_id = g_strdup (fields[1]);
  return g_ascii_strtoll (fields[0], NULL, 10);
}

/* Flag, move and delete while the server is away; returns the
 * Message-IDs of the three messages. */
static void
queue_offline (TernFaultProxy *proxy,
               FaultsProfile  *profile,
               char          **ids)
{
  gint64 flagged = pick_message (profile, 0, &ids[0]);
  gint64 moved = pick_message (profile, 1, &ids[1]);
  gint64 deleted = pick_message (profile, 2, &ids[2]);
  g_autofree char *flagged_text = g_strdup_printf ("%" G_GINT64_FORMAT, flagged);
  g_autofree char *moved_text = g_strdup_printf ("%" G_GINT64_FORMAT, moved);
  g_autofree char *deleted_text = g_strdup_printf ("%" G_GINT64_FORMAT, deleted);

  tern_fault_proxy_set_refusing (proxy, TRUE);
  g_assert_cmpint (faults_cli (profile, NULL, "flag", flagged_text, "+flagged", NULL), ==, 0);
  g_assert_cmpint (faults_cli (profile, NULL, "move", moved_text, "Archive", NULL), ==, 0);
  g_assert_cmpint (faults_cli (profile, NULL, "delete", deleted_text, NULL), ==, 0);
  tern_fault_proxy_set_refusing (proxy, FALSE);
  g_assert_cmpint (faults_db_int (profile, "SELECT count(*) FROM pending_operations"), >=, 3);
}

/* Each change is on the server exactly once. */
static void
assert_applied (char **ids)
{
  g_autofree char *query = g_strdup_printf ("mailbox INBOX header message-id '<%s>'", ids[0]);
  g_autofree char *flags = faults_server_rows (0, "flags", query);

  g_assert_nonnull (strstr (flags, "\\Flagged"));
  g_assert_cmpuint (faults_server_count (0, NULL, ids[0]), ==, 1);
  g_assert_cmpuint (faults_server_count (0, "Archive", ids[1]), ==, 1);
  g_assert_cmpuint (faults_server_count (0, NULL, ids[1]), ==, 1);
  g_assert_cmpuint (faults_server_count (0, "Trash", ids[2]), ==, 1);
  g_assert_cmpuint (faults_server_count (0, NULL, ids[2]), ==, 1);
}

static void
test_replay (void)
{
  g_autoptr(TernFaultProxy) proxy = imap_proxy ();
  g_autoptr(GRand) rand = faults_rand ("imap-replay");
  g_autoptr(FaultsProfile) profile = imap_profile (proxy);
  guint count = faults_count (CI_REPLAY_POINTS);
  guint64 totals[2];
  const TernFault none = { 0 };
  char *ids[3] = { NULL };

  add_messages (NULL, 10);
  g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "none", NULL), ==, 0);

  /* A clean replay, for the offsets. */
  queue_offline (proxy, profile, ids);
  tern_fault_proxy_arm (proxy, &none);
  g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "none", NULL), ==, 0);
  totals[0] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_CLIENT);
  totals[1] = tern_fault_proxy_get_bytes (proxy, TERN_FAULT_TO_SERVER);
  assert_applied (ids);
  for (guint j = 0; j < 3; j++)
    g_clear_pointer (&ids[j], g_free);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *err = NULL;
      TernFault fault;

      g_ptr_array_unref (faults_deliver (0, 3, rand));
      g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "none", NULL), ==, 0);
      queue_offline (proxy, profile, ids);
      faults_next (rand, totals[0], totals[1], &fault);
      faults_announce ("imap replay", i, count, &fault);

      tern_fault_proxy_arm (proxy, &fault);
      if (faults_cli (profile, &err, "sync", "--bodies", "none", NULL) != 0)
        faults_assert_sentence (err);
      tern_fault_proxy_arm (proxy, &none);
      g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "none", NULL), ==, 0);

      g_assert_cmpint (faults_db_int (profile, "SELECT count(*) FROM pending_operations"), ==, 0);
      faults_assert_integrity (profile);
      assert_applied (ids);
      faults_assert_imap_cache (profile, FALSE);
      for (guint j = 0; j < 3; j++)
        g_clear_pointer (&ids[j], g_free);
    }
  g_printerr ("# imap replay: %u fault points\n", count);
}

static void
test_kill (void)
{
  g_autoptr(TernFaultProxy) proxy = imap_proxy ();
  g_autoptr(GRand) rand = faults_rand ("imap-kill");
  g_autoptr(FaultsProfile) profile = imap_profile (proxy);
  guint count = faults_count (CI_KILL_POINTS);
  gint64 duration;

  add_messages (NULL, 30);
  duration = faults_cli_time (profile, "sync", "--bodies", "all", NULL);
  for (guint i = 0; i < count; i++)
    {
      gulong delay = g_rand_double (rand) * duration;

      if (i % 2 == 0)
        {
          g_clear_pointer (&profile, faults_profile_free);
          profile = imap_profile (proxy);
        }
      else
        change_server (rand);
      g_test_message ("imap kill %u of %u: after %lu ms", i + 1, count, delay / 1000);
      faults_cli_kill (profile, delay, "sync", "--bodies", "all", NULL);
      g_assert_cmpint (faults_cli (profile, NULL, "sync", "--bodies", "all", NULL), ==, 0);
      faults_assert_integrity (profile);
      /* A first sync leaves indexes out until its end (tern-mail-store.c);
       * killed before, the next start built them. */
      g_assert_cmpint (faults_db_int (profile, "SELECT count (*) FROM deferred_indexes"), ==, 0);
      g_assert_cmpint (faults_db_int (profile, "SELECT count (*) FROM sqlite_master"
                                               " WHERE type = 'index' AND name IN"
                                               " ('messages_sort_date', 'messages_folder_sort_date',"
                                               " 'messages_thread', 'folder_threads_date')"),
                       ==, 4);
      faults_assert_imap_cache (profile, TRUE);
    }
  g_printerr ("# imap kill: %u kills\n", count);
}

int
main (int    argc,
      char **argv)
{
  faults_init (&argc, &argv);

  g_test_add_func ("/tern/faults/imap/sync", test_sync);
  g_test_add_func ("/tern/faults/imap/cut-inside-record", test_cut_inside_record);
  g_test_add_func ("/tern/faults/imap/replay", test_replay);
  g_test_add_func ("/tern/faults/imap/kill", test_kill);

  return faults_run ();
}
