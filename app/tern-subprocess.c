/* tern-subprocess.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-subprocess"

#include "config.h"

#include "tern-subprocess-private.h"

#include <fcntl.h>
#include <unistd.h>

gboolean
_tern_subprocess_has_terminal (void)
{
  int fd = open ("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

static void
communicate_done_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* g_subprocess_communicate_utf8() runs the async version on a main context
 * of its own, and watches @cancellable through a source attached to that
 * context.  GLib 2.74 drops its reference to the context before the one to
 * the result, which holds the source, and the source's last unref locks
 * the context's mutex.  The pipes were closed by GTask threads, whose tasks
 * hold the context too: when one of them drops it last, in between, the
 * context is freed on that thread and the lock writes into freed memory.
 * In the test suite that was glibc's "tcache_thread_shutdown(): unaligned
 * tcache chunk detected" when the thread exited (password commands run on
 * worker threads with their job's cancellable), and a hang on the mutex
 * when freed memory is filled.  Here the context stays ours until the
 * result, and GLib's source with it, are gone. */
gboolean
_tern_subprocess_communicate_utf8 (GSubprocess   *process,
                                   const char    *stdin_buf,
                                   GCancellable  *cancellable,
                                   char         **stdout_buf,
                                   char         **stderr_buf,
                                   GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  GAsyncResult *result = NULL;
  gboolean ok;

  g_return_val_if_fail (G_IS_SUBPROCESS (process), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  g_main_context_push_thread_default (context);
  g_subprocess_communicate_utf8_async (process, stdin_buf, cancellable, communicate_done_cb,
                                       &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  ok = g_subprocess_communicate_utf8_finish (process, result, stdout_buf, stderr_buf, error);
  /* The last reference to GLib's task: its source is destroyed now, while
   * the context is alive. */
  g_object_unref (result);
  g_main_context_pop_thread_default (context);
  return ok;
}
