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
/* A connection that waited this long for its password and then failed to
 * sign in because it was gone is made again, once. */
#define RECONNECT_AFTER_WAIT_SECONDS 1

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

/* The password is looked up on a thread of its own while the connection
 * is made: the lookup (a round trip to the keyring, or a password
 * command's processes) and the TCP and TLS handshakes each mostly wait
 * for another process.  A no-change sync is little more than the two: the
 * benchmark's password command took 3.5 ms of its 47 ms before. */
typedef struct
{
  TernContext *context;
  TernAccount *account;
  GCancellable *cancellable;
  char *password;
  GError *error;
} Lookup;

static void
lookup_clear (Lookup *lookup)
{
  g_clear_pointer (&lookup->password, tern_password_free);
  g_clear_error (&lookup->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Lookup, lookup_clear)

static gpointer
lookup_thread (gpointer user_data)
{
  Lookup *lookup = user_data;
  TernAccountManager *accounts = tern_context_get_accounts (lookup->context);

  lookup->password = tern_account_manager_get_password (accounts, lookup->account,
                                                        TERN_SECRET_ROLE_INCOMING,
                                                        lookup->cancellable, &lookup->error);
  return NULL;
}

static TernImapClient *
connect_client (TernContext   *context,
                TernAccount   *account,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernImapClient) client = NULL;

  connection = tern_context_new_connection (context, tern_account_get_incoming (account), error);
  if (connection == NULL)
    return NULL;
  tern_connection_set_connect_timeout (connection, CONNECT_TIMEOUT_SECONDS);
  client = tern_imap_client_new (connection);
  if (!tern_imap_client_open (client, cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

static gboolean
sign_in (TernImapClient  *client,
         TernAccount     *account,
         const char      *password,
         GCancellable    *cancellable,
         GError         **error)
{
  const TernServer *server = tern_account_get_incoming (account);

  return tern_imap_client_login (client,
                                 server->username ? server->username
                                                  : tern_account_get_address (account),
                                 password, server->auth, !is_loopback (server->host),
                                 cancellable, error);
}

/* Whether a sign-in failed because the server had let the connection go:
 * one that waited for a password command asking the user may have been
 * closed for inactivity before the login (Dovecot gives a client three
 * minutes to sign in, others less). */
static gboolean
connection_gone (const GError *error)
{
  return g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED) ||
         g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT) ||
         g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED) ||
         g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE);
}

TernImapClient *
tern_imap_session_open_full (TernContext   *context,
                             TernAccount   *account,
                             char         **password,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_auto(Lookup) lookup = { context, account, cancellable, NULL, NULL };
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) connect_error = NULL;
  g_autoptr(GError) login_error = NULL;
  GThread *thread;
  gint64 connected = 0;
  gint64 looked_up;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  if (!check_imap (account, error))
    return NULL;
  thread = g_thread_new ("tern-password", lookup_thread, &lookup);
  client = connect_client (context, account, cancellable, &connect_error);
  if (client != NULL)
    connected = g_get_monotonic_time ();
  /* The lookup ends on its own (or with @cancellable): a password command
   * is never killed because the server was unreachable. */
  g_thread_join (thread);
  looked_up = g_get_monotonic_time ();

  /* As when the password was looked up first: its error comes first. */
  if (lookup.password == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&lookup.error));
      return NULL;
    }
  if (client == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&connect_error));
      return NULL;
    }

  if (!sign_in (client, account, lookup.password, cancellable, &login_error))
    {
      g_clear_object (&client);
      /* Only a connection that waited long for the password is tried
       * again: a server that drops every connection at once is not
       * asked twice. */
      if (!connection_gone (login_error) ||
          looked_up - connected < RECONNECT_AFTER_WAIT_SECONDS * G_USEC_PER_SEC)
        {
          g_propagate_error (error, g_steal_pointer (&login_error));
          return NULL;
        }
      g_debug ("%s: the connection ended while the password was looked up (%s); connecting again",
               tern_account_get_address (account), login_error->message);
      client = connect_client (context, account, cancellable, error);
      if (client == NULL || !sign_in (client, account, lookup.password, cancellable, error))
        return NULL;
    }

  if (password != NULL)
    *password = g_steal_pointer (&lookup.password);
  return g_steal_pointer (&client);
}

TernImapClient *
tern_imap_session_open_with_password (TernContext   *context,
                                      TernAccount   *account,
                                      const char    *password,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  g_autoptr(TernImapClient) client = NULL;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (password != NULL, NULL);

  if (!check_imap (account, error))
    return NULL;
  client = connect_client (context, account, cancellable, error);
  if (client == NULL || !sign_in (client, account, password, cancellable, error))
    return NULL;
  return g_steal_pointer (&client);
}

TernImapClient *
tern_imap_session_open (TernContext   *context,
                        TernAccount   *account,
                        GCancellable  *cancellable,
                        GError       **error)
{
  return tern_imap_session_open_full (context, account, NULL, cancellable, error);
}
