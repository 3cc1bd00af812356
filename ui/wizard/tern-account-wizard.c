/* tern-account-wizard.c: the account wizard.
 *
 * Pages: details (name, address, password) → progress (detection, with
 * what is being tried) → summary (the servers found, IMAP or POP3) or
 * manual (every field) → "Add Account" runs the login test of both
 * servers; a certificate that does not verify shows the certificate page,
 * a provider without password sign-in the oauth2 page.  Only a passing
 * test saves the account, with its password in the Secret Service through
 * the account manager.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-wizard"

#include "config.h"

#include "tern-account-wizard.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tern-app-error.h"
#include "tern-certificate-pins.h"
#include "tern-wizard-manual-page.h"

struct _TernAccountWizard
{
  AdwWindow parent_instance;

  /* Template widgets */
  GtkStack *stack;
  AdwEntryRow *name_row;
  AdwEntryRow *address_row;
  AdwPasswordEntryRow *password_row;
  GtkWidget *continue_button;
  GtkSpinner *progress_spinner;
  GtkLabel *progress_label;
  GtkListBox *attempts_list;
  GtkWidget *cancel_button;
  AdwPreferencesGroup *found_group;
  AdwComboRow *protocol_row;
  AdwActionRow *incoming_row;
  AdwActionRow *outgoing_row;
  GtkLabel *warning_label;
  GtkCheckButton *confirm_check;
  GtkLabel *password_hint_label;
  GtkLinkButton *help_button;
  GtkWidget *add_button;
  TernWizardManualPage *manual_page;
  GtkCheckButton *manual_confirm_check;
  GtkWidget *manual_add_button;
  AdwStatusPage *certificate_status;
  AdwActionRow *certificate_server_row;
  GtkLabel *certificate_details_label;
  GtkWidget *certificate_cancel_button;
  AdwStatusPage *oauth2_status;
  GtkLinkButton *oauth2_help_button;
  GtkWidget *oauth2_back_button;
  GtkWidget *status_box;
  GtkSpinner *busy_spinner;
  GtkLabel *status_label;

  /* Owned references */
  TernContext *context;
  TernAutoconfig *autoconfig;
  GCancellable *cancellable;        /* of the running detection or login test */
  TernAutoconfigConfig *config;     /* what detection found */
  TernAutoconfigServer *incoming;   /* what the login test runs on */
  TernAutoconfigServer *outgoing;
  TernLoginTest *certificate_test;  /* waiting for Trust or Cancel */
  GHashTable *attempt_rows;         /* attempt id → GtkLabel */

  /* Where the certificate page goes back to. */
  const char *return_page;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (TernAccountWizard, tern_account_wizard, ADW_TYPE_WINDOW)

/* Pages and the status line */

static void
update_actions (TernAccountWizard *self)
{
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "wizard.continue", !self->busy);
  gtk_widget_action_set_enabled (widget, "wizard.add", !self->busy);
  gtk_widget_action_set_enabled (widget, "wizard.edit-manually", !self->busy);
  gtk_widget_action_set_enabled (widget, "wizard.trust", !self->busy);
  gtk_widget_action_set_enabled (widget, "wizard.cancel-certificate", !self->busy);
}

/* @text in the line under the pages (NULL hides it), in red when it is
 * an @error; @busy shows a spinner and disables the actions that would
 * start something else meanwhile. */
static void
show_status (TernAccountWizard *self,
             const char        *text,
             gboolean           busy,
             gboolean           error)
{
  gtk_widget_set_visible (self->status_box, text != NULL);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->busy_spinner), busy);
  gtk_spinner_set_spinning (self->busy_spinner, busy);
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  self->busy = busy;
  update_actions (self);
}

static void
set_page (TernAccountWizard *self,
          const char        *name)
{
  GtkWidget *focus = NULL;
  GtkWidget *default_widget = NULL;

  gtk_stack_set_visible_child_name (self->stack, name);
  show_status (self, NULL, FALSE, FALSE);
  gtk_spinner_set_spinning (self->progress_spinner, g_str_equal (name, "progress"));

  if (g_str_equal (name, "details"))
    {
      /* The first field still empty; the password when coming back. */
      default_widget = self->continue_button;
      if (gtk_editable_get_text (GTK_EDITABLE (self->name_row))[0] == '\0')
        focus = GTK_WIDGET (self->name_row);
      else if (gtk_editable_get_text (GTK_EDITABLE (self->address_row))[0] == '\0')
        focus = GTK_WIDGET (self->address_row);
      else
        focus = GTK_WIDGET (self->password_row);
    }
  else if (g_str_equal (name, "progress"))
    focus = self->cancel_button;
  else if (g_str_equal (name, "summary"))
    default_widget = focus = self->add_button;
  else if (g_str_equal (name, "manual"))
    default_widget = self->manual_add_button;
  else if (g_str_equal (name, "certificate"))
    focus = self->certificate_cancel_button;
  else if (g_str_equal (name, "oauth2"))
    focus = self->oauth2_back_button;

  gtk_window_set_default_widget (GTK_WINDOW (self), default_widget);
  if (focus != NULL)
    gtk_widget_grab_focus (focus);
}

const char *
tern_account_wizard_get_page (TernAccountWizard *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WIZARD (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

static const char *
field_text (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

/* The domain of the address, for sentences about the provider. */
static const char *
provider_name (TernAccountWizard *self)
{
  const char *at = strrchr (field_text (self->address_row), '@');

  if (self->config != NULL && self->config->provider_name != NULL)
    return self->config->provider_name;
  return at != NULL ? at + 1 : field_text (self->address_row);
}

/* Detection's progress */

static const char *
result_describe (TernAutoconfigResult result)
{
  switch (result)
    {
    case TERN_AUTOCONFIG_RESULT_TRYING:
      return _("trying…");
    case TERN_AUTOCONFIG_RESULT_FOUND:
      return _("found");
    case TERN_AUTOCONFIG_RESULT_NOT_FOUND:
      return _("nothing there");
    case TERN_AUTOCONFIG_RESULT_INVALID:
      return _("unusable answer");
    case TERN_AUTOCONFIG_RESULT_FAILED:
      return _("failed");
    case TERN_AUTOCONFIG_RESULT_SKIPPED:
    default:
      return _("not needed");
    }
}

static char *
attempt_target (const TernAutoconfigAttempt *attempt)
{
  if (attempt->port != 0)
    return g_strdup_printf ("%s:%u", attempt->host, attempt->port);
  return g_strdup (attempt->host);
}

static void
attempt_cb (TernAccountWizard           *self,
            const TernAutoconfigAttempt *attempt)
{
  g_autofree char *target = attempt_target (attempt);
  g_autofree char *line = NULL;
  GtkWidget *label = g_hash_table_lookup (self->attempt_rows, GUINT_TO_POINTER (attempt->id));

  /* TRANSLATORS: "imap.example.org:993 (trying the usual server names):
   * found" */
  line = g_strdup_printf (_("%s (%s): %s"), target,
                          tern_autoconfig_source_describe (attempt->source),
                          result_describe (attempt->result));
  if (label == NULL)
    {
      label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_widget_add_css_class (label, "caption");
      gtk_widget_set_margin_top (label, 6);
      gtk_widget_set_margin_bottom (label, 6);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_list_box_append (self->attempts_list, label);
      g_hash_table_insert (self->attempt_rows, GUINT_TO_POINTER (attempt->id), label);
    }
  gtk_label_set_text (GTK_LABEL (label), line);
  gtk_widget_set_tooltip_text (label, attempt->message);

  if (attempt->result == TERN_AUTOCONFIG_RESULT_TRYING)
    {
      g_autofree char *now = g_strdup_printf (_("Trying %s (%s)"), target,
                                              tern_autoconfig_source_describe (attempt->source));

      gtk_label_set_text (self->progress_label, now);
    }
}

static void
clear_attempts (TernAccountWizard *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attempts_list))) != NULL)
    gtk_list_box_remove (self->attempts_list, child);
  g_hash_table_remove_all (self->attempt_rows);
  gtk_label_set_text (self->progress_label, "");
}

/* The summary */

static const char *
protocol_name (TernAutoconfigProtocol protocol)
{
  switch (protocol)
    {
    case TERN_AUTOCONFIG_PROTOCOL_IMAP:
      return "IMAP";
    case TERN_AUTOCONFIG_PROTOCOL_POP3:
      return "POP3";
    case TERN_AUTOCONFIG_PROTOCOL_SMTP:
    default:
      return "SMTP";
    }
}

static const char *
security_describe (TernTlsMode security)
{
  switch (security)
    {
    case TERN_TLS_MODE_IMPLICIT:
      return _("TLS");
    case TERN_TLS_MODE_STARTTLS:
      return _("STARTTLS");
    case TERN_TLS_MODE_PLAIN:
    default:
      return _("None: password and mail are sent unencrypted");
    }
}

/* One row per server: "imap.example.org:993" over "IMAP · TLS ·
 * alice@example.org". */
static void
show_server (const TernAutoconfigServer *server,
             AdwActionRow               *row)
{
  g_autofree char *where = NULL;
  g_autofree char *how = NULL;

  if (server == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("None found"));
      adw_action_row_set_subtitle (row, "");
      return;
    }
  where = g_strdup_printf ("%s:%u", server->server->host, server->server->port);
  /* TRANSLATORS: protocol, security and user name: "IMAP · TLS ·
   * alice@example.org" */
  how = g_strdup_printf (_("%s · %s · %s"), protocol_name (server->protocol),
                         security_describe (server->server->security), server->server->username);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), where);
  adw_action_row_set_subtitle (row, how);
}

/* The incoming server the user chose: IMAP or POP3 when both were found. */
static const TernAutoconfigServer *
chosen_incoming (TernAccountWizard *self)
{
  const TernAutoconfigServer *imap = tern_autoconfig_config_find (self->config,
                                                                  TERN_AUTOCONFIG_PROTOCOL_IMAP);
  const TernAutoconfigServer *pop3 = tern_autoconfig_config_find (self->config,
                                                                  TERN_AUTOCONFIG_PROTOCOL_POP3);

  if (imap != NULL && pop3 != NULL)
    return adw_combo_row_get_selected (self->protocol_row) == 1 ? pop3 : imap;
  return imap != NULL ? imap : pop3;
}

static const TernAutoconfigServer *
found_outgoing (TernAccountWizard *self)
{
  return self->config->outgoing->len > 0 ? g_ptr_array_index (self->config->outgoing, 0) : NULL;
}

static void
protocol_changed_cb (TernAccountWizard *self)
{
  if (self->config != NULL)
    show_server (chosen_incoming (self), self->incoming_row);
}

static void
show_summary (TernAccountWizard *self)
{
  const TernAutoconfigConfig *config = self->config;
  g_autofree char *origin = NULL;
  g_autoptr(GString) warning = g_string_new (NULL);
  gboolean both = tern_autoconfig_config_find (config, TERN_AUTOCONFIG_PROTOCOL_IMAP) != NULL
                  && tern_autoconfig_config_find (config, TERN_AUTOCONFIG_PROTOCOL_POP3) != NULL;

  /* TRANSLATORS: where the settings came from: "Found in Tern’s provider
   * list (gmail.xml)." */
  origin = g_strdup_printf (_("Found in %s (%s)."),
                            tern_autoconfig_source_describe (config->source),
                            config->origin != NULL ? config->origin : provider_name (self));
  adw_preferences_group_set_description (self->found_group, origin);
  if (config->provider_name != NULL)
    adw_preferences_group_set_title (self->found_group, config->provider_name);
  else
    adw_preferences_group_set_title (self->found_group, _("Servers Found"));

  gtk_widget_set_visible (GTK_WIDGET (self->protocol_row), both);
  adw_combo_row_set_selected (self->protocol_row, 0);
  protocol_changed_cb (self);
  show_server (found_outgoing (self), self->outgoing_row);

  if (config->untrusted)
    g_string_append (warning, _("These settings came over unencrypted HTTP, so anyone on the way "
                                "could have changed them. Check them with your provider before "
                                "you use them."));
  if (config->insecure)
    g_string_append_printf (warning, "%s%s", warning->len > 0 ? " " : "",
                            _("A server sends your password and mail unencrypted, so others "
                              "on the network can read them."));
  gtk_label_set_text (self->warning_label, warning->str);
  gtk_widget_set_visible (GTK_WIDGET (self->warning_label), warning->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->confirm_check), warning->len > 0);
  gtk_check_button_set_active (self->confirm_check, FALSE);

  if (config->password_kind == TERN_AUTOCONFIG_PASSWORD_APP)
    {
      g_autofree char *hint = g_strdup_printf (
        _("%s does not accept your normal password from mail programs. Make an app password on "
          "its web site and enter that as the password."),
        provider_name (self));

      gtk_label_set_text (self->password_hint_label, hint);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->password_hint_label),
                          config->password_kind == TERN_AUTOCONFIG_PASSWORD_APP);
  gtk_widget_set_visible (GTK_WIDGET (self->help_button), config->help_url != NULL);
  if (config->help_url != NULL)
    gtk_link_button_set_uri (self->help_button, config->help_url);
  set_page (self, "summary");
}

static void
show_oauth2 (TernAccountWizard *self,
             const char        *reason)
{
  g_autofree char *text = g_strdup_printf (
    _("%s lets mail programs sign in only through its own web page (OAuth2), which Tern cannot "
      "do yet. If it offers app passwords, make one on its web site and use it as the password "
      "(Edit Manually keeps the servers found); otherwise read your mail on its web site for "
      "now."),
    provider_name (self));
  const char *help_url = self->config != NULL ? self->config->help_url : NULL;

  if (reason != NULL)
    {
      g_autofree char *with_reason = g_strdup_printf ("%s\n\n%s", reason, text);

      g_free (text);
      text = g_steal_pointer (&with_reason);
    }
  adw_status_page_set_description (self->oauth2_status, text);
  gtk_widget_set_visible (GTK_WIDGET (self->oauth2_help_button), help_url != NULL);
  if (help_url != NULL)
    gtk_link_button_set_uri (self->oauth2_help_button, help_url);
  set_page (self, "oauth2");
}

/* Detection */

static void
detect_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TernAccountWizard) self = user_data;
  g_autoptr(GError) error = NULL;
  TernAutoconfigConfig *config;

  config = tern_autoconfig_detect_finish (TERN_AUTOCONFIG (source), result, &error);
  /* Closed meanwhile. */
  if (self->context == NULL)
    {
      g_clear_pointer (&config, tern_autoconfig_config_free);
      return;
    }
  g_clear_object (&self->cancellable);

  if (config != NULL)
    {
      g_clear_pointer (&self->config, tern_autoconfig_config_free);
      self->config = config;
      if (config->password_kind == TERN_AUTOCONFIG_PASSWORD_OAUTH2)
        show_oauth2 (self, NULL);
      else
        show_summary (self);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_page (self, "details");
  else if (g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
    {
      const char *address = field_text (self->address_row);
      g_autoptr(TernAutoconfigConfig) guess = tern_autoconfig_guess (self->autoconfig, address);
      g_autofree char *text = NULL;

      const TernAutoconfigServer *incoming = NULL;
      const TernAutoconfigServer *outgoing = NULL;

      if (guess != NULL && guess->incoming->len > 0)
        incoming = g_ptr_array_index (guess->incoming, 0);
      if (guess != NULL && guess->outgoing->len > 0)
        outgoing = g_ptr_array_index (guess->outgoing, 0);
      tern_wizard_manual_page_set_servers (self->manual_page, incoming, outgoing);
      set_page (self, "manual");
      text = g_strdup_printf ("%s %s", error->message,
                              guess != NULL ? _("The settings below are only a guess: check "
                                                "them with your provider.")
                                            : _("Enter the settings from your provider."));
      show_status (self, text, FALSE, FALSE);
    }
  else
    {
      set_page (self, "details");
      show_status (self, error->message, FALSE, TRUE);
    }
}

static void
continue_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);
  g_autofree char *address = g_strstrip (g_strdup (field_text (self->address_row)));
  g_autofree char *name = g_strstrip (g_strdup (field_text (self->name_row)));
  const char *problem = NULL;

  if (name[0] == '\0')
    problem = _("Enter your name: people see it on the mail you send.");
  else if (address[0] == '\0')
    problem = _("Enter your email address.");
  else if (field_text (ADW_ENTRY_ROW (self->password_row))[0] == '\0')
    problem = _("Enter your password: Tern keeps it in your keyring.");
  if (problem != NULL)
    {
      show_status (self, problem, FALSE, TRUE);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->address_row), address);
  g_clear_pointer (&self->config, tern_autoconfig_config_free);
  clear_attempts (self);
  set_page (self, "progress");
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  tern_autoconfig_detect_async (self->autoconfig, address, self->cancellable, detect_done_cb,
                                g_object_ref (self));
}

static void
cancel_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);

  g_cancellable_cancel (self->cancellable);
}

/* The login test and saving */

static char *
server_label (const TernAutoconfigServer *server)
{
  return g_strdup_printf ("%s:%u", server->server->host, server->server->port);
}

static void
save_account (TernAccountWizard   *self,
              const TernLoginTest *test)
{
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strstrip (g_strdup (field_text (self->name_row)));

  account = tern_autoconfig_make_account (name, field_text (self->address_row), self->incoming,
                                          self->outgoing, test);
  if (!tern_account_validate (account, &error)
      || !tern_account_manager_add (tern_context_get_accounts (self->context), account,
                                    field_text (ADW_ENTRY_ROW (self->password_row)), NULL,
                                    &error))
    {
      show_status (self, error->message, FALSE, TRUE);
      return;
    }
  g_debug ("Added account %s", tern_account_get_uuid (account));
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_certificate (TernAccountWizard *self,
                  TernLoginTest     *test)
{
  gboolean ipv6 = strchr (test->cert_host, ':') != NULL;
  g_autofree char *where = g_strdup_printf ("%s%s%s:%u", ipv6 ? "[" : "", test->cert_host,
                                            ipv6 ? "]" : "", test->cert_port);

  adw_status_page_set_description (self->certificate_status, test->message);
  adw_action_row_set_subtitle (self->certificate_server_row, where);
  gtk_label_set_text (self->certificate_details_label, test->cert_description);
  g_clear_pointer (&self->certificate_test, tern_login_test_free);
  self->certificate_test = test;
  self->return_page = tern_account_wizard_get_page (self);
  set_page (self, "certificate");
}

static void
login_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TernAccountWizard) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernLoginTest) test = NULL;
  g_autofree char *text = NULL;

  test = tern_autoconfig_test_login_finish (TERN_AUTOCONFIG (source), result, &error);
  if (self->context == NULL)
    return;
  g_clear_object (&self->cancellable);
  if (test == NULL)
    {
      /* Cancelled by Back: nothing to say. */
      show_status (self, NULL, FALSE, FALSE);
      return;
    }

  switch (test->status)
    {
    case TERN_LOGIN_TEST_OK:
      save_account (self, test);
      return;
    case TERN_LOGIN_TEST_CERTIFICATE:
      show_status (self, NULL, FALSE, FALSE);
      show_certificate (self, g_steal_pointer (&test));
      return;
    case TERN_LOGIN_TEST_NEEDS_OAUTH2:
      show_oauth2 (self, test->message);
      return;
    case TERN_LOGIN_TEST_WRONG_PASSWORD:
    case TERN_LOGIN_TEST_UNREACHABLE:
    case TERN_LOGIN_TEST_FAILED:
    default:
      break;
    }

  /* The engine's message names the server and says why; this says
   * which of the two steps it was. */
  if (test->step == TERN_LOGIN_TEST_STEP_INCOMING)
    text = g_strdup_printf (_("Signing in to the incoming server failed. %s"), test->message);
  else
    text = g_strdup_printf (_("The incoming server accepted the sign-in, but the outgoing "
                              "server did not. %s"),
                            test->message);
  show_status (self, text, FALSE, TRUE);
}

static void
run_login_test (TernAccountWizard *self)
{
  g_autofree char *where = server_label (self->incoming);
  g_autofree char *text = g_strdup_printf (_("Signing in to %s…"), where);

  show_status (self, text, TRUE, FALSE);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  tern_autoconfig_test_login_async (self->autoconfig, self->context, field_text (self->address_row),
                                    field_text (ADW_ENTRY_ROW (self->password_row)), self->incoming,
                                    self->outgoing, self->cancellable, login_done_cb,
                                    g_object_ref (self));
}

/* The servers of the summary; FALSE with a message on the status line. */
static gboolean
take_summary_servers (TernAccountWizard *self)
{
  const TernAutoconfigServer *outgoing = found_outgoing (self);

  if (outgoing == NULL)
    {
      show_status (self, _("No outgoing server was found. Use Edit Manually to enter it."), FALSE,
                   TRUE);
      return FALSE;
    }
  if ((self->config->untrusted || self->config->insecure)
      && !gtk_check_button_get_active (self->confirm_check))
    {
      show_status (self, _("Confirm that you want to use these servers despite the warning, or "
                           "edit them manually."),
                   FALSE, TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->confirm_check));
      return FALSE;
    }
  g_clear_pointer (&self->incoming, tern_autoconfig_server_free);
  g_clear_pointer (&self->outgoing, tern_autoconfig_server_free);
  self->incoming = tern_autoconfig_server_copy (chosen_incoming (self));
  self->outgoing = tern_autoconfig_server_copy (outgoing);
  return TRUE;
}

static gboolean
take_manual_servers (TernAccountWizard *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAutoconfigServer) incoming = NULL;
  g_autoptr(TernAutoconfigServer) outgoing = NULL;

  incoming = tern_wizard_manual_page_dup_incoming (self->manual_page, &error);
  if (incoming != NULL)
    outgoing = tern_wizard_manual_page_dup_outgoing (self->manual_page, &error);
  if (outgoing == NULL)
    {
      show_status (self, error->message, FALSE, TRUE);
      return FALSE;
    }
  if (tern_wizard_manual_page_is_insecure (self->manual_page)
      && !gtk_check_button_get_active (self->manual_confirm_check))
    {
      gtk_widget_set_visible (GTK_WIDGET (self->manual_confirm_check), TRUE);
      show_status (self, _("A server is set to send your password unencrypted. Choose TLS or "
                           "STARTTLS, or confirm that you want it that way."),
                   FALSE, TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->manual_confirm_check));
      return FALSE;
    }
  g_clear_pointer (&self->incoming, tern_autoconfig_server_free);
  g_clear_pointer (&self->outgoing, tern_autoconfig_server_free);
  self->incoming = g_steal_pointer (&incoming);
  self->outgoing = g_steal_pointer (&outgoing);
  return TRUE;
}

static void
add_activated (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);
  const char *page = tern_account_wizard_get_page (self);
  gboolean ready;

  if (g_str_equal (page, "summary"))
    ready = take_summary_servers (self);
  else if (g_str_equal (page, "manual"))
    ready = take_manual_servers (self);
  else
    return;
  if (ready)
    run_login_test (self);
}

/* Certificates */

static void
trust_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);
  g_autoptr(TernLoginTest) test = g_steal_pointer (&self->certificate_test);
  g_autoptr(GError) error = NULL;

  if (test == NULL)
    return;
  set_page (self, self->return_page);
  if (!tern_certificate_pins_accept (tern_context_get_store (self->context), test->cert_host,
                                     test->cert_port, test->cert_fingerprint, &error))
    {
      show_status (self, error->message, FALSE, TRUE);
      return;
    }
  run_login_test (self);
}

static void
cancel_certificate_activated (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);

  g_clear_pointer (&self->certificate_test, tern_login_test_free);
  set_page (self, self->return_page);
  show_status (self, _("The certificate was not trusted, and nothing was saved."), FALSE, FALSE);
}

/* Moving between pages */

static void
edit_manually_activated (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);

  if (self->config != NULL)
    tern_wizard_manual_page_set_servers (self->manual_page, chosen_incoming (self),
                                         found_outgoing (self));
  gtk_widget_set_visible (GTK_WIDGET (self->manual_confirm_check), FALSE);
  gtk_check_button_set_active (self->manual_confirm_check, FALSE);
  set_page (self, "manual");
}

static void
back_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (widget);
  const char *page = tern_account_wizard_get_page (self);

  /* A login test still running is of no use any more. */
  g_cancellable_cancel (self->cancellable);
  if (g_str_equal (page, "manual") && self->config != NULL
      && self->config->password_kind != TERN_AUTOCONFIG_PASSWORD_OAUTH2)
    set_page (self, "summary");
  else
    set_page (self, "details");
}

/* Lifecycle */

static void
tern_account_wizard_dispose (GObject *object)
{
  TernAccountWizard *self = TERN_ACCOUNT_WIZARD (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->autoconfig != NULL)
    g_signal_handlers_disconnect_by_data (self->autoconfig, self);
  g_clear_object (&self->autoconfig);
  g_clear_object (&self->context);
  g_clear_pointer (&self->config, tern_autoconfig_config_free);
  g_clear_pointer (&self->incoming, tern_autoconfig_server_free);
  g_clear_pointer (&self->outgoing, tern_autoconfig_server_free);
  g_clear_pointer (&self->certificate_test, tern_login_test_free);
  g_clear_pointer (&self->attempt_rows, g_hash_table_unref);

  G_OBJECT_CLASS (tern_account_wizard_parent_class)->dispose (object);
}

static void
tern_account_wizard_class_init (TernAccountWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_account_wizard_dispose;

  g_type_ensure (TERN_TYPE_WIZARD_MANUAL_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/wizard/tern-account-wizard.ui");
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, stack);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, name_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, address_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, password_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, continue_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, progress_spinner);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, progress_label);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, attempts_list);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, found_group);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, protocol_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, incoming_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, outgoing_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, warning_label);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, confirm_check);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, password_hint_label);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, help_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, add_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, manual_page);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, manual_confirm_check);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, manual_add_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, certificate_status);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, certificate_server_row);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, certificate_details_label);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, certificate_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, oauth2_status);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, oauth2_help_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, oauth2_back_button);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, status_box);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, TernAccountWizard, status_label);

  gtk_widget_class_install_action (widget_class, "wizard.continue", NULL, continue_activated);
  gtk_widget_class_install_action (widget_class, "wizard.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "wizard.add", NULL, add_activated);
  gtk_widget_class_install_action (widget_class, "wizard.edit-manually", NULL,
                                   edit_manually_activated);
  gtk_widget_class_install_action (widget_class, "wizard.back", NULL, back_activated);
  gtk_widget_class_install_action (widget_class, "wizard.trust", NULL, trust_activated);
  gtk_widget_class_install_action (widget_class, "wizard.cancel-certificate", NULL,
                                   cancel_certificate_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tern_account_wizard_init (TernAccountWizard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->attempt_rows = g_hash_table_new (NULL, NULL);
  self->autoconfig = tern_autoconfig_new ();
  g_signal_connect_swapped (self->autoconfig, "attempt", G_CALLBACK (attempt_cb), self);
  g_signal_connect_swapped (self->protocol_row, "notify::selected",
                            G_CALLBACK (protocol_changed_cb), self);
  gtk_widget_set_visible (GTK_WIDGET (self->manual_confirm_check), FALSE);
  set_page (self, "details");
}

TernAccountWizard *
tern_account_wizard_new (GtkWindow   *parent,
                         TernContext *context)
{
  TernAccountWizard *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_ACCOUNT_WIZARD, "transient-for", parent,
                       "modal", parent != NULL, NULL);
  if (parent != NULL)
    gtk_window_set_application (GTK_WINDOW (self), gtk_window_get_application (parent));
  self->context = g_object_ref (context);
  tern_autoconfig_set_ca_file (self->autoconfig, tern_context_get_ca_file (context));
  return self;
}

TernAutoconfig *
tern_account_wizard_get_autoconfig (TernAccountWizard *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_WIZARD (self), NULL);

  return self->autoconfig;
}
