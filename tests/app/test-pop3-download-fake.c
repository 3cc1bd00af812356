/* test-pop3-download-fake.c: tern_pop3_download_account() against a
 * scripted POP3 server, for what Dovecot cannot be made to do: lack UIDL
 * (and TOP), rewrite a header once a message is read the way mbox servers
 * do, hold two byte-identical messages, answer [IN-USE] or [LOGIN-DELAY],
 * cut the connection in the middle of a pipeline of RETRs.  And the
 * pop3_seen migration of a profile from before it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <gmime/gmime.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>

#include "tern-context.h"
#include "tern-mail-store.h"
#include "tern-pop3-download.h"
#include "tern-test-util.h"
#include "test-fake-server.h"

/* The scripted server: a maildrop that lives across its sessions. */

typedef struct
{
  const char *text;  /* CRLF lines, no line starting with "." */
  gboolean read;     /* RETRieved once: "Status: O" becomes "Status: RO" */
  gboolean deleted;  /* by a QUIT after DELE */
} FakeMessage;

typedef struct
{
  const char *capa;      /* the lines of CAPA's answer; NULL: CAPA is -ERR */
  gboolean uidl;         /* else UIDL is -ERR */
  gboolean top;          /* else TOP is -ERR */
  const char *pass_err;  /* PASS answered "-ERR " and this */
  FakeMessage messages[4];
  guint n_messages;
} Maildrop;

static char *
render (const FakeMessage *message)
{
  GString *text = g_string_new (message->text);

  if (message->read)
    g_string_replace (text, "Status: O\r\n", "Status: RO\r\n", 0);
  return g_string_free (text, FALSE);
}

static char *
header_of (const FakeMessage *message)
{
  g_autofree char *text = render (message);
  const char *end = strstr (text, "\r\n\r\n");

  return g_strndup (text, end != NULL ? (gsize) (end + 4 - text) : strlen (text));
}

/* The message with number @arg in this session, or NULL. */
static FakeMessage *
message_for (Maildrop   *maildrop,
             GPtrArray  *session,
             const char *arg)
{
  guint64 number = g_ascii_strtoull (arg, NULL, 10);

  if (number == 0 || number > session->len)
    return NULL;
  return g_ptr_array_index (session, number - 1);
}

static void
write_list (int        fd,
            GPtrArray *session,
            gboolean   uidl)
{
  GString *out = g_string_new ("+OK\r\n");

  for (guint i = 0; i < session->len; i++)
    {
      FakeMessage *message = g_ptr_array_index (session, i);

      if (uidl)
        g_string_append_printf (out, "%u uid-%p\r\n", i + 1, (void *) message);
      else
        g_string_append_printf (out, "%u %zu\r\n", i + 1, strlen (message->text));
    }
  g_string_append (out, ".\r\n");
  fake_write (fd, out->str);
  g_string_free (out, TRUE);
}

/* One session: answers until QUIT or the client goes away. */
static void
maildrop_script (FakeServer *server,
                 int         fd)
{
  Maildrop *maildrop = server->data;
  g_autoptr(GPtrArray) session = g_ptr_array_new ();
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();

  for (guint i = 0; i < maildrop->n_messages; i++)
    if (!maildrop->messages[i].deleted)
      g_ptr_array_add (session, &maildrop->messages[i]);

  fake_write (fd, "+OK ready\r\n");
  for (;;)
    {
      g_autofree char *line = fake_read_line (server, fd);
      g_auto(GStrv) words = NULL;
      const char *arg;
      FakeMessage *message;

      if (!g_str_has_suffix (line, "\r\n"))
        return;
      line[strlen (line) - 2] = '\0';
      words = g_strsplit (line, " ", 3);
      arg = words[0] != NULL && words[1] != NULL ? words[1] : "";
      message = message_for (maildrop, session, arg);

      if (g_str_equal (line, "CAPA") && maildrop->capa != NULL)
        {
          g_autofree char *reply = g_strdup_printf ("+OK\r\n%s.\r\n", maildrop->capa);

          fake_write (fd, reply);
        }
      else if (g_str_equal (words[0], "USER"))
        fake_write (fd, "+OK\r\n");
      else if (g_str_equal (words[0], "PASS") && maildrop->pass_err != NULL)
        {
          g_autofree char *reply = g_strdup_printf ("-ERR %s\r\n", maildrop->pass_err);

          fake_write (fd, reply);
          return;
        }
      else if (g_str_equal (words[0], "PASS"))
        fake_write (fd, "+OK signed in\r\n");
      else if (g_str_equal (line, "LIST") || (g_str_equal (line, "UIDL") && maildrop->uidl))
        write_list (fd, session, g_str_equal (line, "UIDL"));
      else if (g_str_equal (words[0], "TOP") && maildrop->top && message != NULL)
        {
          g_autofree char *header = header_of (message);
          g_autofree char *reply = g_strdup_printf ("+OK\r\n%s.\r\n", header);

          fake_write (fd, reply);
        }
      else if (g_str_equal (words[0], "RETR") && message != NULL)
        {
          g_autofree char *text = render (message);
          g_autofree char *reply = g_strdup_printf ("+OK\r\n%s.\r\n", text);

          message->read = TRUE;
          fake_write (fd, reply);
        }
      else if (g_str_equal (words[0], "DELE") && message != NULL)
        {
          g_ptr_array_add (doomed, message);
          fake_write (fd, "+OK\r\n");
        }
      else if (g_str_equal (line, "RSET"))
        {
          g_ptr_array_set_size (doomed, 0);
          fake_write (fd, "+OK\r\n");
        }
      else if (g_str_equal (line, "QUIT"))
        {
          for (guint i = 0; i < doomed->len; i++)
            ((FakeMessage *) g_ptr_array_index (doomed, i))->deleted = TRUE;
          fake_write (fd, "+OK bye\r\n");
          return;
        }
      else
        fake_write (fd, "-ERR no\r\n");
    }
}

#define MESSAGE(id, status)                                                    \
  "Received: from mx.example.org by pop.example.org; Mon, 2 Nov 2026 10:0" id  \
  ":00 +0000\r\n"                                                              \
  "From: Ann <ann@example.org>\r\n"                                            \
  "To: bob@example.org\r\n"                                                    \
  "Subject: message " id "\r\n"                                                \
  "Message-ID: <" id "@example.org>\r\n"                                       \
  status                                                                       \
  "\r\n"                                                                       \
  "Body " id "\r\n"

/* A profile with one POP3 account on the scripted server. */

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account; /* owned by the context's manager */
} Fixture;

static void
fixture_open (Fixture    *fixture,
              FakeServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *profile = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-pop3-download-fake-XXXXXX");
  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);

  incoming = tern_server_new ("127.0.0.1", server->port, TERN_TLS_MODE_PLAIN);
  incoming->username = g_strdup ("bob");
  account = tern_account_new ("Bob", "bob@example.org", TERN_ACCOUNT_PROTOCOL_POP3, incoming,
                              NULL);
  tern_account_set_password_command (account, "echo secret");
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  fixture->account = account;
}

static void
fixture_close (Fixture *fixture)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static void
set_options (Fixture               *fixture,
             const TernPop3Options *options)
{
  g_autoptr(GError) error = NULL;

  tern_pop3_options_save (tern_context_get_store (fixture->context),
                          tern_account_get_id (fixture->account), options, &error);
  g_assert_no_error (error);
}

typedef struct
{
  const char *sql;
  gint64 value;
} Query;

static gboolean
query_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Query *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, query->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    query->value = sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static gint64
query_int (TernContext *context,
           const char  *sql)
{
  g_autoptr(GError) error = NULL;
  Query query = { sql, 0 };

  tern_store_write (tern_context_get_store (context), query_cb, &query, &error);
  g_assert_no_error (error);
  return query.value;
}

static TernPop3DownloadStats
download_ok (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  TernPop3DownloadStats stats = { 0 };

  tern_pop3_download_account (fixture->context, fixture->account, NULL, NULL, &stats, NULL, &error);
  g_assert_no_error (error);
  return stats;
}

static guint
count_lines (const char *text,
             const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\r\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    n += g_str_has_prefix (lines[i], prefix);
  return n;
}

/* No UIDL: messages told apart by their headers. */

static void
test_no_uidl_fallback (void)
{
  /* The third message is the first one delivered twice, byte for byte. */
  Maildrop maildrop = {
    .capa = "USER\r\nTOP\r\nPIPELINING\r\n",
    .top = TRUE,
    .messages = {
      { MESSAGE ("1", "Status: O\r\n") },
      { MESSAGE ("2", "") },
      { MESSAGE ("1", "Status: O\r\n") },
    },
    .n_messages = 3,
  };
  g_autoptr(FakeServer) server = fake_server_start_many (maildrop_script, &maildrop, 3);
  TernPop3Options options = { .delete_after_days = 1, .delete_when_deleted_locally = TRUE };
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats;
  g_autofree char *wire = NULL;

  fixture_open (&fixture, server);
  stats = download_ok (&fixture);
  g_assert_true (stats.header_digests);
  g_assert_cmpuint (stats.on_server, ==, 3);
  g_assert_cmpuint (stats.new_messages, ==, 3);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages WHERE pop3_uidl"
                                               " GLOB 'tern-sha256:[0-9a-f]*'"), ==, 3);
  /* The copy is kept, under the digest and ":2". */
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages WHERE pop3_uidl"
                                               " GLOB 'tern-sha256:*:2'"), ==, 1);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"
                                               " WHERE subject = 'message 1'"), ==, 2);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM bodies"), ==, 3);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM pop3_seen"), ==, 3);

  /* Again, with the messages read (Status: RO now), a copy deleted for
   * good, and options that delete by age or local deletion: nothing new,
   * and nothing deleted on the server, since a digest is no identity to
   * delete by across sessions. */
  g_assert_true (maildrop.messages[0].read);
  query_int (fixture.context, "DELETE FROM messages WHERE pop3_uidl GLOB '*:2'");
  query_int (fixture.context, "UPDATE pop3_seen SET first_seen = first_seen - 2 * 86400");
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_true (stats.header_digests);
  g_assert_cmpuint (stats.on_server, ==, 3);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, 2);

  /* Delete after download: only what is stored goes, the copy included. */
  options = (TernPop3Options) { .delete_after_download = TRUE };
  set_options (&fixture, &options);
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 3);
  fixture_close (&fixture);
  fake_server_join (server);

  for (guint i = 0; i < maildrop.n_messages; i++)
    g_assert_true (maildrop.messages[i].deleted);
  wire = fake_received_text (server);
  /* CAPA lacks UIDL: never asked; each session reads every header. */
  g_assert_null (strstr (wire, "UIDL"));
  g_assert_cmpuint (count_lines (wire, "TOP "), ==, 9);
  g_assert_cmpuint (count_lines (wire, "RETR "), ==, 3);
  g_assert_cmpuint (count_lines (wire, "DELE "), ==, 3);
  g_assert_nonnull (strstr (wire, "DELE 1\r\nDELE 2\r\nDELE 3\r\nQUIT\r\n"));
}

/* No UIDL and no TOP: refused before anything is retrieved or deleted. */

static void
run_refused (Maildrop *maildrop)
{
  g_autoptr(FakeServer) server = fake_server_start (maildrop_script, maildrop);
  TernPop3Options options = { .delete_after_download = TRUE };
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *wire = NULL;

  fixture_open (&fixture, server);
  set_options (&fixture, &options);
  g_assert_false (tern_pop3_download_account (fixture.context, fixture.account, NULL, NULL, &stats,
                                              NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "bob@example.org"));
  g_assert_nonnull (strstr (error->message, "use IMAP"));
  g_assert_cmpuint (stats.new_messages, ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM pop3_seen"), ==, 0);
  fixture_close (&fixture);
  fake_server_join (server);

  wire = fake_received_text (server);
  g_assert_null (strstr (wire, "RETR"));
  g_assert_null (strstr (wire, "DELE"));
  g_assert_true (g_str_has_suffix (wire, "QUIT\r\n"));
  for (guint i = 0; i < maildrop->n_messages; i++)
    g_assert_false (maildrop->messages[i].deleted);
}

static void
test_no_uidl_no_top (void)
{
  Maildrop maildrop = {
    .capa = "USER\r\n",
    .messages = { { MESSAGE ("1", "") } },
    .n_messages = 1,
  };

  run_refused (&maildrop);
}

/* An RFC 1939 server without CAPA: UIDL and TOP are tried, both -ERR. */
static void
test_no_capa_no_top (void)
{
  Maildrop maildrop = {
    .messages = { { MESSAGE ("1", "") }, { MESSAGE ("2", "") } },
    .n_messages = 2,
  };

  run_refused (&maildrop);
}

/* [IN-USE] and [LOGIN-DELAY] while signing in: a clear error with the
 * server's text, nothing stored, and a worker that retries later. */

typedef struct
{
  GMainLoop *loop;
  TernPop3DownloadStats stats;
  GError *error;
} AsyncRun;

static void
download_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AsyncRun *run = user_data;

  tern_pop3_download_account_finish (TERN_CONTEXT (source), result, &run->stats, &run->error);
  g_main_loop_quit (run->loop);
}

static void
run_busy (const char *reply,
          int         code,
          const char *needle)
{
  Maildrop maildrop = {
    .capa = "USER\r\nUIDL\r\nTOP\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n",
    .uidl = TRUE,
    .top = TRUE,
    .pass_err = reply,
    .messages = { { MESSAGE ("1", "") } },
    .n_messages = 1,
  };
  g_autoptr(FakeServer) server = fake_server_start_many (maildrop_script, &maildrop, 2);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  Fixture fixture = { 0 };
  AsyncRun run = { loop, { 0 }, NULL };
  TernAccountWorker *worker;
  g_autofree char *wire = NULL;

  fixture_open (&fixture, server);
  g_assert_false (tern_pop3_download_account (fixture.context, fixture.account, NULL, NULL, NULL,
                                              NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, code);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_nonnull (strstr (error->message, "try again"));
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, 0);

  /* As a job: the worker goes offline to retry, not into the error state
   * that waits for the user. */
  worker = tern_worker_pool_get_worker (tern_context_get_worker_pool (fixture.context),
                                        fixture.account);
  tern_pop3_download_account_async (fixture.context, fixture.account, NULL, download_done_cb,
                                    &run);
  g_main_loop_run (loop);
  g_assert_error (run.error, TERN_POP3_ERROR, code);
  g_assert_cmpstr (tern_account_worker_get_last_error (worker), ==, error->message);
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_OFFLINE);
  g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), >, 0);
  g_assert_cmpuint (run.stats.new_messages, ==, 0);
  g_clear_error (&run.error);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, 0);
  fixture_close (&fixture);
  fake_server_join (server);

  wire = fake_received_text (server);
  g_assert_cmpuint (count_lines (wire, "PASS "), ==, 2);
  g_assert_null (strstr (wire, "RETR"));
  g_assert_null (strstr (wire, "DELE"));
  g_assert_false (maildrop.messages[0].deleted);
}

static void
test_in_use (void)
{
  run_busy ("[IN-USE] Mailbox locked by another session", TERN_POP3_ERROR_IN_USE,
            "Mailbox locked by another session");
}

static void
test_login_delay (void)
{
  run_busy ("[LOGIN-DELAY] Wait 15 minutes between sign-ins", TERN_POP3_ERROR_LOGIN_DELAY,
            "Wait 15 minutes between sign-ins");
}

/* Many messages, RETRieved pipelined, the connection cut half way through
 * one of them while more RETRs are in flight: what arrived whole is
 * stored (and indexed for search), the next download takes only the rest,
 * nothing is stored twice, and DELE comes only after everything is. */

#define PIPELINE_MESSAGES 1100  /* more than two of the download's batches */
#define PIPELINE_CUT 777        /* the first session ends inside this one */
#define PIPELINE_SESSIONS 2

typedef struct
{
  gboolean deleted[PIPELINE_MESSAGES];
  guint cut;                         /* the first session ends inside it (from 1); 0: none */
  guint session;
  guint retr[PIPELINE_SESSIONS];     /* RETR commands received, per session */
  guint answered[PIPELINE_SESSIONS]; /* RETRs answered in full */
  guint dele[PIPELINE_SESSIONS];
} Pipeline;

/* Message @index (from 0): a line that needs dot-stuffing, and a word of
 * its own to find it by. */
static char *
pipeline_message (guint index)
{
  return g_strdup_printf ("From: Ann <ann@example.org>\r\n"
                          "To: bob@example.org\r\n"
                          "Subject: batch message %u\r\n"
                          "Message-ID: <batch%u@example.org>\r\n"
                          "\r\n"
                          "Body of message %u, with the word mark%u.\r\n"
                          "..a line that began with a dot\r\n"
                          "The end.\r\n",
                          index + 1, index + 1, index + 1, index + 1);
}

static void
pipeline_script (FakeServer *server,
                 int         fd)
{
  Pipeline *pipeline = server->data;
  guint session = pipeline->session++;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) doomed = g_array_new (FALSE, FALSE, sizeof (guint));

  g_assert_cmpuint (session, <, PIPELINE_SESSIONS);
  for (guint i = 0; i < PIPELINE_MESSAGES; i++)
    if (!pipeline->deleted[i])
      g_array_append_val (numbers, i);

  fake_write (fd, "+OK ready\r\n");
  for (;;)
    {
      g_autofree char *line = fake_read_line (server, fd);
      guint64 number;

      if (!g_str_has_suffix (line, "\r\n"))
        return;
      line[strlen (line) - 2] = '\0';
      number = g_str_has_prefix (line, "RETR ") || g_str_has_prefix (line, "DELE ")
                 ? g_ascii_strtoull (line + 5, NULL, 10) : 0;
      if (number > numbers->len)
        number = 0;

      if (g_str_equal (line, "CAPA"))
        fake_write (fd, "+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n");
      else if (g_str_has_prefix (line, "USER ") || g_str_has_prefix (line, "PASS "))
        fake_write (fd, "+OK\r\n");
      else if (g_str_equal (line, "UIDL"))
        {
          GString *out = g_string_new ("+OK\r\n");

          for (guint i = 0; i < numbers->len; i++)
            g_string_append_printf (out, "%u uid-%u\r\n", i + 1,
                                    g_array_index (numbers, guint, i));
          g_string_append (out, ".\r\n");
          fake_write (fd, out->str);
          g_string_free (out, TRUE);
        }
      else if (g_str_has_prefix (line, "RETR ") && number > 0)
        {
          guint index = g_array_index (numbers, guint, number - 1);
          g_autofree char *text = pipeline_message (index);

          pipeline->retr[session]++;
          if (session == 0 && index + 1 == pipeline->cut)
            {
              /* Half of the message, then the end of the connection: the
               * client gets every byte sent, then end of file. */
              fake_write (fd, "+OK\r\n");
              text[strlen (text) / 2] = '\0';
              fake_write (fd, text);
              g_assert_cmpint (shutdown (fd, SHUT_WR), ==, 0);
              for (;;)
                {
                  g_autofree char *rest = fake_read_line (server, fd);

                  if (rest[0] == '\0')
                    return;
                  pipeline->retr[session] += g_str_has_prefix (rest, "RETR ");
                  pipeline->dele[session] += g_str_has_prefix (rest, "DELE ");
                }
            }
          fake_write (fd, "+OK\r\n");
          fake_write (fd, text);
          fake_write (fd, ".\r\n");
          pipeline->answered[session]++;
        }
      else if (g_str_has_prefix (line, "DELE ") && number > 0)
        {
          guint index = g_array_index (numbers, guint, number - 1);

          pipeline->dele[session]++;
          g_array_append_val (doomed, index);
          fake_write (fd, "+OK\r\n");
        }
      else if (g_str_equal (line, "QUIT"))
        {
          for (guint i = 0; i < doomed->len; i++)
            pipeline->deleted[g_array_index (doomed, guint, i)] = TRUE;
          fake_write (fd, "+OK bye\r\n");
          return;
        }
      else
        fake_write (fd, "-ERR no\r\n");
    }
}

static void
test_pipeline_cut (void)
{
  Pipeline pipeline = { .cut = PIPELINE_CUT };
  g_autoptr(FakeServer) server = fake_server_start_many (pipeline_script, &pipeline,
                                                         PIPELINE_SESSIONS);
  TernPop3Options options = { .delete_after_download = TRUE };
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats = { 0 };
  g_autoptr(GError) error = NULL;
  guint whole = PIPELINE_CUT - 1;

  fixture_open (&fixture, server);
  set_options (&fixture, &options);

  g_assert_false (tern_pop3_download_account (fixture.context, fixture.account, NULL, NULL, &stats,
                                              NULL, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (stats.on_server, ==, PIPELINE_MESSAGES);
  g_assert_cmpuint (stats.new_messages, ==, whole);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, whole);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM bodies"), ==, whole);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM pop3_seen"), ==, whole);
  /* Indexed for search before the download returned, the last batch too. */
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM search_bodies"), ==, whole);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages_fts"
                                               " WHERE messages_fts MATCH 'body:mark776'"), ==, 1);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages_fts"
                                               " WHERE messages_fts MATCH 'body:mark777'"), ==, 0);
  /* Unstuffed: one dot. */
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages m"
                                               " JOIN bodies b ON b.message_id = m.id"
                                               " WHERE instr (CAST (b.data AS TEXT),"
                                               " char (10) || '.a line') > 0"
                                               " AND instr (CAST (b.data AS TEXT), '..a line') = 0"),
                   ==, whole);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"
                                               " WHERE subject = 'batch message 777'"), ==, 0);

  /* The rest, and then every message is deleted on the server, each
   * stored exactly once. */
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.on_server, ==, PIPELINE_MESSAGES);
  g_assert_cmpuint (stats.new_messages, ==, PIPELINE_MESSAGES - whole);
  g_assert_cmpuint (stats.deleted, ==, PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==,
                   PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(DISTINCT pop3_uidl) FROM messages"),
                   ==, PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(DISTINCT subject) FROM messages"),
                   ==, PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM search_bodies"), ==,
                   PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages_fts"
                                               " WHERE messages_fts MATCH 'body:mark777'"), ==, 1);
  fixture_close (&fixture);
  fake_server_join (server);

  /* The first session had RETRs in flight past the cut (pipelined), and
   * deleted nothing; the second asked only for what was missing. */
  g_assert_cmpuint (pipeline.answered[0], ==, whole);
  g_assert_cmpuint (pipeline.retr[0], >, PIPELINE_CUT);
  g_assert_cmpuint (pipeline.dele[0], ==, 0);
  g_assert_cmpuint (pipeline.retr[1], ==, PIPELINE_MESSAGES - whole);
  g_assert_cmpuint (pipeline.answered[1], ==, PIPELINE_MESSAGES - whole);
  g_assert_cmpuint (pipeline.dele[1], ==, PIPELINE_MESSAGES);
  for (guint i = 0; i < PIPELINE_MESSAGES; i++)
    g_assert_true (pipeline.deleted[i]);
}

/* The store fails half way (as a full disk would: every later write is
 * refused) while the download goes on reading: the download stops with
 * the store's error, keeps the batches stored before, and deletes nothing
 * on the server; the next one takes the rest and then deletes all. */
static void
test_store_fails (void)
{
  Pipeline pipeline = { 0 };
  g_autoptr(FakeServer) server = fake_server_start_many (pipeline_script, &pipeline,
                                                         PIPELINE_SESSIONS);
  TernPop3Options options = { .delete_after_download = TRUE };
  Fixture fixture = { 0 };
  TernPop3DownloadStats stats = { 0 };
  g_autoptr(GError) error = NULL;
  const guint stored = 500; /* the download's first batch */

  fixture_open (&fixture, server);
  set_options (&fixture, &options);
  query_int (fixture.context,
             "CREATE TRIGGER test_full BEFORE INSERT ON messages"
             " WHEN (SELECT count (*) FROM messages) >= 600"
             " BEGIN SELECT RAISE (ABORT, 'database or disk is full'); END");

  g_assert_false (tern_pop3_download_account (fixture.context, fixture.account, NULL, NULL, &stats,
                                              NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "disk is full"));
  g_assert_cmpuint (stats.new_messages, ==, stored);
  g_assert_cmpuint (stats.deleted, ==, 0);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==, stored);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM pop3_seen"), ==, stored);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM search_bodies"), ==, stored);

  query_int (fixture.context, "DROP TRIGGER test_full");
  stats = download_ok (&fixture);
  g_assert_cmpuint (stats.new_messages, ==, PIPELINE_MESSAGES - stored);
  g_assert_cmpuint (stats.deleted, ==, PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(DISTINCT pop3_uidl) FROM messages"),
                   ==, PIPELINE_MESSAGES);
  g_assert_cmpint (query_int (fixture.context, "SELECT count(*) FROM messages"), ==,
                   PIPELINE_MESSAGES);
  fixture_close (&fixture);
  fake_server_join (server);

  /* Not one DELE in the session whose store failed. */
  g_assert_cmpuint (pipeline.dele[0], ==, 0);
  g_assert_cmpuint (pipeline.dele[1], ==, PIPELINE_MESSAGES);
  for (guint i = 0; i < PIPELINE_MESSAGES; i++)
    g_assert_true (pipeline.deleted[i]);
}

#define RAW_C "From: a@example.org\r\nSubject: c\r\nMessage-ID: <c@example.org>\r\n\r\nc\r\n"

/* A profile from before pop3_seen: the migration fills it from the
 * messages rows, so nothing is downloaded again. */
static void
test_migration_seeds (void)
{
  g_autofree char *dir = tern_test_make_tmpdir ("tern-pop3-seen-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *path = g_build_filename (profile, "tern.db", NULL);
  g_autoptr(TernContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  sqlite3 *db = NULL;

  /* Registers the migrations' resources. */
  g_assert_cmpint (tern_store_get_latest_version (), >=, 3);
  g_assert_cmpint (g_mkdir_with_parents (profile, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  tern_test_exec_migration (db, "001-initial.sql");
  tern_test_exec_migration (db, "002-sync.sql");
  g_assert_cmpint (sqlite3_exec (db,
    "PRAGMA user_version = 2;"
    "INSERT INTO accounts (id, uuid, display_name, address, incoming_protocol, incoming_host,"
    " incoming_port, incoming_security, incoming_username, created)"
    " VALUES (1, 'u1', 'Bob', 'bob@example.org', 'pop3', 'pop.example.org', 995, 'tls', 'bob', 0);"
    "INSERT INTO folders (id, account_id, name, role) VALUES (1, 1, 'Inbox', 'inbox'),"
    " (2, 1, 'Trash', 'trash');"
    "INSERT INTO messages (folder_id, pop3_uidl, internal_date) VALUES (1, 'a', 1000),"
    " (2, 'b', 2000), (1, 'b', 1500);"
    "INSERT INTO messages (folder_id, uid, internal_date) VALUES (1, 7, 3000);",
    NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (context, "SELECT count(*) FROM pop3_seen"), ==, 2);
  g_assert_cmpint (query_int (context, "SELECT first_seen FROM pop3_seen WHERE uidl = 'a'"), ==,
                   1000);
  /* The earliest of its copies. */
  g_assert_cmpint (query_int (context, "SELECT first_seen FROM pop3_seen WHERE uidl = 'b'"), ==,
                   1500);
  /* New rows are recorded as they are stored (by the store since
   * migration 13, by a trigger before). */
  raw = g_bytes_new_static (RAW_C, strlen (RAW_C));
  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_ptr_array_add (messages, tern_mail_new_message_from_pop3 ("c", raw, TRUE, 4000));
  g_assert_true (tern_mail_store_add_new_messages (tern_context_get_store (context), 1, messages,
                                                   NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (context, "SELECT first_seen FROM pop3_seen WHERE uidl = 'c'"), ==,
                   4000);
  g_assert_cmpint (query_int (context, "SELECT account_id FROM pop3_seen WHERE uidl = 'c'"), ==, 1);
  g_assert_finalize_object (g_steal_pointer (&context));
  tern_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/tern/pop3-download-fake/no-uidl-fallback", test_no_uidl_fallback);
  g_test_add_func ("/tern/pop3-download-fake/no-uidl-no-top", test_no_uidl_no_top);
  g_test_add_func ("/tern/pop3-download-fake/no-capa-no-top", test_no_capa_no_top);
  g_test_add_func ("/tern/pop3-download-fake/in-use", test_in_use);
  g_test_add_func ("/tern/pop3-download-fake/login-delay", test_login_delay);
  g_test_add_func ("/tern/pop3-download-fake/pipeline-cut", test_pipeline_cut);
  g_test_add_func ("/tern/pop3-download-fake/store-fails", test_store_fails);
  g_test_add_func ("/tern/pop3-download-fake/migration-seeds", test_migration_seeds);

  return g_test_run ();
}
