/* tern-cli-ops.c: tern-cli flag, move, delete and idle.
 *
 * flag, move and delete change the local cache and queue the change in one
 * step, then try to send everything the account has queued.  When the
 * server cannot be reached they still succeed: the change is kept and sent
 * by the next command or sync that reaches the server (a note says so on
 * standard error).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-imap-idle.h"
#include "tern-imap-session.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-worker-pool.h"

static gboolean
parse_message_id (const char  *text,
                  gint64      *id,
                  GError     **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not a message number (see “tern-cli list”)"), text);
      return FALSE;
    }
  *id = (gint64) value;
  return TRUE;
}

typedef struct
{
  GMainLoop *loop;
  GError *error;
} Replay;

static void
replay_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Replay *replay = user_data;

  tern_offline_queue_replay_finish (TERN_CONTEXT (source), result, NULL, &replay->error);
  g_main_loop_quit (replay->loop);
}

/* Sends what @account_id has queued, on a worker as the UI does.  A
 * failure only delays the change: say so, and succeed. */
static int
replay_queue (TernContext *tern,
              gint64       account_id)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, account_id);
  TernAccount *account = tern_account_manager_lookup (tern_context_get_accounts (tern), key);
  Replay replay = { loop, NULL };

  if (account == NULL)
    return tern_cli_fail (g_error_new (TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                                       _("No account “%s”"), key));

  tern_offline_queue_replay_async (tern, account, NULL, replay_done_cb, &replay);
  g_main_loop_run (loop);
  if (replay.error != NULL)
    {
      g_printerr (_("tern-cli: the change is queued and will be sent when the server can be "
                    "reached (%s)\n"),
                  replay.error->message);
      g_clear_error (&replay.error);
    }
  return EXIT_SUCCESS;
}

/* The account of message @id, after checking it exists. */
static gint64
message_account (TernContext  *tern,
                 gint64        id,
                 GError      **error)
{
  g_autoptr(TernMailMessage) message = NULL;

  message = tern_mail_store_get_message (tern_context_get_store (tern), id, error);
  return message ? message->account_id : 0;
}

static gboolean
parse_flag (const char     *text,
            TernImapFlags  *add,
            TernImapFlags  *remove,
            GError        **error)
{
  static const struct
  {
    const char *name;
    TernImapFlags flag;
  } names[] = {
    { "seen", TERN_IMAP_FLAG_SEEN },
    { "flagged", TERN_IMAP_FLAG_FLAGGED },
    { "answered", TERN_IMAP_FLAG_ANSWERED },
    { "draft", TERN_IMAP_FLAG_DRAFT },
  };

  if (text[0] == '+' || text[0] == '-')
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      if (g_ascii_strcasecmp (text + 1, names[i].name) == 0)
        {
          *(text[0] == '+' ? add : remove) |= names[i].flag;
          return TRUE;
        }
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
               _("“%s” is not a flag change; use +seen, -seen, +flagged or -flagged"), text);
  return FALSE;
}

int
tern_cli_flag (GlobalOptions *globals,
               int            argc,
               char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("MESSAGE +seen|-seen|+flagged|-flagged… — change a message’s flags"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  TernImapFlags add = 0, remove = 0;
  gint64 id, account_id;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc < 3)
    return tern_cli_usage_error (context, _("Give a message and at least one flag change"));
  if (!parse_message_id (argv[1], &id, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  for (int i = 2; i < argc; i++)
    if (!parse_flag (argv[i], &add, &remove, &error))
      return tern_cli_fail (g_steal_pointer (&error));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (account_id = message_account (tern, id, &error)) == 0
      || !tern_offline_queue_set_flags (tern_context_get_store (tern), &id, 1, add, remove, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return replay_queue (tern, account_id);
}

int
tern_cli_move (GlobalOptions *globals,
               int            argc,
               char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("MESSAGE FOLDER — move a message to another folder"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  gint64 id, account_id;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 3)
    return tern_cli_usage_error (context, _("Give a message and a folder"));
  if (!parse_message_id (argv[1], &id, &error))
    return tern_cli_fail (g_steal_pointer (&error));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (account_id = message_account (tern, id, &error)) == 0
      || (folder = tern_mail_store_find_folder (tern_context_get_store (tern), account_id, argv[2],
                                                &error)) == NULL
      || !tern_offline_queue_move (tern_context_get_store (tern), &id, 1, folder->id, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return replay_queue (tern, account_id);
}

int
tern_cli_delete (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("MESSAGE — move a message to the Trash, or delete it from there"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  gint64 id, account_id;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2)
    return tern_cli_usage_error (context, _("Give one message"));
  if (!parse_message_id (argv[1], &id, &error))
    return tern_cli_fail (g_steal_pointer (&error));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (account_id = message_account (tern, id, &error)) == 0
      || !tern_offline_queue_delete (tern_context_get_store (tern), &id, 1, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return replay_queue (tern, account_id);
}

/* idle */

static void
new_message_cb (TernImapIdle *idle,
                guint         uid,
                gint64        message_id,
                const char   *subject,
                gpointer      user_data)
{
  g_autofree char *line = NULL;

  if (message_id != 0)
    line = g_strdup_printf ("new uid=%u folder=%s id=%" G_GINT64_FORMAT " subject=%s\n", uid,
                            tern_imap_idle_get_folder (idle), message_id, subject ? subject : "");
  else
    line = g_strdup_printf ("new uid=%u folder=%s\n", uid, tern_imap_idle_get_folder (idle));
  fputs (line, stdout);
  fflush (stdout);
}

static void
expunged_cb (TernImapIdle *idle,
             guint         uid,
             gpointer      user_data)
{
  printf ("expunged uid=%u folder=%s\n", uid, tern_imap_idle_get_folder (idle));
  fflush (stdout);
}

static void
flags_changed_cb (TernImapIdle *idle,
                  guint         uid,
                  guint         flags,
                  gpointer      user_data)
{
  printf ("flags uid=%u folder=%s seen=%d flagged=%d\n", uid, tern_imap_idle_get_folder (idle),
          (flags & TERN_IMAP_FLAG_SEEN) != 0, (flags & TERN_IMAP_FLAG_FLAGGED) != 0);
  fflush (stdout);
}

static void
connected_cb (TernImapIdle *idle,
              GParamSpec   *pspec,
              gpointer      user_data)
{
  if (tern_imap_idle_get_connected (idle))
    {
      /* TRANSLATORS: %s is a folder name; IDLE and NOOP are IMAP commands. */
      g_printerr (tern_imap_idle_get_uses_idle (idle) ? _("tern-cli: watching %s (IDLE)\n")
                                                      : _("tern-cli: watching %s (NOOP polling)\n"),
                  tern_imap_idle_get_folder (idle));
    }
  else if (tern_imap_idle_get_last_error (idle) != NULL)
    g_printerr ("tern-cli: %s: %s\n", tern_imap_idle_get_folder (idle),
                tern_imap_idle_get_last_error (idle));
}

typedef struct
{
  GMainLoop *loop;
  int status;
} Idle;

/* A watcher that gave up (wrong password, ...) ends the command. */
static void
running_cb (TernImapIdle *idle,
            GParamSpec   *pspec,
            Idle         *state)
{
  if (tern_imap_idle_get_running (idle))
    return;
  g_printerr ("tern-cli: %s: %s\n", tern_imap_idle_get_folder (idle),
              tern_imap_idle_get_last_error (idle));
  state->status = EXIT_FAILURE;
  g_main_loop_quit (state->loop);
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
tern_cli_idle (GlobalOptions *globals,
               int            argc,
               char         **argv)
{
  g_autofree char *account_key = NULL;
  g_auto(GStrv) folders = NULL;
  int idle_seconds = 0;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "folder", 0, 0, G_OPTION_ARG_STRING_ARRAY, &folders, N_("Watch this folder (default: INBOX); may be repeated"), N_("FOLDER") },
    { "idle-seconds", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &idle_seconds, N_("Re-issue IDLE this often"), N_("SECONDS") },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("— print a line for each new message until interrupted"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Idle state = { loop, EXIT_SUCCESS };
  g_autoptr(GPtrArray) watchers = g_ptr_array_new_with_free_func (g_object_unref);
  const char *const inbox[] = { "INBOX", NULL };
  const char *const *names;
  guint sigint, sigterm;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (account = tern_cli_pick_imap_account (tern, account_key, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  names = folders != NULL ? (const char *const *) folders : inbox;
  for (guint i = 0; names[i] != NULL; i++)
    {
      TernImapIdle *idle = tern_imap_idle_new (tern, account, names[i]);

      if (idle_seconds > 0)
        tern_imap_idle_set_intervals (idle, idle_seconds, 60, 5000);
      g_signal_connect (idle, "new-message", G_CALLBACK (new_message_cb), NULL);
      g_signal_connect (idle, "expunged", G_CALLBACK (expunged_cb), NULL);
      g_signal_connect (idle, "flags-changed", G_CALLBACK (flags_changed_cb), NULL);
      g_signal_connect (idle, "notify::connected", G_CALLBACK (connected_cb), NULL);
      g_signal_connect (idle, "notify::running", G_CALLBACK (running_cb), &state);
      g_ptr_array_add (watchers, idle);
      tern_imap_idle_start (idle);
    }

  sigint = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  for (guint i = 0; i < watchers->len; i++)
    {
      TernImapIdle *idle = g_ptr_array_index (watchers, i);

      g_signal_handlers_disconnect_by_func (idle, connected_cb, NULL);
      g_signal_handlers_disconnect_by_func (idle, running_cb, &state);
      tern_imap_idle_stop (idle);
    }
  return state.status;
}
