/* test-composer.c: TernComposer without servers: what it builds, parsed
 * back with GMime (headers, MIME structure, RFC 2047/2231, CRLF, line
 * lengths), validation errors, replies and forwards, and the Russian
 * attribution.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-composer.h"
#include "tern-context.h"
#include "tern-outbox.h"
#include "tern-test-util.h"

#define SUBJECT "Отчёт за ноябрь: всё готово"
#define BODY "Привет, Боб!\n\nВот отчёт.\n.\n.x\nАлиса\n"
#define ATTACHMENT_NAME "Отчёт за ноябрь.pdf"

/* Helpers */

static TernComposer *
new_composer (void)
{
  TernComposer *composer = tern_composer_new ();

  tern_composer_set_from (composer, "Алиса Иванова <alice@tern.test>");
  tern_composer_set_to (composer, "Боб Петров <bob@tern.test>, carol@tern.test");
  tern_composer_set_subject (composer, SUBJECT);
  tern_composer_set_body (composer, BODY);
  return composer;
}

static GBytes *
build_bytes (TernComposer *composer)
{
  g_autoptr(GError) error = NULL;
  GBytes *bytes = tern_composer_to_bytes (composer, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static GMimeMessage *
parse (GBytes *bytes)
{
  GMimeMessage *message = _tern_composer_parse_message (bytes);

  g_assert_nonnull (message);
  return message;
}

/* The message as a string (GBytes are not NUL-terminated). */
static char *
bytes_text (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  return g_strndup (data, size);
}

static char *
header_block (GBytes *bytes)
{
  g_autofree char *text = bytes_text (bytes);
  const char *end = strstr (text, "\r\n\r\n");

  g_assert_nonnull (end);
  return g_strndup (text, end - text + 2);
}

/* Every line ends in CRLF and is at most 998 octets long (RFC 5322 2.1.1). */
static void
assert_wire_format (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  gsize line_start = 0;

  g_assert_cmpuint (size, >, 2);
  for (gsize i = 0; i < size; i++)
    {
      if (data[i] == '\n')
        {
          g_assert_cmpuint (i, >, 0);
          g_assert_cmpint (data[i - 1], ==, '\r');
          g_assert_cmpuint (i - 1 - line_start, <=, 998);
          line_start = i + 1;
        }
      else if (data[i] == '\r')
        {
          g_assert_cmpuint (i + 1, <, size);
          g_assert_cmpint (data[i + 1], ==, '\n');
        }
    }
  g_assert_cmpuint (line_start, ==, size);
}

/* The MIME tree as text: "multipart/mixed(text/plain,image/png)". */
static void
describe (GMimeObject *object,
          GString     *out)
{
  g_autofree char *type = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (object));

  g_string_append (out, type);
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      g_string_append_c (out, '(');
      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          describe (g_mime_multipart_get_part (multipart, i), out);
        }
      g_string_append_c (out, ')');
    }
}

static char *
structure (GMimeMessage *message)
{
  GString *out = g_string_new (NULL);

  describe (g_mime_message_get_mime_part (message), out);
  return g_string_free (out, FALSE);
}

static GMimeObject *
find_part (GMimeMessage *message,
           const char   *mime_type)
{
  GMimePartIter *iter = g_mime_part_iter_new (GMIME_OBJECT (message));
  GMimeObject *found = NULL;

  do
    {
      GMimeObject *part = g_mime_part_iter_get_current (iter);
      g_autofree char *type = NULL;

      if (part == NULL)
        break;
      type = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (part));
      if (g_ascii_strcasecmp (type, mime_type) == 0)
        found = part;
    }
  while (found == NULL && g_mime_part_iter_next (iter));
  g_mime_part_iter_free (iter);
  g_assert_nonnull (found);
  return found;
}

/* The text of a text part, line endings as LF. */
static char *
part_text (GMimeObject *part)
{
  char *text = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (*p != '\r')
      g_string_append_c (out, *p);
  g_free (text);
  return g_string_free (out, FALSE);
}

static GBytes *
part_data (GMimeObject *part)
{
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;
  GBytes *bytes;

  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)), stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = g_bytes_new (array->data, array->len);
  g_object_unref (stream);
  return bytes;
}

static GBytes *
bytes_of (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* Tests */

static void
test_headers (void)
{
  g_autoptr(TernComposer) composer = new_composer ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autofree char *header = NULL;
  g_autofree char *text = NULL;
  InternetAddressList *list;
  InternetAddress *address;
  GMimeObject *body;

  tern_composer_set_cc (composer, "Кэрол <carol2@tern.test>");
  tern_composer_set_bcc (composer, "Тайный <secret@tern.test>");
  bytes = build_bytes (composer);
  assert_wire_format (bytes);
  header = header_block (bytes);
  g_test_message ("%s", header);

  /* The header is ASCII: RFC 2047 words for the subject and the names. */
  for (const char *p = header; *p != '\0'; p++)
    g_assert_cmpint ((guchar) *p, <, 0x80);
  g_assert_nonnull (strstr (header, "Subject: =?"));
  g_assert_nonnull (strstr (header, "User-Agent: Tern/" PACKAGE_VERSION "\r\n"));
  g_assert_nonnull (strstr (header, "Date: "));
  g_assert_null (strstr (header, "iso-8859"));
  g_assert_nonnull (strstr (header, "Bcc: "));

  message = parse (bytes);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, SUBJECT);
  g_assert_true (g_str_has_suffix (g_mime_message_get_message_id (message), "@tern.test"));
  g_assert_nonnull (g_mime_message_get_date (message));

  list = g_mime_message_get_from (message);
  g_assert_cmpint (internet_address_list_length (list), ==, 1);
  address = internet_address_list_get_address (list, 0);
  g_assert_cmpstr (internet_address_get_name (address), ==, "Алиса Иванова");
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)), ==,
                   "alice@tern.test");

  list = g_mime_message_get_to (message);
  g_assert_cmpint (internet_address_list_length (list), ==, 2);
  address = internet_address_list_get_address (list, 0);
  g_assert_cmpstr (internet_address_get_name (address), ==, "Боб Петров");
  address = internet_address_list_get_address (list, 1);
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)), ==,
                   "carol@tern.test");
  address = internet_address_list_get_address (g_mime_message_get_cc (message), 0);
  g_assert_cmpstr (internet_address_get_name (address), ==, "Кэрол");
  address = internet_address_list_get_address (g_mime_message_get_bcc (message), 0);
  g_assert_cmpstr (internet_address_get_name (address), ==, "Тайный");

  /* text/plain; charset=utf-8, the text unchanged. */
  body = g_mime_message_get_mime_part (message);
  g_assert_true (GMIME_IS_TEXT_PART (body));
  g_assert_true (g_mime_content_type_is_type (g_mime_object_get_content_type (body), "text",
                                              "plain"));
  g_assert_cmpint (g_ascii_strcasecmp (g_mime_text_part_get_charset (GMIME_TEXT_PART (body)),
                                       "utf-8"), ==, 0);
  text = part_text (body);
  g_assert_cmpstr (text, ==, BODY);

  /* The user's text is kept as typed. */
  g_assert_cmpstr (tern_composer_get_to (composer), ==,
                   "Боб Петров <bob@tern.test>, carol@tern.test");
}

/* The draft keeps Bcc; what the outbox transmits does not. */
static void
test_bcc_outbox (TernTestProfile *fixture,
                 gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(GBytes) sent = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autofree char *draft_header = NULL;
  g_autofree char *sent_header = NULL;
  TernServer *outgoing = tern_server_new ("127.0.0.1", 465, TERN_TLS_MODE_IMPLICIT);
  gint64 id;

  g_assert_no_error (error);
  account = tern_account_new ("Алиса Иванова", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_POP3,
                              outgoing, outgoing);
  tern_server_free (outgoing);
  tern_account_set_password_command (account, "echo secret");
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);

  composer = tern_composer_new_for_account (account);
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "Алиса Иванова <alice@tern.test>");
  tern_composer_set_to (composer, "bob@tern.test");
  tern_composer_set_bcc (composer, "Тайный Получатель <secret@tern.test>");
  tern_composer_set_subject (composer, SUBJECT);
  tern_composer_set_body (composer, BODY);
  draft = build_bytes (composer);
  draft_header = header_block (draft);
  g_assert_nonnull (strstr (draft_header, "\r\nBcc: "));

  id = tern_outbox_enqueue (tern_context_get_store (context), account, draft, &error);
  g_assert_no_error (error);
  entry = tern_outbox_get (tern_context_get_store (context), id, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (entry->recipients,
                    ((const char *const[]) { "bob@tern.test", "secret@tern.test", NULL }));
  g_assert_cmpstr (entry->envelope_from, ==, "alice@tern.test");
  sent = tern_outbox_get_data (tern_context_get_store (context), id, &error);
  g_assert_no_error (error);
  sent_header = header_block (sent);
  g_assert_null (strstr (sent_header, "Bcc:"));
  g_assert_null (strstr (sent_header, "secret@tern.test"));
  g_assert_nonnull (strstr (sent_header, "\r\nSubject: "));
  g_clear_object (&composer);
  g_clear_object (&account);
  g_assert_finalize_object (g_steal_pointer (&context));
}

/* A draft needs neither recipients nor a subject; the outbox still
 * refuses to send what has no recipient. */
static void
test_draft_without_recipients (TernTestProfile *fixture,
                               gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) context = tern_context_new (fixture->profile, &error);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GBytes) refused = NULL;
  g_autoptr(GBytes) draft = NULL;
  g_autofree char *header = NULL;
  TernServer *outgoing = tern_server_new ("127.0.0.1", 465, TERN_TLS_MODE_IMPLICIT);

  g_assert_no_error (error);
  account = tern_account_new ("Alice", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_POP3, outgoing,
                              outgoing);
  tern_server_free (outgoing);
  composer = tern_composer_new_for_account (account);
  tern_composer_set_body (composer, BODY);

  refused = tern_composer_to_bytes (composer, &error);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "recipient"));
  g_assert_null (refused);
  g_clear_error (&error);

  draft = tern_composer_to_draft_bytes (composer, &error);
  g_assert_no_error (error);
  header = header_block (draft);
  g_assert_nonnull (strstr (header, "From: Alice <alice@tern.test>"));
  g_assert_null (strstr (header, "\r\nTo:"));
  g_assert_null (strstr (header, "\r\nBcc:"));

  /* A wrong address is still wrong in a draft: it would not reopen. */
  tern_composer_set_cc (composer, "carol@");
  g_assert_null (tern_composer_to_draft_bytes (composer, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_cmpint (tern_outbox_enqueue (tern_context_get_store (context), account, draft, &error),
                   ==, 0);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no recipient"));
  g_clear_object (&composer);
  g_clear_object (&account);
  g_assert_finalize_object (g_steal_pointer (&context));
}

typedef struct
{
  gboolean html;
  gboolean inline_image;
  gboolean attachment;
  const char *expected;
} Combination;

static const Combination combinations[] = {
  { FALSE, FALSE, FALSE, "text/plain" },
  { TRUE, FALSE, FALSE, "multipart/alternative(text/plain,text/html)" },
  { FALSE, FALSE, TRUE, "multipart/mixed(text/plain,application/pdf)" },
  { TRUE, TRUE, FALSE, "multipart/alternative(text/plain,multipart/related(text/html,image/png))" },
  { TRUE, FALSE, TRUE, "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)" },
  { TRUE, TRUE, TRUE,
    "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),"
    "application/pdf)" },
  /* Without HTML nothing can show an image inline: it is attached. */
  { FALSE, TRUE, FALSE, "multipart/mixed(text/plain,image/png)" },
};

static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R' };

static void
test_structure (gconstpointer data)
{
  const Combination *combination = data;
  g_autoptr(TernComposer) composer = new_composer ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *html = NULL;
  const char *cid = NULL;

  if (combination->inline_image)
    {
      g_autoptr(GBytes) image = g_bytes_new_static (png, sizeof png);

      cid = tern_composer_add_inline_image (composer, image, "логотип.png", "image/png");
      g_assert_true (g_str_has_suffix (cid, "@tern.test"));
    }
  if (combination->html)
    {
      html = g_strdup_printf ("<p>Привет!</p><img src=\"cid:%s\">\n", cid ? cid : "none");
      tern_composer_set_html_body (composer, html);
    }
  if (combination->attachment)
    {
      g_autoptr(GBytes) pdf = bytes_of ("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");

      tern_composer_add_attachment_bytes (composer, pdf, ATTACHMENT_NAME, NULL);
    }
  bytes = build_bytes (composer);
  assert_wire_format (bytes);
  message = parse (bytes);
  tree = structure (message);
  g_assert_cmpstr (tree, ==, combination->expected);

  if (combination->inline_image)
    {
      GMimeObject *image = find_part (message, "image/png");
      g_autoptr(GBytes) image_data = part_data (image);

      g_assert_cmpstr (g_mime_object_get_content_id (image), ==, cid);
      g_assert_cmpmem (g_bytes_get_data (image_data, NULL), g_bytes_get_size (image_data), png,
                       sizeof png);
      g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (image)), ==, "логотип.png");
    }
  if (combination->html)
    {
      g_autofree char *text = part_text (find_part (message, "text/html"));

      g_assert_cmpstr (text, ==, html);
      g_assert_nonnull (strstr (text, "cid:"));
      if (combination->inline_image)
        {
          GMimeObject *related = find_part (message, "multipart/related");

          g_assert_cmpstr (g_mime_object_get_content_type_parameter (related, "type"), ==,
                           "text/html");
        }
    }
}

/* A Cyrillic file name goes out as RFC 2231 and comes back unchanged; the
 * type is guessed from the file. */
static void
test_attachment_names (TernTestProfile *fixture,
                       gconstpointer    data)
{
  g_autoptr(TernComposer) composer = new_composer ();
  g_autofree char *path = g_build_filename (fixture->dir, ATTACHMENT_NAME, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GError) error = NULL;
  const char pdf[] = "%PDF-1.4\n1 0 obj\n<< >>\nendobj\n";
  GMimeObject *part;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_file_set_contents (path, pdf, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tern_composer_add_attachment (composer, file, NULL), ==, 0);
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 1);
  g_assert_cmpstr (tern_composer_get_attachment_name (composer, 0), ==, ATTACHMENT_NAME);
  bytes = build_bytes (composer);
  assert_wire_format (bytes);
  text = bytes_text (bytes);
  g_test_message ("%s", text);
  /* filename*=utf-8''%D0%9E... (folded into numbered sections when long). */
  wire = g_ascii_strdown (text, -1);
  g_assert_nonnull (strstr (wire, "filename*"));
  g_assert_nonnull (strstr (wire, "utf-8''%d0%9e"));

  message = parse (bytes);
  part = find_part (message, "application/pdf");
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (part)), ==, ATTACHMENT_NAME);
  g_assert_true (g_mime_part_is_attachment (GMIME_PART (part)));
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (part)), ==,
                   GMIME_CONTENT_ENCODING_BASE64);
  content = part_data (part);
  g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), pdf,
                   strlen (pdf));

  tern_composer_remove_attachment (composer, 0);
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 0);
}

/* A line longer than SMTP allows is encoded, and decodes back. */
static void
test_long_lines (void)
{
  g_autoptr(TernComposer) composer = new_composer ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GString) body = g_string_new ("Коротко.\n");
  g_autofree char *text = NULL;

  for (guint i = 0; i < 300; i++)
    g_string_append (body, "слово ");
  g_string_append (body, "\n");
  tern_composer_set_body (composer, body->str);
  tern_composer_set_subject (composer, "Очень длинная тема письма, которая не поместится в одну "
                                       "строку заголовка и будет перенесена по правилам RFC 2047");
  bytes = build_bytes (composer);
  assert_wire_format (bytes);
  message = parse (bytes);
  g_assert_cmpint (g_mime_part_get_content_encoding (GMIME_PART (g_mime_message_get_mime_part (message))),
                   ==, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  text = part_text (g_mime_message_get_mime_part (message));
  g_assert_cmpstr (text, ==, body->str);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==,
                   tern_composer_get_subject (composer));
}

static void
assert_build_error (TernComposer *composer,
                    const char   *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = tern_composer_to_bytes (composer, &error);

  g_assert_null (bytes);
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_test_message ("%s", error->message);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
test_errors (void)
{
  g_autoptr(TernComposer) composer = new_composer ();
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/Смета.xlsx");

  tern_composer_set_to (composer, NULL);
  assert_build_error (composer, "recipient");
  tern_composer_set_to (composer, "   ");
  assert_build_error (composer, "recipient");
  tern_composer_set_to (composer, "bob@tern.test, Кэрол <carol@>");
  assert_build_error (composer, "carol@");
  tern_composer_set_to (composer, "просто текст");
  assert_build_error (composer, "просто текст");
  tern_composer_set_to (composer, NULL);
  tern_composer_set_bcc (composer, "bob.tern.test");
  assert_build_error (composer, "bob.tern.test");
  tern_composer_set_bcc (composer, "bob@tern.test");

  tern_composer_set_from (composer, NULL);
  assert_build_error (composer, "sender");
  tern_composer_set_from (composer, "a@tern.test, b@tern.test");
  assert_build_error (composer, "a@tern.test, b@tern.test");
  tern_composer_set_from (composer, "alice@tern.test");

  tern_composer_add_attachment (composer, missing, NULL);
  assert_build_error (composer, "Смета.xlsx");
  tern_composer_remove_attachment (composer, 0);

  /* Only a Bcc recipient is enough. */
  {
    g_autoptr(GBytes) bytes = build_bytes (composer);
  }
}

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  GString *seen = user_data;

  g_string_append_printf (seen, "%s;", pspec->name);
}

static void
test_properties (void)
{
  g_autoptr(TernComposer) composer = tern_composer_new ();
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autoptr(TernAccount) account = tern_account_new ("alice@tern.test", "alice@tern.test",
                                                     TERN_ACCOUNT_PROTOCOL_IMAP, NULL, NULL);
  g_autoptr(GBytes) data = bytes_of ("x");
  g_autofree char *subject = NULL;

  g_signal_connect (composer, "notify", G_CALLBACK (notify_cb), seen);
  tern_composer_set_subject (composer, "Тема");
  tern_composer_set_subject (composer, "Тема");
  tern_composer_set_to (composer, "bob@tern.test");
  g_object_set (composer, "html-body", "<p>", NULL);
  tern_composer_set_account (composer, account);
  tern_composer_set_account (composer, account);
  tern_composer_add_attachment_bytes (composer, data, "x.txt", NULL);
  g_assert_cmpstr (seen->str, ==, "subject;to;html-body;account;from;n-attachments;");
  /* An account named after its address has no display name to show. */
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "alice@tern.test");
  g_object_get (composer, "subject", &subject, NULL);
  g_assert_cmpstr (subject, ==, "Тема");
}

/* Replies and forwards */

static const char original_text[] =
  "From: =?utf-8?b?0JHQvtCxINCf0LXRgtGA0L7Qsg==?= <bob@tern.test>\r\n"
  "Reply-To: Рассылка <list@tern.test>\r\n"
  "To: Alice <Alice@Tern.Test>, Dave <dave@tern.test>\r\n"
  "Cc: carol@tern.test, ALICE@tern.test, dave@TERN.test\r\n"
  "Subject: RE: Ответ: Re[2]: планы\r\n"
  "Date: Thu, 26 Nov 2026 12:34:56 +0000\r\n"
  "Message-ID: <orig@tern.test>\r\n"
  "In-Reply-To: <parent@tern.test>\r\n"
  "References: <root@tern.test> <parent@tern.test>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
  "\r\n"
  "--b\r\n"
  "Content-Type: text/plain; charset=koi8-r\r\n"
  "Content-Transfer-Encoding: 8bit\r\n"
  "\r\n"
  "\xf0\xd2\xc9\xd7\xc5\xd4!\r\n"
  "> old quote\r\n"
  "\r\n"
  "Bob\r\n"
  "--b\r\n"
  "Content-Type: text/plain; name=\"notes.txt\"\r\n"
  "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
  "Content-Transfer-Encoding: base64\r\n"
  "\r\n"
  "bm90ZXMK\r\n"
  "--b--\r\n";

static TernAccount *
alice (void)
{
  return tern_account_new ("Alice", "alice@tern.test", TERN_ACCOUNT_PROTOCOL_IMAP, NULL, NULL);
}

static GMimeMessage *
original (const char *text)
{
  g_autoptr(GBytes) bytes = bytes_of (text);

  return parse (bytes);
}

static void
test_reply (void)
{
  g_autoptr(TernAccount) account = alice ();
  g_autoptr(GMimeMessage) message = original (original_text);
  g_autoptr(TernComposer) reply = tern_composer_new_reply (account, message,
                                                           TERN_REPLY_MODE_REPLY);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) built = NULL;
  const char *body;

  g_assert_cmpstr (tern_composer_get_from (reply), ==, "Alice <alice@tern.test>");
  /* Reply-To wins over From. */
  g_assert_cmpstr (tern_composer_get_to (reply), ==, "Рассылка <list@tern.test>");
  g_assert_null (tern_composer_get_cc (reply));
  g_assert_cmpstr (tern_composer_get_subject (reply), ==, "Re: планы");
  g_assert_cmpstr (tern_composer_get_in_reply_to (reply), ==, "orig@tern.test");
  g_assert_cmpstr (tern_composer_get_references (reply), ==,
                   "root@tern.test parent@tern.test orig@tern.test");
  body = tern_composer_get_body (reply);
  g_test_message ("%s", body);
  g_assert_true (g_str_has_prefix (body, "On "));
  g_assert_nonnull (strstr (body, ", Боб Петров wrote:\n> Привет!\n>> old quote\n>\n> Bob\n"));

  bytes = build_bytes (reply);
  built = parse (bytes);
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (built), "In-Reply-To"), ==,
                   "<orig@tern.test>");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (built), "References"), ==,
                   "<root@tern.test> <parent@tern.test> <orig@tern.test>");
}

static void
test_reply_all (void)
{
  g_autoptr(TernAccount) account = alice ();
  g_autoptr(GMimeMessage) message = original (original_text);
  g_autoptr(TernComposer) reply = tern_composer_new_reply (account, message,
                                                           TERN_REPLY_MODE_REPLY_ALL);

  /* The user's own address is gone, whatever its case; Dave once. */
  g_assert_cmpstr (tern_composer_get_to (reply), ==,
                   "Рассылка <list@tern.test>, Dave <dave@tern.test>");
  g_assert_cmpstr (tern_composer_get_cc (reply), ==, "carol@tern.test");
}

static void
test_reply_variants (void)
{
  g_autoptr(TernAccount) account = alice ();
  g_autoptr(GString) refs = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(TernComposer) reply = NULL;
  g_auto(GStrv) ids = NULL;

  /* No Reply-To: From; no References: In-Reply-To is the parent. */
  message = original ("From: Bob <bob@tern.test>\r\nTo: alice@tern.test\r\n"
                      "Subject: AW: Sv: Re : hello\r\nMessage-ID: <m1@tern.test>\r\n"
                      "In-Reply-To: <p1@tern.test>\r\n\r\nHi\r\n");
  reply = tern_composer_new_reply (account, message, TERN_REPLY_MODE_REPLY);
  g_assert_cmpstr (tern_composer_get_to (reply), ==, "Bob <bob@tern.test>");
  g_assert_cmpstr (tern_composer_get_subject (reply), ==, "Re: hello");
  g_assert_cmpstr (tern_composer_get_references (reply), ==, "p1@tern.test m1@tern.test");
  /* No Date: an attribution without one. */
  g_assert_cmpstr (tern_composer_get_body (reply), ==, "Bob wrote:\n> Hi\n\n");
  g_clear_object (&reply);
  g_clear_object (&message);

  /* A reply to the user's own message goes to its recipients. */
  message = original ("From: Alice <alice@tern.test>\r\nTo: Bob <bob@tern.test>\r\n"
                      "Subject: Ответ:тема\r\nMessage-ID: <m2@tern.test>\r\n\r\nHi\r\n");
  reply = tern_composer_new_reply (account, message, TERN_REPLY_MODE_REPLY);
  g_assert_cmpstr (tern_composer_get_to (reply), ==, "Bob <bob@tern.test>");
  g_assert_cmpstr (tern_composer_get_subject (reply), ==, "Re: тема");
  g_clear_object (&reply);
  g_clear_object (&message);

  /* A long thread: the root and the newest 19 are kept. */
  for (guint i = 0; i < 30; i++)
    g_string_append_printf (refs, "<r%u@tern.test> ", i);
  text = g_strdup_printf ("From: bob@tern.test\r\nSubject: x\r\nMessage-ID: <m3@tern.test>\r\n"
                          "References: %s\r\n\r\nHi\r\n", refs->str);
  message = original (text);
  reply = tern_composer_new_reply (account, message, TERN_REPLY_MODE_REPLY);
  ids = g_strsplit (tern_composer_get_references (reply), " ", -1);
  g_assert_cmpuint (g_strv_length (ids), ==, 20);
  g_assert_cmpstr (ids[0], ==, "r0@tern.test");
  g_assert_cmpstr (ids[1], ==, "r12@tern.test");
  g_assert_cmpstr (ids[18], ==, "r29@tern.test");
  g_assert_cmpstr (ids[19], ==, "m3@tern.test");
  {
    g_autoptr(GBytes) bytes = build_bytes (reply);
    g_autofree char *header = header_block (bytes);

    /* Folded: no line of the header is longer than SMTP allows. */
    assert_wire_format (bytes);
    g_assert_nonnull (strstr (header, "<r0@tern.test> <r12@tern.test>"));
  }
  g_clear_object (&reply);
  g_clear_object (&message);

  /* Only HTML: its text is quoted. */
  message = original ("From: bob@tern.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n\r\n"
                      "<html><head><style>p { color: red }</style></head><body>"
                      "<p>Первый &amp; второй</p><div>Строка&nbsp;2<br>&#1058;&#x435;кст</div>"
                      "</body></html>\r\n");
  reply = tern_composer_new_reply (account, message, TERN_REPLY_MODE_REPLY);
  g_test_message ("%s", tern_composer_get_body (reply));
  g_assert_nonnull (strstr (tern_composer_get_body (reply),
                            "> Первый & второй\n>\n> Строка 2\n> Текст\n"));
  g_assert_null (strstr (tern_composer_get_body (reply), "color"));
}

static void
test_forward_inline (void)
{
  g_autoptr(TernAccount) account = alice ();
  g_autoptr(GMimeMessage) message = original (original_text);
  g_autoptr(TernComposer) forward = tern_composer_new_reply (account, message,
                                                             TERN_REPLY_MODE_FORWARD_INLINE);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) built = NULL;
  g_autoptr(GBytes) notes = NULL;
  g_autofree char *tree = NULL;
  const char *body = tern_composer_get_body (forward);

  g_test_message ("%s", body);
  g_assert_null (tern_composer_get_to (forward));
  g_assert_null (tern_composer_get_in_reply_to (forward));
  g_assert_cmpstr (tern_composer_get_subject (forward), ==, "Fwd: RE: Ответ: Re[2]: планы");
  g_assert_nonnull (strstr (body, "-------- Forwarded Message --------\n"
                                  "Subject: RE: Ответ: Re[2]: планы\nDate: "));
  g_assert_nonnull (strstr (body, "\nFrom: Боб Петров <bob@tern.test>\n"
                                  "To: Alice <Alice@Tern.Test>, Dave <dave@tern.test>\n\n"
                                  "Привет!\n> old quote\n"));
  /* The original's attachment goes along. */
  g_assert_cmpuint (tern_composer_get_n_attachments (forward), ==, 1);
  g_assert_cmpstr (tern_composer_get_attachment_name (forward, 0), ==, "notes.txt");
  tern_composer_set_to (forward, "dave@tern.test");
  bytes = build_bytes (forward);
  built = parse (bytes);
  tree = structure (built);
  g_assert_cmpstr (tree, ==, "multipart/mixed(text/plain,text/plain)");
  notes = part_data (g_mime_multipart_get_part (GMIME_MULTIPART (g_mime_message_get_mime_part (built)), 1));
  g_assert_cmpmem (g_bytes_get_data (notes, NULL), g_bytes_get_size (notes), "notes\n", 6);

  /* "Fwd:" is not repeated. */
  g_clear_object (&forward);
  g_mime_message_set_subject (message, "Fwd: FW: отчёт", "utf-8");
  forward = tern_composer_new_reply (account, message, TERN_REPLY_MODE_FORWARD_INLINE);
  g_assert_cmpstr (tern_composer_get_subject (forward), ==, "Fwd: отчёт");
}

static void
test_forward_attachment (void)
{
  g_autoptr(TernAccount) account = alice ();
  g_autoptr(GMimeMessage) message = original (original_text);
  g_autoptr(TernComposer) forward = tern_composer_new_reply (account, message,
                                                             TERN_REPLY_MODE_FORWARD_ATTACHMENT);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) built = NULL;
  g_autofree char *tree = NULL;
  GMimeObject *part;
  GMimeMessage *inner;

  g_assert_cmpstr (tern_composer_get_subject (forward), ==, "Fwd: RE: Ответ: Re[2]: планы");
  tern_composer_set_to (forward, "dave@tern.test");
  bytes = build_bytes (forward);
  assert_wire_format (bytes);
  built = parse (bytes);
  tree = structure (built);
  g_assert_cmpstr (tree, ==, "multipart/mixed(text/plain,message/rfc822)");
  part = find_part (built, "message/rfc822");
  g_assert_cmpstr (g_mime_object_get_disposition (part), ==, "attachment");
  inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
  g_assert_cmpstr (g_mime_message_get_message_id (inner), ==, "orig@tern.test");
  g_assert_cmpstr (g_mime_message_get_subject (inner), ==, "RE: Ответ: Re[2]: планы");
}

/* In Russian: the attribution, the forwarded block and an error. */
static void
test_russian (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
      g_autoptr(TernAccount) account = alice ();
      g_autoptr(GMimeMessage) message = original (original_text);
      g_autoptr(TernComposer) reply = NULL;
      g_autoptr(TernComposer) forward = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;

      g_setenv ("LANGUAGE", "ru", TRUE);
      setlocale (LC_ALL, "");
      bindtextdomain (GETTEXT_PACKAGE, localedir);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

      reply = tern_composer_new_reply (account, message, TERN_REPLY_MODE_REPLY);
      g_test_message ("%s", tern_composer_get_body (reply));
      g_assert_nonnull (strstr (tern_composer_get_body (reply), ", Боб Петров пишет:\n> Привет!"));
      g_assert_cmpstr (tern_composer_get_subject (reply), ==, "Re: планы");

      forward = tern_composer_new_reply (account, message, TERN_REPLY_MODE_FORWARD_INLINE);
      g_test_message ("%s", tern_composer_get_body (forward));
      g_assert_nonnull (strstr (tern_composer_get_body (forward),
                                "-------- Пересланное сообщение --------\nТема: "));
      g_assert_nonnull (strstr (tern_composer_get_body (forward), "\nОт: Боб Петров"));

      bytes = tern_composer_to_bytes (forward, &error);
      g_assert_null (bytes);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "получател"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT
                                     | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/composer/headers", test_headers);
  g_test_add ("/tern/composer/bcc-outbox", TernTestProfile, NULL, tern_test_profile_setup,
              test_bcc_outbox, tern_test_profile_teardown);
  g_test_add ("/tern/composer/draft-without-recipients", TernTestProfile, NULL,
              tern_test_profile_setup, test_draft_without_recipients, tern_test_profile_teardown);
  for (guint i = 0; i < G_N_ELEMENTS (combinations); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tern/composer/structure/%u", i);

      g_test_add_data_func (path, &combinations[i], test_structure);
    }
  g_test_add ("/tern/composer/attachment-names", TernTestProfile, NULL, tern_test_profile_setup,
              test_attachment_names, tern_test_profile_teardown);
  g_test_add_func ("/tern/composer/long-lines", test_long_lines);
  g_test_add_func ("/tern/composer/errors", test_errors);
  g_test_add_func ("/tern/composer/properties", test_properties);
  g_test_add_func ("/tern/composer/reply", test_reply);
  g_test_add_func ("/tern/composer/reply-all", test_reply_all);
  g_test_add_func ("/tern/composer/reply-variants", test_reply_variants);
  g_test_add_func ("/tern/composer/forward-inline", test_forward_inline);
  g_test_add_func ("/tern/composer/forward-attachment", test_forward_attachment);
  g_test_add_func ("/tern/composer/russian", test_russian);

  return g_test_run ();
}
