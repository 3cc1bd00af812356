/* tern-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-application"

#include "config.h"

#include <glib/gi18n.h>
#include <unistd.h>

#include "tern-account-wizard.h"
#include "tern-application.h"
#include "tern-composer-window.h"
#include "tern-demo.h"
#include "tern-mailto.h"
#include "tern-new-mail.h"
#include "tern-notifications.h"
#include "tern-preferences-window.h"
#include "tern-ui-resources.h"
#include "tern-window.h"

struct _TernApplication
{
  AdwApplication parent_instance;

  TernContext *context;
  GSettings *settings;
  GtkWindow *wizard; /* weak: the account wizard while it is open */
  GtkWindow *preferences; /* weak: the preferences while they are open */
  gboolean demo;     /* --demo: the demo servers and profile */
  TernNewMail *new_mail;
  TernNotifications *notifications;
};

G_DEFINE_FINAL_TYPE (TernApplication, tern_application, ADW_TYPE_APPLICATION)

void
tern_ui_register_resources (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      tern_ui_register_resource ();
      g_once_init_leave (&once, 1);
    }
}

/* Installed builds always have the schema; a build run from its tree
 * without GSETTINGS_SCHEMA_DIR does not, and should still start. */
static GSettings *
new_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APPLICATION_ID, TRUE);
  if (schema == NULL)
    {
      g_warning ("GSettings schema %s is not installed; settings will not be kept", APPLICATION_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

static void
show_startup_error (TernApplication *self,
                    GError          *error)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (NULL, _("Tern Cannot Open Your Mail"), error->message);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_set_application (GTK_WINDOW (dialog), GTK_APPLICATION (self));
  g_signal_connect_swapped (dialog, "response", G_CALLBACK (gtk_window_destroy), dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The main window's shortcuts with a modifier, Geary's where it has one
 * (gtk/help-overlay.ui lists them).  Single keys are the window's own
 * (tern-window-actions.c), so that a text field gets its letters first. */
static void
set_window_accels (TernApplication *self)
{
  static const struct
  {
    const char *action;
    const char *accels[3];
  } window_accels[] = {
    { "win.compose", { "<Control>n", NULL } },
    { "win.reply", { "<Control>r", NULL } },
    { "win.reply-all", { "<Control><Shift>r", NULL } },
    { "win.forward", { "<Control>l", NULL } },
    { "win.junk", { "<Control>j", NULL } },
    { "win.mark-read", { "<Control>i", NULL } },
    { "win.mark-unread", { "<Control>u", NULL } },
    { "win.select-all", { "<Control>a", NULL } },
    { "win.back", { "<Alt>Left", NULL } },
    { "win.sync-now", { "F5", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (window_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), window_accels[i].action,
                                           window_accels[i].accels);
}

/* app.work-offline: the setting itself when there is one, so that the
 * menu's check, the setting and the context follow each other. */
static void
work_offline_change_state (GSimpleAction *action,
                           GVariant      *state,
                           gpointer       user_data)
{
  TernApplication *self = TERN_APPLICATION (user_data);

  g_simple_action_set_state (action, state);
  if (self->context != NULL)
    tern_context_set_offline (self->context, g_variant_get_boolean (state));
}

static void
add_work_offline_action (TernApplication *self)
{
  g_autoptr(GAction) action = NULL;

  if (self->settings != NULL)
    action = g_settings_create_action (self->settings, "work-offline");
  else
    {
      action = G_ACTION (g_simple_action_new_stateful ("work-offline", NULL,
                                                       g_variant_new_boolean (FALSE)));
      g_signal_connect (action, "change-state", G_CALLBACK (work_offline_change_state), self);
    }
  g_action_map_add_action (G_ACTION_MAP (self), action);
}

static void
tern_application_startup (GApplication *app)
{
  TernApplication *self = TERN_APPLICATION (app);
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *preferences_accels[] = { "<Control>comma", NULL };

  tern_ui_register_resources ();
  G_APPLICATION_CLASS (tern_application_parent_class)->startup (app);
  self->settings = new_settings ();
  gtk_window_set_default_icon_name (APPLICATION_ID);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);
  set_window_accels (self);
  add_work_offline_action (self);
}

static gboolean
open_context (TernApplication  *self,
              GError          **error)
{
  g_autofree char *ca_file = NULL;

  /* The demo trusts its CA in its own context only: the user's ca-file
   * setting stays as it is.  The servers stop with us, even on a crash. */
  if (self->demo)
    {
      self->context = tern_demo_open (NULL, NULL, getpid (), NULL, error);
      return self->context != NULL;
    }

  self->context = tern_context_new (NULL, error);
  if (self->context == NULL)
    return FALSE;

  if (self->settings != NULL)
    {
      ca_file = g_settings_get_string (self->settings, "ca-file");
      tern_context_set_ca_file (self->context, ca_file);
      g_settings_bind (self->settings, "ca-file", self->context, "ca-file", G_SETTINGS_BIND_GET);
    }
  return TRUE;
}

/* The context, and what runs with it: new mail notifications and Work
 * Offline. */
static gboolean
ensure_context (TernApplication  *self,
                GError          **error)
{
  if (self->context != NULL)
    return TRUE;
  if (!open_context (self, error))
    return FALSE;
  self->new_mail = tern_new_mail_new (self->context);
  self->notifications = tern_notifications_new (GTK_APPLICATION (self), self->new_mail);
  if (self->settings != NULL)
    g_settings_bind (self->settings, "work-offline", self->context, "offline",
                     G_SETTINGS_BIND_GET);
  return TRUE;
}

/* One wizard at a time, modal to the main window. */
static void
open_wizard (TernApplication *self)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (self->wizard == NULL)
    {
      self->wizard = GTK_WINDOW (tern_account_wizard_new (parent, self->context));
      g_object_add_weak_pointer (G_OBJECT (self->wizard), (gpointer *) &self->wizard);
    }
  gtk_window_present (self->wizard);
}

static void
tern_application_activate (GApplication *app)
{
  TernApplication *self = TERN_APPLICATION (app);
  g_autoptr(GError) error = NULL;
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    {
      if (!ensure_context (self, &error))
        {
          show_startup_error (self, error);
          return;
        }
      window = GTK_WINDOW (tern_window_new (self, self->context, self->settings));
    }
  gtk_window_present (window);
  /* First start: nothing to show without an account. */
  if (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (self->context))) == 0)
    open_wizard (self);
}

static void
add_account_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernApplication *self = TERN_APPLICATION (user_data);
  g_autoptr(GError) error = NULL;

  if (!ensure_context (self, &error))
    {
      show_startup_error (self, error);
      return;
    }
  open_wizard (self);
}

/* "tern mailto:..." and the desktop file's %u: a composer for each link,
 * without the main window. */
static void
tern_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  TernApplication *self = TERN_APPLICATION (app);
  g_autoptr(GError) error = NULL;

  if (!ensure_context (self, &error))
    {
      show_startup_error (self, error);
      return;
    }
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (tern_mailto_is_mailto (uri))
        gtk_window_present (GTK_WINDOW (tern_composer_window_new_from_mailto (self, self->context,
                                                                              uri)));
      else
        g_warning ("Tern opens mailto: links only, not %s", uri);
    }
}

static void
compose_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  TernApplication *self = TERN_APPLICATION (user_data);
  g_autoptr(GError) error = NULL;

  if (!ensure_context (self, &error))
    {
      show_startup_error (self, error);
      return;
    }
  gtk_window_present (GTK_WINDOW (tern_composer_window_new (self, self->context, NULL)));
}

/* One preferences window at a time, like the wizard. */
static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernApplication *self = TERN_APPLICATION (user_data);
  g_autoptr(GError) error = NULL;

  if (!ensure_context (self, &error))
    {
      show_startup_error (self, error);
      return;
    }
  if (self->preferences == NULL)
    {
      GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

      self->preferences = GTK_WINDOW (tern_preferences_window_new (parent, self->context));
      g_object_add_weak_pointer (G_OBJECT (self->preferences), (gpointer *) &self->preferences);
    }
  gtk_window_present (self->preferences);
}

/* A notification's click: the window, showing the message. */
static void
show_message_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  TernApplication *self = TERN_APPLICATION (user_data);
  GtkWindow *window;

  g_application_activate (G_APPLICATION (self));
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (TERN_IS_WINDOW (window))
    tern_window_show_message (TERN_WINDOW (window), g_variant_get_int64 (parameter));
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated },
  { "compose", compose_activated },
  /* The desktop file's action, activated over D-Bus (DBusActivatable). */
  { "new-message", compose_activated },
  { "add-account", add_account_activated },
  { "show-message", show_message_activated, "x" },
  { "preferences", preferences_activated },
};

/* --demo: its own process, not a window of a Tern already running on the
 * user's profile. */
static int
tern_application_handle_local_options (GApplication *app,
                                       GVariantDict *options)
{
  TernApplication *self = TERN_APPLICATION (app);

  if (g_variant_dict_contains (options, "demo"))
    {
      self->demo = TRUE;
      g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
    }
  return -1;
}

static void
tern_application_shutdown (GApplication *app)
{
  TernApplication *self = TERN_APPLICATION (app);
  g_autoptr(GError) error = NULL;

  if (self->demo && self->context != NULL && !tern_demo_stop (NULL, &error))
    g_warning ("%s", error->message);
  G_APPLICATION_CLASS (tern_application_parent_class)->shutdown (app);
}

static void
tern_application_dispose (GObject *object)
{
  TernApplication *self = TERN_APPLICATION (object);

  if (self->wizard != NULL)
    gtk_window_destroy (self->wizard);
  if (self->preferences != NULL)
    gtk_window_destroy (self->preferences);
  g_clear_object (&self->notifications);
  g_clear_object (&self->new_mail);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (tern_application_parent_class)->dispose (object);
}

static void
tern_application_class_init (TernApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = tern_application_dispose;
  app_class->startup = tern_application_startup;
  app_class->activate = tern_application_activate;
  app_class->handle_local_options = tern_application_handle_local_options;
  app_class->shutdown = tern_application_shutdown;
  app_class->open = tern_application_open;
}

static void
tern_application_init (TernApplication *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
#if TERN_ENABLE_DEMO
  /* Built without it (-Ddemo=false, as in the Flatpak, whose sandbox cannot
   * run Dovecot and Postfix) the option does not exist at all. */
  g_application_add_main_option (G_APPLICATION (self), "demo", 0, G_OPTION_FLAG_NONE,
                                 G_OPTION_ARG_NONE,
                                 _("Try Tern on a demo mailbox served from this computer"), NULL);
#endif
}

TernApplication *
tern_application_new (void)
{
  return g_object_new (TERN_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/ternmail/Tern",
                       NULL);
}

TernContext *
tern_application_get_context (TernApplication *self)
{
  g_return_val_if_fail (TERN_IS_APPLICATION (self), NULL);
  return self->context;
}
