/* tern-imap-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap-session"

#include "config.h"

#include "tern-imap-session.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"

/* Long enough for a slow server, short enough that an unreachable one
 * turns into "offline" soon.  The I/O timeout stays the connection's: IDLE
 * is silent for minutes. */
#define CONNECT_TIMEOUT_SECONDS 20

/* COMPRESS=DEFLATE trades CPU on both ends for bandwidth; a server on
 * this machine (a bridge, a local Dovecot) has no bandwidth to save, and a
 * header sync over loopback spent more time compressing than sending. */
static gboolean
is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

typedef struct
{
  TernContext *context;
  TernAccount *account;
  GCancellable *cancellable;
  char *password;
  GError *error;
} PasswordLookup;

static gpointer
lookup_password_thread (gpointer user_data)
{
  PasswordLookup *lookup = user_data;

  lookup->password = tern_account_manager_get_password (tern_context_get_accounts (lookup->context),
                                                        lookup->account, TERN_SECRET_ROLE_INCOMING,
                                                        lookup->cancellable, &lookup->error);
  return NULL;
}

/* Connects and reads the greeting and capabilities. */
static TernImapClient *
open_client (TernContext       *context,
             const TernServer  *server,
             GCancellable      *cancellable,
             GError           **error)
{
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernImapClient) client = NULL;

  connection = tern_context_new_connection (context, server, error);
  if (connection == NULL)
    return NULL;
  tern_connection_set_connect_timeout (connection, CONNECT_TIMEOUT_SECONDS);
  client = tern_imap_client_new (connection);
  if (!tern_imap_client_open (client, cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

TernImapClient *
tern_imap_session_open (TernContext   *context,
                        TernAccount   *account,
                        GCancellable  *cancellable,
                        GError       **error)
{
  const TernServer *server;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) open_error = NULL;
  g_autofree char *password = NULL;
  PasswordLookup lookup = { context, account, cancellable, NULL, NULL };
  GThread *thread;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The account %s does not use IMAP"), tern_account_get_address (account));
      return NULL;
    }
  server = tern_account_get_incoming (account);

  /* The password (a command to run, or the keyring over D-Bus) and the
   * TLS handshake take milliseconds each, most of them waiting: side by
   * side, a no-change resync of tern-bench took 1.5-2.7 ms less (of 45).
   * The password goes nowhere before the login, which waits for it. */
  thread = g_thread_new ("tern-password", lookup_password_thread, &lookup);
  client = open_client (context, server, cancellable, &open_error);
  g_thread_join (thread);
  password = g_steal_pointer (&lookup.password);

  /* A missing password is the user's to mend whether or not the server
   * answered: it is the error to show first, as when it was asked for
   * before connecting. */
  if (password == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&lookup.error));
      return NULL;
    }
  if (client == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&open_error));
      return NULL;
    }
  if (!tern_imap_client_login (client,
                               server->username ? server->username
                                                : tern_account_get_address (account),
                               password, server->auth, !is_loopback (server->host),
                               cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}
