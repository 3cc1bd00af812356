/* test-notifications.c: new mail notifications and Work Offline in the
 * application, against the local Dovecot with mail delivered over LMTP
 * (tests/app/test-new-mail.c has the engine under LeakSanitizer).
 *
 * this process owns org.gtk.Notifications on its own
 * D-Bus session (tern-test-session), which is the backend GLib 2.74
 * chooses outside a sandbox when that name has an owner, and records what
 * GApplication sends.  A message delivered while Tern runs gives a
 * notification titled with its sender, whose action shows the message;
 * reading it withdraws the notification; five messages arriving at once
 * give one "5 new messages"; while offline the sidebar says so.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-application.h"
#include "tern-mail-store.h"
#include "tern-notifications.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

static TernTestServers *servers;
static char *password_files[2];

/* Waiting */

/* LMTP (RFC 2033), the way Postfix hands mail to Dovecot. */

static char *
lmtp_read (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line;

  for (;;)
    {
      line = g_data_input_stream_read_line (in, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (strlen (line) < 4 || line[3] != '-')
        return line;
      g_free (line);
    }
}

static void
lmtp_command (GDataInputStream *in,
              GOutputStream    *out,
              const char       *command,
              const char       *code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  if (command != NULL)
    {
      g_output_stream_write_all (out, command, strlen (command), NULL, NULL, &error);
      g_assert_no_error (error);
    }
  line = lmtp_read (in);
  if (!g_str_has_prefix (line, code))
    g_error ("LMTP: expected %s after %s, got %s", code, command, line);
}

/* Delivers a message from @from ("Name <address>") to test user @user. */
static void
deliver (guint       user,
         const char *from,
         const char *subject)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>\r\n",
                                           tern_test_servers_get_user (servers, user));
  g_autofree char *data = NULL;
  GOutputStream *out;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                tern_test_servers_get_port (servers,
                                                                            TERN_TEST_SERVICE_LMTP),
                                                NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  lmtp_command (in, out, NULL, "220");
  lmtp_command (in, out, "LHLO tern.test\r\n", "250");
  lmtp_command (in, out, "MAIL FROM:<>\r\n", "250");
  lmtp_command (in, out, rcpt, "250");
  lmtp_command (in, out, "DATA\r\n", "354");
  data = g_strdup_printf ("From: %s\r\n"
                          "To: <%s>\r\n"
                          "Subject: %s\r\n"
                          "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                          "\r\n"
                          "Just arrived.\r\n"
                          ".\r\n",
                          from, tern_test_servers_get_user (servers, user), subject);
  lmtp_command (in, out, data, "250");
  lmtp_command (in, out, "QUIT\r\n", "221");
}

/* Accounts */

static TernAccount *
add_account (TernContext *context,
             guint        user,
             const char  *host,
             guint16      port)
{
  g_autoptr(GError) error = NULL;
  const char *address = tern_test_servers_get_user (servers, user);
  g_autoptr(TernServer) server = tern_server_new (host, port, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_files[user]);

  server->username = g_strdup (address);
  account = tern_account_new (address, address, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&account);
}

static TernAccount *
add_dovecot_account (TernContext *context,
                     guint        user)
{
  return add_account (context, user, tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                      tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
}

/* What an account's row says of its last sync. */
static void
test_last_sync (void)
{
  const gint64 now = 1800000000;
  const struct
  {
    gint64 ago;
    const char *text;
  } cases[] = {
    { 0, "Synced just now" },
    { 59, "Synced just now" },
    { 60, "Synced 1 minute ago" },
    { 150, "Synced 2 minutes ago" },
    { 3600, "Synced 1 hour ago" },
    { 5 * 3600, "Synced 5 hours ago" },
    { 86400, "Synced 1 day ago" },
    { 3 * 86400, "Synced 3 days ago" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = tern_sidebar_describe_last_sync (now - cases[i].ago, now);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
  {
    g_autofree char *never = tern_sidebar_describe_last_sync (0, now);

    g_assert_cmpstr (never, ==, "Never synced");
  }
}

/* The application */

typedef struct
{
  char *method;
  char *id;
  char *title;
  char *body;
  char *action;
  gint64 target;
} Call;

static void
call_free (Call *call)
{
  g_free (call->method);
  g_free (call->id);
  g_free (call->title);
  g_free (call->body);
  g_free (call->action);
  g_free (call);
}

static GPtrArray *calls;

static void
notifications_method_cb (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *object_path,
                         const char            *interface_name,
                         const char            *method_name,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  Call *call = g_new0 (Call, 1);

  call->method = g_strdup (method_name);
  if (g_str_equal (method_name, "AddNotification"))
    {
      g_autoptr(GVariant) notification = NULL;
      g_autoptr(GVariant) target = NULL;

      g_variant_get (parameters, "(s&s@a{sv})", NULL, NULL, &notification);
      g_variant_get_child (parameters, 1, "s", &call->id);
      g_variant_lookup (notification, "title", "s", &call->title);
      g_variant_lookup (notification, "body", "s", &call->body);
      g_variant_lookup (notification, "default-action", "s", &call->action);
      target = g_variant_lookup_value (notification, "default-action-target", NULL);
      if (target != NULL && g_variant_is_of_type (target, G_VARIANT_TYPE_INT64))
        call->target = g_variant_get_int64 (target);
    }
  else
    g_variant_get_child (parameters, 1, "s", &call->id);
  g_ptr_array_add (calls, call);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static const char notifications_xml[] =
  "<node><interface name='org.gtk.Notifications'>"
  "<method name='AddNotification'><arg type='s'/><arg type='s'/><arg type='a{sv}'/></method>"
  "<method name='RemoveNotification'><arg type='s'/><arg type='s'/></method>"
  "</interface></node>";

/* The notification server, on a connection of its own. */
static GDBusConnection *
start_notification_server (void)
{
  static const GDBusInterfaceVTable vtable = { notifications_method_cb, NULL, NULL, { 0 } };
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GVariant) reply = NULL;
  GDBusConnection *connection;

  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
             | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  g_assert_no_error (error);
  info = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (connection, "/org/gtk/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.gtk.Notifications", 0),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  return connection;
}

static Call *
find_call (const char *method,
           const char *id)
{
  for (guint i = 0; i < calls->len; i++)
    {
      Call *call = calls->pdata[i];

      if (g_str_equal (call->method, method) && g_strcmp0 (call->id, id) == 0)
        return call;
    }
  return NULL;
}

static Call *
find_titled (const char *title)
{
  for (guint i = 0; i < calls->len; i++)
    {
      Call *call = calls->pdata[i];

      if (g_strcmp0 (call->title, title) == 0)
        return call;
    }
  return NULL;
}

static gboolean
has_titled (gpointer title)
{
  return find_titled (title) != NULL;
}

static gboolean
has_removal (gpointer id)
{
  return find_call ("RemoveNotification", id) != NULL;
}

static gboolean
first_sync_done (gpointer data)
{
  TernContext *context = tern_application_get_context (data);
  GListModel *accounts;
  g_autoptr(TernAccount) account = NULL;

  if (context == NULL)
    return FALSE;
  accounts = G_LIST_MODEL (tern_context_get_accounts (context));
  account = g_list_model_get_item (accounts, 0);
  return tern_account_worker_get_last_sync (
           tern_worker_pool_get_worker (tern_context_get_worker_pool (context), account))
         != 0;
}

static gboolean
sidebar_says_offline (gpointer window)
{
  return tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (window)), "Working offline");
}

static gboolean
sidebar_says_synced (gpointer window)
{
  return tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (window)), "Synced just now");
}

static gboolean
worker_offline (gpointer context)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (context));
  g_autoptr(TernAccount) account = g_list_model_get_item (accounts, 0);
  TernAccountWorker *worker =
    tern_worker_pool_get_worker (tern_context_get_worker_pool (context), account);

  return tern_account_worker_get_state (worker) == TERN_WORKER_STATE_OFFLINE;
}

static GtkMenuButton *
find_primary_menu (GtkWidget *widget)
{
  if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_primary (GTK_MENU_BUTTON (widget)))
    return GTK_MENU_BUTTON (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkMenuButton *found = find_primary_menu (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* With TERN_TEST_SCREENSHOT_DIR=DIR: the screen (the window and its open
 * menu) as the X server shows it. */
static void
save_screenshot (GtkWidget  *window,
                 const char *name)
{
  const char *dir = g_getenv ("TERN_TEST_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  if (dir == NULL)
    return;
  for (int i = 0; i < 20; i++)
    {
      g_usleep (20000);
      tern_test_drain ();
    }
  path = g_build_filename (dir, name, NULL);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "import", "-window", "root", path,
                              NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (process, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
main_window_shown (gpointer app)
{
  return TERN_IS_WINDOW (gtk_application_get_active_window (app));
}

static gboolean
window_inactive (gpointer window)
{
  return !gtk_window_is_active (window);
}

static void
test_application (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-notifications-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autoptr(GDBusConnection) server = start_notification_server ();
  g_autoptr(TernApplication) app = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *own = NULL;
  g_autofree char *notification_id = NULL;
  TernWindow *window;
  GtkWidget *other;
  TernContext *context;
  Call *call;

  calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  g_setenv ("TERN_PROFILE", profile, TRUE);
  {
    g_autoptr(TernContext) setup = tern_context_new (profile, &error);
    g_autoptr(TernAccount) account = NULL;

    g_assert_no_error (error);
    account = add_dovecot_account (setup, 0);
  }
  /* Old mail: the first sync announces none of it. */
  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0), NULL, 50,
                                  &error);
  g_assert_no_error (error);

  /* The window syncs as it opens: the CA must be trusted by then. */
  {
    g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

    g_settings_set_string (settings, "ca-file", tern_test_servers_get_ca_file (servers));
  }
  app = tern_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  /* The profile opens on a worker; the window comes once it is open. */
  tern_test_wait_until (main_window_shown, app, "the profile to open");
  context = tern_application_get_context (app);
  g_assert_nonnull (context);
  window = TERN_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  tern_test_wait_until (first_sync_done, app, "the first sync");
  tern_test_drain ();
  /* The line below the folders says when mail was last checked. */
  tern_test_wait_until (sidebar_says_synced, window, "the sidebar to say when it synced");
  /* The user looks elsewhere: no notification while Tern's window is
   * active. */
  other = gtk_window_new ();
  gtk_window_present (GTK_WINDOW (other));
  tern_test_wait_until (window_inactive, window, "another window to take the focus");

  /* Own mail first, then someone else's: IDLE takes them in order, so by
   * the time the second is announced the first would have been. */
  own = g_strdup_printf ("Alice <%s>", tern_test_servers_get_user (servers, 0));
  deliver (0, own, "Reminder to self");
  deliver (0, "Boris Smirnov <boris@example.ru>", "Launch checklist");
  tern_test_wait_until (has_titled, "Boris Smirnov", "the notification of Boris's message");
  call = find_titled ("Boris Smirnov");
  g_assert_cmpstr (call->method, ==, "AddNotification");
  g_assert_cmpstr (call->body, ==, "Launch checklist");
  g_assert_cmpstr (call->action, ==, "app.show-message");
  notification_id = tern_notifications_id_for_message (call->target);
  g_assert_cmpstr (call->id, ==, notification_id);
  g_assert_null (find_titled ("Alice"));
  for (guint i = 0; i < calls->len; i++)
    g_assert_cmpstr (((Call *) calls->pdata[i])->body, !=, "Reminder to self");
  g_assert_cmpuint (calls->len, ==, 1);

  /* Its action shows the message, which marks it read: the notification
   * goes. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "show-message",
                                  g_variant_new_int64 (call->target));
  tern_test_drain ();
  items = tern_message_list_view_get_selected_items (tern_window_get_message_list_view (window));
  g_assert_cmpuint (items->len, ==, 1);
  g_assert_cmpint (tern_message_item_get_id (items->pdata[0]), ==, call->target);
  g_assert_cmpstr (tern_sidebar_get_selected_title (tern_window_get_sidebar (window)), ==,
                   "Inbox");
  tern_test_wait_until (has_removal, notification_id, "the notification to be withdrawn");

  /* Work Offline: the sidebar says so and a sync fails without trying. */
  gtk_window_present (GTK_WINDOW (other));
  tern_test_wait_until (window_inactive, window, "another window to take the focus again");
  g_action_group_change_action_state (G_ACTION_GROUP (app), "work-offline",
                                      g_variant_new_boolean (TRUE));
  g_assert_true (tern_context_get_offline (context));
  tern_test_wait_until (sidebar_says_offline, window, "the sidebar to say offline");
  if (g_getenv ("TERN_TEST_SCREENSHOT_DIR") != NULL)
    {
      GtkMenuButton *menu = find_primary_menu (GTK_WIDGET (window));

      g_assert_nonnull (menu);
      gtk_menu_button_popup (menu);
      save_screenshot (GTK_WIDGET (window), "work-offline-menu.png");
      gtk_menu_button_popdown (menu);
      gtk_widget_set_visible (other, FALSE);
      save_screenshot (GTK_WIDGET (window), "work-offline.png");
      gtk_window_present (GTK_WINDOW (other));
      tern_test_wait_until (window_inactive, window, "the other window to take the focus back");
    }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.sync-now", NULL));
  tern_test_wait_until (worker_offline, context, "the sync to fail offline");

  /* Five at once (delivered while offline, synced in one go when back
   * online): one notification. */
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *from = g_strdup_printf ("Sender %u <sender%u@example.org>", i, i);
      g_autofree char *subject = g_strdup_printf ("Batch %u", i);

      deliver (0, from, subject);
    }
  g_action_group_change_action_state (G_ACTION_GROUP (app), "work-offline",
                                      g_variant_new_boolean (FALSE));
  tern_test_wait_until (has_titled, "5 new messages", "the grouped notification");
  call = find_titled ("5 new messages");
  g_assert_cmpstr (call->id, ==, "new-mail");
  g_assert_nonnull (strstr (call->body, "Sender"));
  for (guint i = 0; i < calls->len; i++)
    g_assert_false (g_str_has_prefix (((Call *) calls->pdata[i])->title ?: "", "Sender"));

  gtk_window_destroy (GTK_WINDOW (other));
  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();
  /* The window followed the check interval; gone, it must not any more. */
  {
    g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);

    g_settings_set_int (settings, "check-interval-minutes", 7);
    tern_test_drain ();
  }
  g_clear_pointer (&calls, g_ptr_array_unref);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  tern_ui_register_resources ();

  servers = tern_test_servers_start (&error);
  if (servers == NULL)
    g_error ("Cannot start the test servers: %s", error->message);
  dir = tern_test_make_tmpdir ("tern-notifications-pw-XXXXXX");
  for (guint i = 0; i < G_N_ELEMENTS (password_files); i++)
    {
      g_autofree char *name = g_strdup_printf ("password%u", i);

      password_files[i] = g_build_filename (dir, name, NULL);
      g_file_set_contents (password_files[i], tern_test_servers_get_password (servers, i), -1,
                           &error);
      g_assert_no_error (error);
    }

  g_test_add_func ("/notifications/last-sync", test_last_sync);
  g_test_add_func ("/notifications/application", test_application);
  status = g_test_run ();

  tern_test_servers_free (servers);
  tern_test_remove_tree (dir);
  for (guint i = 0; i < G_N_ELEMENTS (password_files); i++)
    g_free (password_files[i]);
  return status;
}
