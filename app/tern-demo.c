/* tern-demo.c: the demo behind `tern --demo`.
 *
 * The data/demo/tern-demo script does the servers and the mailbox; this file
 * runs it, reads the settings it prints (as a key file: the project has a
 * JSON writer, not a parser) and keeps the demo profile's accounts in step
 * with them, since every start of the servers picks new ports and passwords.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-demo"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-demo.h"
#include "tern-subprocess-private.h"

const char *
tern_demo_get_script (void)
{
  const char *env = g_getenv ("TERN_DEMO_SCRIPT");

  return env != NULL && *env != '\0' ? env : TERN_DEMO_SCRIPT;
}

static char *
default_runtime_dir (const char *runtime_dir)
{
  return g_strdup (runtime_dir != NULL ? runtime_dir : g_get_user_runtime_dir ());
}

/* Runs tern-demo with @argv; returns its standard output.  Its standard
 * error is the reason when it fails. */
static char *
run_script (const char * const  *argv,
            GCancellable        *cancellable,
            GError             **error)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) local_error = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &local_error);
  if (process == NULL ||
      !_tern_subprocess_communicate_utf8 (process, NULL, cancellable, &out, &err, &local_error))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                   _("The demo mail servers could not be started: %s"), local_error->message);
      return NULL;
    }
  if (g_subprocess_get_if_exited (process) && g_subprocess_get_exit_status (process) == 0)
    return g_steal_pointer (&out);

  g_strstrip (err);
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
               _("The demo mail servers could not be started: %s"),
               *err != '\0' ? err : _("tern-demo failed without saying why."));
  return NULL;
}

static TernServer *
demo_server (GKeyFile    *settings,
             const char  *service,
             TernTlsMode  security,
             GError     **error)
{
  g_autofree char *host = g_key_file_get_string (settings, "demo", "host", error);
  guint64 port;

  if (host == NULL)
    return NULL;
  port = g_key_file_get_uint64 (settings, "demo", service, error);
  if (port == 0 || port > G_MAXUINT16)
    {
      g_clear_error (error);
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The demo mail servers gave no port for %s."), service);
      return NULL;
    }
  return tern_server_new (host, (guint16) port, security);
}

static gboolean
same_server (const TernServer *a,
             const TernServer *b)
{
  return g_strcmp0 (a->host, b->host) == 0 && a->port == b->port && a->security == b->security;
}

/* Keeps the account of @address if it still matches the servers, else
 * replaces it: restarted servers have new ports and passwords. */
static gboolean
ensure_account (TernContext          *context,
                GKeyFile             *settings,
                const char           *display_name,
                const char           *address,
                TernAccountProtocol   protocol,
                const char           *incoming_service,
                GCancellable         *cancellable,
                GError              **error)
{
  TernAccountManager *manager = tern_context_get_accounts (context);
  TernAccount *existing = tern_account_manager_lookup (manager, address);
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *password = NULL;

  password = g_key_file_get_string (settings, address, "password", error);
  if (password == NULL)
    return FALSE;
  incoming = demo_server (settings, incoming_service, TERN_TLS_MODE_IMPLICIT, error);
  if (incoming == NULL)
    return FALSE;
  outgoing = demo_server (settings, "submission", TERN_TLS_MODE_STARTTLS, error);
  if (outgoing == NULL)
    return FALSE;

  if (existing != NULL && tern_account_get_protocol (existing) == protocol &&
      same_server (tern_account_get_incoming (existing), incoming) &&
      same_server (tern_account_get_outgoing (existing), outgoing))
    {
      g_autofree char *stored = tern_account_manager_get_password (manager, existing,
                                                                   TERN_SECRET_ROLE_INCOMING,
                                                                   cancellable, NULL);

      if (g_strcmp0 (stored, password) == 0)
        return TRUE;
    }
  if (existing != NULL && !tern_account_manager_remove (manager, existing, cancellable, error))
    return FALSE;

  account = tern_account_new (display_name, address, protocol, incoming, outgoing);
  return tern_account_manager_add (manager, account, password, cancellable, error);
}

TernContext *
tern_demo_open (const char    *runtime_dir,
                const char    *profile_dir,
                GPid           watch_pid,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree char *runtime = default_runtime_dir (runtime_dir);
  g_autofree char *default_profile = NULL;
  g_autofree char *pid = g_strdup_printf ("%d", (int) watch_pid);
  g_autofree char *out = NULL;
  g_autofree char *ca_file = NULL;
  g_autoptr(GKeyFile) settings = g_key_file_new ();
  g_autoptr(TernContext) context = NULL;
  const char *argv[] = { tern_demo_get_script (), "start", runtime, "--format=keyfile",
                         watch_pid > 0 ? "--watch-pid" : NULL, pid, NULL };

  out = run_script (argv, cancellable, error);
  if (out == NULL)
    return NULL;
  if (!g_key_file_load_from_data (settings, out, -1, G_KEY_FILE_NONE, error))
    return NULL;
  ca_file = g_key_file_get_string (settings, "demo", "ca_file", error);
  if (ca_file == NULL)
    return NULL;

  if (profile_dir == NULL)
    profile_dir = default_profile = g_build_filename (g_get_user_data_dir (), "tern-demo", NULL);
  context = tern_context_new (profile_dir, error);
  if (context == NULL)
    return NULL;
  /* The demo CA is trusted by this context only, not by the user's
   * settings. */
  tern_context_set_ca_file (context, ca_file);

  if (!ensure_account (context, settings, _("Demo"), "alice@tern.test",
                       TERN_ACCOUNT_PROTOCOL_IMAP, "imaps", cancellable, error) ||
      !ensure_account (context, settings, _("Demo (POP3)"), "bob@tern.test",
                       TERN_ACCOUNT_PROTOCOL_POP3, "pop3s", cancellable, error))
    return NULL;
  return g_steal_pointer (&context);
}

gboolean
tern_demo_stop (const char  *runtime_dir,
                GError     **error)
{
  g_autofree char *runtime = default_runtime_dir (runtime_dir);
  const char *argv[] = { tern_demo_get_script (), "stop", runtime, NULL };
  g_autofree char *out = run_script (argv, NULL, error);

  return out != NULL;
}
