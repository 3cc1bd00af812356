/* test-address-book.c: the people of the cache for address completion:
 * read from the From, To and Cc of stored messages, ranked by how often
 * they appear, matched by the start of the address, the name or a word of
 * it, case-insensitively in Cyrillic too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-address-book.h"
#include "tern-context.h"
#include "tern-mail-store.h"
#include "tern-pop3-download.h"
#include "tern-test-util.h"

static const char *const messages[] = {
  "From: =?UTF-8?B?0JHQvtGA0LjRgSDQodC80LjRgNC90L7Qsg==?= <boris@example.ru>\r\n"
  "To: Alice <alice@tern.test>\r\nSubject: one\r\n\r\nbody\r\n",
  "From: Boris Smirnov <BORIS@example.ru>\r\n"
  "To: Alice <alice@tern.test>, Bob Brown <bob@example.org>\r\nSubject: two\r\n\r\nbody\r\n",
  "From: Alice <alice@tern.test>\r\nTo: Bob Brown <bob@example.org>\r\n"
  "Cc: \"Ёжиков, Пётр\" <petr@example.ru>\r\nSubject: three\r\n\r\nbody\r\n",
  "From: Alice <alice@tern.test>\r\nTo: Борис Смирнов <boris@example.ru>\r\n"
  "Subject: four\r\n\r\nbody\r\n",
};

static void
store_messages (TernContext *context)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernServer) server = tern_server_new ("pop.example.org", 995, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (
    (GDestroyNotify) tern_mail_new_message_free);
  TernStore *store = tern_context_get_store (context);
  gint64 inbox;

  account = tern_account_new ("Alice", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_POP3, server, NULL);
  tern_account_set_password_command (account, "echo pw");
  g_assert_true (tern_account_manager_add (tern_context_get_accounts (context), account, NULL,
                                           NULL, &error));
  g_assert_no_error (error);
  inbox = tern_pop3_ensure_folders (store, tern_account_get_id (account), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autofree char *uidl = g_strdup_printf ("uidl-%u", i);
      g_autoptr(GBytes) raw = g_bytes_new_static (messages[i], strlen (messages[i]));

      g_ptr_array_add (batch, tern_mail_new_message_from_pop3 (uidl, raw, TRUE, 1000 + i));
    }
  g_assert_true (tern_mail_store_add_new_messages (store, inbox, batch, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_completes (TernAddressBook   *book,
                  const char        *prefix,
                  const char *const *expected)
{
  g_auto(GStrv) found = tern_address_book_complete (book, prefix, 10);
  g_autofree char *found_text = g_strjoinv (" | ", found);
  g_autofree char *expected_text = g_strjoinv (" | ", (char **) expected);

  g_assert_cmpstr (found_text, ==, expected_text);
}

static void
test_from_store (TernTestProfile *fixture,
                 gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAddressBook) book = tern_address_book_new ();

  g_assert_no_error (error);
  store_messages (context);
  g_assert_true (tern_address_book_load (book, tern_context_get_store (context), &error));
  g_assert_no_error (error);

  /* Alice appears four times, Boris three (one address whatever its case),
   * Bob twice: by frequency.  Boris keeps the name seen last. */
  assert_completes (book, "b", (const char *[]) { "Борис Смирнов <boris@example.ru>",
                                                  "Bob Brown <bob@example.org>", NULL });
  assert_completes (book, "a", (const char *[]) { "Alice <alice@tern.test>", NULL });
  /* A word of the name, any case, Cyrillic. */
  assert_completes (book, "смир", (const char *[]) { "Борис Смирнов <boris@example.ru>", NULL });
  assert_completes (book, "СМИР", (const char *[]) { "Борис Смирнов <boris@example.ru>", NULL });
  assert_completes (book, "brown", (const char *[]) { "Bob Brown <bob@example.org>", NULL });
  assert_completes (book, "ёж", (const char *[]) { "\"Ёжиков, Пётр\" <petr@example.ru>", NULL });
  assert_completes (book, "  ", (const char *[]) { NULL });
  assert_completes (book, "zzz", (const char *[]) { NULL });

  /* Loading again counts from scratch. */
  g_assert_true (tern_address_book_load (book, tern_context_get_store (context), &error));
  assert_completes (book, "b", (const char *[]) { "Борис Смирнов <boris@example.ru>",
                                                  "Bob Brown <bob@example.org>", NULL });
}

static void
test_limit (void)
{
  g_autoptr(TernAddressBook) book = tern_address_book_new ();
  g_auto(GStrv) found = NULL;

  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *address = g_strdup_printf ("user%02u@example.org", i);

      for (guint j = 0; j <= i; j++)
        tern_address_book_add (book, NULL, address);
    }
  tern_address_book_add (book, "Not an address", "nobody");
  found = tern_address_book_complete (book, "user", 3);
  g_assert_cmpuint (g_strv_length (found), ==, 3);
  g_assert_cmpstr (found[0], ==, "user19@example.org");
  g_assert_cmpstr (found[2], ==, "user17@example.org");
  g_clear_pointer (&found, g_strfreev);
  found = tern_address_book_complete (book, "not", 3);
  g_assert_cmpuint (g_strv_length (found), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/tern/address-book/from-store", TernTestProfile, NULL, tern_test_profile_setup,
              test_from_store, tern_test_profile_teardown);
  g_test_add_func ("/tern/address-book/limit", test_limit);

  return g_test_run ();
}
