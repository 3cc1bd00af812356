/* test-hostile-secrets.c: after a full IMAP sync and a message sent
 * through the real Dovecot and Postfix, with the password from a password
 * command, the password is nowhere it must not be: not in the profile (the
 * SQLite file, its WAL and SHM, whenever the password command runs and at
 * the end), not in tern-cli's output or its logs with G_MESSAGES_DEBUG=all,
 * and not in the argv or environment of the password command or of any
 * process between it and tern-cli.
 *
 * The password command is a script that records, each time it runs, its
 * own /proc cmdline and environ and those of its ancestors up to tern-cli,
 * and a copy of the profile directory as it is at that moment, then prints
 * the password from a file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tern-test-servers.h"
#include "tern-test-util.h"

static TernTestServers *servers;

typedef struct {
  char *dir;
  char *profile;
  char *snapshots;
  char *command;
  GString *output;  /* every run's stdout and stderr */
} Secrets;

static void
run_cli (Secrets    *secrets,
         int         expected_status,
         const char *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, "--profile");
  g_ptr_array_add (argv, secrets->profile);
  g_ptr_array_add (argv, "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (servers));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s%s", first, out, err);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, expected_status);
  g_string_append (secrets->output, out);
  g_string_append (secrets->output, err);
}

static void
write_file (const char *path,
            const char *contents,
            int         mode)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

static void
secrets_setup (Secrets *secrets)
{
  g_autofree char *password_file = NULL;
  g_autofree char *script = NULL;

  secrets->dir = tern_test_make_tmpdir ("tern-hostile-secrets-XXXXXX");
  secrets->profile = g_build_filename (secrets->dir, "profile", NULL);
  secrets->snapshots = g_build_filename (secrets->dir, "snapshots", NULL);
  secrets->command = g_build_filename (secrets->dir, "password-command", NULL);
  secrets->output = g_string_new (NULL);
  g_assert_cmpint (g_mkdir (secrets->snapshots, 0700), ==, 0);

  password_file = g_build_filename (secrets->dir, "password", NULL);
  write_file (password_file, tern_test_servers_get_password (servers, 0), 0600);

  /* stat's 4th field is the parent; comm is "tern-cli" for tern-cli. */
  script = g_strdup_printf ("#!/bin/sh\n"
                            "snap='%s'/$$\n"
                            "mkdir -p \"$snap\"\n"
                            "p=$$\n"
                            "while [ \"$p\" -gt 1 ]; do\n"
                            "  cat /proc/$p/cmdline > \"$snap/cmdline.$p\"\n"
                            "  cat /proc/$p/environ > \"$snap/environ.$p\"\n"
                            "  [ \"$(cat /proc/$p/comm)\" = tern-cli ] && break\n"
                            "  p=$(cut -d ' ' -f 4 /proc/$p/stat)\n"
                            "done\n"
                            "cp -r '%s' \"$snap/profile\"\n"
                            "cat '%s'\n",
                            secrets->snapshots, secrets->profile, password_file);
  write_file (secrets->command, script, 0700);
}

static void
secrets_teardown (Secrets *secrets)
{
  tern_test_remove_tree (secrets->dir);
  g_free (secrets->dir);
  g_free (secrets->profile);
  g_free (secrets->snapshots);
  g_free (secrets->command);
  g_string_free (secrets->output, TRUE);
}

/* Every run of the password command left a snapshot holding tern-cli's
 * own command line: the check saw the whole chain. */
static guint
count_snapshots (Secrets *secrets)
{
  g_autoptr(GDir) dir = g_dir_open (secrets->snapshots, 0, NULL);
  const char *pid;
  guint count = 0;

  g_assert_nonnull (dir);
  while ((pid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (secrets->snapshots, pid, NULL);
      g_autoptr(GDir) files = g_dir_open (path, 0, NULL);
      const char *name;
      gboolean saw_cli = FALSE;

      g_assert_nonnull (files);
      while ((name = g_dir_read_name (files)) != NULL)
        {
          g_autofree char *file = g_build_filename (path, name, NULL);
          g_autofree char *contents = NULL;

          if (!g_str_has_prefix (name, "cmdline."))
            continue;
          g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
          saw_cli |= g_str_equal (contents, g_getenv ("TERN_CLI"));
        }
      g_assert_true (saw_cli);
      count++;
    }
  return count;
}

static void
test_password_nowhere (void)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  g_autofree char *imap = g_strdup_printf ("127.0.0.1:%u:tls",
                                           tern_test_servers_get_port (servers,
                                                                       TERN_TEST_SERVICE_IMAPS));
  g_autofree char *smtp = g_strdup_printf ("127.0.0.1:%u:starttls",
                                           tern_test_servers_get_port (servers,
                                                                       TERN_TEST_SERVICE_SUBMISSION));
  g_autofree char *body = NULL;
  g_autoptr(GError) error = NULL;
  Secrets secrets = { 0 };

  /* Random, and long enough that finding it anywhere is no accident. */
  g_assert_cmpuint (strlen (password), >=, 12);
  secrets_setup (&secrets);
  body = g_build_filename (secrets.dir, "body.txt", NULL);
  write_file (body, "Nothing secret in here.\n", 0600);
  tern_test_servers_add_messages (servers, user, NULL, 10, &error);
  g_assert_no_error (error);

  run_cli (&secrets, 0, "account", "add", "--email", user, "--name", "Alice", "--imap", imap,
           "--smtp", smtp, "--password-command", secrets.command, NULL);
  run_cli (&secrets, 0, "sync", NULL);
  run_cli (&secrets, 0, "compose", "--account", user, "--to", "bob@tern.test", "--subject",
           "Secrets test", "--body-file", body, NULL);
  /* Replays the Sent copy through the offline queue. */
  run_cli (&secrets, 0, "sync", NULL);
  run_cli (&secrets, 0, "outbox", "--json", NULL);
  g_assert_nonnull (strstr (secrets.output->str, "\"state\":\"sent\""));
  /* The debug log was on: it would have shown a password. */
  g_assert_nonnull (strstr (secrets.output->str, "DEBUG"));

  g_assert_null (strstr (secrets.output->str, password));
  g_assert_false (tern_test_tree_contains (secrets.profile, password));
  /* Snapshots of the profile while tern-cli ran (WAL and SHM included),
   * and every process from the password command up to tern-cli. */
  g_assert_cmpuint (count_snapshots (&secrets), >=, 2);
  g_assert_false (tern_test_tree_contains (secrets.snapshots, password));

  secrets_teardown (&secrets);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

  g_test_add_func ("/tern/hostile/secrets/password-nowhere", test_password_nowhere);

  result = g_test_run ();
  tern_test_servers_free (servers);
  return result;
}
