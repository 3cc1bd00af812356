/* tern-message-content.c: a raw message parsed for the message view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-content"

#include "config.h"

#include "tern-message-content.h"
#include "tern-message-content-private.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "tern-mail-store-private.h"

/* Tried in order when a part declares no charset, or one its bytes are not
 * valid in.  Russian mail is the common case where the declaration is
 * missing; ISO-8859-1 last because every byte string is valid in it. */
static const char *const fallback_charsets[] = { "UTF-8", "windows-1251", "KOI8-R", "ISO-8859-1" };

struct _TernMessageContent
{
  GObject parent_instance;

  GBytes *raw;
  char *charset_override;
  gboolean broken;
  gboolean bodies_only; /* tern_message_content_new_bodies() */

  /* Headers, decoded by tern-mail-decode.c. */
  TernMailNewMessage *headers;

  char *text;
  const char *text_charset; /* static: a fallback or GMime's canonical name */
  char *html;
  GPtrArray *attachments; /* of TernMessageAttachment */
};

G_DEFINE_FINAL_TYPE (TernMessageContent, tern_message_content, G_TYPE_OBJECT)

static void
attachment_free (TernMessageAttachment *attachment)
{
  g_free (attachment->filename);
  g_free (attachment->content_type);
  g_free (attachment->content_id);
  g_clear_pointer (&attachment->data, g_bytes_unref);
  g_free (attachment);
}

static void
tern_message_content_finalize (GObject *object)
{
  TernMessageContent *self = TERN_MESSAGE_CONTENT (object);

  g_clear_pointer (&self->raw, g_bytes_unref);
  g_free (self->charset_override);
  g_clear_pointer (&self->headers, tern_mail_new_message_free);
  g_free (self->text);
  g_free (self->html);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);

  G_OBJECT_CLASS (tern_message_content_parent_class)->finalize (object);
}

static void
tern_message_content_class_init (TernMessageContentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_message_content_finalize;
}

static void
tern_message_content_init (TernMessageContent *self)
{
  self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
}

/* Charsets */

static char *
convert_strict (const char *data,
                gsize       size,
                const char *charset)
{
  const char *iconv_name = g_mime_charset_iconv_name (charset);
  gsize written = 0;
  char *out;

  if (g_ascii_strcasecmp (iconv_name, "UTF-8") == 0)
    return g_utf8_validate_len (data, size, NULL) ? g_strndup (data, size) : NULL;
  out = g_convert (data, size, "UTF-8", iconv_name, NULL, &written, NULL);
  /* A NUL inside would cut the text short everywhere it is shown. */
  if (out != NULL && strlen (out) != written)
    g_clear_pointer (&out, g_free);
  return out;
}

static const char *
canonical_charset (const char *charset)
{
  const char *canon = g_mime_charset_canon_name (charset);

  /* GMime calls windows-1251 "cp1251"; the menu and the tests use the
   * IANA names. */
  for (gsize i = 0; i < G_N_ELEMENTS (fallback_charsets); i++)
    if (g_ascii_strcasecmp (canon, fallback_charsets[i]) == 0 ||
        g_ascii_strcasecmp (g_mime_charset_canon_name (fallback_charsets[i]), canon) == 0)
      return fallback_charsets[i];
  return canon;
}

char *
tern_message_content_to_utf8 (const char  *data,
                              gsize        size,
                              const char  *charset,
                              const char **used)
{
  char *out = NULL;

  _tern_mail_ensure_gmime ();
  if (data == NULL || size == 0)
    {
      if (used != NULL)
        *used = charset != NULL && charset[0] != '\0' ? canonical_charset (charset) : "UTF-8";
      return g_strdup ("");
    }
  if (charset != NULL && charset[0] != '\0')
    {
      out = convert_strict (data, size, charset);
      if (out != NULL && used != NULL)
        *used = canonical_charset (charset);
    }
  for (gsize i = 0; out == NULL && i < G_N_ELEMENTS (fallback_charsets); i++)
    {
      out = convert_strict (data, size, fallback_charsets[i]);
      if (out != NULL && used != NULL)
        *used = fallback_charsets[i];
    }
  if (out == NULL)
    {
      /* Only NULs get here: ISO-8859-1 takes every other byte. */
      out = g_utf8_make_valid (data, size);
      if (used != NULL)
        *used = "UTF-8";
    }
  return out;
}

/* format=flowed */

static guint
quote_depth (const char **line)
{
  guint depth = 0;

  while ((*line)[0] == '>')
    {
      depth++;
      (*line)++;
    }
  return depth;
}

static void
append_quote_prefix (GString *out,
                     guint    depth)
{
  if (depth == 0)
    return;
  for (guint i = 0; i < depth; i++)
    g_string_append_c (out, '>');
  g_string_append_c (out, ' ');
}

char *
tern_message_content_unflow (const char *text,
                             gboolean    delsp)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  gboolean open = FALSE; /* the last line was flowed: this one continues it */
  guint open_depth = 0;
  guint n_lines = g_strv_length (lines);

  /* The split of "a\n" ends with an empty string that is no line. */
  if (n_lines > 0 && lines[n_lines - 1][0] == '\0')
    n_lines--;
  for (guint i = 0; i < n_lines; i++)
    {
      const char *line = lines[i];
      guint depth = quote_depth (&line);
      gsize len;
      gboolean flowed;

      if (line[0] == ' ')
        line++; /* space-stuffing */
      len = strlen (line);
      flowed = len > 0 && line[len - 1] == ' ' && strcmp (line, "-- ") != 0;
      /* A paragraph never continues into another quote level. */
      if (open && depth != open_depth)
        {
          g_string_append_c (out, '\n');
          open = FALSE;
        }
      if (!open)
        append_quote_prefix (out, depth);
      g_string_append_len (out, line, flowed && delsp ? len - 1 : len);
      if (!flowed)
        g_string_append_c (out, '\n');
      open = flowed;
      open_depth = depth;
    }
  if (open)
    g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* Parts */

static GBytes *
part_bytes (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  GMimeStream *stream;
  GByteArray *array;
  GBytes *bytes;

  if (content == NULL)
    return g_bytes_new (NULL, 0);
  array = g_byte_array_new ();
  stream = g_mime_stream_mem_new_with_byte_array (array);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  g_mime_data_wrapper_write_to_stream (content, stream);
  g_object_unref (stream);
  bytes = g_byte_array_free_to_bytes (array);
  return bytes;
}

static GBytes *
object_bytes (GMimeObject *object)
{
  GByteArray *array = g_byte_array_new ();
  GMimeStream *stream = g_mime_stream_mem_new_with_byte_array (array);

  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  g_mime_object_write_to_stream (object, NULL, stream);
  g_object_unref (stream);
  return g_byte_array_free_to_bytes (array);
}

/* A text part's content in UTF-8, CRLF made LF. */
static char *
part_text (TernMessageContent *self,
           GMimePart          *part,
           const char        **used)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (part));
  const char *charset = self->charset_override;
  g_autoptr(GBytes) bytes = part_bytes (part);
  g_autofree char *text = NULL;
  GString *lf;

  if (charset == NULL)
    charset = g_mime_content_type_get_parameter (type, "charset");
  text = tern_message_content_to_utf8 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                       charset, used);
  lf = g_string_new (text);
  g_string_replace (lf, "\r\n", "\n", 0);
  return g_string_free (lf, FALSE);
}

static char *
plain_text (TernMessageContent *self,
            GMimePart          *part)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (part));
  const char *format = g_mime_content_type_get_parameter (type, "format");
  const char *delsp = g_mime_content_type_get_parameter (type, "delsp");
  g_autofree char *text = part_text (self, part, &self->text_charset);

  if (format != NULL && g_ascii_strcasecmp (format, "flowed") == 0)
    return tern_message_content_unflow (text, delsp != NULL && g_ascii_strcasecmp (delsp, "yes") == 0);
  return g_steal_pointer (&text);
}

static char *
fallback_filename (GMimeObject *object)
{
  GMimeContentType *type = g_mime_object_get_content_type (object);

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      const char *subject = inner != NULL ? g_mime_message_get_subject (inner) : NULL;

      if (subject != NULL && subject[0] != '\0')
        return g_strconcat (subject, ".eml", NULL);
      return g_strdup (_("Forwarded message.eml"));
    }
  if (type != NULL && g_mime_content_type_get_parameter (type, "name") != NULL)
    return g_strdup (g_mime_content_type_get_parameter (type, "name"));
  return g_strdup (_("Unnamed attachment"));
}

static void
add_attachment (TernMessageContent *self,
                GMimeObject        *object)
{
  TernMessageAttachment *attachment = g_new0 (TernMessageAttachment, 1);
  GMimeContentType *type = g_mime_object_get_content_type (object);
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);
  const char *filename = NULL;
  const char *content_id = g_mime_object_get_content_id (object);
  g_autofree char *mime_type = NULL;

  if (GMIME_IS_PART (object))
    {
      filename = g_mime_part_get_filename (GMIME_PART (object));
      attachment->data = part_bytes (GMIME_PART (object));
    }
  else
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      attachment->data = inner != NULL ? object_bytes (GMIME_OBJECT (inner)) : g_bytes_new (NULL, 0);
    }
  attachment->filename = filename != NULL && filename[0] != '\0' ? g_strdup (filename)
                                                                  : fallback_filename (object);
  if (!g_utf8_validate (attachment->filename, -1, NULL))
    {
      char *valid = g_utf8_make_valid (attachment->filename, -1);

      g_free (attachment->filename);
      attachment->filename = valid;
    }
  mime_type = type != NULL ? g_mime_content_type_get_mime_type (type) : NULL;
  attachment->content_type = g_ascii_strdown (mime_type != NULL ? mime_type : "application/octet-stream", -1);
  attachment->content_id = g_strdup (content_id);
  attachment->is_inline = disposition != NULL &&
                          g_ascii_strcasecmp (g_mime_content_disposition_get_disposition (disposition),
                                              GMIME_DISPOSITION_INLINE) == 0;
  g_ptr_array_add (self->attachments, attachment);
}

/* Visits the leaves in order: the first inline text/plain and text/html
 * are the bodies, everything else an attachment.  A forwarded message is
 * one attachment, not opened: its own body is not this message's. */
static void
collect (TernMessageContent *self,
         GMimeObject        *object)
{
  GMimeContentType *type;

  if (object == NULL)
    return;
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      /* Bodies only: the text is what is wanted, the HTML only without it. */
      for (int i = 0; i < g_mime_multipart_get_count (multipart) &&
                      !(self->bodies_only && self->text != NULL); i++)
        collect (self, g_mime_multipart_get_part (multipart, i));
      return;
    }
  if (GMIME_IS_MESSAGE_PART (object))
    {
      if (!self->bodies_only)
        add_attachment (self, object);
      return;
    }
  if (!GMIME_IS_PART (object))
    return;
  type = g_mime_object_get_content_type (object);
  if (!g_mime_part_is_attachment (GMIME_PART (object)) && type != NULL)
    {
      if (self->text == NULL && g_mime_content_type_is_type (type, "text", "plain"))
        {
          self->text = plain_text (self, GMIME_PART (object));
          return;
        }
      if (self->html == NULL && g_mime_content_type_is_type (type, "text", "html"))
        {
          self->html = part_text (self, GMIME_PART (object), NULL);
          return;
        }
    }
  /* An attachment's content, decoded, is most of the work of a message
   * with one: not done when only the bodies are wanted. */
  if (!self->bodies_only)
    add_attachment (self, object);
}

static void
parser_warning_cb (gint64              offset,
                   GMimeParserWarning  code,
                   const char         *item,
                   gpointer            user_data)
{
  TernMessageContent *self = user_data;

  /* The others (duplicated headers, 8-bit headers, bad RFC 2047 words)
   * are everyday mail that still shows completely. */
  switch (code)
    {
    case GMIME_WARN_MALFORMED_MULTIPART:
    case GMIME_WARN_TRUNCATED_MESSAGE:
    case GMIME_WARN_MALFORMED_MESSAGE:
    case GMIME_CRIT_INVALID_HEADER_NAME:
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
    case GMIME_CRIT_NESTING_OVERFLOW:
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      self->broken = TRUE;
      break;
    default:
      break;
    }
}

static void
parse (TernMessageContent *self)
{
  gsize size;
  const char *data = g_bytes_get_data (self->raw, &size);
  GMimeParserOptions *options = g_mime_parser_options_new ();
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data != NULL ? data : "", size);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message;

  g_mime_parser_options_set_warning_callback (options, parser_warning_cb, self);
  message = g_mime_parser_construct_message (parser, options);
  if (message == NULL)
    self->broken = TRUE;
  else
    collect (self, g_mime_message_get_mime_part (message));
  g_clear_object (&message);
  g_object_unref (parser);
  g_object_unref (stream);
  g_mime_parser_options_free (options);
}

TernMessageContent *
tern_message_content_new (GBytes     *raw,
                          const char *charset_override)
{
  TernMessageContent *self;

  g_return_val_if_fail (raw != NULL, NULL);

  _tern_mail_ensure_gmime ();
  self = g_object_new (TERN_TYPE_MESSAGE_CONTENT, NULL);
  self->raw = g_bytes_ref (raw);
  self->charset_override = g_strdup (charset_override);
  /* The same decoding as the message list's, so that both show the same
   * names and subject; it parses the header a second time, which is cheap
   * next to the bodies. */
  self->headers = tern_mail_new_message_from_pop3 (NULL, raw, FALSE, 0);
  parse (self);
  return self;
}

/* For the search index: the bodies only.  The headers are not decoded:
 * their getters return NULL. */
static TernMessageContent *
new_bodies_only (GBytes *raw)
{
  TernMessageContent *self = g_object_new (TERN_TYPE_MESSAGE_CONTENT, NULL);

  self->raw = g_bytes_ref (raw);
  self->bodies_only = TRUE;
  self->headers = g_new0 (TernMailNewMessage, 1);
  return self;
}

TernMessageContent *
tern_message_content_new_bodies (GBytes *raw)
{
  TernMessageContent *self;

  g_return_val_if_fail (raw != NULL, NULL);

  _tern_mail_ensure_gmime ();
  self = new_bodies_only (raw);
  parse (self);
  return self;
}

TernMessageContent *
_tern_message_content_new_bodies_from_message (GBytes       *raw,
                                               GMimeMessage *message)
{
  TernMessageContent *self;

  g_return_val_if_fail (raw != NULL, NULL);
  g_return_val_if_fail (GMIME_IS_MESSAGE (message), NULL);

  self = new_bodies_only (raw);
  collect (self, g_mime_message_get_mime_part (message));
  return self;
}

TernMessageContent *
tern_message_content_with_charset (TernMessageContent *self,
                                   const char         *charset_override)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);

  return tern_message_content_new (self->raw, charset_override);
}

gboolean
tern_message_content_is_broken (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), FALSE);
  return self->broken;
}

const char *
tern_message_content_get_subject (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->subject;
}

const char *
tern_message_content_get_from_name (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->from_name;
}

const char *
tern_message_content_get_from_address (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->from_address;
}

const char *
tern_message_content_get_to (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->to_list;
}

const char *
tern_message_content_get_cc (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->cc_list;
}

const char *
tern_message_content_get_reply_to (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->reply_to;
}

const char *
tern_message_content_get_message_id (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->headers->message_id;
}

gint64
tern_message_content_get_date (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), 0);
  return self->headers->date;
}

const char *
tern_message_content_get_text (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->text;
}

const char *
tern_message_content_get_text_charset (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->text_charset;
}

const char *
tern_message_content_get_html (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->html;
}

GPtrArray *
tern_message_content_get_attachments (TernMessageContent *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  return self->attachments;
}

const TernMessageAttachment *
tern_message_content_lookup_cid (TernMessageContent *self,
                                 const char         *content_id)
{
  g_autofree char *bare = NULL;
  gsize len;

  g_return_val_if_fail (TERN_IS_MESSAGE_CONTENT (self), NULL);
  g_return_val_if_fail (content_id != NULL, NULL);

  len = strlen (content_id);
  if (len >= 2 && content_id[0] == '<' && content_id[len - 1] == '>')
    bare = g_strndup (content_id + 1, len - 2);
  else
    bare = g_strdup (content_id);
  for (guint i = 0; i < self->attachments->len; i++)
    {
      const TernMessageAttachment *attachment = g_ptr_array_index (self->attachments, i);

      if (attachment->content_id != NULL && strcmp (attachment->content_id, bare) == 0)
        return attachment;
    }
  return NULL;
}
