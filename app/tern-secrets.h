/* tern-secrets.h: account passwords, in the Secret Service or from the
 * user's own password command, and nowhere else.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Which of an account's servers a password is for.  The outgoing server
 * uses the incoming password unless it has one of its own. */
typedef enum {
  TERN_SECRET_ROLE_INCOMING,
  TERN_SECRET_ROLE_OUTGOING,
} TernSecretRole;

gboolean tern_secrets_store            (const char      *account_uuid,
                                        TernSecretRole   role,
                                        const char      *label,
                                        const char      *password,
                                        GCancellable    *cancellable,
                                        GError         **error);
/* Returns NULL without an error when the keyring has no such password. */
char    *tern_secrets_lookup           (const char      *account_uuid,
                                        TernSecretRole   role,
                                        GCancellable    *cancellable,
                                        GError         **error);
/* @cancellable is checked before the removal starts, not during it. */
gboolean tern_secrets_clear            (const char      *account_uuid,
                                        GCancellable    *cancellable,
                                        GError         **error);

/* Runs @command through /bin/sh and returns the first line it prints.
 * Cancelling @cancellable stops the wait and ends the command (without a
 * terminal, with whatever it started). */
char    *tern_password_command_run     (const char      *command,
                                        GCancellable    *cancellable,
                                        GError         **error);
/* Wipes and frees a password these functions returned. */
void     tern_password_free            (char            *password);

G_END_DECLS
