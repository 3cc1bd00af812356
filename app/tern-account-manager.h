/* tern-account-manager.h: the configured accounts, as a GListModel.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-secrets.h"
#include "tern-store.h"

G_BEGIN_DECLS

#define TERN_TYPE_ACCOUNT_MANAGER (tern_account_manager_get_type ())
G_DECLARE_FINAL_TYPE (TernAccountManager, tern_account_manager, TERN, ACCOUNT_MANAGER, GObject)

/* The manager and its list belong to the thread that made them (the main
 * thread in the GUI): add and remove there. */
TernAccountManager *tern_account_manager_new          (TernStore           *store,
                                                       GError             **error);
TernAccount        *tern_account_manager_lookup       (TernAccountManager  *self,
                                                       const char          *key);
gboolean            tern_account_manager_add          (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       const char          *password,
                                                       GCancellable        *cancellable,
                                                       GError             **error);
gboolean            tern_account_manager_remove       (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       GCancellable        *cancellable,
                                                       GError             **error);
/* The same, the keyring and disk work in a worker thread: for the UI.
 * The account leaves the list in the caller's main context, once its
 * mail, outbox and password are gone. */
void                tern_account_manager_remove_async (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean            tern_account_manager_remove_finish (TernAccountManager  *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
/* Saves @account's new display name, address and servers (a copy of
 * @edited's, which is never stored itself) and gives them to @account.
 * @edited is validated first. */
gboolean            tern_account_manager_update       (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       TernAccount         *edited,
                                                       GError             **error);
/* A new password for @account's servers, to the Secret Service only.  The
 * account's password command, if it had one, is dropped: the password
 * typed is what the user wants used. */
gboolean            tern_account_manager_set_password (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       const char          *password,
                                                       GCancellable        *cancellable,
                                                       GError             **error);
char               *tern_account_manager_get_password (TernAccountManager  *self,
                                                       TernAccount         *account,
                                                       TernSecretRole       role,
                                                       GCancellable        *cancellable,
                                                       GError             **error);

G_END_DECLS
