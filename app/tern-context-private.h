/* tern-context-private.h: what tests may do to a TernContext.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-context.h"

G_BEGIN_DECLS

/* For tests: tern_context_new_async() calls @hook with @data on its
 * worker, after the store is ready and before the context is made, so
 * that a test can hold the opening for as long as it needs (a migration
 * that takes long, deterministically).  NULL removes it. */
void _tern_context_set_open_hook (GFunc    hook,
                                  gpointer data);

G_END_DECLS
