/* tern-account-preferences.h: one account in the preferences: its name,
 * address, servers, signature and password, and its removal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_ACCOUNT_PREFERENCES (tern_account_preferences_get_type ())
G_DECLARE_FINAL_TYPE (TernAccountPreferences, tern_account_preferences, TERN, ACCOUNT_PREFERENCES,
                      GtkBox)

/* A subpage of a preferences window; it closes itself when the account
 * is removed or the user goes back. */
GtkWidget   *tern_account_preferences_new         (TernContext            *context,
                                                   TernAccount            *account);
TernAccount *tern_account_preferences_get_account (TernAccountPreferences *self);
/* What the page says about the last save, password change or removal. */
const char  *tern_account_preferences_get_status  (TernAccountPreferences *self);

G_END_DECLS
