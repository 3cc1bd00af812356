/* test-composer-window.c: the composer window under a real X server (Xvfb)
 * with the real Dovecot and Postfix: a message with an attachment sent
 * through the outbox arrives in Bob's mailbox with its subject and
 * attachment, and its copy is in Alice's Sent; a reply to a synced message
 * (its body fetched from the server) arrives with In-Reply-To and
 * References, its attachment, and its copy in Sent; a reply to a message
 * sent to an alias goes out from the alias, also after a draft of it was
 * reopened; a draft saved by the timer, the window closed, reopened from
 * Drafts is unchanged, and closing with changes asks and saves a newer
 * version; an invalid address is marked and nothing is sent; address
 * completion from the cache; a mailto: link with attach= opens without
 * attachments.
 *
 * With TERN_TEST_SCREENSHOT_DIR=DIR the test saves composer.png there.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <gdk/x11/gdkx.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tern-application.h"
#include "tern-composer-window.h"
#include "tern-identity.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-message-content.h"
#include "tern-outbox.h"
#include "tern-test-servers.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-window.h"

#define DEADLINE_SECONDS 60
#define ATTACHMENT_NAME "Отчёт за ноябрь.txt"
#define ATTACHMENT_DATA "Итоги ноября: всё готово.\nLine two of the report.\n"

static TernTestServers *servers;
static char *password_file[2];

typedef struct
{
  char *dir;
  TernContext *context;
  TernAccount *account; /* the manager's */
} Profile;

typedef struct
{
  Profile alice;
  Profile bob;
} Fixture;

/* Helpers */

static char *
run (const char *const *argv,
     const char        *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                     | (input != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0),
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_steal_pointer (&out);
}

/* The Message-IDs and subjects (tab separated lines) of @user's @mailbox
 * on the server. */
static char *
server_mailbox (guint       user,
                const char *mailbox)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                         "-f", "tab", "fetch", "-u", tern_test_servers_get_user (servers, user),
                         "hdr.message-id hdr.subject", "mailbox", mailbox, "all", NULL };

  return run (argv, NULL);
}

static void
save_to_server (guint       user,
                const char *raw)
{
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                         "save", "-u", tern_test_servers_get_user (servers, user), "-m", "INBOX",
                         NULL };

  g_free (run (argv, raw));
}

static void
sync_profile (Profile            *profile,
              TernImapSyncBodies  bodies)
{
  g_autoptr(GError) error = NULL;

  tern_imap_sync_account (profile->context, profile->account, bodies, NULL, NULL, NULL, NULL,
                          &error);
  g_assert_no_error (error);
}

static void
profile_open (Profile    *profile,
              guint       user,
              const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *path = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file[user]);
  const char *address = tern_test_servers_get_user (servers, user);

  profile->dir = tern_test_make_tmpdir ("tern-composer-window-XXXXXX");
  path = g_build_filename (profile->dir, "profile", NULL);
  profile->context = tern_context_new (path, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (profile->context, tern_test_servers_get_ca_file (servers));
  incoming = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS),
                              TERN_TLS_MODE_IMPLICIT);
  outgoing = tern_server_new ("127.0.0.1",
                              tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSION),
                              TERN_TLS_MODE_STARTTLS);
  incoming->username = g_strdup (address);
  outgoing->username = g_strdup (address);
  account = tern_account_new (name, address, TERN_ACCOUNT_PROTOCOL_IMAP, incoming, outgoing);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (profile->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  profile->account = account;
  /* Folders known (Sent for the outbox's copy, Drafts for drafts). */
  sync_profile (profile, TERN_IMAP_SYNC_BODIES_NONE);
}

/* Waits for the worker pool's jobs, which hold the context. */
static void
profile_close (Profile *profile)
{
  tern_test_wait_for_last_ref (profile->context);
  g_assert_finalize_object (profile->context);
  tern_test_remove_tree (profile->dir);
  g_free (profile->dir);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  profile_open (&fixture->alice, 0, "Алиса Иванова");
  profile_open (&fixture->bob, 1, "Боб Петров");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  profile_close (&fixture->alice);
  profile_close (&fixture->bob);
}

static char *
unique_subject (const char *what)
{
  return g_strdup_printf ("Отчёт: %s %" G_GINT64_FORMAT, what, g_get_real_time ());
}

static GFile *
write_attachment (Profile *profile)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (profile->dir, ATTACHMENT_NAME, NULL);

  g_file_set_contents (path, ATTACHMENT_DATA, -1, &error);
  g_assert_no_error (error);
  return g_file_new_for_path (path);
}

static TernComposerWindow *
present (TernComposerWindow *window)
{
  gtk_window_present (GTK_WINDOW (window));
  tern_test_drain ();
  return window;
}

static gboolean
shows_attachment (gpointer data)
{
  return tern_test_shows_label (data, ATTACHMENT_NAME);
}

static gboolean
is_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* The outbox's only sent row of @profile, once it is sent. */
typedef struct
{
  Profile *profile;
  char *message_id;
} Outbox;

static gboolean
outbox_sent (gpointer data)
{
  Outbox *outbox = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = tern_outbox_list (tern_context_get_store (outbox->profile->context),
                                                   0, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      TernOutboxEntry *entry = entries->pdata[i];

      g_assert_cmpint (entry->state, !=, TERN_OUTBOX_STATE_FAILED);
      if (entry->state == TERN_OUTBOX_STATE_SENT && outbox->message_id == NULL)
        outbox->message_id = g_strdup (entry->message_id);
    }
  return outbox->message_id != NULL;
}

typedef struct
{
  guint user;
  const char *mailbox;
  const char *needle;
} ServerWait;

static gboolean
server_has (gpointer data)
{
  ServerWait *wait = data;
  g_autofree char *out = server_mailbox (wait->user, wait->mailbox);

  return strstr (out, wait->needle) != NULL;
}

static gboolean
server_lacks (gpointer data)
{
  return !server_has (data);
}

/* Bob syncs until the message @message_id is in his Inbox; its raw bytes. */
static GBytes *
bob_receives (Profile    *bob,
              const char *message_id)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_SECONDS * G_USEC_PER_SEC;
  TernStore *store = tern_context_get_store (bob->context);
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GError) error = NULL;

  inbox = tern_mail_store_find_folder (store, tern_account_get_id (bob->account), "INBOX", &error);
  g_assert_no_error (error);
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GPtrArray) messages = NULL;

      sync_profile (bob, TERN_IMAP_SYNC_BODIES_ALL);
      messages = tern_mail_store_list_messages (store, inbox->id, 0, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < messages->len; i++)
        {
          TernMailMessage *message = messages->pdata[i];

          if (g_strcmp0 (message->message_id, message_id) == 0)
            {
              GBytes *body = tern_mail_store_get_body (store, message->id, &error);

              g_assert_no_error (error);
              g_assert_nonnull (body);
              return body;
            }
        }
      g_usleep (G_USEC_PER_SEC / 5);
    }
  g_error ("Bob never received %s", message_id);
  return NULL;
}

static gint64
message_row (Profile    *profile,
             const char *folder_name,
             const char *message_id)
{
  TernStore *store = tern_context_get_store (profile->context);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = tern_mail_store_find_folder (
    store, tern_account_get_id (profile->account), folder_name, &error);
  g_autoptr(GPtrArray) messages = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (folder);
  messages = tern_mail_store_list_messages (store, folder->id, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = messages->pdata[i];

      if (g_strcmp0 (message->message_id, message_id) == 0)
        return message->id;
    }
  return 0;
}

static GMimeMessage *
parse (GBytes *bytes)
{
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (bytes, NULL),
                                                           g_bytes_get_size (bytes));
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_assert_nonnull (message);
  g_object_unref (parser);
  g_object_unref (stream);
  return message;
}

/* A header's tokens separated by single spaces (unfolded). */
static char *
squeeze (const char *header)
{
  g_auto(GStrv) tokens = g_strsplit_set (header != NULL ? header : "", " \t\r\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; tokens[i] != NULL; i++)
    if (*tokens[i] != '\0')
      g_string_append_printf (out, "%s%s", out->len > 0 ? " " : "", tokens[i]);
  return g_string_free (out, FALSE);
}

static void
assert_one_attachment (TernMessageContent *content)
{
  GPtrArray *attachments = tern_message_content_get_attachments (content);
  const TernMessageAttachment *attachment;

  g_assert_cmpuint (attachments->len, ==, 1);
  attachment = attachments->pdata[0];
  g_assert_cmpstr (attachment->filename, ==, ATTACHMENT_NAME);
  g_assert_cmpmem (g_bytes_get_data (attachment->data, NULL), g_bytes_get_size (attachment->data),
                   ATTACHMENT_DATA, strlen (ATTACHMENT_DATA));
}

/* Tests */

/* Completion, an invalid address, then a message with an attachment sent:
 * in Bob's Inbox and in Alice's Sent. */
static void
test_send (Fixture       *fixture,
           gconstpointer  data)
{
  /* Found by its Message-ID: the subject can be what a person writes. */
  const char *subject = "Отчёт за ноябрь";
  g_autoptr(GFile) file = write_attachment (&fixture->alice);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  TernComposerWindow *window;
  TernComposer *composer;
  TernAddressEntry *to_entry;
  GtkEntry *entry;
  GtkWidget *focus;
  Outbox outbox = { &fixture->alice, NULL };
  ServerWait sent = { 0, "Sent", NULL };

  /* Someone Alice heard from, for completion. */
  save_to_server (0, "From: =?UTF-8?B?0JHQvtGA0LjRgSDQodC80LjRgNC90L7Qsg==?= <boris@example.ru>\n"
                     "To: alice@tern.test\nSubject: hello\nMessage-ID: <boris-1@tern.test>\n"
                     "Date: Thu, 26 Nov 2026 10:00:00 +0000\n\nhi\n");
  sync_profile (&fixture->alice, TERN_IMAP_SYNC_BODIES_NONE);

  window = present (tern_composer_window_new (NULL, fixture->alice.context, NULL));
  gtk_window_set_default_size (GTK_WINDOW (window), 760, 600);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  g_assert_true (tern_composer_get_account (composer) == fixture->alice.account);
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "Алиса Иванова <alice@tern.test>");

  /* "бор" (lower case) completes Борис from the cache. */
  to_entry = tern_composer_window_get_to_entry (window);
  entry = tern_address_entry_get_entry (to_entry);
  gtk_widget_grab_focus (GTK_WIDGET (entry));
  gtk_editable_set_text (GTK_EDITABLE (entry), "bob@tern.test, бор");
  tern_test_drain ();
  g_assert_cmpuint (g_list_model_get_n_items (tern_address_entry_get_completions (to_entry)), ==, 1);
  /* The completions show without taking the focus from the entry. */
  focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_true (focus == GTK_WIDGET (entry) || gtk_widget_is_ancestor (focus, GTK_WIDGET (entry)));
  tern_address_entry_complete (to_entry, 0);
  g_assert_cmpstr (tern_composer_get_to (composer), ==,
                   "bob@tern.test, Борис Смирнов <boris@example.ru>, ");

  /* An address that does not parse: marked, said, nothing queued. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "bob@tern.test, <carol@@example");
  tern_composer_set_subject (composer, subject);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "composer.send", NULL));
  tern_test_drain ();
  g_assert_nonnull (window);
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
  g_assert_cmpstr (tern_composer_window_get_status (window), !=, "");
  {
    g_autoptr(GPtrArray) entries = tern_outbox_list (tern_context_get_store (fixture->alice.context),
                                                     0, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (entries->len, ==, 0);
  }

  /* Fixed, with an attachment. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "Боб Петров <bob@tern.test>");
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (entry), "error"));
  tern_composer_set_body (composer, "Привет, Боб!\n\nОтчёт во вложении.\n\nАлиса\n");
  g_assert_true (tern_composer_window_add_file (window, file, &error));
  g_assert_no_error (error);
  tern_test_wait_until (shows_attachment, window, "the attachment in the list");
  tern_test_save_screenshot (GTK_WIDGET (window), "composer.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "composer.send", NULL));
  tern_test_wait_until (is_gone, &window, "the window to close after Send");
  tern_test_wait_until (outbox_sent, &outbox, "the outbox to send the message");

  received = bob_receives (&fixture->bob, outbox.message_id);
  content = tern_message_content_new (received, NULL);
  g_assert_cmpstr (tern_message_content_get_subject (content), ==, subject);
  g_assert_nonnull (strstr (tern_message_content_get_text (content), "Отчёт во вложении."));
  assert_one_attachment (content);

  sent.needle = outbox.message_id;
  tern_test_wait_until (server_has, &sent, "the copy in Alice's Sent");
  g_free (outbox.message_id);
}

/* A reply to a message synced without its body: the body comes from the
 * server, the reply arrives threaded. */
static void
test_reply (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *subject = unique_subject ("reply");
  g_autofree char *raw = NULL;
  g_autofree char *original_id = g_strdup_printf ("original-%" G_GINT64_FORMAT "@tern.test",
                                                  g_get_real_time ());
  g_autoptr(GBytes) received = NULL;
  GMimeMessage *message;
  g_autofree char *expected_irt = NULL;
  g_autofree char *expected_refs = NULL;
  g_autofree char *in_reply_to = NULL;
  g_autofree char *references = NULL;
  g_autoptr(TernComposer) reply = NULL;
  g_autoptr(GFile) file = write_attachment (&fixture->alice);
  g_autoptr(TernMessageContent) content = NULL;
  g_autoptr(GError) error = NULL;
  TernComposerWindow *window;
  TernComposer *composer;
  Outbox outbox = { &fixture->alice, NULL };
  ServerWait sent = { 0, "Sent", NULL };
  gint64 row;

  raw = g_strdup_printf ("From: Bob <bob@tern.test>\nTo: Alice <alice@tern.test>\n"
                         "Subject: %s\nMessage-ID: <%s>\nReferences: <root@tern.test>\n"
                         "In-Reply-To: <root@tern.test>\n"
                         "Date: Thu, 26 Nov 2026 10:00:00 +0000\n\nWhat do you think?\n",
                         subject, original_id);
  save_to_server (0, raw);
  sync_profile (&fixture->alice, TERN_IMAP_SYNC_BODIES_NONE);
  row = message_row (&fixture->alice, "INBOX", original_id);
  g_assert_cmpint (row, !=, 0);

  window = present (tern_composer_window_new_reply (NULL, fixture->alice.context, row,
                                                    TERN_REPLY_MODE_REPLY));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  tern_test_wait_until ((TernTestPredicate) tern_composer_window_get_ready, window,
                        "the original's body");
  g_assert_cmpstr (tern_composer_window_get_status (window), ==, "");
  composer = tern_composer_window_get_composer (window);
  g_assert_nonnull (strstr (tern_composer_get_to (composer), "bob@tern.test"));
  g_assert_true (g_str_has_prefix (tern_composer_get_subject (composer), "Re: "));
  g_assert_nonnull (strstr (tern_composer_get_body (composer), "> What do you think?"));
  tern_composer_set_body (composer, "I agree.\n");
  g_assert_true (tern_composer_window_add_file (window, file, &error));
  g_assert_no_error (error);
  reply = g_object_ref (composer);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "composer.send", NULL));
  tern_test_wait_until (is_gone, &window, "the window to close after Send");
  tern_test_wait_until (outbox_sent, &outbox, "the outbox to send the reply");

  received = bob_receives (&fixture->bob, outbox.message_id);
  message = parse (received);
  expected_irt = g_strdup_printf ("<%s>", original_id);
  expected_refs = g_strdup_printf ("<root@tern.test> <%s>", original_id);
  in_reply_to = squeeze (g_mime_object_get_header (GMIME_OBJECT (message), "In-Reply-To"));
  references = squeeze (g_mime_object_get_header (GMIME_OBJECT (message), "References"));
  g_assert_cmpstr (in_reply_to, ==, expected_irt);
  g_assert_cmpstr (references, ==, expected_refs);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, tern_composer_get_subject (reply));
  g_object_unref (message);
  content = tern_message_content_new (received, NULL);
  assert_one_attachment (content);

  sent.needle = outbox.message_id;
  tern_test_wait_until (server_has, &sent, "the reply's copy in Alice's Sent");
  g_free (outbox.message_id);
}

/* A message sent to an alias of Alice's: the reply goes out from the
 * alias (From, Reply-To, signature); saved as a draft and reopened it
 * still does; sent from there it arrives that way, and Sent has it. */
static void
test_identity (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *subject = unique_subject ("alias");
  g_autofree char *original_id = g_strdup_printf ("alias-%" G_GINT64_FORMAT "@tern.test",
                                                  g_get_real_time ());
  g_autofree char *raw = NULL;
  g_autoptr(TernIdentity) alias = tern_identity_new (fixture->alice.account, "Alice Sales",
                                                     "sales@tern.test");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) received = NULL;
  g_autofree char *reply_to = NULL;
  TernComposerWindow *window;
  TernComposer *composer;
  GtkDropDown *from;
  GMimeMessage *message;
  Outbox outbox = { &fixture->alice, NULL };
  ServerWait sent = { 0, "Sent", NULL };
  gint64 row;
  gint64 draft_id;

  tern_identity_set_reply_to (alias, "team@tern.test");
  tern_identity_set_signature (alias, "Alice\nSales team");
  g_assert_true (tern_identities_save (tern_context_get_store (fixture->alice.context), alias,
                                       NULL, &error));
  g_assert_no_error (error);
  raw = g_strdup_printf ("From: Bob <bob@tern.test>\nTo: Sales <sales@tern.test>\n"
                         "Subject: %s\nMessage-ID: <%s>\n"
                         "Date: Thu, 26 Nov 2026 10:00:00 +0000\n\nA quote, please.\n",
                         subject, original_id);
  save_to_server (0, raw);
  sync_profile (&fixture->alice, TERN_IMAP_SYNC_BODIES_NONE);
  row = message_row (&fixture->alice, "INBOX", original_id);
  g_assert_cmpint (row, !=, 0);

  window = present (tern_composer_window_new_reply (NULL, fixture->alice.context, row,
                                                    TERN_REPLY_MODE_REPLY));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  tern_test_wait_until ((TernTestPredicate) tern_composer_window_get_ready, window,
                        "the original's body");
  composer = tern_composer_window_get_composer (window);
  from = GTK_DROP_DOWN (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                       TERN_TYPE_COMPOSER_WINDOW, "from_dropdown"));
  g_assert_cmpuint (gtk_drop_down_get_selected (from), ==, 1);
  g_assert_cmpstr (tern_composer_get_from (composer), ==, "Alice Sales <sales@tern.test>");
  g_assert_cmpstr (tern_composer_get_reply_to (composer), ==, "team@tern.test");
  g_assert_true (g_str_has_suffix (tern_composer_get_body (composer),
                                   "\n-- \nAlice\nSales team\n"));
  g_assert_true (tern_test_shows_label (GTK_WIDGET (window),
                                        "Alice Sales <sales@tern.test> — Алиса Иванова"));

  /* A draft keeps the identity. */
  g_assert_true (tern_composer_window_save_draft (window, &error));
  g_assert_no_error (error);
  draft_id = tern_composer_window_get_draft_id (window);
  gtk_window_close (GTK_WINDOW (window));
  tern_test_wait_until (is_gone, &window, "the window to close");
  window = present (tern_composer_window_new_from_draft (NULL, fixture->alice.context, draft_id));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  from = GTK_DROP_DOWN (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                       TERN_TYPE_COMPOSER_WINDOW, "from_dropdown"));
  g_assert_cmpuint (gtk_drop_down_get_selected (from), ==, 1);
  g_assert_nonnull (tern_composer_get_identity (composer));
  g_assert_cmpstr (tern_identity_get_address (tern_composer_get_identity (composer)), ==,
                   "sales@tern.test");
  g_assert_cmpstr (tern_composer_get_reply_to (composer), ==, "team@tern.test");
  /* The signature once, not twice. */
  g_assert_true (g_str_has_suffix (tern_composer_get_body (composer),
                                   "\n-- \nAlice\nSales team\n"));
  g_assert_null (strstr (tern_composer_get_body (composer), "Sales team\n\n-- "));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "composer.send", NULL));
  tern_test_wait_until (is_gone, &window, "the window to close after Send");
  tern_test_wait_until (outbox_sent, &outbox, "the outbox to send the reply");
  received = bob_receives (&fixture->bob, outbox.message_id);
  message = parse (received);
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (
                     internet_address_list_get_address (g_mime_message_get_from (message), 0))),
                   ==, "sales@tern.test");
  reply_to = internet_address_list_to_string (g_mime_message_get_reply_to (message), NULL, FALSE);
  g_assert_cmpstr (reply_to, ==, "team@tern.test");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (message), "Return-Path"), ==,
                   "<sales@tern.test>");
  g_object_unref (message);
  sent.needle = outbox.message_id;
  tern_test_wait_until (server_has, &sent, "the copy in Alice's Sent");
  g_free (outbox.message_id);
}

static gboolean
has_draft (gpointer data)
{
  return tern_composer_window_get_draft_id (data) != 0;
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

/* Saved by the timer, closed, reopened unchanged; changed again, closing
 * asks, and Save replaces the draft on the server. */
static void
test_draft (Fixture       *fixture,
            gconstpointer  data)
{
  /* ASCII: doveadm shows the Subject as it is in the header. */
  g_autofree char *subject = g_strdup_printf ("Draft report %" G_GINT64_FORMAT,
                                              g_get_real_time ());
  g_autofree char *subject2 = g_strconcat (subject, " v2", NULL);
  g_autoptr(GFile) file = write_attachment (&fixture->alice);
  g_autoptr(GError) error = NULL;
  TernComposerWindow *window;
  TernComposer *composer;
  AdwMessageDialog *dialog;
  g_autofree char *old_line = NULL;
  ServerWait drafts = { 0, "Drafts", subject };
  gint64 draft_id;

  window = present (tern_composer_window_new (NULL, fixture->alice.context, NULL));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  tern_composer_set_to (composer, "Боб Петров <bob@tern.test>");
  tern_composer_set_cc (composer, "carol@tern.test");
  tern_composer_set_subject (composer, subject);
  tern_composer_set_body (composer, "Черновик.\n\nВторая строка.\n");
  g_assert_true (tern_composer_window_add_file (window, file, &error));
  g_assert_no_error (error);

  /* The timer saves it a few seconds after the last change. */
  tern_test_wait_until (has_draft, window, "the draft to be saved");
  draft_id = tern_composer_window_get_draft_id (window);
  g_assert_cmpstr (tern_composer_window_get_status (window), ==, "Draft saved");
  gtk_window_close (GTK_WINDOW (window));
  tern_test_wait_until (is_gone, &window, "the window to close");
  tern_test_wait_until (server_has, &drafts, "the draft in the server's Drafts");

  /* Reopened: the same fields and attachment. */
  window = present (tern_composer_window_new_from_draft (NULL, fixture->alice.context, draft_id));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  g_assert_nonnull (composer);
  g_assert_true (tern_composer_get_account (composer) == fixture->alice.account);
  g_assert_cmpstr (tern_composer_get_to (composer), ==, "Боб Петров <bob@tern.test>");
  g_assert_cmpstr (tern_composer_get_cc (composer), ==, "carol@tern.test");
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, subject);
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Черновик.\n\nВторая строка.\n");
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 1);
  g_assert_cmpstr (tern_composer_get_attachment_name (composer, 0), ==, ATTACHMENT_NAME);
  tern_test_wait_until (shows_attachment, window, "the draft's attachment in the list");

  /* Changed and closed at once: asked, saved as a newer version. */
  tern_composer_set_subject (composer, subject2);
  gtk_window_close (GTK_WINDOW (window));
  tern_test_drain ();
  g_assert_nonnull (window);
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "save");
  tern_test_wait_until (is_gone, &window, "the window to close after Save");
  drafts.needle = subject2;
  tern_test_wait_until (server_has, &drafts, "the newer draft on the server");
  /* Exactly the newest version: the first one leaves. */
  old_line = g_strconcat (subject, "\n", NULL);
  drafts.needle = old_line;
  tern_test_wait_until (server_lacks, &drafts, "the older draft to leave the server's Drafts");
}

/* A draft with only some text: the timer saves it, reopened it has the
 * same (empty) fields; changed and closed, Save keeps it; Send still
 * refuses it. */
static void
test_draft_without_recipients (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *body = g_strdup_printf ("Just a thought %" G_GINT64_FORMAT ".\n",
                                           g_get_real_time ());
  g_autofree char *body2 = g_strconcat (body, "And another.\n", NULL);
  TernComposerWindow *window;
  TernComposer *composer;
  AdwMessageDialog *dialog;
  gint64 draft_id;

  window = present (tern_composer_window_new (NULL, fixture->alice.context, NULL));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  tern_composer_set_body (composer, body);
  tern_test_wait_until (has_draft, window, "the draft to be saved");
  g_assert_cmpstr (tern_composer_window_get_status (window), ==, "Draft saved");
  draft_id = tern_composer_window_get_draft_id (window);
  gtk_window_close (GTK_WINDOW (window));
  tern_test_wait_until (is_gone, &window, "the window to close");

  window = present (tern_composer_window_new_from_draft (NULL, fixture->alice.context, draft_id));
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  composer = tern_composer_window_get_composer (window);
  g_assert_nonnull (composer);
  g_assert_cmpstr (tern_composer_get_to (composer), ==, NULL);
  g_assert_cmpstr (tern_composer_get_cc (composer), ==, NULL);
  g_assert_cmpstr (tern_composer_get_bcc (composer), ==, NULL);
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, body);

  /* Send says what is missing and keeps the window. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "composer.send", NULL));
  tern_test_drain ();
  g_assert_nonnull (window);
  g_assert_nonnull (strstr (tern_composer_window_get_status (window), "recipient"));

  /* Closing with a change asks; Save keeps the newer text. */
  tern_composer_set_body (composer, body2);
  gtk_window_close (GTK_WINDOW (window));
  tern_test_drain ();
  dialog = find_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "save");
  tern_test_wait_until (is_gone, &window, "the window to close after Save");
}

static void
test_mailto (Fixture       *fixture,
             gconstpointer  data)
{
  TernComposerWindow *window = present (tern_composer_window_new_from_mailto (
    NULL, fixture->alice.context,
    "mailto:bob@tern.test?subject=From%20a%20link&attach=/etc/passwd"
    "&attachment=file:///etc/passwd&body=Hello"));
  TernComposer *composer = tern_composer_window_get_composer (window);

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_assert_cmpstr (tern_composer_get_to (composer), ==, "bob@tern.test");
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "From a link");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "Hello");
  g_assert_cmpuint (tern_composer_get_n_attachments (composer), ==, 0);
  g_assert_false (tern_test_shows_label (GTK_WIDGET (window), "passwd"));
  /* Nothing typed: closes without asking. */
  gtk_window_close (GTK_WINDOW (window));
  tern_test_wait_until (is_gone, &window, "the window to close");
}

static gboolean
list_has_rows (gpointer data)
{
  GtkListView *list_view =
    tern_message_list_view_get_list_view (tern_window_get_message_list_view (data));
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (list_view));

  return model != NULL && g_list_model_get_n_items (model) > 0;
}

static TernComposerWindow *
find_composer (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (TERN_IS_COMPOSER_WINDOW (window))
        return TERN_COMPOSER_WINDOW (window);
    }
  return NULL;
}

/* The main window's Reply and New Message open composers, and so does a
 * draft opened in the Drafts folder. */
static void
test_main_window (Fixture       *fixture,
                  gconstpointer  data)
{
  TernWindow *main_window;
  TernComposerWindow *window;
  TernComposer *composer;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) drafts = NULL;

  /* A day ahead, so that no message an earlier test sent "now" is newer. */
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) tomorrow = g_date_time_add_days (now, 1);
  g_autofree char *date = g_date_time_format (tomorrow, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *raw = g_strdup_printf ("From: Bob <bob@tern.test>\nTo: alice@tern.test\n"
                                          "Subject: Lunch?\nMessage-ID: <lunch@tern.test>\n"
                                          "Date: %s\n\nLunch at noon?\n", date);

  /* The newest message: the first row. */
  save_to_server (0, raw);
  sync_profile (&fixture->alice, TERN_IMAP_SYNC_BODIES_NONE);
  main_window = tern_window_new (NULL, fixture->alice.context, NULL);
  gtk_window_present (GTK_WINDOW (main_window));
  tern_test_wait_until (list_has_rows, main_window, "the Inbox's rows");
  tern_message_list_view_select (tern_window_get_message_list_view (main_window), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (main_window), "win.reply", NULL));
  window = find_composer ();
  g_assert_nonnull (window);
  tern_test_wait_until ((TernTestPredicate) tern_composer_window_get_ready, window,
                        "the reply's fields");
  composer = tern_composer_window_get_composer (window);
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "Re: Lunch?");
  g_assert_cmpstr (tern_composer_get_in_reply_to (composer), ==, "lunch@tern.test");
  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (main_window), "win.compose", NULL));
  window = find_composer ();
  g_assert_nonnull (window);
  g_assert_true (tern_composer_get_account (tern_composer_window_get_composer (window))
                 == fixture->alice.account);
  /* Saved as a draft, it reopens from the Drafts folder ("e", or a row
   * activated). */
  composer = tern_composer_window_get_composer (window);
  tern_composer_set_subject (composer, "Unfinished");
  tern_composer_set_body (composer, "To be continued.\n");
  g_assert_true (tern_composer_window_save_draft (window, &error));
  g_assert_no_error (error);
  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();
  drafts = tern_mail_store_find_folder_by_role (tern_context_get_store (fixture->alice.context),
                                                tern_account_get_id (fixture->alice.account),
                                                "drafts", &error);
  g_assert_no_error (error);
  g_assert_true (tern_sidebar_select_folder (tern_window_get_sidebar (main_window), drafts->id));
  tern_test_wait_until (list_has_rows, main_window, "the Drafts' rows");
  tern_message_list_view_select (tern_window_get_message_list_view (main_window), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (main_window), "win.edit-draft", NULL));
  window = find_composer ();
  g_assert_nonnull (window);
  composer = tern_composer_window_get_composer (window);
  g_assert_nonnull (composer);
  g_assert_cmpstr (tern_composer_get_subject (composer), ==, "Unfinished");
  g_assert_cmpstr (tern_composer_get_body (composer), ==, "To be continued.\n");
  gtk_window_destroy (GTK_WINDOW (window));
  gtk_window_destroy (GTK_WINDOW (main_window));
  tern_worker_pool_cancel_account (tern_context_get_worker_pool (fixture->alice.context),
                                   fixture->alice.account);
}

static gboolean
is_delete_button (GtkWidget *widget)
{
  return GTK_IS_BUTTON (widget)
         && g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (widget)), "edit-delete-symbolic") == 0;
}

static GtkWidget *
find_delete_button (GtkWidget *widget)
{
  if (is_delete_button (widget))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_delete_button (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  TernComposerWindow *window;
  const char *text;
} ShownSize;

static gboolean
shows_size (gpointer data)
{
  ShownSize *shown = data;

  return tern_test_shows_label (GTK_WIDGET (shown->window), shown->text);
}

/* The outbox learns the server's SIZE (Postfix's message_size_limit of
 * the test servers, 50 MiB) when it sends; an attachment that makes the
 * message larger brings the warning, with its size in the list; removing
 * it takes the warning away. */
/* What a drop of @file onto @window's drop target does. */
static void
drop_file (TernComposerWindow *window,
           GFile              *file)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  GSList files = { file, NULL };
  GValue value = G_VALUE_INIT;
  gboolean accepted = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (&files));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        g_signal_emit_by_name (controller, "drop", &value, 10.0, 10.0, &accepted);
    }
  g_value_unset (&value);
  g_assert_true (accepted);
  tern_test_drain ();
}

static void
test_size_warning (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernComposer) small = tern_composer_new_for_account (fixture->alice.account);
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *path = g_build_filename (fixture->alice.dir, "video.mkv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *size_text = g_format_size (45000000);
  g_autofree char *limit_text = g_format_size (52428800); /* "52.4 MB" */
  TernStore *store = tern_context_get_store (fixture->alice.context);
  TernComposerWindow *window;
  ShownSize shown_size;
  guint n_sent = 0;
  int fd;

  g_assert_cmpuint (tern_outbox_get_size_limit (store, tern_account_get_id (fixture->alice.account)),
                    ==, 0);
  tern_composer_set_to (small, "bob@tern.test");
  tern_composer_set_subject (small, "SIZE");
  tern_composer_set_body (small, "Small enough.\n");
  bytes = tern_composer_to_bytes (small, &error);
  g_assert_no_error (error);
  tern_outbox_enqueue (store, fixture->alice.account, bytes, &error);
  g_assert_no_error (error);
  g_assert_true (tern_outbox_flush (fixture->alice.context, fixture->alice.account, &n_sent, NULL,
                                    &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, 1);
  g_assert_cmpuint (tern_outbox_get_size_limit (store, tern_account_get_id (fixture->alice.account)),
                    ==, 52428800);

  /* 45 MB of nothing: base64 makes it about 61 MB. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 45000000), ==, 0);
  close (fd);

  window = present (tern_composer_window_new (NULL, fixture->alice.context, NULL));
  g_assert_null (tern_composer_window_get_size_warning (window));
  g_assert_true (tern_composer_window_add_file (window, file, &error));
  g_assert_no_error (error);
  tern_test_drain ();
  g_assert_nonnull (tern_composer_window_get_size_warning (window));
  g_assert_nonnull (strstr (tern_composer_window_get_size_warning (window), limit_text));
  g_assert_nonnull (strstr (tern_composer_window_get_size_warning (window), "will not be sent"));
  shown_size.window = window;
  shown_size.text = size_text;
  tern_test_wait_until (shows_size, &shown_size, "the attachment's size in the list");
  tern_test_save_screenshot (GTK_WIDGET (window), "composer-size.png");

  g_signal_emit_by_name (find_delete_button (GTK_WIDGET (window)), "clicked");
  tern_test_drain ();
  g_assert_null (tern_composer_window_get_size_warning (window));
  g_assert_cmpuint (tern_composer_get_n_attachments (tern_composer_window_get_composer (window)),
                    ==, 0);

  /* Dropped onto the window, the file is attached the same way. */
  drop_file (window, file);
  g_assert_cmpuint (tern_composer_get_n_attachments (tern_composer_window_get_composer (window)),
                    ==, 1);
  g_assert_nonnull (tern_composer_window_get_size_warning (window));
  tern_test_wait_until (shows_size, &shown_size, "the dropped attachment's size in the list");
  gtk_window_destroy (GTK_WINDOW (window));
  tern_test_drain ();
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
  for (guint i = 0; i < 2; i++)
    {
      password_file[i] = g_strdup_printf ("%s/password-%u", tern_test_servers_get_dir (servers), i);
      g_file_set_contents (password_file[i], tern_test_servers_get_password (servers, i), -1,
                           &error);
      g_assert_no_error (error);
    }

  g_test_add ("/tern/ui/composer/send", Fixture, NULL, fixture_setup, test_send, fixture_teardown);
  g_test_add ("/tern/ui/composer/reply", Fixture, NULL, fixture_setup, test_reply,
              fixture_teardown);
  g_test_add ("/tern/ui/composer/identity", Fixture, NULL, fixture_setup, test_identity,
              fixture_teardown);
  g_test_add ("/tern/ui/composer/draft", Fixture, NULL, fixture_setup, test_draft,
              fixture_teardown);
  g_test_add ("/tern/ui/composer/mailto", Fixture, NULL, fixture_setup, test_mailto,
              fixture_teardown);
  g_test_add ("/tern/ui/composer/draft-without-recipients", Fixture, NULL, fixture_setup,
              test_draft_without_recipients, fixture_teardown);
  g_test_add ("/tern/ui/composer/size-warning", Fixture, NULL, fixture_setup, test_size_warning,
              fixture_teardown);
  g_test_add ("/tern/ui/composer/main-window", Fixture, NULL, fixture_setup, test_main_window,
              fixture_teardown);
  status = g_test_run ();

  tern_test_servers_free (servers);
  for (guint i = 0; i < 2; i++)
    g_free (password_file[i]);
  return status;
}
