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
 * and logs in with the account's password (keyring or password command).
 * Blocking, for a worker thread. */
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
/* The password tern_imap_session_open() signs in with, for
 * tern_imap_session_open_with_password(); free it with
 * tern_password_free(). */
char           *tern_imap_session_get_password       (TernContext   *context,
                                                      TernAccount   *account,
                                                      GCancellable  *cancellable,
                                                      GError       **error);

G_END_DECLS
