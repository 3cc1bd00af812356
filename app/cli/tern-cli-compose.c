/* tern-cli-compose.c: compose, a message written from options and sent
 * like `tern-cli send` sends a file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-composer.h"

/* The repeatable --to/--cc/--bcc values as one address list. */
static char *
join_addresses (char **values)
{
  return values != NULL ? g_strjoinv (", ", values) : NULL;
}

/* The file's text, which has to be UTF-8. */
static char *
read_text (const char  *path,
           GError     **error)
{
  g_autoptr(GBytes) bytes = tern_cli_read_file (path, error);
  gsize size;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  if (!g_utf8_validate_len (data, size, NULL) || memchr (data, '\0', size) != NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not UTF-8 text"), path ? path : "-");
      return NULL;
    }
  return g_strndup (data, size);
}

static gboolean
fill_composer (TernComposer  *composer,
               const char    *body_file,
               const char    *html_file,
               char         **attach,
               GError       **error)
{
  if (body_file != NULL)
    {
      g_autofree char *body = read_text (body_file, error);

      if (body == NULL)
        return FALSE;
      tern_composer_set_body (composer, body);
    }
  if (html_file != NULL)
    {
      g_autofree char *html = read_text (html_file, error);

      if (html == NULL)
        return FALSE;
      tern_composer_set_html_body (composer, html);
    }
  for (guint i = 0; attach != NULL && attach[i] != NULL; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (attach[i]);

      tern_composer_add_attachment (composer, file, NULL);
    }
  return TRUE;
}

/* A message from @account's identity @address: its From and Reply-To. */
static TernComposer *
composer_from (TernContext  *tern,
               TernAccount  *account,
               const char   *address,
               GError      **error)
{
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(TernIdentity) identity = NULL;

  identities = tern_identities_load (tern_context_get_store (tern), account, error);
  if (identities == NULL)
    return NULL;
  identity = tern_identities_find (identities, address);
  if (identity == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("%s has no identity %s: add it with “tern-cli account identity add”"),
                   tern_account_get_address (account), address);
      return NULL;
    }
  return tern_composer_new_for_identity (identity);
}

int
tern_cli_compose (GlobalOptions *globals,
                  int            argc,
                  char         **argv)
{
  g_autofree char *account_key = NULL;
  g_autofree char *from = NULL;
  g_auto(GStrv) to = NULL;
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) bcc = NULL;
  g_auto(GStrv) attach = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body_file = NULL;
  g_autofree char *html_file = NULL;
  gboolean no_send = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("Send from this identity of the account (tern-cli account identity)"), N_("ADDRESS") },
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, N_("A recipient (repeatable)"), N_("ADDRESS") },
    { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cc, N_("A recipient in copy (repeatable)"), N_("ADDRESS") },
    { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bcc, N_("A hidden recipient (repeatable)"), N_("ADDRESS") },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, N_("The subject"), N_("TEXT") },
    { "body-file", 0, 0, G_OPTION_ARG_FILENAME, &body_file, N_("The text of the message (UTF-8; - for standard input)"), N_("FILE") },
    { "html-file", 0, 0, G_OPTION_ARG_FILENAME, &html_file, N_("An HTML version of the text"), N_("FILE") },
    { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &attach, N_("Attach a file (repeatable)"), N_("FILE") },
    { "no-send", 0, 0, G_OPTION_ARG_NONE, &no_send, N_("Print the message instead of sending it"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— write a message and send it through the outbox"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autofree char *to_text = NULL;
  g_autofree char *cc_text = NULL;
  g_autofree char *bcc_text = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));
  if (subject == NULL)
    return tern_cli_usage_error (context, _("A message needs --subject"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL
      || (account = tern_cli_pick_sending_account (tern, account_key, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  to_text = join_addresses (to);
  cc_text = join_addresses (cc);
  bcc_text = join_addresses (bcc);
  composer = from != NULL ? composer_from (tern, account, from, &error)
                          : tern_composer_new_for_account (account);
  if (composer == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  tern_composer_set_to (composer, to_text);
  tern_composer_set_cc (composer, cc_text);
  tern_composer_set_bcc (composer, bcc_text);
  tern_composer_set_subject (composer, subject);
  if (!fill_composer (composer, body_file, html_file, attach, &error)
      || (message = tern_composer_to_bytes (composer, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  if (no_send)
    {
      gsize size;
      gconstpointer data = g_bytes_get_data (message, &size);

      fwrite (data, 1, size, stdout);
      return EXIT_SUCCESS;
    }
  return tern_cli_send_message (tern, account, message);
}
