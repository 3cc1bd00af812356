/* test-accounts.c: accounts in the store, passwords in the real Secret
 * Service (gnome-keyring, started by tests/servers/tern-test-session).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tern-app-error.h"
#include "tern-context.h"
#include "tern-test-util.h"

typedef TernTestProfile Fixture;

static TernAccount *
make_account (const char *address,
              const char *password_command)
{
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernServer) smtp = tern_server_new ("smtp.example.org", 587, TERN_TLS_MODE_STARTTLS);
  TernAccount *account;

  account = tern_account_new ("Анна Петрова", address, TERN_ACCOUNT_PROTOCOL_IMAP, imap, smtp);
  tern_account_set_password_command (account, password_command);
  return account;
}

static char *
random_password (void)
{
  return g_strdup_printf ("pw-%08x%08x-secret", g_random_int (), g_random_int ());
}

typedef struct
{
  GCancellable *cancellable;
  gulong delay_us;
} CancelLater;

static gpointer
cancel_later (gpointer user_data)
{
  CancelLater *later = user_data;

  g_usleep (later->delay_us);
  g_cancellable_cancel (later->cancellable);
  return NULL;
}

/* Clearing an account's passwords with a cancellable cancelled at any
 * moment: refused before it starts (both passwords kept), done once
 * started (both gone), never half.  libsecret returns a cancelled
 * clear twice, which the tests' fatal warnings would turn into an
 * abort. */
static void
test_clear_cancelled (Fixture       *fixture,
                      gconstpointer  data)
{
  guint refused = 0, done = 0;

  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GError) error = NULL;
      CancelLater later = { cancellable, g_random_int_range (0, 600) };
      GThread *thread;
      gboolean cleared;
      guint kept = 0;

      for (TernSecretRole role = TERN_SECRET_ROLE_INCOMING; role <= TERN_SECRET_ROLE_OUTGOING; role++)
        {
          g_assert_true (tern_secrets_store (uuid, role, "Tern test", "pw", NULL, &error));
          g_assert_no_error (error);
        }
      if (i == 0)
        g_cancellable_cancel (cancellable);
      thread = g_thread_new ("cancel", cancel_later, &later);
      cleared = tern_secrets_clear (uuid, cancellable, &error);
      g_thread_join (thread);
      for (TernSecretRole role = TERN_SECRET_ROLE_INCOMING; role <= TERN_SECRET_ROLE_OUTGOING; role++)
        {
          g_autoptr(GError) lookup_error = NULL;
          g_autofree char *stored = tern_secrets_lookup (uuid, role, NULL, &lookup_error);

          g_assert_no_error (lookup_error);
          kept += stored != NULL;
        }
      if (cleared)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (kept, ==, 0);
          done++;
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          g_assert_cmpuint (kept, ==, 2);
          g_assert_true (tern_secrets_clear (uuid, NULL, NULL));
          refused++;
        }
    }
  g_test_message ("%u refused, %u done", refused, done);
  g_assert_cmpuint (refused, >=, 1);
}

static void
test_add_list_remove (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autoptr(TernAccount) account = make_account ("anna@example.org", NULL);
  g_autofree char *password = random_password ();
  g_autofree char *uuid = g_strdup (tern_account_get_uuid (account));
  g_autofree char *stored = NULL;
  g_autoptr(TernAccount) loaded = NULL;
  TernAccountManager *accounts;

  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  accounts = tern_context_get_accounts (context);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);

  g_assert_true (tern_account_manager_add (accounts, account, password, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tern_account_get_id (account), >, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  g_clear_object (&context);

  /* A fresh context reads the same account back from the profile. */
  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  accounts = tern_context_get_accounts (context);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  loaded = g_list_model_get_item (G_LIST_MODEL (accounts), 0);
  g_assert_cmpstr (tern_account_get_uuid (loaded), ==, uuid);
  g_assert_cmpstr (tern_account_get_display_name (loaded), ==, "Анна Петрова");
  g_assert_cmpstr (tern_account_get_address (loaded), ==, "anna@example.org");
  g_assert_cmpstr (tern_account_get_incoming (loaded)->host, ==, "imap.example.org");
  g_assert_cmpuint (tern_account_get_incoming (loaded)->port, ==, 993);
  g_assert_cmpint (tern_account_get_incoming (loaded)->security, ==, TERN_TLS_MODE_IMPLICIT);
  g_assert_cmpstr (tern_account_get_incoming (loaded)->username, ==, "anna@example.org");
  g_assert_cmpint (tern_account_get_outgoing (loaded)->security, ==, TERN_TLS_MODE_STARTTLS);
  g_assert_true (tern_account_manager_lookup (accounts, "anna@example.org") == loaded);
  g_assert_true (tern_account_manager_lookup (accounts, uuid) == loaded);

  /* The password is in the keyring, for both servers, and nowhere in the
   * profile (database, WAL, anything). */
  stored = tern_account_manager_get_password (accounts, loaded, TERN_SECRET_ROLE_INCOMING, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, password);
  g_clear_pointer (&stored, g_free);
  stored = tern_account_manager_get_password (accounts, loaded, TERN_SECRET_ROLE_OUTGOING, NULL, &error);
  g_assert_cmpstr (stored, ==, password);
  g_assert_false (tern_test_tree_contains (fixture->dir, password));
  g_assert_true (tern_test_tree_contains (fixture->dir, "anna@example.org"));

  g_assert_true (tern_account_manager_remove (accounts, loaded, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
  g_clear_pointer (&stored, g_free);
  stored = tern_secrets_lookup (uuid, TERN_SECRET_ROLE_INCOMING, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (stored);
  g_clear_object (&context);

  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (context))), ==, 0);
}

static void
test_password_command (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autofree char *password = random_password ();
  g_autofree char *secret_file = g_build_filename (fixture->dir, "secret.txt", NULL);
  g_autofree char *command = g_strdup_printf ("cat '%s'", secret_file);
  g_autoptr(TernAccount) account = make_account ("cmd@example.org", command);
  g_autoptr(TernAccount) failing = make_account ("fail@example.org", "echo 'no such vault' >&2; exit 3");
  g_autofree char *got = NULL;
  g_autofree char *in_keyring = NULL;
  g_autofree char *contents = g_strdup_printf ("%s\nsecond line\n", password);
  TernAccountManager *accounts;

  g_assert_true (g_file_set_contents (secret_file, contents, -1, &error));
  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  accounts = tern_context_get_accounts (context);

  g_assert_true (tern_account_manager_add (accounts, account, NULL, NULL, &error));
  g_assert_no_error (error);
  got = tern_account_manager_get_password (accounts, account, TERN_SECRET_ROLE_INCOMING, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, password);

  /* Nothing went to the keyring, and the password (as opposed to the
   * command) is not in the profile. */
  in_keyring = tern_secrets_lookup (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING,
                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_null (in_keyring);
  g_assert_true (g_unlink (secret_file) == 0);
  g_assert_false (tern_test_tree_contains (fixture->dir, password));

  g_assert_true (tern_account_manager_add (accounts, failing, NULL, NULL, &error));
  g_clear_pointer (&got, g_free);
  got = tern_account_manager_get_password (accounts, failing, TERN_SECRET_ROLE_INCOMING, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND);
  g_assert_nonnull (strstr (error->message, "exit status 3"));
  g_assert_nonnull (strstr (error->message, "no such vault"));
}

static void
test_invalid (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAccount) no_at = make_account ("anna.example.org", NULL);
  g_autoptr(TernAccount) no_secret = make_account ("anna@example.org", NULL);
  TernAccountManager *accounts = tern_context_get_accounts (context);

  g_assert_false (tern_account_manager_add (accounts, no_at, "pw", NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (tern_account_manager_add (accounts, no_secret, NULL, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NO_PASSWORD);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
}

static void
test_server_parse (void)
{
  struct {
    const char *spec;
    const char *host;
    guint16 port;
    TernTlsMode mode;
  } good[] = {
    { "imap.example.org:993:tls", "imap.example.org", 993, TERN_TLS_MODE_IMPLICIT },
    { "127.0.0.1:10143:starttls", "127.0.0.1", 10143, TERN_TLS_MODE_STARTTLS },
    { "[::1]:25:plain", "::1", 25, TERN_TLS_MODE_PLAIN },
  };
  const char *bad[] = { "imap.example.org", "imap.example.org:993", "host:0:tls", "host:70000:tls",
                        "host:993:ssl", ":993:tls", "[::1:993:tls", "host:99x:tls" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TernServer) server = tern_server_parse (good[i].spec, &error);
      g_autofree char *back = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (server->host, ==, good[i].host);
      g_assert_cmpuint (server->port, ==, good[i].port);
      g_assert_cmpint (server->security, ==, good[i].mode);
      back = tern_server_to_string (server);
      g_assert_cmpstr (back, ==, good[i].spec);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TernServer) server = tern_server_parse (bad[i], &error);

      g_assert_null (server);
      g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/accounts/add-list-remove", TernTestProfile, NULL, tern_test_profile_setup, test_add_list_remove, tern_test_profile_teardown);
  g_test_add ("/tern/accounts/password-command", TernTestProfile, NULL, tern_test_profile_setup, test_password_command, tern_test_profile_teardown);
  g_test_add ("/tern/accounts/clear-cancelled", TernTestProfile, NULL, tern_test_profile_setup,
              test_clear_cancelled, tern_test_profile_teardown);
  g_test_add ("/tern/accounts/invalid", TernTestProfile, NULL, tern_test_profile_setup, test_invalid, tern_test_profile_teardown);
  g_test_add_func ("/tern/accounts/server-parse", test_server_parse);

  return g_test_run ();
}
