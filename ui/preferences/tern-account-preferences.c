/* tern-account-preferences.c
 *
 * Edits are saved together with Save, checked like the wizard checks a new
 * account (the same server form, the same confirmation before a server
 * that sends the password unencrypted).  The password is changed on its
 * own: it goes to the keyring at once and is never kept in a field longer
 * than that.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-preferences"

#include "config.h"

#include "tern-account-preferences.h"

#include <glib/gi18n.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
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
   * and address first. */
  page = ADW_PREFERENCES_PAGE (find_preferences_page (GTK_WIDGET (self->servers)));
  g_return_if_fail (page != NULL);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->status_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->account_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->confirm_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->signature_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->password_group));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (self->remove_group));
  box = gtk_widget_get_parent (self->account_group);
  gtk_box_reorder_child_after (GTK_BOX (box), self->account_group, NULL);
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
