/* test-worker-pool.c: TernWorkerPool with real threads and jobs that sleep,
 * hang, fail and are cancelled.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-account-private.h"
#include "tern-app-error.h"
#include "tern-imap-client.h"
#include "tern-pop3-client.h"
#include "tern-protocol-error.h"
#include "tern-worker-pool.h"

typedef struct
{
  TernWorkerPool *pool;
  TernAccount *accounts[3];
  GThread *main_thread;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(TernServer) server = tern_server_new ("127.0.0.1", 993, TERN_TLS_MODE_IMPLICIT);

  fixture->pool = tern_worker_pool_new ();
  for (guint i = 0; i < G_N_ELEMENTS (fixture->accounts); i++)
    {
      g_autofree char *address = g_strdup_printf ("user%u@example.org", i);

      fixture->accounts[i] = tern_account_new ("Test", address, TERN_ACCOUNT_PROTOCOL_IMAP, server,
                                               NULL);
      _tern_account_set_id (fixture->accounts[i], i + 1);
    }
  fixture->main_thread = g_thread_self ();
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->pool);
  for (guint i = 0; i < G_N_ELEMENTS (fixture->accounts); i++)
    g_assert_finalize_object (fixture->accounts[i]);
}

/* Iterates the main context until *@flag or @timeout_ms pass. */
static void
wait_for (gboolean *flag,
          guint     timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_assert_true (*flag);
}

static void
wait_for_count (guint *count,
                guint  wanted,
                guint  timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  while (*count < wanted && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_assert_cmpuint (*count, ==, wanted);
}

/* What a job does, and what it saw. */
typedef struct
{
  guint sleep_ms;
  gboolean hang;              /* until cancelled */
  GQuark error_domain;        /* 0: succeed */
  int error_code;
  gint *running;              /* jobs of the account running now */
  gint max_running;
  gint *started;              /* shared start counter */
  gint order;                 /* value of *started when this job began */
  gint *rendezvous;           /* parallel test: all jobs must meet */
  gint rendezvous_count;
  gboolean ran;
  const char *folder;
  /* Filled in by the callback. */
  gboolean done;
  GError *error;
  guint *n_done;
} Job;

static gboolean
job_func (TernWorkerJob  *job,
          gpointer        data,
          GCancellable   *cancellable,
          GError        **error)
{
  Job *j = data;
  gint now;

  j->ran = TRUE;
  if (j->started != NULL)
    j->order = g_atomic_int_add (j->started, 1);
  if (j->running != NULL)
    {
      now = g_atomic_int_add (j->running, 1) + 1;
      j->max_running = MAX (j->max_running, now);
    }
  if (j->folder != NULL)
    {
      tern_worker_job_set_state (job, TERN_WORKER_STATE_SYNCING);
      tern_worker_job_set_folder (job, j->folder);
      tern_worker_job_set_progress (job, 1, 2);
      tern_worker_job_set_progress (job, 2, 2);
      tern_worker_job_mark_synced (job);
    }
  if (j->rendezvous != NULL)
    {
      gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

      g_atomic_int_inc (j->rendezvous);
      while (g_atomic_int_get (j->rendezvous) < j->rendezvous_count
             && g_get_monotonic_time () < end)
        g_usleep (1000);
      if (g_atomic_int_get (j->rendezvous) < j->rendezvous_count)
        g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, "no parallelism");
    }
  if (j->sleep_ms > 0)
    g_usleep (j->sleep_ms * 1000);
  while (j->hang && !g_cancellable_is_cancelled (cancellable))
    g_usleep (1000);
  if (j->running != NULL)
    g_atomic_int_add (j->running, -1);

  if (error != NULL && *error != NULL)
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (j->error_domain != 0)
    {
      g_set_error (error, j->error_domain, j->error_code, "job failed on purpose");
      return FALSE;
    }
  return TRUE;
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Job *j = user_data;

  tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &j->error);
  j->done = TRUE;
  if (j->n_done != NULL)
    (*j->n_done)++;
}

static void
run (Fixture      *fixture,
     guint         account,
     Job          *job,
     GCancellable *cancellable)
{
  tern_worker_pool_run_async (fixture->pool, fixture->accounts[account], job_func, job, cancellable,
                              job_done_cb, job);
}

static void
test_serial_per_account (Fixture       *fixture,
                         gconstpointer  data)
{
  Job jobs[4] = { 0 };
  gint running = 0, started = 0;
  guint n_done = 0;

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i].sleep_ms = 30;
      jobs[i].running = &running;
      jobs[i].started = &started;
      jobs[i].n_done = &n_done;
      run (fixture, 0, &jobs[i], NULL);
    }
  wait_for_count (&n_done, G_N_ELEMENTS (jobs), 5000);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_assert_no_error (jobs[i].error);
      g_assert_cmpint (jobs[i].max_running, ==, 1);
      g_assert_cmpint (jobs[i].order, ==, i);
    }
}

static void
test_parallel_accounts (Fixture       *fixture,
                        gconstpointer  data)
{
  Job jobs[3] = { 0 };
  gint rendezvous = 0;
  guint n_done = 0;

  /* Each job waits until all three run at once: that only ends well when
   * the accounts really run in parallel. */
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i].rendezvous = &rendezvous;
      jobs[i].rendezvous_count = G_N_ELEMENTS (jobs);
      jobs[i].n_done = &n_done;
      run (fixture, i, &jobs[i], NULL);
    }
  wait_for_count (&n_done, G_N_ELEMENTS (jobs), 10000);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    g_assert_no_error (jobs[i].error);
}

static void
test_hanging_account (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Job hanging = { .hang = TRUE };
  Job queued = { 0 };
  Job other[3] = { 0 };
  guint n_done = 0;

  run (fixture, 0, &hanging, cancellable);
  run (fixture, 0, &queued, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (other); i++)
    {
      other[i].sleep_ms = 10;
      other[i].n_done = &n_done;
      run (fixture, 1, &other[i], NULL);
    }
  /* The other account's jobs all finish while the first one hangs. */
  wait_for_count (&n_done, G_N_ELEMENTS (other), 5000);
  g_assert_false (hanging.done);
  g_assert_false (queued.ran);

  /* The caller's cancellable ends the hanging job; the queued one runs. */
  g_cancellable_cancel (cancellable);
  wait_for (&hanging.done, 5000);
  g_assert_error (hanging.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_for (&queued.done, 5000);
  g_assert_no_error (queued.error);
  g_assert_true (queued.ran);
  g_clear_error (&hanging.error);
}

static void
test_cancel_account (Fixture       *fixture,
                     gconstpointer  data)
{
  Job hanging = { .hang = TRUE };
  Job queued = { 0 };
  Job other = { .sleep_ms = 10 };

  run (fixture, 0, &hanging, NULL);
  run (fixture, 0, &queued, NULL);
  run (fixture, 1, &other, NULL);
  g_usleep (20000);
  tern_worker_pool_cancel_account (fixture->pool, fixture->accounts[0]);
  wait_for (&hanging.done, 5000);
  wait_for (&queued.done, 5000);
  wait_for (&other.done, 5000);
  g_assert_error (hanging.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* A job cancelled while queued never starts. */
  g_assert_error (queued.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (queued.ran);
  g_assert_no_error (other.error);
  g_clear_error (&hanging.error);
  g_clear_error (&queued.error);
  g_assert_cmpint (tern_account_worker_get_state (
                     tern_worker_pool_get_worker (fixture->pool, fixture->accounts[0])),
                   ==, TERN_WORKER_STATE_IDLE);
}

static void
count_reconnect_cb (TernWorkerPool *pool,
                    TernAccount    *account,
                    gpointer        user_data)
{
  (*(guint *) user_data)++;
}

static void
test_failing_account (Fixture       *fixture,
                      gconstpointer  data)
{
  Job failing = { .error_domain = TERN_APP_ERROR, .error_code = TERN_APP_ERROR_NO_PASSWORD };
  Job other = { .sleep_ms = 10 };
  TernAccountWorker *worker = tern_worker_pool_get_worker (fixture->pool, fixture->accounts[0]);
  guint reconnects = 0;
  gint64 end;

  tern_worker_pool_set_backoff (fixture->pool, 20, 40);
  g_signal_connect (fixture->pool, "reconnect", G_CALLBACK (count_reconnect_cb), &reconnects);
  run (fixture, 0, &failing, NULL);
  run (fixture, 1, &other, NULL);
  wait_for (&failing.done, 5000);
  wait_for (&other.done, 5000);
  g_assert_error (failing.error, TERN_APP_ERROR, TERN_APP_ERROR_NO_PASSWORD);
  g_assert_no_error (other.error);
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_ERROR);
  g_assert_cmpstr (tern_account_worker_get_last_error (worker), ==, "job failed on purpose");
  g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), ==, 0);
  g_assert_cmpint (tern_account_worker_get_state (
                     tern_worker_pool_get_worker (fixture->pool, fixture->accounts[1])),
                   ==, TERN_WORKER_STATE_IDLE);

  /* A refusal is not retried: no storm of logins with a wrong password. */
  end = g_get_monotonic_time () + 200 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_assert_cmpuint (reconnects, ==, 0);
  g_clear_error (&failing.error);
}

/* A POP3 maildrop held by another session ([IN-USE]) or a sign-in too
 * soon ([LOGIN-DELAY]) passes by itself: the worker goes offline and the
 * pool asks for a retry, instead of waiting for the user in the error
 * state. */
static void
test_pop3_busy_retried (Fixture       *fixture,
                        gconstpointer  data)
{
  const int codes[] = { TERN_POP3_ERROR_IN_USE, TERN_POP3_ERROR_LOGIN_DELAY };
  TernAccountWorker *worker = tern_worker_pool_get_worker (fixture->pool, fixture->accounts[0]);
  guint reconnects = 0;

  tern_worker_pool_set_backoff (fixture->pool, 20, 40);
  g_signal_connect (fixture->pool, "reconnect", G_CALLBACK (count_reconnect_cb), &reconnects);
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      Job busy = { .error_domain = TERN_POP3_ERROR, .error_code = codes[i] };
      Job back = { 0 };

      run (fixture, 0, &busy, NULL);
      wait_for (&busy.done, 5000);
      g_assert_error (busy.error, TERN_POP3_ERROR, codes[i]);
      g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_OFFLINE);
      g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), >, 0);
      g_assert_cmpstr (tern_account_worker_get_last_error (worker), ==, "job failed on purpose");
      wait_for_count (&reconnects, i + 1, 5000);

      /* The retry gets in: the worker is idle again, the series over. */
      run (fixture, 0, &back, NULL);
      wait_for (&back.done, 5000);
      g_assert_no_error (back.error);
      g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_IDLE);
      g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), ==, 0);
      g_clear_error (&busy.error);
    }
  g_signal_handlers_disconnect_by_data (fixture->pool, &reconnects);
}

typedef struct
{
  GThread *main_thread;
  guint notifications;
  GPtrArray *states;
  char *last_folder;
} Watch;

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  Watch *watch = user_data;
  TernAccountWorker *worker = TERN_ACCOUNT_WORKER (object);

  g_assert_true (g_thread_self () == watch->main_thread);
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  watch->notifications++;
  if (g_str_equal (pspec->name, "state"))
    g_ptr_array_add (watch->states,
                     GINT_TO_POINTER (tern_account_worker_get_state (worker)));
  if (g_str_equal (pspec->name, "folder") && tern_account_worker_get_folder (worker) != NULL)
    {
      g_free (watch->last_folder);
      watch->last_folder = g_strdup (tern_account_worker_get_folder (worker));
    }
}

static void
test_main_context (Fixture       *fixture,
                   gconstpointer  data)
{
  Job job = { .folder = "INBOX", .sleep_ms = 50 };
  TernAccountWorker *worker = tern_worker_pool_get_worker (fixture->pool, fixture->accounts[0]);
  Watch watch = { .main_thread = fixture->main_thread, .states = g_ptr_array_new () };
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  TernWorkerState state;

  g_signal_connect (worker, "notify", G_CALLBACK (notify_cb), &watch);
  run (fixture, 0, &job, NULL);
  /* Nothing changes behind the main context's back. */
  g_usleep (20000);
  g_assert_cmpuint (watch.notifications, ==, 0);
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_IDLE);

  wait_for (&job.done, 5000);
  g_assert_no_error (job.error);
  g_assert_cmpuint (watch.notifications, >, 0);
  g_assert_cmpstr (watch.last_folder, ==, "INBOX");
  g_assert_cmpuint (watch.states->len, >=, 2);
  state = GPOINTER_TO_INT (g_ptr_array_index (watch.states, watch.states->len - 1));
  g_assert_cmpint (state, ==, TERN_WORKER_STATE_IDLE);
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_IDLE);
  g_assert_null (tern_account_worker_get_folder (worker));
  g_assert_cmpint (tern_account_worker_get_last_sync (worker), >=, before);
  g_assert_null (tern_account_worker_get_last_error (worker));

  g_signal_handlers_disconnect_by_data (worker, &watch);
  g_ptr_array_unref (watch.states);
  g_free (watch.last_folder);
}

typedef struct
{
  Fixture *fixture;
  Job jobs[5];
  guint next;
  guint n_reconnects;
  gint64 failed_at;
  gint64 delays[5];     /* ms between a failure and its reconnect */
  guint expected[5];
} Backoff;

static void
backoff_reconnect_cb (TernWorkerPool *pool,
                      TernAccount    *account,
                      gpointer        user_data)
{
  Backoff *b = user_data;

  g_assert_true (g_thread_self () == b->fixture->main_thread);
  g_assert_true (account == b->fixture->accounts[0]);
  b->delays[b->n_reconnects++] = (g_get_monotonic_time () - b->failed_at) / 1000;
  run (b->fixture, 0, &b->jobs[b->next++], NULL);
}

/* The backoff timer starts in the same main-context dispatch that makes
 * the worker offline, so that is where the delay is measured from. */
static void
offline_cb (TernAccountWorker *worker,
            GParamSpec        *pspec,
            gpointer           user_data)
{
  Backoff *b = user_data;

  if (tern_account_worker_get_state (worker) == TERN_WORKER_STATE_OFFLINE)
    b->failed_at = g_get_monotonic_time ();
}

static void
test_backoff (Fixture       *fixture,
              gconstpointer  data)
{
  Backoff b = { .fixture = fixture };
  TernAccountWorker *worker = tern_worker_pool_get_worker (fixture->pool, fixture->accounts[0]);
  g_autoptr(TernWorkerPool) defaults = tern_worker_pool_new ();
  const guint expected[] = { 40, 80, 160, 160 };
  gint64 end;

  g_assert_cmpuint (tern_worker_pool_backoff_delay (defaults, 1), ==, 5000);
  g_assert_cmpuint (tern_worker_pool_backoff_delay (defaults, 2), ==, 10000);
  g_assert_cmpuint (tern_worker_pool_backoff_delay (defaults, 7), ==, 300000);
  g_assert_cmpuint (tern_worker_pool_backoff_delay (defaults, 1000), ==, 300000);

  tern_worker_pool_set_backoff (fixture->pool, 40, 160);
  g_signal_connect (fixture->pool, "reconnect", G_CALLBACK (backoff_reconnect_cb), &b);
  g_signal_connect (worker, "notify::state", G_CALLBACK (offline_cb), &b);
  /* Four network failures, then the server is back. */
  for (guint i = 0; i < 4; i++)
    {
      b.jobs[i].error_domain = TERN_CONNECTION_ERROR;
      b.jobs[i].error_code = TERN_CONNECTION_ERROR_CONNECT_FAILED;
    }
  run (fixture, 0, &b.jobs[b.next++], NULL);
  for (guint i = 0; i < 4; i++)
    {
      wait_for (&b.jobs[i].done, 5000);
      g_assert_error (b.jobs[i].error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED);
      g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_OFFLINE);
      g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), ==, expected[i]);
      g_clear_error (&b.jobs[i].error);
    }
  wait_for (&b.jobs[4].done, 5000);
  g_assert_no_error (b.jobs[4].error);
  g_assert_cmpuint (b.n_reconnects, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      /* The delay is measured from a moment just after the timer was
       * armed, and the process may be descheduled in between on a loaded
       * machine: allow a quarter early, which still tells 40, 80 and 160
       * apart; late only by a scheduling hiccup. */
      g_assert_cmpint (b.delays[i], >=, expected[i] * 3 / 4);
      g_assert_cmpint (b.delays[i], <, expected[i] + 1000);
    }
  g_assert_cmpint (tern_account_worker_get_state (worker), ==, TERN_WORKER_STATE_IDLE);
  g_assert_cmpuint (tern_account_worker_get_retry_delay (worker), ==, 0);
  g_assert_null (tern_account_worker_get_last_error (worker));

  /* A success ends the series: nothing more is scheduled. */
  end = g_get_monotonic_time () + 400 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_assert_cmpuint (b.n_reconnects, ==, 4);
  g_signal_handlers_disconnect_by_data (fixture->pool, &b);
  g_signal_handlers_disconnect_by_data (worker, &b);
}

static void
test_error_classes (void)
{
  const struct
  {
    GQuark domain;
    int code;
    gboolean network;
  } cases[] = {
    { TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED, TRUE },
    { TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT, TRUE },
    { TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED, TRUE },
    { TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CERT_UNTRUSTED, FALSE },
    { G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, TRUE },
    { G_IO_ERROR, G_IO_ERROR_CANCELLED, FALSE },
    { TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE, TRUE },
    { TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED, FALSE },
    { TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO, FALSE },
    { TERN_APP_ERROR, TERN_APP_ERROR_NO_PASSWORD, FALSE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_IN_USE, TRUE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_LOGIN_DELAY, TRUE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_TEMPORARY, TRUE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED, FALSE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_PERMANENT, FALSE },
    { TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (cases[i].domain, cases[i].code, "x");

      g_assert_cmpint (tern_worker_error_is_network (error), ==, cases[i].network);
    }
  g_assert_false (tern_worker_error_is_network (NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/tern/worker-pool/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("serial-per-account", test_serial_per_account);
  ADD ("parallel-accounts", test_parallel_accounts);
  ADD ("hanging-account", test_hanging_account);
  ADD ("cancel-account", test_cancel_account);
  ADD ("failing-account", test_failing_account);
  ADD ("pop3-busy-retried", test_pop3_busy_retried);
  ADD ("main-context", test_main_context);
  ADD ("backoff", test_backoff);
#undef ADD
  g_test_add_func ("/tern/worker-pool/error-classes", test_error_classes);

  return g_test_run ();
}
