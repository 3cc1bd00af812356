/* test-imap-client-fake.c: TernImapClient against scripted servers, for
 * what a real server cannot be made to do: skip or refuse STARTTLS, greet
 * with PREAUTH on a connection that must be encrypted, forge an ALERT in
 * clear, send a REFERRAL, drop the connection in the middle of a FETCH,
 * or lack LITERAL+.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "tern-imap-client.h"
#include "test-fake-server.h"

#define MODERN "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static TestCerts *certs;

static TernImapClient *
client_for (FakeServer  *server,
            TernTlsMode  mode)
{
  g_autoptr(TernConnection) connection = fake_connection_new (server, mode, certs->ca_file);

  return tern_imap_client_new (connection);
}

/* STARTTLS refused in every way: nothing but what the script expects is
 * ever sent, and never credentials. */

static void
preauth_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in already\r\n");
  fake_drain (server, fd);
}

static void
no_starttls_script (FakeServer *server,
                    int         fd)
{
  fake_write (fd, "* OK hello\r\n");
  fake_expect_line (server, fd, "T1 CAPABILITY\r\n");
  fake_write (fd, "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN\r\nT1 OK done\r\n");
  fake_drain (server, fd);
}

static void
starttls_no_script (FakeServer *server,
                    int         fd)
{
  g_autofree char *reply = g_strdup_printf ("T1 %s not today\r\n", (const char *) server->data);

  fake_write (fd, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hello\r\n");
  fake_expect_line (server, fd, "T1 STARTTLS\r\n");
  fake_write (fd, reply);
  fake_drain (server, fd);
}

static void
assert_refused (FakeServer *server,
                const char *expected_sent)
{
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;

  g_assert_false (tern_imap_client_open (client, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_STARTTLS_REFUSED);
  g_test_message ("%s", error->message);
  g_assert_false (tern_connection_is_connected (tern_imap_client_get_connection (client)));
  g_clear_error (&error);

  /* A careless caller goes on: nothing is sent. */
  g_assert_false (tern_imap_client_login (client, "alice", "secret", NULL, FALSE, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  fake_server_join (server);
  sent = fake_received_text (server);
  g_assert_cmpstr (sent, ==, expected_sent);
  g_assert_null (strstr (sent, "secret"));
  g_assert_null (strstr (sent, "LOGIN"));
  g_assert_null (strstr (sent, "AUTHENTICATE"));
  g_assert_finalize_object (g_steal_pointer (&client));
}

static void
test_preauth_on_starttls (void)
{
  g_autoptr(FakeServer) server = fake_server_start (preauth_script, NULL);

  assert_refused (server, "");
}

static void
test_starttls_missing (void)
{
  g_autoptr(FakeServer) server = fake_server_start (no_starttls_script, NULL);

  assert_refused (server, "T1 CAPABILITY\r\n");
}

static void
test_starttls_no (void)
{
  g_autoptr(FakeServer) server = fake_server_start (starttls_no_script, "NO");

  assert_refused (server, "T1 STARTTLS\r\n");
}

static void
test_starttls_bad (void)
{
  g_autoptr(FakeServer) server = fake_server_start (starttls_no_script, "BAD");

  assert_refused (server, "T1 STARTTLS\r\n");
}

/* ALERTs: the one sent in clear before STARTTLS could be anyone's. */

static void
alert_script (FakeServer *server,
              int         fd)
{
  FakeTls tls = { 0 };
  g_autofree char *line = NULL;

  fake_write (fd, "* OK [ALERT] forged in clear\r\n");
  fake_expect_line (server, fd, "T1 CAPABILITY\r\n");
  fake_write (fd, "* CAPABILITY IMAP4rev1 STARTTLS\r\nT1 OK done\r\n");
  fake_expect_line (server, fd, "T2 STARTTLS\r\n");
  fake_write (fd, "T2 OK begin TLS\r\n");
  g_assert_cmpint (fake_tls_start (&tls, fd, certs->good, certs->key, MODERN), ==, 0);
  line = fake_tls_read_line (&tls);
  g_assert_cmpstr (line, ==, "T3 CAPABILITY\r\n");
  fake_tls_write (&tls, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* OK [ALERT] the real one\r\n"
                        "T3 OK done\r\n");
  g_clear_pointer (&line, g_free);
  line = fake_tls_read_line (&tls);
  g_assert_cmpstr (line, ==, "T4 LOGOUT\r\n");
  fake_tls_write (&tls, "* BYE bye\r\nT4 OK done\r\n");
  fake_tls_finish (&tls);
}

static void
alert_cb (const char *text,
          gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup (text));
}

static void
test_alert_only_over_tls (void)
{
  g_autoptr(FakeServer) server = fake_server_start (alert_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_STARTTLS);
  g_autoptr(GPtrArray) alerts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  TernImapClientEvents events = { .alert = alert_cb };

  tern_imap_client_set_events (client, &events, alerts);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_imap_client_has_capability (client, "AUTH=PLAIN"));
  g_assert_false (tern_imap_client_has_capability (client, "STARTTLS"));
  tern_imap_client_logout (client, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (alerts->len, ==, 1);
  g_assert_cmpstr (alerts->pdata[0], ==, "the real one");
  fake_server_join (server);
}

/* A referral names another server; Tern never goes there. */

static void
referral_script (FakeServer *server,
                 int         fd)
{
  g_autofree char *reply = g_strdup_printf ("T1 NO [REFERRAL imap://alice@127.0.0.1:%u/] "
                                            "Try the other server\r\n",
                                            GPOINTER_TO_UINT (server->data));
  g_autofree char *line = NULL;

  fake_write (fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hello\r\n");
  line = fake_read_line (server, fd);
  g_assert_true (g_str_has_prefix (line, "T1 AUTHENTICATE PLAIN "));
  fake_write (fd, reply);
  fake_drain (server, fd);
}

static void
test_referral_not_followed (void)
{
  g_autoptr(GSocket) other = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) accepted = NULL;
  g_autoptr(FakeServer) server = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  guint16 other_port;

  /* The server the referral points to: nobody may connect to it. */
  other = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_bind (other, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (other, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (other, &error);
  other_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_set_blocking (other, FALSE);

  server = fake_server_start (referral_script, GUINT_TO_POINTER (other_port));
  client = client_for (server, TERN_TLS_MODE_PLAIN);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_login (client, "alice", "secret", "PLAIN", FALSE, NULL,
                                          &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Try the other server"));
  g_clear_error (&error);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);

  accepted = g_socket_accept (other, NULL, &error);
  g_assert_null (accepted);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
}

/* The connection dies in the middle of a FETCH. */

static void
drop_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n");
  fake_expect_line (server, fd, "T1 SELECT INBOX\r\n");
  fake_write (fd, "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 4] x\r\n"
                  "T1 OK [READ-WRITE] done\r\n");
  fake_expect_line (server, fd, "T2 UID FETCH 1:* (UID FLAGS)\r\n");
  fake_write (fd, "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2 FLA");
}

static gboolean
count_cb (TernImapMessage  *message,
          gpointer          user_data,
          GError          **error)
{
  (*(guint *) user_data)++;
  return TRUE;
}

static void
test_drop_mid_fetch (void)
{
  g_autoptr(FakeServer) server = fake_server_start (drop_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(TernImapSet) all = tern_imap_set_new ();
  g_autoptr(GError) error = NULL;
  TernImapSelected selected;
  guint count = 0;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_select (client, "INBOX", FALSE, NULL, &selected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (selected.exists, ==, 3);
  g_assert_cmpuint (selected.uidvalidity, ==, 7);
  g_assert_cmpuint (selected.uidnext, ==, 4);
  tern_imap_selected_clear (&selected);

  tern_imap_set_add_range (all, 1, G_MAXUINT32);
  g_assert_false (tern_imap_client_fetch (client, all, TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS,
                                          0, count_cb, &count, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (count, ==, 1);
  g_assert_null (tern_imap_client_get_selected (client));
  g_clear_error (&error);

  g_assert_false (tern_imap_client_noop (client, NULL, &error));
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED);
  fake_server_join (server);
  g_assert_finalize_object (g_steal_pointer (&client));
}

/* Without LITERAL+, a literal waits for the server's go-ahead. */

static void
literal_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hello\r\n");
  fake_expect_line (server, fd, "T1 APPEND INBOX (\\Seen) {4}\r\n");
  fake_write (fd, "+ go ahead\r\n");
  fake_expect_line (server, fd, "Hi\r\n");
  fake_expect_line (server, fd, "\r\n");
  fake_write (fd, "* 1 EXISTS\r\nT1 OK [APPENDUID 5 9] done\r\n");
  fake_expect_line (server, fd, "T2 CREATE \"a \\\"b\\\"\"\r\n");
  fake_write (fd, "T2 OK done\r\n");
  fake_expect_line (server, fd, "T3 CREATE &BB8EQAQ+BDUEOgRCBEs-/2026\r\n");
  fake_write (fd, "T3 NO [ALREADYEXISTS] it exists\r\n");
  fake_expect_line (server, fd, "T4 APPEND INBOX () {4}\r\n");
  fake_write (fd, "T4 NO [OVERQUOTA] Mailbox is full\r\n");
  fake_expect_line (server, fd, "T5 NOOP\r\n");
  fake_write (fd, "T5 OK done\r\n");
  fake_drain (server, fd);
}

static void
test_sync_literal (void)
{
  g_autoptr(FakeServer) server = fake_server_start (literal_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GBytes) message = g_bytes_new_static ("Hi\r\n", 4);
  g_autoptr(GError) error = NULL;
  guint32 uidvalidity = 0, uid = 0;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_append (client, "INBOX", TERN_IMAP_FLAG_SEEN, 0, message, &uidvalidity, &uid,
                           NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, ==, 5);
  g_assert_cmpuint (uid, ==, 9);

  tern_imap_client_create (client, "a \"b\"", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_create (client, "Проекты/2026", NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO);
  g_assert_true (g_str_has_suffix (error->message,
                                   "refused CREATE Проекты/2026: [ALREADYEXISTS] it exists"));
  g_clear_error (&error);

  /* Refused before the literal: nothing of it is sent, the session goes on. */
  g_assert_false (tern_imap_client_append (client, "INBOX", 0, 0, message, NULL, NULL, NULL,
                                           &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO);
  g_assert_nonnull (strstr (error->message, "[OVERQUOTA] Mailbox is full"));
  g_clear_error (&error);
  tern_imap_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* LOGINDISABLED: no LOGIN, and with no mechanism offered, nothing at all. */

static void
logindisabled_script (FakeServer *server,
                      int         fd)
{
  fake_write (fd, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hello\r\n");
  fake_drain (server, fd);
}

static void
test_logindisabled (void)
{
  g_autoptr(FakeServer) server = fake_server_start (logindisabled_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_login (client, "alice", "secret", NULL, FALSE, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_UNAVAILABLE);
  g_test_message ("%s", error->message);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
  g_assert_cmpuint (server->received->len, ==, 0);
}

/* Without QRESYNC, EXPUNGE is mapped to a UID when the client knows the
 * mailbox's UIDs, and reported as a new count when it does not. */

static void
expunge_script (FakeServer *server,
                int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n");
  fake_expect_line (server, fd, "T1 SELECT INBOX\r\n");
  fake_write (fd, "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\nT1 OK [READ-WRITE] done\r\n");
  fake_expect_line (server, fd, "T2 UID SEARCH ALL\r\n");
  fake_write (fd, "* SEARCH 10 20 30\r\nT2 OK done\r\n");
  fake_expect_line (server, fd, "T3 NOOP\r\n");
  fake_write (fd, "* 2 EXPUNGE\r\n* 3 EXISTS\r\n* 3 EXPUNGE\r\n"
                  "* 1 FETCH (UID 10 FLAGS (\\Flagged))\r\nT3 OK done\r\n");
  fake_drain (server, fd);
}

typedef struct
{
  GString *log;
} ExpungeEvents;

static void
expunge_exists_cb (guint32  count,
                   gpointer user_data)
{
  g_string_append_printf (((ExpungeEvents *) user_data)->log, "exists %u;", count);
}

static void
expunge_vanished_cb (const TernImapSet *uids,
                     gpointer           user_data)
{
  g_autofree char *text = tern_imap_set_to_string (uids);

  g_string_append_printf (((ExpungeEvents *) user_data)->log, "vanished %s;", text);
}

static void
expunge_fetch_cb (const TernImapMessage *message,
                  gpointer               user_data)
{
  g_string_append_printf (((ExpungeEvents *) user_data)->log, "fetch %u %x;",
                          message->uid, message->flags);
}

static void
test_expunge_mapping (void)
{
  g_autoptr(FakeServer) server = fake_server_start (expunge_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(GError) error = NULL;
  TernImapClientEvents funcs = { expunge_exists_cb, expunge_vanished_cb, expunge_fetch_cb, NULL };
  ExpungeEvents events = { g_string_new (NULL) };
  TernImapSelected selected;

  tern_imap_client_set_events (client, &funcs, &events);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_select (client, "INBOX", FALSE, NULL, &selected, NULL, &error);
  g_assert_no_error (error);
  tern_imap_selected_clear (&selected);
  uids = tern_imap_client_search_uids (client, NULL, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_noop (client, NULL, &error);
  g_assert_no_error (error);

  /* UID 20 went; then a message whose UID is unknown arrived and went. */
  g_assert_cmpstr (events.log->str, ==, "vanished 20;exists 3;exists 2;fetch 10 4;");
  g_string_free (events.log, TRUE);
  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* A BYE before the connection closes explains why. */

static void
bye_script (FakeServer *server,
            int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n");
  fake_expect_line (server, fd, "T1 NOOP\r\n");
  fake_write (fd, "* BYE Server shutting down for maintenance\r\n");
}

static void
test_bye (void)
{
  g_autoptr(FakeServer) server = fake_server_start (bye_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GError) error = NULL;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_imap_client_noop (client, NULL, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Server shutting down for maintenance"));
  fake_server_join (server);
  g_assert_finalize_object (g_steal_pointer (&client));
}

/* Without LIST-EXTENDED, LSUB marks the subscribed mailboxes, and STATUS
 * (no LIST-STATUS) fills in the counts. */

static void
lsub_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1] hello\r\n");
  fake_expect_line (server, fd, "T1 LIST \"\" \"*\"\r\n");
  fake_write (fd, "* LIST (\\HasNoChildren) \".\" INBOX\r\n"
                  "* LIST (\\HasNoChildren) \".\" \"&BB8EQAQ+BDUEOgRCBEs-\"\r\n"
                  "* LIST (\\Noselect \\HasChildren) \".\" Old\r\n"
                  "T1 OK done\r\n");
  fake_expect_line (server, fd, "T2 LSUB \"\" \"*\"\r\n");
  fake_write (fd, "* LSUB () \".\" &BB8EQAQ+BDUEOgRCBEs-\r\nT2 OK done\r\n");
  fake_expect_line (server, fd, "T3 STATUS INBOX (MESSAGES UIDNEXT)\r\n");
  fake_write (fd, "* STATUS INBOX (MESSAGES 12 UIDNEXT 40)\r\nT3 OK done\r\n");
  fake_expect_line (server, fd, "T4 STATUS &BB8EQAQ+BDUEOgRCBEs- (MESSAGES UIDNEXT)\r\n");
  fake_write (fd, "* STATUS &BB8EQAQ+BDUEOgRCBEs- (MESSAGES 3 UIDNEXT 4)\r\nT4 OK done\r\n");
  fake_drain (server, fd);
}

static void
test_list_lsub (void)
{
  g_autoptr(FakeServer) server = fake_server_start (lsub_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GError) error = NULL;
  TernImapMailbox *mailbox;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  mailboxes = tern_imap_client_list (client, TERN_IMAP_STATUS_MESSAGES | TERN_IMAP_STATUS_UIDNEXT,
                                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mailboxes->len, ==, 3);

  mailbox = mailboxes->pdata[0];
  g_assert_cmpstr (mailbox->name, ==, "INBOX");
  g_assert_false (mailbox->attributes & TERN_IMAP_MAILBOX_SUBSCRIBED);
  g_assert_cmpuint (mailbox->status.messages, ==, 12);
  g_assert_cmpuint (mailbox->status.uidnext, ==, 40);
  mailbox = mailboxes->pdata[1];
  g_assert_cmpstr (mailbox->name, ==, "Проекты");
  g_assert_true (mailbox->attributes & TERN_IMAP_MAILBOX_SUBSCRIBED);
  g_assert_cmpuint (mailbox->status.messages, ==, 3);
  mailbox = mailboxes->pdata[2];
  g_assert_true (mailbox->attributes & TERN_IMAP_MAILBOX_NOSELECT);
  g_assert_cmpuint (mailbox->status.present, ==, 0);

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

/* Without MOVE: COPY, mark deleted, UID EXPUNGE just those (UIDPLUS). */

static void
move_script (FakeServer *server,
             int         fd)
{
  fake_write (fd, "* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hello\r\n");
  fake_expect_line (server, fd, "T1 SELECT INBOX\r\n");
  fake_write (fd, "* 2 EXISTS\r\n* OK [UIDVALIDITY 3] x\r\nT1 OK [READ-WRITE] done\r\n");
  fake_expect_line (server, fd, "T2 UID COPY 1:2 Trash\r\n");
  fake_write (fd, "T2 OK [COPYUID 9 1:2 5:6] copied\r\n");
  fake_expect_line (server, fd, "T3 UID STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n");
  fake_write (fd, "T3 OK done\r\n");
  fake_expect_line (server, fd, "T4 UID EXPUNGE 1:2\r\n");
  fake_write (fd, "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nT4 OK done\r\n");
  fake_drain (server, fd);
}

static void
test_move_without_move (void)
{
  g_autoptr(FakeServer) server = fake_server_start (move_script, NULL);
  g_autoptr(TernImapClient) client = client_for (server, TERN_TLS_MODE_PLAIN);
  g_autoptr(TernImapSet) uids = tern_imap_set_parse ("1:2");
  g_autoptr(TernImapSet) source = NULL;
  g_autoptr(TernImapSet) dest = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dest_text = NULL;
  TernImapSelected selected;
  guint32 uidvalidity = 0;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_select (client, "INBOX", FALSE, NULL, &selected, NULL, &error);
  g_assert_no_error (error);
  tern_imap_selected_clear (&selected);
  tern_imap_client_copy (client, uids, "Trash", TRUE, &uidvalidity, &source, &dest, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, ==, 9);
  dest_text = tern_imap_set_to_string (dest);
  g_assert_cmpstr (dest_text, ==, "5:6");

  g_object_unref (g_steal_pointer (&client));
  fake_server_join (server);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  certs = test_certs_new ();

  g_test_add_func ("/tern/imap/client/fake/preauth-on-starttls", test_preauth_on_starttls);
  g_test_add_func ("/tern/imap/client/fake/starttls-missing", test_starttls_missing);
  g_test_add_func ("/tern/imap/client/fake/starttls-no", test_starttls_no);
  g_test_add_func ("/tern/imap/client/fake/starttls-bad", test_starttls_bad);
  g_test_add_func ("/tern/imap/client/fake/alert-only-over-tls", test_alert_only_over_tls);
  g_test_add_func ("/tern/imap/client/fake/referral-not-followed", test_referral_not_followed);
  g_test_add_func ("/tern/imap/client/fake/drop-mid-fetch", test_drop_mid_fetch);
  g_test_add_func ("/tern/imap/client/fake/sync-literal", test_sync_literal);
  g_test_add_func ("/tern/imap/client/fake/logindisabled", test_logindisabled);
  g_test_add_func ("/tern/imap/client/fake/expunge-mapping", test_expunge_mapping);
  g_test_add_func ("/tern/imap/client/fake/bye", test_bye);
  g_test_add_func ("/tern/imap/client/fake/list-lsub", test_list_lsub);
  g_test_add_func ("/tern/imap/client/fake/move-without-move", test_move_without_move);

  ret = g_test_run ();
  test_certs_free (certs);
  return ret;
}
