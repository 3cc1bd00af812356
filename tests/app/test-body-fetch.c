/* test-body-fetch.c: the reading pane's bodies without a server: cached
 * ones at once, a POP3 message stored without its body refused with a
 * reason, an unknown message not found.  Fetching from IMAP is covered
 * against real Dovecot by tests/ui/test-message-view.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-app-error.h"
#include "tern-body-fetch.h"
#include "tern-mail-store.h"
#include "tern-test-util.h"

typedef struct
{
  char *dir;
  TernContext *context;
  gint64 folder_id;
} Fixture;

static const char raw_message[] = "From: Bob <bob@example.org>\r\n"
                                  "Subject: Note\r\n"
                                  "Message-ID: <note@example.org>\r\n"
                                  "\r\nHello\r\n";

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;
  g_autoptr(TernServer) pop3 = tern_server_new ("127.0.0.1", 1, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = tern_account_new ("Bob", "bob@example.org",
                                                     TERN_ACCOUNT_PROTOCOL_POP3, pop3, NULL);
  TernMailFolder folder = { 0 };

  fixture->dir = tern_test_make_tmpdir ("tern-body-fetch-XXXXXX");
  profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (profile, &error);
  g_assert_no_error (error);
  tern_account_set_password_command (account, "echo pw");
  tern_account_manager_add (tern_context_get_accounts (fixture->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  folder.account_id = tern_account_get_id (account);
  folder.name = (char *) "INBOX";
  folder.role = (char *) "inbox";
  fixture->folder_id = tern_mail_store_upsert_folder (tern_context_get_store (fixture->context),
                                                      &folder, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* A POP3 message, with its body stored or not; returns its id. */
static gint64
add_message (Fixture    *fixture,
             const char *uidl,
             gboolean    with_body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = g_bytes_new_static (raw_message, strlen (raw_message));
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GPtrArray) stored = NULL;
  TernStore *store = tern_context_get_store (fixture->context);

  g_ptr_array_add (messages, tern_mail_new_message_from_pop3 (uidl, raw, with_body, 1700000000));
  tern_mail_store_add_new_messages (store, fixture->folder_id, messages, NULL, &error);
  g_assert_no_error (error);
  stored = tern_mail_store_list_messages (store, fixture->folder_id, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < stored->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (stored, i);

      if (message->has_body == with_body)
        return message->id;
    }
  g_assert_not_reached ();
}

typedef struct
{
  GBytes *body;
  GError *error;
  gboolean done;
} Result;

static void
fetched_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Result *out = user_data;

  out->body = tern_body_fetch_finish (TERN_CONTEXT (source), result, &out->error);
  out->done = TRUE;
}

static void
fetch (Fixture *fixture,
       gint64   message_id,
       Result  *out)
{
  tern_body_fetch_async (fixture->context, message_id, NULL, fetched_cb, out);
  while (!out->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_cached (Fixture       *fixture,
             gconstpointer  data)
{
  gint64 id = add_message (fixture, "with-body", TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cached = tern_body_fetch_cached (fixture->context, id, &error);
  Result result = { 0 };

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (cached, NULL), g_bytes_get_size (cached), raw_message,
                   strlen (raw_message));
  fetch (fixture, id, &result);
  g_assert_no_error (result.error);
  g_assert_true (g_bytes_equal (result.body, cached));
  g_bytes_unref (result.body);
}

static void
test_pop3_without_body (Fixture       *fixture,
                        gconstpointer  data)
{
  gint64 id = add_message (fixture, "header-only", FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cached = tern_body_fetch_cached (fixture->context, id, &error);
  Result result = { 0 };

  /* Not cached is no error... */
  g_assert_no_error (error);
  g_assert_null (cached);
  /* ...but POP3 cannot fetch one message's body again. */
  fetch (fixture, id, &result);
  g_assert_null (result.body);
  g_assert_error (result.error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_assert_false (tern_worker_error_is_network (result.error));
  g_clear_error (&result.error);
}

static void
test_unknown_message (Fixture       *fixture,
                      gconstpointer  data)
{
  Result result = { 0 };

  fetch (fixture, 424242, &result);
  g_assert_null (result.body);
  g_assert_error (result.error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&result.error);
}

/* The cache is read off the caller's thread (the UI's): a cached body
 * that is a FIFO (tern_test_fifo_new()), whose open() waits for a writer,
 * leaves tern_body_fetch_async() returning at once; what is read in the
 * end is no message, and the fetch says so. */
static void
test_cache_off_caller (Fixture       *fixture,
                       gconstpointer  data)
{
  TernStore *store = tern_context_get_store (fixture->context);
  gint64 id = add_message (fixture, "piped", FALSE);
  g_autofree char *path = g_build_filename (fixture->dir, "profile", "bodies", "piped.eml", NULL);
  g_autoptr(GError) error = NULL;
  Result out = { 0 };
  TernTestFifo *fifo;

  tern_mail_store_set_body (store, id, NULL, "bodies/piped.eml", 100, &error);
  g_assert_no_error (error);
  fifo = tern_test_fifo_new (path);
  tern_body_fetch_async (fixture->context, id, NULL, fetched_cb, &out);
  tern_test_fifo_returned (fifo);
  while (!out.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (tern_test_fifo_free (fifo));
  g_assert_null (out.body);
  g_assert_nonnull (out.error);
  g_clear_error (&out.error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/app/body-fetch/cached", Fixture, NULL, fixture_setup, test_cached, fixture_teardown);
  g_test_add ("/tern/app/body-fetch/pop3-without-body", Fixture, NULL, fixture_setup, test_pop3_without_body, fixture_teardown);
  g_test_add ("/tern/app/body-fetch/unknown-message", Fixture, NULL, fixture_setup, test_unknown_message, fixture_teardown);
  g_test_add ("/tern/app/body-fetch/cache-off-caller", Fixture, NULL, fixture_setup,
              test_cache_off_caller, fixture_teardown);

  return g_test_run ();
}
