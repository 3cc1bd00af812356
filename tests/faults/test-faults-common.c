/* test-faults-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern-test-util.h"
#include "test-faults-common.h"

/* Fault points per protocol in the long mode (the issue asks for 500). */
#define LONG_COUNT 500

TernTestServers *faults_servers;

static guint32 seed;
static gboolean long_mode;
static TernFault point;
static gboolean have_point;

void
faults_init (int    *argc,
             char ***argv)
{
  const char *seed_text = g_getenv ("TERN_FAULT_SEED");
  const char *point_text = g_getenv ("TERN_FAULT_POINT");
  g_autoptr(GError) error = NULL;
  int kept = 1;

  for (int i = 1; i < *argc; i++)
    if (g_str_equal ((*argv)[i], "--long"))
      long_mode = TRUE;
    else
      (*argv)[kept++] = (*argv)[i];
  *argc = kept;
  (*argv)[kept] = NULL;
  long_mode |= g_strcmp0 (g_getenv ("TERN_FAULTS_LONG"), "1") == 0;

  g_test_init (argc, argv, NULL);

  seed = g_random_int ();
  if (seed_text != NULL)
    {
      guint64 value;

      g_assert_true (g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT32, &value, NULL));
      seed = value;
    }
  if (point_text != NULL)
    {
      have_point = tern_fault_parse (point_text, &point);
      g_assert_true (have_point);
    }
  /* On standard error: meson shows it with a failure's log. */
  g_printerr ("# TERN_FAULT_SEED=%u%s\n", seed, long_mode ? " (long mode)" : "");

  faults_servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
}

int
faults_run (void)
{
  int status = g_test_run ();

  g_clear_pointer (&faults_servers, tern_test_servers_free);
  return status;
}

GRand *
faults_rand (const char *name)
{
  return g_rand_new_with_seed (seed ^ g_str_hash (name));
}

guint
faults_count (guint ci)
{
  if (have_point)
    return 1;
  return long_mode ? LONG_COUNT : ci;
}

void
faults_next (GRand     *rand,
             guint64    to_client,
             guint64    to_server,
             TernFault *fault)
{
  /* Drawn even when replaying one point, so that the rest of the test
   * draws the same numbers. */
  tern_fault_pick (rand, to_client, to_server, fault);
  if (have_point)
    *fault = point;
}

void
faults_announce (const char      *test,
                 guint            index,
                 guint            count,
                 const TernFault *fault)
{
  g_autofree char *text = tern_fault_to_string (fault);

  g_test_message ("%s: fault %u of %u: %s (replay: TERN_FAULT_SEED=%u TERN_FAULT_POINT=%s)",
                  test, index + 1, count, text, seed, text);
}

static int cli_run (GPtrArray  *argv,
                    char      **err_out);

/* Mail */

static char *
maildir_of (guint user)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *path = g_build_filename (tern_test_servers_get_dir (faults_servers),
                                            "servers.ini", NULL);
  g_autofree char *key = g_strdup_printf ("maildir%u", user);
  g_autoptr(GError) error = NULL;
  char *dir;

  g_key_file_load_from_file (ini, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  dir = g_key_file_get_string (ini, "users", key, &error);
  g_assert_no_error (error);
  return dir;
}

GPtrArray *
faults_deliver (guint  user,
                guint  count,
                GRand *rand)
{
  static guint serial;
  g_autofree char *maildir = maildir_of (user);
  g_autofree char *tmp = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *new = g_build_filename (maildir, "new", NULL);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GStatBuf st;

  /* Dovecot makes the Maildir when it first opens the INBOX; the
   * messages belong to its owner, the mail user. */
  if (!g_file_test (new, G_FILE_TEST_IS_DIR))
    g_free (faults_server_rows (user, "uid", "mailbox INBOX ALL"));
  g_assert_cmpint (g_stat (maildir, &st), ==, 0);
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S +0000");
      g_autofree char *id = g_strdup_printf ("fault.%u.%u.%08x@tern.test", (guint) getpid (),
                                             serial++, g_rand_int (rand));
      g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".%s.faults",
                                               g_get_real_time (), id);
      g_autofree char *tmp_path = g_build_filename (tmp, name, NULL);
      g_autofree char *new_path = g_build_filename (new, name, NULL);
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      /* Mostly small, now and then one that takes many TLS records. */
      guint lines = g_rand_int_range (rand, 0, 8) == 0 ? g_rand_int_range (rand, 100, 800)
                                                       : g_rand_int_range (rand, 1, 40);

      g_string_append_printf (text,
                              "From: Fault Sender <sender@example.org>\n"
                              "To: %s\n"
                              "Subject: Fault test %u\n"
                              "Date: %s\n"
                              "Message-ID: <%s>\n"
                              "MIME-Version: 1.0\n"
                              "Content-Type: text/plain; charset=utf-8\n"
                              "\n",
                              tern_test_servers_get_user (faults_servers, user), serial, date, id);
      for (guint j = 0; j < lines; j++)
        g_string_append_printf (text, "Line %u of message %s, to make it %u lines long.\n", j,
                                id, lines);
      g_file_set_contents (tmp_path, text->str, text->len, &error);
      g_assert_no_error (error);
      g_assert_cmpint (chown (tmp_path, st.st_uid, st.st_gid), ==, 0);
      g_assert_cmpint (g_rename (tmp_path, new_path), ==, 0);
      g_ptr_array_add (ids, g_steal_pointer (&id));
    }
  return ids;
}

/* Profiles */

FaultsProfile *
faults_profile_new (guint       user,
                    const char *imap,
                    const char *pop3,
                    const char *smtp)
{
  FaultsProfile *profile = g_new0 (FaultsProfile, 1);
  g_autofree char *password_file = NULL;
  g_autofree char *command = NULL;
  g_autofree char *script = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autofree char *err = NULL;
  int status;

  profile->dir = tern_test_make_tmpdir ("tern-faults-XXXXXX");
  profile->profile = g_build_filename (profile->dir, "profile", NULL);
  profile->user = g_strdup (tern_test_servers_get_user (faults_servers, user));
  password_file = g_build_filename (profile->dir, "password", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (faults_servers, user), -1,
                       &error);
  g_assert_no_error (error);
  command = g_build_filename (profile->dir, "password-command", NULL);
  script = g_strdup_printf ("#!/bin/sh\nexec cat '%s'\n", password_file);
  g_file_set_contents (command, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (command, 0700), ==, 0);

  argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, "--profile");
  g_ptr_array_add (argv, profile->profile);
  g_ptr_array_add (argv, "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (faults_servers));
  g_ptr_array_add (argv, "account");
  g_ptr_array_add (argv, "add");
  g_ptr_array_add (argv, "--email");
  g_ptr_array_add (argv, profile->user);
  g_ptr_array_add (argv, "--name");
  g_ptr_array_add (argv, "Fault Test");
  g_ptr_array_add (argv, imap != NULL ? "--imap" : "--pop3");
  g_ptr_array_add (argv, (char *) (imap != NULL ? imap : pop3));
  if (smtp != NULL)
    {
      g_ptr_array_add (argv, "--smtp");
      g_ptr_array_add (argv, (char *) smtp);
    }
  g_ptr_array_add (argv, "--password-command");
  g_ptr_array_add (argv, command);
  g_ptr_array_add (argv, NULL);
  status = cli_run (argv, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  return profile;
}

void
faults_profile_free (FaultsProfile *profile)
{
  tern_test_remove_tree (profile->dir);
  g_free (profile->dir);
  g_free (profile->profile);
  g_free (profile->user);
  g_free (profile);
}

/* tern-cli */

/* $TERN_CLI --profile … --ca-file … and the arguments from @first on. */
static GPtrArray *
cli_argv (FaultsProfile *profile,
          const char    *first,
          va_list        ap)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) g_getenv ("TERN_CLI"));
  g_ptr_array_add (argv, "--profile");
  g_ptr_array_add (argv, profile->profile);
  g_ptr_array_add (argv, "--ca-file");
  g_ptr_array_add (argv, (char *) tern_test_servers_get_ca_file (faults_servers));
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, NULL);
  return argv;
}

static int
cli_run (GPtrArray  *argv,
         char      **err_out)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *command = g_ptr_array_index (argv, 5);
  int status;

  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (*out != '\0' || *err != '\0')
    g_test_message ("tern-cli %s: %s%s", command, out, err);
  /* A crash, an abort or a sanitizer's report is never an acceptable
   * way to fail. */
  g_assert_true (g_subprocess_get_if_exited (process));
  status = g_subprocess_get_exit_status (process);
  g_assert_cmpint (status, <=, 1);
  g_assert_null (strstr (err, "CRITICAL"));
  g_assert_null (strstr (err, "WARNING"));
  g_assert_null (strstr (err, "Sanitizer"));
  if (err_out != NULL)
    *err_out = g_steal_pointer (&err);
  return status;
}

static int
cli_v (FaultsProfile  *profile,
       char          **err,
       const char     *first,
       va_list         ap)
{
  g_autoptr(GPtrArray) argv = cli_argv (profile, first, ap);

  return cli_run (argv, err);
}

int
faults_cli (FaultsProfile  *profile,
            char          **err,
            const char     *first,
            ...)
{
  va_list ap;
  int status;

  va_start (ap, first);
  status = cli_v (profile, err, first, ap);
  va_end (ap);
  return status;
}

gint64
faults_cli_kill (FaultsProfile *profile,
                 gulong         delay_us,
                 const char    *first,
                 ...)
{
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  gint64 end;
  gint64 took = -1;
  GPid pid = 0;
  int status = 0;
  va_list ap;

  va_start (ap, first);
  argv = cli_argv (profile, first, ap);
  va_end (ap);
  g_spawn_async (NULL, (char **) argv->pdata, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                 | G_SPAWN_STDERR_TO_DEV_NULL,
                 NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  end = start + delay_us;
  while (g_get_monotonic_time () < end && waitpid (pid, &status, WNOHANG) == 0)
    g_usleep (1000);
  if (waitpid (pid, &status, WNOHANG) == 0)
    {
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_test_message ("tern-cli %s killed after %lu ms", first, delay_us / 1000);
    }
  else
    {
      /* Finished before the kill: it must have finished cleanly. */
      g_test_message ("tern-cli %s finished before the kill (%lu ms)", first, delay_us / 1000);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), <=, 1);
      took = g_get_monotonic_time () - start;
    }
  g_spawn_close_pid (pid);
  return took;
}

gint64
faults_cli_time (FaultsProfile *profile,
                 const char    *first,
                 ...)
{
  gint64 start = g_get_monotonic_time ();
  va_list ap;
  int status;

  va_start (ap, first);
  status = cli_v (profile, NULL, first, ap);
  va_end (ap);
  g_assert_cmpint (status, ==, 0);
  return g_get_monotonic_time () - start;
}

void
faults_assert_sentence (const char *err)
{
  /* "Error decoding the received TLS packet" is GnuTLS's name for a
   * connection cut inside a record. */
  static const char *const internals[] = { "(null)", "TERN_", "G_IO_ERROR", "errno", "%s",
                                           "%u", "assertion", "Error decoding" };
  g_auto(GStrv) lines = g_strsplit (err, "\n", -1);
  guint n = 0;

  /* Other lines are progress ("INBOX: 3 of 20"). */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = NULL;

      if (!g_str_has_prefix (lines[i], "tern-cli: "))
        continue;
      n++;
      for (guint j = 0; j < G_N_ELEMENTS (internals); j++)
        g_assert_null (strstr (lines[i], internals[j]));
      /* Words a user can read, not a bare code. */
      words = g_strsplit (lines[i] + strlen ("tern-cli: "), " ", -1);
      g_assert_cmpuint (g_strv_length (words), >=, 4);
    }
  g_assert_cmpuint (n, >, 0);
}

/* The database */

/* g_ptr_array_sort passes pointers to the elements. */
static gint
compare_rows (gconstpointer a,
              gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}


sqlite3 *
faults_db_open (FaultsProfile *profile)
{
  g_autofree char *path = g_build_filename (profile->profile, "tern.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  return db;
}

char *
faults_db_rows (FaultsProfile *profile,
                const char    *sql)
{
  sqlite3 *db = faults_db_open (profile);
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) text = g_string_new (NULL);
  int rc;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GString *row = g_string_new (NULL);

      for (int i = 0; i < sqlite3_column_count (stmt); i++)
        {
          const char *value = (const char *) sqlite3_column_text (stmt, i);

          if (i > 0)
            g_string_append_c (row, '\t');
          g_string_append (row, value ? value : "NULL");
        }
      g_ptr_array_add (rows, g_string_free (row, FALSE));
    }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_ptr_array_sort (rows, compare_rows);
  for (guint i = 0; i < rows->len; i++)
    g_string_append_printf (text, "%s\n", (const char *) g_ptr_array_index (rows, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gint64
faults_db_int (FaultsProfile *profile,
               const char    *sql)
{
  sqlite3 *db = faults_db_open (profile);
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

void
faults_db_exec (FaultsProfile *profile,
                const char    *sql)
{
  g_autofree char *path = g_build_filename (profile->profile, "tern.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

void
faults_assert_integrity (FaultsProfile *profile)
{
  g_autofree char *result = faults_db_rows (profile, "PRAGMA integrity_check");

  g_assert_cmpstr (result, ==, "ok\n");
}

/* The server */

static char *
sort_lines (char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autoptr(GString) sorted = g_string_new (NULL);

  g_free (text);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (rows, lines[i]);
  g_ptr_array_sort (rows, compare_rows);
  for (guint i = 0; i < rows->len; i++)
    g_string_append_printf (sorted, "%s\n", (const char *) g_ptr_array_index (rows, i));
  return g_string_free (g_steal_pointer (&sorted), FALSE);
}

char *
faults_server_rows (guint       user,
                    const char *fields,
                    const char *query)
{
  g_autofree char *command = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  char *body;
  int status = 0;

  command = g_strdup_printf ("doveadm -f tab -c '%s' fetch -u '%s' '%s' %s",
                             tern_test_servers_get_dovecot_config (faults_servers),
                             tern_test_servers_get_user (faults_servers, user), fields, query);
  g_spawn_command_line_sync (command, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s: %s", command, err);
  /* The first line names the fields. */
  body = strchr (out, '\n');
  return sort_lines (g_strdup (body ? body + 1 : ""));
}

guint
faults_server_count (guint       user,
                     const char *folder,
                     const char *message_id)
{
  g_autofree char *query = NULL;
  g_autofree char *rows = NULL;
  guint count = 0;

  if (folder != NULL)
    query = g_strdup_printf ("mailbox '%s' header message-id '<%s>'", folder, message_id);
  else
    query = g_strdup_printf ("mailbox '*' header message-id '<%s>'", message_id);
  rows = faults_server_rows (user, "uid", query);
  for (const char *p = rows; *p; p++)
    count += *p == '\n';
  return count;
}

/* "\Seen \Flagged" as the store's bits. */
static guint
flag_bits (const char *flags)
{
  static const char *const names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                       "\\Draft" };
  g_auto(GStrv) words = g_strsplit (flags, " ", -1);
  guint bits = 0;

  for (guint i = 0; words[i] != NULL; i++)
    for (guint j = 0; j < G_N_ELEMENTS (names); j++)
      if (g_ascii_strcasecmp (words[i], names[j]) == 0)
        bits |= 1u << j;
  return bits;
}

void
faults_assert_imap_cache (FaultsProfile *profile,
                          gboolean       bodies)
{
  g_autofree char *server = faults_server_rows (0, "mailbox uid flags hdr.message-id",
                                                "mailbox '*' ALL");
  g_autofree char *cache = NULL;
  g_auto(GStrv) lines = g_strsplit (server, "\n", -1);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) expected = g_string_new (NULL);

  /* The Message-ID without its angle brackets, as the cache keeps it
   * (trim() removes them there). */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);
      g_autofree char *id = NULL;

      if (g_strv_length (fields) != 4)
        continue;
      id = g_strdup (fields[3]);
      g_strstrip (id);
      if (g_str_has_prefix (id, "<") && g_str_has_suffix (id, ">"))
        {
          memmove (id, id + 1, strlen (id));
          id[strlen (id) - 1] = '\0';
        }
      g_ptr_array_add (rows, g_strdup_printf ("%s\t%s\t%u\t%s", fields[0], fields[1],
                                              flag_bits (fields[2]), id));
    }
  g_ptr_array_sort (rows, compare_rows);
  for (guint i = 0; i < rows->len; i++)
    g_string_append_printf (expected, "%s\n", (const char *) g_ptr_array_index (rows, i));

  cache = faults_db_rows (profile,
                          "SELECT f.name, m.uid, m.flags & 31,"
                          " trim(coalesce(m.message_id, ''), '<>')"
                          " FROM messages m JOIN folders f ON f.id = m.folder_id");
  g_assert_cmpstr (cache, ==, expected->str);

  if (bodies)
    {
      /* Each body whole: as long as the server said the message is. */
      g_assert_cmpint (faults_db_int (profile,
                                      "SELECT count(*) FROM messages m"
                                      " LEFT JOIN bodies b ON b.message_id = m.id"
                                      " WHERE b.size IS NULL OR b.size != m.size"
                                      " OR (b.data IS NOT NULL AND length (b.data) != m.size)"),
                       ==, 0);
    }
}
