/* tern-imap-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap-session"

#include "config.h"

#include "tern-imap-session.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-secrets.h"

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

static gboolean
check_imap (TernAccount  *account,
            GError      **error)
{
  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_IMAP)
    return TRUE;
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
               _("The account %s does not use IMAP"), tern_account_get_address (account));
  return FALSE;
}

char *
tern_imap_session_get_password (TernContext   *context,
                                TernAccount   *account,
                                GCancellable  *cancellable,
                                GError       **error)
{
  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  if (!check_imap (account, error))
    return NULL;
  return tern_account_manager_get_password (tern_context_get_accounts (context), account,
                                            TERN_SECRET_ROLE_INCOMING, cancellable, error);
}

TernImapClient *
tern_imap_session_open_with_password (TernContext   *context,
                                      TernAccount   *account,
                                      const char    *password,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  const TernServer *server;
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernImapClient) client = NULL;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (password != NULL, NULL);

  if (!check_imap (account, error))
    return NULL;
  server = tern_account_get_incoming (account);
  connection = tern_context_new_connection (context, server, error);
  if (connection == NULL)
    return NULL;
  tern_connection_set_connect_timeout (connection, CONNECT_TIMEOUT_SECONDS);
  client = tern_imap_client_new (connection);
  if (!tern_imap_client_open (client, cancellable, error)
      || !tern_imap_client_login (client,
                                  server->username ? server->username
                                                   : tern_account_get_address (account),
                                  password, server->auth, !is_loopback (server->host),
                                  cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

/* The password is looked up before connecting: a password command may
 * ask the user, longer than a server waits for a login. */
TernImapClient *
tern_imap_session_open (TernContext   *context,
                        TernAccount   *account,
                        GCancellable  *cancellable,
                        GError       **error)
{
  char *password;
  TernImapClient *client;

  password = tern_imap_session_get_password (context, account, cancellable, error);
  if (password == NULL)
    return NULL;
  client = tern_imap_session_open_with_password (context, account, password, cancellable, error);
  tern_password_free (password);
  return client;
}
