/* test-faults-outbox.c: outbox flushes of several messages through a
 * proxy that cuts the connection to Postfix at seeded random points, and
 * tern-cli outbox flush killed with SIGKILL at random times.  After a
 * clean flush each queued message either arrived exactly once and is
 * "sent", or (cut after its data went out) is "failed" with the reason
 * that it may have been sent, arrived at most once, and is not sent again
 * (HACKING.md, "The outbox"): never lost silently, never sent twice.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-faults-common.h"

/* Fault points per test in CI (tests/faults/README.md). */
#define CI_POINTS 8
#define CI_KILL_POINTS 4
/* Messages queued before each fault. */
#define BATCH 3

enum { ALICE = 0, BOB = 1 };

typedef struct
{
  TernFaultProxy *proxy;
  FaultsProfile *profile;
  guint serial;
} Outbox;

static void
outbox_setup (Outbox *outbox)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *imap = NULL;
  g_autofree char *smtp = NULL;

  outbox->proxy = tern_fault_proxy_new ("127.0.0.1",
                                        tern_test_servers_get_port (faults_servers,
                                                                    TERN_TEST_SERVICE_SUBMISSIONS),
                                        &error);
  g_assert_no_error (error);
  /* IMAP goes straight to Dovecot: a row cut while "sending" is settled
   * by looking for it in the Sent folder. */
  imap = g_strdup_printf ("127.0.0.1:%u:tls",
                          tern_test_servers_get_port (faults_servers, TERN_TEST_SERVICE_IMAPS));
  smtp = g_strdup_printf ("127.0.0.1:%u:tls", tern_fault_proxy_get_port (outbox->proxy));
  outbox->profile = faults_profile_new (ALICE, imap, NULL, smtp);
}

static void
outbox_teardown (Outbox *outbox)
{
  tern_fault_proxy_free (outbox->proxy);
  faults_profile_free (outbox->profile);
}

/* A message to Bob of @lines lines (0: random) in the file @path; returns
 * its Message-ID. */
static char *
write_message (Outbox     *outbox,
               GRand      *rand,
               guint       size,
               const char *path)
{
  char *id = g_strdup_printf ("outbox-fault.%u.%08x@tern.test", outbox->serial++,
                              g_rand_int (rand));
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  /* Now and then one whose data takes a while. */
  guint lines = g_rand_int_range (rand, 0, 4) == 0 ? g_rand_int_range (rand, 500, 3000)
                                                   : g_rand_int_range (rand, 1, 30);

  if (size > 0)
    lines = size;
  g_string_append_printf (text,
                          "From: Alice <%s>\r\n"
                          "To: %s\r\n"
                          "Subject: Outbox fault %s\r\n"
                          "Message-ID: <%s>\r\n"
                          "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                          "\r\n",
                          tern_test_servers_get_user (faults_servers, ALICE),
                          tern_test_servers_get_user (faults_servers, BOB), id, id);
  for (guint j = 0; j < lines; j++)
    g_string_append_printf (text, "Line %u of %u, a line long enough to take some room.\r\n",
                            j, lines);
  g_file_set_contents (path, text->str, text->len, &error);
  g_assert_no_error (error);
  return id;
}

/* Queues @count messages to Bob while Postfix looks down, of @lines
 * lines (0: random); returns their Message-IDs. */
static GPtrArray *
queue_sized (Outbox *outbox,
             GRand  *rand,
             guint   count,
             guint   size)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *file = g_build_filename (outbox->profile->dir, "message.eml", NULL);

  tern_fault_proxy_set_refusing (outbox->proxy, TRUE);
  for (guint i = 0; i < count; i++)
    {
      g_autofree char *err = NULL;

      g_ptr_array_add (ids, write_message (outbox, rand, size, file));
      g_assert_cmpint (faults_cli (outbox->profile, &err, "send", file, NULL), ==, 1);
      g_assert_nonnull (strstr (err, "queued"));
    }
  tern_fault_proxy_set_refusing (outbox->proxy, FALSE);
  return ids;
}

static GPtrArray *
queue (Outbox *outbox,
       GRand  *rand)
{
  return queue_sized (outbox, rand, BATCH, 0);
}

/* Postfix has delivered (or bounced) everything it accepted. */
static void
wait_for_postfix (void)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (tern_test_servers_get_dir (faults_servers),
                                            "servers.ini", NULL);
  g_autofree char *config = NULL;
  g_autofree char *command = NULL;
  g_autoptr(GError) error = NULL;
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  gboolean empty = FALSE;

  g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  config = g_key_file_get_string (ini, "servers", "postfix_config_dir", &error);
  g_assert_no_error (error);
  command = g_strdup_printf ("postqueue -c '%s' -p", config);
  while (!empty && g_get_monotonic_time () < end)
    {
      g_autofree char *out = NULL;

      g_spawn_command_line_sync (command, &out, NULL, NULL, &error);
      g_assert_no_error (error);
      empty = strstr (out, "Mail queue is empty") != NULL;
      if (!empty)
        g_usleep (100000);
    }
  g_assert_true (empty);
}

/* How many times Bob got @id, once Postfix is done; delivery through
 * LMTP lags the queue by a moment, so a copy is waited for. */
static guint
delivered (const char *id,
           gboolean    expect_one)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint count;

  wait_for_postfix ();
  while ((count = faults_server_count (BOB, "INBOX", id)) == 0 && expect_one
         && g_get_monotonic_time () < end)
    g_usleep (100000);
  return count;
}

/* The outbox's rule, for each message of @ids. */
static void
assert_outbox_rule (Outbox    *outbox,
                    GPtrArray *ids)
{
  faults_assert_integrity (outbox->profile);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      g_autofree char *sql = g_strdup_printf ("SELECT state, coalesce(last_error, '') FROM outbox"
                                              " WHERE trim(message_id_header, '<>') = '%s'",
                                              id);
      g_autofree char *row = faults_db_rows (outbox->profile, sql);
      guint count;

      g_test_message ("%s: %s", id, row);
      if (g_str_has_prefix (row, "sent\t"))
        {
          count = delivered (id, TRUE);
          g_assert_cmpuint (count, ==, 1);
        }
      else
        {
          /* Not sent, and the user is told it may have been. */
          g_assert_true (g_str_has_prefix (row, "failed\t"));
          g_assert_nonnull (strstr (row, "may have been sent"));
          count = delivered (id, FALSE);
          g_test_message ("%s: failed, delivered %u times", id, count);
          g_assert_cmpuint (count, <=, 1);
        }
    }

  /* Another flush sends none of them again. */
  g_assert_cmpint (faults_cli (outbox->profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
  for (guint i = 0; i < ids->len; i++)
    g_assert_cmpuint (delivered (g_ptr_array_index (ids, i), FALSE), <=, 1);
}

static void
test_flush (void)
{
  g_autoptr(GRand) rand = faults_rand ("outbox");
  guint count = faults_count (CI_POINTS);
  const TernFault none = { 0 };
  guint64 totals[2];
  Outbox outbox = { 0 };

  outbox_setup (&outbox);
  /* A clean flush of a batch, for the offsets. */
  {
    g_autoptr(GPtrArray) ids = queue (&outbox, rand);

    tern_fault_proxy_arm (outbox.proxy, &none);
    g_assert_cmpint (faults_cli (outbox.profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
    totals[0] = tern_fault_proxy_get_bytes (outbox.proxy, TERN_FAULT_TO_CLIENT);
    totals[1] = tern_fault_proxy_get_bytes (outbox.proxy, TERN_FAULT_TO_SERVER);
    assert_outbox_rule (&outbox, ids);
  }

  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GPtrArray) ids = queue (&outbox, rand);
      g_autofree char *err = NULL;
      TernFault fault;
      int status;

      faults_next (rand, totals[0], totals[1], &fault);
      faults_announce ("outbox", i, count, &fault);
      tern_fault_proxy_arm (outbox.proxy, &fault);
      status = faults_cli (outbox.profile, &err, "outbox", "flush", "--now", NULL);
      g_test_message ("the fault %s; tern-cli exited with %d",
                      tern_fault_proxy_fired (outbox.proxy) ? "fired" : "did not fire", status);
      if (status != 0)
        faults_assert_sentence (err);
      tern_fault_proxy_arm (outbox.proxy, &none);
      g_assert_cmpint (faults_cli (outbox.profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
      assert_outbox_rule (&outbox, ids);
    }
  g_printerr ("# outbox: %u fault points\n", count);
  outbox_teardown (&outbox);
}

/* The one moment SMTP leaves open (RFC 5321 4.1.1.4): the message's
 * data went out whole, and the connection breaks before the server's
 * reply.  The server may have taken the message: it must not be sent
 * again.  (A regression case: such a row went back to the queue, and the
 * next flush delivered it twice.) */
static void
test_cut_before_reply (void)
{
  g_autoptr(GRand) rand = faults_rand ("outbox-cut-before-reply");
  const TernFault none = { 0 };
  const TernFaultKind kinds[] = { TERN_FAULT_TRUNCATE, TERN_FAULT_DROP, TERN_FAULT_STALL };
  Outbox outbox = { 0 };
  guint64 data_bytes;

  outbox_setup (&outbox);
  /* A clean flush of one long message: nearly all the client's bytes are
   * its data, and the server says nothing until the data ends. */
  {
    g_autoptr(GPtrArray) ids = queue_sized (&outbox, rand, 1, 4000);

    tern_fault_proxy_arm (outbox.proxy, &none);
    g_assert_cmpint (faults_cli (outbox.profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
    data_bytes = tern_fault_proxy_get_bytes (outbox.proxy, TERN_FAULT_TO_SERVER);
    assert_outbox_rule (&outbox, ids);
  }

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr(GPtrArray) ids = queue_sized (&outbox, rand, 1, 4000);
      g_autofree char *err = NULL;
      /* The server's first words once half the data is through: its
       * reply to the data. */
      TernFault fault = { kinds[i], TERN_FAULT_TO_CLIENT, 0, 1, data_bytes / 2 };

      faults_announce ("outbox cut before the reply", i, G_N_ELEMENTS (kinds), &fault);
      tern_fault_proxy_arm (outbox.proxy, &fault);
      g_assert_cmpint (faults_cli (outbox.profile, &err, "outbox", "flush", "--now", NULL), ==, 1);
      faults_assert_sentence (err);
      g_assert_true (tern_fault_proxy_fired (outbox.proxy));
      tern_fault_proxy_arm (outbox.proxy, &none);
      g_assert_cmpint (faults_cli (outbox.profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
      assert_outbox_rule (&outbox, ids);
    }

  /* tern-cli send says that it may have been sent, not that it was not. */
  {
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *file = g_build_filename (outbox.profile->dir, "message.eml", NULL);
    g_autofree char *err = NULL;
    TernFault fault = { TERN_FAULT_TRUNCATE, TERN_FAULT_TO_CLIENT, 0, 1, data_bytes / 2 };

    g_ptr_array_add (ids, write_message (&outbox, rand, 4000, file));
    tern_fault_proxy_arm (outbox.proxy, &fault);
    g_assert_cmpint (faults_cli (outbox.profile, &err, "send", file, NULL), ==, 1);
    faults_assert_sentence (err);
    g_assert_nonnull (strstr (err, "may have been sent"));
    g_assert_null (strstr (err, "was not sent"));
    tern_fault_proxy_arm (outbox.proxy, &none);
    assert_outbox_rule (&outbox, ids);
  }
  outbox_teardown (&outbox);
}

static void
test_kill (void)
{
  g_autoptr(GRand) rand = faults_rand ("outbox-kill");
  guint count = faults_count (CI_KILL_POINTS);
  gint64 duration;
  Outbox outbox = { 0 };

  outbox_setup (&outbox);
  {
    g_autoptr(GPtrArray) ids = queue (&outbox, rand);

    duration = faults_cli_time (outbox.profile, "outbox", "flush", "--now", NULL);
    assert_outbox_rule (&outbox, ids);
  }
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GPtrArray) ids = queue (&outbox, rand);
      gulong delay = g_rand_double (rand) * duration;

      g_test_message ("outbox kill %u of %u: after %lu ms", i + 1, count, delay / 1000);
      faults_cli_kill (outbox.profile, delay, "outbox", "flush", "--now", NULL);
      g_assert_cmpint (faults_cli (outbox.profile, NULL, "outbox", "flush", "--now", NULL), ==, 0);
      assert_outbox_rule (&outbox, ids);
    }
  g_printerr ("# outbox kill: %u kills\n", count);
  outbox_teardown (&outbox);
}

int
main (int    argc,
      char **argv)
{
  faults_init (&argc, &argv);

  g_test_add_func ("/tern/faults/outbox/flush", test_flush);
  g_test_add_func ("/tern/faults/outbox/cut-before-reply", test_cut_before_reply);
  g_test_add_func ("/tern/faults/outbox/kill", test_kill);

  return faults_run ();
}
