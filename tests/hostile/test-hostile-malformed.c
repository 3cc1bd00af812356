/* test-hostile-malformed.c: servers that send what no server should:
 * overlong lines, huge literals, deep nesting, NUL bytes, invalid UTF-8 and
 * modified UTF-7 names, endless continuations, a response cut off in the
 * middle, and data that never ends.  Tern must stay within its limits
 * (the error says which one, and the flood stops because Tern hung up),
 * report a clear error, and not crash; each case asserts what it sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-hostile-common.h"

#define SEND(text)          { FAKE_STEP_SEND, text, 0 }
#define SEND_BYTES(text)    { FAKE_STEP_SEND, text, sizeof text - 1 }
#define EXPECT(text)        { FAKE_STEP_EXPECT, text, 0 }
#define DRAIN               { FAKE_STEP_DRAIN, NULL, 0 }
#define TLS                 { FAKE_STEP_TLS, NULL, 0 }
#define FLOOD(text)         { FAKE_STEP_FLOOD, text, 0 }
#define END                 { FAKE_STEP_END, NULL, 0 }

/* Far more than any limit, far less than a test can afford. */
#define FLOOD_CEILING (256 * 1024 * 1024)

#define IMAP_PREAUTH "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n"

static TestCerts *certs;
static char *filler;   /* 4 KiB of 'a', for floods */
/* Every case runs in clear and again behind implicit TLS (the paths under
 * /tern/hostile/malformed/tls/), where the limits must hold the same. */
static TernTlsMode default_mode = TERN_TLS_MODE_PLAIN;

typedef struct {
  FakeDialogue dialogue;
  FakeStep *tls_steps;   /* the steps behind a TLS step, for implicit TLS */
  FakeServer *server;
  TernConnection *connection;
  GObject *client;
} Run;

static void
run_clear (Run *run)
{
  if (run->client != NULL)
    tern_connection_close (run->connection, NULL, NULL);
  g_clear_object (&run->client);
  g_clear_object (&run->connection);
  g_clear_pointer (&run->server, fake_server_free);
  g_clear_pointer (&run->tls_steps, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_start_mode (Run             *run,
                HostileProtocol  protocol,
                const FakeStep  *steps,
                TernTlsMode      mode)
{
  if (mode == TERN_TLS_MODE_IMPLICIT && steps[0].kind != FAKE_STEP_TLS)
    {
      gsize n = 0;

      while (steps[n].kind != FAKE_STEP_END)
        n++;
      run->tls_steps = g_new (FakeStep, n + 2);
      run->tls_steps[0] = (FakeStep) { FAKE_STEP_TLS, NULL, 0 };
      memcpy (run->tls_steps + 1, steps, (n + 1) * sizeof *steps);
      steps = run->tls_steps;
    }
  run->dialogue = (FakeDialogue) { steps, certs->good, certs->key, NULL, 0, 0 };
  run->server = fake_server_start_dialogue (&run->dialogue);
  run->connection = fake_connection_new (run->server, mode, certs->ca_file);
  /* A server that stops must not keep the test for long. */
  tern_connection_set_io_timeout (run->connection, 1);
  run->client = hostile_client_new (protocol, run->connection);
}

static void
run_start (Run             *run,
           HostileProtocol  protocol,
           const FakeStep  *steps)
{
  run_start_mode (run, protocol, steps, default_mode);
}

/* Ends the run and returns what the client sent, in clear or (for
 * implicit TLS) over TLS. */
static char *
run_finish (Run *run)
{
  g_autofree char *sent_tls = NULL;
  char *sent;

  tern_connection_close (run->connection, NULL, NULL);
  g_assert_finalize_object (g_steal_pointer (&run->client));
  g_clear_object (&run->connection);
  fake_server_join (run->server);
  sent = fake_received_text (run->server);
  sent_tls = fake_received_tls_text (run->server);
  if (*sent == '\0')
    {
      g_free (sent);
      sent = g_steal_pointer (&sent_tls);
    }
  g_clear_pointer (&run->server, fake_server_free);
  g_assert_cmpuint (run->dialogue.flooded, <, FLOOD_CEILING);
  return sent;
}

static void
assert_error_says (const GError *error,
                   const char   *says)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, says));
}

/* IMAP */

static TernImapClient *
imap (Run *run)
{
  return TERN_IMAP_CLIENT (run->client);
}

static void
test_imap_overlong_greeting (void)
{
  const FakeStep steps[] = { SEND ("* OK "), FLOOD (filler), END };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  g_assert_false (tern_imap_client_open (imap (&run), NULL, &error));
  assert_error_says (error, "longer than");
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "");
}

static void
test_imap_overlong_response (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"), SEND ("* OK [ALERT] "), FLOOD (filler), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  assert_error_says (error, "longer than");
  g_assert_false (tern_connection_is_connected (run.connection));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

/* A literal announced at 4 GB, and one that then never ends. */
static void
test_imap_huge_literal (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"),
    SEND ("* 1 FETCH (UID 1 BODY[HEADER] {4294967295}\r\n"), FLOOD (filler), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  assert_error_says (error, "longer than the limit");
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

static void
test_imap_deep_nesting (void)
{
  g_autofree char *parens = g_strnfill (1000, '(');
  g_autofree char *response = g_strconcat ("* 1 FETCH (UID 1 BODYSTRUCTURE ", parens, "\r\n",
                                           NULL);
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"), SEND (response), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  assert_error_says (error, "nested too deeply");
  g_assert_false (tern_connection_is_connected (run.connection));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

static void
test_imap_nul (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"),
    SEND_BYTES ("* 1 FETCH (UID 1 FLAGS (\\Se\0en))\r\nT1 OK done\r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

/* Names that are not what they claim: every name Tern keeps is valid
 * UTF-8 without NULs (bytes that are not UTF-8, and NUL, become U+FFFD),
 * a modified UTF-7 name that does not decode (unterminated, or encoding
 * plain ASCII) is kept as it is on the wire, and one that does decodes;
 * nothing else is sent. */
static void
test_imap_bad_names (void)
{
  static const char *const expected[][2] = {
    { "INBOX", "INBOX" },
    { "caf\xef\xbf\xbd", "caf\xef\xbf\xbd" },
    { "\xef\xbf\xbd\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd" },
    { "&Jjo", "&Jjo" },
    { "&AGEAYgBj-", "&AGEAYgBj-" },
    { "\xf0\x9f\x98\x80", "&2D3eAA-" },
    { "&&", "&-&-" },
    { "a\xef\xbf\xbd" "b", "a\xef\xbf\xbd" "b" },
  };
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 LIST \"\" \"*\"\r\n"),
    SEND_BYTES ("* LIST () \"/\" INBOX\r\n"
                "* LIST () \"/\" \"caf\xc3\"\r\n"
                "* LIST () \"/\" \"\xff\xfe\"\r\n"
                "* LIST () \"/\" &Jjo\r\n"
                "* LIST () \"/\" &AGEAYgBj-\r\n"
                "* LIST () \"/\" &2D3eAA-\r\n"
                "* LIST () \"/\" &-&-\r\n"
                "* LIST () \"/\" {3}\r\na\0b\r\n"
                "T1 OK done\r\n"),
    EXPECT ("T2 LSUB \"\" \"*\"\r\n"), SEND ("T2 OK done\r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  mailboxes = tern_imap_client_list (imap (&run), 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailboxes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = mailboxes->pdata[i];

      g_assert_true (g_utf8_validate (mailbox->name, -1, NULL));
      g_assert_cmpstr (mailbox->name, ==, expected[i][0]);
      g_assert_cmpstr (mailbox->raw_name, ==, expected[i][1]);
    }
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 LIST \"\" \"*\"\r\nT2 LSUB \"\" \"*\"\r\n");
}

/* A continuation request to a command that has no literal, again and
 * again: the command fails at the first, nothing is sent in answer. */
static void
test_imap_endless_continuations (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"), FLOOD ("+ more\r\n"), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

/* AUTHENTICATE PLAIN has one step; a server that keeps asking gets the
 * credentials once and then the command is cancelled or the connection
 * dropped, never a second copy. */
static void
test_imap_endless_sasl (void)
{
  const FakeStep steps[] = {
    SEND ("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hello\r\n"),
    EXPECT ("T1 AUTHENTICATE PLAIN\r\n"), SEND ("+ \r\n"), EXPECT (NULL),
    SEND ("+ \r\n"), SEND ("+ \r\n"), SEND ("+ \r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_auto(GStrv) lines = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_login (imap (&run), "alice", HOSTILE_PASSWORD, "PLAIN", FALSE,
                                          NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_test_message ("sent: %s", sent);
  lines = g_strsplit (sent, "\r\n", -1);
  g_assert_cmpstr (lines[0], ==, "T1 AUTHENTICATE PLAIN");
  /* The credentials once; after that at most the "*" that cancels. */
  g_assert_cmpuint (g_strv_length (lines), <=, 4);
  if (g_strv_length (lines) == 4)
    g_assert_cmpstr (lines[2], ==, "*");
}

/* Tagged answers to commands never sent, without end: refused at the
 * first, not kept. */
static void
test_imap_endless_tagged (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"), FLOOD ("T9 OK done\r\nX1 OK done\r\n"), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_false (tern_connection_is_connected (run.connection));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

/* A folder list without end: cut off at a bound, not kept growing.  Long
 * names reach it in fewer responses. */
static void
test_imap_endless_list (void)
{
  g_autofree char *name = g_strnfill (60000, 'n');
  g_autofree char *long_list = g_strdup_printf ("* LIST () \"/\" %s\r\n", name);
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 LIST \"\" \"*\"\r\n"), FLOOD (long_list), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  mailboxes = tern_imap_client_list (imap (&run), 0, NULL, &error);
  g_assert_null (mailboxes);
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  assert_error_says (error, "more folders than any account has");
  g_assert_false (tern_connection_is_connected (run.connection));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 LIST \"\" \"*\"\r\n");
}

static void
test_imap_stops_mid_response (void)
{
  const FakeStep steps[] = {
    SEND (IMAP_PREAUTH), EXPECT ("T1 NOOP\r\n"), SEND ("* 1 FETCH (UID 1 FLA"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_IMAP, steps);
  tern_imap_client_open (imap (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (imap (&run), NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "T1 NOOP\r\n");
}

/* POP3 */

static TernPop3Client *
pop3 (Run *run)
{
  return TERN_POP3_CLIENT (run->client);
}

static void
test_pop3_overlong_line (void)
{
  const FakeStep steps[] = { SEND ("+OK "), FLOOD (filler), END };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_POP3, steps);
  g_assert_false (tern_pop3_client_open (pop3 (&run), NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "");
}

/* A CAPA answer that never ends: the list is cut at a bound.  Long lines
 * reach it sooner. */
static void
test_pop3_endless_list (void)
{
  g_autofree char *capability = g_strnfill (8000, 'X');
  g_autofree char *long_line = g_strconcat (capability, "\r\n", NULL);
  const FakeStep steps[] = {
    SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("+OK\r\n"), FLOOD (long_line), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_POP3, steps);
  g_assert_false (tern_pop3_client_open (pop3 (&run), NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PROTOCOL);
  assert_error_says (error, "longer list than any mailbox has");
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "CAPA\r\n");
}

static void
test_pop3_nul (void)
{
  const FakeStep steps[] = {
    SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"),
    SEND_BYTES ("+OK\r\nUI\0DL\r\nSASL PL\0AIN\r\n.\r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_POP3, steps);
  tern_pop3_client_open (pop3 (&run), NULL, &error);
  g_assert_no_error (error);
  /* "UI\0DL" is not UIDL, nor is "PL\0AIN" a mechanism. */
  g_assert_false (tern_pop3_client_has_uidl (pop3 (&run)));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "CAPA\r\n");
}

static void
test_pop3_stops_mid_response (void)
{
  const FakeStep steps[] = {
    SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("+OK\r\nUID"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_POP3, steps);
  g_assert_false (tern_pop3_client_open (pop3 (&run), NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "CAPA\r\n");
}

/* SASL challenges that never end. */
static void
test_pop3_endless_sasl (void)
{
  const FakeStep steps[] = {
    SEND ("+OK hello\r\n"), EXPECT ("CAPA\r\n"), SEND ("+OK\r\nSASL PLAIN\r\n.\r\n"),
    EXPECT (NULL), SEND ("+ \r\n"), SEND ("+ \r\n"), SEND ("+ \r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_auto(GStrv) lines = NULL;

  run_start (&run, HOSTILE_POP3, steps);
  tern_pop3_client_open (pop3 (&run), NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_login (pop3 (&run), "alice", HOSTILE_PASSWORD, "PLAIN", NULL,
                                          &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_test_message ("sent: %s", sent);
  lines = g_strsplit (sent, "\r\n", -1);
  g_assert_cmpstr (lines[0], ==, "CAPA");
  g_assert_true (g_str_has_prefix (lines[1], "AUTH PLAIN"));
  g_assert_cmpuint (g_strv_length (lines), <=, 4);
  if (g_strv_length (lines) == 4)
    g_assert_cmpstr (lines[2], ==, "*");
}

/* SMTP */

static TernSmtpClient *
smtp (Run *run)
{
  return TERN_SMTP_CLIENT (run->client);
}

static void
test_smtp_overlong_line (void)
{
  const FakeStep steps[] = { SEND ("220 "), FLOOD (filler), END };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_SMTP, steps);
  g_assert_false (tern_smtp_client_open (smtp (&run), HOSTILE_DOMAIN, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "");
}

/* A multi-line reply that never ends. */
static void
test_smtp_endless_reply (void)
{
  const FakeStep steps[] = {
    SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"), FLOOD ("250-X\r\n"), END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_SMTP, steps);
  g_assert_false (tern_smtp_client_open (smtp (&run), HOSTILE_DOMAIN, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "EHLO " HOSTILE_DOMAIN "\r\n");
}

static void
test_smtp_garbage (void)
{
  const FakeStep steps[] = {
    SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
    SEND_BYTES ("25\0-fake\r\n2x0 \xff\xfe\r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_SMTP, steps);
  g_assert_false (tern_smtp_client_open (smtp (&run), HOSTILE_DOMAIN, NULL, &error));
  g_assert_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PROTOCOL);
  g_test_message ("%s", error->message);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "EHLO " HOSTILE_DOMAIN "\r\n");
}

static void
test_smtp_endless_sasl (void)
{
  /* PLAIN only over TLS. */
  const FakeStep steps[] = {
    TLS, SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"),
    SEND ("250-fake\r\n250 AUTH PLAIN\r\n"), EXPECT (NULL),
    SEND ("334 \r\n"), SEND ("334 \r\n"), SEND ("334 \r\n"), DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_auto(GStrv) lines = NULL;

  run_start_mode (&run, HOSTILE_SMTP, steps, TERN_TLS_MODE_IMPLICIT);
  tern_smtp_client_open (smtp (&run), HOSTILE_DOMAIN, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_smtp_client_login (smtp (&run), "alice", HOSTILE_PASSWORD, "PLAIN", NULL,
                                          &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_test_message ("sent: %s", sent);
  lines = g_strsplit (sent, "\r\n", -1);
  g_assert_cmpstr (lines[0], ==, "EHLO " HOSTILE_DOMAIN);
  g_assert_true (g_str_has_prefix (lines[1], "AUTH PLAIN"));
  g_assert_cmpuint (g_strv_length (lines), <=, 4);
  if (g_strv_length (lines) == 4)
    g_assert_cmpstr (lines[2], ==, "*");
}

static void
test_smtp_stops_mid_response (void)
{
  const FakeStep steps[] = {
    SEND ("220 fake\r\n"), EXPECT ("EHLO " HOSTILE_DOMAIN "\r\n"), SEND ("250-fake\r\n25"),
    DRAIN, END,
  };
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  run_start (&run, HOSTILE_SMTP, steps);
  g_assert_false (tern_smtp_client_open (smtp (&run), HOSTILE_DOMAIN, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  sent = run_finish (&run);
  g_assert_cmpstr (sent, ==, "EHLO " HOSTILE_DOMAIN "\r\n");
}

static void
run_over_tls (gconstpointer data)
{
  GTestFunc test = (GTestFunc) data;

  default_mode = TERN_TLS_MODE_IMPLICIT;
  test ();
  default_mode = TERN_TLS_MODE_PLAIN;
}

/* In clear at /tern/hostile/malformed/@name, over TLS at …/tls/@name. */
static void
add_test (const char *name,
          GTestFunc   test)
{
  g_autofree char *plain = g_strconcat ("/tern/hostile/malformed/", name, NULL);
  g_autofree char *tls = g_strconcat ("/tern/hostile/malformed/tls/", name, NULL);

  g_test_add_func (plain, test);
  g_test_add_data_func (tls, (gconstpointer) test, run_over_tls);
}

int
main (int    argc,
      char **argv)
{
  int result;

  g_test_init (&argc, &argv, NULL);
  gnutls_global_init ();
  certs = test_certs_new ();
  filler = g_strnfill (4096, 'a');

  add_test ("imap/overlong-greeting", test_imap_overlong_greeting);
  add_test ("imap/overlong-response", test_imap_overlong_response);
  add_test ("imap/huge-literal", test_imap_huge_literal);
  add_test ("imap/deep-nesting", test_imap_deep_nesting);
  add_test ("imap/nul", test_imap_nul);
  add_test ("imap/bad-names", test_imap_bad_names);
  add_test ("imap/endless-continuations", test_imap_endless_continuations);
  add_test ("imap/endless-sasl", test_imap_endless_sasl);
  add_test ("imap/endless-tagged", test_imap_endless_tagged);
  add_test ("imap/endless-list", test_imap_endless_list);
  add_test ("imap/stops-mid-response", test_imap_stops_mid_response);
  add_test ("pop3/overlong-line", test_pop3_overlong_line);
  add_test ("pop3/endless-list", test_pop3_endless_list);
  add_test ("pop3/nul", test_pop3_nul);
  add_test ("pop3/endless-sasl", test_pop3_endless_sasl);
  add_test ("pop3/stops-mid-response", test_pop3_stops_mid_response);
  add_test ("smtp/overlong-line", test_smtp_overlong_line);
  add_test ("smtp/endless-reply", test_smtp_endless_reply);
  add_test ("smtp/garbage", test_smtp_garbage);
  add_test ("smtp/endless-sasl", test_smtp_endless_sasl);
  add_test ("smtp/stops-mid-response", test_smtp_stops_mid_response);

  result = g_test_run ();
  g_free (filler);
  test_certs_free (certs);
  gnutls_global_deinit ();
  return result;
}
