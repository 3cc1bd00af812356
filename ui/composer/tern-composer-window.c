/* tern-composer-window.c: the window a message is written in.
 *
 * The fields are bound to a TernComposer (GBindingGroup, so a reply whose
 * message is still on its way gets its composer later): the composer is
 * the model the draft and the sent message are built from.  Attachments
 * come from the file chooser or a drop of files onto the window; the
 * window keeps their sizes for the list, the composer reads the files
 * when the message is built.
 *
 * Send builds the message, shows what is wrong inline (the field whose
 * addresses do not parse is marked), or puts it in the outbox, schedules
 * the account's flush, removes the draft and closes.  Drafts are in
 * tern-composer-window-drafts.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tern-body-fetch.h"
#include "tern-drafts.h"
#include "tern-mail-store.h"
#include "tern-mailto.h"
#include "tern-outbox.h"
#include "tern-composer-window-private.h"

G_DEFINE_FINAL_TYPE (TernComposerWindow, tern_composer_window, ADW_TYPE_APPLICATION_WINDOW)

void
_tern_composer_window_set_status (TernComposerWindow *self,
                                  const char         *text,
                                  gboolean            is_error)
{
  gtk_label_set_text (self->status_label, text);
  if (is_error)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "dim-label");
    }
}

TernAccount *
_tern_composer_window_lookup_account (TernComposerWindow *self,
                                      gint64              account_id)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, account_id);

  return tern_account_manager_lookup (tern_context_get_accounts (self->context), key);
}

/* From: every identity of every account */

static char *
identity_label (TernIdentity *identity)
{
  return identity != NULL ? tern_identity_dup_label (identity) : g_strdup ("");
}

/* The position of @account's identity @address in the From list; its
 * own address when it has no such identity (an alias removed since a
 * draft was saved); G_MAXUINT when the account has none. */
static guint
find_identity (TernComposerWindow *self,
               TernAccount        *account,
               const char         *address)
{
  GListModel *identities = G_LIST_MODEL (self->identities);
  guint primary = G_MAXUINT;

  for (guint i = 0; i < g_list_model_get_n_items (identities); i++)
    {
      g_autoptr(TernIdentity) item = g_list_model_get_item (identities, i);

      if (tern_identity_get_account (item) != account)
        continue;
      if (address != NULL && g_ascii_strcasecmp (tern_identity_get_address (item), address) == 0)
        return i;
      if (tern_identity_is_primary (item))
        primary = i;
    }
  return primary;
}

/* The address of "Name <address>", NULL when it is not one address. */
static char *
from_address (const char *from)
{
  InternetAddressList *list = from ? internet_address_list_parse (NULL, from) : NULL;
  InternetAddress *address;
  char *addr = NULL;

  if (list == NULL)
    return NULL;
  address = internet_address_list_length (list) == 1 ? internet_address_list_get_address (list, 0)
                                                     : NULL;
  if (address != NULL && INTERNET_ADDRESS_IS_MAILBOX (address))
    addr = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)));
  g_object_unref (list);
  return addr;
}

/* Selects the composer's identity in the From list: the one it has, else
 * the one of its account whose address is its From (a draft). */
static void
select_identity (TernComposerWindow *self)
{
  TernIdentity *identity = tern_composer_get_identity (self->composer);
  TernAccount *account = tern_composer_get_account (self->composer);
  g_autofree char *address = NULL;
  guint position;

  if (account == NULL)
    return;
  address = identity != NULL ? g_strdup (tern_identity_get_address (identity))
                             : from_address (tern_composer_get_from (self->composer));
  position = find_identity (self, account, address);
  if (position != G_MAXUINT)
    gtk_drop_down_set_selected (self->from_dropdown, position);
}

static void
from_selected_cb (TernComposerWindow *self)
{
  TernIdentity *identity = gtk_drop_down_get_selected_item (self->from_dropdown);

  if (self->composer == NULL || identity == NULL || self->loading_identities)
    return;
  if (tern_composer_get_identity (self->composer) == identity)
    return;
  tern_composer_set_identity (self->composer, identity);
  _tern_composer_window_update_signature (self);
}

/* Reads the identities of every account again (an account came, went or
 * changed), keeping the message's. */
static void
load_identities (TernComposerWindow *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(GListModel) identities =
        tern_identities_load (tern_context_get_store (self->context), account, &error);

      if (identities == NULL)
        {
          g_warning ("No identities of %s: %s", tern_account_get_address (account),
                     error->message);
          continue;
        }
      for (guint j = 0; j < g_list_model_get_n_items (identities); j++)
        g_ptr_array_add (all, g_list_model_get_item (identities, j));
    }
  self->loading_identities = TRUE;
  g_list_store_splice (self->identities, 0, g_list_model_get_n_items (G_LIST_MODEL (self->identities)),
                       all->pdata, all->len);
  if (self->composer != NULL)
    select_identity (self);
  self->loading_identities = FALSE;
  from_selected_cb (self);
}

/* Attachments */

static void remove_clicked_cb (GtkButton          *button,
                               TernComposerWindow *self);

/* What the message will weigh: attachments go base64 (4 bytes for 3, in
 * lines of 76 and CRLF), plus the text and room for the header. */
static guint64
estimated_size (TernComposerWindow *self)
{
  const char *body = tern_composer_get_body (self->composer);
  guint64 size = 4096 + (body != NULL ? strlen (body) : 0);

  for (guint i = 0; i < self->attachment_sizes->len; i++)
    {
      guint64 encoded = (g_array_index (self->attachment_sizes, guint64, i) + 2) / 3 * 4;

      size += encoded + encoded / 76 * 2 + 512;
    }
  return size;
}

/* The server refuses a message over its SIZE before taking any of it:
 * better to say so while the user can still remove an attachment. */
static void
update_size_warning (TernComposerWindow *self)
{
  gboolean too_big = self->composer != NULL && self->size_limit > 0
                     && estimated_size (self) > self->size_limit;

  if (too_big)
    {
      g_autofree char *limit = g_format_size (self->size_limit);
      g_autofree char *text = NULL;

      /* TRANSLATORS: %s is the largest size the server takes, "10.5 MB" */
      text = g_strdup_printf (_("This message is larger than the server accepts (%s): it will "
                                "not be sent. Remove attachments, or share large files by a "
                                "link."),
                              limit);
      gtk_label_set_text (self->size_label, text);
    }
  gtk_revealer_set_reveal_child (self->size_revealer, too_big);
}

/* The From account's server may take more, or less. */
static void
update_size_limit (TernComposerWindow *self)
{
  TernAccount *account = self->composer != NULL ? tern_composer_get_account (self->composer)
                                                : NULL;

  self->size_limit = account != NULL
                       ? tern_outbox_get_size_limit (tern_context_get_store (self->context),
                                                     tern_account_get_id (account))
                       : 0;
  update_size_warning (self);
}

static void
update_attachments (TernComposerWindow *self)
{
  guint n = self->composer != NULL ? tern_composer_get_n_attachments (self->composer) : 0;
  guint64 total = 0;
  GtkWidget *child;
  g_autofree char *total_text = NULL;
  g_autofree char *heading = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attachment_list))) != NULL)
    gtk_list_box_remove (self->attachment_list, child);
  for (guint i = 0; i < n; i++)
    {
      guint64 size = g_array_index (self->attachment_sizes, guint64, i);
      g_autofree char *size_text = g_format_size (size);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("edit-delete-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     tern_composer_get_attachment_name (self->composer, i));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      if (size > 0)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), size_text);
      gtk_widget_set_tooltip_text (remove, _("Remove Attachment"));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      g_object_set_data (G_OBJECT (remove), "index", GUINT_TO_POINTER (i));
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (self->attachment_list, row);
      total += size;
    }
  total_text = g_format_size (total);
  /* TRANSLATORS: %u attachments, %s their total size ("1.2 MB") */
  heading = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Attachment, %s",
                                          "%u Attachments, %s", n),
                             n, total_text);
  gtk_label_set_text (self->attachments_label, heading);
  gtk_revealer_set_reveal_child (self->attachments_revealer, n > 0);
  update_size_warning (self);
}

void
_tern_composer_window_track_attachment (TernComposerWindow *self,
                                        guint64             size)
{
  g_array_append_val (self->attachment_sizes, size);
  update_attachments (self);
}

static void
remove_clicked_cb (GtkButton          *button,
                   TernComposerWindow *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "index"));

  if (self->composer == NULL || index >= tern_composer_get_n_attachments (self->composer)
      || index >= self->attachment_sizes->len)
    return;
  tern_composer_remove_attachment (self->composer, index);
  g_array_remove_index (self->attachment_sizes, index);
  update_attachments (self);
  _tern_composer_window_changed (self);
}

gboolean
tern_composer_window_add_file (TernComposerWindow  *self,
                               GFile               *file,
                               GError             **error)
{
  g_autoptr(GFileInfo) info = NULL;
  guint64 size;

  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  if (self->composer == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           _("The message is still loading; attach the file once it shows."));
      return FALSE;
    }
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                            G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                            G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, NULL, error);
  if (info == NULL)
    return FALSE;
  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                   _("“%s” is a folder: attach the files in it instead."),
                   g_file_info_get_display_name (info));
      return FALSE;
    }
  size = g_file_info_get_size (info);
  tern_composer_add_attachment (self->composer, file, NULL);
  _tern_composer_window_track_attachment (self, size);
  _tern_composer_window_changed (self);
  return TRUE;
}

static void
add_files (TernComposerWindow *self,
           GSList             *files)
{
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autoptr(GError) error = NULL;

      if (!tern_composer_window_add_file (self, l->data, &error))
        _tern_composer_window_set_status (self, error->message, TRUE);
    }
}

static void
chooser_response_cb (GtkNativeDialog    *chooser,
                     int                 response,
                     TernComposerWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      GSList *list = NULL;

      for (guint i = g_list_model_get_n_items (files); i > 0; i--)
        list = g_slist_prepend (list, g_list_model_get_item (files, i - 1));
      add_files (self, list);
      g_slist_free_full (list, g_object_unref);
    }
  g_object_unref (chooser);
}

static void
attach_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  TernComposerWindow *self = TERN_COMPOSER_WINDOW (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Attach Files"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Attach"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
drop_cb (GtkDropTarget      *target,
         const GValue       *value,
         double              x,
         double              y,
         TernComposerWindow *self)
{
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  add_files (self, gdk_file_list_get_files (g_value_get_boxed (value)));
  return TRUE;
}

/* Binding the fields */

static gboolean
null_to_empty (GBinding     *binding,
               const GValue *from,
               GValue       *to,
               gpointer      user_data)
{
  const char *text = g_value_get_string (from);

  g_value_set_string (to, text != NULL ? text : "");
  return TRUE;
}

static gboolean
copy_string (GBinding     *binding,
             const GValue *from,
             GValue       *to,
             gpointer      user_data)
{
  g_value_copy (from, to);
  return TRUE;
}

static void
bind_text (TernComposerWindow *self,
           const char         *property,
           gpointer            target,
           const char         *target_property)
{
  g_binding_group_bind_full (self->bindings, property, target, target_property,
                             G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE, null_to_empty,
                             copy_string, NULL, NULL);
}

static void
clear_invalid (GtkWidget *entry)
{
  gtk_widget_remove_css_class (entry, "error");
}

static void
composer_notify_cb (TernComposer       *composer,
                    GParamSpec         *pspec,
                    TernComposerWindow *self)
{
  const char *subject = tern_composer_get_subject (composer);

  gtk_window_set_title (GTK_WINDOW (self),
                        subject != NULL && *subject != '\0' ? subject : _("New Message"));
  if (pspec == NULL || g_strcmp0 (pspec->name, "account") == 0)
    update_size_limit (self);
  /* An error was about what is being changed now. */
  if (gtk_widget_has_css_class (GTK_WIDGET (self->status_label), "error"))
    _tern_composer_window_set_status (self, "", FALSE);
  _tern_composer_window_changed (self);
}

void
_tern_composer_window_set_composer (TernComposerWindow *self,
                                    TernComposer       *composer)
{
  if (self->composer != NULL)
    g_signal_handlers_disconnect_by_data (self->composer, self);
  g_set_object (&self->composer, composer);
  _tern_composer_window_apply_preferences (self, composer);
  /* Sizes known for what a draft brought, unknown (0) for what a forward
   * did. */
  g_array_set_size (self->attachment_sizes, tern_composer_get_n_attachments (composer));
  g_binding_group_set_source (self->bindings, composer);
  if (tern_composer_get_account (composer) != NULL)
    {
      /* A draft keeps the Reply-To it was saved with. */
      g_autofree char *reply_to = g_strdup (tern_composer_get_reply_to (composer));

      self->loading_identities = TRUE;
      select_identity (self);
      self->loading_identities = FALSE;
      from_selected_cb (self);
      if (self->opened_draft_id != 0)
        tern_composer_set_reply_to (composer, reply_to);
    }
  else
    from_selected_cb (self);
  _tern_composer_window_update_signature (self);
  composer_notify_cb (composer, NULL, self);
  _tern_composer_window_set_status (self, "", FALSE);
  /* What the window opened with is saved already, or not worth a draft. */
  _tern_composer_window_cancel_save (self);
  self->changed = FALSE;
  g_signal_connect (composer, "notify", G_CALLBACK (composer_notify_cb), self);
  gtk_widget_set_sensitive (self->fields, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->body_view), TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.attach", TRUE);
  update_attachments (self);
}

/* Sending */

/* Marks the address field whose text does not parse, so that the error
 * below names what the user sees marked. */
static gboolean
mark_invalid_field (TernComposerWindow *self)
{
  TernAddressEntry *entries[] = { self->to_entry, self->cc_entry, self->bcc_entry };
  gboolean marked = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      GtkEntry *entry = tern_address_entry_get_entry (entries[i]);
      const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
      g_autoptr(TernComposer) probe = tern_composer_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (*text == '\0')
        continue;
      /* The composer's own parser decides, on this field alone. */
      tern_composer_set_from (probe, "probe@localhost");
      tern_composer_set_to (probe, text);
      bytes = tern_composer_to_bytes (probe, &error);
      if (bytes == NULL)
        {
          gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
          if (!marked)
            gtk_widget_grab_focus (GTK_WIDGET (entry));
          marked = TRUE;
        }
    }
  return marked;
}

static void
send_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TernComposerWindow *self = TERN_COMPOSER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  TernAccount *account;

  if (self->composer == NULL || self->sent)
    return;
  account = tern_composer_get_account (self->composer);
  if (account == NULL)
    {
      _tern_composer_window_set_status (
        self, _("There is no account to send from: add one in the main window first."), TRUE);
      return;
    }
  bytes = tern_composer_to_bytes (self->composer, &error);
  if (bytes == NULL)
    {
      mark_invalid_field (self);
      _tern_composer_window_set_status (self, error->message, TRUE);
      return;
    }
  if (tern_outbox_enqueue (tern_context_get_store (self->context), account, bytes, &error) == 0)
    {
      _tern_composer_window_set_status (self, error->message, TRUE);
      return;
    }
  /* Queued: from here on the message is the outbox's, and this window
   * neither sends it again nor saves it as a draft. */
  self->sent = TRUE;
  _tern_composer_window_cancel_save (self);
  tern_outbox_schedule (self->context, account);
  if (self->draft_id != 0
      && !tern_drafts_delete (self->context, account, self->draft_id, &error))
    g_warning ("The draft of a sent message stays in Drafts: %s", error->message);
  self->draft_id = 0;
  gtk_window_destroy (GTK_WINDOW (self));
}

/* Closing */

static gboolean
close_idle_cb (gpointer user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
  return G_SOURCE_REMOVE;
}

static void
close_response_cb (AdwMessageDialog   *dialog,
                   const char         *response,
                   TernComposerWindow *self)
{
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "save") == 0)
    {
      if (!tern_composer_window_save_draft (self, &error))
        {
          _tern_composer_window_set_status (self, error->message, TRUE);
          return;
        }
    }
  else if (g_strcmp0 (response, "discard") == 0)
    {
      /* A draft this window started goes; one it was opened on stays as
       * saved last. */
      if (self->draft_id != 0 && self->draft_id != self->opened_draft_id)
        {
          TernAccount *account = tern_composer_get_account (self->composer);

          if (!tern_drafts_delete (self->context, account, self->draft_id, &error))
            g_warning ("The discarded draft stays in Drafts: %s", error->message);
          _tern_composer_window_replay (self, account);
        }
    }
  else
    return;
  self->close_confirmed = TRUE;
  /* The dialog, transient for this window, finishes its response first. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, close_idle_cb, g_object_ref (self), g_object_unref);
}

static gboolean
tern_composer_window_close_request (GtkWindow *window)
{
  TernComposerWindow *self = TERN_COMPOSER_WINDOW (window);
  GtkWidget *dialog;

  if (self->sent || self->close_confirmed || !self->changed || self->composer == NULL)
    {
      _tern_composer_window_cancel_save (self);
      return GTK_WINDOW_CLASS (tern_composer_window_parent_class)->close_request (window);
    }
  dialog = adw_message_dialog_new (window, _("Save the Message as a Draft?"),
                                   _("Drafts are kept in the Drafts folder, to finish and "
                                     "send later."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "discard", _("_Discard"), "save", _("_Save Draft"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (close_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

/* The type */

static void
tern_composer_window_dispose (GObject *object)
{
  TernComposerWindow *self = TERN_COMPOSER_WINDOW (object);

  _tern_composer_window_cancel_save (self);
  g_cancellable_cancel (self->cancellable);
  if (self->composer != NULL)
    g_signal_handlers_disconnect_by_data (self->composer, self);
  if (self->bindings != NULL)
    g_binding_group_set_source (self->bindings, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TERN_TYPE_COMPOSER_WINDOW);

  G_OBJECT_CLASS (tern_composer_window_parent_class)->dispose (object);
}

static void
tern_composer_window_finalize (GObject *object)
{
  TernComposerWindow *self = TERN_COMPOSER_WINDOW (object);

  g_clear_object (&self->bindings);
  g_clear_object (&self->composer);
  g_clear_object (&self->identities);
  g_clear_object (&self->address_book);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->context);
  g_array_unref (self->attachment_sizes);

  G_OBJECT_CLASS (tern_composer_window_parent_class)->finalize (object);
}

static void
tern_composer_window_class_init (TernComposerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tern_composer_window_dispose;
  object_class->finalize = tern_composer_window_finalize;
  window_class->close_request = tern_composer_window_close_request;

  g_type_ensure (TERN_TYPE_ADDRESS_ENTRY);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/composer/tern-composer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, fields);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, from_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, to_entry);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, cc_entry);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, bcc_entry);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, body_view);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, attachments_revealer);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, attachments_label);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, attachment_list);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, size_revealer);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, size_label);
  gtk_widget_class_bind_template_child (widget_class, TernComposerWindow, status_label);

  gtk_widget_class_install_action (widget_class, "composer.send", NULL, send_activated);
  gtk_widget_class_install_action (widget_class, "composer.attach", NULL, attach_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tern_composer_window_init (TernComposerWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  TernAddressEntry *entries[3];

  gtk_widget_init_template (GTK_WIDGET (self));
  self->attachment_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  self->cancellable = g_cancellable_new ();
  self->bindings = g_binding_group_new ();
  entries[0] = self->to_entry;
  entries[1] = self->cc_entry;
  entries[2] = self->bcc_entry;
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    g_signal_connect_swapped (tern_address_entry_get_entry (entries[i]), "changed",
                              G_CALLBACK (clear_invalid),
                              tern_address_entry_get_entry (entries[i]));
  bind_text (self, "to", tern_address_entry_get_entry (self->to_entry), "text");
  bind_text (self, "cc", tern_address_entry_get_entry (self->cc_entry), "text");
  bind_text (self, "bcc", tern_address_entry_get_entry (self->bcc_entry), "text");
  bind_text (self, "subject", self->subject_entry, "text");
  bind_text (self, "body", gtk_text_view_get_buffer (self->body_view), "text");

  /* Ctrl+Return before the text view sees it as a line break. */
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (
    GTK_SHORTCUT_CONTROLLER (shortcuts),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>Return|<Control>KP_Enter"),
                      gtk_named_action_new ("composer.send")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* Nothing to edit until there is a composer (a reply loads first). */
  gtk_widget_set_sensitive (self->fields, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->body_view), FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.send", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "composer.attach", FALSE);
}

static TernComposerWindow *
new_window (TernApplication *application,
            TernContext     *context)
{
  TernComposerWindow *self = g_object_new (TERN_TYPE_COMPOSER_WINDOW,
                                           "application", application, NULL);
  g_autoptr(GError) error = NULL;
  GtkExpression *label;

  self->context = g_object_ref (context);
  label = gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 0, NULL, G_CALLBACK (identity_label),
                                       NULL, NULL);
  gtk_drop_down_set_expression (self->from_dropdown, label);
  gtk_expression_unref (label);
  self->identities = g_list_store_new (TERN_TYPE_IDENTITY);
  gtk_drop_down_set_model (self->from_dropdown, G_LIST_MODEL (self->identities));
  load_identities (self);
  g_signal_connect_object (tern_context_get_accounts (context), "items-changed",
                           G_CALLBACK (load_identities), self, G_CONNECT_SWAPPED);
  g_signal_connect_swapped (self->from_dropdown, "notify::selected",
                            G_CALLBACK (from_selected_cb), self);

  /* The people in the cache, read once per window. */
  self->address_book = tern_address_book_new ();
  if (!tern_address_book_load (self->address_book, tern_context_get_store (context), &error))
    g_warning ("No address completion: %s", error->message);
  tern_address_entry_set_address_book (self->to_entry, self->address_book);
  tern_address_entry_set_address_book (self->cc_entry, self->address_book);
  tern_address_entry_set_address_book (self->bcc_entry, self->address_book);
  return self;
}

static TernAccount *
first_account (TernContext *context)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (context));
  g_autoptr(TernAccount) account = g_list_model_get_item (accounts, 0);

  /* The manager keeps its accounts. */
  return account;
}

TernComposerWindow *
tern_composer_window_new (TernApplication *application,
                          TernContext     *context,
                          TernAccount     *account)
{
  TernComposerWindow *self;
  g_autoptr(TernComposer) composer = NULL;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = new_window (application, context);
  if (account == NULL)
    account = first_account (context);
  composer = account != NULL ? tern_composer_new_for_account (account) : tern_composer_new ();
  _tern_composer_window_set_composer (self, composer);
  return self;
}

TernComposerWindow *
tern_composer_window_new_from_mailto (TernApplication *application,
                                      TernContext     *context,
                                      const char      *uri)
{
  TernComposerWindow *self = tern_composer_window_new (application, context, NULL);
  g_autoptr(GError) error = NULL;

  if (!tern_mailto_apply (self->composer, uri, &error))
    _tern_composer_window_set_status (self, error->message, TRUE);
  /* Filled from the link, not typed: nothing to ask about on close. */
  self->changed = FALSE;
  _tern_composer_window_cancel_save (self);
  return self;
}

typedef struct
{
  TernComposerWindow *self; /* weak */
  TernReplyMode mode;
  gint64 account_id;
} ReplyData;

static void
reply_data_free (ReplyData *data)
{
  g_clear_weak_pointer (&data->self);
  g_free (data);
}

static void
start_reply (TernComposerWindow *self,
             gint64              account_id,
             TernReplyMode       mode,
             GBytes             *bytes)
{
  TernAccount *account = _tern_composer_window_lookup_account (self, account_id);
  GMimeMessage *message = _tern_composer_window_parse (bytes);
  g_autoptr(TernComposer) composer = NULL;
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(GError) error = NULL;

  if (message == NULL || account == NULL)
    {
      g_clear_object (&message);
      _tern_composer_window_set_status (
        self, _("The message cannot be answered: it is not a mail message Tern can read."), TRUE);
      return;
    }
  identities = tern_identities_load (tern_context_get_store (self->context), account, &error);
  if (identities == NULL)
    {
      g_object_unref (message);
      _tern_composer_window_set_status (self, error->message, TRUE);
      return;
    }
  composer = tern_composer_new_reply_from (identities, message, mode);
  g_object_unref (message);
  _tern_composer_window_set_composer (self, composer);
  gtk_widget_grab_focus (GTK_WIDGET (self->body_view));
}

static void
reply_fetched_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ReplyData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = tern_body_fetch_finish (TERN_CONTEXT (source), result, &error);

  if (data->self != NULL)
    {
      if (bytes == NULL)
        _tern_composer_window_set_status (data->self, error->message, TRUE);
      else
        start_reply (data->self, data->account_id, data->mode, bytes);
    }
  reply_data_free (data);
}

TernComposerWindow *
tern_composer_window_new_reply (TernApplication *application,
                                TernContext     *context,
                                gint64           message_id,
                                TernReplyMode    mode)
{
  TernComposerWindow *self;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  ReplyData *data;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = new_window (application, context);
  message = tern_mail_store_get_message (tern_context_get_store (context), message_id, &error);
  if (message == NULL)
    {
      _tern_composer_window_set_status (self, error->message, TRUE);
      return self;
    }
  _tern_composer_window_set_status (self, _("Loading the message…"), FALSE);
  data = g_new0 (ReplyData, 1);
  g_set_weak_pointer (&data->self, self);
  data->mode = mode;
  data->account_id = message->account_id;
  tern_body_fetch_async (context, message_id, self->cancellable, reply_fetched_cb, data);
  return self;
}

TernComposerWindow *
tern_composer_window_new_from_draft (TernApplication *application,
                                     TernContext     *context,
                                     gint64           message_id)
{
  TernComposerWindow *self;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TernComposer) composer = NULL;
  TernAccount *account;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = new_window (application, context);
  message = tern_mail_store_get_message (tern_context_get_store (context), message_id, &error);
  if (message != NULL)
    bytes = tern_drafts_load (context, message_id, &error);
  if (bytes == NULL)
    {
      _tern_composer_window_set_status (self, error->message, TRUE);
      return self;
    }
  account = _tern_composer_window_lookup_account (self, message->account_id);
  composer = _tern_composer_window_composer_from_draft (self, account, bytes);
  self->draft_id = message_id;
  self->opened_draft_id = message_id;
  _tern_composer_window_set_composer (self, composer);
  return self;
}

TernComposer *
tern_composer_window_get_composer (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), NULL);
  return self->composer;
}

gint64
tern_composer_window_get_draft_id (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), 0);
  return self->draft_id;
}

gboolean
tern_composer_window_get_ready (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), FALSE);
  return self->composer != NULL;
}

TernAddressEntry *
tern_composer_window_get_to_entry (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), NULL);
  return self->to_entry;
}

const char *
tern_composer_window_get_status (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), NULL);
  return gtk_label_get_text (self->status_label);
}

const char *
tern_composer_window_get_size_warning (TernComposerWindow *self)
{
  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), NULL);
  return gtk_revealer_get_reveal_child (self->size_revealer)
           ? gtk_label_get_text (self->size_label) : NULL;
}
