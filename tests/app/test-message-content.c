/* test-message-content.c: raw messages parsed for the message view.
 *
 * The corpus test compares with mail-parser's expected parses of real
 * messages (tests/app/corpus/mail-parser/); the others pin down charsets,
 * format=flowed, attachments, cid: parts and broken MIME.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-message-content.h"

static TernMessageContent *
content_from_string (const char *raw,
                     const char *charset_override)
{
  g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));

  return tern_message_content_new (bytes, charset_override);
}

static char *
normalise_newlines (const char *text)
{
  GString *out = g_string_new (text);

  g_string_replace (out, "\r\n", "\n", 0);
  return g_string_free (out, FALSE);
}

static const TernMessageAttachment *
find_attachment (TernMessageContent *content,
                 const char         *filename)
{
  GPtrArray *attachments = tern_message_content_get_attachments (content);

  for (guint i = 0; i < attachments->len; i++)
    {
      const TernMessageAttachment *attachment = g_ptr_array_index (attachments, i);

      if (g_strcmp0 (attachment->filename, filename) == 0)
        return attachment;
    }
  return NULL;
}

typedef struct
{
  guint messages;
  guint subjects;
  guint senders;
  guint texts;
  guint attachments;
  guint sizes;
} CorpusCounts;

static void
compare_message (GKeyFile     *expected,
                 const char   *name,
                 CorpusCounts *counts)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "app", "corpus", "mail-parser", "eml",
                                                 name, NULL);
  g_autofree char *eml = g_strconcat (path, ".eml", NULL);
  g_autofree char *subject = g_key_file_get_string (expected, name, "subject", NULL);
  g_autofree char *from_name = g_key_file_get_string (expected, name, "from_name", NULL);
  g_autofree char *from_address = g_key_file_get_string (expected, name, "from_address", NULL);
  g_autofree char *text = g_key_file_get_string (expected, name, "text", NULL);
  g_autoptr(GMappedFile) file = g_mapped_file_new (eml, FALSE, &error);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;

  g_assert_no_error (error);
  raw = g_mapped_file_get_bytes (file);
  content = tern_message_content_new (raw, NULL);
  counts->messages++;
  g_test_message ("%s", name);

  if (subject != NULL)
    {
      g_assert_cmpstr (tern_message_content_get_subject (content), ==, subject);
      counts->subjects++;
    }
  if (from_address != NULL || from_name != NULL)
    {
      if (from_address != NULL)
        g_assert_cmpstr (tern_message_content_get_from_address (content), ==, from_address);
      if (from_name != NULL)
        g_assert_cmpstr (tern_message_content_get_from_name (content), ==, from_name);
      counts->senders++;
    }
  if (text != NULL)
    {
      g_autofree char *want = normalise_newlines (text);

      /* mail-parser keeps format=flowed lines as sent; Tern joins them
       * (test_flowed() checks how). */
      if (g_key_file_get_boolean (expected, name, "text_flowed", NULL))
        {
          char *unflowed = tern_message_content_unflow (
            want, g_key_file_get_boolean (expected, name, "text_delsp", NULL));

          g_free (want);
          want = unflowed;
        }

      g_assert_cmpstr (tern_message_content_get_text (content), ==, want);
      counts->texts++;
    }
  for (guint i = 0;; i++)
    {
      g_autofree char *name_key = g_strdup_printf ("attachment%u_name", i);
      g_autofree char *size_key = g_strdup_printf ("attachment%u_size", i);
      g_autofree char *filename = g_key_file_get_string (expected, name, name_key, NULL);
      const TernMessageAttachment *attachment;

      if (filename == NULL)
        break;
      attachment = find_attachment (content, filename);
      g_assert_nonnull (attachment);
      counts->attachments++;
      if (!g_key_file_has_key (expected, name, size_key, NULL))
        continue;
      g_assert_cmpuint (g_bytes_get_size (attachment->data), ==,
                        g_key_file_get_uint64 (expected, name, size_key, NULL));
      counts->sizes++;
    }
}

static void
test_corpus (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) expected = g_key_file_new ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "app", "corpus", "mail-parser",
                                                 "expected.ini", NULL);
  g_auto(GStrv) groups = NULL;
  CorpusCounts counts = { 0 };

  g_key_file_load_from_file (expected, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  groups = g_key_file_get_groups (expected, NULL);
  for (gsize i = 0; groups[i] != NULL; i++)
    compare_message (expected, groups[i], &counts);

  g_test_message ("compared %u messages: %u subjects, %u senders, %u text bodies, "
                  "%u attachment names, %u sizes",
                  counts.messages, counts.subjects, counts.senders, counts.texts,
                  counts.attachments, counts.sizes);
  /* All of mail-parser's comparable expectations (see extract-expected.py);
   * a smaller count means an expectation went missing, not a pass. */
  g_assert_cmpuint (counts.messages, ==, 64);
  g_assert_cmpuint (counts.subjects, ==, 58);
  g_assert_cmpuint (counts.senders, ==, 60);
  g_assert_cmpuint (counts.texts, ==, 45);
  g_assert_cmpuint (counts.attachments, ==, 59);
  g_assert_cmpuint (counts.sizes, ==, 54);
}

static void
test_headers (void)
{
  g_autoptr(TernMessageContent) content = content_from_string (
    "From: =?UTF-8?B?0JHQvtGA0LjRgQ==?= <boris@example.ru>\r\n"
    "To: Ann <ann@example.org>, bob@example.org\r\n"
    "Cc: Carol <carol@example.org>\r\n"
    "Reply-To: list@example.org\r\n"
    "Date: Tue, 3 Mar 2026 10:00:00 +0000\r\n"
    "Subject: =?KOI8-R?B?8NLJ18XU?=\r\n"
    "Message-ID: <abc@example.ru>\r\n"
    "\r\n"
    "Hello\r\n",
    NULL);

  g_assert_cmpstr (tern_message_content_get_from_name (content), ==, "Борис");
  g_assert_cmpstr (tern_message_content_get_from_address (content), ==, "boris@example.ru");
  g_assert_cmpstr (tern_message_content_get_to (content), ==, "Ann <ann@example.org>, bob@example.org");
  g_assert_cmpstr (tern_message_content_get_cc (content), ==, "Carol <carol@example.org>");
  g_assert_cmpstr (tern_message_content_get_reply_to (content), ==, "list@example.org");
  g_assert_cmpstr (tern_message_content_get_subject (content), ==, "Привет");
  g_assert_cmpstr (tern_message_content_get_message_id (content), ==, "abc@example.ru");
  g_assert_cmpint (tern_message_content_get_date (content), ==, 1772532000);
  g_assert_cmpstr (tern_message_content_get_text (content), ==, "Hello\n");
  g_assert_null (tern_message_content_get_html (content));
  g_assert_false (tern_message_content_is_broken (content));
}

/* "Привет, мир" in KOI8-R and in windows-1251. */
#define KOI8R_HELLO "\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2\n"
#define CP1251_HELLO "\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0\n"

static void
test_charsets (void)
{
  g_autoptr(TernMessageContent) declared = content_from_string (
    "Subject: koi8\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n" KOI8R_HELLO, NULL);
  g_autoptr(TernMessageContent) undeclared = content_from_string (
    "Subject: none\r\nContent-Type: text/plain\r\n\r\n" CP1251_HELLO, NULL);
  g_autoptr(TernMessageContent) lying = content_from_string (
    "Subject: lie\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" CP1251_HELLO, NULL);
  g_autoptr(TernMessageContent) utf8 = content_from_string (
    "Subject: u\r\nContent-Type: text/plain\r\n\r\nПривет, мир\n", NULL);
  g_autoptr(TernMessageContent) overridden = NULL;
  g_autoptr(TernMessageContent) back = NULL;

  g_assert_cmpstr (tern_message_content_get_text (declared), ==, "Привет, мир\n");
  g_assert_cmpstr (tern_message_content_get_text_charset (declared), ==, "KOI8-R");
  /* No charset: UTF-8 fails, windows-1251 is next. */
  g_assert_cmpstr (tern_message_content_get_text (undeclared), ==, "Привет, мир\n");
  g_assert_cmpstr (tern_message_content_get_text_charset (undeclared), ==, "windows-1251");
  g_assert_cmpstr (tern_message_content_get_text (lying), ==, "Привет, мир\n");
  g_assert_cmpstr (tern_message_content_get_text (utf8), ==, "Привет, мир\n");
  g_assert_cmpstr (tern_message_content_get_text_charset (utf8), ==, "UTF-8");

  /* View → Encoding: the KOI8-R message read as windows-1251 is mojibake,
   * and back again. */
  overridden = tern_message_content_with_charset (declared, "windows-1251");
  g_assert_cmpstr (tern_message_content_get_text (overridden), ==, "рТЙЧЕФ, НЙТ\n");
  g_assert_cmpstr (tern_message_content_get_text_charset (overridden), ==, "windows-1251");
  back = tern_message_content_with_charset (overridden, NULL);
  g_assert_cmpstr (tern_message_content_get_text (back), ==, "Привет, мир\n");
}

static void
test_to_utf8 (void)
{
  const char *used = NULL;
  const char *used_nul = NULL;
  g_autofree char *unknown = tern_message_content_to_utf8 ("caf\xe9", 4, "x-no-such-charset", &used);
  g_autofree char *with_nul = tern_message_content_to_utf8 ("a\0b", 3, "UTF-8", &used_nul);

  g_assert_cmpstr (unknown, ==, "caf\xd0\xb9"); /* windows-1251 takes 0xe9 */
  g_assert_cmpstr (used, ==, "windows-1251");
  g_assert_true (g_utf8_validate (with_nul, -1, NULL));
}

static void
test_flowed (void)
{
  g_autoptr(TernMessageContent) content = content_from_string (
    "Subject: flowed\r\n"
    "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n"
    "\r\n"
    "This is one para \r\n"
    "graph in two lines.\r\n"
    "> quoted and \r\n"
    ">> deeper\r\n"
    " >not a quote\r\n"
    "-- \r\n"
    "sig\r\n",
    NULL);
  g_autofree char *no_delsp = tern_message_content_unflow ("one \ntwo \nthree\n", FALSE);

  g_assert_cmpstr (tern_message_content_get_text (content), ==,
                   "This is one paragraph in two lines.\n"
                   "> quoted and\n"
                   ">> deeper\n"
                   ">not a quote\n"
                   "-- \n"
                   "sig\n");
  g_assert_cmpstr (no_delsp, ==, "one two three\n");
}

static void
test_attachments (void)
{
  g_autoptr(TernMessageContent) content = content_from_string (
    "Subject: parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b1\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: multipart/related; boundary=b2\r\n"
    "\r\n"
    "--b2\r\n"
    "Content-Type: multipart/alternative; boundary=b3\r\n"
    "\r\n"
    "--b3\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "plain\r\n"
    "--b3\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>html <img src=\"cid:logo@x\"></p>\r\n"
    "--b3--\r\n"
    "--b2\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@x>\r\n"
    "Content-Disposition: inline\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "--b2--\r\n"
    "--b1\r\n"
    "Content-Type: application/pdf\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf\r\n"
    "\r\n"
    "%PDF\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; name=\"=?UTF-8?B?0L/RgNC40LzQtdGALnR4dA==?=\"\r\n"
    "Content-Disposition: attachment\r\n"
    "\r\n"
    "text attachment\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--b1--\r\n",
    NULL);
  GPtrArray *attachments = tern_message_content_get_attachments (content);
  const TernMessageAttachment *logo;
  const TernMessageAttachment *attachment;

  /* The line break before a boundary belongs to the boundary. */
  g_assert_cmpstr (tern_message_content_get_text (content), ==, "plain");
  g_assert_cmpstr (tern_message_content_get_html (content), ==, "<p>html <img src=\"cid:logo@x\"></p>");
  g_assert_false (tern_message_content_is_broken (content));
  g_assert_cmpuint (attachments->len, ==, 4);

  logo = tern_message_content_lookup_cid (content, "logo@x");
  g_assert_nonnull (logo);
  g_assert_true (logo == tern_message_content_lookup_cid (content, "<logo@x>"));
  g_assert_cmpstr (logo->content_type, ==, "image/png");
  g_assert_true (logo->is_inline);
  g_assert_cmpmem (g_bytes_get_data (logo->data, NULL), g_bytes_get_size (logo->data),
                   "\x89PNG\r\n\x1a\n", 8);
  g_assert_null (tern_message_content_lookup_cid (content, "other@x"));

  attachment = g_ptr_array_index (attachments, 1);
  g_assert_cmpstr (attachment->filename, ==, "отчёт.pdf");
  g_assert_cmpstr (attachment->content_type, ==, "application/pdf");
  g_assert_false (attachment->is_inline);
  attachment = g_ptr_array_index (attachments, 2);
  g_assert_cmpstr (attachment->filename, ==, "пример.txt");
  g_assert_cmpuint (g_bytes_get_size (attachment->data), ==, strlen ("text attachment"));
  attachment = g_ptr_array_index (attachments, 3);
  g_assert_cmpstr (attachment->filename, ==, "inner.eml");
  g_assert_cmpstr (attachment->content_type, ==, "message/rfc822");
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (attachment->data, NULL),
                                  g_bytes_get_size (attachment->data), "inner body"));
}

static void
test_broken (void)
{
  static const char *const broken[] = {
    /* a multipart without a boundary */
    "Subject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n",
    /* cut inside a part */
    "Subject: cut\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    "Content-Type: text/plain\r\n\r\nvisible text\r\n--b\r\nContent-Type: image/png\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\niVBO",
    /* a header that is not one */
    "Subject: bad header\r\nthis is no header\r\n\r\ntext\r\n",
  };
  g_autoptr(TernMessageContent) empty = content_from_string ("", NULL);
  g_autoptr(TernMessageContent) binary = NULL;
  g_autoptr(GBytes) garbage = NULL;
  guint8 noise[4096];
  guint32 state = 42;

  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr(TernMessageContent) content = content_from_string (broken[i], NULL);

      g_test_message ("broken %zu", i);
      g_assert_true (tern_message_content_is_broken (content));
      g_assert_nonnull (tern_message_content_get_subject (content));
    }
  {
    g_autoptr(TernMessageContent) cut = content_from_string (broken[1], NULL);

    /* What was there before the cut is still shown. */
    g_assert_cmpstr (tern_message_content_get_text (cut), ==, "visible text");
  }
  g_assert_null (tern_message_content_get_subject (empty));

  for (gsize i = 0; i < sizeof noise; i++)
    {
      state = state * 1103515245 + 12345;
      noise[i] = state >> 16;
    }
  garbage = g_bytes_new (noise, sizeof noise);
  binary = tern_message_content_new (garbage, NULL);
  if (tern_message_content_get_text (binary) != NULL)
    g_assert_true (g_utf8_validate (tern_message_content_get_text (binary), -1, NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/app/message-content/corpus", test_corpus);
  g_test_add_func ("/tern/app/message-content/headers", test_headers);
  g_test_add_func ("/tern/app/message-content/charsets", test_charsets);
  g_test_add_func ("/tern/app/message-content/to-utf8", test_to_utf8);
  g_test_add_func ("/tern/app/message-content/flowed", test_flowed);
  g_test_add_func ("/tern/app/message-content/attachments", test_attachments);
  g_test_add_func ("/tern/app/message-content/broken", test_broken);

  return g_test_run ();
}
