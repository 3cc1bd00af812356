/* tern-test-util.h: small helpers shared by Tern's test programs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* A fresh directory under the temporary directory; aborts the test on
 * failure. */
char     *tern_test_make_tmpdir     (const char *template);
/* Removes @path and everything below it. */
void      tern_test_remove_tree     (const char *path);
/* Whether any file below @path contains @needle (as bytes): how tests
 * prove a secret was not written to disk. */
gboolean  tern_test_tree_contains   (const char *path,
                                     const char *needle);

/* A fixture for tests that work on a profile: a temporary directory and a
 * profile path inside it (not created: the code under test makes it). */
typedef struct
{
  char *dir;
  char *profile;
} TernTestProfile;

void      tern_test_profile_setup    (TernTestProfile *fixture,
                                      gconstpointer    data);
void      tern_test_profile_teardown (TernTestProfile *fixture,
                                      gconstpointer    data);

/* Runs the store's migration @name (e.g. "002-sync.sql", from the app's
 * resources) on @db: to make a profile of an older schema. */
void      tern_test_exec_migration   (sqlite3         *db,
                                      const char      *name);

/* What SQLite would do for @sql on @db: the details of EXPLAIN QUERY
 * PLAN, one a line. */
char     *tern_test_query_plan       (sqlite3         *db,
                                      const char      *sql);

/* Runs $TERN_CLI --profile @profile [--ca-file @ca_file] @args... and
 * returns its standard output; its standard error goes to the test log.
 * @exit_status receives 0 for success, 1 otherwise. */
char     *tern_test_run_cli          (const char        *profile,
                                      const char        *ca_file,
                                      const char *const *args,
                                      int               *exit_status);

/* How long tern_test_wait_until() runs the main loop before giving up:
 * long enough for a loaded machine, shorter than meson's test timeout. */
#define TERN_TEST_DEADLINE_SECONDS 60

/* How many of the folders' conversations (folder_threads, migration 005)
 * disagree with the messages they count, in count or latest date: 0 when
 * every path that stores, copies, moves or deletes messages kept them. */
#define TERN_TEST_MISCOUNTED_CONVERSATIONS_SQL                                            \
  "SELECT count (*) FROM ("                                                               \
  " SELECT * FROM (" TERN_TEST_COUNTED_SQL " EXCEPT " TERN_TEST_STORED_SQL ")"            \
  " UNION ALL"                                                                            \
  " SELECT * FROM (" TERN_TEST_STORED_SQL " EXCEPT " TERN_TEST_COUNTED_SQL "))"
#define TERN_TEST_COUNTED_SQL                                                             \
  "SELECT folder_id, coalesce (thread_id, -id), count (*),"                               \
  " max (coalesce (date, internal_date, 0)) FROM messages GROUP BY 1, 2"
#define TERN_TEST_STORED_SQL                                                              \
  "SELECT folder_id, thread_key, message_count, last_date FROM folder_threads"

/* A port on the loopback address of @family that was free a moment ago
 * and has no listener: connecting to it is refused. */
guint16   tern_test_closed_port      (GSocketFamily      family);

typedef gboolean (*TernTestPredicate) (gpointer data);

/* Runs the default main context until @predicate returns TRUE or
 * TERN_TEST_DEADLINE_SECONDS passed; returns the last @predicate. */
gboolean  tern_test_wait_for         (TernTestPredicate  predicate,
                                      gpointer           data);
/* Like tern_test_wait_for() but aborts with "Gave up waiting for @what"
 * when the deadline passes. */
void      tern_test_wait_until       (TernTestPredicate  predicate,
                                      gpointer           data,
                                      const char        *what);
/* Dispatches whatever the default main context has ready, without
 * blocking. */
void      tern_test_drain            (void);
/* Runs the default main context until the caller's is the only reference
 * to @object (jobs hold a TernContext until their callbacks ran) or the
 * deadline passed, then drains it. Does not fail: the caller's
 * g_assert_finalize_object() or leak check says what is still held. */
void      tern_test_wait_for_last_ref (gpointer          object);

/* A FIFO at @path (its directory made) standing in for a file the code
 * under test reads: open() for reading waits until a writer opens it, so a
 * read on the wrong thread blocks that thread.  A thread of the helper
 * waits up to 10 s for tern_test_fifo_returned(), then opens the FIFO for
 * writing (and closes it: a reader sees end of file) whenever anyone waits
 * to read it, so that a test fails instead of hanging. */
typedef struct _TernTestFifo TernTestFifo;

TernTestFifo *tern_test_fifo_new      (const char   *path);
/* The call under test returned (from the thread that made it). */
void          tern_test_fifo_returned (TernTestFifo *fifo);
/* Stops the helper, removes the FIFO; whether the call under test took
 * 10 s or more to return (it read the FIFO on its own thread). */
gboolean      tern_test_fifo_free     (TernTestFifo *fifo);

G_END_DECLS
