/* test-faults-common.h: what the fault tests share: the seed and the fault
 * points, tern-cli runs (to the end, or killed with SIGKILL), and the
 * checks after a clean re-run (the cache's integrity, the server's
 * messages in the cache exactly once).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-fault-proxy.h"
#include "tern-test-servers.h"

G_BEGIN_DECLS

/* The servers of this test program. */
extern TernTestServers *faults_servers;

/* g_test_init() plus the fault options: TERN_FAULT_SEED (else a random
 * seed, printed), TERN_FAULT_POINT ("truncate:to-client:1234": that fault
 * alone), TERN_FAULTS_LONG=1 or --long; starts the servers. */
void        faults_init             (int          *argc,
                                     char       ***argv);
int         faults_run              (void);

/* The seeded random numbers of one test: the seed, mixed with @name so
 * that each test replays on its own. */
GRand      *faults_rand             (const char   *name);
/* How many fault points a test tries: @ci normally, TERN_FAULTS_LONG's
 * number in the long mode, one with TERN_FAULT_POINT. */
guint       faults_count            (guint         ci);
/* The next fault: TERN_FAULT_POINT's, or a random one within what a
 * clean run moved. */
void        faults_next             (GRand        *rand,
                                     guint64       to_client,
                                     guint64       to_server,
                                     TernFault    *fault);
/* Prints the fault (and how to replay it) to the test log. */
void        faults_announce         (const char   *test,
                                     guint         index,
                                     guint         count,
                                     const TernFault *fault);

/* Delivers @count new messages into @user's INBOX (written into the
 * Maildir, as Dovecot's LDA would: much faster than
 * tern_test_servers_add_messages()), of random sizes up to ~60 kB;
 * returns their Message-IDs (without angle brackets). */
GPtrArray  *faults_deliver          (guint         user,
                                     guint         count,
                                     GRand        *rand);

/* A profile directory with one account, whose password comes from a
 * password command; the servers are HOST:PORT:SECURITY or NULL. */
typedef struct
{
  char *dir;
  char *profile;
  char *user;
} FaultsProfile;

FaultsProfile *faults_profile_new   (guint         user,
                                     const char   *imap,
                                     const char   *pop3,
                                     const char   *smtp);
void        faults_profile_free     (FaultsProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FaultsProfile, faults_profile_free)

/* Runs tern-cli on @profile with the NULL-terminated arguments; returns
 * its exit status (0 or 1: anything else, a signal or a sanitizer report
 * fails the test); @err (optional) receives its standard error. */
int         faults_cli              (FaultsProfile *profile,
                                     char        **err,
                                     const char   *first,
                                     ...) G_GNUC_NULL_TERMINATED;
/* The same, killed with SIGKILL @delay_us microseconds after it started
 * (or left to finish if it is faster).  Returns -1 when it was killed,
 * otherwise how long it took (µs). */
gint64      faults_cli_kill         (FaultsProfile *profile,
                                     gulong        delay_us,
                                     const char   *first,
                                     ...) G_GNUC_NULL_TERMINATED;
/* How long a clean run takes, to spread the kills over it. */
gint64      faults_cli_time         (FaultsProfile *profile,
                                     const char   *first,
                                     ...) G_GNUC_NULL_TERMINATED;

/* tern-cli failed: it said so on a "tern-cli: …" line, in words (no
 * internal codes, no "(null)", no format left unfilled). */
void        faults_assert_sentence  (const char   *err);

/* The profile's database, read-only. */
typedef struct sqlite3 sqlite3;
sqlite3    *faults_db_open          (FaultsProfile *profile);
void        faults_assert_integrity (FaultsProfile *profile);
/* The single value of @sql (a number), -1 when there is no row. */
gint64      faults_db_int           (FaultsProfile *profile,
                                     const char   *sql);
/* Runs @sql on the profile's database (what no tern-cli option sets). */
void        faults_db_exec          (FaultsProfile *profile,
                                     const char   *sql);
/* The rows of @sql, a column each tab-separated, sorted, one a line. */
char       *faults_db_rows          (FaultsProfile *profile,
                                     const char   *sql);

/* doveadm fetch @fields (space separated) of @user's messages matching
 * @query: rows tab-separated, sorted, one a line, without the header. */
char       *faults_server_rows      (guint         user,
                                     const char   *fields,
                                     const char   *query);
/* How many of @user's messages (any folder, or @folder) carry @message_id
 * (without angle brackets). */
guint       faults_server_count     (guint         user,
                                     const char   *folder,
                                     const char   *message_id);
/* Every message of every folder of @user's IMAP account is in the cache
 * exactly once, with its UID, Message-ID and flags, and nothing else is;
 * with @bodies, the body of each is cached whole. */
void        faults_assert_imap_cache (FaultsProfile *profile,
                                      gboolean       bodies);

G_END_DECLS
