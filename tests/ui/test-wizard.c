/* test-wizard.c: the account wizard under a real X server (Xvfb) against
 * the local Dovecot and Postfix.  Detection stays offline: a provider file
 * for tern.test in a temporary providers directory names the local
 * servers, and the address map makes every other address unreachable.
 *
 * Add an account from the keyboard (Enter on the password) and see it in
 * the store, its password in the keyring and nowhere in the profile, and
 * its first sync in the main window; a wrong password named inline with
 * its step; a self-signed certificate on the certificate page, Cancel
 * changing nothing, Trust pinning it and the account working; Fastmail's
 * app password hint and Gmail's OAuth2 page; plaintext servers only
 * after the user confirmed the warning; the manual form: ports
 * following the security, a refused SMTP sign-in named as such, an
 * account saved as entered; and the wizard and main window in Russian.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves wizard-PAGE.png there
 * (GTK's own rendering), for data/screenshots/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "tern-account-wizard.h"
#include "tern-application.h"
#include "tern-certificate-pins.h"
#include "tern-secrets.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

static TernTestServers *servers;

/* Helpers */

static gpointer
child (TernAccountWizard *wizard,
       const char        *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (wizard), TERN_TYPE_ACCOUNT_WIZARD,
                                                   name);

  g_assert_nonnull (object);
  return object;
}

static gpointer
manual_child (TernAccountWizard *wizard,
              const char        *name)
{
  GtkWidget *manual = child (wizard, "manual_page");
  GObject *object = gtk_widget_get_template_child (manual, G_OBJECT_TYPE (manual), name);

  g_assert_nonnull (object);
  return object;
}

static const char *
status_text (TernAccountWizard *wizard)
{
  return gtk_label_get_text (child (wizard, "status_label"));
}

static gboolean
transition_done (gpointer data)
{
  GtkStack *stack = GTK_STACK (gtk_widget_get_template_child (GTK_WIDGET (data),
                                                              TERN_TYPE_ACCOUNT_WIZARD, "stack"));

  return !gtk_stack_get_transition_running (stack);
}

/* A page just shown is drawn once its transition ended, on the next
 * frames. */
static void
save_screenshot (GtkWidget  *window,
                 const char *name)
{
  if (g_getenv ("TERN_TEST_SCREENSHOT_DIR") == NULL)
    return;
  if (TERN_IS_ACCOUNT_WIZARD (window))
    tern_test_wait_until (transition_done, window, "the page transition");
  tern_test_wait_for_frames (window);
  tern_test_save_rendering (window, name);
}

/* A providers directory with tern.test on the local servers: IMAP and
 * POP3 at @incoming_address (which picks the certificate), SMTP on
 * Postfix's 127.0.0.1; and the hosting default, which the wizard offers
 * when nothing is found. */
static char *
make_providers_dir (const char *parent,
                    const char *incoming_address)
{
  g_autofree char *dir = g_build_filename (parent, "providers", NULL);
  g_autofree char *file = g_build_filename (dir, "tern-test.xml", NULL);
  g_autofree char *shipped = g_test_build_filename (G_TEST_DIST, "..", "data", "providers",
                                                    "hosting-default.xml", NULL);
  g_autofree char *hosting = g_build_filename (dir, "hosting-default.xml", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *xml = g_strdup_printf (
    "<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\"><emailProvider id=\"tern.test\">"
    "<domain>tern.test</domain><displayName>Tern Test Mail</displayName>"
    "<incomingServer type=\"imap\"><hostname>%s</hostname><port>%u</port>"
    "<socketType>SSL</socketType><username>%%EMAILADDRESS%%</username>"
    "<authentication>password-cleartext</authentication></incomingServer>"
    "<incomingServer type=\"pop3\"><hostname>%s</hostname><port>%u</port>"
    "<socketType>SSL</socketType><username>%%EMAILADDRESS%%</username>"
    "<authentication>password-cleartext</authentication></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>127.0.0.1</hostname><port>%u</port>"
    "<socketType>SSL</socketType><username>%%EMAILADDRESS%%</username>"
    "<authentication>password-cleartext</authentication></outgoingServer>"
    "</emailProvider></clientConfig>\n",
    incoming_address, tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
    incoming_address, tern_test_servers_get_port (servers, TERN_TEST_SERVICE_POP3S),
    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (file, xml, -1, &error);
  g_assert_no_error (error);
  g_file_get_contents (shipped, &contents, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (hosting, contents, -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&dir);
}

/* Each local server answers under its own address; everything else is
 * unreachable, DNS included. */
static void
map_local (TernAutoconfig *autoconfig,
           const char     *address,
           TernTestService service)
{
  g_autofree char *spec =
    g_strdup_printf ("%s:%u", address, tern_test_servers_get_port (servers, service));

  g_assert_true (tern_autoconfig_map_address (autoconfig, spec, spec));
}

typedef struct
{
  char *dir;
  char *profile;
  TernContext *context;
  TernWindow *window;
  TernAccountWizard *wizard;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  const char *incoming_address = data != NULL ? data : "127.0.0.1";
  g_autoptr(GError) error = NULL;
  g_autofree char *providers = NULL;
  TernAutoconfig *autoconfig;

  fixture->dir = tern_test_make_tmpdir ("tern-wizard-XXXXXX");
  fixture->profile = g_build_filename (fixture->dir, "profile", NULL);
  fixture->context = tern_context_new (fixture->profile, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (fixture->context, tern_test_servers_get_ca_file (servers));

  /* The main window, empty: the wizard is modal to it, and it starts the
   * first sync of what the wizard adds. */
  fixture->window = tern_window_new (NULL, fixture->context, NULL);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 1000, 700);
  gtk_window_present (GTK_WINDOW (fixture->window));

  fixture->wizard = tern_account_wizard_new (GTK_WINDOW (fixture->window), fixture->context);
  g_object_add_weak_pointer (G_OBJECT (fixture->wizard), (gpointer *) &fixture->wizard);
  autoconfig = tern_account_wizard_get_autoconfig (fixture->wizard);
  providers = make_providers_dir (fixture->dir, incoming_address);
  tern_autoconfig_set_providers_dir (autoconfig, providers);
  tern_autoconfig_set_timeout (autoconfig, 30);
  g_assert_cmpstr (tern_autoconfig_get_ca_file (autoconfig), ==,
                   tern_test_servers_get_ca_file (servers));
  map_local (autoconfig, incoming_address, TERN_TEST_SERVICE_IMAPS);
  map_local (autoconfig, incoming_address, TERN_TEST_SERVICE_POP3S);
  map_local (autoconfig, "127.0.0.1", TERN_TEST_SERVICE_SUBMISSIONS);
  gtk_window_present (GTK_WINDOW (fixture->wizard));
  tern_test_drain ();
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (fixture->context));

  if (fixture->wizard != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->wizard));
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      tern_worker_pool_cancel_account (tern_context_get_worker_pool (fixture->context), account);
      tern_secrets_clear (tern_account_get_uuid (account), NULL, NULL);
    }
  /* Jobs and detections hold the context until their callbacks ran. */
  tern_test_wait_for_last_ref (fixture->context);
  g_assert_finalize_object (fixture->context);
  tern_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->profile);
}

/* Typing and pages */

static void
fill_details (TernAccountWizard *wizard,
              const char        *name,
              const char        *address,
              const char        *password)
{
  gtk_editable_set_text (child (wizard, "name_row"), name);
  gtk_editable_set_text (child (wizard, "address_row"), address);
  gtk_editable_set_text (child (wizard, "password_row"), password);
}

/* Enter in the password field, as a keyboard user would: the Return key
 * binding emits GtkText::activate. */
static void
press_enter_in_password (TernAccountWizard *wizard)
{
  GtkWidget *text = tern_test_find_descendant (child (wizard, "password_row"), GTK_TYPE_TEXT);

  g_assert_nonnull (text);
  gtk_widget_grab_focus (text);
  g_signal_emit_by_name (text, "activate");
}

typedef struct
{
  TernAccountWizard *wizard;
  const char *page;
} PageWait;

static gboolean
on_page (gpointer data)
{
  PageWait *wait = data;

  return g_strcmp0 (tern_account_wizard_get_page (wait->wizard), wait->page) == 0
         && !gtk_widget_get_visible (GTK_WIDGET (child (wait->wizard, "busy_spinner")));
}

static void
wait_for_page (TernAccountWizard *wizard,
               const char        *page)
{
  PageWait wait = { wizard, page };
  g_autofree char *what = g_strdup_printf ("the %s page", page);

  tern_test_wait_until (on_page, &wait, what);
  tern_test_drain ();
}

static gboolean
left_details (gpointer data)
{
  return !g_str_equal (tern_account_wizard_get_page (data), "details");
}

static gboolean
not_busy (gpointer data)
{
  return !gtk_widget_get_visible (GTK_WIDGET (child (data, "busy_spinner")));
}

static gboolean
is_gone (gpointer data)
{
  Fixture *fixture = data;

  return fixture->wizard == NULL;
}

static gboolean
sidebar_shows_inbox (gpointer data)
{
  Fixture *fixture = data;

  return tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (fixture->window)), "Inbox");
}

static void
activate (TernAccountWizard *wizard,
          const char        *action)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), action, NULL));
}

/* The one account of the context, after the wizard closed. */
static TernAccount *
only_account (Fixture *fixture)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (fixture->context));

  g_assert_cmpuint (g_list_model_get_n_items (accounts), ==, 1);
  return g_list_model_get_item (accounts, 0);
}

static void
assert_password_in_keyring_only (Fixture     *fixture,
                                 TernAccount *account,
                                 const char  *password)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = tern_secrets_lookup (tern_account_get_uuid (account),
                                                 TERN_SECRET_ROLE_INCOMING, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, password);
  g_assert_null (tern_account_get_password_command (account));
  g_assert_false (tern_test_tree_contains (fixture->profile, password));
}

/* Tests */

static void
test_add_account (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  g_autofree char *imaps = g_strdup_printf (
    "127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  g_autofree char *pop3s = g_strdup_printf (
    "127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_POP3S));
  g_autofree char *how = g_strdup_printf ("IMAP · TLS · %s", user);
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  tern_test_servers_add_messages (servers, user, NULL, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "details");
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-details.png");

  fill_details (fixture->wizard, "Alice Liddell", user, password);
  press_enter_in_password (fixture->wizard);
  /* A button activated by Enter clicks a moment later. */
  tern_test_wait_until (left_details, fixture->wizard, "Enter to start the detection");
  if (g_str_equal (tern_account_wizard_get_page (fixture->wizard), "progress"))
    save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-progress.png");
  wait_for_page (fixture->wizard, "summary");
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-summary.png");

  /* What was found and where from; IMAP or POP3, IMAP first. */
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "protocol_row")));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), "Tern Test Mail"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), imaps));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), how));
  g_assert_false (gtk_widget_get_visible (child (fixture->wizard, "confirm_check")));
  adw_combo_row_set_selected (child (fixture->wizard, "protocol_row"), 1);
  tern_test_drain ();
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), pop3s));
  adw_combo_row_set_selected (child (fixture->wizard, "protocol_row"), 0);
  tern_test_drain ();

  /* Add Account is the default: Enter (here: the default action) tests
   * both logins, saves, closes. */
  g_assert_true (gtk_window_get_default_widget (GTK_WINDOW (fixture->wizard))
                 == child (fixture->wizard, "add_button"));
  activate (fixture->wizard, "wizard.add");
  tern_test_wait_until (is_gone, fixture, "the wizard to close after adding");

  account = only_account (fixture);
  g_assert_cmpstr (tern_account_get_address (account), ==, user);
  g_assert_cmpstr (tern_account_get_display_name (account), ==, "Alice Liddell");
  g_assert_cmpint (tern_account_get_protocol (account), ==, TERN_ACCOUNT_PROTOCOL_IMAP);
  g_assert_cmpuint (tern_account_get_incoming (account)->port, ==,
                    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  g_assert_cmpstr (tern_account_get_outgoing (account)->username, ==, user);
  assert_password_in_keyring_only (fixture, account, password);

  /* The main window's first sync shows the account's folders. */
  tern_test_wait_until (sidebar_shows_inbox, fixture, "the Inbox after the first sync");
  g_assert_true (
    tern_test_shows_label (GTK_WIDGET (tern_window_get_sidebar (fixture->window)), user));
}

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autofree char *where = g_strdup_printf (
    "127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  const char *status;

  /* Missing fields are said inline, nothing runs. */
  fill_details (fixture->wizard, "Alice", user, "");
  activate (fixture->wizard, "wizard.continue");
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "details");
  g_assert_nonnull (strstr (status_text (fixture->wizard), "password"));

  fill_details (fixture->wizard, "Alice", user, "not the password");
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "summary");
  activate (fixture->wizard, "wizard.add");
  tern_test_wait_until (not_busy, fixture->wizard, "the login test");
  tern_test_drain ();

  status = status_text (fixture->wizard);
  g_test_message ("%s", status);
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "summary");
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "status_label")));
  g_assert_nonnull (strstr (status, "incoming server"));
  g_assert_nonnull (strstr (status, where));
  g_assert_nonnull (strstr (status, "password"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                      tern_context_get_accounts (fixture->context))), ==, 0);
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-wrong-password.png");

  /* Back, the right password: it works without starting over. */
  activate (fixture->wizard, "wizard.back");
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "details");
  gtk_editable_set_text (child (fixture->wizard, "password_row"),
                         tern_test_servers_get_password (servers, 0));
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "summary");
  activate (fixture->wizard, "wizard.add");
  tern_test_wait_until (is_gone, fixture, "the wizard to close after adding");
  g_object_unref (only_account (fixture));
}

static void
test_certificate (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  const char *password = tern_test_servers_get_password (servers, 0);
  const char *address = tern_test_servers_get_address (servers, TERN_TEST_CERT_SELF_SIGNED);
  guint16 port = tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS);
  TernStore *store = tern_context_get_store (fixture->context);
  g_autofree char *where = g_strdup_printf ("%s:%u", address, port);
  g_autofree char *pin = NULL;
  g_autoptr(GPtrArray) pins = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *details = NULL;

  fill_details (fixture->wizard, "Alice", user, password);
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "summary");
  activate (fixture->wizard, "wizard.add");
  wait_for_page (fixture->wizard, "certificate");
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-certificate.png");

  /* What is wrong, for which server, issuer, validity, fingerprint. */
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), where));
  details = g_strdup (gtk_label_get_text (child (fixture->wizard, "certificate_details_label")));
  g_test_message ("%s", details);
  g_assert_nonnull (strstr (details, "Issuer"));
  g_assert_nonnull (strstr (details, "SHA-256"));
  g_assert_nonnull (strstr (adw_status_page_get_description (child (fixture->wizard,
                                                                    "certificate_status")),
                            "self-signed"));

  /* Cancel changes nothing. */
  activate (fixture->wizard, "wizard.cancel-certificate");
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "summary");
  pins = tern_certificate_pins_list (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pins->len, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                      tern_context_get_accounts (fixture->context))), ==, 0);

  /* Trust pins exactly that certificate for that host and port, and the
   * login test passes. */
  activate (fixture->wizard, "wizard.add");
  wait_for_page (fixture->wizard, "certificate");
  activate (fixture->wizard, "wizard.trust");
  tern_test_wait_until (is_gone, fixture, "the wizard to close after trusting");
  pin = tern_certificate_pins_lookup (store, address, port, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pin);
  g_assert_nonnull (strstr (details, pin));
  account = only_account (fixture);
  g_assert_cmpstr (tern_account_get_incoming (account)->host, ==, address);
  assert_password_in_keyring_only (fixture, account, password);

  /* And the account works: the first sync goes through the pin. */
  tern_test_wait_until (sidebar_shows_inbox, fixture, "the Inbox after the first sync");
}

static void
test_shipped_providers (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *shipped = g_test_build_filename (G_TEST_DIST, "..", "data", "providers",
                                                    NULL);
  const char *description;

  tern_autoconfig_set_providers_dir (tern_account_wizard_get_autoconfig (fixture->wizard), shipped);

  /* Fastmail takes app passwords: the summary says so and links its help. */
  fill_details (fixture->wizard, "Alice Liddell", "alice@fastmail.com", "an app password");
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "summary");
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), "imap.fastmail.com:993"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard), "smtp.fastmail.com:465"));
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "protocol_row")));
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "password_hint_label")));
  g_assert_nonnull (strstr (gtk_label_get_text (child (fixture->wizard, "password_hint_label")),
                            "app password"));
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "help_button")));
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-summary-fastmail.png");
  activate (fixture->wizard, "wizard.back");

  /* Gmail takes no passwords at all. */
  fill_details (fixture->wizard, "Someone", "someone@gmail.com", "a password");
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "oauth2");
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-oauth2.png");

  description = adw_status_page_get_description (child (fixture->wizard, "oauth2_status"));
  g_test_message ("%s", description);
  g_assert_nonnull (strstr (description, "OAuth2"));
  g_assert_nonnull (strstr (description, "app password"));
  activate (fixture->wizard, "wizard.back");
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "details");
}

/* Plaintext servers are shown with a warning, and the login test runs
 * only once the user confirmed it. */
static void
test_insecure_confirm (Fixture       *fixture,
                       gconstpointer  data)
{
  TernAutoconfig *autoconfig = tern_account_wizard_get_autoconfig (fixture->wizard);
  g_autofree char *file = g_build_filename (tern_autoconfig_get_providers_dir (autoconfig),
                                            "plain.xml", NULL);
  g_autofree char *xml = g_strdup_printf (
    "<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\"><emailProvider id=\"plain.test\">"
    "<domain>plain.test</domain><displayName>Plain Mail</displayName>"
    "<incomingServer type=\"imap\"><hostname>127.0.0.1</hostname><port>%u</port>"
    "<socketType>plain</socketType><username>%%EMAILADDRESS%%</username>"
    "<authentication>password-cleartext</authentication></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>127.0.0.1</hostname><port>%u</port>"
    "<socketType>plain</socketType><username>%%EMAILADDRESS%%</username>"
    "<authentication>password-cleartext</authentication></outgoingServer>"
    "</emailProvider></clientConfig>\n",
    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAP),
    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSION));
  g_autoptr(GError) error = NULL;

  g_file_set_contents (file, xml, -1, &error);
  g_assert_no_error (error);
  map_local (autoconfig, "127.0.0.1", TERN_TEST_SERVICE_IMAP);
  map_local (autoconfig, "127.0.0.1", TERN_TEST_SERVICE_SUBMISSION);

  fill_details (fixture->wizard, "Alice", "alice@plain.test", "a password");
  activate (fixture->wizard, "wizard.continue");
  wait_for_page (fixture->wizard, "summary");
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "warning_label")));
  g_assert_nonnull (strstr (gtk_label_get_text (child (fixture->wizard, "warning_label")),
                            "unencrypted"));
  g_assert_true (gtk_widget_is_drawable (child (fixture->wizard, "confirm_check")));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (fixture->wizard),
                                        "IMAP · None: password and mail are sent unencrypted · "
                                        "alice@plain.test"));
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-insecure.png");

  /* Not confirmed: nothing is tried. */
  activate (fixture->wizard, "wizard.add");
  g_assert_nonnull (strstr (status_text (fixture->wizard), "Confirm"));
  g_assert_false (gtk_widget_get_visible (child (fixture->wizard, "busy_spinner")));

  /* Confirmed: the login test runs (and fails: there is no such user). */
  gtk_check_button_set_active (child (fixture->wizard, "confirm_check"), TRUE);
  activate (fixture->wizard, "wizard.add");
  g_assert_true (gtk_widget_get_visible (child (fixture->wizard, "busy_spinner")));
  tern_test_wait_until (not_busy, fixture->wizard, "the login test");
  g_test_message ("%s", status_text (fixture->wizard));
  g_assert_nonnull (strstr (status_text (fixture->wizard), "incoming server"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                      tern_context_get_accounts (fixture->context))), ==, 0);
}

/* The form by hand: ports follow the security and the protocol until the
 * user types their own; missing fields are said; a failing outgoing step
 * is named; what passes is saved as entered. */
static void
test_manual (Fixture       *fixture,
             gconstpointer  data)
{
  GtkSpinButton *incoming_port = manual_child (fixture->wizard, "incoming_port");
  GtkSpinButton *outgoing_port = manual_child (fixture->wizard, "outgoing_port");
  AdwComboRow *incoming_security = manual_child (fixture->wizard, "incoming_security_row");
  AdwComboRow *incoming_protocol = manual_child (fixture->wizard, "incoming_protocol_row");
  AdwComboRow *outgoing_security = manual_child (fixture->wizard, "outgoing_security_row");
  g_autoptr(TernAccount) account = NULL;

  fill_details (fixture->wizard, "Alice", tern_test_servers_get_user (servers, 0), "x");
  activate (fixture->wizard, "wizard.edit-manually");
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "manual");
  save_screenshot (GTK_WIDGET (fixture->wizard), "wizard-manual.png");

  g_assert_cmpint (gtk_spin_button_get_value_as_int (incoming_port), ==, 993);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (outgoing_port), ==, 465);
  adw_combo_row_set_selected (incoming_security, 1); /* STARTTLS */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (incoming_port), ==, 143);
  adw_combo_row_set_selected (incoming_protocol, 1); /* POP3 */
  g_assert_cmpint (gtk_spin_button_get_value_as_int (incoming_port), ==, 110);
  adw_combo_row_set_selected (incoming_security, 0);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (incoming_port), ==, 995);
  adw_combo_row_set_selected (outgoing_security, 1);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (outgoing_port), ==, 587);
  /* A port of the user's own stays. */
  gtk_spin_button_set_value (outgoing_port, 2525);
  adw_combo_row_set_selected (outgoing_security, 0);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (outgoing_port), ==, 2525);

  activate (fixture->wizard, "wizard.add");
  g_assert_nonnull (strstr (status_text (fixture->wizard), "incoming server"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (
                      tern_context_get_accounts (fixture->context))), ==, 0);

  /* The real servers by hand, with Bob's name for SMTP and Alice's
   * password: the outgoing step fails, and says so. */
  gtk_editable_set_text (child (fixture->wizard, "password_row"),
                         tern_test_servers_get_password (servers, 0));
  adw_combo_row_set_selected (incoming_protocol, 0);
  adw_combo_row_set_selected (incoming_security, 0);
  gtk_editable_set_text (manual_child (fixture->wizard, "incoming_host_row"), "127.0.0.1");
  gtk_spin_button_set_value (incoming_port,
                             tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  gtk_editable_set_text (manual_child (fixture->wizard, "incoming_username_row"),
                         tern_test_servers_get_user (servers, 0));
  gtk_editable_set_text (manual_child (fixture->wizard, "outgoing_host_row"), "127.0.0.1");
  gtk_spin_button_set_value (outgoing_port,
                             tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS));
  gtk_editable_set_text (manual_child (fixture->wizard, "outgoing_username_row"),
                         tern_test_servers_get_user (servers, 1));
  activate (fixture->wizard, "wizard.add");
  tern_test_wait_until (not_busy, fixture->wizard, "the login test");
  g_test_message ("%s", status_text (fixture->wizard));
  g_assert_cmpstr (tern_account_wizard_get_page (fixture->wizard), ==, "manual");
  g_assert_nonnull (strstr (status_text (fixture->wizard), "outgoing server did not"));
  g_assert_nonnull (strstr (status_text (fixture->wizard), "password"));

  /* Alice's name: it passes, and the account is what the form said. */
  gtk_editable_set_text (manual_child (fixture->wizard, "outgoing_username_row"),
                         tern_test_servers_get_user (servers, 0));
  activate (fixture->wizard, "wizard.add");
  tern_test_wait_until (is_gone, fixture, "the wizard to close after adding");
  account = only_account (fixture);
  g_assert_cmpint (tern_account_get_protocol (account), ==, TERN_ACCOUNT_PROTOCOL_IMAP);
  g_assert_cmpuint (tern_account_get_outgoing (account)->port, ==,
                    tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS));
  assert_password_in_keyring_only (fixture, account, tern_test_servers_get_password (servers, 0));
}

/* In Russian (LANGUAGE=ru; the test environment's locale is C.UTF-8,
 * under which glibc honours LANGUAGE): the wizard and the main window. */
static void
test_russian (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = tern_test_make_tmpdir ("tern-wizard-ru-XXXXXX");
      g_autofree char *profile = g_build_filename (dir, "profile", NULL);
      TernContext *context = tern_context_new (profile, &error);
      TernWindow *window;
      TernAccountWizard *wizard;

      g_assert_no_error (error);
      g_assert_cmpstr (g_getenv ("LANGUAGE"), ==, "ru");
      window = tern_window_new (NULL, context, NULL);
      gtk_window_present (GTK_WINDOW (window));
      wizard = tern_account_wizard_new (GTK_WINDOW (window), context);
      gtk_window_present (GTK_WINDOW (wizard));
      tern_test_drain ();
      save_screenshot (GTK_WIDGET (wizard), "wizard-ru.png");

      g_assert_true (tern_test_shows_label (GTK_WIDGET (window), "Учётных записей пока нет"));
      g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (wizard)), ==, "Добавить учётную запись");
      g_assert_true (tern_test_shows_label (GTK_WIDGET (wizard), "Ваша почтовая учётная запись"));
      g_assert_true (tern_test_shows_label (GTK_WIDGET (wizard), "Адрес электронной почты"));
      g_assert_true (tern_test_shows_label (GTK_WIDGET (wizard), "Продолжить"));

      /* An inline error too. */
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (wizard), "wizard.continue", NULL));
      g_test_message ("%s", status_text (wizard));
      g_assert_nonnull (strstr (status_text (wizard), "имя"));

      gtk_window_destroy (GTK_WINDOW (wizard));
      gtk_window_destroy (GTK_WINDOW (window));
      tern_test_drain ();
      g_assert_finalize_object (context);
      tern_test_remove_tree (dir);
      return;
    }
  g_setenv ("LANGUAGE", "ru", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT
                                     | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("LANGUAGE");
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *localedir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* The translations built with the tests, for the Russian test. */
  localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

#define ADD(name, address, func)                                                                  \
  g_test_add ("/tern/ui/wizard/" name, Fixture, address, fixture_setup, func, fixture_teardown)
  ADD ("add-account", NULL, test_add_account);
  ADD ("wrong-password", NULL, test_wrong_password);
  ADD ("certificate", "127.0.0.3", test_certificate);
  ADD ("shipped-providers", NULL, test_shipped_providers);
  ADD ("insecure-confirm", NULL, test_insecure_confirm);
  ADD ("manual", NULL, test_manual);
#undef ADD
  g_test_add_func ("/tern/ui/wizard/russian", test_russian);
  status = g_test_run ();

  tern_test_servers_free (servers);
  return status;
}
