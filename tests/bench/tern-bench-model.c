/* tern-bench-model.c: figure 6 of the benchmarks.  Opens the message list
 * of one folder the way the window does and reads the first screenful.
 *
 *   tern-bench-model --profile DIR --account ADDRESS --folder NAME [--threaded]
 *
 * Prints {"count_ms":…, "first_rows_ms":…, "refresh_ms":…, "rows":N,
 * "peak_rss_kb":…}: the time from creating the list to
 * g_list_model_get_n_items(), then to every property of the first 50
 * items read; then the main thread's time to bring the list up to date
 * after the first message is marked read (or unread), the median of
 * REFRESHES (each toggle is undone by the next: the profile ends as it
 * was).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "tern-context.h"
#include "tern-mail-store.h"
#include "tern-message-item.h"
#include "tern-message-list.h"

#define FIRST_ROWS 50
#define REFRESHES 6

/* What a row widget binds: every property, as GValues. */
static void
read_properties (GObject *item)
{
  guint n_specs;
  g_autofree GParamSpec **specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (item),
                                                                  &n_specs);

  for (guint i = 0; i < n_specs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_object_get_property (item, specs[i]->name, &value);
    }
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* What the main thread spends after a message's flags change: the store
 * announces the change from an idle, and the list refreshes in its
 * handler (as the window's list does when a message is marked read). */
static gboolean
time_refreshes (TernStore   *store,
                GListModel  *list,
                double      *median_ms,
                GError     **error)
{
  g_autoptr(GObject) first = g_list_model_get_item (list, 0);
  gint64 id = tern_message_item_get_id (TERN_MESSAGE_ITEM (first));
  double ms[REFRESHES];

  for (guint i = 0; i < REFRESHES; i++)
    {
      gboolean unread = tern_message_item_get_unread (TERN_MESSAGE_ITEM (first));
      gint64 start;

      if (!tern_mail_store_change_flags (store, &id, 1, unread ? TERN_IMAP_FLAG_SEEN : 0,
                                         unread ? 0 : TERN_IMAP_FLAG_SEEN, error))
        return FALSE;
      start = g_get_monotonic_time ();
      while (g_main_context_iteration (NULL, FALSE))
        ;
      ms[i] = (g_get_monotonic_time () - start) / 1000.0;
      g_clear_object (&first);
      first = g_list_model_get_item (list, 0);
    }
  qsort (ms, REFRESHES, sizeof ms[0], compare_doubles);
  *median_ms = (ms[REFRESHES / 2 - 1] + ms[REFRESHES / 2]) / 2;
  return TRUE;
}

static long
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *profile = NULL;
  g_autofree char *address = NULL;
  g_autofree char *folder_name = NULL;
  gboolean threaded = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "Profile directory", "DIR" },
    { "account", 0, 0, G_OPTION_ARG_STRING, &address, "Account", "ADDRESS" },
    { "folder", 0, 0, G_OPTION_ARG_STRING, &folder_name, "Folder", "NAME" },
    { "threaded", 0, 0, G_OPTION_ARG_NONE, &threaded, "Conversations, as the window shows them",
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("— time opening a message list");
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(TernMessageList) list = NULL;
  TernAccount *account;
  gint64 start, counted, read;
  double refresh_ms = 0;
  guint n;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || profile == NULL ||
      address == NULL || folder_name == NULL)
    {
      g_printerr ("tern-bench-model: %s\n",
                  error ? error->message : "--profile, --account and --folder are required");
      return 2;
    }

  context = tern_context_new (profile, &error);
  if (context == NULL)
    goto failed;
  account = tern_account_manager_lookup (tern_context_get_accounts (context), address);
  if (account == NULL)
    {
      g_printerr ("tern-bench-model: no account %s\n", address);
      return 1;
    }
  folder = tern_mail_store_find_folder (tern_context_get_store (context),
                                        tern_account_get_id (account), folder_name, &error);
  if (folder == NULL)
    goto failed;

  start = g_get_monotonic_time ();
  list = tern_message_list_new (tern_context_get_store (context), folder->id, &error);
  if (list == NULL)
    goto failed;
  if (threaded)
    tern_message_list_set_threaded (list, TRUE);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  counted = g_get_monotonic_time ();
  for (guint i = 0; i < MIN (n, FIRST_ROWS); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      read_properties (item);
    }
  read = g_get_monotonic_time ();
  if (n > 0 && !time_refreshes (tern_context_get_store (context), G_LIST_MODEL (list),
                                &refresh_ms, &error))
    goto failed;

  printf ("{\"count_ms\":%.2f,\"first_rows_ms\":%.2f,\"refresh_ms\":%.2f,\"rows\":%u,"
          "\"peak_rss_kb\":%ld}\n",
          (counted - start) / 1000.0, (read - counted) / 1000.0, refresh_ms, n, peak_rss_kb ());
  return 0;

failed:
  g_printerr ("tern-bench-model: %s\n", error->message);
  return 1;
}
