/* tern-cli-send.c: send, outbox (list, flush, retry).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <gio/gunixinputstream.h>
#include <stdio.h>

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-json.h"
#include "tern-outbox.h"

/* The account --account names, or the only one that can send. */
TernAccount *
tern_cli_pick_sending_account (TernContext  *tern,
                               const char   *key,
                               GError      **error)
{
  TernAccountManager *accounts = tern_context_get_accounts (tern);
  GListModel *model = G_LIST_MODEL (accounts);
  TernAccount *found = NULL;

  if (key != NULL)
    {
      found = tern_account_manager_lookup (accounts, key);
      if (found == NULL)
        g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No account “%s”"), key);
      return found ? g_object_ref (found) : NULL;
    }
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (model, i);

      if (tern_account_get_outgoing (account) == NULL)
        continue;
      if (found != NULL)
        {
          g_object_unref (found);
          g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                               _("There are several accounts that can send: choose one with --account"));
          return NULL;
        }
      found = g_steal_pointer (&account);
    }
  if (found == NULL)
    g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                         _("No account has an outgoing server"));
  return found;
}

static void
print_entry (const TernOutboxEntry *entry)
{
  g_print ("%" G_GINT64_FORMAT "\t%s\t<%s>\t%s\n", entry->id,
           tern_outbox_state_to_string (entry->state), entry->message_id,
           entry->last_error ? entry->last_error : "");
}

GBytes *
tern_cli_read_file (const char  *path,
                    GError     **error)
{
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (path == NULL || g_str_equal (path, "-"))
    in = g_unix_input_stream_new (0, FALSE);
  else
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);

      in = G_INPUT_STREAM (g_file_read (file, NULL, error));
      if (in == NULL)
        return NULL;
    }
  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Queues @message, sends what is due and prints the message's row. */
int
tern_cli_send_message (TernContext *tern,
                       TernAccount *account,
                       GBytes      *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) flush_error = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  gint64 id;

  id = tern_outbox_enqueue (tern_context_get_store (tern), account, message, &error);
  if (id == 0)
    return tern_cli_fail (g_steal_pointer (&error));

  tern_outbox_flush (tern, account, NULL, NULL, &flush_error);
  entry = tern_outbox_get (tern_context_get_store (tern), id, &error);
  if (entry == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  print_entry (entry);
  if (entry->state == TERN_OUTBOX_STATE_SENT)
    return EXIT_SUCCESS;
  if (entry->state == TERN_OUTBOX_STATE_QUEUED)
    g_printerr (_("tern-cli: the message is queued and will be sent later: %s\n"),
                entry->last_error ? entry->last_error : "");
  /* Not "was not sent": the reason says that it may have been. */
  else if (entry->may_have_been_sent && entry->last_error != NULL)
    g_printerr ("tern-cli: %s\n", entry->last_error);
  else
    g_printerr (_("tern-cli: the message was not sent: %s\n"),
                entry->last_error ? entry->last_error : "");
  return EXIT_FAILURE;
}

int
tern_cli_send (GlobalOptions *globals,
               int            argc,
               char         **argv)
{
  g_autofree char *account_key = NULL;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("[FILE|-] — send a message (RFC 5322) through the outbox"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GBytes) message = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc > 2)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL
      || (account = tern_cli_pick_sending_account (tern, account_key, &error)) == NULL
      || (message = tern_cli_read_file (argc == 2 ? argv[1] : NULL, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  return tern_cli_send_message (tern, account, message);
}

/* --now: the queued rows of @account lose their backoff. */
static gboolean
retry_all_now (TernStore    *store,
               TernAccount  *account,
               GError      **error)
{
  g_autoptr(GPtrArray) rows = tern_outbox_list (store, tern_account_get_id (account), error);

  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      const TernOutboxEntry *entry = g_ptr_array_index (rows, i);

      if (entry->state == TERN_OUTBOX_STATE_QUEUED
          && !tern_outbox_retry_now (store, entry->id, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

static int
outbox_flush (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  g_autofree char *account_key = NULL;
  gboolean now = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "now", 0, 0, G_OPTION_ARG_NONE, &now, N_("Also send what waits to be retried later"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— send what waits in the outbox"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  guint n_sent = 0;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL
      || (account = tern_cli_pick_sending_account (tern, account_key, &error)) == NULL
      || (now && !retry_all_now (tern_context_get_store (tern), account, &error))
      || !tern_outbox_flush (tern, account, &n_sent, NULL, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  g_print (g_dngettext (GETTEXT_PACKAGE, "%u message sent\n", "%u messages sent\n", n_sent),
           n_sent);
  return EXIT_SUCCESS;
}

/* outbox retry ID [--force]: puts the row back in the queue, then sends
 * what is due. */
static int
outbox_retry (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, N_("Send it again even if it may have been sent"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("ID — send a message of the outbox now"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) flush_error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autofree char *account_key = NULL;
  TernAccount *account;
  gint64 id = 0;
  char *end = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc == 2)
    id = g_ascii_strtoll (argv[1], &end, 10);
  if (argc != 2 || id <= 0 || *end != '\0')
    return tern_cli_usage_error (context, _("Give the id of one message, as “outbox” lists it"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL
      || (entry = tern_outbox_get (tern_context_get_store (tern), id, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  account_key = g_strdup_printf ("%" G_GINT64_FORMAT, entry->account_id);
  account = tern_account_manager_lookup (tern_context_get_accounts (tern), account_key);
  if (!tern_outbox_retry_now (tern_context_get_store (tern), id, force, &error))
    {
      if (entry->may_have_been_sent && !force)
        g_printerr (_("tern-cli: to send it anyway, add --force\n"));
      return tern_cli_fail (g_steal_pointer (&error));
    }
  g_clear_pointer (&entry, tern_outbox_entry_free);
  if (account != NULL)
    tern_outbox_flush (tern, account, NULL, NULL, &flush_error);
  entry = tern_outbox_get (tern_context_get_store (tern), id, &error);
  if (entry == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  print_entry (entry);
  return entry->state == TERN_OUTBOX_STATE_SENT ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int
outbox_list (GlobalOptions *globals,
             int            argc,
             char         **argv)
{
  g_autofree char *account_key = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("[flush|retry] — list the outbox, send what waits in it, or send one message now"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GPtrArray) entries_list = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (argc >= 2 && g_str_equal (argv[1], "flush"))
    return outbox_flush (globals, argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "retry"))
    return outbox_retry (globals, argc - 1, argv + 1);

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL
      || (account_key != NULL
          && (account = tern_cli_pick_sending_account (tern, account_key, &error)) == NULL)
      || (entries_list = tern_outbox_list (tern_context_get_store (tern),
                                           account ? tern_account_get_id (account) : 0,
                                           &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  if (json)
    g_string_append_c (out, '[');
  for (guint i = 0; i < entries_list->len; i++)
    {
      const TernOutboxEntry *entry = g_ptr_array_index (entries_list, i);

      if (!json)
        {
          print_entry (entry);
          continue;
        }
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",\"account\":%" G_GINT64_FORMAT ",",
                              entry->id, entry->account_id);
      tern_json_append_key (out, "state");
      tern_json_append_string (out, tern_outbox_state_to_string (entry->state));
      g_string_append_c (out, ',');
      tern_json_append_key (out, "message_id");
      tern_json_append_string (out, entry->message_id);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "from");
      tern_json_append_string (out, entry->envelope_from);
      g_string_append (out, ",\"recipients\":[");
      for (guint r = 0; entry->recipients[r] != NULL; r++)
        {
          if (r > 0)
            g_string_append_c (out, ',');
          tern_json_append_string (out, entry->recipients[r]);
        }
      g_string_append_printf (out, "],\"attempts\":%u,", entry->attempts);
      tern_json_append_key (out, "last_error");
      tern_json_append_string (out, entry->last_error);
      g_string_append_printf (out, ",\"next_attempt\":%" G_GINT64_FORMAT
                              ",\"created\":%" G_GINT64_FORMAT ",\"may_have_been_sent\":%s}",
                              entry->next_attempt, entry->created,
                              entry->may_have_been_sent ? "true" : "false");
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return EXIT_SUCCESS;
}

int
tern_cli_outbox (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  return outbox_list (globals, argc, argv);
}
