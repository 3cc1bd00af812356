/* tern-wizard-manual-page.h: the account wizard's form with every server
 * setting, for when detection found nothing or the user wants to change
 * what it found.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tern-autoconfig.h"

G_BEGIN_DECLS

#define TERN_TYPE_WIZARD_MANUAL_PAGE (tern_wizard_manual_page_get_type ())
G_DECLARE_FINAL_TYPE (TernWizardManualPage, tern_wizard_manual_page, TERN, WIZARD_MANUAL_PAGE,
                      AdwBin)

GtkWidget            *tern_wizard_manual_page_new          (void);
/* Fills the form from @incoming and @outgoing (either may be NULL: empty
 * fields with the defaults of a secure IMAP account). */
void                  tern_wizard_manual_page_set_servers  (TernWizardManualPage       *self,
                                                            const TernAutoconfigServer *incoming,
                                                            const TernAutoconfigServer *outgoing);
/* The servers as entered; NULL with a sentence for the user when a field
 * is missing. */
TernAutoconfigServer *tern_wizard_manual_page_dup_incoming (TernWizardManualPage       *self,
                                                            GError                    **error);
TernAutoconfigServer *tern_wizard_manual_page_dup_outgoing (TernWizardManualPage       *self,
                                                            GError                    **error);
/* Whether a server is set to send passwords unencrypted. */
gboolean              tern_wizard_manual_page_is_insecure  (TernWizardManualPage       *self);
/* The default port of @protocol with @security: 993/143, 995/110, 465/587. */
guint16               tern_wizard_default_port             (TernAutoconfigProtocol      protocol,
                                                            TernTlsMode                 security);

G_END_DECLS
