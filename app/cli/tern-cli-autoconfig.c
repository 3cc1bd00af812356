/* tern-cli-autoconfig.c: tern-cli autoconfig, and the detection and login
 * test behind "account add" without server options.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include "tern-app-error.h"
#include "tern-autoconfig.h"
#include "tern-cli.h"
#include "tern-json.h"

TernAutoconfig *
tern_cli_autoconfig_new (GlobalOptions  *globals,
                         char          **maps,
                         const char     *providers_dir,
                         GError        **error)
{
  g_autoptr(TernAutoconfig) autoconfig = tern_autoconfig_new ();

  tern_autoconfig_set_ca_file (autoconfig, globals->ca_file);
  tern_autoconfig_set_providers_dir (autoconfig, providers_dir);
  for (guint i = 0; maps != NULL && maps[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (maps[i], "=", 2);

      if (g_strv_length (parts) != 2 || !tern_autoconfig_map_address (autoconfig, parts[0], parts[1]))
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("“%s” is not HOST:PORT=HOST:PORT"), maps[i]);
          return NULL;
        }
    }
  return g_steal_pointer (&autoconfig);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

TernAutoconfigConfig *
tern_cli_autoconfig_detect (TernAutoconfig  *autoconfig,
                            const char      *address,
                            GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tern_autoconfig_detect_async (autoconfig, address, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tern_autoconfig_detect_finish (autoconfig, result, error);
}

static TernLoginTest *
test_login (TernAutoconfig             *autoconfig,
            TernContext                *tern,
            const char                 *address,
            const char                 *password,
            const TernAutoconfigServer *incoming,
            const TernAutoconfigServer *outgoing,
            GError                    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tern_autoconfig_test_login_async (autoconfig, tern, address, password, incoming, outgoing, NULL,
                                    store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tern_autoconfig_test_login_finish (autoconfig, result, error);
}

static const char *
password_kind_to_string (TernAutoconfigPassword kind)
{
  switch (kind)
    {
    case TERN_AUTOCONFIG_PASSWORD_APP:
      return "app-password";
    case TERN_AUTOCONFIG_PASSWORD_OAUTH2:
      return "oauth2";
    case TERN_AUTOCONFIG_PASSWORD_NORMAL:
    default:
      return "password";
    }
}

static void
append_servers_json (GString   *out,
                     GPtrArray *servers)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < servers->len; i++)
    {
      const TernAutoconfigServer *server = g_ptr_array_index (servers, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '{');
      tern_json_append_key (out, "protocol");
      tern_json_append_string (out, tern_autoconfig_protocol_to_string (server->protocol));
      g_string_append_c (out, ',');
      tern_json_append_key (out, "host");
      tern_json_append_string (out, server->server->host);
      g_string_append_printf (out, ",\"port\":%u,", server->server->port);
      tern_json_append_key (out, "security");
      tern_json_append_string (out, tern_tls_mode_to_string (server->server->security));
      g_string_append_c (out, ',');
      tern_json_append_key (out, "username");
      tern_json_append_string (out, server->server->username);
      g_string_append_printf (out, ",\"oauth2_only\":%s}",
                              tern_autoconfig_server_needs_oauth2 (server) ? "true" : "false");
    }
  g_string_append_c (out, ']');
}

static void
append_config_json (GString                    *out,
                    const TernAutoconfigConfig *config)
{
  if (config == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '{');
  tern_json_append_key (out, "source");
  tern_json_append_string (out, tern_autoconfig_source_to_string (config->source));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "origin");
  tern_json_append_string (out, config->origin);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "provider");
  tern_json_append_string (out, config->provider_name);
  g_string_append_printf (out, ",\"untrusted\":%s,\"insecure\":%s,",
                          config->untrusted ? "true" : "false",
                          config->insecure ? "true" : "false");
  tern_json_append_key (out, "password");
  tern_json_append_string (out, password_kind_to_string (config->password_kind));
  g_string_append_c (out, ',');
  tern_json_append_key (out, "help_url");
  tern_json_append_string (out, config->help_url);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "incoming");
  append_servers_json (out, config->incoming);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "outgoing");
  append_servers_json (out, config->outgoing);
  g_string_append_c (out, '}');
}

static void
append_attempts_json (GString   *out,
                      GPtrArray *attempts)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < attempts->len; i++)
    {
      const TernAutoconfigAttempt *attempt = g_ptr_array_index (attempts, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '{');
      tern_json_append_key (out, "source");
      tern_json_append_string (out, tern_autoconfig_source_to_string (attempt->source));
      g_string_append_c (out, ',');
      tern_json_append_key (out, "host");
      tern_json_append_string (out, attempt->host);
      g_string_append_printf (out, ",\"port\":%u,", attempt->port);
      tern_json_append_key (out, "what");
      tern_json_append_string (out, attempt->what);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "result");
      tern_json_append_string (out, tern_autoconfig_result_to_string (attempt->result));
      g_string_append_c (out, ',');
      tern_json_append_key (out, "message");
      tern_json_append_string (out, attempt->message);
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, ']');
}

static void
append_servers_text (GString    *out,
                     const char *label,
                     GPtrArray  *servers)
{
  for (guint i = 0; i < servers->len; i++)
    {
      const TernAutoconfigServer *server = g_ptr_array_index (servers, i);
      g_autofree char *spec = tern_server_to_string (server->server);

      g_string_append_printf (out, "%s\t%s %s\t%s%s\n", label,
                              tern_autoconfig_protocol_to_string (server->protocol), spec,
                              server->server->username,
                              tern_autoconfig_server_needs_oauth2 (server) ? "\toauth2" : "");
    }
}

static void
append_config_text (GString                    *out,
                    const TernAutoconfigConfig *config)
{
  g_string_append_printf (out, "source\t%s\t%s\n", tern_autoconfig_source_to_string (config->source),
                          config->origin ? config->origin : "");
  if (config->provider_name != NULL)
    g_string_append_printf (out, "provider\t%s\n", config->provider_name);
  append_servers_text (out, "incoming", config->incoming);
  append_servers_text (out, "outgoing", config->outgoing);
  g_string_append_printf (out, "password\t%s%s%s\n", password_kind_to_string (config->password_kind),
                          config->help_url ? "\t" : "", config->help_url ? config->help_url : "");
  if (config->untrusted)
    g_string_append_printf (out, "warning\t%s\n",
                            _("This configuration came over unencrypted HTTP; check it before "
                              "you use it."));
  if (config->insecure)
    g_string_append_printf (out, "warning\t%s\n",
                            _("A server sends your password and mail unencrypted."));
}

static void
append_attempts_text (GString   *out,
                      GPtrArray *attempts)
{
  for (guint i = 0; i < attempts->len; i++)
    {
      const TernAutoconfigAttempt *attempt = g_ptr_array_index (attempts, i);

      g_string_append_printf (out, "attempt\t%s\t%s\t%u\t%s\t%s\t%s\n",
                              tern_autoconfig_source_to_string (attempt->source), attempt->host,
                              attempt->port, attempt->what ? attempt->what : "",
                              tern_autoconfig_result_to_string (attempt->result),
                              attempt->message ? attempt->message : "");
    }
}

int
tern_cli_autoconfig (GlobalOptions *globals,
                     int            argc,
                     char         **argv)
{
  gboolean json = FALSE;
  g_auto(GStrv) maps = NULL;
  g_autofree char *providers_dir = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "map", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &maps, NULL, NULL },
    { "providers-dir", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &providers_dir, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("ADDRESS — find the servers of an address, saving nothing"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAutoconfig) autoconfig = NULL;
  g_autoptr(TernAutoconfigConfig) config = NULL;
  g_autoptr(TernAutoconfigConfig) guess = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2)
    return tern_cli_usage_error (context, _("Give one address"));

  autoconfig = tern_cli_autoconfig_new (globals, maps, providers_dir, &error);
  if (autoconfig == NULL)
    return tern_cli_usage_error (context, error->message);
  config = tern_cli_autoconfig_detect (autoconfig, argv[1], &error);
  if (g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID))
    return tern_cli_fail (g_steal_pointer (&error));
  attempts = tern_autoconfig_dup_attempts (autoconfig);
  /* Nothing verified: the hosting default, as a start for doing it by
   * hand, clearly labelled as a guess. */
  if (config == NULL)
    guess = tern_autoconfig_guess (autoconfig, argv[1]);

  if (json)
    {
      g_string_append_c (out, '{');
      tern_json_append_key (out, "address");
      tern_json_append_string (out, argv[1]);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "config");
      append_config_json (out, config);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "error");
      tern_json_append_string (out, error ? error->message : NULL);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "guess");
      append_config_json (out, guess);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "attempts");
      append_attempts_json (out, attempts);
      g_string_append (out, "}\n");
    }
  else
    {
      if (config != NULL)
        append_config_text (out, config);
      else if (guess != NULL)
        append_config_text (out, guess);
      append_attempts_text (out, attempts);
    }
  g_print ("%s", out->str);
  if (error != NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

/* For "account add" without servers: detection, then the login test.
 * Prints what went wrong (with what to do about a certificate) and returns
 * NULL, or the account to save. */
TernAccount *
tern_cli_autoconfig_account (TernAutoconfig  *autoconfig,
                             TernContext     *tern,
                             const char      *name,
                             const char      *address,
                             const char      *password,
                             gboolean         accept_insecure,
                             GError         **error)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;
  g_autoptr(TernLoginTest) test = NULL;
  const TernAutoconfigServer *incoming;
  const TernAutoconfigServer *outgoing;

  config = tern_cli_autoconfig_detect (autoconfig, address, error);
  if (config == NULL)
    return NULL;
  if ((config->untrusted || config->insecure) && !accept_insecure)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                           config->untrusted
                             ? _("The servers were found over unencrypted HTTP, which anyone on "
                                 "the way could have changed.  Check them and add the account "
                                 "with --imap and --smtp, or use --accept-insecure.")
                             : _("The only servers found send your password unencrypted.  Add "
                                 "the account with --imap and --smtp, or use "
                                 "--accept-insecure."));
      return NULL;
    }
  if (config->outgoing->len == 0)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                           _("No outgoing server was found.  Add the account with --smtp and "
                             "--imap or --pop3."));
      return NULL;
    }
  incoming = g_ptr_array_index (config->incoming, 0);
  outgoing = g_ptr_array_index (config->outgoing, 0);

  test = test_login (autoconfig, tern, address, password, incoming, outgoing, error);
  if (test == NULL)
    return NULL;
  if (test->status != TERN_LOGIN_TEST_OK)
    {
      if (test->status == TERN_LOGIN_TEST_CERTIFICATE)
        {
          gboolean ipv6 = strchr (test->cert_host, ':') != NULL;

          g_printerr ("%s\n", test->cert_description);
          g_printerr (_("To trust this certificate for this server: tern-cli certificate accept "
                        "%s%s%s:%u %s\n"),
                      ipv6 ? "[" : "", test->cert_host, ipv6 ? "]" : "", test->cert_port,
                      test->cert_fingerprint);
        }
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, test->message);
      return NULL;
    }
  return tern_autoconfig_make_account (name, address, incoming, outgoing, test);
}
