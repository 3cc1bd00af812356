/* tern-wizard-manual-page.c: every server setting of a new account.
 *
 * The port follows the security choice (and the protocol) as long as the
 * user has not typed a port of their own: a port that is the default of
 * the previous choice is replaced by the default of the new one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-wizard"

#include "config.h"

#include "tern-wizard-manual-page.h"

#include <glib/gi18n.h>

#include "tern-app-error.h"

/* The security rows list these, in this order. */
static const TernTlsMode security_modes[] = {
  TERN_TLS_MODE_IMPLICIT,
  TERN_TLS_MODE_STARTTLS,
  TERN_TLS_MODE_PLAIN,
};

typedef struct
{
  AdwComboRow *protocol_row; /* NULL for the outgoing server */
  AdwEntryRow *host_row;
  AdwComboRow *security_row;
  GtkSpinButton *port;
  AdwEntryRow *username_row;
  guint16 default_port; /* of the current protocol and security */
} ServerForm;

struct _TernWizardManualPage
{
  AdwBin parent_instance;

  ServerForm incoming;
  ServerForm outgoing;
};

G_DEFINE_FINAL_TYPE (TernWizardManualPage, tern_wizard_manual_page, ADW_TYPE_BIN)

guint16
tern_wizard_default_port (TernAutoconfigProtocol protocol,
                          TernTlsMode            security)
{
  gboolean implicit = security == TERN_TLS_MODE_IMPLICIT;

  switch (protocol)
    {
    case TERN_AUTOCONFIG_PROTOCOL_IMAP:
      return implicit ? 993 : 143;
    case TERN_AUTOCONFIG_PROTOCOL_POP3:
      return implicit ? 995 : 110;
    case TERN_AUTOCONFIG_PROTOCOL_SMTP:
    default:
      return implicit ? 465 : 587;
    }
}

static TernAutoconfigProtocol
form_protocol (ServerForm *form)
{
  if (form->protocol_row == NULL)
    return TERN_AUTOCONFIG_PROTOCOL_SMTP;
  return adw_combo_row_get_selected (form->protocol_row) == 1 ? TERN_AUTOCONFIG_PROTOCOL_POP3
                                                               : TERN_AUTOCONFIG_PROTOCOL_IMAP;
}

static TernTlsMode
form_security (ServerForm *form)
{
  guint selected = adw_combo_row_get_selected (form->security_row);

  return selected < G_N_ELEMENTS (security_modes) ? security_modes[selected]
                                                  : TERN_TLS_MODE_IMPLICIT;
}

static void
select_security (ServerForm  *form,
                 TernTlsMode  security)
{
  for (guint i = 0; i < G_N_ELEMENTS (security_modes); i++)
    if (security_modes[i] == security)
      adw_combo_row_set_selected (form->security_row, i);
}

static void
update_port (ServerForm *form)
{
  guint16 port = (guint16) gtk_spin_button_get_value_as_int (form->port);
  guint16 new_default = tern_wizard_default_port (form_protocol (form), form_security (form));

  if (port == form->default_port || port == 0)
    gtk_spin_button_set_value (form->port, new_default);
  form->default_port = new_default;
}

static void
incoming_choice_changed_cb (TernWizardManualPage *self)
{
  update_port (&self->incoming);
}

static void
outgoing_choice_changed_cb (TernWizardManualPage *self)
{
  update_port (&self->outgoing);
}

static void
fill_form (ServerForm                 *form,
           const TernAutoconfigServer *server,
           TernAutoconfigProtocol      protocol)
{
  gboolean pop3 = server != NULL && server->protocol == TERN_AUTOCONFIG_PROTOCOL_POP3;

  if (form->protocol_row != NULL)
    adw_combo_row_set_selected (form->protocol_row, pop3 ? 1 : 0);
  select_security (form, server != NULL ? server->server->security : TERN_TLS_MODE_IMPLICIT);
  /* Set after the rows, whose changes would move a port of the old default. */
  form->default_port = tern_wizard_default_port (server != NULL ? server->protocol : protocol,
                                                 form_security (form));
  gtk_spin_button_set_value (form->port,
                             server != NULL ? server->server->port : form->default_port);
  gtk_editable_set_text (GTK_EDITABLE (form->host_row), server != NULL ? server->server->host : "");
  gtk_editable_set_text (GTK_EDITABLE (form->username_row),
                         server != NULL && server->server->username != NULL
                           ? server->server->username
                           : "");
}

void
tern_wizard_manual_page_set_servers (TernWizardManualPage       *self,
                                     const TernAutoconfigServer *incoming,
                                     const TernAutoconfigServer *outgoing)
{
  g_return_if_fail (TERN_IS_WIZARD_MANUAL_PAGE (self));

  fill_form (&self->incoming, incoming, TERN_AUTOCONFIG_PROTOCOL_IMAP);
  fill_form (&self->outgoing, outgoing, TERN_AUTOCONFIG_PROTOCOL_SMTP);
}

static TernAutoconfigServer *
dup_server (ServerForm  *form,
            const char  *missing_host,
            const char  *missing_username,
            GError     **error)
{
  g_autofree char *host =
    g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->host_row))));
  g_autofree char *username =
    g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (form->username_row))));
  TernAutoconfigServer *server;

  if (*host == '\0' || *username == '\0')
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           *host == '\0' ? missing_host : missing_username);
      return NULL;
    }
  /* A user name typed by hand is used as it is: as a template it has no
   * placeholder, so it expands to itself. */
  server = g_new0 (TernAutoconfigServer, 1);
  server->protocol = form_protocol (form);
  server->server = tern_server_new (host, (guint16) gtk_spin_button_get_value_as_int (form->port),
                                    form_security (form));
  server->server->username = g_strdup (username);
  server->username_template = g_steal_pointer (&username);
  server->auth = TERN_AUTOCONFIG_AUTH_PASSWORD;
  return server;
}

TernAutoconfigServer *
tern_wizard_manual_page_dup_incoming (TernWizardManualPage  *self,
                                      GError               **error)
{
  g_return_val_if_fail (TERN_IS_WIZARD_MANUAL_PAGE (self), NULL);

  return dup_server (&self->incoming, _("Enter the name of the incoming server."),
                     _("Enter the username of the incoming server."), error);
}

TernAutoconfigServer *
tern_wizard_manual_page_dup_outgoing (TernWizardManualPage  *self,
                                      GError               **error)
{
  g_return_val_if_fail (TERN_IS_WIZARD_MANUAL_PAGE (self), NULL);

  return dup_server (&self->outgoing, _("Enter the name of the outgoing server."),
                     _("Enter the username of the outgoing server."), error);
}

gboolean
tern_wizard_manual_page_is_insecure (TernWizardManualPage *self)
{
  g_return_val_if_fail (TERN_IS_WIZARD_MANUAL_PAGE (self), FALSE);

  return form_security (&self->incoming) == TERN_TLS_MODE_PLAIN
         || form_security (&self->outgoing) == TERN_TLS_MODE_PLAIN;
}

static void
tern_wizard_manual_page_class_init (TernWizardManualPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/ternmail/Tern/wizard/tern-wizard-manual-page.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "incoming_protocol_row", FALSE,
                                             G_STRUCT_OFFSET (TernWizardManualPage,
                                                              incoming.protocol_row));
#define BIND_FORM(form, field, name)                                                              \
  gtk_widget_class_bind_template_child_full (widget_class, name, FALSE,                           \
                                             G_STRUCT_OFFSET (TernWizardManualPage, form.field))
  BIND_FORM (incoming, host_row, "incoming_host_row");
  BIND_FORM (incoming, security_row, "incoming_security_row");
  BIND_FORM (incoming, port, "incoming_port");
  BIND_FORM (incoming, username_row, "incoming_username_row");
  BIND_FORM (outgoing, host_row, "outgoing_host_row");
  BIND_FORM (outgoing, security_row, "outgoing_security_row");
  BIND_FORM (outgoing, port, "outgoing_port");
  BIND_FORM (outgoing, username_row, "outgoing_username_row");
#undef BIND_FORM
}

static void
tern_wizard_manual_page_init (TernWizardManualPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->incoming.protocol_row, "notify::selected",
                            G_CALLBACK (incoming_choice_changed_cb), self);
  g_signal_connect_swapped (self->incoming.security_row, "notify::selected",
                            G_CALLBACK (incoming_choice_changed_cb), self);
  g_signal_connect_swapped (self->outgoing.security_row, "notify::selected",
                            G_CALLBACK (outgoing_choice_changed_cb), self);
  tern_wizard_manual_page_set_servers (self, NULL, NULL);
}

GtkWidget *
tern_wizard_manual_page_new (void)
{
  return g_object_new (TERN_TYPE_WIZARD_MANUAL_PAGE, NULL);
}
