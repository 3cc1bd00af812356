/* test-account-edit.c: what the preferences change in an account: its name,
 * address and servers in the store, its password in the real Secret Service
 * (tern-test-session's gnome-keyring), its options (signature, sync), and
 * the signature in the messages it composes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-composer.h"
#include "tern-context.h"
#include "tern-test-util.h"

typedef TernTestProfile Fixture;

static TernAccount *
add_account (TernContext *context,
             const char  *address,
             const char  *password)
{
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernServer) smtp = tern_server_new ("smtp.example.org", 587, TERN_TLS_MODE_STARTTLS);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  account = tern_account_new ("Анна", address, TERN_ACCOUNT_PROTOCOL_IMAP, imap, smtp);
  g_assert_true (tern_account_manager_add (tern_context_get_accounts (context), account, password,
                                           NULL, &error));
  g_assert_no_error (error);
  return account; /* the manager keeps it */
}

static TernAccount *
first_account (TernContext *context)
{
  g_autoptr(TernAccount) account =
    g_list_model_get_item (G_LIST_MODEL (tern_context_get_accounts (context)), 0);

  return account;
}

static void
test_update (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernServer) imap = tern_server_new ("mail.example.net", 143, TERN_TLS_MODE_STARTTLS);
  g_autoptr(TernServer) bad = tern_server_new ("bad host", 25, TERN_TLS_MODE_STARTTLS);
  g_autoptr(TernAccount) edited = NULL;
  g_autoptr(TernAccount) invalid = NULL;
  TernAccount *account;
  const TernServer *old_incoming;
  char *old_host;

  g_assert_no_error (error);
  account = add_account (context, "anna@example.org", "secret-1");
  old_incoming = tern_account_get_incoming (account);
  old_host = old_incoming->host;

  edited = tern_account_new ("Anna Petrova", "anna@example.net", TERN_ACCOUNT_PROTOCOL_IMAP, imap,
                             NULL);
  g_assert_true (tern_account_manager_update (tern_context_get_accounts (context), account, edited,
                                              &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tern_account_get_display_name (account), ==, "Anna Petrova");
  g_assert_cmpstr (tern_account_get_address (account), ==, "anna@example.net");
  g_assert_cmpstr (tern_account_get_incoming (account)->host, ==, "mail.example.net");
  g_assert_null (tern_account_get_outgoing (account));
  /* A worker still reading the old server finds it intact. */
  g_assert_cmpstr (old_incoming->host, ==, "imap.example.org");
  g_assert_true (old_incoming->host == old_host);

  /* Refused as a whole: nothing of it saved. */
  invalid = tern_account_new ("X", "anna@example.net", TERN_ACCOUNT_PROTOCOL_IMAP, bad, NULL);
  g_assert_false (tern_account_manager_update (tern_context_get_accounts (context), account,
                                               invalid, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpstr (tern_account_get_display_name (account), ==, "Anna Petrova");
  g_clear_object (&context);

  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  account = first_account (context);
  g_assert_cmpstr (tern_account_get_display_name (account), ==, "Anna Petrova");
  g_assert_cmpstr (tern_account_get_address (account), ==, "anna@example.net");
  g_assert_cmpstr (tern_account_get_incoming (account)->host, ==, "mail.example.net");
  g_assert_cmpuint (tern_account_get_incoming (account)->port, ==, 143);
  g_assert_cmpint (tern_account_get_incoming (account)->security, ==, TERN_TLS_MODE_STARTTLS);
  g_assert_null (tern_account_get_outgoing (account));
  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (context), account, NULL,
                                              &error));
}

static void
test_password (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  TernAccountManager *accounts = tern_context_get_accounts (context);
  g_autofree char *password = g_strdup_printf ("new-%08x-pw", g_random_int ());
  g_autofree char *stored = NULL;
  TernAccount *account;

  g_assert_no_error (error);
  account = add_account (context, "boris@example.org", "old-password");
  tern_account_set_password_command (account, "echo never");

  g_assert_false (tern_account_manager_set_password (accounts, account, "", NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  tern_account_manager_set_password (accounts, account, password, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (tern_account_get_password_command (account));
  stored = tern_secrets_lookup (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING, NULL,
                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, password);
  g_assert_false (tern_test_tree_contains (fixture->dir, password));
  g_assert_true (tern_account_manager_remove (accounts, account, NULL, &error));
  g_assert_no_error (error);
}

static void
removed_cb (GObject      *source_object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
is_set (gpointer data)
{
  return *(gpointer *) data != NULL;
}

static gboolean
wait_removed (TernAccountManager  *accounts,
              GAsyncResult       **result,
              GError             **error)
{
  tern_test_wait_until (is_set, result, "the removal");
  return tern_account_manager_remove_finish (accounts, *result, error);
}

/* Removing from the UI: the work in a thread, the list changed back in
 * the main context, once the password is gone. */
static void
test_remove_async (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  TernAccountManager *accounts = tern_context_get_accounts (context);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *stored = NULL;

  g_assert_no_error (error);
  account = g_object_ref (add_account (context, "vera@example.org", "vera-password"));

  tern_account_manager_remove_async (accounts, account, NULL, removed_cb, &result);
  /* Nothing changes before the main context runs. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 1);
  g_assert_true (wait_removed (accounts, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
  stored = tern_secrets_lookup (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING, NULL,
                                &error);
  g_assert_no_error (error);
  g_assert_null (stored);
  g_clear_object (&context);

  /* For good: not back in a new session, and not removable twice. */
  context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  accounts = tern_context_get_accounts (context);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (accounts)), ==, 0);
  g_clear_object (&result);
  tern_account_manager_remove_async (accounts, account, NULL, removed_cb, &result);
  g_assert_false (wait_removed (accounts, &result, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
}

static void
test_options (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *signature = NULL;
  TernAccount *account;
  gint64 id;

  g_assert_no_error (error);
  account = add_account (context, "vera@example.org", "pw");
  id = tern_account_get_id (account);

  signature = tern_account_options_get_signature (store, id, &error);
  g_assert_no_error (error);
  g_assert_null (signature);

  /* Another concern's group survives. */
  key_file = tern_account_options_load (store, id, &error);
  g_key_file_set_string (key_file, "outbox", "save-sent-copy", "never");
  g_assert_true (tern_account_options_save (store, id, key_file, &error));
  g_clear_pointer (&key_file, g_key_file_unref);

  g_assert_true (tern_account_options_set_signature (store, id, "Вера\n[x] = 1; \\n\n", &error));
  g_assert_true (tern_account_options_set_integer (store, id, TERN_ACCOUNT_OPTIONS_SYNC,
                                                   TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS, 7, &error));
  g_assert_no_error (error);
  signature = tern_account_options_get_signature (store, id, &error);
  g_assert_cmpstr (signature, ==, "Вера\n[x] = 1; \\n\n");
  key_file = tern_account_options_load (store, id, &error);
  g_assert_cmpint (tern_account_options_get_integer (key_file, TERN_ACCOUNT_OPTIONS_SYNC,
                                                     TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS, 30), ==, 7);
  g_assert_cmpint (tern_account_options_get_integer (key_file, TERN_ACCOUNT_OPTIONS_SYNC,
                                                     TERN_ACCOUNT_OPTIONS_CHECK_MINUTES, 5), ==, 5);
  g_assert_true (g_key_file_has_key (key_file, "outbox", "save-sent-copy", NULL));
  g_clear_pointer (&key_file, g_key_file_unref);

  g_assert_true (tern_account_options_set_signature (store, id, "", &error));
  g_clear_pointer (&signature, g_free);
  signature = tern_account_options_get_signature (store, id, &error);
  g_assert_no_error (error);
  g_assert_null (signature);

  g_assert_null (tern_account_options_get_signature (store, 9999, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (context), account, NULL,
                                              &error));
}

/* The plain text part of a built message. */
static char *
built_text (TernComposer *composer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = tern_composer_build (composer, &error);
  GMimeObject *body;

  g_assert_no_error (error);
  body = g_mime_message_get_body (message);
  if (GMIME_IS_MULTIPART (body))
    body = g_mime_multipart_get_part (GMIME_MULTIPART (body), 0);
  return g_mime_text_part_get_text (GMIME_TEXT_PART (body));
}

static void
test_signature (void)
{
  g_autoptr(TernComposer) composer = tern_composer_new ();
  g_autoptr(TernComposer) draft = tern_composer_new ();
  g_autofree char *text = NULL;

  tern_composer_set_from (composer, "anna@example.org");
  tern_composer_set_to (composer, "boris@example.org");
  tern_composer_set_signature (composer, "Anna\nexample.org\n\n");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "\n\n-- \nAnna\nexample.org\n");
  /* Typed above it, then the sender (and so the signature) changes. */
  tern_composer_set_body (composer, "Hello\n\n-- \nAnna\nexample.org\n");
  tern_composer_set_signature (composer, "Anna (work)");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n\n-- \nAnna (work)\n");
  text = built_text (composer);
  g_assert_nonnull (strstr (text, "Hello\n\n-- \nAnna (work)\n"));
  g_clear_pointer (&text, g_free);
  /* An account without one takes it away. */
  tern_composer_set_signature (composer, NULL);
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n");
  tern_composer_set_signature (composer, "Anna");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n\n-- \nAnna\n");
  /* Edited by the user: theirs, neither replaced nor doubled. */
  tern_composer_set_body (composer, "Hello\n\n-- \nAnna, CEO\n");
  tern_composer_set_signature (composer, "Boris");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n\n-- \nAnna, CEO\n");

  /* A draft reopened: its signature adopted, a changed one left alone. */
  {
    g_autoptr(TernComposer) reopened = tern_composer_new ();

    tern_composer_set_body (reopened, "Text\n\n-- \nAnna, edited\n");
    g_assert_false (tern_composer_adopt_signature (reopened, "Anna"));
    g_assert_null (tern_composer_get_signature (reopened));
    tern_composer_set_body (reopened, "Text\n\n-- \nAnna\n");
    g_assert_true (tern_composer_adopt_signature (reopened, "Anna"));
    g_assert_cmpstr (tern_composer_get_body (reopened), ==, "Text\n\n-- \nAnna\n");
    tern_composer_set_signature (reopened, "Boris");
    g_assert_cmpstr (tern_composer_get_body (reopened), ==, "Text\n\n-- \nBoris\n");
  }

  /* A draft reopened has its signature already. */
  tern_composer_set_body (draft, "Draft text\n\n-- \nAnna\n");
  tern_composer_set_signature (draft, "Anna");
  g_assert_cmpstr (tern_composer_get_body (draft), ==, "Draft text\n\n-- \nAnna\n");
  tern_composer_set_signature (draft, "Boris");
  g_assert_cmpstr (tern_composer_get_body (draft), ==, "Draft text\n\n-- \nBoris\n");
}

static GMimeMessage *
original_message (void)
{
  static const char raw[] =
    "From: Boris <boris@example.org>\r\n"
    "To: anna@example.org\r\n"
    "Subject: Plans\r\n"
    "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <plans@example.org>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Shall we meet?\r\n"
    "-- \r\n"
    "Boris\r\n";
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (raw, sizeof raw - 1);
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream (stream);

  return g_mime_parser_construct_message (parser, NULL);
}

static void
test_signature_reply (void)
{
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account =
    tern_account_new ("Anna", "anna@example.org", TERN_ACCOUNT_PROTOCOL_IMAP, imap, NULL);
  g_autoptr(GMimeMessage) original = original_message ();
  g_autoptr(TernComposer) below = NULL;
  g_autoptr(TernComposer) above = NULL;
  g_autoptr(TernComposer) forward = NULL;
  const char *body;

  /* Below the quote: the signature ends the message, the quoted one stays
   * quoted. */
  below = tern_composer_new_reply (account, original, TERN_REPLY_MODE_REPLY);
  tern_composer_set_signature (below, "Anna");
  body = tern_composer_get_body (below);
  g_assert_true (g_str_has_suffix (body, "> Shall we meet?\n> -- \n> Boris\n\n\n-- \nAnna\n"));
  tern_composer_set_signature (below, "Anna Petrova");
  g_assert_true (g_str_has_suffix (tern_composer_get_body (below), "> Boris\n\n\n-- \nAnna Petrova\n"));

  /* Top posting: the user's text and signature above the quote. */
  above = tern_composer_new_reply (account, original, TERN_REPLY_MODE_REPLY);
  tern_composer_set_text_above_quote (above, TRUE);
  tern_composer_set_signature (above, "Anna");
  body = tern_composer_get_body (above);
  g_assert_true (g_str_has_prefix (body, "\n\n-- \nAnna\n\n"));
  g_assert_true (g_str_has_suffix (body, "> Boris\n\n"));

  forward = tern_composer_new_reply (account, original, TERN_REPLY_MODE_FORWARD_INLINE);
  g_assert_true (tern_composer_get_text_above_quote (forward));
  tern_composer_set_signature (forward, "Anna");
  body = tern_composer_get_body (forward);
  g_assert_true (g_str_has_prefix (body, "\n\n-- \nAnna\n\n"));
  g_assert_nonnull (strstr (body, "Shall we meet?"));
}

static void
test_html_from_text (void)
{
  g_autoptr(TernComposer) composer = tern_composer_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  GMimeObject *body;
  GMimeObject *html;
  g_autofree char *text = NULL;

  tern_composer_set_from (composer, "anna@example.org");
  tern_composer_set_to (composer, "boris@example.org");
  tern_composer_set_body (composer, "Yes <b>, & no\n> quoted\n");
  tern_composer_set_html_from_text (composer, TRUE);
  message = tern_composer_build (composer, &error);
  g_assert_no_error (error);
  body = g_mime_message_get_body (message);
  g_assert_true (GMIME_IS_MULTIPART (body));
  g_assert_cmpstr (g_mime_content_type_get_media_subtype (g_mime_object_get_content_type (body)), ==,
                   "alternative");
  html = g_mime_multipart_get_part (GMIME_MULTIPART (body), 1);
  text = g_mime_text_part_get_text (GMIME_TEXT_PART (html));
  g_assert_nonnull (strstr (text, "Yes &lt;b&gt;, &amp; no<br>"));
  g_assert_nonnull (strstr (text, "<blockquote type=\"cite\">quoted<br></blockquote>"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add ("/tern/account-edit/password", Fixture, NULL, tern_test_profile_setup, test_password,
              tern_test_profile_teardown);
  g_test_add ("/tern/account-edit/update", Fixture, NULL, tern_test_profile_setup, test_update,
              tern_test_profile_teardown);
  g_test_add ("/tern/account-edit/remove-async", Fixture, NULL, tern_test_profile_setup,
              test_remove_async, tern_test_profile_teardown);
  g_test_add ("/tern/account-edit/options", Fixture, NULL, tern_test_profile_setup, test_options,
              tern_test_profile_teardown);
  g_test_add_func ("/tern/account-edit/signature", test_signature);
  g_test_add_func ("/tern/account-edit/signature-reply", test_signature_reply);
  g_test_add_func ("/tern/account-edit/html-from-text", test_html_from_text);

  return g_test_run ();
}
