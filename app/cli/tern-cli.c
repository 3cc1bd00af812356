/* tern-cli.c: Tern's engine without a window, for scripts, tests and
 * benchmarks.
 *
 * Exit status: 0 done, 1 an operational error (one line on stderr),
 * 2 a usage error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <locale.h>

#include "tern-app-error.h"
#include "tern-cli.h"

/* Prints @error as the one line a script shows its user.  A value the user
 * gave that does not parse is a usage error; anything else is operational. */
int
tern_cli_fail (GError *error)
{
  int status = g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID) ? EXIT_USAGE
                                                                               : EXIT_FAILURE;

  g_printerr ("tern-cli: %s\n", error->message);
  g_error_free (error);
  return status;
}

int
tern_cli_usage_error (GOptionContext *context,
                      const char     *message)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  g_printerr ("tern-cli: %s\n\n%s", message, help);
  return EXIT_USAGE;
}

TernContext *
tern_cli_open_context (GlobalOptions  *globals,
                       GError        **error)
{
  TernContext *context = tern_context_new (globals->profile_dir, error);

  if (context != NULL)
    tern_context_set_ca_file (context, globals->ca_file);
  return context;
}

/* The account --account names, or the only IMAP account there is. */
TernAccount *
tern_cli_pick_imap_account (TernContext  *tern,
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

      if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
        continue;
      if (found != NULL)
        {
          g_object_unref (found);
          g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                               _("There are several IMAP accounts: choose one with --account"));
          return NULL;
        }
      found = g_steal_pointer (&account);
    }
  if (found == NULL)
    g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                         _("There is no IMAP account; add one with “tern-cli account add”"));
  return found;
}

int
tern_cli_dispatch (const Command *commands,
                   gsize          n_commands,
                   const char    *group,
                   GlobalOptions *globals,
                   int            argc,
                   char         **argv)
{
  if (argc >= 1)
    {
      for (gsize i = 0; i < n_commands; i++)
        {
          if (g_str_equal (argv[0], commands[i].name))
            {
              g_autofree char *prgname = g_strdup_printf ("tern-cli %s%s%s", group ? group : "",
                                                          group ? " " : "", commands[i].name);
              g_set_prgname (prgname);
              return commands[i].func (globals, argc, argv);
            }
        }
      g_printerr (_("tern-cli: unknown command “%s”\n"), argv[0]);
    }

  g_printerr (_("Commands:\n"));
  for (gsize i = 0; i < n_commands; i++)
    g_printerr ("  %s%s%-10s %s\n", group ? group : "", group ? " " : "", commands[i].name,
                _(commands[i].summary));
  return EXIT_USAGE;
}

static const Command commands[] = {
  { "account", tern_cli_account, N_("Add, list and remove accounts") },
  { "autoconfig", tern_cli_autoconfig, N_("Find the servers of an address, saving nothing") },
  { "certificate", tern_cli_certificate, N_("Accept, list and forget server certificates") },
  { "flag", tern_cli_flag, N_("Mark a message read, unread, flagged or unflagged") },
  { "move", tern_cli_move, N_("Move a message to another folder") },
  { "delete", tern_cli_delete, N_("Move a message to the Trash, or delete it from there") },
  { "idle", tern_cli_idle, N_("Print new messages as they arrive, until interrupted") },
  { "sync", tern_cli_sync, N_("Fetch new mail and changes from the server") },
  { "folders", tern_cli_folders, N_("List the folders of an account") },
  { "list", tern_cli_list, N_("List the messages of a folder, newest first") },
  { "show", tern_cli_show, N_("Show a message") },
  { "search", tern_cli_search, N_("Search messages: words, phrases, from:, is:unread…") },
  { "send", tern_cli_send, N_("Send a message through the outbox") },
  { "compose", tern_cli_compose, N_("Write a message from options and send it through the outbox") },
  { "outbox", tern_cli_outbox, N_("List the outbox, or send what waits in it") },
};

int
main (int    argc,
      char **argv)
{
  GlobalOptions globals = { 0 };
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &globals.profile_dir,
      N_("Profile directory (default: $TERN_PROFILE or ~/.local/share/tern)"), N_("DIR") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &globals.ca_file,
      N_("Also trust the certificate authorities in this PEM file"), N_("PEM") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_("COMMAND [ARGUMENTS…] — Tern’s mail engine without a window"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);

  if (version)
    {
      g_print ("tern-cli %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  status = tern_cli_dispatch (commands, G_N_ELEMENTS (commands), NULL, &globals, argc - 1, argv + 1);
  g_free (globals.profile_dir);
  g_free (globals.ca_file);
  return status;
}
