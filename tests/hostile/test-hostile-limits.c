/* test-hostile-limits.c: servers that send messages without end.  A body
 * may be large, but not without bound: IMAP refuses a literal announced
 * over TERN_IMAP_MAX_MESSAGE_SIZE before reading any of it, POP3 (which
 * announces nothing) stops reading a RETR or TOP answer at
 * TERN_POP3_MAX_MESSAGE_SIZE.  Either way the connection is closed, the
 * error says why, and nothing of the message reaches the caller's end
 * callback, so nothing half-received is stored.  How much the server
 * managed to send before Tern hung up shows the memory stayed bounded.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <string.h>
#include <sys/socket.h>

#include "test-hostile-common.h"

#define SEND(text)          { FAKE_STEP_SEND, text, 0 }
#define EXPECT(text)        { FAKE_STEP_EXPECT, text, 0 }
#define FLOOD(text)         { FAKE_STEP_FLOOD, text, 0 }
#define END                 { FAKE_STEP_END, NULL, 0 }

#define IMAP_PREAUTH "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n"
#define MIB (1024 * 1024)
/* What may be in flight in the socket buffers when Tern hangs up. */
#define SLACK (16 * MIB)

static char *filler_lines;   /* 4 KiB of lines of 'a', for floods */

typedef struct {
  FakeDialogue dialogue;
  FakeServer *server;
  TernConnection *connection;
} Run;

static void
run_clear (Run *run)
{
  g_clear_object (&run->connection);
  g_clear_pointer (&run->server, fake_server_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_start (Run            *run,
           const FakeStep *steps)
{
  run->dialogue = (FakeDialogue) { steps, NULL, NULL, NULL, 0, 0 };
  run->server = fake_server_start_dialogue (&run->dialogue);
  run->connection = fake_connection_new (run->server, TERN_TLS_MODE_PLAIN, NULL);
}

/* Ends the run and returns what the client sent. */
static char *
run_finish (Run *run)
{
  char *sent;

  g_assert_false (tern_connection_is_connected (run->connection));
  g_clear_object (&run->connection);
  fake_server_join (run->server);
  sent = fake_received_text (run->server);
  g_test_message ("the server sent %" G_GUINT64_FORMAT " bytes of the flood",
                  run->dialogue.flooded);
  return sent;
}

/* Counts what it is given, keeps nothing. */
static GOutputStream *
null_stream_new (void)
{
  int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  return g_unix_output_stream_new (fd, TRUE);
}

/* IMAP: the literal's size comes first. */

static void
test_imap_huge_body (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 UID FETCH 7 (UID BODY.PEEK[])\r\n"),
    SEND ("* 1 FETCH (UID 7 BODY[] {314572800}\r\n"), FLOOD (filler_lines), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, steps);
  client = tern_imap_client_new (run.connection);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_fetch_body (client, 7, NULL, out, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "larger than 256"));
  /* Refused at the announcement: nothing of the body was read. */
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, 0);
  g_clear_object (&client);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 UID FETCH 7 (UID BODY.PEEK[])\r\n");
  g_assert_cmpuint (run.dialogue.flooded, <, SLACK);
}

typedef struct {
  guint begun;
  guint done;
} Bodies;

static GOutputStream *
bodies_begin_cb (guint64  size,
                 gpointer user_data)
{
  Bodies *bodies = user_data;

  bodies->begun++;
  return g_memory_output_stream_new_resizable ();
}

static gboolean
bodies_done_cb (guint32         uid,
                GOutputStream  *out,
                gpointer        user_data,
                GError        **error)
{
  Bodies *bodies = user_data;

  bodies->done++;
  return TRUE;
}

/* The pipelined fetch of a sync: a small message before the huge one is
 * whole and delivered, the huge one never begins. */
static void
test_imap_huge_body_in_sync (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 SELECT INBOX\r\n"),
    SEND ("* 2 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\nT1 OK [READ-WRITE] selected\r\n"),
    EXPECT ("T2 UID FETCH 1:2 (UID BODY.PEEK[])\r\n"),
    SEND ("* 1 FETCH (UID 1 BODY[] {7}\r\nHello\r\n)\r\n"),
    SEND ("* 2 FETCH (UID 2 BODY[] {314572800}\r\n"), FLOOD (filler_lines), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernImapSet) uids = tern_imap_set_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  TernImapSelected selected = { 0 };
  Bodies bodies = { 0 };

  run_start (&run, steps);
  client = tern_imap_client_new (run.connection);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_select (client, "INBOX", FALSE, NULL, &selected, NULL, &error);
  g_assert_no_error (error);
  tern_imap_selected_clear (&selected);
  tern_imap_set_add_range (uids, 1, 2);
  g_assert_false (tern_imap_client_fetch_bodies (client, uids, bodies_begin_cb, bodies_done_cb,
                                                 &bodies, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "larger than 256"));
  g_assert_cmpuint (bodies.begun, ==, 1);
  g_assert_cmpuint (bodies.done, ==, 1);
  g_clear_object (&client);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 SELECT INBOX\r\nT2 UID FETCH 1:2 (UID BODY.PEEK[])\r\n");
  g_assert_cmpuint (run.dialogue.flooded, <, SLACK);
}

/* POP3: the size is known only at the terminating ".", which never
 * comes. */

static GOutputStream *
pop3_begin_cb (guint     number,
               gpointer  user_data,
               GError  **error)
{
  guint *begun = user_data;

  (*begun)++;
  return null_stream_new ();
}

static gboolean
pop3_end_cb (guint           number,
             GOutputStream  *stream,
             gpointer        user_data,
             GError        **error)
{
  g_assert_not_reached ();
  return TRUE;
}

static void
pop3_endless (gboolean    headers_only,
              const char *command)
{
  const FakeStep steps[] = {
    SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("-ERR no CAPA\r\n"),
    EXPECT (command), SEND ("+OK here it comes\r\n"), FLOOD (filler_lines), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(TernPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *expected = NULL;
  const guint number = 1;
  guint begun = 0;

  run_start (&run, steps);
  client = tern_pop3_client_new (run.connection);
  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_retrieve_many (client, &number, 1, headers_only, pop3_begin_cb,
                                                  pop3_end_cb, &begun, NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_TOO_LARGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "larger than 256"));
  g_assert_cmpuint (begun, ==, 1);
  g_clear_object (&client);
  sent = run_finish (&run);
  expected = g_strconcat ("CAPA\r\n", command, NULL);
  g_assert_cmpstr (sent, ==, expected);
  /* Tern read up to its limit and hung up right after. */
  g_assert_cmpuint (run.dialogue.flooded, >=, TERN_POP3_MAX_MESSAGE_SIZE);
  g_assert_cmpuint (run.dialogue.flooded, <, TERN_POP3_MAX_MESSAGE_SIZE + SLACK);
}

static void
test_pop3_endless_retr (void)
{
  pop3_endless (FALSE, "RETR 1\r\n");
}

static void
test_pop3_endless_top (void)
{
  pop3_endless (TRUE, "TOP 1 0\r\n");
}

/* A server that sends a short line of the message now and then, each
 * well within the I/O timeout, so that the timeout alone never ends it. */
static void
trickle_script (FakeServer *server,
                int         fd)
{
  guint64 *trickled = server->data;

  fake_write (fd, "+OK hello\r\n");
  fake_expect_line (server, fd, "CAPA\r\n");
  fake_write (fd, "-ERR no CAPA\r\n");
  fake_expect_line (server, fd, "RETR 1\r\n");
  fake_write (fd, "+OK here it comes, slowly\r\n");
  /* Until Tern hangs up; a 10-minute bound keeps a broken client from
   * hanging the test forever. */
  for (guint i = 0; i < 6000; i++)
    {
      if (send (fd, "a\r\n", 3, MSG_NOSIGNAL) != 3)
        break;
      *trickled += 3;
      g_usleep (G_USEC_PER_SEC / 10);
    }
}

static void
test_pop3_trickle (void)
{
  g_autoptr(FakeServer) server = NULL;
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  const guint number = 1;
  guint64 trickled = 0;
  guint begun = 0;

  server = fake_server_start (trickle_script, &trickled);
  connection = fake_connection_new (server, TERN_TLS_MODE_PLAIN, NULL);
  tern_connection_set_io_timeout (connection, 1);
  client = tern_pop3_client_new (connection);
  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_retrieve_many (client, &number, 1, FALSE, pop3_begin_cb,
                                                  pop3_end_cb, &begun, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "so slowly"));
  g_assert_false (tern_connection_is_connected (connection));
  g_clear_object (&client);
  g_clear_object (&connection);
  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, "CAPA\r\nRETR 1\r\n");
  /* It stopped well before the script's own bound. */
  g_test_message ("the server trickled %" G_GUINT64_FORMAT " bytes", trickled);
  g_assert_cmpuint (trickled, <, 6000 * 3);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GString) lines = g_string_new (NULL);

  g_test_init (&argc, &argv, NULL);
  while (lines->len < 4096)
    g_string_append (lines, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
  filler_lines = lines->str;

  g_test_add_func ("/tern/hostile/limits/imap/huge-body", test_imap_huge_body);
  g_test_add_func ("/tern/hostile/limits/imap/huge-body-in-sync", test_imap_huge_body_in_sync);
  g_test_add_func ("/tern/hostile/limits/pop3/endless-retr", test_pop3_endless_retr);
  g_test_add_func ("/tern/hostile/limits/pop3/endless-top", test_pop3_endless_top);
  g_test_add_func ("/tern/hostile/limits/pop3/trickle", test_pop3_trickle);
  return g_test_run ();
}
