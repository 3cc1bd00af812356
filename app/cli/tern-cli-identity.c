/* tern-cli-identity.c: tern-cli account identity add|list|remove, the
 * addresses an account sends from.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-identity.h"
#include "tern-json.h"

/* The account ACCOUNT names; prints why when there is none. */
/* Opens the profile into @tern and finds the account @key names (id,
 * UUID or address): the start of every identity command. */
static TernAccount *
open_account (GlobalOptions  *globals,
              const char     *key,
              TernContext   **tern,
              GError        **error)
{
  TernAccount *account;

  *tern = tern_cli_open_context (globals, error);
  if (*tern == NULL)
    return NULL;
  account = tern_account_manager_lookup (tern_context_get_accounts (*tern), key);
  if (account == NULL)
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No account “%s”"), key);
  return account;
}

static int
identity_add (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  g_autofree char *name = NULL;
  g_autofree char *reply_to = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *old_address = NULL;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("The name shown with the address"), N_("NAME") },
    { "reply-to", 0, 0, G_OPTION_ARG_STRING, &reply_to, N_("Where replies should go (\"\": nowhere else)"), N_("ADDRESS") },
    { "signature", 0, 0, G_OPTION_ARG_STRING, &signature, N_("A signature instead of the account’s (\"\": the account’s)"), N_("TEXT") },
    { "replace", 0, 0, G_OPTION_ARG_STRING, &old_address, N_("Change the identity with this address instead"), N_("ADDRESS") },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("ACCOUNT ADDRESS — send from another address of the account"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernIdentity) identity = NULL;
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(TernIdentity) existing = NULL;
  TernAccount *account;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 3)
    return tern_cli_usage_error (context, _("Give the account (id, UUID or address) and the address"));

  account = open_account (globals, argv[1], &tern, &error);
  if (account == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  identities = tern_identities_load (tern_context_get_store (tern), account, &error);
  if (identities == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  /* The account's own address takes a Reply-To and a signature; an
   * identity changed keeps what no option replaces. */
  existing = tern_identities_find (identities, old_address != NULL ? old_address : argv[2]);
  if (existing != NULL && (tern_identity_is_primary (existing) || old_address != NULL))
    identity = g_object_ref (existing);
  else
    identity = tern_identity_new (account, NULL, argv[2]);
  if (!tern_identity_is_primary (identity))
    tern_identity_set_address (identity, argv[2]);
  if (name != NULL && !tern_identity_is_primary (identity))
    tern_identity_set_display_name (identity, name);
  if (reply_to != NULL)
    tern_identity_set_reply_to (identity, reply_to);
  if (signature != NULL)
    tern_identity_set_signature (identity, signature);
  if (!tern_identities_save (tern_context_get_store (tern), identity, old_address, &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

static void
append_identity_json (GString      *out,
                      TernIdentity *identity)
{
  g_string_append (out, "{\"address\":");
  tern_json_append_string (out, tern_identity_get_address (identity));
  g_string_append (out, ",\"name\":");
  tern_json_append_string (out, tern_identity_get_display_name (identity));
  g_string_append (out, ",\"reply_to\":");
  tern_json_append_string (out, tern_identity_get_reply_to (identity));
  g_string_append (out, ",\"signature\":");
  tern_json_append_string (out, tern_identity_get_signature (identity));
  g_string_append_printf (out, ",\"primary\":%s}",
                          tern_identity_is_primary (identity) ? "true" : "false");
}

static int
identity_list (GlobalOptions *globals,
               int            argc,
               char         **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("ACCOUNT — list the addresses the account sends from"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  TernAccount *account;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2)
    return tern_cli_usage_error (context, _("Give the account’s id, UUID or address"));

  account = open_account (globals, argv[1], &tern, &error);
  if (account == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  identities = tern_identities_load (tern_context_get_store (tern), account, &error);
  if (identities == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  if (json)
    g_string_append_c (out, '[');
  for (guint i = 0; i < g_list_model_get_n_items (identities); i++)
    {
      g_autoptr(TernIdentity) identity = g_list_model_get_item (identities, i);
      g_autofree char *from = tern_identity_dup_from (identity);
      const char *reply_to = tern_identity_get_reply_to (identity);

      if (json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_identity_json (out, identity);
          continue;
        }
      g_string_append_printf (out, "%s\t%s\t%s\n", from, reply_to ? reply_to : "-",
                              tern_identity_is_primary (identity) ? "account" : "alias");
    }
  if (json)
    g_string_append (out, "]\n");
  g_print ("%s", out->str);
  return EXIT_SUCCESS;
}

static int
identity_remove (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("ACCOUNT ADDRESS — stop sending from an address of the account"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  TernAccount *account;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 3)
    return tern_cli_usage_error (context, _("Give the account (id, UUID or address) and the address"));

  account = open_account (globals, argv[1], &tern, &error);
  if (account == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  if (!tern_identities_remove (tern_context_get_store (tern), account, argv[2], &error))
    return tern_cli_fail (g_steal_pointer (&error));
  return EXIT_SUCCESS;
}

static const Command identity_commands[] = {
  { "add", identity_add, N_("Add an address to send from, or change one") },
  { "list", identity_list, N_("List the addresses an account sends from") },
  { "remove", identity_remove, N_("Remove an address to send from") },
};

int
tern_cli_identity (GlobalOptions *globals,
                   int            argc,
                   char         **argv)
{
  return tern_cli_dispatch (identity_commands, G_N_ELEMENTS (identity_commands),
                            "account identity", globals, argc - 1, argv + 1);
}
