/* tern-cli-account.c: tern-cli account … and certificate ….
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <stdio.h>

#include "tern-app-error.h"
#include "tern-certificate-pins.h"
#include "tern-cli.h"
#include "tern-json.h"

#define MAX_PASSWORD_LENGTH 8192

/* Reads the password from the first line of standard input, so that it
 * never shows in a process listing or the shell's history. */
static char *
read_password_stdin (GError **error)
{
  char buffer[MAX_PASSWORD_LENGTH + 2];
  gsize len;

  if (fgets (buffer, sizeof buffer, stdin) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("No password on standard input"));
      return NULL;
    }
  len = strcspn (buffer, "\r\n");
  buffer[len] = '\0';
  if (len == 0 || !g_utf8_validate (buffer, len, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The password on standard input is empty or not UTF-8"));
      return NULL;
    }
  return g_strndup (buffer, len);
}

typedef struct
{
  char *email;
  char *name;
  char *imap;
  char *pop3;
  char *smtp;
  char *username;
  char *smtp_username;
  char *password_command;
  gboolean password_stdin;
  gboolean accept_insecure;
  char **maps;
  char *providers_dir;
} AddOptions;

static void
add_options_clear (AddOptions *options)
{
  g_free (options->email);
  g_free (options->name);
  g_free (options->imap);
  g_free (options->pop3);
  g_free (options->smtp);
  g_free (options->username);
  g_free (options->smtp_username);
  g_free (options->password_command);
  g_strfreev (options->maps);
  g_free (options->providers_dir);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AddOptions, add_options_clear)

static TernAccount *
account_from_options (AddOptions  *options,
                      GError     **error)
{
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;

  incoming = tern_server_parse (options->imap ? options->imap : options->pop3, error);
  if (incoming == NULL)
    return NULL;
  incoming->username = g_strdup (options->username);

  if (options->smtp != NULL)
    {
      outgoing = tern_server_parse (options->smtp, error);
      if (outgoing == NULL)
        return NULL;
      outgoing->username = g_strdup (options->smtp_username ? options->smtp_username
                                                            : options->username);
    }

  account = tern_account_new (options->name ? options->name : options->email, options->email,
                              options->imap ? TERN_ACCOUNT_PROTOCOL_IMAP
                                            : TERN_ACCOUNT_PROTOCOL_POP3,
                              incoming, outgoing);
  tern_account_set_password_command (account, options->password_command);
  if (!tern_account_validate (account, error))
    return NULL;
  return g_steal_pointer (&account);
}

/* account add without servers: detection and the login test, then the
 * same save as with servers.  Nothing is saved when the test fails. */
static int
account_add_detected (GlobalOptions *globals,
                      AddOptions    *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAutoconfig) autoconfig = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *password = NULL;

  autoconfig = tern_cli_autoconfig_new (globals, options->maps, options->providers_dir, &error);
  if (autoconfig == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  password = options->password_stdin ? read_password_stdin (&error)
                                     : tern_password_command_run (options->password_command, NULL,
                                                                  &error);
  if (password == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  account = tern_cli_autoconfig_account (autoconfig, tern, options->name, options->email, password,
                                         options->accept_insecure, &error);
  if (account == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  tern_account_set_password_command (account, options->password_command);
  if (!tern_account_validate (account, &error)
      || !tern_account_manager_add (tern_context_get_accounts (tern), account,
                                    options->password_stdin ? password : NULL, NULL, &error))
    return tern_cli_fail (g_steal_pointer (&error));

  g_print ("%" G_GINT64_FORMAT "\n", tern_account_get_id (account));
  return EXIT_SUCCESS;
}

static int
account_add (GlobalOptions *globals,
             int            argc,
             char         **argv)
{
  g_auto(AddOptions) options = { 0 };
  const GOptionEntry entries[] = {
    { "email", 0, 0, G_OPTION_ARG_STRING, &options.email, N_("The account’s address"), N_("ADDRESS") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &options.name, N_("Your name as recipients see it"), N_("NAME") },
    { "imap", 0, 0, G_OPTION_ARG_STRING, &options.imap, N_("IMAP server"), N_("HOST:PORT:SECURITY") },
    { "pop3", 0, 0, G_OPTION_ARG_STRING, &options.pop3, N_("POP3 server"), N_("HOST:PORT:SECURITY") },
    { "smtp", 0, 0, G_OPTION_ARG_STRING, &options.smtp, N_("SMTP server"), N_("HOST:PORT:SECURITY") },
    { "username", 0, 0, G_OPTION_ARG_STRING, &options.username, N_("Login name (default: the address)"), N_("NAME") },
    { "smtp-username", 0, 0, G_OPTION_ARG_STRING, &options.smtp_username, N_("SMTP login name (default: as --username)"), N_("NAME") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &options.password_stdin, N_("Read the password from standard input and keep it in the keyring"), NULL },
    { "password-command", 0, 0, G_OPTION_ARG_STRING, &options.password_command, N_("Run COMMAND to get the password when needed"), N_("COMMAND") },
    { "accept-insecure", 0, 0, G_OPTION_ARG_NONE, &options.accept_insecure, N_("Without server options: also use servers found over plain HTTP or without encryption"), NULL },
    { "map", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &options.maps, NULL, NULL },
    { "providers-dir", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &options.providers_dir, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— add an account"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *password = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("SECURITY is tls, starttls or plain.  Without "
                                           "--imap, --pop3 and --smtp the servers are detected "
                                           "and the password is tested before saving."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));
  if (options.email == NULL)
    return tern_cli_usage_error (context, _("--email is required"));
  if (options.password_stdin == (options.password_command != NULL))
    return tern_cli_usage_error (context, _("Give exactly one of --password-stdin and --password-command"));
  /* Detection is what the wizard does: name, address, password.  Without
   * servers and without a name, the user most likely forgot the servers. */
  if (options.imap == NULL && options.pop3 == NULL && options.smtp == NULL)
    {
      if (options.name == NULL)
        return tern_cli_usage_error (context, _("Give --imap or --pop3 and --smtp, or --name to "
                                                "have the servers detected"));
      return account_add_detected (globals, &options);
    }
  if ((options.imap == NULL) == (options.pop3 == NULL))
    return tern_cli_usage_error (context, _("Give exactly one of --imap and --pop3"));

  account = account_from_options (&options, &error);
  if (account == NULL)
    return tern_cli_usage_error (context, error->message);
  if (options.password_stdin && (password = read_password_stdin (&error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      !tern_account_manager_add (tern_context_get_accounts (tern), account, password, NULL, &error))
    return tern_cli_fail (g_steal_pointer (&error));

  g_print ("%" G_GINT64_FORMAT "\n", tern_account_get_id (account));
  return EXIT_SUCCESS;
}

static void
append_server_json (GString          *out,
                    const TernServer *server)
{
  if (server == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '{');
  tern_json_append_key (out, "host");
  tern_json_append_string (out, server->host);
  g_string_append_printf (out, ",\"port\":%u,", server->port);
  tern_json_append_key (out, "security");
  tern_json_append_string (out, tern_tls_mode_to_string (server->security));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "username");
  tern_json_append_string (out, server->username);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "auth");
  tern_json_append_string (out, server->auth);
  g_string_append_c (out, '}');
}

static void
append_account_json (GString     *out,
                     TernAccount *account)
{
  g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",", tern_account_get_id (account));
  tern_json_append_key (out, "uuid");
  tern_json_append_string (out, tern_account_get_uuid (account));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "name");
  tern_json_append_string (out, tern_account_get_display_name (account));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "email");
  tern_json_append_string (out, tern_account_get_address (account));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "protocol");
  tern_json_append_string (out, tern_account_protocol_to_string (tern_account_get_protocol (account)));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "incoming");
  append_server_json (out, tern_account_get_incoming (account));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "outgoing");
  append_server_json (out, tern_account_get_outgoing (account));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "password");
  tern_json_append_string (out, tern_account_get_password_command (account) ? "command" : "keyring");
  g_string_append_c (out, '}');
}

static char *
server_summary (const TernServer *server)
{
  return server ? tern_server_to_string (server) : g_strdup ("-");
}

static int
account_list (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— list the accounts"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  GListModel *accounts;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  accounts = G_LIST_MODEL (tern_context_get_accounts (tern));
  if (json)
    g_string_append_c (out, '[');
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);
      g_autofree char *incoming = server_summary (tern_account_get_incoming (account));
      g_autofree char *outgoing = server_summary (tern_account_get_outgoing (account));

      if (json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_account_json (out, account);
          continue;
        }
      g_string_append_printf (out, "%" G_GINT64_FORMAT "\t%s\t%s\t%s %s\t%s\n",
                              tern_account_get_id (account), tern_account_get_address (account),
                              tern_account_get_display_name (account),
                              tern_account_protocol_to_string (tern_account_get_protocol (account)),
                              incoming, outgoing);
    }
  if (json)
    g_string_append (out, "]\n");

  g_print ("%s", out->str);
  return EXIT_SUCCESS;
}

static int
account_remove (GlobalOptions *globals,
                int            argc,
                char         **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("ID — remove an account and its password"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  TernAccount *account;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2)
    return tern_cli_usage_error (context, _("Give the account’s id, UUID or address"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  account = tern_account_manager_lookup (tern_context_get_accounts (tern), argv[1]);
  if (account == NULL)
    {
      g_printerr (_("tern-cli: no account “%s”\n"), argv[1]);
      return EXIT_FAILURE;
    }
  if (!tern_account_manager_remove (tern_context_get_accounts (tern), account, NULL, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

/* HOST:PORT, with an IPv6 host in brackets: the same form as a server
 * without its security. */
static gboolean
parse_host_port (const char  *text,
                 char       **host,
                 guint16     *port,
                 GError     **error)
{
  g_autofree char *spec = g_strconcat (text, ":tls", NULL);
  g_autoptr(TernServer) server = tern_server_parse (spec, NULL);

  if (server == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("“%s” is not HOST:PORT"), text);
      return FALSE;
    }
  *host = g_steal_pointer (&server->host);
  *port = server->port;
  return TRUE;
}

static int
certificate_accept (GlobalOptions *globals,
                    int            argc,
                    char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("HOST:PORT FINGERPRINT — trust this one certificate for this server"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 3)
    return tern_cli_usage_error (context, _("Give the server and the certificate’s SHA-256 fingerprint"));
  if (!parse_host_port (argv[1], &host, &port, &error))
    return tern_cli_usage_error (context, error->message);

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      !tern_certificate_pins_accept (tern_context_get_store (tern), host, port, argv[2], &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

static int
certificate_forget (GlobalOptions *globals,
                    int            argc,
                    char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("HOST:PORT — stop trusting the certificate accepted for this server"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2 || !parse_host_port (argv[1], &host, &port, &error))
    return tern_cli_usage_error (context, error ? error->message : _("Give the server as HOST:PORT"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      !tern_certificate_pins_forget (tern_context_get_store (tern), host, port, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

static int
certificate_list (GlobalOptions *globals,
                  int            argc,
                  char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("— list the certificates accepted for servers"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(GPtrArray) pins = NULL;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (pins = tern_certificate_pins_list (tern_context_get_store (tern), &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  for (guint i = 0; i < pins->len; i++)
    {
      TernCertificatePin *pin = g_ptr_array_index (pins, i);
      gboolean ipv6 = strchr (pin->host, ':') != NULL;

      g_print ("%s%s%s:%u\t%s\n", ipv6 ? "[" : "", pin->host, ipv6 ? "]" : "", pin->port,
               pin->fingerprint);
    }
  return EXIT_SUCCESS;
}

static const Command certificate_commands[] = {
  { "accept", certificate_accept, N_("Trust one certificate for one server") },
  { "forget", certificate_forget, N_("Stop trusting an accepted certificate") },
  { "list", certificate_list, N_("List accepted certificates") },
};

static const Command account_commands[] = {
  { "add", account_add, N_("Add an account") },
  { "list", account_list, N_("List the accounts") },
  { "remove", account_remove, N_("Remove an account") },
  { "identity", tern_cli_identity, N_("Add, list and remove the addresses an account sends from") },
};

int
tern_cli_account (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  return tern_cli_dispatch (account_commands, G_N_ELEMENTS (account_commands), "account", globals,
                   argc - 1, argv + 1);
}

int
tern_cli_certificate (GlobalOptions *globals,
                     int            argc,
                     char         **argv)
{
  return tern_cli_dispatch (certificate_commands, G_N_ELEMENTS (certificate_commands), "certificate",
                   globals, argc - 1, argv + 1);
}

