/* tern-preferences-window.c
 *
 * Settings that are Tern's are GSettings keys, bound to their rows; those
 * that are an account's live in the account's row (its page, and the days
 * downloaded ahead in accounts.options).  Lists (accounts, trusted senders,
 * certificates) are rebuilt whenever what they show changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-preferences"

#include "config.h"

#include "tern-preferences-window.h"

#include <glib/gi18n.h>

#include "tern-account-options.h"
#include "tern-account-preferences.h"
#include "tern-certificate-pins.h"

struct _TernPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  TernContext *context;
  GSettings *settings;

  GtkListBox *accounts_list;
  GtkSpinButton *check_spin;
  GtkListBox *prefetch_list;
  AdwComboRow *remote_row;
  GtkSpinButton *mark_read_spin;
  GtkListBox *trusted_list;
  AdwComboRow *format_row;
  AdwComboRow *quote_row;
  GtkListBox *pins_list;
  AdwActionRow *ca_row;
  GtkWidget *ca_clear_button;
};

G_DEFINE_FINAL_TYPE (TernPreferencesWindow, tern_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The remote-content choices, in the row's order. */
static const char *const remote_policies[] = { "never", "ask", "trusted" };

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static void
add_placeholder (GtkListBox *list,
                 const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_set_margin_top (label, 12);
  gtk_widget_set_margin_bottom (label, 12);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_list_box_set_placeholder (list, label);
}

static GtkWidget *
remove_button (const char *tooltip,
               const char *action,
               const char *target)
{
  GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", target);
  return button;
}

/* Accounts */

static void
account_row_activated_cb (AdwActionRow          *row,
                          TernPreferencesWindow *self)
{
  tern_preferences_window_show_account (self, g_object_get_data (G_OBJECT (row), "tern-account"));
}

static GtkWidget *
account_row (TernPreferencesWindow *self,
             TernAccount           *account)
{
  GtkWidget *row = adw_action_row_new ();

  g_object_bind_property (account, "display-name", row, "title", G_BINDING_SYNC_CREATE);
  g_object_bind_property (account, "address", row, "subtitle", G_BINDING_SYNC_CREATE);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "tern-account", g_object_ref (account), g_object_unref);
  g_signal_connect (row, "activated", G_CALLBACK (account_row_activated_cb), self);
  return row;
}

static void
prefetch_changed_cb (GtkSpinButton         *spin,
                     TernPreferencesWindow *self)
{
  TernAccount *account = g_object_get_data (G_OBJECT (spin), "tern-account");
  g_autoptr(GError) error = NULL;

  if (!tern_account_options_set_integer (tern_context_get_store (self->context),
                                         tern_account_get_id (account), TERN_ACCOUNT_OPTIONS_SYNC,
                                         TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS,
                                         gtk_spin_button_get_value_as_int (spin), &error))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error->message));
}

static GtkWidget *
prefetch_row (TernPreferencesWindow *self,
              TernAccount           *account)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 3650, 1);
  g_autoptr(GKeyFile) options = NULL;
  int days = TERN_ACCOUNT_OPTIONS_DEFAULT_PREFETCH_DAYS;

  options = tern_account_options_load (tern_context_get_store (self->context),
                                       tern_account_get_id (account), NULL);
  if (options != NULL)
    days = tern_account_options_get_integer (options, TERN_ACCOUNT_OPTIONS_SYNC,
                                             TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS, days);
  g_object_bind_property (account, "address", row, "title", G_BINDING_SYNC_CREATE);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Days; 0: none ahead"));
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), days);
  g_object_set_data_full (G_OBJECT (spin), "tern-account", g_object_ref (account), g_object_unref);
  g_signal_connect (spin, "value-changed", G_CALLBACK (prefetch_changed_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  return row;
}

static void
update_accounts (TernPreferencesWindow *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));

  clear_list (self->accounts_list);
  clear_list (self->prefetch_list);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      gtk_list_box_append (self->accounts_list, account_row (self, account));
      if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_IMAP)
        gtk_list_box_append (self->prefetch_list, prefetch_row (self, account));
    }
}

/* Reading */

static void
update_trusted (TernPreferencesWindow *self)
{
  g_auto(GStrv) senders = g_settings_get_strv (self->settings, "trusted-senders");

  clear_list (self->trusted_list);
  for (gsize i = 0; senders[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), senders[i]);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 remove_button (_("Stop Trusting This Sender"),
                                                "prefs.forget-sender", senders[i]));
      gtk_list_box_append (self->trusted_list, row);
    }
}

static void
forget_sender_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  TernPreferencesWindow *self = TERN_PREFERENCES_WINDOW (widget);
  const char *sender = g_variant_get_string (parameter, NULL);
  g_auto(GStrv) senders = g_settings_get_strv (self->settings, "trusted-senders");
  g_autoptr(GStrvBuilder) kept = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  for (gsize i = 0; senders[i] != NULL; i++)
    if (g_ascii_strcasecmp (senders[i], sender) != 0)
      g_strv_builder_add (kept, senders[i]);
  updated = g_strv_builder_end (kept);
  g_settings_set_strv (self->settings, "trusted-senders", (const char *const *) updated);
}

static gboolean
policy_to_selected (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *policy = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (remote_policies); i++)
    if (g_str_equal (policy, remote_policies[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
selected_to_policy (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (remote_policies))
    return NULL;
  return g_variant_new_string (remote_policies[selected]);
}

static gboolean
boolean_to_selected (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  g_value_set_uint (value, g_variant_get_boolean (variant) ? 1 : 0);
  return TRUE;
}

static GVariant *
selected_to_boolean (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  return g_variant_new_boolean (g_value_get_uint (value) == 1);
}

/* Security */

static void
update_pins (TernPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pins = tern_certificate_pins_list (tern_context_get_store (self->context),
                                                         &error);

  clear_list (self->pins_list);
  if (pins == NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error->message));
      return;
    }
  for (guint i = 0; i < pins->len; i++)
    {
      const TernCertificatePin *pin = g_ptr_array_index (pins, i);
      g_autofree char *title = g_strdup_printf ("%s:%u", pin->host, pin->port);
      /* Translators: %s is a certificate's SHA-256 fingerprint in hex. */
      g_autofree char *subtitle = g_strdup_printf (_("SHA-256 %s"), pin->fingerprint);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
      gtk_widget_add_css_class (row, "property");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 remove_button (_("Forget This Certificate"), "prefs.forget-pin",
                                                title));
      gtk_list_box_append (self->pins_list, row);
    }
}

static void
forget_pin_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  TernPreferencesWindow *self = TERN_PREFERENCES_WINDOW (widget);
  const char *host_port = g_variant_get_string (parameter, NULL);
  const char *colon = strrchr (host_port, ':');
  g_autofree char *host = NULL;
  guint64 port = 0;
  g_autoptr(GError) error = NULL;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
    return;
  host = g_strndup (host_port, colon - host_port);
  if (!tern_certificate_pins_forget (tern_context_get_store (self->context), host, (guint16) port,
                                     &error))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error->message));
  update_pins (self);
}

static void
update_ca_file (TernPreferencesWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "ca-file");

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->ca_row),
                               path[0] != '\0' ? path
                                               : _("None: the system’s certificate authorities only"));
  gtk_widget_set_visible (self->ca_clear_button, path[0] != '\0');
}

static void
ca_chooser_response_cb (GtkNativeDialog       *chooser,
                        int                    response,
                        TernPreferencesWindow *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    path = g_file_get_path (file);
  if (path != NULL)
    g_settings_set_string (self->settings, "ca-file", path);
  g_object_unref (chooser);
}

static void
choose_ca_file_activated (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  TernPreferencesWindow *self = TERN_PREFERENCES_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Choose a CA File"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("PEM certificates"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (ca_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
clear_ca_file_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  g_settings_set_string (TERN_PREFERENCES_WINDOW (widget)->settings, "ca-file", "");
}

/* GObject */

static void
tern_preferences_window_dispose (GObject *object)
{
  TernPreferencesWindow *self = TERN_PREFERENCES_WINDOW (object);

  if (self->context != NULL)
    g_signal_handlers_disconnect_by_data (tern_context_get_accounts (self->context), self);
  if (self->settings != NULL)
    {
      /* The bindings keep the settings object alive beyond us. */
      g_signal_handlers_disconnect_by_data (self->settings, self);
      g_settings_unbind (gtk_spin_button_get_adjustment (self->check_spin), "value");
      g_settings_unbind (gtk_spin_button_get_adjustment (self->mark_read_spin), "value");
      g_settings_unbind (self->remote_row, "selected");
      g_settings_unbind (self->format_row, "selected");
      g_settings_unbind (self->quote_row, "selected");
    }
  g_clear_object (&self->settings);
  g_clear_object (&self->context);

  G_OBJECT_CLASS (tern_preferences_window_parent_class)->dispose (object);
}

static void
tern_preferences_window_class_init (TernPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/preferences/"
                                               "tern-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, check_spin);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, prefetch_list);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, remote_row);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, mark_read_spin);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, trusted_list);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, format_row);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, quote_row);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, pins_list);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, ca_row);
  gtk_widget_class_bind_template_child (widget_class, TernPreferencesWindow, ca_clear_button);

  gtk_widget_class_install_action (widget_class, "prefs.forget-sender", "s",
                                   forget_sender_activated);
  gtk_widget_class_install_action (widget_class, "prefs.forget-pin", "s", forget_pin_activated);
  gtk_widget_class_install_action (widget_class, "prefs.choose-ca-file", NULL,
                                   choose_ca_file_activated);
  gtk_widget_class_install_action (widget_class, "prefs.clear-ca-file", NULL,
                                   clear_ca_file_activated);
}

static void
tern_preferences_window_init (TernPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  add_placeholder (self->accounts_list, _("No accounts yet"));
  add_placeholder (self->prefetch_list, _("No IMAP accounts"));
  add_placeholder (self->trusted_list, _("No trusted senders"));
  add_placeholder (self->pins_list, _("No certificates accepted by hand"));

  self->settings = g_settings_new (APPLICATION_ID);
  g_settings_bind (self->settings, "check-interval-minutes",
                   gtk_spin_button_get_adjustment (self->check_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "mark-read-seconds",
                   gtk_spin_button_get_adjustment (self->mark_read_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "remote-content", self->remote_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, policy_to_selected, selected_to_policy,
                                NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "compose-html", self->format_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, boolean_to_selected, selected_to_boolean,
                                NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "reply-above-quote", self->quote_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, boolean_to_selected, selected_to_boolean,
                                NULL, NULL);
  g_signal_connect_swapped (self->settings, "changed::trusted-senders",
                            G_CALLBACK (update_trusted), self);
  g_signal_connect_swapped (self->settings, "changed::ca-file", G_CALLBACK (update_ca_file), self);
  update_trusted (self);
  update_ca_file (self);
}

TernPreferencesWindow *
tern_preferences_window_new (GtkWindow   *parent,
                             TernContext *context)
{
  TernPreferencesWindow *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->context = g_object_ref (context);
  g_signal_connect_swapped (tern_context_get_accounts (context), "items-changed",
                            G_CALLBACK (update_accounts), self);
  update_accounts (self);
  update_pins (self);
  return self;
}

GtkWidget *
tern_preferences_window_show_account (TernPreferencesWindow *self,
                                      TernAccount           *account)
{
  GtkWidget *page;

  g_return_val_if_fail (TERN_IS_PREFERENCES_WINDOW (self), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  page = tern_account_preferences_new (self->context, account);
  adw_preferences_window_present_subpage (ADW_PREFERENCES_WINDOW (self), page);
  return page;
}
