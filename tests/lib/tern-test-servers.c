/* tern-test-servers.c: start the real mail servers of tests/servers/ from a
 * GLib test program, by running the tern-test-servers script.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-test-servers.h"
#include "tern-test-util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_SERVICES (TERN_TEST_SERVICE_SUBMISSIONS + 1)
#define N_CERTS (TERN_TEST_CERT_WRONG_HOST + 1)

struct _TernTestServers
{
  char *script;
  char *dir;
  char *ca_file;
  char *cert_files[N_CERTS];
  char *addresses[N_CERTS];
  guint16 ports[N_SERVICES];
  GPtrArray *users;
  GPtrArray *passwords;
  char *dovecot_config;
  char *dovecot_base_dir;
  char *dovecot_instance;
  char *postfix_config_dir;
  char *postfix_queue_dir;
  gboolean running;
};

/* Key names in servers.ini, in enum order. */
static const char *const service_keys[N_SERVICES] = {
  "imap", "imaps", "pop3", "pop3s", "lmtp", "submission", "submissions",
};

static const char *const cert_keys[N_CERTS] = {
  "good", "expired", "self_signed", "wrong_host",
};

static const char *
script_path (void)
{
  const char *env = g_getenv ("TERN_TEST_SERVERS");

  if (env != NULL && *env != '\0')
    return env;
#ifdef TERN_TEST_SERVERS_SCRIPT
  return TERN_TEST_SERVERS_SCRIPT;
#else
  return NULL;
#endif
}

/* Runs the script with @argv (NULL-terminated, without the script itself);
 * on failure sets @error with the script's stderr. */
static gboolean
run_script (const char          *script,
            const char *const   *argv,
            char               **out_stdout,
            GError             **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) local_error = NULL;

  g_ptr_array_add (args, (gpointer) script);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);

  proc = g_subprocess_newv ((const char *const *) args->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &local_error);
  if (proc == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot run %s %s: %s", script, argv[0],
                   local_error->message);
      return FALSE;
    }

  if (!g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err,
                                      &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Running %s %s failed: %s", script, argv[0],
                   local_error->message);
      return FALSE;
    }

  if (!g_subprocess_get_if_exited (proc)
      || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *cmdline = g_strjoinv (" ", (char **) argv);

      g_strstrip (err);
      if (g_subprocess_get_if_exited (proc))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "%s %s failed (exit status %d): %s", script, cmdline,
                     g_subprocess_get_exit_status (proc),
                     *err != '\0' ? err : "(no error output)");
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "%s %s was killed by signal %d: %s", script, cmdline,
                     g_subprocess_get_term_sig (proc),
                     *err != '\0' ? err : "(no error output)");
      return FALSE;
    }

  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  return TRUE;
}

static char *
dup_string (GKeyFile    *ini,
            const char  *group,
            const char  *key,
            GError     **error)
{
  char *value = g_key_file_get_string (ini, group, key, error);

  if (value == NULL)
    g_prefix_error (error, "servers.ini: ");
  return value;
}

static gboolean
load_ini (TernTestServers  *self,
          GError          **error)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (self->dir, "servers.ini", NULL);
  gint64 count;

  if (!g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, error))
    {
      g_prefix_error (error, "Cannot read %s: ", path);
      return FALSE;
    }

  self->ca_file = dup_string (ini, "servers", "ca_file", error);
  if (self->ca_file == NULL)
    return FALSE;
  self->dovecot_config = dup_string (ini, "servers", "dovecot_config", error);
  if (self->dovecot_config == NULL)
    return FALSE;
  self->dovecot_base_dir = dup_string (ini, "servers", "base_dir", error);
  if (self->dovecot_base_dir == NULL)
    return FALSE;
  self->dovecot_instance = dup_string (ini, "servers", "instance", error);
  if (self->dovecot_instance == NULL)
    return FALSE;
  self->postfix_config_dir = dup_string (ini, "servers", "postfix_config_dir", error);
  if (self->postfix_config_dir == NULL)
    return FALSE;
  self->postfix_queue_dir = dup_string (ini, "servers", "postfix_queue_dir", error);
  if (self->postfix_queue_dir == NULL)
    return FALSE;

  for (guint i = 0; i < N_SERVICES; i++)
    {
      g_autofree char *value = dup_string (ini, "ports", service_keys[i],
                                           error);
      guint64 port;

      if (value == NULL)
        return FALSE;
      if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port,
                                       error))
        {
          g_prefix_error (error, "servers.ini: port %s: ", service_keys[i]);
          return FALSE;
        }
      self->ports[i] = (guint16) port;
    }

  for (guint i = 0; i < N_CERTS; i++)
    {
      self->cert_files[i] = dup_string (ini, "certs", cert_keys[i], error);
      if (self->cert_files[i] == NULL)
        return FALSE;
      self->addresses[i] = dup_string (ini, "addresses", cert_keys[i], error);
      if (self->addresses[i] == NULL)
        return FALSE;
    }

  count = g_key_file_get_int64 (ini, "users", "count", error);
  if (count <= 0)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                     "servers.ini: no users");
      else
        g_prefix_error (error, "servers.ini: ");
      return FALSE;
    }
  for (gint64 i = 0; i < count; i++)
    {
      g_autofree char *ukey = g_strdup_printf ("user%" G_GINT64_FORMAT, i);
      g_autofree char *pkey = g_strdup_printf ("password%" G_GINT64_FORMAT, i);
      char *user = dup_string (ini, "users", ukey, error);
      char *password;

      if (user == NULL)
        return FALSE;
      g_ptr_array_add (self->users, user);
      password = dup_string (ini, "users", pkey, error);
      if (password == NULL)
        return FALSE;
      g_ptr_array_add (self->passwords, password);
    }

  return TRUE;
}

TernTestServers *
tern_test_servers_start (GError **error)
{
  g_autoptr(TernTestServers) self = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *pid = NULL;
  const char *script = script_path ();

  if (script == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "TERN_TEST_SERVERS is not set: it names the "
                   "tests/servers/tern-test-servers script (meson test sets it)");
      return NULL;
    }

  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR)
      || !g_file_test (script, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "TERN_TEST_SERVERS names %s, which is not an executable "
                   "file (it should be tests/servers/tern-test-servers)",
                   script);
      return NULL;
    }

  self = g_new0 (TernTestServers, 1);
  self->script = g_strdup (script);
  self->users = g_ptr_array_new_with_free_func (g_free);
  self->passwords = g_ptr_array_new_with_free_func (g_free);

  self->dir = g_dir_make_tmp ("tern-test-servers-XXXXXX", &local_error);
  if (self->dir == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot create a temporary directory for the test "
                   "servers: %s", local_error->message);
      return NULL;
    }

  pid = g_strdup_printf ("%d", (int) getpid ());
  {
    const char *argv[] = {
      "start", "--dir", self->dir, "--watch-pid", pid, NULL
    };

    /* Even when start fails half-way, free() runs stop for what did start. */
    self->running = TRUE;
    if (!run_script (self->script, argv, NULL, error))
      return NULL;
  }

  if (!load_ini (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

void
tern_test_servers_free (TernTestServers *self)
{
  if (self == NULL)
    return;

  if (self->running)
    {
      const char *argv[] = { "stop", "--dir", self->dir, NULL };
      g_autoptr(GError) error = NULL;

      /* Not g_warning(): tests run with G_DEBUG=fatal-warnings, and a failed
       * stop must not hide the test's own result. */
      if (!run_script (self->script, argv, NULL, &error))
        g_printerr ("# tern-test-servers: %s\n", error->message);
    }

  if (self->dir != NULL)
    tern_test_remove_tree (self->dir);

  g_free (self->script);
  g_free (self->dir);
  g_free (self->ca_file);
  g_free (self->dovecot_config);
  g_free (self->dovecot_base_dir);
  g_free (self->dovecot_instance);
  g_free (self->postfix_config_dir);
  g_free (self->postfix_queue_dir);
  for (guint i = 0; i < N_CERTS; i++)
    {
      g_free (self->cert_files[i]);
      g_free (self->addresses[i]);
    }
  g_clear_pointer (&self->users, g_ptr_array_unref);
  g_clear_pointer (&self->passwords, g_ptr_array_unref);
  g_free (self);
}

const char *
tern_test_servers_get_dir (TernTestServers *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->dir;
}

const char *
tern_test_servers_get_ca_file (TernTestServers *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->ca_file;
}

const char *
tern_test_servers_get_cert_file (TernTestServers *self,
                                 TernTestCert     cert)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail ((guint) cert < N_CERTS, NULL);

  return self->cert_files[cert];
}

const char *
tern_test_servers_get_address (TernTestServers *self,
                               TernTestCert     cert)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail ((guint) cert < N_CERTS, NULL);

  return self->addresses[cert];
}

guint16
tern_test_servers_get_port (TernTestServers *self,
                            TernTestService  service)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail ((guint) service < N_SERVICES, 0);

  return self->ports[service];
}

const char *
tern_test_servers_get_user (TernTestServers *self,
                            guint            index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->users->len, NULL);

  return g_ptr_array_index (self->users, index);
}

const char *
tern_test_servers_get_password (TernTestServers *self,
                                guint            index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->passwords->len, NULL);

  return g_ptr_array_index (self->passwords, index);
}

gboolean
tern_test_servers_add_messages (TernTestServers  *self,
                                const char       *user,
                                const char       *folder,
                                guint             count,
                                GError          **error)
{
  g_autofree char *count_str = NULL;
  const char *argv[11];
  guint n = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (user != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  count_str = g_strdup_printf ("%u", count);
  argv[n++] = "add-messages";
  argv[n++] = "--dir";
  argv[n++] = self->dir;
  argv[n++] = "--user";
  argv[n++] = user;
  if (folder != NULL)
    {
      argv[n++] = "--folder";
      argv[n++] = folder;
    }
  argv[n++] = "--count";
  argv[n++] = count_str;
  argv[n] = NULL;

  return run_script (self->script, argv, NULL, error);
}

const char *
tern_test_servers_get_dovecot_config (TernTestServers *self)
{
  return self->dovecot_config;
}

static gboolean
imaps_answers (TernTestServers *self)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                self->ports[TERN_TEST_SERVICE_IMAPS], NULL, NULL);
  return connection != NULL;
}

static gboolean
wait_for_imaps (TernTestServers  *self,
                gboolean          up,
                GError          **error)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (imaps_answers (self) != up)
    {
      if (g_get_monotonic_time () > end)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Dovecot did not %s within 10 s",
                       up ? "come up" : "go away");
          return FALSE;
        }
      g_usleep (20000);
    }
  return TRUE;
}

/* Dovecot's master leaves running sessions alone when it stops; a server
 * that goes away takes its connections with it, so those processes (named
 * "dovecot-INSTANCE/imap" and so on) are killed too. */
static void
kill_sessions (TernTestServers *self)
{
  g_autofree char *prefix = g_strdup_printf ("dovecot-%s/", self->dovecot_instance);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      guint64 pid;

      if (g_ascii_string_to_unsigned (name, 10, 2, G_MAXINT, &pid, NULL) &&
          g_file_get_contents (path, &cmdline, NULL, NULL) && g_str_has_prefix (cmdline, prefix))
        kill ((pid_t) pid, SIGKILL);
    }
}

/* Gone, or a zombie that init has not reaped yet. */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *state;

  if (kill (pid, 0) != 0 || !g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  state = strrchr (stat, ')');
  return state != NULL && (state[2] == 'Z' || state[2] == 'X');
}

gboolean
tern_test_servers_stop_dovecot (TernTestServers  *self,
                                GError          **error)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_autofree char *pid_file = g_build_filename (self->dovecot_base_dir, "master.pid", NULL);
  g_autofree char *text = NULL;
  gint64 pid;

  if (!g_file_get_contents (pid_file, &text, NULL, error))
    return FALSE;
  pid = g_ascii_strtoll (text, NULL, 10);
  if (pid <= 1 || kill ((pid_t) pid, SIGTERM) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot stop Dovecot (pid %s)", text);
      return FALSE;
    }
  kill_sessions (self);
  /* The master lingers about a second after its children; starting again
   * before it is gone fails with "already running". */
  while (!process_gone ((pid_t) pid))
    {
      if (g_get_monotonic_time () > end)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Dovecot (pid %d) did not exit",
                       (int) pid);
          return FALSE;
        }
      g_usleep (20000);
    }
  return wait_for_imaps (self, FALSE, error);
}

gboolean
tern_test_servers_start_dovecot (TernTestServers  *self,
                                 GError          **error)
{
  const char *argv[] = { "dovecot", "-c", self->dovecot_config, NULL };
  int status = 0;

  /* The daemon keeps what it inherited: give it no pipes to hold open. */
  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    return FALSE;
  return wait_for_imaps (self, TRUE, error);
}

static gboolean
port_answers (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;

  g_socket_client_set_timeout (client, 1);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return connection != NULL;
}

static gboolean
wait_for_submission (TernTestServers  *self,
                     gboolean          up,
                     GError          **error)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (port_answers (self->ports[TERN_TEST_SERVICE_SUBMISSIONS]) != up
         || port_answers (self->ports[TERN_TEST_SERVICE_SUBMISSION]) != up)
    {
      if (g_get_monotonic_time () > end)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Postfix did not %s within 10 s",
                       up ? "come up" : "go away");
          return FALSE;
        }
      g_usleep (20000);
    }
  return TRUE;
}

gboolean
tern_test_servers_stop_postfix (TernTestServers  *self,
                                GError          **error)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autofree char *pid_file = g_build_filename (self->postfix_queue_dir, "pid", "master.pid",
                                                NULL);
  g_autofree char *text = NULL;
  gint64 pid;

  if (!g_file_get_contents (pid_file, &text, NULL, error))
    return FALSE;
  pid = g_ascii_strtoll (g_strstrip (text), NULL, 10);
  /* SIGTERM: the master stops its children (smtpd included) and exits. */
  if (pid <= 1 || kill ((pid_t) pid, SIGTERM) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot stop Postfix (pid %s)", text);
      return FALSE;
    }
  while (!process_gone ((pid_t) pid))
    {
      if (g_get_monotonic_time () > end)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Postfix (pid %d) did not exit",
                       (int) pid);
          return FALSE;
        }
      g_usleep (20000);
    }
  return wait_for_submission (self, FALSE, error);
}

gboolean
tern_test_servers_start_postfix (TernTestServers  *self,
                                 GError          **error)
{
  const char *postconf[] = { "postconf", "-c", self->postfix_config_dir, "-h",
                             "daemon_directory", NULL };
  g_autofree char *daemon_dir = NULL;
  g_autofree char *master = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) postconf, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &daemon_dir, NULL, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    return FALSE;
  master = g_build_filename (g_strstrip (daemon_dir), "master", NULL);
  {
    /* What the tern-test-servers script runs: master -w daemonizes once it
     * is ready. */
    const char *argv[] = { master, "-c", self->postfix_config_dir, "-w", NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL,
                       G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                       NULL, &status, error) ||
        !g_spawn_check_wait_status (status, error))
      return FALSE;
  }
  return wait_for_submission (self, TRUE, error);
}
