/* test-compose-e2e.c: a message written with TernComposer in Russian (subject,
 * display names, body with "." and ".x" lines, a Cyrillic attachment name)
 * goes through the outbox and the real Postfix (587 and 465) to Dovecot,
 * and comes back unchanged through Tern's IMAP sync and its POP3 download;
 * the Bcc recipient gets it without a Bcc field.  Also `tern-cli compose`.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-composer-private.h"
#include "tern-composer.h"
#include "tern-context.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-outbox.h"
#include "tern-pop3-download.h"
#include "tern-test-servers.h"
#include "tern-test-util.h"

#define ALICE (tern_test_servers_get_user (servers, 0))
#define BOB (tern_test_servers_get_user (servers, 1))

#define ALICE_NAME "Алиса Иванова"
#define BOB_NAME "Боб Петров"
#define ALIAS "sales@tern.test"
#define ALIAS_NAME "Алиса, отдел продаж"
#define ALIAS_REPLY_TO "team@tern.test"
#define BODY "Здравствуй, Боб!\n\nСтрока с точкой ниже:\n.\n.x\n..две точки\nДо встречи.\nАлиса\n"
#define ATTACHMENT_NAME "Отчёт за ноябрь «итоги».pdf"
#define ATTACHMENT "%PDF-1.4\n% отчёт\n1 0 obj << >> endobj\n"
#define WAIT_SECONDS 30

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
  Profile alice;    /* IMAP, sends */
  Profile bob_imap; /* IMAP */
  Profile bob_pop3; /* POP3, the same mailbox */
} Fixture;

typedef struct
{
  TernTestService service;
  TernTlsMode mode;
} Setup;

static const Setup setup_587 = { TERN_TEST_SERVICE_SUBMISSION, TERN_TLS_MODE_STARTTLS };
static const Setup setup_465 = { TERN_TEST_SERVICE_SUBMISSIONS, TERN_TLS_MODE_IMPLICIT };

static void
profile_open (Profile             *profile,
              guint                user,
              const char          *name,
              TernAccountProtocol  protocol,
              const Setup         *setup)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernServer) incoming = NULL;
  g_autoptr(TernServer) outgoing = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *path = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file[user]);
  const char *address = tern_test_servers_get_user (servers, user);
  TernTestService service = protocol == TERN_ACCOUNT_PROTOCOL_IMAP ? TERN_TEST_SERVICE_IMAPS
                                                                   : TERN_TEST_SERVICE_POP3S;

  profile->dir = tern_test_make_tmpdir ("tern-compose-e2e-XXXXXX");
  path = g_build_filename (profile->dir, "profile", NULL);
  profile->context = tern_context_new (path, &error);
  g_assert_no_error (error);
  tern_context_set_ca_file (profile->context, tern_test_servers_get_ca_file (servers));
  incoming = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, service),
                              TERN_TLS_MODE_IMPLICIT);
  if (setup != NULL)
    outgoing = tern_server_new ("127.0.0.1", tern_test_servers_get_port (servers, setup->service),
                                setup->mode);
  account = tern_account_new (name, address, protocol, incoming, outgoing);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (profile->context), account, NULL, NULL,
                            &error);
  g_assert_no_error (error);
  profile->account = account;
}

static void
profile_close (Profile *profile)
{
  g_assert_finalize_object (profile->context);
  tern_test_remove_tree (profile->dir);
  g_free (profile->dir);
}

static char *
profile_path (Profile *profile)
{
  return g_build_filename (profile->dir, "profile", NULL);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  profile_open (&fixture->alice, 0, ALICE_NAME, TERN_ACCOUNT_PROTOCOL_IMAP, data);
  profile_open (&fixture->bob_imap, 1, BOB_NAME, TERN_ACCOUNT_PROTOCOL_IMAP, NULL);
  profile_open (&fixture->bob_pop3, 1, BOB_NAME, TERN_ACCOUNT_PROTOCOL_POP3, NULL);
  /* The Sent folder has to be known for the outbox's copy. */
  tern_imap_sync_account (fixture->alice.context, fixture->alice.account,
                          TERN_IMAP_SYNC_BODIES_NONE, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  profile_close (&fixture->alice);
  profile_close (&fixture->bob_imap);
  profile_close (&fixture->bob_pop3);
}

/* Helpers */

static char *
subject_for (const char *what)
{
  /* Unique per test: the servers live for the whole program. */
  return g_strdup_printf ("Отчёт за ноябрь: «итоги» и планы — %s, %" G_GINT64_FORMAT, what,
                          g_get_real_time ());
}

static char *
write_attachment (const char *dir)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, ATTACHMENT_NAME, NULL);

  g_file_set_contents (path, ATTACHMENT, -1, &error);
  g_assert_no_error (error);
  return path;
}

static gint64
inbox_of (Profile *profile)
{
  TernStore *store = tern_context_get_store (profile->context);
  gint64 account_id = tern_account_get_id (profile->account);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  gint64 id;

  if (tern_account_get_protocol (profile->account) == TERN_ACCOUNT_PROTOCOL_POP3)
    {
      id = tern_pop3_ensure_folders (store, account_id, &error);
      g_assert_no_error (error);
      return id;
    }
  folder = tern_mail_store_find_folder (store, account_id, "INBOX", &error);
  g_assert_no_error (error);
  g_assert_nonnull (folder);
  return folder->id;
}

/* Fetches new mail the way Tern does for the account's protocol. */
static void
fetch_mail (Profile *profile)
{
  g_autoptr(GError) error = NULL;

  if (tern_account_get_protocol (profile->account) == TERN_ACCOUNT_PROTOCOL_POP3)
    tern_pop3_download_account (profile->context, profile->account, NULL, NULL, NULL, NULL,
                                &error);
  else
    tern_imap_sync_account (profile->context, profile->account, TERN_IMAP_SYNC_BODIES_ALL, NULL,
                            NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

static TernMailMessage *
find_message (Profile    *profile,
              const char *message_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages =
    tern_mail_store_list_messages (tern_context_get_store (profile->context), inbox_of (profile),
                                   0, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);

      if (g_strcmp0 (message->message_id, message_id) == 0)
        return g_ptr_array_steal_index (messages, i);
    }
  return NULL;
}

/* Delivery through LMTP is asynchronous: fetches until the message is
 * there, for up to WAIT_SECONDS. */
static TernMailMessage *
wait_for_message (Profile    *profile,
                  const char *message_id)
{
  gint64 end = g_get_monotonic_time () + WAIT_SECONDS * G_USEC_PER_SEC;
  TernMailMessage *message = NULL;

  for (;;)
    {
      fetch_mail (profile);
      message = find_message (profile, message_id);
      if (message != NULL || g_get_monotonic_time () > end)
        break;
      g_usleep (G_USEC_PER_SEC / 5);
    }
  g_assert_nonnull (message);
  return message;
}

static GBytes *
stored_body (Profile         *profile,
             TernMailMessage *message)
{
  g_autoptr(GError) error = NULL;
  GBytes *body = tern_mail_store_get_body (tern_context_get_store (profile->context), message->id,
                                           &error);

  g_assert_no_error (error);
  if (body == NULL)
    {
      body = tern_imap_sync_fetch_body (profile->context, message->id, NULL, &error);
      g_assert_no_error (error);
    }
  g_assert_nonnull (body);
  return body;
}

static char *
without_cr (const char *text,
            gsize       size)
{
  GString *out = g_string_sized_new (size);

  for (gsize i = 0; i < size; i++)
    if (text[i] != '\r')
      g_string_append_c (out, text[i]);
  return g_string_free (out, FALSE);
}

static GBytes *
part_data (GMimeObject *part)
{
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;
  GBytes *bytes;

  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (part)), stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = g_bytes_new (array->data, array->len);
  g_object_unref (stream);
  return bytes;
}

/* What the store holds of the message equals what was written: subject,
 * names, text and attachment; no Bcc field anywhere in its header. */
static void
assert_stored (Profile         *profile,
               TernMailMessage *message,
               const char      *subject,
               const char      *body_text)
{
  g_autoptr(GBytes) raw = stored_body (profile, message);
  g_autoptr(GMimeMessage) parsed = _tern_composer_parse_message (raw);
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  g_autofree char *text_of_raw = NULL;
  g_autoptr(GBytes) attachment = NULL;
  const char *data;
  const char *header_end;
  GMimeMultipart *mixed;
  GMimeObject *part;
  InternetAddress *to;

  g_assert_cmpstr (message->subject, ==, subject);
  g_assert_cmpstr (message->from_name, ==, ALICE_NAME);
  g_assert_cmpstr (message->from_address, ==, ALICE);
  g_assert_nonnull (message->to_list);
  g_assert_true (g_str_has_prefix (message->to_list, BOB_NAME " <"));

  data = text_of_raw = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  header_end = strstr (data, "\n\n");
  if (header_end == NULL || (strstr (data, "\r\n\r\n") && strstr (data, "\r\n\r\n") < header_end))
    header_end = strstr (data, "\r\n\r\n");
  g_assert_nonnull (header_end);
  header = g_strndup (data, header_end - data);
  g_assert_null (strstr (header, "\nBcc:"));
  g_assert_null (strstr (header, "\nbcc:"));

  g_assert_nonnull (parsed);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, subject);
  to = internet_address_list_get_address (g_mime_message_get_to (parsed), 0);
  g_assert_cmpstr (internet_address_get_name (to), ==, BOB_NAME);
  g_assert_true (GMIME_IS_MULTIPART (g_mime_message_get_mime_part (parsed)));
  mixed = GMIME_MULTIPART (g_mime_message_get_mime_part (parsed));
  g_assert_cmpint (g_mime_multipart_get_count (mixed), ==, 2);

  part = g_mime_multipart_get_part (mixed, 0);
  g_assert_true (GMIME_IS_TEXT_PART (part));
  {
    g_autofree char *decoded = g_mime_text_part_get_text (GMIME_TEXT_PART (part));

    text = without_cr (decoded, strlen (decoded));
  }
  g_assert_cmpstr (text, ==, body_text);

  part = g_mime_multipart_get_part (mixed, 1);
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (part)), ==, ATTACHMENT_NAME);
  g_assert_true (g_mime_content_type_is_type (g_mime_object_get_content_type (part), "application",
                                              "pdf"));
  attachment = part_data (part);
  g_assert_cmpmem (g_bytes_get_data (attachment, NULL), g_bytes_get_size (attachment), ATTACHMENT,
                   strlen (ATTACHMENT));
}

/* Tests */

static void
test_roundtrip (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(TernComposer) composer = tern_composer_new_for_account (fixture->alice.account);
  g_autofree char *subject = subject_for ("outbox");
  g_autofree char *attachment_path = write_attachment (fixture->alice.dir);
  g_autoptr(GFile) attachment = g_file_new_for_path (attachment_path);
  g_autofree char *to = g_strdup_printf ("%s <%s>", BOB_NAME, BOB);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GMimeMessage) built = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autoptr(TernMailMessage) via_imap = NULL;
  g_autoptr(TernMailMessage) via_pop3 = NULL;
  g_autoptr(TernMailMessage) bcc_copy = NULL;
  g_autofree char *message_id = NULL;
  guint n_sent = 0;
  gint64 id;

  g_assert_cmpstr (tern_composer_get_from (composer), ==, "Алиса Иванова <alice@tern.test>");
  tern_composer_set_to (composer, to);
  tern_composer_set_bcc (composer, ALICE);
  tern_composer_set_subject (composer, subject);
  tern_composer_set_body (composer, BODY);
  tern_composer_add_attachment (composer, attachment, NULL);
  bytes = tern_composer_to_bytes (composer, &error);
  g_assert_no_error (error);
  built = _tern_composer_parse_message (bytes);
  message_id = g_strdup (g_mime_message_get_message_id (built));

  id = tern_outbox_enqueue (tern_context_get_store (fixture->alice.context),
                            fixture->alice.account, bytes, &error);
  g_assert_no_error (error);
  tern_outbox_flush (fixture->alice.context, fixture->alice.account, &n_sent, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_sent, ==, 1);
  entry = tern_outbox_get (tern_context_get_store (fixture->alice.context), id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (entry->state, ==, TERN_OUTBOX_STATE_SENT);
  g_assert_cmpstr (entry->message_id, ==, message_id);

  /* (a) Bob's IMAP sync. */
  via_imap = wait_for_message (&fixture->bob_imap, message_id);
  assert_stored (&fixture->bob_imap, via_imap, subject, BODY);
  /* (b) Bob's POP3 download of the same mailbox. */
  via_pop3 = wait_for_message (&fixture->bob_pop3, message_id);
  assert_stored (&fixture->bob_pop3, via_pop3, subject, BODY);
  /* The Bcc recipient has it too, without the field. */
  bcc_copy = wait_for_message (&fixture->alice, message_id);
  assert_stored (&fixture->alice, bcc_copy, subject, BODY);
}

static char *
run_cli (Fixture           *fixture,
         const char *const *args,
         int               *exit_status)
{
  g_autofree char *profile = profile_path (&fixture->alice);

  return tern_test_run_cli (profile, tern_test_servers_get_ca_file (servers), args, exit_status);
}

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *subject = subject_for ("tern-cli");
  g_autofree char *attachment = write_attachment (fixture->alice.dir);
  g_autofree char *body_file = g_build_filename (fixture->alice.dir, "письмо.txt", NULL);
  g_autofree char *to = g_strdup_printf ("%s <%s>", BOB_NAME, BOB);
  g_autofree char *out = NULL;
  g_autofree char *message_id = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autoptr(GMimeMessage) draft = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(TernMailMessage) delivered = NULL;
  const char *start;
  const char *end;
  int status = -1;

  g_file_set_contents (body_file, BODY, -1, &error);
  g_assert_no_error (error);

  /* --no-send prints the message, Bcc included, and queues nothing. */
  out = run_cli (fixture,
                 (const char *const[]) { "compose", "--account", ALICE, "--to", to, "--bcc",
                                         ALICE, "--subject", subject, "--body-file", body_file,
                                         "--attach", attachment, "--no-send", NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  printed = g_bytes_new (out, strlen (out));
  draft = _tern_composer_parse_message (printed);
  g_assert_nonnull (draft);
  g_assert_cmpstr (g_mime_message_get_subject (draft), ==, subject);
  g_assert_cmpint (internet_address_list_length (g_mime_message_get_bcc (draft)), ==, 1);
  rows = tern_outbox_list (tern_context_get_store (fixture->alice.context), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 0);
  g_clear_pointer (&out, g_free);

  /* Without it, the message is sent. */
  out = run_cli (fixture,
                 (const char *const[]) { "compose", "--account", ALICE, "--to", to, "--subject",
                                         subject, "--body-file", body_file, "--attach",
                                         attachment, NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\tsent\t"));
  start = strchr (out, '<');
  end = start ? strchr (start, '>') : NULL;
  g_assert_nonnull (end);
  message_id = g_strndup (start + 1, end - start - 1);
  delivered = wait_for_message (&fixture->bob_imap, message_id);
  assert_stored (&fixture->bob_imap, delivered, subject, BODY);
  g_clear_pointer (&out, g_free);

  /* A bad address is a usage error naming it. */
  out = run_cli (fixture,
                 (const char *const[]) { "compose", "--account", ALICE, "--to", "bob@",
                                         "--subject", subject, NULL },
                 &status);
  g_assert_cmpint (status, !=, 0);
}

/* The message @message_id in the Sent folder of @profile, after a sync
 * (which also replays the queued copy to the server). */
static TernMailMessage *
find_sent (Profile    *profile,
           const char *message_id)
{
  TernStore *store = tern_context_get_store (profile->context);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) sent = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  tern_imap_sync_account (profile->context, profile->account, TERN_IMAP_SYNC_BODIES_ALL, NULL,
                          NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  sent = tern_mail_store_find_folder_by_role (store, tern_account_get_id (profile->account),
                                              "sent", &error);
  g_assert_no_error (error);
  g_assert_nonnull (sent);
  messages = tern_mail_store_list_messages (store, sent->id, 0, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      TernMailMessage *message = g_ptr_array_index (messages, i);

      /* On the server: the copy has its UID there. */
      if (g_strcmp0 (message->message_id, message_id) == 0 && message->uid != 0)
        return g_ptr_array_steal_index (messages, i);
    }
  return NULL;
}

static void
assert_from_alias (Profile         *profile,
                   TernMailMessage *message,
                   const char      *envelope)
{
  g_autoptr(GBytes) raw = stored_body (profile, message);
  g_autoptr(GMimeMessage) parsed = _tern_composer_parse_message (raw);
  g_autofree char *reply_to = NULL;

  g_assert_cmpstr (message->from_name, ==, ALIAS_NAME);
  g_assert_cmpstr (message->from_address, ==, ALIAS);
  g_assert_nonnull (parsed);
  reply_to = internet_address_list_to_string (g_mime_message_get_reply_to (parsed), NULL, FALSE);
  g_assert_cmpstr (reply_to, ==, ALIAS_REPLY_TO);
  /* The envelope sender, as the receiving server recorded it. */
  if (envelope != NULL)
    g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (parsed), "Return-Path"), ==,
                     envelope);
}

/* An alias of Alice's account, added with tern-cli: the message goes out
 * through her server with the alias' From and Reply-To and the alias as
 * envelope sender, and the copy in her Sent folder has them too. */
static void
test_alias (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *subject = subject_for ("alias");
  g_autofree char *body_file = g_build_filename (fixture->alice.dir, "письмо.txt", NULL);
  g_autofree char *to = g_strdup_printf ("%s <%s>", BOB_NAME, BOB);
  g_autofree char *out = NULL;
  g_autofree char *message_id = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) delivered = NULL;
  g_autoptr(TernMailMessage) sent = NULL;
  const char *start;
  const char *end;
  int status = -1;

  g_file_set_contents (body_file, BODY, -1, &error);
  g_assert_no_error (error);
  out = run_cli (fixture,
                 (const char *const[]) { "account", "identity", "add", ALICE, ALIAS,
                                         "--name", ALIAS_NAME, "--reply-to", ALIAS_REPLY_TO,
                                         NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_free);
  out = run_cli (fixture, (const char *const[]) { "account", "identity", "list", ALICE, NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, ALIAS ">\t" ALIAS_REPLY_TO "\talias\n"));
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture,
                 (const char *const[]) { "compose", "--account", ALICE, "--from", ALIAS, "--to",
                                         to, "--subject", subject, "--body-file", body_file,
                                         NULL },
                 &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "\tsent\t"));
  start = strchr (out, '<');
  end = start ? strchr (start, '>') : NULL;
  g_assert_nonnull (end);
  message_id = g_strndup (start + 1, end - start - 1);

  delivered = wait_for_message (&fixture->bob_imap, message_id);
  assert_from_alias (&fixture->bob_imap, delivered, "<" ALIAS ">");
  sent = find_sent (&fixture->alice, message_id);
  g_assert_nonnull (sent);
  assert_from_alias (&fixture->alice, sent, NULL);
  g_clear_pointer (&out, g_free);

  /* An address that is no identity of the account is refused. */
  out = run_cli (fixture,
                 (const char *const[]) { "compose", "--account", ALICE, "--from",
                                         "nobody@tern.test", "--to", to, "--subject", subject,
                                         NULL },
                 &status);
  g_assert_cmpint (status, !=, 0);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (password_file); i++)
    {
      g_autofree char *name = g_strdup_printf ("password%u", i);

      password_file[i] = g_build_filename (tern_test_servers_get_dir (servers), name, NULL);
      g_file_set_contents (password_file[i], tern_test_servers_get_password (servers, i), -1,
                           &error);
      g_assert_no_error (error);
    }

  g_test_add ("/tern/compose-e2e/roundtrip-587", Fixture, &setup_587, fixture_setup,
              test_roundtrip, fixture_teardown);
  g_test_add ("/tern/compose-e2e/roundtrip-465", Fixture, &setup_465, fixture_setup,
              test_roundtrip, fixture_teardown);
  g_test_add ("/tern/compose-e2e/cli", Fixture, &setup_587, fixture_setup, test_cli,
              fixture_teardown);
  g_test_add ("/tern/compose-e2e/alias", Fixture, &setup_587, fixture_setup, test_alias,
              fixture_teardown);

  status = g_test_run ();

  g_clear_pointer (&servers, tern_test_servers_free);
  for (guint i = 0; i < G_N_ELEMENTS (password_file); i++)
    g_free (password_file[i]);
  return status;
}
