/* test-cli.c: tern-cli as a script uses it, with the real keyring.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>

#include "tern-test-util.h"

typedef TernTestProfile Fixture;

typedef struct
{
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs tern-cli with @args (NULL-terminated), feeding @input on stdin. */
static void
run_cli_v (Run         *run,
           const char  *input,
           const char  *profile_env,
           const char  *bus_env,
           const char  *first,
           va_list      ap)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("TERN_CLI");

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (profile_env != NULL)
    g_subprocess_launcher_setenv (launcher, "TERN_PROFILE", profile_env, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "TERN_PROFILE");
  if (bus_env != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", bus_env, TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

static void
run_cli (Run        *run,
         const char *input,
         const char *profile_env,
         const char *first,
         ...)
{
  va_list ap;

  va_start (ap, first);
  run_cli_v (run, input, profile_env, NULL, first, ap);
  va_end (ap);
}

/* As run_cli(), with the session bus (and so the keyring) out of reach. */
static void
run_cli_without_keyring (Run        *run,
                         const char *input,
                         const char *first,
                         ...)
{
  g_autofree char *bus = g_strdup_printf ("unix:path=%s/no-such-bus", g_get_tmp_dir ());
  va_list ap;

  va_start (ap, first);
  run_cli_v (run, input, NULL, bus, first, ap);
  va_end (ap);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_version_and_usage (Fixture       *fixture,
                        gconstpointer  data)
{
  g_auto(Run) version = { 0 };
  g_auto(Run) nothing = { 0 };
  g_auto(Run) unknown = { 0 };

  run_cli (&version, NULL, NULL, "--version", NULL);
  g_assert_cmpint (version.status, ==, 0);
  g_assert_cmpstr (version.out, ==, "tern-cli " PACKAGE_VERSION "\n");

  run_cli (&nothing, NULL, NULL, "--profile", fixture->profile, NULL);
  g_assert_cmpint (nothing.status, ==, 2);
  g_assert_nonnull (strstr (nothing.err, "account"));

  run_cli (&unknown, NULL, NULL, "--profile", fixture->profile, "frobnicate", NULL);
  g_assert_cmpint (unknown.status, ==, 2);
  g_assert_nonnull (strstr (unknown.err, "frobnicate"));
}

static void
test_account_lifecycle (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *password = g_strdup_printf ("cli-%08x-pw", g_random_int ());
  g_autofree char *input = g_strdup_printf ("%s\n", password);
  g_auto(Run) add = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) list_env = { 0 };
  g_auto(Run) missing = { 0 };
  g_auto(Run) bad_server = { 0 };
  g_auto(Run) remove_unknown = { 0 };
  g_auto(Run) remove = { 0 };
  g_auto(Run) list_after = { 0 };

  run_cli (&add, input, NULL, "--profile", fixture->profile, "account", "add",
           "--email", "cli@example.org", "--name", "Cli User",
           "--imap", "127.0.0.1:10143:starttls", "--smtp", "127.0.0.1:10587:starttls",
           "--password-stdin", NULL);
  g_assert_cmpstr (add.err, ==, "");
  g_assert_cmpint (add.status, ==, 0);
  g_assert_cmpstr (add.out, ==, "1\n");

  run_cli (&list, NULL, NULL, "--profile", fixture->profile, "account", "list", "--json", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_nonnull (strstr (list.out, "\"email\":\"cli@example.org\""));
  g_assert_nonnull (strstr (list.out, "\"name\":\"Cli User\""));
  g_assert_nonnull (strstr (list.out, "\"host\":\"127.0.0.1\",\"port\":10143,\"security\":\"starttls\""));
  g_assert_nonnull (strstr (list.out, "\"password\":\"keyring\""));
  g_assert_null (strstr (list.out, password));

  /* TERN_PROFILE chooses the profile when --profile does not. */
  run_cli (&list_env, NULL, fixture->profile, "account", "list", NULL);
  g_assert_cmpint (list_env.status, ==, 0);
  g_assert_true (g_str_has_prefix (list_env.out, "1\tcli@example.org\tCli User\timap 127.0.0.1:10143:starttls"));

  run_cli (&missing, "x\n", NULL, "--profile", fixture->profile, "account", "add",
           "--email", "x@example.org", "--password-stdin", NULL);
  g_assert_cmpint (missing.status, ==, 2);
  g_assert_nonnull (strstr (missing.err, "--imap"));

  run_cli (&bad_server, "x\n", NULL, "--profile", fixture->profile, "account", "add",
           "--email", "x@example.org", "--imap", "imap.example.org:993:ssl", "--password-stdin", NULL);
  g_assert_cmpint (bad_server.status, ==, 2);
  g_assert_nonnull (strstr (bad_server.err, "HOST:PORT:tls"));

  run_cli (&remove_unknown, NULL, NULL, "--profile", fixture->profile, "account", "remove", "42", NULL);
  g_assert_cmpint (remove_unknown.status, ==, 1);
  g_assert_cmpuint (count_lines (remove_unknown.err), ==, 1);

  g_assert_false (tern_test_tree_contains (fixture->dir, password));

  run_cli (&remove, NULL, NULL, "--profile", fixture->profile, "account", "remove", "cli@example.org", NULL);
  g_assert_cmpint (remove.status, ==, 0);
  run_cli (&list_after, NULL, NULL, "--profile", fixture->profile, "account", "list", NULL);
  g_assert_cmpint (list_after.status, ==, 0);
  g_assert_cmpstr (list_after.out, ==, "");
}

static void
test_certificates (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  g_auto(Run) accept = { 0 };
  g_auto(Run) accept_v6 = { 0 };
  g_auto(Run) bad = { 0 };
  g_auto(Run) list = { 0 };
  g_auto(Run) forget = { 0 };
  g_auto(Run) list_after = { 0 };

  run_cli (&accept, NULL, NULL, "--profile", fixture->profile, "certificate", "accept",
           "Mail.Example.ORG:993", hex, NULL);
  g_assert_cmpint (accept.status, ==, 0);
  run_cli (&accept_v6, NULL, NULL, "--profile", fixture->profile, "certificate", "accept",
           "[::1]:10993", hex, NULL);
  g_assert_cmpint (accept_v6.status, ==, 0);
  run_cli (&bad, NULL, NULL, "--profile", fixture->profile, "certificate", "accept",
           "mail.example.org:995", "AB:CD", NULL);
  g_assert_cmpint (bad.status, ==, 2);
  g_assert_nonnull (strstr (bad.err, "AB:CD"));

  run_cli (&list, NULL, NULL, "--profile", fixture->profile, "certificate", "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_cmpstr (list.out, ==,
                   "[::1]:10993\t00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\n"
                   "mail.example.org:993\t00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                   "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\n");

  run_cli (&forget, NULL, NULL, "--profile", fixture->profile, "certificate", "forget",
           "mail.example.org:993", NULL);
  g_assert_cmpint (forget.status, ==, 0);
  run_cli (&list_after, NULL, NULL, "--profile", fixture->profile, "certificate", "list", NULL);
  g_assert_true (g_str_has_prefix (list_after.out, "[::1]:10993\t"));
  g_assert_cmpuint (count_lines (list_after.out), ==, 1);
}

/* Without a keyring the account is refused, and nothing is left behind:
 * not the account, and certainly not the password in a file. */
static void
test_no_keyring (Fixture       *fixture,
                 gconstpointer  data)
{
  g_auto(Run) add = { 0 };
  g_auto(Run) list = { 0 };

  run_cli_without_keyring (&add, "nokeyring-pw\n", "--profile", fixture->profile, "account", "add",
                           "--email", "k@example.org", "--imap", "127.0.0.1:10993:tls",
                           "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 1);
  g_assert_nonnull (strstr (add.err, "keyring"));
  g_assert_cmpuint (count_lines (add.err), ==, 1);

  run_cli (&list, NULL, NULL, "--profile", fixture->profile, "account", "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_cmpstr (list.out, ==, "");
  g_assert_false (tern_test_tree_contains (fixture->dir, "nokeyring-pw"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Some runs exit (usage errors) before reading the stdin we feed them;
   * the write must then fail with EPIPE, not kill the test. */
  signal (SIGPIPE, SIG_IGN);

  g_test_add ("/tern/cli/version-and-usage", TernTestProfile, NULL, tern_test_profile_setup, test_version_and_usage, tern_test_profile_teardown);
  g_test_add ("/tern/cli/account-lifecycle", TernTestProfile, NULL, tern_test_profile_setup, test_account_lifecycle, tern_test_profile_teardown);

  g_test_add ("/tern/cli/certificates", TernTestProfile, NULL, tern_test_profile_setup, test_certificates, tern_test_profile_teardown);
  g_test_add ("/tern/cli/no-keyring", TernTestProfile, NULL, tern_test_profile_setup, test_no_keyring, tern_test_profile_teardown);

  return g_test_run ();
}
