/* tern-account-private.h: what the account manager may do to an account.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-account.h"

G_BEGIN_DECLS

void _tern_account_set_id (TernAccount *self,
                           gint64       id);

G_END_DECLS
