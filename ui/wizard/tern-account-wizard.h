/* tern-account-wizard.h: from a name, an address and a password to a
 * saved account whose servers answered.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-autoconfig.h"
#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_ACCOUNT_WIZARD (tern_account_wizard_get_type ())
G_DECLARE_FINAL_TYPE (TernAccountWizard, tern_account_wizard, TERN, ACCOUNT_WIZARD, AdwWindow)

/* Modal to @parent when there is one.  The account is added to @context's
 * account manager, whose "items-changed" the main window answers with the
 * first sync; the wizard then closes. */
TernAccountWizard *tern_account_wizard_new            (GtkWindow         *parent,
                                                       TernContext       *context);
/* The detection it runs: its trust starts as the context's CA file;
 * tests point its providers and addresses at local servers. */
TernAutoconfig    *tern_account_wizard_get_autoconfig (TernAccountWizard *self);
/* The visible page: "details", "progress", "summary", "manual",
 * "certificate" or "oauth2". */
const char        *tern_account_wizard_get_page       (TernAccountWizard *self);

G_END_DECLS
