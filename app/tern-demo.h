/* tern-demo.h: the demo behind `tern --demo`: local servers, a demo profile.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-context.h"

G_BEGIN_DECLS

/* The tern-demo script: $TERN_DEMO_SCRIPT (tests, uninstalled runs), else
 * the installed one. */
const char  *tern_demo_get_script (void);

/* Starts (or reuses) the demo servers of tern-demo in @runtime_dir (NULL:
 * the user's runtime directory), opens the demo profile @profile_dir (NULL:
 * tern-demo in the user's data directory, never the real profile) trusting
 * the demo CA, and makes sure it has the demo accounts "Demo" (IMAP, alice)
 * and "Demo (POP3)" (bob) with the servers' current ports and passwords.
 * The servers stop by themselves when @watch_pid (0: none) exits. */
TernContext *tern_demo_open       (const char    *runtime_dir,
                                   const char    *profile_dir,
                                   GPid           watch_pid,
                                   GCancellable  *cancellable,
                                   GError       **error);

/* Stops the demo servers of @runtime_dir (NULL: as above); the mail stays. */
gboolean     tern_demo_stop       (const char    *runtime_dir,
                                   GError       **error);

G_END_DECLS
