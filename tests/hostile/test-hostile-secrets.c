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
#include <signal.h>
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
secrets_setup_for (Secrets *secrets,
                   guint    user)
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
  write_file (password_file, tern_test_servers_get_password (servers, user), 0600);

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
secrets_setup (Secrets *secrets)
{
  secrets_setup_for (secrets, 0);
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

/* The password as it could leak: itself, the SASL PLAIN message that
 * carries it (RFC 4616, no authzid, and with the user as authzid), and its
 * Base64 at each of the three alignments (the characters that depend on
 * its bytes alone). */
static GPtrArray *
password_forms (const char *user,
                const char *password)
{
  GPtrArray *forms = g_ptr_array_new_with_free_func (g_free);
  gsize user_len = strlen (user);
  gsize password_len = strlen (password);

  g_ptr_array_add (forms, g_strdup (password));
  for (guint authzid = 0; authzid < 2; authzid++)
    {
      g_autoptr(GByteArray) plain = g_byte_array_new ();

      if (authzid == 1)
        g_byte_array_append (plain, (const guint8 *) user, user_len);
      g_byte_array_append (plain, (const guint8 *) "", 1);
      g_byte_array_append (plain, (const guint8 *) user, user_len);
      g_byte_array_append (plain, (const guint8 *) "", 1);
      g_byte_array_append (plain, (const guint8 *) password, password_len);
      g_ptr_array_add (forms, g_base64_encode (plain->data, plain->len));
    }
  for (guint shift = 0; shift < 3; shift++)
    {
      g_autofree char *shifted = g_strdup_printf ("%.*s%s", shift, "xx", password);
      g_autofree char *encoded = g_base64_encode ((const guchar *) shifted, strlen (shifted));
      gsize skip = shift > 0 ? 4 : 0;

      /* Without the first group (it holds the shift) and the last (it
       * holds the padding). */
      g_assert_cmpuint (strlen (encoded), >, skip + 4 + 8);
      g_ptr_array_add (forms, g_strndup (encoded + skip, strlen (encoded) - skip - 4));
    }
  return forms;
}

static void
assert_no_form (GPtrArray  *forms,
                const char *text,
                const char *tree)
{
  for (guint i = 0; i < forms->len; i++)
    {
      const char *form = forms->pdata[i];

      if (text != NULL && strstr (text, form) != NULL)
        g_error ("form %u of the password (%s) is in the output", i, form);
      if (tree != NULL && tern_test_tree_contains (tree, form))
        g_error ("form %u of the password (%s) is in %s", i, form, tree);
    }
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
  g_autoptr(GPtrArray) forms = NULL;
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
  /* Nor encoded as it went to the servers. */
  forms = password_forms (user, password);
  assert_no_form (forms, secrets.output->str, secrets.profile);
  assert_no_form (forms, NULL, secrets.snapshots);

  secrets_teardown (&secrets);
}

static void
exited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static goffset
file_size (const char *path)
{
  GStatBuf buf;

  return g_stat (path, &buf) == 0 ? (goffset) buf.st_size : -1;
}

/* The WAL as it is while tern-cli works, long after it signed in: a sync
 * of a large mailbox is killed (SIGKILL, so SQLite neither checkpoints nor
 * removes the WAL) once the WAL has grown by 256 kB since the password
 * command ran.  The WAL, the database and the SHM hold no form of the
 * password, and neither does the debug log up to then. */
static void
test_wal_after_kill (void)
{
  const char *user = tern_test_servers_get_user (servers, 1);
  const char *password = tern_test_servers_get_password (servers, 1);
  g_autofree char *imap = g_strdup_printf ("127.0.0.1:%u:starttls",
                                           tern_test_servers_get_port (servers,
                                                                       TERN_TEST_SERVICE_IMAP));
  g_autofree char *smtp = g_strdup_printf ("127.0.0.1:%u:starttls",
                                           tern_test_servers_get_port (servers,
                                                                       TERN_TEST_SERVICE_SUBMISSION));
  g_autofree char *wal = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GPtrArray) forms = password_forms (user, password);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[9];
  goffset wal_at_password = -1;
  goffset wal_size = -1;
  gboolean killed = FALSE;
  gboolean exited = FALSE;
  Secrets secrets = { 0 };

  secrets_setup_for (&secrets, 1);
  wal = g_build_filename (secrets.profile, "tern.db-wal", NULL);
  log_path = g_build_filename (secrets.dir, "log", NULL);
  tern_test_servers_add_messages (servers, user, NULL, 600, &error);
  g_assert_no_error (error);
  run_cli (&secrets, 0, "account", "add", "--email", user, "--name", "Bob", "--imap", imap,
           "--smtp", smtp, "--password-command", secrets.command, NULL);

  argv[0] = g_getenv ("TERN_CLI");
  argv[1] = "--profile";
  argv[2] = secrets.profile;
  argv[3] = "--ca-file";
  argv[4] = tern_test_servers_get_ca_file (servers);
  argv[5] = "sync";
  argv[6] = "--bodies";
  argv[7] = "all";
  argv[8] = NULL;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  g_subprocess_wait_async (process, NULL, exited_cb, &exited);

  /* Polls; the sync of 600 messages with their bodies takes far longer
   * than a few polls. */
  while (!exited)
    {
      g_autoptr(GDir) snapshots = g_dir_open (secrets.snapshots, 0, NULL);

      if (wal_at_password < 0 && snapshots != NULL && g_dir_read_name (snapshots) != NULL)
        wal_at_password = MAX (file_size (wal), 0);
      wal_size = file_size (wal);
      if (!killed && wal_at_password >= 0 && wal_size >= wal_at_password + 256 * 1024)
        {
          g_subprocess_force_exit (process);
          killed = TRUE;
        }
      g_usleep (500);
      g_main_context_iteration (NULL, FALSE);
    }
  g_test_message ("WAL: %" G_GOFFSET_FORMAT " bytes when the password command ran, %"
                  G_GOFFSET_FORMAT " when tern-cli was killed", wal_at_password, wal_size);
  g_assert_true (killed);
  g_assert_true (g_subprocess_get_if_signaled (process));
  g_assert_cmpint (g_subprocess_get_term_sig (process), ==, SIGKILL);

  g_assert_cmpint (file_size (wal), >=, wal_at_password + 256 * 1024);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  assert_no_form (forms, log, secrets.profile);
  assert_no_form (forms, NULL, secrets.snapshots);

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
  g_test_add_func ("/tern/hostile/secrets/wal-after-kill", test_wal_after_kill);

  result = g_test_run ();
  tern_test_servers_free (servers);
  return result;
}
