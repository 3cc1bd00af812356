/* test-hostile-quote.c: HTML mail full of remote references (images,
 * style sheets, @import, backgrounds, scripts, frames, srcset, objects,
 * meta refresh, links) quoted into a reply or forwarded inline: the
 * composer turns it into plain text, so the draft has no HTML that could
 * load anything, and no remote URL survives, not even as text, unless the
 * sender wrote it as visible text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <gmime/gmime.h>
#include <string.h>

#include "tern-composer-private.h"
#include "tern-composer.h"

static const char hostile_html[] =
  "From: Mallory <mallory@remote.example>\r\n"
  "To: Alice <alice@tern.test>\r\n"
  "Subject: Look\r\n"
  "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
  "Message-ID: <look@remote.example>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/html; charset=utf-8\r\n"
  "\r\n"
  "<html><head>\r\n"
  "<meta http-equiv=\"refresh\" content=\"0; url=https://track.invalid/refresh\">\r\n"
  "<link rel=\"stylesheet\" href=\"https://track.invalid/style.css\">\r\n"
  "<style>@import url(https://track.invalid/import.css);\r\n"
  " body { background: url('https://track.invalid/bg.png') }</style>\r\n"
  "<script src=\"https://track.invalid/script.js\"></script>\r\n"
  "<script>fetch('https://track.invalid/fetch')</script>\r\n"
  "</head><body background=\"https://track.invalid/body.png\">\r\n"
  "<p>Hello <b>Alice</b>,</p>\r\n"
  "<img src=\"https://track.invalid/pixel.png\" width=1 height=1>\r\n"
  "<img srcset=\"https://track.invalid/a.png 1x, https://track.invalid/b.png 2x\">\r\n"
  "<IMG SRC=HTTPS://TRACK.INVALID/UPPER.PNG>\r\n"
  "<picture><source srcset=\"https://track.invalid/source.webp\"></picture>\r\n"
  "<iframe src=\"https://track.invalid/frame\"></iframe>\r\n"
  "<object data=\"https://track.invalid/object\"></object>\r\n"
  "<video poster=\"https://track.invalid/poster.png\"></video>\r\n"
  "<div style=\"background-image:url(https://track.invalid/div.png)\">Quoted line</div>\r\n"
  "<a href=\"https://track.invalid/link\">the link text</a>\r\n"
  "<svg><image href=\"https://track.invalid/svg.png\"/></svg>\r\n"
  "<p>Bye</p></body></html>\r\n";

static gboolean
contains_nocase (const char *haystack,
                 const char *needle)
{
  g_autofree char *lower = g_ascii_strdown (haystack, -1);

  return strstr (lower, needle) != NULL;
}

static GMimeMessage *
parse (const char *text)
{
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);
  return message;
}

static void
check_mode (gconstpointer data)
{
  TernReplyMode mode = GPOINTER_TO_INT (data);
  g_autoptr(TernAccount) account = tern_account_new ("Alice", "alice@tern.test",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, NULL, NULL);
  g_autoptr(GMimeMessage) original = parse (hostile_html);
  g_autoptr(TernComposer) composer = tern_composer_new_reply (account, original, mode);
  g_autoptr(GBytes) built = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *body = tern_composer_get_body (composer);

  g_test_message ("%s", body);
  /* No HTML at all: nothing in the draft can be rendered, so nothing can
   * be loaded. */
  g_assert_null (tern_composer_get_html_body (composer));
  /* The text is quoted; every remote reference is gone. */
  g_assert_nonnull (strstr (body, "Hello Alice,"));
  g_assert_nonnull (strstr (body, "Quoted line"));
  g_assert_nonnull (strstr (body, "the link text"));
  g_assert_false (contains_nocase (body, "track.invalid"));
  g_assert_null (strstr (body, "fetch("));
  g_assert_null (strstr (body, "background"));

  /* Nor does the message the composer builds carry any HTML or reference. */
  tern_composer_set_to (composer, "bob@tern.test");
  built = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (built, NULL), g_bytes_get_size (built));
  g_assert_null (strstr (text, "text/html"));
  g_assert_false (contains_nocase (text, "track.invalid"));
}

/* Forwarded as an attachment, the original travels whole as a
 * message/rfc822 part, as it arrived: the draft itself has no HTML and
 * no remote reference, and the part is not text/html the recipient's
 * client would render as the forward's body. */
static void
check_forward_attachment (void)
{
  g_autoptr(TernAccount) account = tern_account_new ("Alice", "alice@tern.test",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, NULL, NULL);
  g_autoptr(GMimeMessage) original = parse (hostile_html);
  g_autoptr(TernComposer) composer = tern_composer_new_reply (account, original,
                                                              TERN_REPLY_MODE_FORWARD_ATTACHMENT);
  g_autoptr(GBytes) built = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *body = tern_composer_get_body (composer);
  const char *rfc822;
  const char *html;

  g_assert_null (tern_composer_get_html_body (composer));
  g_assert_false (body != NULL && contains_nocase (body, "track.invalid"));
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 1);

  tern_composer_set_to (composer, "bob@tern.test");
  built = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (built, NULL), g_bytes_get_size (built));
  rfc822 = strstr (text, "message/rfc822");
  html = strstr (text, "text/html");
  g_assert_nonnull (rfc822);
  /* The only text/html is the original's own, inside the attachment. */
  g_assert_true (html == NULL || html > rfc822);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_data_func ("/tern/hostile/quote/reply", GINT_TO_POINTER (TERN_REPLY_MODE_REPLY),
                        check_mode);
  g_test_add_data_func ("/tern/hostile/quote/reply-all",
                        GINT_TO_POINTER (TERN_REPLY_MODE_REPLY_ALL), check_mode);
  g_test_add_data_func ("/tern/hostile/quote/forward-inline",
                        GINT_TO_POINTER (TERN_REPLY_MODE_FORWARD_INLINE), check_mode);

  g_test_add_func ("/tern/hostile/quote/forward-attachment", check_forward_attachment);

  return g_test_run ();
}
