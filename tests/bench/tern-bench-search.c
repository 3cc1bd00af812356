/* tern-bench-search.c: figures 7 and 8 of the benchmarks.  Runs each query
 * of a file (one per line) in one folder as the search entry does: the
 * result list, its count and the first 50 rows' properties.
 *
 *   tern-bench-search --profile DIR --account ADDRESS --folder NAME --queries FILE [--verbose]
 *                     [--async] [--prefix]
 *
 * With --async each query runs as the search bar runs it,
 * tern_search_run_async() with the main loop running until it is done;
 * "main_cpu_median_ms" is the CPU time of the main thread alone per query
 * (with --async, what typing costs the UI; without, the same as the
 * process').  With --prefix the last word of each query is a prefix, as
 * the search bar searches while one types ("re" finds "report").
 *
 * Bodies cached but not yet indexed are indexed first, untimed, as Tern
 * does after a sync.  Prints {"median_ms":…, "p90_ms":…, "queries":N,
 * "peak_rss_kb":…, "cpu_median_ms":…}: the CPU time of the process per
 * query as well, which a busy machine distorts less than wall time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <sys/resource.h>

#include "tern-context.h"
#include "tern-mail-store.h"
#include "tern-search.h"

#define FIRST_ROWS 50

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

static gboolean verbose;
static gboolean run_async;
static gboolean prefix;

static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
}

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
search_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static TernMessageList *
search (TernStore   *store,
        gint64       folder_id,
        const char  *query,
        GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (!run_async)
    return tern_search_run (store, query, prefix, TERN_SEARCH_SCOPE_FOLDER, folder_id, error);
  tern_search_run_async (store, query, prefix, TERN_SEARCH_SCOPE_FOLDER, folder_id, NULL,
                         search_done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tern_search_run_finish (store, result, error);
}

static long
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/* Milliseconds for one query, or a negative number with @error set. */
static double
time_query (TernStore   *store,
            gint64       folder_id,
            const char  *query,
            GError     **error)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(TernMessageList) results = NULL;
  guint n;

  results = search (store, folder_id, query, error);
  if (results == NULL)
    return -1;
  n = g_list_model_get_n_items (G_LIST_MODEL (results));
  for (guint i = 0; i < MIN (n, FIRST_ROWS); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (results), i);

      read_properties (item);
    }
  if (verbose)
    g_printerr ("%8.2f ms %7u  %s\n", (g_get_monotonic_time () - start) / 1000.0, n, query);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The value at @fraction of the sorted @times (nearest rank). */
static double
percentile (GArray *times,
            double  fraction)
{
  guint rank = (guint) (fraction * times->len + 0.999999);

  return g_array_index (times, double, CLAMP (rank, 1, times->len) - 1);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *profile = NULL;
  g_autofree char *address = NULL;
  g_autofree char *folder_name = NULL;
  g_autofree char *queries_file = NULL;
  const GOptionEntry entries[] = {
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "Profile directory", "DIR" },
    { "account", 0, 0, G_OPTION_ARG_STRING, &address, "Account", "ADDRESS" },
    { "folder", 0, 0, G_OPTION_ARG_STRING, &folder_name, "Folder", "NAME" },
    { "queries", 0, 0, G_OPTION_ARG_FILENAME, &queries_file, "Queries, one per line", "FILE" },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose, "Each query's time and matches", NULL },
    { "async", 0, 0, G_OPTION_ARG_NONE, &run_async, "Search on a worker, as the search bar does",
      NULL },
    { "prefix", 0, 0, G_OPTION_ARG_NONE, &prefix, "The last word is a prefix, as the search bar"
      " searches while one types", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) options = g_option_context_new ("— time searches");
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) main_cpu_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  TernAccount *account;
  TernStore *store;

  g_option_context_add_main_entries (options, entries, NULL);
  if (!g_option_context_parse (options, &argc, &argv, &error) || profile == NULL ||
      address == NULL || folder_name == NULL || queries_file == NULL)
    {
      g_printerr ("tern-bench-search: %s\n",
                  error ? error->message
                        : "--profile, --account, --folder and --queries are required");
      return 2;
    }
  if (!g_file_get_contents (queries_file, &text, NULL, &error))
    goto failed;
  lines = g_strsplit (text, "\n", -1);

  context = tern_context_new (profile, &error);
  if (context == NULL)
    goto failed;
  store = tern_context_get_store (context);
  account = tern_account_manager_lookup (tern_context_get_accounts (context), address);
  if (account == NULL)
    {
      g_printerr ("tern-bench-search: no account %s\n", address);
      return 1;
    }
  folder = tern_mail_store_find_folder (store, tern_account_get_id (account), folder_name, &error);
  if (folder == NULL || !tern_search_index_bodies (store, NULL, NULL, &error))
    goto failed;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      double ms, cpu, main_cpu;

      g_strstrip (lines[i]);
      if (lines[i][0] == '\0')
        continue;
      cpu = cpu_ms ();
      main_cpu = thread_cpu_ms ();
      ms = time_query (store, folder->id, lines[i], &error);
      cpu = cpu_ms () - cpu;
      main_cpu = thread_cpu_ms () - main_cpu;
      if (ms < 0)
        goto failed;
      g_array_append_val (times, ms);
      g_array_append_val (cpu_times, cpu);
      g_array_append_val (main_cpu_times, main_cpu);
    }
  if (times->len == 0)
    {
      g_printerr ("tern-bench-search: %s has no queries\n", queries_file);
      return 2;
    }
  g_array_sort (times, compare_doubles);
  g_array_sort (cpu_times, compare_doubles);
  g_array_sort (main_cpu_times, compare_doubles);

  printf ("{\"median_ms\":%.2f,\"p90_ms\":%.2f,\"queries\":%u,\"peak_rss_kb\":%ld,"
          "\"cpu_median_ms\":%.2f,\"main_cpu_median_ms\":%.2f}\n",
          percentile (times, 0.5), percentile (times, 0.9), times->len, peak_rss_kb (),
          percentile (cpu_times, 0.5), percentile (main_cpu_times, 0.5));
  return 0;

failed:
  g_printerr ("tern-bench-search: %s\n", error->message);
  return 1;
}
