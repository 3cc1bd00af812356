/* tern-preferences-window.h: Tern's preferences: accounts, sync, reading,
 * composing and security.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_PREFERENCES_WINDOW (tern_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (TernPreferencesWindow, tern_preferences_window, TERN, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

TernPreferencesWindow *tern_preferences_window_new          (GtkWindow             *parent,
                                                             TernContext           *context);
/* Shows @account's page (what activating its row does); returns it. */
GtkWidget             *tern_preferences_window_show_account (TernPreferencesWindow *self,
                                                             TernAccount           *account);

G_END_DECLS
