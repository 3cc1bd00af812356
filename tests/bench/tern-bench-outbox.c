/* tern-bench-outbox.c: figure 5 of the benchmarks.  Queues every file of a
 * directory (RFC 5322 messages) in the outbox of an account, then sends
 * them all with one tern_outbox_flush(), as Tern does after being offline.
 *
 *   tern-bench-outbox --profile DIR [--ca-file PEM] --account ADDRESS --messages DIR
 *
 * Prints {"enqueue_ms":…, "flush_ms":…, "sent":N, "queued":N} on stdout.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tern-context.h"
#include "tern-outbox.h"

static GPtrArray *
list_messages (const char  *dir,
               GError     **error)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    return NULL;
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
  /* Sent in the order of their names, so that runs compare. */
  g_ptr_array_sort (paths, (GCompareFunc) g_strcmp0);
  return g_steal_pointer (&paths);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *profile = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *address = NULL;
  g_autofree char *messages = NULL;
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "Profile directory", "DIR" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file, "Extra CA", "PEM" },
    { "account", 0, 0, G_OPTION_ARG_STRING, &address, "Account", "ADDRESS" },
    { "messages", 0, 0, G_OPTION_ARG_FILENAME, &messages, "Messages to send", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("— time one outbox flush");
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  TernAccount *account;
  TernStore *store;
  gint64 start, queued_at, done_at;
  guint sent = 0;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || profile == NULL ||
      address == NULL || messages == NULL)
    {
      g_printerr ("tern-bench-outbox: %s\n",
                  error ? error->message : "--profile, --account and --messages are required");
      return 2;
    }

  context = tern_context_new (profile, &error);
  if (context == NULL)
    goto failed;
  tern_context_set_ca_file (context, ca_file);
  store = tern_context_get_store (context);
  account = tern_account_manager_lookup (tern_context_get_accounts (context), address);
  if (account == NULL)
    {
      g_printerr ("tern-bench-outbox: no account %s\n", address);
      return 1;
    }
  paths = list_messages (messages, &error);
  if (paths == NULL)
    goto failed;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *data = NULL;
      gsize size;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_file_get_contents (paths->pdata[i], &data, &size, &error))
        goto failed;
      bytes = g_bytes_new_take (g_steal_pointer (&data), size);
      if (tern_outbox_enqueue (store, account, bytes, &error) == 0)
        goto failed;
    }
  queued_at = g_get_monotonic_time ();
  if (!tern_outbox_flush (context, account, &sent, NULL, &error))
    goto failed;
  done_at = g_get_monotonic_time ();

  printf ("{\"enqueue_ms\":%.1f,\"flush_ms\":%.1f,\"sent\":%u,\"queued\":%u}\n",
          (queued_at - start) / 1000.0, (done_at - queued_at) / 1000.0, sent, paths->len);
  return sent == paths->len ? 0 : 1;

failed:
  g_printerr ("tern-bench-outbox: %s\n", error->message);
  return 1;
}
