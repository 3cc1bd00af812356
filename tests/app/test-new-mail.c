/* test-new-mail.c: TernNewMail against the local Dovecot: a first sync
 * (IMAP) or download (POP3) of 50 old messages announces nothing; mail
 * from someone else is announced with its sender and subject, mail from
 * the user's own address is not, and reading a message withdraws it.
 * Work Offline: a sync makes no TCP connection at all (a listener that
 * counts them stands in for the server) and says why it failed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-app-error.h"
#include "tern-body-fetch.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-new-mail.h"
#include "tern-offline-queue.h"
#include "tern-pop3-download.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

static TernTestServers *servers;
static char *password_files[2];

/* Puts a message from @from ("Name <address>") into test user @user's
 * INBOX, as a delivery would. */
static void
deliver (guint       user,
         const char *from,
         const char *subject)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers), "save",
                         "-u", tern_test_servers_get_user (servers, user), "-m", "INBOX", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *raw = g_strdup_printf ("From: %s\nTo: <%s>\nSubject: %s\n"
                                          "Date: Thu, 26 Nov 2026 12:00:00 +0000\n\n"
                                          "Just arrived.\n",
                                          from, tern_test_servers_get_user (servers, user),
                                          subject);

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, raw, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
}

static TernAccount *
add_account (TernContext         *context,
             guint                user,
             TernAccountProtocol  protocol,
             const char          *host,
             guint16              port)
{
  g_autoptr(GError) error = NULL;
  const char *address = tern_test_servers_get_user (servers, user);
  g_autoptr(TernServer) server = tern_server_new (host, port, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_files[user]);

  server->username = g_strdup (address);
  account = tern_account_new (address, address, protocol, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

static TernAccount *
add_dovecot_account (TernContext         *context,
                     guint                user,
                     TernAccountProtocol  protocol)
{
  TernTestService service = protocol == TERN_ACCOUNT_PROTOCOL_POP3 ? TERN_TEST_SERVICE_POP3S
                                                                   : TERN_TEST_SERVICE_IMAPS;

  return add_account (context, user, protocol,
                      tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                      tern_test_servers_get_port (servers, service));
}

typedef struct
{
  GPtrArray *announced; /* TernMailMessage copies: subject and sender */
  GArray *withdrawn;
  gboolean done;
  gboolean ok;
  GError *error;
  GAsyncResult *result;
} EngineState;

static void
new_messages_cb (TernNewMail *new_mail,
                 GPtrArray   *messages,
                 EngineState *state)
{
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = messages->pdata[i];
      TernMailMessage *copy = tern_mail_message_new ();

      copy->id = message->id;
      copy->subject = g_strdup (message->subject);
      copy->from_name = g_strdup (message->from_name);
      copy->from_address = g_strdup (message->from_address);
      g_ptr_array_add (state->announced, copy);
    }
}

static void
withdrawn_cb (TernNewMail *new_mail,
              GArray      *ids,
              EngineState *state)
{
  g_array_append_vals (state->withdrawn, ids->data, ids->len);
}

/* The window's sync job, as a job of the pool: a sync, then the mark that
 * tells TernNewMail an account's sync ended. */
static gboolean
sync_job (TernWorkerJob  *job,
          gpointer        data,
          GCancellable   *cancellable,
          GError        **error)
{
  TernAccount *account = tern_worker_job_get_account (job);

  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    {
      if (!tern_pop3_download_account (data, account, NULL, NULL, NULL, cancellable, error))
        return FALSE;
    }
  else if (!tern_imap_sync_account (data, account, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL,
                                    cancellable, error))
    return FALSE;
  tern_worker_job_mark_synced (job);
  return TRUE;
}

static void
sync_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  EngineState *state = user_data;

  state->ok = tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &state->error);
  state->done = TRUE;
}

static void
body_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  EngineState *state = user_data;

  state->result = g_object_ref (result);
  state->done = TRUE;
}

static gboolean
is_done (gpointer data)
{
  return ((EngineState *) data)->done;
}

/* Syncs and waits until the messages-changed of the sync was seen. */
static gboolean
sync_account (TernContext *context,
              TernAccount *account,
              EngineState *state)
{
  state->done = FALSE;
  g_clear_error (&state->error);
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, sync_job, context,
                              NULL, sync_done_cb, state);
  tern_test_wait_until (is_done, state, "the sync");
  /* The worker's notify and the store's messages-changed are idles. */
  for (int i = 0; i < 10; i++)
    {
      g_usleep (10000);
      tern_test_drain ();
    }
  return state->ok;
}

typedef struct
{
  GSocketService *service;
  guint connections;
} Counter;

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             Counter           *counter)
{
  counter->connections++;
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static void
test_engine (gconstpointer data)
{
  TernAccountProtocol protocol = GPOINTER_TO_INT (data);
  /* Each protocol on a mailbox of its own, so that neither sees the
   * other's mail. */
  guint user = protocol == TERN_ACCOUNT_PROTOCOL_POP3 ? 0 : 1;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-new-mail-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autoptr(TernContext) context = tern_context_new (profile, &error);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernAccount) unreachable = NULL;
  g_autoptr(TernNewMail) new_mail = NULL;
  EngineState state = { 0 };
  TernMailMessage *message;
  Counter counter = { 0 };
  guint16 port;
  gint64 id;

  g_assert_no_error (error);
  tern_context_set_ca_file (context, tern_test_servers_get_ca_file (servers));
  state.announced = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_message_free);
  state.withdrawn = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* The mailbox holds 50 messages before the account is added: its first
   * sync announces none of them. */
  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, user), NULL, 50,
                                  &error);
  g_assert_no_error (error);
  new_mail = tern_new_mail_new (context);
  g_signal_connect (new_mail, "new-messages", G_CALLBACK (new_messages_cb), &state);
  g_signal_connect (new_mail, "withdrawn", G_CALLBACK (withdrawn_cb), &state);
  account = add_dovecot_account (context, user, protocol);
  g_assert_true (sync_account (context, account, &state));
  g_assert_cmpuint (state.announced->len, ==, 0);

  /* Mail from someone else is new, with its sender and subject. */
  deliver (user, "Carol Danvers <carol@example.org>", "Lunch on Friday?");
  g_assert_true (sync_account (context, account, &state));
  g_assert_cmpuint (state.announced->len, ==, 1);
  message = state.announced->pdata[0];
  g_assert_cmpstr (message->from_name, ==, "Carol Danvers");
  g_assert_cmpstr (message->subject, ==, "Lunch on Friday?");
  g_assert_cmpuint (tern_new_mail_get_n_unread (new_mail), ==, 1);
  id = message->id;

  /* Mail from the user's own address is not. */
  {
    g_autofree char *own = g_strdup_printf ("Me <%s>", tern_test_servers_get_user (servers, user));

    deliver (user, own, "A note to self");
  }
  g_assert_true (sync_account (context, account, &state));
  g_assert_cmpuint (state.announced->len, ==, 1);

  /* Reading it withdraws it. */
  g_assert_true (tern_offline_queue_set_flags (tern_context_get_store (context), &id, 1,
                                               TERN_IMAP_FLAG_SEEN, 0, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 10 && state.withdrawn->len == 0; i++)
    {
      g_usleep (20000);
      tern_test_drain ();
    }
  g_assert_cmpuint (state.withdrawn->len, ==, 1);
  g_assert_cmpint (g_array_index (state.withdrawn, gint64, 0), ==, id);
  g_assert_cmpuint (tern_new_mail_get_n_unread (new_mail), ==, 0);

  /* Work Offline: a sync fails at once, saying so, and no connection
   * reaches the server; back online, the same sync connects. */
  counter.service = g_socket_service_new ();
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (counter.service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (counter.service, "incoming", G_CALLBACK (incoming_cb), &counter);
  unreachable = add_account (context, user, protocol, "127.0.0.1", port);
  tern_context_set_offline (context, TRUE);
  g_assert_false (sync_account (context, unreachable, &state));
  g_assert_error (state.error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE);
  g_assert_false (sync_account (context, account, &state));
  g_assert_error (state.error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE);
  g_assert_cmpint (tern_account_worker_get_state (tern_worker_pool_get_worker (
                     tern_context_get_worker_pool (context), account)),
                   ==, TERN_WORKER_STATE_OFFLINE);
  /* An IMAP body not cached yet cannot come, and the reason says why. */
  if (protocol == TERN_ACCOUNT_PROTOCOL_IMAP)
    {
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GError) fetch_error = NULL;

      state.done = FALSE;
      tern_body_fetch_async (context, id, NULL, body_done_cb, &state);
      tern_test_wait_until (is_done, &state, "the body fetch");
      body = tern_body_fetch_finish (context, state.result, &fetch_error);
      g_clear_object (&state.result);
      g_assert_null (body);
      g_assert_error (fetch_error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE);
      g_assert_true (tern_worker_error_is_network (fetch_error));
      g_assert_nonnull (strstr (fetch_error->message, "offline"));
    }
  g_assert_cmpuint (counter.connections, ==, 0);
  tern_context_set_offline (context, FALSE);
  g_assert_false (sync_account (context, unreachable, &state));
  g_assert_cmpuint (counter.connections, ==, 1);
  g_assert_true (sync_account (context, account, &state));

  g_socket_service_stop (counter.service);
  g_clear_object (&counter.service);
  g_clear_error (&state.error);
  g_ptr_array_unref (state.announced);
  g_array_unref (state.withdrawn);
  g_clear_object (&new_mail);
  tern_worker_pool_cancel_account (tern_context_get_worker_pool (context), account);
  tern_test_drain ();
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&error);
  if (servers == NULL)
    g_error ("Cannot start the test servers: %s", error->message);
  dir = tern_test_make_tmpdir ("tern-new-mail-pw-XXXXXX");
  for (guint i = 0; i < G_N_ELEMENTS (password_files); i++)
    {
      g_autofree char *name = g_strdup_printf ("password%u", i);

      password_files[i] = g_build_filename (dir, name, NULL);
      g_file_set_contents (password_files[i], tern_test_servers_get_password (servers, i), -1,
                           &error);
      g_assert_no_error (error);
    }

  g_test_add_data_func ("/new-mail/imap", GINT_TO_POINTER (TERN_ACCOUNT_PROTOCOL_IMAP),
                        test_engine);
  g_test_add_data_func ("/new-mail/pop3", GINT_TO_POINTER (TERN_ACCOUNT_PROTOCOL_POP3),
                        test_engine);
  status = g_test_run ();

  tern_test_servers_free (servers);
  tern_test_remove_tree (dir);
  for (guint i = 0; i < G_N_ELEMENTS (password_files); i++)
    g_free (password_files[i]);
  return status;
}
