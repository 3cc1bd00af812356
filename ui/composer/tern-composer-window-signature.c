/* tern-composer-window-signature.c: what the preferences change in a
 * message being written: the sender identity's signature, HTML or plain
 * text, and replies above or below the quote.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer-window"

#include "config.h"

#include "tern-composer-window-private.h"
#include "tern-account-options.h"

void
_tern_composer_window_update_signature (TernComposerWindow *self)
{
  TernIdentity *identity = tern_composer_get_identity (self->composer);
  TernAccount *account = tern_composer_get_account (self->composer);
  g_autoptr(GError) error = NULL;
  g_autofree char *signature = NULL;

  if (account == NULL)
    return;
  /* An identity's own signature, else its account's. */
  if (identity != NULL)
    signature = g_strdup (tern_identity_get_message_signature (identity));
  else
    signature = tern_account_options_get_signature (tern_context_get_store (self->context),
                                                    tern_account_get_id (account), &error);
  if (error != NULL)
    g_warning ("No signature for %s: %s", tern_account_get_address (account), error->message);
  /* A draft reopened has the signature it was saved with, or one the user
   * edited or deleted: never a second one. */
  if (self->opened_draft_id != 0 && tern_composer_get_signature (self->composer) == NULL)
    {
      tern_composer_adopt_signature (self->composer, signature);
      return;
    }
  /* The composer replaces the previous identity's, or leaves the user's. */
  tern_composer_set_signature (self->composer, signature);
}

void
_tern_composer_window_apply_preferences (TernComposerWindow *self,
                                         TernComposer       *composer)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

  /* A draft reopened keeps the way it was written. */
  if (self->opened_draft_id == 0)
    {
      tern_composer_set_html_from_text (composer, g_settings_get_boolean (settings, "compose-html"));
      if (tern_composer_get_in_reply_to (composer) != NULL
          && g_settings_get_boolean (settings, "reply-above-quote"))
        tern_composer_set_text_above_quote (composer, TRUE);
    }
}
