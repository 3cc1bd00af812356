/* test-mailto.c: mailto: links (RFC 6068) into a TernComposer: the fields,
 * percent-decoding, UTF-8, several addresses, case-insensitive keys; and
 * hostile links: attach= and attachment= of local files (never read, never
 * attached), encoded CRLF trying to add headers, overlong links, invalid
 * UTF-8 and bad escapes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-mailto.h"

/* Helpers */

static TernComposer *
composer_for (const char *uri)
{
  g_autoptr(GError) error = NULL;
  TernComposer *composer = tern_composer_new ();

  tern_composer_set_from (composer, "Alice <alice@tern.test>");
  g_assert_true (tern_mailto_apply (composer, uri, &error));
  g_assert_no_error (error);
  return composer;
}

static GMimeMessage *
build (TernComposer *composer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = tern_composer_to_bytes (composer, &error);
  GMimeMessage *message;

  g_assert_no_error (error);
  message = _tern_composer_parse_message (bytes);
  g_assert_nonnull (message);
  return message;
}

static guint
count_headers (GMimeMessage *message,
               const char   *name)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (GMIME_OBJECT (message));
  guint n = 0;

  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    if (g_ascii_strcasecmp (g_mime_header_get_name (g_mime_header_list_get_header_at (headers, i)),
                            name) == 0)
      n++;
  return n;
}

/* Tests */

static void
test_fields (void)
{
  g_autoptr(TernComposer) composer = composer_for (
    "MAILTO:bob@tern.test,%22Carol%20C%22%20%3Ccarol@tern.test%3E"
    "?To=dave@tern.test&CC=eve@tern.test&cc=frank@tern.test&BCC=grace@tern.test"
    "&Subject=Hello%20there%20%2B%20more&body=Line%20one%0D%0ALine%20two%0Aend"
    "&in-reply-to=%3Cparent@tern.test%3E&X-Unknown=whatever#fragment");

  g_assert_cmpstr (tern_composer_get_to (composer), ==,
                   "bob@tern.test,\"Carol C\" <carol@tern.test>, dave@tern.test");
  g_assert_cmpstr (tern_composer_get_cc (composer), ==, "eve@tern.test, frank@tern.test");
  g_assert_cmpstr (tern_composer_get_bcc (composer), ==, "grace@tern.test");
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "Hello there + more");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Line one\nLine two\nend");
  g_assert_cmpstr (tern_composer_get_in_reply_to (composer), ==, "parent@tern.test");
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 0);
}

static void
test_utf8 (void)
{
  g_autoptr(TernComposer) composer = composer_for (
    "mailto:%D0%B1%D0%BE%D0%B1@tern.test?subject=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"
    "&body=%D0%B5%D1%91%21");
  g_autoptr(GMimeMessage) message = NULL;

  g_assert_cmpstr (tern_composer_get_to (composer), ==, "боб@tern.test");
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "Привет");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "её!");
  message = build (composer);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, "Привет");
}

static void
test_empty (void)
{
  g_autoptr(TernComposer) composer = composer_for ("mailto:");

  g_assert_null (tern_composer_get_to (composer));
  g_assert_null (tern_composer_get_subject (composer));

  /* What the composer had stays when the link does not set it. */
  g_clear_object (&composer);
  composer = tern_composer_new ();
  tern_composer_set_subject (composer, "Kept");
  g_assert_true (tern_mailto_apply (composer, "mailto:bob@tern.test", NULL));
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "Kept");
  g_assert_cmpstr (tern_composer_get_to (composer), ==, "bob@tern.test");
}

/* The link's text is the body; the signature the composer had for the
 * sender stays at its end, once, and can still be changed. */
static void
test_signature_kept (void)
{
  g_autoptr(TernComposer) composer = tern_composer_new ();

  tern_composer_set_signature (composer, "Anna\nTern Ltd");
  g_assert_true (tern_mailto_apply (composer, "mailto:bob@tern.test?body=Hello%0Athere", NULL));
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\nthere\n\n-- \nAnna\nTern Ltd\n");
  g_assert_cmpstr (tern_composer_get_signature (composer), ==, "Anna\nTern Ltd");
  tern_composer_set_signature (composer, "Anna");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\nthere\n\n-- \nAnna\n");
}

/* attach= and attachment= name files on the user's disk: a web page must
 * not get Tern to send them anywhere.  The files exist here, so a reader
 * would find them. */
static void
test_attachments_ignored (void)
{
  g_autoptr(TernComposer) composer = composer_for (
    "mailto:bob@tern.test?attach=/etc/passwd&ATTACHMENT=file:///etc/passwd"
    "&attach=%2Fetc%2Fhostname&Attachment=file%3A%2F%2F%2Fetc%2Fpasswd"
    "&cc=file:///etc/passwd&bcc=imap://evil.example/INBOX&subject=file:///etc/passwd"
    "&body=imap%3A%2F%2Fevil.example%2F;UID=1");
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;

  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 0);
  g_assert_null (tern_composer_get_cc (composer));
  g_assert_null (tern_composer_get_bcc (composer));
  g_assert_null (tern_composer_get_subject (composer));
  g_assert_null (tern_composer_get_body (composer));

  /* The message built from it has no part beyond its text. */
  message = build (composer);
  g_assert_true (GMIME_IS_TEXT_PART (g_mime_message_get_mime_part (message)));
  bytes = tern_composer_to_bytes (composer, NULL);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_null (strstr (text, "root:"));
}

/* Encoded line breaks in header fields try to add headers; in the body
 * they are line breaks of the text and nothing else. */
static void
test_header_injection (void)
{
  g_autoptr(TernComposer) composer = composer_for (
    "mailto:bob@tern.test%0D%0ABcc:%20spy@evil.example"
    "?subject=Hi%0D%0ABcc:%20spy@evil.example%0D%0AX-Injected:%201%0A%0Dx"
    "&body=%0D%0A%0D%0ABcc:%20spy@evil.example%0D%0A"
    "&cc=carol@tern.test%0AX-Injected:%202"
    "&in-reply-to=%3Cid@tern.test%3E%0D%0AX-Injected:%203"
    "&x-injected=4&from=mallory@evil.example&bcc=");
  g_autoptr(GMimeMessage) message = NULL;
  const char *subject = tern_composer_get_subject (composer);

  g_assert_null (strchr (subject, '\r'));
  g_assert_null (strchr (subject, '\n'));
  g_assert_cmpstr (tern_composer_get_in_reply_to (composer), ==, "id@tern.test");
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "Alice <alice@tern.test>");
  g_assert_null (strchr (tern_composer_get_to (composer), '\n'));
  g_assert_null (strchr (tern_composer_get_cc (composer), '\n'));

  /* The To and Cc are one line each and do not parse as addresses: the
   * message cannot be built until the user fixes them. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = tern_composer_to_bytes (composer, &error);

    g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
    g_assert_null (bytes);
  }
  tern_composer_set_to (composer, "bob@tern.test");
  tern_composer_set_cc (composer, NULL);
  message = build (composer);
  g_assert_cmpuint (count_headers (message, "Bcc"), ==, 0);
  g_assert_cmpuint (count_headers (message, "X-Injected"), ==, 0);
  g_assert_cmpuint (count_headers (message, "Subject"), ==, 1);
  g_assert_cmpuint (count_headers (message, "From"), ==, 1);
  g_assert_nonnull (strstr (g_mime_message_get_subject (message), "X-Injected"));
  g_assert_null (strchr (g_mime_message_get_subject (message), '\n'));
}

static void
test_hostile_encoding (void)
{
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) long_uri = g_string_new ("mailto:bob@tern.test?body=");

  /* Invalid UTF-8 becomes valid; a bad escape or an encoded NUL drops the
   * field rather than cutting it at the NUL. */
  composer = composer_for ("mailto:bob@tern.test?subject=%FF%FEok%C3&body=a%00b&cc=%zz&bcc=%");
  g_assert_true (g_utf8_validate (tern_composer_get_subject (composer), -1, NULL));
  g_assert_nonnull (strstr (tern_composer_get_subject (composer), "ok"));
  g_assert_null (tern_composer_get_body (composer));
  g_assert_null (tern_composer_get_cc (composer));
  g_assert_null (tern_composer_get_bcc (composer));
  g_clear_object (&composer);

  /* Control characters in the subject are spaces. */
  composer = composer_for ("mailto:?subject=a%07b%1Bc%7Fd%09e");
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "a b c d e");
  g_clear_object (&composer);

  /* Overlong: refused whole, the composer untouched. */
  while (long_uri->len <= TERN_MAILTO_MAX_LENGTH)
    g_string_append (long_uri, "%41%41%41%41%41%41%41%41");
  composer = tern_composer_new ();
  g_assert_false (tern_mailto_apply (composer, long_uri->str, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_assert_null (tern_composer_get_to (composer));
  g_assert_null (tern_composer_get_body (composer));
  g_clear_error (&error);

  /* Just under the limit is fine. */
  g_string_truncate (long_uri, TERN_MAILTO_MAX_LENGTH - 8);
  g_assert_true (tern_mailto_apply (composer, long_uri->str, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (tern_composer_get_body (composer)), >, 20000);

  /* Not a mailto: link at all. */
  g_assert_false (tern_mailto_is_mailto ("file:///etc/passwd"));
  g_assert_false (tern_mailto_apply (composer, "file:///etc/passwd", &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (tern_mailto_apply (composer, "mailt", &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);

  /* Separators alone. */
  g_clear_object (&composer);
  composer = composer_for ("mailto:?&&=&==&subject&subject=&?");
  g_assert_null (tern_composer_get_subject (composer));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/mailto/fields", test_fields);
  g_test_add_func ("/tern/mailto/utf8", test_utf8);
  g_test_add_func ("/tern/mailto/empty", test_empty);
  g_test_add_func ("/tern/mailto/signature-kept", test_signature_kept);
  g_test_add_func ("/tern/mailto/attachments-ignored", test_attachments_ignored);
  g_test_add_func ("/tern/mailto/header-injection", test_header_injection);
  g_test_add_func ("/tern/mailto/hostile-encoding", test_hostile_encoding);

  return g_test_run ();
}
