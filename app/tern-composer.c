/* tern-composer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer"

#include "config.h"

#include "tern-composer.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-mail-store-private.h"

typedef struct
{
  GFile *file;        /* or data */
  GBytes *data;
  char *filename;     /* UTF-8 */
  char *content_type; /* NULL: guessed when built */
  char *content_id;   /* inline images only */
} Attachment;

struct _TernComposer
{
  GObject parent_instance;

  TernAccount *account;
  TernIdentity *identity;   /* NULL: From is the account's, or typed */
  char *from;
  char *reply_to;
  char *to;
  char *cc;
  char *bcc;
  char *subject;
  char *body;
  char *html_body;
  char *in_reply_to;
  char *references;
  GPtrArray *attachments;   /* of Attachment */
  GPtrArray *inline_images; /* of Attachment */
  char *signature;          /* the one in the body, see tern-composer-signature.c */
  gboolean text_above;      /* the user writes above the quote */
  gboolean html_from_text;
};

G_DEFINE_FINAL_TYPE (TernComposer, tern_composer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_IDENTITY,
  PROP_FROM,
  PROP_REPLY_TO,
  PROP_TO,
  PROP_CC,
  PROP_BCC,
  PROP_SUBJECT,
  PROP_BODY,
  PROP_HTML_BODY,
  PROP_IN_REPLY_TO,
  PROP_REFERENCES,
  PROP_N_ATTACHMENTS,
  PROP_SIGNATURE,
  PROP_TEXT_ABOVE_QUOTE,
  PROP_HTML_FROM_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
attachment_free (Attachment *attachment)
{
  g_clear_object (&attachment->file);
  g_clear_pointer (&attachment->data, g_bytes_unref);
  g_free (attachment->filename);
  g_free (attachment->content_type);
  g_free (attachment->content_id);
  g_free (attachment);
}

/* Properties */

static char **
string_field (TernComposer *self,
              guint         prop_id)
{
  switch (prop_id)
    {
    case PROP_FROM:
      return &self->from;
    case PROP_REPLY_TO:
      return &self->reply_to;
    case PROP_TO:
      return &self->to;
    case PROP_CC:
      return &self->cc;
    case PROP_BCC:
      return &self->bcc;
    case PROP_SUBJECT:
      return &self->subject;
    case PROP_BODY:
      return &self->body;
    case PROP_HTML_BODY:
      return &self->html_body;
    case PROP_IN_REPLY_TO:
      return &self->in_reply_to;
    case PROP_REFERENCES:
      return &self->references;
    default:
      return NULL;
    }
}

static void
set_string (TernComposer *self,
            guint         prop_id,
            const char   *value)
{
  char **field = string_field (self, prop_id);

  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
tern_composer_finalize (GObject *object)
{
  TernComposer *self = TERN_COMPOSER (object);

  g_clear_object (&self->account);
  g_clear_object (&self->identity);
  for (guint prop_id = PROP_FROM; prop_id <= PROP_REFERENCES; prop_id++)
    g_clear_pointer (string_field (self, prop_id), g_free);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  g_clear_pointer (&self->inline_images, g_ptr_array_unref);
  g_free (self->signature);

  G_OBJECT_CLASS (tern_composer_parent_class)->finalize (object);
}

static void
tern_composer_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TernComposer *self = TERN_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    case PROP_IDENTITY:
      g_value_set_object (value, self->identity);
      break;
    case PROP_N_ATTACHMENTS:
      g_value_set_uint (value, self->attachments->len);
      break;
    case PROP_SIGNATURE:
      g_value_set_string (value, self->signature);
      break;
    case PROP_TEXT_ABOVE_QUOTE:
      g_value_set_boolean (value, self->text_above);
      break;
    case PROP_HTML_FROM_TEXT:
      g_value_set_boolean (value, self->html_from_text);
      break;
    default:
      if (string_field (self, prop_id) != NULL)
        g_value_set_string (value, *string_field (self, prop_id));
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_composer_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  TernComposer *self = TERN_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      tern_composer_set_account (self, g_value_get_object (value));
      break;
    case PROP_IDENTITY:
      tern_composer_set_identity (self, g_value_get_object (value));
      break;
    case PROP_SIGNATURE:
      tern_composer_set_signature (self, g_value_get_string (value));
      break;
    case PROP_TEXT_ABOVE_QUOTE:
      tern_composer_set_text_above_quote (self, g_value_get_boolean (value));
      break;
    case PROP_HTML_FROM_TEXT:
      tern_composer_set_html_from_text (self, g_value_get_boolean (value));
      break;
    default:
      if (string_field (self, prop_id) != NULL)
        set_string (self, prop_id, g_value_get_string (value));
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_composer_class_init (TernComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  static const char *const names[] = {
    [PROP_FROM] = "from",
    [PROP_REPLY_TO] = "reply-to",
    [PROP_TO] = "to",
    [PROP_CC] = "cc",
    [PROP_BCC] = "bcc",
    [PROP_SUBJECT] = "subject",
    [PROP_BODY] = "body",
    [PROP_HTML_BODY] = "html-body",
    [PROP_IN_REPLY_TO] = "in-reply-to",
    [PROP_REFERENCES] = "references",
  };

  object_class->finalize = tern_composer_finalize;
  object_class->get_property = tern_composer_get_property;
  object_class->set_property = tern_composer_set_property;

  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, TERN_TYPE_ACCOUNT, flags);
  properties[PROP_IDENTITY] =
    g_param_spec_object ("identity", NULL, NULL, TERN_TYPE_IDENTITY, flags);
  for (guint prop_id = PROP_FROM; prop_id <= PROP_REFERENCES; prop_id++)
    properties[prop_id] = g_param_spec_string (names[prop_id], NULL, NULL, NULL, flags);
  properties[PROP_N_ATTACHMENTS] =
    g_param_spec_uint ("n-attachments", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIGNATURE] = g_param_spec_string ("signature", NULL, NULL, NULL, flags);
  properties[PROP_TEXT_ABOVE_QUOTE] =
    g_param_spec_boolean ("text-above-quote", NULL, NULL, FALSE, flags);
  properties[PROP_HTML_FROM_TEXT] =
    g_param_spec_boolean ("html-from-text", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_composer_init (TernComposer *self)
{
  self->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
  self->inline_images = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
}

TernComposer *
tern_composer_new (void)
{
  return g_object_new (TERN_TYPE_COMPOSER, NULL);
}

TernComposer *
tern_composer_new_for_account (TernAccount *account)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  return g_object_new (TERN_TYPE_COMPOSER, "account", account, NULL);
}

TernAccount *
tern_composer_get_account (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);
  return self->account;
}

TernComposer *
tern_composer_new_for_identity (TernIdentity *identity)
{
  g_return_val_if_fail (TERN_IS_IDENTITY (identity), NULL);

  return g_object_new (TERN_TYPE_COMPOSER, "identity", identity, NULL);
}

TernIdentity *
tern_composer_get_identity (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);
  return self->identity;
}

void
tern_composer_set_identity (TernComposer *self,
                            TernIdentity *identity)
{
  g_autofree char *from = NULL;

  g_return_if_fail (TERN_IS_COMPOSER (self));
  g_return_if_fail (identity == NULL || TERN_IS_IDENTITY (identity));

  if (!g_set_object (&self->identity, identity))
    return;
  if (identity != NULL)
    {
      if (g_set_object (&self->account, tern_identity_get_account (identity)))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT]);
      from = tern_identity_dup_from (identity);
      set_string (self, PROP_FROM, from);
      set_string (self, PROP_REPLY_TO, tern_identity_get_reply_to (identity));
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDENTITY]);
}

void
tern_composer_set_account (TernComposer *self,
                           TernAccount  *account)
{
  const char *name;
  g_autoptr(InternetAddress) mailbox = NULL;
  g_autofree char *from = NULL;

  g_return_if_fail (TERN_IS_COMPOSER (self));
  g_return_if_fail (account == NULL || TERN_IS_ACCOUNT (account));

  /* The account of the identity: its own address instead. */
  if (g_set_object (&self->account, account))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT]);
  else if (self->identity == NULL)
    return;
  /* Another identity's From and Reply-To are not the account's. */
  if (self->identity != NULL)
    {
      g_clear_object (&self->identity);
      set_string (self, PROP_REPLY_TO, NULL);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDENTITY]);
    }
  if (account == NULL)
    return;
  /* An account named after its address gets no display name. */
  name = tern_account_get_display_name (account);
  if (g_strcmp0 (name, tern_account_get_address (account)) == 0)
    name = NULL;
  _tern_mail_ensure_gmime ();
  mailbox = internet_address_mailbox_new (name, tern_account_get_address (account));
  from = internet_address_to_string (mailbox, NULL, FALSE);
  set_string (self, PROP_FROM, from);
}

#define STRING_ACCESSORS(field, PROP)                                  \
  const char *tern_composer_get_##field (TernComposer *self)           \
  {                                                                    \
    g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);              \
    return self->field;                                                \
  }                                                                    \
  void tern_composer_set_##field (TernComposer *self, const char *value) \
  {                                                                    \
    g_return_if_fail (TERN_IS_COMPOSER (self));                        \
    set_string (self, PROP, value);                                    \
  }

STRING_ACCESSORS (from, PROP_FROM)
STRING_ACCESSORS (reply_to, PROP_REPLY_TO)
STRING_ACCESSORS (to, PROP_TO)
STRING_ACCESSORS (cc, PROP_CC)
STRING_ACCESSORS (bcc, PROP_BCC)
STRING_ACCESSORS (subject, PROP_SUBJECT)
STRING_ACCESSORS (body, PROP_BODY)
STRING_ACCESSORS (html_body, PROP_HTML_BODY)
STRING_ACCESSORS (in_reply_to, PROP_IN_REPLY_TO)
STRING_ACCESSORS (references, PROP_REFERENCES)

/* Signature and format */

const char *
tern_composer_get_signature (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);
  return self->signature;
}

void
tern_composer_set_signature (TernComposer *self,
                             const char   *signature)
{
  g_autofree char *body = NULL;

  g_return_if_fail (TERN_IS_COMPOSER (self));

  if (signature != NULL && _tern_composer_is_blank (signature))
    signature = NULL;
  if (g_strcmp0 (self->signature, signature) == 0)
    return;
  body = _tern_composer_replace_signature (self->body, self->signature, signature,
                                           self->text_above);
  g_free (self->signature);
  self->signature = g_strdup (signature);
  if (body != NULL)
    set_string (self, PROP_BODY, body);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNATURE]);
}

gboolean
tern_composer_adopt_signature (TernComposer *self,
                               const char   *signature)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), FALSE);

  if (!_tern_composer_has_signature (self->body, signature))
    return FALSE;
  if (g_strcmp0 (self->signature, signature) != 0)
    {
      g_free (self->signature);
      self->signature = g_strdup (signature);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNATURE]);
    }
  return TRUE;
}

gboolean
tern_composer_get_text_above_quote (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), FALSE);
  return self->text_above;
}

void
tern_composer_set_text_above_quote (TernComposer *self,
                                    gboolean      above)
{
  g_return_if_fail (TERN_IS_COMPOSER (self));

  above = !!above;
  if (self->text_above == above)
    return;
  self->text_above = above;
  /* A reply's quote moves down, leaving room to write above it. */
  if (above && self->body != NULL && !g_str_has_prefix (self->body, "\n\n"))
    {
      g_autofree char *body = g_strconcat ("\n\n", self->body, NULL);

      set_string (self, PROP_BODY, body);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT_ABOVE_QUOTE]);
}

gboolean
tern_composer_get_html_from_text (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), FALSE);
  return self->html_from_text;
}

void
tern_composer_set_html_from_text (TernComposer *self,
                                  gboolean      html)
{
  g_return_if_fail (TERN_IS_COMPOSER (self));

  html = !!html;
  if (self->html_from_text == html)
    return;
  self->html_from_text = html;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HTML_FROM_TEXT]);
}

/* Attachments */

static guint
add_attachment (TernComposer *self,
                Attachment   *attachment)
{
  g_ptr_array_add (self->attachments, attachment);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ATTACHMENTS]);
  return self->attachments->len - 1;
}

guint
tern_composer_add_attachment (TernComposer *self,
                              GFile        *file,
                              const char   *content_type)
{
  Attachment *attachment;
  g_autofree char *basename = NULL;

  g_return_val_if_fail (TERN_IS_COMPOSER (self), 0);
  g_return_val_if_fail (G_IS_FILE (file), 0);

  basename = g_file_get_basename (file);
  attachment = g_new0 (Attachment, 1);
  attachment->file = g_object_ref (file);
  attachment->filename = g_filename_display_name (basename);
  attachment->content_type = g_strdup (content_type);
  return add_attachment (self, attachment);
}

guint
tern_composer_add_attachment_bytes (TernComposer *self,
                                    GBytes       *data,
                                    const char   *filename,
                                    const char   *content_type)
{
  Attachment *attachment;

  g_return_val_if_fail (TERN_IS_COMPOSER (self), 0);
  g_return_val_if_fail (data != NULL, 0);
  g_return_val_if_fail (filename != NULL, 0);

  attachment = g_new0 (Attachment, 1);
  attachment->data = g_bytes_ref (data);
  attachment->filename = g_strdup (filename);
  attachment->content_type = g_strdup (content_type);
  return add_attachment (self, attachment);
}

const char *
tern_composer_add_inline_image (TernComposer *self,
                                GBytes       *data,
                                const char   *filename,
                                const char   *content_type)
{
  Attachment *image;
  g_autofree char *random = g_uuid_string_random ();
  const char *at;

  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (filename != NULL, NULL);

  /* Content-IDs are addresses (RFC 2392): the sender's domain makes them
   * unique without revealing more than the From already does. */
  at = self->from ? strrchr (self->from, '@') : NULL;
  image = g_new0 (Attachment, 1);
  image->data = g_bytes_ref (data);
  image->filename = g_strdup (filename);
  image->content_type = g_strdup (content_type);
  image->content_id = g_strdup_printf ("%s@%.*s", random,
                                       at ? (int) strcspn (at + 1, "> \t,") : 9,
                                       at ? at + 1 : "localhost");
  g_ptr_array_add (self->inline_images, image);
  return image->content_id;
}

guint
tern_composer_get_n_attachments (TernComposer *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), 0);
  return self->attachments->len;
}

const char *
tern_composer_get_attachment_name (TernComposer *self,
                                   guint         index)
{
  const Attachment *attachment;

  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);
  g_return_val_if_fail (index < self->attachments->len, NULL);

  attachment = g_ptr_array_index (self->attachments, index);
  return attachment->filename;
}

void
tern_composer_remove_attachment (TernComposer *self,
                                 guint         index)
{
  g_return_if_fail (TERN_IS_COMPOSER (self));
  g_return_if_fail (index < self->attachments->len);

  g_ptr_array_remove_index (self->attachments, index);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ATTACHMENTS]);
}

/* Building */

static gboolean
set_sender (TernComposer  *self,
            GMimeMessage  *message,
            char         **domain,
            GError       **error)
{
  InternetAddressList *from = g_mime_message_get_from (message);
  guint n = 0;
  const char *addr;

  if (_tern_composer_is_blank (self->from))
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The message has no sender: choose an account to send it from"));
      return FALSE;
    }
  if (!_tern_composer_parse_addresses (self->from, from, &n, error))
    return FALSE;
  if (n != 1 || !INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (from, 0)))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The sender “%s” must be exactly one address"), self->from);
      return FALSE;
    }
  addr = internet_address_mailbox_get_addr (
    INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (from, 0)));
  *domain = g_strdup (strrchr (addr, '@') + 1);
  return TRUE;
}

static gboolean
set_reply_to (TernComposer  *self,
              GMimeMessage  *message,
              GError       **error)
{
  guint n = 0;

  if (_tern_composer_is_blank (self->reply_to))
    return TRUE;
  if (!_tern_composer_parse_addresses (self->reply_to, g_mime_message_get_reply_to (message), &n,
                                       error))
    {
      g_prefix_error (error, _("Reply-To: "));
      return FALSE;
    }
  return TRUE;
}

/* A draft may have no recipient yet; a message to send must have one. */
static gboolean
set_recipients (TernComposer  *self,
                GMimeMessage  *message,
                gboolean       required,
                GError       **error)
{
  const char *fields[] = { self->to, self->cc, self->bcc };
  const GMimeAddressType types[] = {
    GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC
  };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (!_tern_composer_parse_addresses (fields[i], g_mime_message_get_addresses (message, types[i]), &n, error))
      return FALSE;
  if (n == 0 && required)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The message has no recipient: fill in To, Cc or Bcc"));
      return FALSE;
    }
  return TRUE;
}

/* "a@b c@d" -> "<a@b> <c@d>"; NULL when there are none. */
static char *
bracket_ids (const char *ids)
{
  g_auto(GStrv) tokens = ids ? g_strsplit_set (ids, " \t\r\n", -1) : NULL;
  GString *out = g_string_new (NULL);

  for (guint i = 0; tokens != NULL && tokens[i] != NULL; i++)
    {
      const char *id = tokens[i];
      gsize len;

      if (*id == '<')
        id++;
      len = strcspn (id, ">");
      if (len == 0)
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "<%.*s>", (int) len, id);
    }
  return g_string_free (out, out->len == 0);
}

char *
_tern_composer_normalize_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text ? text : "", -1);
  GString *out = g_string_sized_new (strlen (valid) + 1);

  for (const char *p = valid; *p != '\0'; p++)
    {
      if (*p == '\r')
        {
          g_string_append_c (out, '\n');
          if (p[1] == '\n')
            p++;
        }
      else
        g_string_append_c (out, *p);
    }
  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

static GMimeObject *
text_part (const char *subtype,
           const char *text)
{
  g_autofree char *normalized = _tern_composer_normalize_text (text);
  GMimeTextPart *part = g_mime_text_part_new_with_subtype (subtype);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (normalized,
                                                                    strlen (normalized));
  g_autoptr(GMimeDataWrapper) content =
    g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (GMIME_PART (part), content);
  g_mime_text_part_set_charset (part, "utf-8");
  /* 8bit for UTF-8 text (the outbox asks for BODY=8BITMIME); quoted-
   * printable when a line would be longer than SMTP allows. */
  g_mime_part_set_content_encoding (GMIME_PART (part),
                                    g_mime_part_get_best_content_encoding (
                                      GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_8BIT));
  return GMIME_OBJECT (part);
}

/* The attachment's data and MIME type, reading its file if it has one. */
static gboolean
load_attachment (const Attachment  *attachment,
                 GBytes           **data,
                 char             **mime_type,
                 GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *guessed = NULL;
  gconstpointer bytes;
  gsize size;

  if (attachment->file != NULL)
    {
      *data = g_file_load_bytes (attachment->file, NULL, NULL, &local_error);
      if (*data == NULL)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("The attachment “%s” cannot be read: %s"), attachment->filename,
                       local_error->message);
          return FALSE;
        }
    }
  else
    *data = g_bytes_ref (attachment->data);
  if (attachment->content_type != NULL)
    {
      *mime_type = g_strdup (attachment->content_type);
      return TRUE;
    }
  if (attachment->file != NULL)
    {
      g_autoptr(GFileInfo) info =
        g_file_query_info (attachment->file, G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                           G_FILE_QUERY_INFO_NONE, NULL, NULL);

      if (info != NULL && g_file_info_get_content_type (info) != NULL)
        guessed = g_strdup (g_file_info_get_content_type (info));
    }
  bytes = g_bytes_get_data (*data, &size);
  if (guessed == NULL)
    guessed = g_content_type_guess (attachment->filename, bytes, size, NULL);
  *mime_type = g_content_type_get_mime_type (guessed);
  if (*mime_type == NULL)
    *mime_type = g_strdup ("application/octet-stream");
  return TRUE;
}

GMimeMessage *
_tern_composer_parse_message (GBytes *data)
{
  gsize size;
  gconstpointer bytes = g_bytes_get_data (data, &size);
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;

  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (bytes ? bytes : "", size);
  parser = g_mime_parser_new_with_stream (stream);
  return g_mime_parser_construct_message (parser, NULL);
}

/* Non-ASCII parameters (file names) go out as RFC 2231 UTF-8, not in a
 * legacy charset GMime would otherwise pick for them. */
static void
parameters_in_utf8 (GMimeObject *part)
{
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (part);
  GMimeParamList *lists[] = {
    g_mime_content_type_get_parameters (g_mime_object_get_content_type (part)),
    disposition ? g_mime_content_disposition_get_parameters (disposition) : NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (int p = 0; lists[i] != NULL && p < g_mime_param_list_length (lists[i]); p++)
      g_mime_param_set_charset (g_mime_param_list_get_parameter_at (lists[i], p), "utf-8");
}

static GMimeObject *
message_attachment (GBytes      *data,
                    const char  *filename,
                    GError     **error)
{
  g_autoptr(GMimeMessage) message = _tern_composer_parse_message (data);
  GMimeMessagePart *part;

  if (message == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The attachment “%s” is not an email message"), filename);
      return NULL;
    }
  part = g_mime_message_part_new_with_message ("rfc822", message);
  g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
  g_mime_object_set_content_disposition_parameter (GMIME_OBJECT (part), "filename", filename);
  parameters_in_utf8 (GMIME_OBJECT (part));
  return GMIME_OBJECT (part);
}

static GMimeObject *
attachment_part (const Attachment  *attachment,
                 GError           **error)
{
  g_autoptr(GBytes) data = NULL;
  g_autofree char *mime_type = NULL;
  g_autoptr(GMimeContentType) type = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeDataWrapper) content = NULL;
  gconstpointer bytes;
  gsize size;
  GMimePart *part;

  if (!load_attachment (attachment, &data, &mime_type, error))
    return NULL;
  if (g_ascii_strcasecmp (mime_type, "message/rfc822") == 0)
    return message_attachment (data, attachment->filename, error);

  type = g_mime_content_type_parse (NULL, mime_type);
  part = g_mime_part_new_with_type (g_mime_content_type_get_media_type (type),
                                    g_mime_content_type_get_media_subtype (type));
  bytes = g_bytes_get_data (data, &size);
  stream = g_mime_stream_mem_new_with_buffer (bytes, size);
  content = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, content);
  /* Sets Content-Disposition's filename and Content-Type's name; GMime
   * writes them in RFC 2231 form when they are not ASCII. */
  g_mime_part_set_filename (part, attachment->filename);
  g_mime_object_set_disposition (GMIME_OBJECT (part),
                                 attachment->content_id ? GMIME_DISPOSITION_INLINE
                                                        : GMIME_DISPOSITION_ATTACHMENT);
  parameters_in_utf8 (GMIME_OBJECT (part));
  if (attachment->content_id != NULL)
    g_mime_part_set_content_id (part, attachment->content_id);
  /* Base64 keeps the bytes as they are, line endings included. */
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  return GMIME_OBJECT (part);
}

static GMimeObject *
multipart (const char  *subtype,
           GMimeObject *first)
{
  GMimeMultipart *multipart = g_mime_multipart_new_with_subtype (subtype);

  g_mime_multipart_add (multipart, first);
  g_object_unref (first);
  return GMIME_OBJECT (multipart);
}

static gboolean
add_parts (GMimeObject  *multipart,
           GPtrArray    *attachments,
           GError      **error)
{
  for (guint i = 0; i < attachments->len; i++)
    {
      GMimeObject *part = attachment_part (g_ptr_array_index (attachments, i), error);

      if (part == NULL)
        return FALSE;
      g_mime_multipart_add (GMIME_MULTIPART (multipart), part);
      g_object_unref (part);
    }
  return TRUE;
}

/* The MIME tree of the body and attachments (see the header). */
static GMimeObject *
build_body (TernComposer  *self,
            GError       **error)
{
  g_autoptr(GMimeObject) body = text_part ("plain", self->body);
  g_autofree char *generated = NULL;
  const char *html_body = self->html_body;
  gboolean images_inline;
  g_autoptr(GPtrArray) attached = g_ptr_array_new ();

  if (html_body == NULL && self->html_from_text)
    html_body = generated = _tern_composer_text_to_html (self->body);
  images_inline = html_body != NULL && self->inline_images->len > 0;
  if (html_body != NULL)
    {
      GMimeObject *html = text_part ("html", html_body);

      if (images_inline)
        {
          html = multipart ("related", html);
          g_mime_object_set_content_type_parameter (html, "type", "text/html");
          if (!add_parts (html, self->inline_images, error))
            {
              g_object_unref (html);
              return NULL;
            }
        }
      body = multipart ("alternative", g_steal_pointer (&body));
      g_mime_multipart_add (GMIME_MULTIPART (body), html);
      g_object_unref (html);
    }

  g_ptr_array_extend (attached, self->attachments, NULL, NULL);
  if (!images_inline)
    g_ptr_array_extend (attached, self->inline_images, NULL, NULL);
  if (attached->len > 0)
    {
      body = multipart ("mixed", g_steal_pointer (&body));
      if (!add_parts (body, attached, error))
        return NULL;
    }
  return g_steal_pointer (&body);
}

static GMimeMessage *
build (TernComposer  *self,
       gboolean       draft,
       GError       **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeObject) body = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *references = NULL;
  GMimeObject *object;

  _tern_mail_ensure_gmime ();
  message = g_mime_message_new (TRUE);
  object = GMIME_OBJECT (message);
  if (!set_sender (self, message, &domain, error)
      || !set_reply_to (self, message, error)
      || !set_recipients (self, message, !draft, error))
    return NULL;
  body = build_body (self, error);
  if (body == NULL)
    return NULL;

  g_mime_message_set_subject (message, self->subject ? self->subject : "", "utf-8");
  now = g_date_time_new_now_local ();
  g_mime_message_set_date (message, now);
  message_id = g_mime_utils_generate_message_id (domain);
  g_mime_message_set_message_id (message, message_id);
  in_reply_to = bracket_ids (self->in_reply_to);
  if (in_reply_to != NULL)
    g_mime_object_set_header (object, "In-Reply-To", in_reply_to, NULL);
  references = bracket_ids (self->references);
  if (references != NULL)
    g_mime_object_set_header (object, "References", references, NULL);
  g_mime_object_set_header (object, "User-Agent", "Tern/" PACKAGE_VERSION, NULL);
  _tern_composer_encode_headers (message, self->subject);
  g_mime_message_set_mime_part (message, body);
  return g_steal_pointer (&message);
}

GMimeMessage *
tern_composer_build (TernComposer  *self,
                     GError       **error)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);

  return build (self, FALSE, error);
}

static GBytes *
to_bytes (TernComposer  *self,
          gboolean       draft,
          GError       **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeStream) memory = NULL;
  g_autoptr(GMimeStream) filtered = NULL;
  g_autoptr(GMimeFilter) crlf = NULL;
  GMimeFormatOptions *options;
  GByteArray *array;

  message = build (self, draft, error);
  if (message == NULL)
    return NULL;
  memory = g_mime_stream_mem_new ();
  /* GMime writes CRLF in headers and encoded parts with this option; the
   * filter also covers text GMime copies as it is. */
  filtered = g_mime_stream_filter_new (memory);
  crlf = g_mime_filter_unix2dos_new (FALSE);
  g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), crlf);
  options = g_mime_format_options_clone (NULL);
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  g_mime_object_write_to_stream (GMIME_OBJECT (message), options, filtered);
  g_mime_format_options_free (options);
  g_mime_stream_flush (filtered);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (memory));
  return g_bytes_new (array->data, array->len);
}

GBytes *
tern_composer_to_bytes (TernComposer  *self,
                        GError       **error)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);

  return to_bytes (self, FALSE, error);
}

GBytes *
tern_composer_to_draft_bytes (TernComposer  *self,
                              GError       **error)
{
  g_return_val_if_fail (TERN_IS_COMPOSER (self), NULL);

  return to_bytes (self, TRUE, error);
}
