/* tern-account.h: one mail account.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "tern-server.h"

G_BEGIN_DECLS

typedef enum {
  TERN_ACCOUNT_PROTOCOL_IMAP,
  TERN_ACCOUNT_PROTOCOL_POP3,
} TernAccountProtocol;

#define TERN_TYPE_ACCOUNT_PROTOCOL (tern_account_protocol_get_type ())
GType tern_account_protocol_get_type (void) G_GNUC_CONST;

#define TERN_TYPE_ACCOUNT (tern_account_get_type ())
G_DECLARE_FINAL_TYPE (TernAccount, tern_account, TERN, ACCOUNT, GObject)

TernAccount         *tern_account_new                  (const char          *display_name,
                                                        const char          *address,
                                                        TernAccountProtocol  protocol,
                                                        const TernServer    *incoming,
                                                        const TernServer    *outgoing);
gint64               tern_account_get_id               (TernAccount         *self);
const char          *tern_account_get_uuid             (TernAccount         *self);
const char          *tern_account_get_display_name     (TernAccount         *self);
void                 tern_account_set_display_name     (TernAccount         *self,
                                                        const char          *display_name);
const char          *tern_account_get_address          (TernAccount         *self);
TernAccountProtocol  tern_account_get_protocol         (TernAccount         *self);
const TernServer    *tern_account_get_incoming         (TernAccount         *self);
const TernServer    *tern_account_get_outgoing         (TernAccount         *self);
const char          *tern_account_get_password_command (TernAccount         *self);
void                 tern_account_set_password_command (TernAccount         *self,
                                                        const char          *command);
const char          *tern_account_protocol_to_string   (TernAccountProtocol  protocol);
gboolean             tern_account_validate             (TernAccount         *self,
                                                        GError             **error);

G_END_DECLS
