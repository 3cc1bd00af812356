/* tern-subprocess-private.h: running a command and reading what it prints.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* g_subprocess_communicate_utf8(), safe with @cancellable on any thread
 * (see tern-subprocess.c). */
gboolean _tern_subprocess_communicate_utf8 (GSubprocess   *process,
                                            const char    *stdin_buf,
                                            GCancellable  *cancellable,
                                            char         **stdout_buf,
                                            char         **stderr_buf,
                                            GError       **error);

/* Whether this process has a controlling terminal a command it runs
 * could prompt on. */
gboolean _tern_subprocess_has_terminal (void);

G_END_DECLS
