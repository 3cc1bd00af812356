/* tern-account-preferences.c
 *
 * Edits are saved together with Save, checked like the wizard checks a new
 * account (the same server form, the same confirmation before a server
 * that sends the password unencrypted).  The password is changed on its
 * own: it goes to the keyring at once and is never kept in a field longer
 * than that.  Identities too are saved on their own, as each dialog is
 * confirmed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-preferences"

#include "config.h"

#include "tern-account-preferences.h"

#include <glib/gi18n.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-identity.h"
#include "tern-wizard-manual-page.h"

struct _TernAccountPreferences
{
  GtkBox parent_instance;

  TernContext *context;
  TernAccount *account;

  AdwWindowTitle *title;
  GtkWidget *status_group;
  GtkLabel *status_label;
  GtkWidget *account_group;
  GtkWidget *confirm_group;
  GtkWidget *identities_group;
  GtkListBox *identity_list;
  GtkWidget *signature_group;
  GtkWidget *password_group;
  GtkWidget *remove_group;
  AdwEntryRow *name_row;
  AdwEntryRow *address_row;
  TernWizardManualPage *servers;
  GtkCheckButton *confirm_check;
  GtkTextView *signature_view;
  AdwPasswordEntryRow *password_row;
};

G_DEFINE_FINAL_TYPE (TernAccountPreferences, tern_account_preferences, GTK_TYPE_BOX)

static void
set_status (TernAccountPreferences *self,
            const char             *text,
            gboolean                is_error)
{
  gtk_label_set_text (self->status_label, text);
  gtk_widget_set_visible (self->status_group, text[0] != '\0');
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
close_page (TernAccountPreferences *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_close_subpage (ADW_PREFERENCES_WINDOW (root));
}

/* Loading */

static TernAutoconfigServer *
autoconfig_server (const TernServer       *server,
                   TernAutoconfigProtocol  protocol)
{
  TernAutoconfigServer *config;

  if (server == NULL)
    return NULL;
  config = g_new0 (TernAutoconfigServer, 1);
  config->protocol = protocol;
  config->server = tern_server_copy (server);
  config->auth = TERN_AUTOCONFIG_AUTH_PASSWORD;
  return config;
}

static void
load_signature (TernAccountPreferences *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *signature =
    tern_account_options_get_signature (tern_context_get_store (self->context),
                                        tern_account_get_id (self->account), &error);

  if (error != NULL)
    set_status (self, error->message, TRUE);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->signature_view),
                            signature != NULL ? signature : "", -1);
}

/* Identities */

static GtkWidget *
identity_row (TernIdentity *identity)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *from = tern_identity_dup_mailbox (identity);
  g_autofree char *subtitle = NULL;
  const char *reply_to = tern_identity_get_reply_to (identity);
  const char *address = tern_identity_get_address (identity);
  GtkWidget *edit = gtk_button_new_from_icon_name ("document-edit-symbolic");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), from);
  if (reply_to != NULL)
    /* TRANSLATORS: %s is the Reply-To address of an identity */
    subtitle = g_strdup_printf (_("Replies to %s"), reply_to);
  if (tern_identity_is_primary (identity))
    {
      g_autofree char *own = g_strdup (_("The account’s own address"));

      subtitle = subtitle != NULL ? g_strdup_printf ("%s · %s", own, subtitle)
                                  : g_steal_pointer (&own);
    }
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_tooltip_text (edit, _("Edit Identity"));
  gtk_widget_set_valign (edit, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (edit, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (edit), "account.edit-identity");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (edit), "s", address);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), edit);
  /* The account's own address goes only with the account. */
  if (!tern_identity_is_primary (identity))
    {
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

      gtk_widget_set_tooltip_text (remove, _("Remove Identity"));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "account.remove-identity");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", address);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
    }
  return row;
}

static void
load_identities (TernAccountPreferences *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) identities = NULL;
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->identity_list))) != NULL)
    gtk_list_box_remove (self->identity_list, row);
  identities = tern_identities_load (tern_context_get_store (self->context), self->account,
                                     &error);
  if (identities == NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  for (guint i = 0; i < g_list_model_get_n_items (identities); i++)
    {
      g_autoptr(TernIdentity) identity = g_list_model_get_item (identities, i);

      gtk_list_box_append (self->identity_list, identity_row (identity));
    }
}

static void
load_account (TernAccountPreferences *self)
{
  TernAccount *account = self->account;
  gboolean pop3 = tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3;
  g_autoptr(TernAutoconfigServer) incoming = NULL;
  g_autoptr(TernAutoconfigServer) outgoing = NULL;

  adw_window_title_set_title (self->title, tern_account_get_display_name (account));
  adw_window_title_set_subtitle (self->title, tern_account_get_address (account));
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), tern_account_get_display_name (account));
  gtk_editable_set_text (GTK_EDITABLE (self->address_row), tern_account_get_address (account));
  incoming = autoconfig_server (tern_account_get_incoming (account),
                                pop3 ? TERN_AUTOCONFIG_PROTOCOL_POP3
                                     : TERN_AUTOCONFIG_PROTOCOL_IMAP);
  outgoing = autoconfig_server (tern_account_get_outgoing (account), TERN_AUTOCONFIG_PROTOCOL_SMTP);
  tern_wizard_manual_page_set_servers (self->servers, incoming, outgoing);
  load_signature (self);
  load_identities (self);
}

/* Saving */

/* The form's server, with the SASL mechanism the account had when the
 * server stayed the same. */
static TernServer *
edited_server (TernAutoconfigServer *config,
               const TernServer     *old)
{
  TernServer *server = tern_server_copy (config->server);

  if (old != NULL && g_ascii_strcasecmp (old->host, server->host) == 0 && old->port == server->port)
    server->auth = g_strdup (old->auth);
  return server;
}

static TernAccount *
edited_account (TernAccountPreferences  *self,
                GError                 **error)
{
  g_autoptr(TernAutoconfigServer) incoming = NULL;
  g_autoptr(TernAutoconfigServer) outgoing = NULL;
  g_autoptr(TernServer) incoming_server = NULL;
  g_autoptr(TernServer) outgoing_server = NULL;
  g_autofree char *name =
    g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  g_autofree char *address =
    g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->address_row))));
  TernAccountProtocol protocol = tern_account_get_protocol (self->account);
  g_autoptr(GError) local_error = NULL;
  gboolean pop3;

  incoming = tern_wizard_manual_page_dup_incoming (self->servers, error);
  if (incoming == NULL)
    return NULL;
  pop3 = incoming->protocol == TERN_AUTOCONFIG_PROTOCOL_POP3;
  if (pop3 != (protocol == TERN_ACCOUNT_PROTOCOL_POP3))
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("An account cannot change between IMAP and POP3: add a new account "
                             "for the other protocol instead."));
      return NULL;
    }
  /* An account that had no outgoing server may go on without one. */
  outgoing = tern_wizard_manual_page_dup_outgoing (self->servers, &local_error);
  if (outgoing != NULL)
    outgoing_server = edited_server (outgoing, tern_account_get_outgoing (self->account));
  else if (tern_account_get_outgoing (self->account) != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  incoming_server = edited_server (incoming, tern_account_get_incoming (self->account));
  return tern_account_new (name[0] != '\0' ? name : address, address, protocol, incoming_server,
                           outgoing_server);
}

static void
save_signature (TernAccountPreferences  *self,
                GError                 **error)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->signature_view);
  GtkTextIter start, end;
  g_autofree char *signature = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  signature = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  tern_account_options_set_signature (tern_context_get_store (self->context),
                                      tern_account_get_id (self->account), signature, error);
}

static void
save_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (widget);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAccount) edited = edited_account (self, &error);

  if (edited == NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  if (tern_wizard_manual_page_is_insecure (self->servers)
      && !gtk_check_button_get_active (self->confirm_check))
    {
      gtk_widget_set_visible (self->confirm_group, TRUE);
      set_status (self, _("A server is set to send your password unencrypted. Choose TLS or "
                          "STARTTLS, or confirm that you want it that way."),
                  TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->confirm_check));
      return;
    }
  if (!tern_account_manager_update (tern_context_get_accounts (self->context), self->account,
                                    edited, &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }
  save_signature (self, &error);
  if (error != NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  load_account (self);
  set_status (self, _("Saved."), FALSE);
}

static void
change_password_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (widget);
  g_autoptr(GError) error = NULL;

  if (!tern_account_manager_set_password (tern_context_get_accounts (self->context), self->account,
                                          gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                                          NULL, &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }
  /* Not kept in the widget once it is in the keyring. */
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  set_status (self, _("The new password is in the keyring."), FALSE);
}

/* The identity dialog */

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static GtkWidget *
entry_row (GtkWidget  *list,
           const char *name,
           const char *title,
           const char *text)
{
  GtkWidget *row = adw_entry_row_new ();

  gtk_widget_set_name (row, name);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (row), text != NULL ? text : "");
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return row;
}

static void
identity_response_cb (AdwMessageDialog       *dialog,
                      const char             *response,
                      TernAccountPreferences *self)
{
  TernIdentity *edited = g_object_get_data (G_OBJECT (dialog), "identity");
  GtkEditable *name = g_object_get_data (G_OBJECT (dialog), "name");
  GtkEditable *address = g_object_get_data (G_OBJECT (dialog), "address");
  GtkEditable *reply_to = g_object_get_data (G_OBJECT (dialog), "reply-to");
  GtkTextView *signature_view = g_object_get_data (G_OBJECT (dialog), "signature");
  g_autoptr(TernIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *signature = NULL;

  if (!g_str_equal (response, "save"))
    return;
  if (edited != NULL && tern_identity_is_primary (edited))
    identity = g_object_ref (edited);
  else
    {
      identity = tern_identity_new (self->account, gtk_editable_get_text (name),
                                    gtk_editable_get_text (address));
      signature = buffer_text (gtk_text_view_get_buffer (signature_view));
      tern_identity_set_signature (identity, signature);
    }
  tern_identity_set_reply_to (identity, gtk_editable_get_text (reply_to));
  if (!tern_identities_save (tern_context_get_store (self->context), identity,
                             edited != NULL ? tern_identity_get_address (edited) : NULL, &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }
  load_identities (self);
  set_status (self, _("Saved."), FALSE);
}

/* Asks for an identity's name, address, Reply-To and signature: a new one
 * when @identity is NULL.  The account's own has only its Reply-To here
 * (its name, address and signature are the account's, above). */
static void
show_identity_dialog (TernAccountPreferences *self,
                      TernIdentity           *identity)
{
  gboolean primary = identity != NULL && tern_identity_is_primary (identity);
  GtkWidget *dialog;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *name, *address, *reply_to;
  GtkWidget *frame, *view, *label;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   identity != NULL ? _("Edit Identity") : _("Add Identity"),
                                   _("Messages from this identity go through the account’s "
                                     "outgoing server."));
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  name = entry_row (list, "identity-name", _("_Name"),
                    identity ? tern_identity_get_display_name (identity) : NULL);
  address = entry_row (list, "identity-address", _("_Email Address"),
                       identity ? tern_identity_get_address (identity) : NULL);
  reply_to = entry_row (list, "identity-reply-to", _("_Reply-To (optional)"),
                        identity ? tern_identity_get_reply_to (identity) : NULL);
  gtk_widget_set_sensitive (name, !primary);
  gtk_widget_set_sensitive (address, !primary);
  gtk_box_append (GTK_BOX (box), list);

  label = gtk_label_new (_("Signature (empty: the account’s)"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  view = gtk_text_view_new ();
  gtk_widget_set_name (view, "identity-signature");
  gtk_widget_set_size_request (view, -1, 80);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Signature"), -1);
  if (identity != NULL && tern_identity_get_signature (identity) != NULL)
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)),
                              tern_identity_get_signature (identity), -1);
  frame = gtk_frame_new (NULL);
  gtk_frame_set_child (GTK_FRAME (frame), view);
  gtk_widget_set_visible (label, !primary);
  gtk_widget_set_visible (frame, !primary);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), frame);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);

  if (identity != NULL)
    g_object_set_data_full (G_OBJECT (dialog), "identity", g_object_ref (identity),
                            g_object_unref);
  g_object_set_data (G_OBJECT (dialog), "name", name);
  g_object_set_data (G_OBJECT (dialog), "address", address);
  g_object_set_data (G_OBJECT (dialog), "reply-to", reply_to);
  g_object_set_data (G_OBJECT (dialog), "signature", view);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "save", _("_Save"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (identity_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (primary ? reply_to : name);
}

static void
add_identity_activated (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  show_identity_dialog (TERN_ACCOUNT_PREFERENCES (widget), NULL);
}

static void
edit_identity_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (widget);
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) identities = NULL;
  g_autoptr(TernIdentity) identity = NULL;

  identities = tern_identities_load (tern_context_get_store (self->context), self->account,
                                     &error);
  if (identities == NULL)
    {
      set_status (self, error->message, TRUE);
      return;
    }
  identity = tern_identities_find (identities, g_variant_get_string (parameter, NULL));
  if (identity != NULL)
    show_identity_dialog (self, identity);
}

static void
remove_identity_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (widget);
  g_autoptr(GError) error = NULL;

  if (!tern_identities_remove (tern_context_get_store (self->context), self->account,
                               g_variant_get_string (parameter, NULL), &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }
  load_identities (self);
  set_status (self, "", FALSE);
}

/* Removing */

static void
removed_cb (GObject      *source_object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TernAccountPreferences) self = user_data;
  g_autoptr(GError) error = NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self), TRUE);
  if (!tern_account_manager_remove_finish (TERN_ACCOUNT_MANAGER (source_object), result, &error))
    {
      set_status (self, error->message, TRUE);
      return;
    }
  set_status (self, _("The account was removed."), FALSE);
  close_page (self);
}

static void
remove_response_cb (AdwMessageDialog       *dialog,
                    const char             *response,
                    TernAccountPreferences *self)
{
  if (!g_str_equal (response, "remove"))
    return;
  /* Deleting a large cache takes a while: not on the UI's thread, and
   * nothing to edit on the page meanwhile. */
  gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
  set_status (self, _("Removing the account…"), FALSE);
  tern_account_manager_remove_async (tern_context_get_accounts (self->context), self->account,
                                     NULL, removed_cb, g_object_ref (self));
}

static void
remove_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (widget);
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Remove the Account?"), NULL);
  adw_message_dialog_format_body (
    ADW_MESSAGE_DIALOG (dialog),
    /* Translators: %s is an email address. */
    _("The mail of %s that Tern keeps on this computer, the messages waiting in its Outbox and "
      "its password in the keyring are deleted. The mail on the server stays."),
    tern_account_get_address (self->account));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
back_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  close_page (TERN_ACCOUNT_PREFERENCES (widget));
}

/* GObject */

static void
tern_account_preferences_dispose (GObject *object)
{
  TernAccountPreferences *self = TERN_ACCOUNT_PREFERENCES (object);

  g_clear_object (&self->context);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (tern_account_preferences_parent_class)->dispose (object);
}

static void
tern_account_preferences_class_init (TernAccountPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_account_preferences_dispose;

  g_type_ensure (TERN_TYPE_WIZARD_MANUAL_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/preferences/"
                                               "tern-account-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, title);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, status_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, status_label);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, account_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, confirm_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, identities_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, identity_list);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, signature_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, password_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, remove_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, name_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, address_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, servers);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, confirm_check);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, signature_view);
  gtk_widget_class_bind_template_child (widget_class, TernAccountPreferences, password_row);

  gtk_widget_class_install_action (widget_class, "account.save", NULL, save_activated);
  gtk_widget_class_install_action (widget_class, "account.change-password", NULL,
                                   change_password_activated);
  gtk_widget_class_install_action (widget_class, "account.remove", NULL, remove_activated);
  gtk_widget_class_install_action (widget_class, "account.add-identity", NULL,
                                   add_identity_activated);
  gtk_widget_class_install_action (widget_class, "account.edit-identity", "s",
                                   edit_identity_activated);
  gtk_widget_class_install_action (widget_class, "account.remove-identity", "s",
                                   remove_identity_activated);
  gtk_widget_class_install_action (widget_class, "account.back", NULL, back_activated);
}

static GtkWidget *
find_preferences_page (GtkWidget *widget)
{
  if (ADW_IS_PREFERENCES_PAGE (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_preferences_page (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
tern_account_preferences_init (TernAccountPreferences *self)
{
  AdwPreferencesPage *page;
  GtkWidget *box;

  gtk_widget_init_template (GTK_WIDGET (self));
  /* One page that scrolls as a whole: the wizard's server form is a
   * preferences page, and the account's other groups join it, the name
   * and address first, then the other addresses it sends from. */
  page = ADW_PREFERENCES_PAGE (find_preferences_page (GTK_WIDGET (self->servers)));
  g_return_if_fail (page != NULL);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->status_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->account_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->confirm_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->identities_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->signature_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->password_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->remove_group));
  box = gtk_widget_get_parent (self->account_group);
  gtk_box_reorder_child_after (GTK_BOX (box), self->account_group, NULL);
  gtk_box_reorder_child_after (GTK_BOX (box), self->identities_group, self->account_group);
  gtk_box_reorder_child_after (GTK_BOX (box), self->status_group, NULL);
}

GtkWidget *
tern_account_preferences_new (TernContext *context,
                              TernAccount *account)
{
  TernAccountPreferences *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  self = g_object_new (TERN_TYPE_ACCOUNT_PREFERENCES, NULL);
  self->context = g_object_ref (context);
  self->account = g_object_ref (account);
  load_account (self);
  return GTK_WIDGET (self);
}

TernAccount *
tern_account_preferences_get_account (TernAccountPreferences *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_PREFERENCES (self), NULL);
  return self->account;
}

const char *
tern_account_preferences_get_status (TernAccountPreferences *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_PREFERENCES (self), NULL);
  return gtk_label_get_text (self->status_label);
}
