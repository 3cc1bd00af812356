/* tern-window.c
 *
 * For now the window lists the configured accounts; the three panes come
 * with the reading work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-window"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-window.h"

struct _TernWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  AdwWindowTitle *window_title;
  GtkStack *stack;
  GtkListBox *account_list;

  /* Owned references */
  TernContext *context;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (TernWindow, tern_window, ADW_TYPE_APPLICATION_WINDOW)

static char *
account_subtitle (TernAccount *account)
{
  const TernServer *incoming = tern_account_get_incoming (account);
  const char *protocol = tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3
                         ? "POP3" : "IMAP";

  /* TRANSLATORS: an account's address, its protocol and server, e.g.
   * "ann@example.org · IMAP imap.example.org". */
  return g_strdup_printf (_("%s · %s %s"), tern_account_get_address (account), protocol,
                          incoming->host);
}

static GtkWidget *
create_account_row (gpointer item,
                    gpointer user_data)
{
  TernAccount *account = item;
  g_autofree char *subtitle = account_subtitle (account);
  GtkWidget *row = adw_action_row_new ();

  g_object_bind_property (account, "display-name", row, "title", G_BINDING_SYNC_CREATE);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("mail-unread-symbolic"));
  return row;
}

static void
update_visible_page (TernWindow *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  guint n = g_list_model_get_n_items (accounts);
  g_autofree char *subtitle = NULL;

  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "accounts" : "empty");
  if (n > 0)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u account", "%u accounts", n), n);
  adw_window_title_set_subtitle (self->window_title, subtitle);
}

static void
accounts_changed_cb (TernWindow *self)
{
  update_visible_page (self);
}

static void
bind_window_state (TernWindow *self)
{
  if (self->settings == NULL)
    return;
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
}

static void
tern_window_dispose (GObject *object)
{
  TernWindow *self = TERN_WINDOW (object);

  if (self->context != NULL)
    g_signal_handlers_disconnect_by_data (tern_context_get_accounts (self->context), self);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (tern_window_parent_class)->dispose (object);
}

static void
tern_window_class_init (TernWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TernWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, account_list);
}

static void
tern_window_init (TernWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

TernWindow *
tern_window_new (TernApplication *application,
                 TernContext     *context,
                 GSettings       *settings)
{
  TernWindow *self;
  TernAccountManager *accounts;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_WINDOW, "application", application, NULL);
  self->context = g_object_ref (context);
  self->settings = settings ? g_object_ref (settings) : NULL;

  accounts = tern_context_get_accounts (context);
  gtk_list_box_bind_model (self->account_list, G_LIST_MODEL (accounts), create_account_row, self,
                           NULL);
  g_signal_connect_swapped (accounts, "items-changed", G_CALLBACK (accounts_changed_cb), self);
  update_visible_page (self);
  bind_window_state (self);
  return self;
}
