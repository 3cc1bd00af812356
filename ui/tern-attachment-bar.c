/* tern-attachment-bar.c: one box per attachment: type icon, name, size,
 * Open and Save As.
 *
 * Open writes the attachment to a private directory and hands it to the
 * desktop's default application; a program or script is never opened from
 * a mail, only saved.  GTK 4.8 has neither GtkFileLauncher nor
 * GtkFileDialog (4.10), so Open goes through GIO and Save As through
 * GtkFileChooserNative.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-attachment-bar"

#include "config.h"

#include "tern-attachment-bar.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

struct _TernAttachmentBar
{
  AdwBin parent_instance;

  /* Template widgets */
  GtkLabel *summary_label;
  GtkFlowBox *flow_box;

  /* Owned references */
  TernMessageContent *content;
};

G_DEFINE_FINAL_TYPE (TernAttachmentBar, tern_attachment_bar, ADW_TYPE_BIN)

char *
tern_attachment_bar_safe_filename (const char *filename)
{
  g_autofree char *base = g_path_get_basename (filename != NULL ? filename : "");
  GString *safe = g_string_new (NULL);

  for (const char *p = base; *p != '\0'; p++)
    g_string_append_c (safe, (*p == '/' || *p == '\\' || (guchar) *p < 0x20) ? '_' : *p);
  /* No hidden files, no "." or "..". */
  while (safe->str[0] == '.')
    g_string_erase (safe, 0, 1);
  if (safe->len == 0)
    g_string_assign (safe, "attachment");
  return g_string_free (safe, FALSE);
}

GFile *
tern_attachment_bar_write_temporary (const TernMessageAttachment  *attachment,
                                     GError                      **error)
{
  g_autofree char *template = g_build_filename (g_get_user_runtime_dir (), "tern-XXXXXX", NULL);
  g_autofree char *dir = g_mkdtemp_full (template, 0700) ? g_strdup (template) : NULL;
  g_autofree char *name = tern_attachment_bar_safe_filename (attachment->filename);
  g_autofree char *path = NULL;
  gsize size;
  const char *data = g_bytes_get_data (attachment->data, &size);

  if (dir == NULL)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create a temporary folder for the attachment: %s"), g_strerror (saved));
      return NULL;
    }
  path = g_build_filename (dir, name, NULL);
  if (!g_file_set_contents_full (path, data != NULL ? data : "", size, G_FILE_SET_CONTENTS_NONE,
                                 0600, error))
    return NULL;
  return g_file_new_for_path (path);
}

static const TernMessageAttachment *
attachment_of (GtkWidget *button)
{
  return g_object_get_data (G_OBJECT (button), "tern-attachment");
}

static void
show_error (GtkWidget  *widget,
            const char *heading,
            const char *body)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
launched_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GtkWidget) button = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    show_error (button, _("Cannot Open the Attachment"), error->message);
}

static void
open_clicked_cb (GtkButton *button,
                 gpointer   user_data)
{
  const TernMessageAttachment *attachment = attachment_of (GTK_WIDGET (button));
  g_autofree char *type = g_content_type_from_mime_type (attachment->content_type);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;

  if (type != NULL && g_content_type_can_be_executable (type) &&
      !g_content_type_is_a (type, "text/plain"))
    {
      show_error (GTK_WIDGET (button), _("Cannot Open the Attachment"),
                  _("This attachment is a program or script. Programs from mail are not run; "
                    "save it with Save As if you trust the sender."));
      return;
    }
  file = tern_attachment_bar_write_temporary (attachment, &error);
  if (file == NULL)
    {
      show_error (GTK_WIDGET (button), _("Cannot Open the Attachment"), error->message);
      return;
    }
  uri = g_file_get_uri (file);
  g_app_info_launch_default_for_uri_async (uri, NULL, NULL, launched_cb, g_object_ref (button));
}

void
tern_attachment_bar_save_async (const TernMessageAttachment *attachment,
                                GFile                       *file,
                                GAsyncReadyCallback          callback,
                                gpointer                     user_data)
{
  g_autoptr(GBytes) empty = NULL;
  GBytes *data = attachment->data;

  g_return_if_fail (G_IS_FILE (file));

  if (data == NULL)
    data = empty = g_bytes_new_static ("", 0);
  /* The bytes version refs @data for the write: the attachment belongs to
   * the message shown, which may change before the write ends. */
  g_file_replace_contents_bytes_async (file, data, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                       callback, user_data);
}

gboolean
tern_attachment_bar_save_finish (GFile         *file,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_file_replace_contents_finish (file, result, NULL, error);
}

static void
saved_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GtkWidget) button = user_data;
  g_autoptr(GError) error = NULL;

  if (!tern_attachment_bar_save_finish (G_FILE (source), result, &error))
    show_error (button, _("Cannot Save the Attachment"), error->message);
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  GtkWidget       *button)
{
  const TernMessageAttachment *attachment = attachment_of (button);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      tern_attachment_bar_save_async (attachment, file, saved_cb, g_object_ref (button));
    }
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_unref (dialog);
  g_object_unref (button);
}

static void
save_clicked_cb (GtkButton *button,
                 gpointer   user_data)
{
  const TernMessageAttachment *attachment = attachment_of (GTK_WIDGET (button));
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  g_autofree char *name = tern_attachment_bar_safe_filename (attachment->filename);
  GtkFileChooserNative *dialog;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  dialog = gtk_file_chooser_native_new (_("Save Attachment"),
                                        GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  G_GNUC_END_IGNORE_DEPRECATIONS
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (save_response_cb), g_object_ref (button));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static GtkWidget *
action_button (const char                  *icon,
               const char                  *tooltip,
               const TernMessageAttachment *attachment,
               GCallback                    callback)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data (G_OBJECT (button), "tern-attachment", (gpointer) attachment);
  g_signal_connect (button, "clicked", callback, NULL);
  return button;
}

static GtkWidget *
attachment_box (const TernMessageAttachment *attachment)
{
  g_autofree char *type = g_content_type_from_mime_type (attachment->content_type);
  g_autoptr(GIcon) icon = g_content_type_get_icon (type != NULL ? type : "application/octet-stream");
  g_autofree char *size = g_format_size (g_bytes_get_size (attachment->data));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name = gtk_label_new (attachment->filename);
  GtkWidget *size_label = gtk_label_new (size);
  GtkWidget *image = gtk_image_new_from_gicon (icon);

  gtk_image_set_icon_size (GTK_IMAGE (image), GTK_ICON_SIZE_LARGE);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 28);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_widget_set_tooltip_text (name, attachment->filename);
  gtk_label_set_xalign (GTK_LABEL (size_label), 0);
  gtk_widget_add_css_class (size_label, "caption");
  gtk_widget_add_css_class (size_label, "dim-label");
  gtk_box_append (GTK_BOX (labels), name);
  gtk_box_append (GTK_BOX (labels), size_label);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), image);
  gtk_box_append (GTK_BOX (box), labels);
  gtk_box_append (GTK_BOX (box), action_button ("document-open-symbolic", _("Open"), attachment,
                                                G_CALLBACK (open_clicked_cb)));
  gtk_box_append (GTK_BOX (box), action_button ("document-save-as-symbolic", _("Save As…"), attachment,
                                                G_CALLBACK (save_clicked_cb)));
  gtk_widget_add_css_class (box, "card");
  gtk_widget_add_css_class (box, "tern-attachment");
  return box;
}

/* An inline image the HTML body shows (<img src="cid:...">) is part of
 * the text, not something to open or save. */
static gboolean
is_shown_in_body (TernMessageContent          *content,
                  const TernMessageAttachment *attachment)
{
  const char *html = tern_message_content_get_html (content);
  g_autofree char *uri = NULL;

  if (attachment->content_id == NULL || html == NULL)
    return FALSE;
  uri = g_strconcat ("cid:", attachment->content_id, NULL);
  return strstr (html, uri) != NULL;
}

void
tern_attachment_bar_set_content (TernAttachmentBar  *self,
                                 TernMessageContent *content)
{
  GPtrArray *attachments;
  GtkWidget *child;
  guint64 total = 0;
  guint shown = 0;
  g_autofree char *total_text = NULL;
  g_autofree char *summary = NULL;

  g_return_if_fail (TERN_IS_ATTACHMENT_BAR (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->flow_box))) != NULL)
    gtk_flow_box_remove (self->flow_box, child);
  g_set_object (&self->content, content);
  attachments = content != NULL ? tern_message_content_get_attachments (content) : NULL;
  for (guint i = 0; attachments != NULL && i < attachments->len; i++)
    {
      const TernMessageAttachment *attachment = g_ptr_array_index (attachments, i);

      if (is_shown_in_body (content, attachment))
        continue;
      total += g_bytes_get_size (attachment->data);
      shown++;
      gtk_flow_box_append (self->flow_box, attachment_box (attachment));
    }
  gtk_widget_set_visible (GTK_WIDGET (self), shown > 0);
  if (shown == 0)
    return;
  total_text = g_format_size (total);
  /* TRANSLATORS: "3 attachments, 1.2 MB" */
  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u attachment, %s", "%u attachments, %s",
                                          shown),
                             shown, total_text);
  gtk_label_set_text (self->summary_label, summary);
}

static void
tern_attachment_bar_dispose (GObject *object)
{
  TernAttachmentBar *self = TERN_ATTACHMENT_BAR (object);

  g_clear_object (&self->content);

  G_OBJECT_CLASS (tern_attachment_bar_parent_class)->dispose (object);
}

static void
tern_attachment_bar_class_init (TernAttachmentBarClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = tern_attachment_bar_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-attachment-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, TernAttachmentBar, summary_label);
  gtk_widget_class_bind_template_child (widget_class, TernAttachmentBar, flow_box);
}

static void
tern_attachment_bar_init (TernAttachmentBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
tern_attachment_bar_new (void)
{
  return g_object_new (TERN_TYPE_ATTACHMENT_BAR, NULL);
}
