/* test-identity.c: an account's identities in its options (round trip,
 * order, the other groups kept, validation), the identity a reply goes out
 * from, and drafts and the outbox keeping an alias' From and Reply-To.
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
#include "tern-drafts.h"
#include "tern-identity.h"
#include "tern-outbox.h"
#include "tern-test-util.h"

/* A POP3 account (drafts stay local: no server needed) in @fixture's
 * profile. */
static TernAccount *
add_account (TernContext *context)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAccount) account = NULL;
  TernServer *server = tern_server_new ("127.0.0.1", 465, TERN_TLS_MODE_IMPLICIT);

  account = tern_account_new ("Анна Смирнова", "anna@tern.test", TERN_ACCOUNT_PROTOCOL_POP3,
                              server, server);
  tern_server_free (server);
  tern_account_set_password_command (account, "echo secret");
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

static TernIdentity *
item (GListModel *identities,
      guint       position)
{
  TernIdentity *identity = g_list_model_get_item (identities, position);

  g_assert_nonnull (identity);
  /* The list holds it too. */
  g_object_unref (identity);
  return identity;
}

static void
save_alias (TernStore   *store,
            TernAccount *account,
            const char  *name,
            const char  *address,
            const char  *reply_to,
            const char  *signature)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernIdentity) identity = tern_identity_new (account, name, address);

  tern_identity_set_reply_to (identity, reply_to);
  tern_identity_set_signature (identity, signature);
  g_assert_true (tern_identities_save (store, identity, NULL, &error));
  g_assert_no_error (error);
}

static GListModel *
load (TernStore   *store,
      TernAccount *account)
{
  g_autoptr(GError) error = NULL;
  GListModel *identities = tern_identities_load (store, account, &error);

  g_assert_no_error (error);
  g_assert_nonnull (identities);
  return identities;
}

static void
test_options (TernTestProfile *fixture,
              gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAccount) account = add_account (context);
  TernStore *store = tern_context_get_store (context);
  gint64 id = tern_account_get_id (account);
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(TernIdentity) edited = NULL;
  g_autoptr(TernIdentity) bad = NULL;
  g_autoptr(GKeyFile) options = NULL;
  g_autofree char *signature = NULL;
  g_autofree char *from = NULL;
  g_autofree char *label = NULL;
  TernIdentity *identity;

  /* Only the account's own at first. */
  identities = load (store, account);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 1);
  identity = item (identities, 0);
  g_assert_true (tern_identity_is_primary (identity));
  g_assert_cmpstr (tern_identity_get_address (identity), ==, "anna@tern.test");
  g_assert_null (tern_identity_get_message_signature (identity));
  g_clear_object (&identities);

  g_assert_true (tern_account_options_set_signature (store, id, "Анна\nTern Ltd", &error));
  g_assert_true (tern_account_options_set_integer (store, id, "sync", "check-interval", 7, &error));
  g_assert_no_error (error);
  save_alias (store, account, "Отдел продаж", "sales@tern.test", "Команда <team@tern.test>",
              NULL);
  save_alias (store, account, NULL, "help@tern.test", NULL, "Служба поддержки\n-- \nTern");

  /* A fresh load has them in order, with the account's signature where
   * an alias has none of its own. */
  identities = load (store, account);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 3);
  identity = item (identities, 0);
  g_assert_cmpstr (tern_identity_get_message_signature (identity), ==, "Анна\nTern Ltd");
  identity = item (identities, 1);
  g_assert_false (tern_identity_is_primary (identity));
  g_assert_true (tern_identity_get_account (identity) == account);
  g_assert_cmpstr (tern_identity_get_display_name (identity), ==, "Отдел продаж");
  g_assert_cmpstr (tern_identity_get_address (identity), ==, "sales@tern.test");
  g_assert_cmpstr (tern_identity_get_reply_to (identity), ==, "Команда <team@tern.test>");
  g_assert_null (tern_identity_get_signature (identity));
  g_assert_cmpstr (tern_identity_get_message_signature (identity), ==, "Анна\nTern Ltd");
  from = tern_identity_dup_from (identity);
  g_assert_cmpstr (from, ==, "Отдел продаж <sales@tern.test>");
  label = tern_identity_dup_label (identity);
  g_assert_cmpstr (label, ==, "Отдел продаж <sales@tern.test> — Анна Смирнова");
  identity = item (identities, 2);
  g_assert_null (tern_identity_get_display_name (identity));
  g_assert_null (tern_identity_get_reply_to (identity));
  g_assert_cmpstr (tern_identity_get_message_signature (identity), ==,
                   "Служба поддержки\n-- \nTern");
  g_clear_pointer (&from, g_free);
  from = tern_identity_dup_from (identity);
  g_assert_cmpstr (from, ==, "help@tern.test");

  /* Changing the first alias' address keeps its place. */
  edited = g_object_ref (item (identities, 1));
  tern_identity_set_address (edited, "orders@tern.test");
  tern_identity_set_reply_to (edited, NULL);
  g_assert_true (tern_identities_save (store, edited, "SALES@tern.test", &error));
  g_assert_no_error (error);
  g_clear_object (&identities);
  identities = load (store, account);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 3);
  g_assert_cmpstr (tern_identity_get_address (item (identities, 1)), ==, "orders@tern.test");
  g_assert_null (tern_identity_get_reply_to (item (identities, 1)));
  g_assert_cmpstr (tern_identity_get_address (item (identities, 2)), ==, "help@tern.test");

  /* Twice the same address, in any case, or the account's own: refused. */
  bad = tern_identity_new (account, "X", "HELP@tern.test");
  g_assert_false (tern_identities_save (store, bad, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  tern_identity_set_address (bad, "anna@TERN.test");
  g_assert_false (tern_identities_save (store, bad, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  /* Not an address, or a Reply-To that does not parse. */
  tern_identity_set_address (bad, "Someone <x@tern.test>");
  g_assert_false (tern_identities_save (store, bad, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  tern_identity_set_address (bad, "x[1]@tern.test");
  g_assert_false (tern_identity_validate (bad, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  tern_identity_set_address (bad, "x@tern.test");
  tern_identity_set_reply_to (bad, "not an address");
  g_assert_false (tern_identities_save (store, bad, NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  /* The account's own address stays; an unknown one is not found. */
  g_assert_false (tern_identities_remove (store, account, "Anna@tern.test", &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (tern_identities_remove (store, account, "nobody@tern.test", &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (tern_identities_remove (store, account, "Orders@tern.test", &error));
  g_assert_no_error (error);

  /* The primary identity keeps a Reply-To and the account's signature. */
  g_clear_object (&identities);
  identities = load (store, account);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 2);
  g_assert_cmpstr (tern_identity_get_address (item (identities, 1)), ==, "help@tern.test");
  identity = item (identities, 0);
  tern_identity_set_reply_to (identity, "anna.private@tern.test");
  g_assert_true (tern_identities_save (store, identity, NULL, &error));
  g_assert_no_error (error);

  /* The account's other options are all still there. */
  options = tern_account_options_load (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tern_account_options_get_integer (options, "sync", "check-interval", 0), ==, 7);
  signature = tern_account_options_get_signature (store, id, &error);
  g_assert_cmpstr (signature, ==, "Анна\nTern Ltd");
  g_clear_object (&identities);
  identities = load (store, account);
  g_assert_cmpstr (tern_identity_get_reply_to (item (identities, 0)), ==,
                   "anna.private@tern.test");
}

/* Replies */

static GMimeMessage *
message (const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  GMimeMessage *parsed = _tern_composer_parse_message (bytes);

  g_assert_nonnull (parsed);
  return parsed;
}

/* @identities as a GListStore of one account's identities, built here
 * without a store. */
static GListModel *
identities_of (TernAccount *account)
{
  GListStore *list = g_list_store_new (TERN_TYPE_IDENTITY);
  g_autoptr(TernIdentity) sales = tern_identity_new (account, "Sales", "sales@tern.test");
  g_autoptr(TernIdentity) help = tern_identity_new (account, "Help", "help@tern.test");
  g_autoptr(TernIdentity) primary = tern_identity_new (account, "Anna", "anna@tern.test");

  tern_identity_set_reply_to (sales, "team@tern.test");
  g_list_store_append (list, primary);
  g_list_store_append (list, sales);
  g_list_store_append (list, help);
  return G_LIST_MODEL (list);
}

static const char *
picked (GListModel *identities,
        const char *text)
{
  g_autoptr(GMimeMessage) original = message (text);
  g_autoptr(TernIdentity) identity = tern_identities_for_message (identities, original);

  g_assert_nonnull (identity);
  /* The list holds the identity and its address. */
  return tern_identity_get_address (identity);
}

static void
test_reply (void)
{
  TernServer *server = tern_server_new ("127.0.0.1", 465, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = tern_account_new ("Anna", "anna@tern.test",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, server, server);
  g_autoptr(GListModel) identities = identities_of (account);
  g_autoptr(GMimeMessage) original = NULL;
  g_autoptr(TernComposer) reply = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) built = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply_to = NULL;

  tern_server_free (server);
  /* To, any case; Cc; a list's Delivered-To; the user's own message; none. */
  g_assert_cmpstr (picked (identities, "From: bob@tern.test\r\nTo: Bob <bob@tern.test>, "
                                       "SALES@Tern.Test\r\n\r\nHi\r\n"), ==, "sales@tern.test");
  g_assert_cmpstr (picked (identities, "From: bob@tern.test\r\nTo: carol@tern.test\r\n"
                                       "Cc: list: help@tern.test;\r\n\r\nHi\r\n"), ==,
                   "help@tern.test");
  g_assert_cmpstr (picked (identities, "Delivered-To: other@tern.test\r\n"
                                       "Delivered-To: help@tern.test\r\n"
                                       "From: bob@tern.test\r\nTo: list@tern.test\r\n\r\nHi\r\n"),
                   ==, "help@tern.test");
  g_assert_cmpstr (picked (identities, "X-Original-To: sales@tern.test\r\n"
                                       "From: bob@tern.test\r\nTo: list@tern.test\r\n\r\nHi\r\n"),
                   ==, "sales@tern.test");
  g_assert_cmpstr (picked (identities, "From: Sales <sales@tern.test>\r\nTo: bob@tern.test\r\n"
                                       "\r\nHi\r\n"), ==, "sales@tern.test");
  g_assert_cmpstr (picked (identities, "From: bob@tern.test\r\nTo: list@tern.test\r\n\r\nHi\r\n"),
                   ==, "anna@tern.test");
  /* To comes before Delivered-To. */
  g_assert_cmpstr (picked (identities, "Delivered-To: sales@tern.test\r\n"
                                       "From: bob@tern.test\r\nTo: help@tern.test\r\n\r\nHi\r\n"),
                   ==, "help@tern.test");

  /* The reply goes out from the alias, with its Reply-To; a reply to all
   * leaves out every address of the user's. */
  original = message ("From: Bob <bob@tern.test>\r\nTo: sales@tern.test, anna@tern.test, "
                      "help@tern.test, carol@tern.test\r\nSubject: Order\r\n"
                      "Message-ID: <o1@tern.test>\r\n\r\nHi\r\n");
  reply = tern_composer_new_reply_from (identities, original, TERN_REPLY_MODE_REPLY_ALL);
  g_assert_cmpstr (tern_identity_get_address (tern_composer_get_identity (reply)), ==,
                   "sales@tern.test");
  g_assert_true (tern_composer_get_account (reply) == account);
  g_assert_cmpstr (tern_composer_get_from (reply), ==, "Sales <sales@tern.test>");
  g_assert_cmpstr (tern_composer_get_reply_to (reply), ==, "team@tern.test");
  g_assert_cmpstr (tern_composer_get_to (reply), ==, "Bob <bob@tern.test>, carol@tern.test");
  g_assert_null (tern_composer_get_cc (reply));
  g_assert_cmpstr (tern_composer_get_in_reply_to (reply), ==, "o1@tern.test");

  bytes = tern_composer_to_bytes (reply, &error);
  g_assert_no_error (error);
  built = _tern_composer_parse_message (bytes);
  reply_to = internet_address_list_to_string (g_mime_message_get_reply_to (built), NULL, FALSE);
  g_assert_cmpstr (reply_to, ==, "team@tern.test");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (built), "From"), ==,
                   "Sales <sales@tern.test>");

  /* The account again: its From, no Reply-To. */
  tern_composer_set_account (reply, account);
  g_assert_null (tern_composer_get_identity (reply));
  g_assert_null (tern_composer_get_reply_to (reply));
  g_assert_cmpstr (tern_composer_get_from (reply), ==, "Anna <anna@tern.test>");
}

/* A draft from an alias keeps its From and Reply-To; the outbox sends it
 * with the alias as envelope sender. */
static void
test_draft_and_outbox (TernTestProfile *fixture,
                       gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAccount) account = add_account (context);
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(GBytes) loaded = NULL;
  g_autoptr(GMimeMessage) parsed = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autoptr(TernIdentity) identity = NULL;
  g_autofree char *reply_to = NULL;
  gint64 draft_id;
  gint64 outbox_id;

  save_alias (store, account, "Продажи", "sales@tern.test", "team@tern.test", NULL);
  identities = load (store, account);
  composer = tern_composer_new_for_identity (item (identities, 1));
  tern_composer_set_subject (composer, "Черновик");
  tern_composer_set_body (composer, "Текст\n");
  draft = tern_composer_to_draft_bytes (composer, &error);
  g_assert_no_error (error);
  draft_id = tern_drafts_save (context, account, draft, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (draft_id, >, 0);

  loaded = tern_drafts_load (context, draft_id, &error);
  g_assert_no_error (error);
  parsed = _tern_composer_parse_message (loaded);
  reply_to = internet_address_list_to_string (g_mime_message_get_reply_to (parsed), NULL, FALSE);
  g_assert_cmpstr (reply_to, ==, "team@tern.test");
  /* The identity of the From is the alias. */
  identity = tern_identities_find (identities, internet_address_mailbox_get_addr (
                                                 INTERNET_ADDRESS_MAILBOX (
                                                   internet_address_list_get_address (
                                                     g_mime_message_get_from (parsed), 0))));
  g_assert_nonnull (identity);
  g_assert_cmpstr (tern_identity_get_address (identity), ==, "sales@tern.test");

  tern_composer_set_to (composer, "bob@tern.test");
  bytes = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  outbox_id = tern_outbox_enqueue (store, account, bytes, &error);
  g_assert_no_error (error);
  entry = tern_outbox_get (store, outbox_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (entry->envelope_from, ==, "sales@tern.test");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/identity/options", TernTestProfile, NULL, tern_test_profile_setup,
              test_options, tern_test_profile_teardown);
  g_test_add_func ("/tern/identity/reply", test_reply);
  g_test_add ("/tern/identity/draft-and-outbox", TernTestProfile, NULL, tern_test_profile_setup,
              test_draft_and_outbox, tern_test_profile_teardown);

  return g_test_run ();
}
