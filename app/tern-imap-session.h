/* tern-imap-session.h: a logged-in IMAP connection for an account.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"
#include "tern-imap-client.h"

G_BEGIN_DECLS

/* Connects to @account's incoming server with @context's trust settings
 * and logs in with the account's password (keyring or password command),
 * looked up while the connection is made.  A password error comes before
 * a connection error, as if looked up first; a connection the server let
 * go while a slow password command ran is made again.  Blocking, for a
 * worker thread. */
TernImapClient *tern_imap_session_open (TernContext   *context,
                                        TernAccount   *account,
                                        GCancellable  *cancellable,
                                        GError       **error);
/* The same, signing in with @password: the account's, looked up by the
 * caller.  A sync's connections share one lookup, so that a password
 * command (which may ask the user) runs once a sync. */
TernImapClient *tern_imap_session_open_with_password (TernContext   *context,
                                                      TernAccount   *account,
                                                      const char    *password,
                                                      GCancellable  *cancellable,
                                                      GError       **error);
/* tern_imap_session_open(), giving the password it signed in with in
 * @password (when not NULL; free it with tern_password_free()) for more
 * connections through tern_imap_session_open_with_password(). */
TernImapClient *tern_imap_session_open_full          (TernContext   *context,
                                                      TernAccount   *account,
                                                      char         **password,
                                                      GCancellable  *cancellable,
                                                      GError       **error);

G_END_DECLS
