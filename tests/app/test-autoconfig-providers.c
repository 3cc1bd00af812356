/* test-autoconfig-providers.c: every shipped provider file parses, names an
 * incoming and an outgoing server with secure defaults, and together they
 * cover the providers Tern promises to know.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-autoconfig-private.h"

static char *providers_dir;

static GPtrArray *
list_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (providers_dir, 0, &error);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_true (g_str_has_suffix (name, ".xml"));
      g_ptr_array_add (files, g_build_filename (providers_dir, name, NULL));
    }
  g_assert_cmpuint (files->len, >, 0);
  return files;
}

static TernAutoconfigConfig *
parse (const char  *path,
       GStrv       *domains)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  TernAutoconfigConfig *config;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  config = tern_autoconfig_parse (data, len, "someone@example.org", domains, &error);
  g_assert_no_error (error);
  return config;
}

static void
assert_secure (GPtrArray  *servers,
               const char *path)
{
  /* The preferred server is never plaintext; none may be, in fact. */
  for (guint i = 0; i < servers->len; i++)
    {
      const TernAutoconfigServer *server = g_ptr_array_index (servers, i);

      g_test_message ("%s: %s %s:%u %s", path, tern_autoconfig_protocol_to_string (server->protocol),
                      server->server->host, server->server->port,
                      tern_tls_mode_to_string (server->server->security));
      g_assert_cmpint (server->server->security, !=, TERN_TLS_MODE_PLAIN);
      g_assert_false (tern_autoconfig_server_is_insecure (server));
      g_assert_nonnull (server->server->username);
      g_assert_null (strchr (server->server->username, '%'));
      g_assert_null (strchr (server->server->host, '%'));
      if (server->server->security == TERN_TLS_MODE_IMPLICIT)
        g_assert_true (server->server->port == 993 || server->server->port == 995
                       || server->server->port == 465);
      else
        g_assert_true (server->server->port == 143 || server->server->port == 110
                       || server->server->port == 587);
    }
}

static void
test_every_file (void)
{
  g_autoptr(GPtrArray) files = list_files ();

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_auto(GStrv) domains = NULL;
      g_autoptr(TernAutoconfigConfig) config = parse (path, &domains);

      g_assert_cmpuint (config->incoming->len, >, 0);
      g_assert_cmpuint (config->outgoing->len, >, 0);
      g_assert_cmpint (((TernAutoconfigServer *) g_ptr_array_index (config->incoming, 0))->protocol,
                       !=, TERN_AUTOCONFIG_PROTOCOL_SMTP);
      assert_secure (config->incoming, path);
      assert_secure (config->outgoing, path);
      g_assert_false (config->insecure);
      g_assert_nonnull (config->provider_name);
      if (config->help_url != NULL)
        g_assert_true (g_str_has_prefix (config->help_url, "https://"));
      /* Only the hosting default is matched by no domain. */
      if (g_str_has_suffix (path, "hosting-default.xml"))
        g_assert_cmpuint (g_strv_length (domains), ==, 0);
      else
        g_assert_cmpuint (g_strv_length (domains), >, 0);
    }
}

static const char *
file_for (GPtrArray  *files,
          const char *domain)
{
  const char *found = NULL;

  for (guint i = 0; i < files->len; i++)
    {
      g_auto(GStrv) domains = NULL;
      g_autoptr(TernAutoconfigConfig) config = parse (g_ptr_array_index (files, i), &domains);

      if (g_strv_contains ((const char * const *) domains, domain))
        {
          /* One file per domain, or detection would depend on file order. */
          g_assert_null (found);
          found = g_ptr_array_index (files, i);
        }
    }
  return found;
}

static void
test_coverage (void)
{
  const char *domains[] = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "yandex.ru", "yandex.com", "ya.ru", "mail.ru", "inbox.ru", "list.ru",
    "bk.ru", "rambler.ru", "gmx.net", "gmx.de", "gmx.com", "web.de", "fastmail.com", "zoho.com",
    "aol.com",
  };
  g_autoptr(GPtrArray) files = list_files ();

  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_test_message ("%s", domains[i]);
      g_assert_nonnull (file_for (files, domains[i]));
    }
}

/* Providers that take no password say so; app-password ones say where. */
static void
test_password_kinds (void)
{
  const struct {
    const char             *file;
    TernAutoconfigPassword  kind;
  } expected[] = {
    { "gmail.xml", TERN_AUTOCONFIG_PASSWORD_OAUTH2 },
    { "outlook.xml", TERN_AUTOCONFIG_PASSWORD_OAUTH2 },
    { "yahoo.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "icloud.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "yandex.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "mail-ru.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "aol.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "fastmail.xml", TERN_AUTOCONFIG_PASSWORD_APP },
    { "gmx.xml", TERN_AUTOCONFIG_PASSWORD_NORMAL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *path = g_build_filename (providers_dir, expected[i].file, NULL);
      g_autoptr(TernAutoconfigConfig) config = parse (path, NULL);

      g_test_message ("%s", expected[i].file);
      g_assert_cmpint (config->password_kind, ==, expected[i].kind);
      if (expected[i].kind == TERN_AUTOCONFIG_PASSWORD_APP)
        g_assert_true (g_str_has_prefix (config->help_url, "https://"));
    }
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  providers_dir = g_test_build_filename (G_TEST_DIST, "..", "data", "providers", NULL);
  g_test_add_func ("/autoconfig-providers/every-file", test_every_file);
  g_test_add_func ("/autoconfig-providers/coverage", test_coverage);
  g_test_add_func ("/autoconfig-providers/password-kinds", test_password_kinds);
  status = g_test_run ();
  g_free (providers_dir);
  return status;
}
