/* tern-account-private.h: what the account manager may do to an account.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-account.h"

G_BEGIN_DECLS

void _tern_account_set_id (TernAccount *self,
                           gint64       id);
/* What tern_account_manager_update() saved.  The servers replaced stay
 * allocated as long as the account: a worker may be reading them. */
void _tern_account_set_address (TernAccount      *self,
                                const char       *address);
void _tern_account_set_servers (TernAccount      *self,
                                const TernServer *incoming,
                                const TernServer *outgoing);

G_END_DECLS
