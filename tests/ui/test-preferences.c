/* test-preferences.c: the preferences window under a real X server (Xvfb),
 * with the real keyring (tern-test-session) and the local Dovecot.
 *
 * An account's name edited and saved is in the store; a wrong password
 * changed on its page is in the keyring and the next sync signs in with
 * it; a plaintext server is refused until the user confirms; a trusted
 * certificate removed is gone; an account removed after its confirmation
 * takes its cached folders and messages and its password along; an
 * identity added on the account's page is in the store and the
 * composer's From, and goes out with its From, Reply-To and signature.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves preferences-PAGE.png
 * there (GTK's own rendering), for data/screenshots/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tern-account-options.h"
#include "tern-account-preferences.h"
#include "tern-certificate-pins.h"
#include "tern-composer-window.h"
#include "tern-identity.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-preferences-window.h"
#include "tern-secrets.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-application.h"
#include "tern-wizard-manual-page.h"

static TernTestServers *servers;

/* Helpers */

static void
save_screenshot (GtkWidget  *window,
                 const char *name)
{
  if (g_getenv ("TERN_TEST_SCREENSHOT_DIR") == NULL)
    return;
  tern_test_wait_for_frames (window);
  /* Page transitions. */
  g_usleep (300 * 1000);
  tern_test_drain ();
  tern_test_save_rendering (window, name);
}

static GtkWidget *
child (GtkWidget  *page,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (page, TERN_TYPE_ACCOUNT_PREFERENCES, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernPreferencesWindow *window;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = tern_test_make_tmpdir ("tern-preferences-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));
}

static void
open_window (Fixture *fixture)
{
  fixture->window = tern_preferences_window_new (NULL, fixture->context);
  g_object_add_weak_pointer (G_OBJECT (fixture->window), (gpointer *) &fixture->window);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 640, 720);
  gtk_window_present (GTK_WINDOW (fixture->window));
  tern_test_drain ();
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  tern_test_drain ();
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->profile);
  g_free (fixture->dir);
}

/* Alice's account on the local Dovecot (IMAPS) with @password. */
static TernAccount *
add_account (Fixture    *fixture,
             const char *password)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autoptr(TernServer) imap = tern_server_new ("127.0.0.1",
                                                tern_test_servers_get_port (servers,
                                                                            TERN_TEST_SERVICE_IMAPS),
                                                TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernServer) smtp = tern_server_new ("127.0.0.1",
                                                tern_test_servers_get_port (servers,
                                                                            TERN_TEST_SERVICE_SUBMISSIONS),
                                                TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  imap->username = g_strdup (user);
  smtp->username = g_strdup (user);
  account = tern_account_new ("Alice", user, TERN_ACCOUNT_PROTOCOL_IMAP, imap, smtp);
  g_assert_true (tern_account_manager_add (tern_context_get_accounts (fixture->context), account,
                                           password, NULL, &error));
  g_assert_no_error (error);
  return account; /* the manager keeps it */
}

static gboolean
sync_account (Fixture     *fixture,
              TernAccount *account,
              GError     **error)
{
  return tern_imap_sync_account (fixture->context, account, TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL,
                                 NULL, NULL, error);
}

/* Tests */

static void
test_edit_account (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernAccount *account = add_account (fixture, "not-the-password");
  const char *right = tern_test_servers_get_password (servers, 0);
  g_autofree char *stored = NULL;
  g_autofree char *signature = NULL;
  g_autoptr(TernContext) reopened = NULL;
  g_autoptr(TernAccount) loaded = NULL;
  GtkWidget *page;

  /* The wrong password: the server refuses it. */
  g_assert_false (sync_account (fixture, account, &error));
  g_assert_nonnull (error);
  g_test_message ("With the wrong password: %s", error->message);
  g_clear_error (&error);

  open_window (fixture);
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->window), "Alice"));
  save_screenshot (GTK_WIDGET (fixture->window), "preferences.png");
  page = tern_preferences_window_show_account (fixture->window, account);
  tern_test_drain ();
  g_assert_true (tern_account_preferences_get_account (TERN_ACCOUNT_PREFERENCES (page)) == account);
  save_screenshot (GTK_WIDGET (fixture->window), "preferences-account.png");

  /* Name and signature, saved. */
  gtk_editable_set_text (GTK_EDITABLE (child (page, "name_row")), "Alice Liddell");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (page, "signature_view"))),
                            "Alice\nWonderland Ltd.", -1);
  g_assert_true (gtk_widget_activate_action (page, "account.save", NULL));
  g_test_message ("%s", tern_account_preferences_get_status (TERN_ACCOUNT_PREFERENCES (page)));
  g_assert_cmpstr (tern_account_preferences_get_status (TERN_ACCOUNT_PREFERENCES (page)), ==,
                   _("Saved."));
  g_assert_cmpstr (tern_account_get_display_name (account), ==, "Alice Liddell");

  /* The new password: in the keyring, out of the field, and it works. */
  gtk_editable_set_text (GTK_EDITABLE (child (page, "password_row")), right);
  g_assert_true (gtk_widget_activate_action (page, "account.change-password", NULL));
  g_assert_cmpstr (tern_account_preferences_get_status (TERN_ACCOUNT_PREFERENCES (page)), ==,
                   _("The new password is in the keyring."));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, "password_row"))), ==, "");
  stored = tern_secrets_lookup (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING, NULL,
                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, right);
  g_assert_false (tern_test_tree_contains (fixture->dir, right));
  g_assert_true (sync_account (fixture, account, &error));
  g_assert_no_error (error);

  /* A plaintext server only after the confirmation. */
  {
    GtkWidget *confirm = child (page, "confirm_check");
    TernWizardManualPage *servers_form = TERN_WIZARD_MANUAL_PAGE (child (page, "servers"));
    g_autoptr(TernAutoconfigServer) incoming = NULL;
    g_autoptr(TernAutoconfigServer) outgoing = NULL;

    incoming = tern_wizard_manual_page_dup_incoming (servers_form, &error);
    g_assert_no_error (error);
    outgoing = tern_wizard_manual_page_dup_outgoing (servers_form, &error);
    g_assert_no_error (error);
    incoming->server->security = TERN_TLS_MODE_PLAIN;
    incoming->server->port = tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAP);
    tern_wizard_manual_page_set_servers (servers_form, incoming, outgoing);
    g_assert_true (gtk_widget_activate_action (page, "account.save", NULL));
    g_assert_true (gtk_widget_get_visible (child (page, "confirm_group")));
    g_assert_true (gtk_widget_get_visible (confirm));
    g_assert_cmpint (tern_account_get_incoming (account)->security, ==, TERN_TLS_MODE_IMPLICIT);
    gtk_check_button_set_active (GTK_CHECK_BUTTON (confirm), TRUE);
    g_assert_true (gtk_widget_activate_action (page, "account.save", NULL));
    g_assert_cmpint (tern_account_get_incoming (account)->security, ==, TERN_TLS_MODE_PLAIN);
    g_assert_cmpuint (tern_account_get_incoming (account)->port, ==,
                      tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAP));
  }

  /* A fresh look at the profile. */
  reopened = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  loaded = g_list_model_get_item (G_LIST_MODEL (tern_context_get_accounts (reopened)), 0);
  g_assert_cmpstr (tern_account_get_display_name (loaded), ==, "Alice Liddell");
  g_assert_cmpint (tern_account_get_incoming (loaded)->security, ==, TERN_TLS_MODE_PLAIN);
  signature = tern_account_options_get_signature (tern_context_get_store (reopened),
                                                  tern_account_get_id (loaded), &error);
  g_assert_cmpstr (signature, ==, "Alice\nWonderland Ltd.");
  g_clear_object (&loaded);

  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (fixture->context),
                                              account, NULL, &error));
  g_assert_no_error (error);
}

static void
test_forget_pin (Fixture       *fixture,
                 gconstpointer  data)
{
  static const char fingerprint[] = "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:"
                                    "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0";
  TernStore *store = tern_context_get_store (fixture->context);
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;

  g_assert_true (tern_certificate_pins_accept (store, "mail.example.org", 993, fingerprint,
                                               &error));
  g_assert_true (tern_certificate_pins_accept (store, "smtp.example.org", 465, fingerprint,
                                               &error));
  open_window (fixture);
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window),
                                                "security");
  tern_test_drain ();
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->window), "mail.example.org:993"));
  save_screenshot (GTK_WIDGET (fixture->window), "preferences-security.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "prefs.forget-pin", "s",
                                             "mail.example.org:993"));
  tern_test_drain ();
  pin = tern_certificate_pins_lookup (store, "mail.example.org", 993, &error);
  g_assert_no_error (error);
  g_assert_null (pin);
  g_assert_false (tern_test_shows_label (GTK_WIDGET (fixture->window), "mail.example.org:993"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->window), "smtp.example.org:465"));
  pin = tern_certificate_pins_lookup (store, "smtp.example.org", 465, &error);
  g_assert_cmpstr (pin, ==, fingerprint);
}

static void
test_other_pages (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  const char *senders[] = { "news@example.org", "boss@example.org", NULL };
  g_auto(GStrv) left = NULL;

  add_account (fixture, "x");
  g_settings_set_strv (settings, "trusted-senders", senders);
  open_window (fixture);
  for (guint i = 0; i < 3; i++)
    {
      const char *names[] = { "sync", "reading", "composing" };
      g_autofree char *file = g_strdup_printf ("preferences-%s.png", names[i]);

      adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window),
                                                    names[i]);
      save_screenshot (GTK_WIDGET (fixture->window), file);
    }
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (fixture->window), "reading");
  tern_test_drain ();
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->window), "boss@example.org"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "prefs.forget-sender",
                                             "s", "BOSS@example.org"));
  tern_test_drain ();
  left = g_settings_get_strv (settings, "trusted-senders");
  g_assert_cmpuint (g_strv_length (left), ==, 1);
  g_assert_cmpstr (left[0], ==, "news@example.org");
  g_assert_false (tern_test_shows_label (GTK_WIDGET (fixture->window), "boss@example.org"));
  g_settings_reset (settings, "trusted-senders");
  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (fixture->context),
                                              g_list_model_get_item (G_LIST_MODEL (tern_context_get_accounts (fixture->context)), 0),
                                              NULL, NULL));
}

/* A message too large for the database: its body is cached in a file. */
static void
save_large_message (const char *user)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers), "save",
                         "-u", user, "-m", "INBOX", NULL };
  g_autoptr(GSubprocess) doveadm = NULL;
  g_autoptr(GString) message = g_string_new ("From: Bob <bob@tern.test>\r\n"
                                             "To: alice@tern.test\r\n"
                                             "Subject: Large\r\n"
                                             "Message-ID: <large-prefs@tern.test>\r\n"
                                             "Content-Type: text/plain; charset=us-ascii\r\n"
                                             "\r\n");
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 8000; i++)
    g_string_append (message, "All work and no play makes Jack a dull boy, line after line.\r\n");
  doveadm = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (doveadm, message->str, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (doveadm));
}

/* Files below @path other than the database's own. */
static guint
count_body_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        n += count_body_files (child);
      else if (!g_str_has_prefix (name, "tern.db"))
        n++;
    }
  return n;
}

static gboolean
no_accounts (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (data))) == 0;
}

/* The account's page slides away (an animation) once it is removed. */
static gboolean
account_gone (gpointer data)
{
  return !tern_test_shows_label (GTK_WIDGET (data), "Alice");
}

static gboolean
dialog_shown (gpointer data)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        {
          *(AdwMessageDialog **) data = ADW_MESSAGE_DIALOG (window);
          return TRUE;
        }
    }
  return FALSE;
}

static void
test_remove_account (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernAccount *account = add_account (fixture, tern_test_servers_get_password (servers, 0));
  TernStore *store = tern_context_get_store (fixture->context);
  g_autofree char *uuid = g_strdup (tern_account_get_uuid (account));
  gint64 id = tern_account_get_id (account);
  g_autoptr(GPtrArray) folders = NULL;
  g_autofree char *secret = NULL;
  AdwMessageDialog *dialog = NULL;
  GtkWidget *page;

  g_assert_true (tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0),
                                                 NULL, 2, &error));
  save_large_message (tern_test_servers_get_user (servers, 0));
  g_assert_true (tern_imap_sync_account (fixture->context, account, TERN_IMAP_SYNC_BODIES_ALL, NULL,
                                         NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_body_files (fixture->profile), >, 0);
  folders = tern_mail_store_list_folders (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, >, 0);
  g_clear_pointer (&folders, g_ptr_array_unref);

  open_window (fixture);
  page = tern_preferences_window_show_account (fixture->window, account);
  tern_test_drain ();

  /* Cancel keeps it. */
  g_assert_true (gtk_widget_activate_action (page, "account.remove", NULL));
  tern_test_wait_until (dialog_shown, &dialog, "the confirmation");
  save_screenshot (GTK_WIDGET (dialog), "preferences-remove.png");
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  tern_test_drain ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tern_context_get_accounts (fixture->context))), ==, 1);

  dialog = NULL;
  g_assert_true (gtk_widget_activate_action (page, "account.remove", NULL));
  tern_test_wait_until (dialog_shown, &dialog, "the confirmation");
  adw_message_dialog_response (dialog, "remove");
  gtk_window_destroy (GTK_WINDOW (dialog));
  /* The deleting happens in a worker; until it is done the page says so
   * and takes no edits. */
  g_assert_false (gtk_widget_get_sensitive (page));
  g_assert_true (tern_test_shows_label (page, "Removing the account…"));
  tern_test_wait_until (no_accounts, fixture->context, "the account to be removed");
  tern_test_wait_until (account_gone, fixture->window, "the account's page to close");
  folders = tern_mail_store_list_folders (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, ==, 0);
  g_assert_cmpuint (count_body_files (fixture->profile), ==, 0);
  secret = tern_secrets_lookup (uuid, TERN_SECRET_ROLE_INCOMING, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (secret);
}

/* The composer opens with the From account's signature, swaps it for the
 * other account's when From changes, and writes HTML when the preference
 * says so. */
static void
test_composer_signature (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) imap = tern_server_new ("imap.example.org", 993, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) work = tern_account_new ("Alice", "alice@work.example",
                                                  TERN_ACCOUNT_PROTOCOL_IMAP, imap, NULL);
  TernStore *store = tern_context_get_store (fixture->context);
  TernAccount *home = add_account (fixture, "x");
  TernComposerWindow *window;
  TernComposer *composer;
  GtkDropDown *from;

  g_assert_true (tern_account_manager_add (tern_context_get_accounts (fixture->context), work, "y",
                                           NULL, &error));
  g_assert_true (tern_account_options_set_signature (store, tern_account_get_id (home),
                                                     "Alice at home", &error));
  g_assert_true (tern_account_options_set_signature (store, tern_account_get_id (work),
                                                     "Alice\nWork Ltd.", &error));
  g_assert_no_error (error);
  g_settings_set_boolean (settings, "compose-html", TRUE);

  window = tern_composer_window_new (NULL, fixture->context, home);
  gtk_window_present (GTK_WINDOW (window));
  tern_test_drain ();
  composer = tern_composer_window_get_composer (window);
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "\n\n-- \nAlice at home\n");
  g_assert_true (tern_composer_get_html_from_text (composer));

  tern_composer_set_body (composer, "Hello\n\n-- \nAlice at home\n");
  from = GTK_DROP_DOWN (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                       TERN_TYPE_COMPOSER_WINDOW, "from_dropdown"));
  gtk_drop_down_set_selected (from, 1);
  tern_test_drain ();
  g_assert_true (tern_composer_get_account (composer) == work);
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n\n-- \nAlice\nWork Ltd.\n");
  gtk_drop_down_set_selected (from, 0);
  tern_test_drain ();
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello\n\n-- \nAlice at home\n");

  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();
  g_settings_reset (settings, "compose-html");
  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (fixture->context), work,
                                              NULL, &error));
  g_assert_true (tern_account_manager_remove (tern_context_get_accounts (fixture->context), home,
                                              NULL, &error));
  g_assert_no_error (error);
}

/* The widget named @name in @widget's tree. */
static GtkWidget *
named (GtkWidget  *widget,
       const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static AdwMessageDialog *
identity_dialog (GtkWidget  *page,
                 const char *action,
                 GVariant   *target)
{
  AdwMessageDialog *dialog = NULL;

  g_assert_true (gtk_widget_activate_action_variant (page, action, target));
  tern_test_wait_until (dialog_shown, &dialog, "the identity dialog");
  return dialog;
}

static void
fill (AdwMessageDialog *dialog,
      const char       *name,
      const char       *text)
{
  GtkWidget *widget = named (GTK_WIDGET (dialog), name);

  g_assert_nonnull (widget);
  if (GTK_IS_TEXT_VIEW (widget))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)), text, -1);
  else
    gtk_editable_set_text (GTK_EDITABLE (widget), text);
}

static void
respond (AdwMessageDialog *dialog,
         const char       *response)
{
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  tern_test_drain ();
}

/* An alias added on the account's page: in the store, listed on the
 * page, offered by the composer's From with its Reply-To and signature;
 * the account's own address cannot be removed, the alias can. */
static void
test_identities (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  TernAccount *account = add_account (fixture, "x");
  TernStore *store = tern_context_get_store (fixture->context);
  g_autoptr(GListModel) identities = NULL;
  TernIdentity *alias;
  AdwMessageDialog *dialog;
  TernComposerWindow *window;
  TernComposer *composer;
  GtkDropDown *from;
  GtkWidget *page;
  g_autofree char *refused = NULL;

  g_assert_true (tern_account_options_set_signature (store, tern_account_get_id (account),
                                                     "Alice", &error));
  g_assert_no_error (error);
  open_window (fixture);
  page = tern_preferences_window_show_account (fixture->window, account);
  tern_test_drain ();
  g_assert_true (tern_test_shows_label (page, "The account’s own address"));

  /* A bad address is refused, with the reason on the page. */
  dialog = identity_dialog (page, "account.add-identity", NULL);
  fill (dialog, "identity-address", "not an address");
  respond (dialog, "save");
  g_assert_true (tern_test_shows_label (page, "“not an address” is not an email address"));

  dialog = identity_dialog (page, "account.add-identity", NULL);
  fill (dialog, "identity-name", "Alice Sales");
  fill (dialog, "identity-address", "sales@tern.test");
  fill (dialog, "identity-reply-to", "team@tern.test");
  fill (dialog, "identity-signature", "Alice\nSales team");
  save_screenshot (GTK_WIDGET (dialog), "preferences-identity.png");
  respond (dialog, "save");
  g_assert_true (tern_test_shows_label (page, "Alice Sales <sales@tern.test>"));
  g_assert_true (tern_test_shows_label (page, "Replies to team@tern.test"));
  save_screenshot (GTK_WIDGET (fixture->window), "preferences-identities.png");

  identities = tern_identities_load (store, account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 2);
  alias = g_list_model_get_item (identities, 1);
  g_object_unref (alias); /* the list holds it */
  g_assert_cmpstr (tern_identity_get_address (alias), ==, "sales@tern.test");
  g_assert_cmpstr (tern_identity_get_reply_to (alias), ==, "team@tern.test");
  g_assert_cmpstr (tern_identity_get_signature (alias), ==, "Alice\nSales team");

  /* Edited: the new name is listed. */
  dialog = identity_dialog (page, "account.edit-identity",
                            g_variant_new_string ("sales@tern.test"));
  fill (dialog, "identity-name", "Alice (Sales)");
  respond (dialog, "save");
  g_assert_true (tern_test_shows_label (page, "Alice (Sales) <sales@tern.test>"));

  /* The composer offers both, and the alias writes its own message. */
  window = tern_composer_window_new (NULL, fixture->context, account);
  gtk_window_present (GTK_WINDOW (window));
  tern_test_drain ();
  composer = tern_composer_window_get_composer (window);
  from = GTK_DROP_DOWN (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                       TERN_TYPE_COMPOSER_WINDOW, "from_dropdown"));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (from)), ==, 2);
  g_assert_cmpuint (gtk_drop_down_get_selected (from), ==, 0);
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "\n\n-- \nAlice\n");
  gtk_drop_down_set_selected (from, 1);
  tern_test_drain ();
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "\"Alice (Sales)\" <sales@tern.test>");
  g_assert_cmpstr (tern_composer_get_reply_to (composer), ==, "team@tern.test");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "\n\n-- \nAlice\nSales team\n");
  g_assert_true (tern_test_shows_label (GTK_WIDGET (window),
                                        "Alice (Sales) <sales@tern.test> — Alice"));
  save_screenshot (GTK_WIDGET (window), "composer-identity.png");
  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();

  /* The account's own address stays; the alias goes. */
  g_assert_true (gtk_widget_activate_action (page, "account.remove-identity", "s",
                                             tern_account_get_address (account)));
  refused = g_strdup_printf ("%s is the account’s own address: it cannot be removed",
                             tern_account_get_address (account));
  g_assert_true (tern_test_shows_label (page, refused));
  g_assert_true (gtk_widget_activate_action (page, "account.remove-identity", "s",
                                             "sales@tern.test"));
  tern_test_drain ();
  g_assert_false (tern_test_shows_label (page, "Alice (Sales) <sales@tern.test>"));
  g_clear_object (&identities);
  identities = tern_identities_load (store, account, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

  g_test_add ("/tern/preferences/edit-account", Fixture, NULL, fixture_setup, test_edit_account,
              fixture_teardown);
  g_test_add ("/tern/preferences/forget-pin", Fixture, NULL, fixture_setup, test_forget_pin,
              fixture_teardown);
  g_test_add ("/tern/preferences/other-pages", Fixture, NULL, fixture_setup, test_other_pages,
              fixture_teardown);
  g_test_add ("/tern/preferences/remove-account", Fixture, NULL, fixture_setup,
              test_remove_account, fixture_teardown);
  g_test_add ("/tern/preferences/composer-signature", Fixture, NULL, fixture_setup,
              test_composer_signature, fixture_teardown);
  g_test_add ("/tern/preferences/identities", Fixture, NULL, fixture_setup, test_identities,
              fixture_teardown);

  status = g_test_run ();
  tern_test_servers_free (servers);
  return status;
}
