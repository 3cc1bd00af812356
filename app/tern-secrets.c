/* tern-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-secrets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tern-app-error.h"
#include "tern-secrets.h"
#include "tern-subprocess-private.h"

/* A password command may print a long token, never megabytes. */
#define MAX_PASSWORD_OUTPUT 8192

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "org.ternmail.Tern.Password",
    SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "role", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  };
  return &schema;
}

static const char *
role_name (TernSecretRole role)
{
  return role == TERN_SECRET_ROLE_OUTGOING ? "outgoing" : "incoming";
}

/* A cancelled call stays a cancellation, not "the keyring is not
 * available". */
static gboolean
secret_service_error (GError  *cause,
                      GError **error)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, cause);
      return FALSE;
    }
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_SECRET_SERVICE,
               _("The keyring (Secret Service) is not available: %s"), cause->message);
  g_error_free (cause);
  return FALSE;
}

gboolean
tern_secrets_store (const char      *account_uuid,
                    TernSecretRole   role,
                    const char      *label,
                    const char      *password,
                    GCancellable    *cancellable,
                    GError         **error)
{
  GError *local_error = NULL;

  g_return_val_if_fail (account_uuid != NULL, FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  if (!secret_password_store_sync (get_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                                   cancellable, &local_error,
                                   "account", account_uuid,
                                   "role", role_name (role),
                                   NULL))
    return secret_service_error (local_error, error);
  return TRUE;
}

char *
tern_secrets_lookup (const char      *account_uuid,
                     TernSecretRole   role,
                     GCancellable    *cancellable,
                     GError         **error)
{
  GError *local_error = NULL;
  char *secret;
  char *password;

  secret = secret_password_lookup_sync (get_schema (), cancellable, &local_error,
                                        "account", account_uuid,
                                        "role", role_name (role),
                                        NULL);
  if (local_error != NULL)
    {
      secret_service_error (local_error, error);
      return NULL;
    }

  /* libsecret hands out non-pageable memory; the rest of the engine frees
   * with g_free, so copy once here and wipe the original. */
  password = g_strdup (secret);
  secret_password_free (secret);
  return password;
}

gboolean
tern_secrets_clear (const char    *account_uuid,
                    GCancellable  *cancellable,
                    GError       **error)
{
  GError *local_error = NULL;

  /* A cancelled job does not start the removal, but a started one is not
   * cut off: libsecret 0.20.5 returns a clear whose D-Bus Delete was
   * cancelled twice, an error and then success (a GLib-GIO-CRITICAL,
   * fatal under the tests' G_DEBUG=fatal-warnings), and with the two
   * items of an account it may return before the second Delete is
   * answered.  The keyring may have deleted the item anyway: cancelling
   * only dropped the answer. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  secret_password_clear_sync (get_schema (), NULL, &local_error,
                              "account", account_uuid, NULL);
  if (local_error != NULL)
    return secret_service_error (local_error, error);
  return TRUE;
}

static char *
first_line (const char *text)
{
  return g_strndup (text, strcspn (text, "\r\n"));
}

/* The command's output is the password: freed memory should not keep it. */
static void
wipe (char *text)
{
  if (text != NULL)
    explicit_bzero (text, strlen (text));
}

void
tern_password_free (char *password)
{
  wipe (password);
  g_free (password);
}

/* In the child, before exec: only async-signal-safe calls. */
static void
new_process_group (gpointer user_data)
{
  setpgid (0, 0);
}

/* Ends a command nobody waits for any more: its whole process group when
 * it has one of its own (the shell forks the command line's programs, so
 * killing the shell alone would leave a prompt open), else the shell. */
static void
stop_command (GSubprocess *process,
              gboolean     own_group)
{
  const char *pid = g_subprocess_get_identifier (process); /* NULL once reaped */

  if (own_group && pid != NULL)
    kill (-(pid_t) atoi (pid), SIGTERM);
  g_subprocess_force_exit (process);
}

/* Runs the user's command (as mbsync's PassCmd) through /bin/sh and takes
 * the first line it prints.  The error never quotes the output: it may be
 * the password. */
char *
tern_password_command_run (const char    *command,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *err_line = NULL;
  gboolean own_group;
  char *password;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* Without a terminal (the window, a service), the command gets a process
   * group of its own, which a cancel can end as a whole.  On a terminal
   * it stays in the foreground group: a prompt there may read /dev/tty,
   * which a background group is stopped for. */
  own_group = !_tern_subprocess_has_terminal ();
  if (own_group)
    g_subprocess_launcher_set_child_setup (launcher, new_process_group, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &local_error, "/bin/sh", "-c", command, NULL);
  /* Not g_subprocess_communicate_utf8(): with a cancellable (a worker
   * job's), it writes into freed memory now and then (see
   * tern-subprocess.c). */
  if (process == NULL ||
      !_tern_subprocess_communicate_utf8 (process, NULL, cancellable, &out, &err, &local_error))
    {
      /* Cancelled (or cut off): nobody reads the answer any more, and a
       * command that prompts (zenity, a script of the user's) would keep
       * its window open for nothing. */
      if (process != NULL)
        stop_command (process, own_group);
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND,
                   _("The password command could not be run: %s"), local_error->message);
      return NULL;
    }

  if (!g_subprocess_get_successful (process))
    {
      err_line = first_line (err ? err : "");
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND,
                   _("The password command failed (exit status %d)%s%s"),
                   g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1,
                   *err_line ? ": " : "", err_line);
      return NULL;
    }

  if (out == NULL || strlen (out) > MAX_PASSWORD_OUTPUT || strcspn (out, "\r\n") == 0)
    {
      wipe (out);
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND,
                           _("The password command printed no password"));
      return NULL;
    }

  password = first_line (out);
  wipe (out);
  return password;
}
