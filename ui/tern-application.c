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
  /* While the profile opens (tern_context_new_async()): what waits for
   * it, and the window that says so when it takes long. */
  GPtrArray *waiting; /* Waiter */
  gboolean opening;
  guint preparing_id;
  GtkWindow *preparing; /* weak */
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

/* The profile's context, and what runs with it: new mail notifications
 * and Work Offline. */
static void
set_context (TernApplication *self,
             TernContext     *context)
{
  g_autofree char *ca_file = NULL;

  self->context = context;
  /* The demo trusts its CA in its own context only: the user's ca-file
   * setting stays as it is. */
  if (self->settings != NULL && !self->demo)
    {
      ca_file = g_settings_get_string (self->settings, "ca-file");
      tern_context_set_ca_file (self->context, ca_file);
      g_settings_bind (self->settings, "ca-file", self->context, "ca-file", G_SETTINGS_BIND_GET);
    }
  self->new_mail = tern_new_mail_new (self->context);
  self->notifications = tern_notifications_new (GTK_APPLICATION (self), self->new_mail);
  if (self->settings != NULL)
    g_settings_bind (self->settings, "work-offline", self->context, "offline",
                     G_SETTINGS_BIND_GET);
}

/* Opening the profile.  The store may need migrating first, which takes
 * seconds on a large profile: it opens on a worker, and what needs the
 * context waits for it in the main loop, so the UI never freezes.  A
 * window says "Preparing your mail…" when it takes longer than a glance. */

#define PREPARING_DELAY_MS 300

typedef void (*ContextReady) (TernApplication *self,
                              gpointer         data);

typedef struct
{
  ContextReady ready;
  gpointer data;
  GDestroyNotify destroy;
} Waiter;

static void
waiter_free (gpointer data)
{
  Waiter *waiter = data;

  if (waiter->destroy != NULL)
    waiter->destroy (waiter->data);
  g_free (waiter);
}

/* The user closed the preparing window: nothing is to open once the
 * profile is ready, and Tern quits then. */
static gboolean
preparing_close_cb (TernApplication *self)
{
  g_ptr_array_set_size (self->waiting, 0);
  return FALSE;
}

static void
show_preparing (TernApplication *self)
{
  GtkWidget *window = adw_application_window_new (GTK_APPLICATION (self));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *status = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *label = gtk_label_new (_("Preparing your mail…"));

  gtk_window_set_title (GTK_WINDOW (window), _("Tern"));
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_widget_set_size_request (spinner, 32, 32);
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_widget_add_css_class (label, "title-2");
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (status), spinner);
  gtk_box_append (GTK_BOX (status), label);
  gtk_widget_set_vexpand (status, TRUE);
  gtk_widget_set_valign (status, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), status);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);
  g_signal_connect_swapped (window, "close-request", G_CALLBACK (preparing_close_cb), self);

  self->preparing = GTK_WINDOW (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->preparing);
  gtk_window_present (self->preparing);
}

static gboolean
preparing_timeout_cb (gpointer user_data)
{
  TernApplication *self = user_data;

  self->preparing_id = 0;
  if (self->waiting->len > 0)
    show_preparing (self);
  return G_SOURCE_REMOVE;
}

/* The context is there (@context, or @error): what waited runs now. */
static void
context_opened (TernApplication *self,
                TernContext     *context,
                GError          *error)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&self->waiting);

  self->waiting = g_ptr_array_new_with_free_func (waiter_free);
  self->opening = FALSE;
  g_clear_handle_id (&self->preparing_id, g_source_remove);
  if (self->preparing != NULL)
    gtk_window_destroy (self->preparing);
  if (context == NULL)
    {
      /* Only one who waited says why, and only if anyone still does. */
      if (waiting->len > 0)
        show_startup_error (self, error);
      return;
    }
  set_context (self, context);
  for (guint i = 0; i < waiting->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (waiting, i);

      waiter->ready (self, waiter->data);
    }
}

static void
context_new_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TernApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  TernContext *context = tern_context_new_finish (result, &error);

  context_opened (self, context, error);
  g_application_release (G_APPLICATION (self));
}

static void
open_context (TernApplication *self)
{
  g_autoptr(GError) error = NULL;

  self->opening = TRUE;
  /* The demo's profile is new and small, made with its servers (which
   * stop with us, even on a crash): it opens here and now. */
  if (self->demo)
    {
      TernContext *context = tern_demo_open (NULL, NULL, getpid (), NULL, &error);

      context_opened (self, context, error);
      return;
    }
  g_application_hold (G_APPLICATION (self));
  self->preparing_id = g_timeout_add (PREPARING_DELAY_MS, preparing_timeout_cb, self);
  tern_context_new_async (NULL, NULL, context_new_cb, g_object_ref (self));
}

/* Runs @ready once the profile is open: now if it is. */
static void
with_context (TernApplication *self,
              ContextReady     ready,
              gpointer         data,
              GDestroyNotify   destroy)
{
  Waiter *waiter;

  if (self->context != NULL)
    {
      ready (self, data);
      if (destroy != NULL)
        destroy (data);
      return;
    }
  waiter = g_new0 (Waiter, 1);
  waiter->ready = ready;
  waiter->data = data;
  waiter->destroy = destroy;
  g_ptr_array_add (self->waiting, waiter);
  if (!self->opening)
    open_context (self);
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
activate_ready (TernApplication *self,
                gpointer         data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (tern_window_new (self, self->context, self->settings));
  gtk_window_present (window);
  /* First start: nothing to show without an account. */
  if (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (self->context))) == 0)
    open_wizard (self);
}

static void
tern_application_activate (GApplication *app)
{
  with_context (TERN_APPLICATION (app), activate_ready, NULL, NULL);
}

static void
add_account_ready (TernApplication *self,
                   gpointer         data)
{
  open_wizard (self);
}

static void
add_account_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  with_context (TERN_APPLICATION (user_data), add_account_ready, NULL, NULL);
}

/* "tern mailto:..." and the desktop file's %u: a composer for each link,
 * without the main window. */
static void
open_ready (TernApplication *self,
            gpointer         data)
{
  char **uris = data;

  for (guint i = 0; uris[i] != NULL; i++)
    {
      if (tern_mailto_is_mailto (uris[i]))
        gtk_window_present (GTK_WINDOW (tern_composer_window_new_from_mailto (self, self->context,
                                                                              uris[i])));
      else
        g_warning ("Tern opens mailto: links only, not %s", uris[i]);
    }
}

static void
tern_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  char **uris = g_new0 (char *, n_files + 1);

  for (int i = 0; i < n_files; i++)
    uris[i] = g_file_get_uri (files[i]);
  with_context (TERN_APPLICATION (app), open_ready, uris, (GDestroyNotify) g_strfreev);
}

static void
compose_ready (TernApplication *self,
               gpointer         data)
{
  gtk_window_present (GTK_WINDOW (tern_composer_window_new (self, self->context, NULL)));
}

static void
compose_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  with_context (TERN_APPLICATION (user_data), compose_ready, NULL, NULL);
}

/* One preferences window at a time, like the wizard. */
static void
preferences_ready (TernApplication *self,
                   gpointer         data)
{
  if (self->preferences == NULL)
    {
      GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

      self->preferences = GTK_WINDOW (tern_preferences_window_new (parent, self->context));
      g_object_add_weak_pointer (G_OBJECT (self->preferences), (gpointer *) &self->preferences);
    }
  gtk_window_present (self->preferences);
}

/* One preferences window at a time, like the wizard. */
static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  with_context (TERN_APPLICATION (user_data), preferences_ready, NULL, NULL);
}

static void
show_message_ready (TernApplication *self,
                    gpointer         data)
{
  GtkWindow *window;

  activate_ready (self, NULL);
  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (TERN_IS_WINDOW (window))
    tern_window_show_message (TERN_WINDOW (window), *(gint64 *) data);
}

/* A notification's click: the window, showing the message. */
static void
show_message_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  gint64 id = g_variant_get_int64 (parameter);

  with_context (TERN_APPLICATION (user_data), show_message_ready, g_memdup2 (&id, sizeof id),
                g_free);
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
  if (self->preparing != NULL)
    gtk_window_destroy (self->preparing);
  g_clear_handle_id (&self->preparing_id, g_source_remove);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
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
  self->waiting = g_ptr_array_new_with_free_func (waiter_free);
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
