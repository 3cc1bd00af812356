/* test-imap-client-servers.c: TernImapClient against the real Dovecot of
 * tests/servers/: every sign-in method over implicit TLS and STARTTLS,
 * extensions, folders, a 2000-message header fetch, bodies, flags,
 * copy/move, expunge, append, QRESYNC, IDLE and compression.
 *
 * The tests run in order and share one Dovecot; alice's INBOX is the
 * scratch mailbox, bob's holds the 2000 messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <gnutls/x509.h>
#include <string.h>

#include "tern-imap-client.h"
#include "tern-test-servers.h"

/* TERN_IMAP_BENCH_COUNT=100000 makes the bulk fetch a benchmark. */
static guint bulk_count = 2000;

static TernTestServers *servers;
static GError *start_error;

typedef struct
{
  guint exists_calls;
  guint32 last_exists;
  TernImapSet *vanished;
  GPtrArray *fetched;   /* of TernImapMessage copies: uid, flags, modseq */
  GPtrArray *alerts;
} Events;

static void
exists_cb (guint32  count,
           gpointer user_data)
{
  Events *events = user_data;

  events->exists_calls++;
  events->last_exists = count;
}

static void
vanished_cb (const TernImapSet *uids,
             gpointer           user_data)
{
  Events *events = user_data;

  for (guint i = 0; i < uids->ranges->len; i++)
    {
      TernImapRange *range = &g_array_index (uids->ranges, TernImapRange, i);

      tern_imap_set_add_range (events->vanished, range->first, range->last);
    }
}

static void
fetch_cb (const TernImapMessage *message,
          gpointer               user_data)
{
  Events *events = user_data;
  TernImapMessage *copy = tern_imap_message_new ();

  copy->present = message->present;
  copy->uid = message->uid;
  copy->flags = message->flags;
  copy->modseq = message->modseq;
  g_ptr_array_add (events->fetched, copy);
}

static void
alert_cb (const char *text,
          gpointer    user_data)
{
  g_ptr_array_add (((Events *) user_data)->alerts, g_strdup (text));
}

static const TernImapClientEvents event_funcs = { exists_cb, vanished_cb, fetch_cb, alert_cb };

static void
events_init (Events *events)
{
  memset (events, 0, sizeof *events);
  events->vanished = tern_imap_set_new ();
  events->fetched = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_message_free);
  events->alerts = g_ptr_array_new_with_free_func (g_free);
}

static void
events_clear (Events *events)
{
  g_clear_pointer (&events->vanished, tern_imap_set_free);
  g_clear_pointer (&events->fetched, g_ptr_array_unref);
  g_clear_pointer (&events->alerts, g_ptr_array_unref);
}

static TernImapClient *
new_client (TernTestService service,
            TernTlsMode     mode)
{
  g_autoptr(TernConnection) connection =
    tern_connection_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                         tern_test_servers_get_port (servers, service), mode);

  tern_connection_set_connect_timeout (connection, 10);
  tern_connection_set_io_timeout (connection, 20);
  tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  return tern_imap_client_new (connection);
}

static TernImapClient *
login_as (guint        user,
          const char  *mechanism,
          gboolean     compress,
          Events      *events)
{
  g_autoptr(TernImapClient) client = new_client (TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT);
  g_autoptr(GError) error = NULL;

  if (events != NULL)
    tern_imap_client_set_events (client, &event_funcs, events);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_login (client, tern_test_servers_get_user (servers, user),
                          tern_test_servers_get_password (servers, user),
                          mechanism, compress, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static void
logout (TernImapClient *client)
{
  g_autoptr(GError) error = NULL;

  tern_imap_client_logout (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (client);
}

static void
select_ok (TernImapClient   *client,
           const char       *mailbox,
           TernImapSelected *selected)
{
  g_autoptr(GError) error = NULL;

  tern_imap_client_select (client, mailbox, FALSE, NULL, selected, NULL, &error);
  g_assert_no_error (error);
}

static TernImapSet *
search_all (TernImapClient *client)
{
  g_autoptr(GError) error = NULL;
  TernImapSet *uids = tern_imap_client_search_uids (client, NULL, NULL, &error);

  g_assert_no_error (error);
  return uids;
}

static TernImapSet *
set_of (guint32 first,
        guint32 last)
{
  TernImapSet *set = tern_imap_set_new ();

  tern_imap_set_add_range (set, first, last);
  return set;
}

/* Sign-in */

typedef struct
{
  const char *mechanism;
  TernTestService service;
  TernTlsMode mode;
} LoginCase;

static void
test_login (gconstpointer data)
{
  const LoginCase *login = data;
  g_autoptr(TernImapClient) client = new_client (login->service, login->mode);
  g_autoptr(GError) error = NULL;
  char delimiter = 0;

  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (tern_imap_client_get_connection (client)));
  g_assert_true (tern_imap_client_has_capability (client, "IMAP4rev1"));

  tern_imap_client_login (client, tern_test_servers_get_user (servers, 0),
                          tern_test_servers_get_password (servers, 0),
                          login->mechanism, FALSE, NULL, &error);
  g_assert_no_error (error);

  /* Asked again after login: Dovecot adds its post-login extensions. */
  g_assert_true (tern_imap_client_has_capability (client, "QRESYNC"));
  g_assert_true (tern_imap_client_has_capability (client, "CONDSTORE"));
  g_assert_true (tern_imap_client_is_enabled (client, "QRESYNC"));
  g_assert_true (tern_imap_client_is_enabled (client, "CONDSTORE"));
  g_assert_cmpstr (tern_imap_client_get_namespace (client, &delimiter), ==, "");
  g_assert_cmpint (delimiter, ==, '/');
  tern_imap_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  logout (g_steal_pointer (&client));
}

/* The certificate's SHA-256, computed with GnuTLS directly rather than
 * with the code under test. */
static char *
fingerprint_of (TernTestCert cert)
{
  g_autofree char *pem = NULL;
  gsize pem_len = 0;
  g_autoptr(GError) error = NULL;
  gnutls_x509_crt_t crt;
  gnutls_datum_t datum;
  guint8 digest[32];
  size_t size = sizeof digest;
  GString *out = g_string_new (NULL);

  g_file_get_contents (tern_test_servers_get_cert_file (servers, cert), &pem, &pem_len, &error);
  g_assert_no_error (error);
  datum.data = (unsigned char *) pem;
  datum.size = (unsigned int) pem_len;
  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_PEM), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size), ==, 0);
  gnutls_x509_crt_deinit (crt);

  for (gsize i = 0; i < size; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}

/* From 127.0.0.3 Dovecot says LOGINDISABLED before TLS: the client must
 * not trust what it heard in clear, and ask again once encrypted (the
 * self-signed certificate there is accepted by its pin). */
static void
test_starttls_logindisabled (void)
{
  g_autoptr(TernConnection) connection =
    tern_connection_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_SELF_SIGNED),
                         tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAP),
                         TERN_TLS_MODE_STARTTLS);
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = fingerprint_of (TERN_TEST_CERT_SELF_SIGNED);

  tern_connection_set_io_timeout (connection, 20);
  tern_connection_set_pinned_fingerprint (connection, pin);
  client = tern_imap_client_new (connection);
  tern_imap_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (connection));
  g_assert_false (tern_imap_client_has_capability (client, "LOGINDISABLED"));
  g_assert_false (tern_imap_client_has_capability (client, "STARTTLS"));
  tern_imap_client_login (client, tern_test_servers_get_user (servers, 0),
                          tern_test_servers_get_password (servers, 0), "PLAIN", FALSE, NULL,
                          &error);
  g_assert_no_error (error);
  logout (g_steal_pointer (&client));
}

static void
test_wrong_password (void)
{
  const char *mechanisms[] = { NULL, "PLAIN", "LOGIN" };

  for (guint i = 0; i < G_N_ELEMENTS (mechanisms); i++)
    {
      g_autoptr(TernImapClient) client = new_client (TERN_TEST_SERVICE_IMAPS,
                                                     TERN_TLS_MODE_IMPLICIT);
      g_autoptr(GError) error = NULL;

      tern_imap_client_open (client, NULL, &error);
      g_assert_no_error (error);
      tern_imap_client_login (client, tern_test_servers_get_user (servers, 0), "wrong",
                              mechanisms[i], FALSE, NULL, &error);
      g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED);
      g_test_message ("%s: %s", mechanisms[i] ? mechanisms[i] : "default", error->message);
      g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
    }
}

/* Folders */

static TernImapMailbox *
find_mailbox (GPtrArray  *mailboxes,
              const char *name)
{
  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = mailboxes->pdata[i];

      if (g_strcmp0 (mailbox->name, name) == 0)
        return mailbox;
    }
  return NULL;
}

static void
test_list (void)
{
  g_autoptr(TernImapClient) client = login_as (0, NULL, FALSE, NULL);
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GError) error = NULL;
  static const struct { const char *name; TernImapMailboxAttributes use; } special[] = {
    { "Drafts", TERN_IMAP_MAILBOX_DRAFTS },
    { "Sent", TERN_IMAP_MAILBOX_SENT },
    { "Trash", TERN_IMAP_MAILBOX_TRASH },
    { "Junk", TERN_IMAP_MAILBOX_JUNK },
    { "Archive", TERN_IMAP_MAILBOX_ARCHIVE },
  };
  TernImapMailbox *mailbox;

  tern_imap_client_create (client, "Проекты/2026", NULL, &error);
  g_assert_no_error (error);

  mailboxes = tern_imap_client_list (client, TERN_IMAP_STATUS_MESSAGES | TERN_IMAP_STATUS_UIDNEXT |
                                     TERN_IMAP_STATUS_UIDVALIDITY |
                                     TERN_IMAP_STATUS_HIGHESTMODSEQ,
                                     NULL, &error);
  g_assert_no_error (error);

  g_assert_nonnull (find_mailbox (mailboxes, "INBOX"));
  for (guint i = 0; i < G_N_ELEMENTS (special); i++)
    {
      mailbox = find_mailbox (mailboxes, special[i].name);
      g_assert_nonnull (mailbox);
      g_assert_true (mailbox->attributes & special[i].use);
      g_assert_true (mailbox->attributes & TERN_IMAP_MAILBOX_SUBSCRIBED);
      g_assert_cmpint (mailbox->delimiter, ==, '/');
      g_assert_true (mailbox->status.present & TERN_IMAP_STATUS_UIDVALIDITY);
      g_assert_cmpuint (mailbox->status.uidvalidity, !=, 0);
    }

  mailbox = find_mailbox (mailboxes, "Проекты/2026");
  g_assert_nonnull (mailbox);
  g_assert_cmpstr (mailbox->raw_name, ==, "&BB8EQAQ+BDUEOgRCBEs-/2026");
  mailbox = find_mailbox (mailboxes, "Проекты");
  g_assert_nonnull (mailbox);
  g_assert_true (mailbox->attributes & TERN_IMAP_MAILBOX_HAS_CHILDREN);

  tern_imap_client_rename (client, "Проекты/2026", "Проекты/2027", NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_delete (client, "Проекты/2027", NULL, &error);
  g_assert_no_error (error);
  /* The parent existed only as a level of the hierarchy; Dovecot drops it
   * with its last child. */
  if (!tern_imap_client_delete (client, "Проекты", NULL, &error))
    g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT);
  g_clear_error (&error);

  tern_imap_client_delete (client, "Nowhere", NULL, &error);
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  {
    TernImapSelected selected;

    tern_imap_client_select (client, "Nowhere", FALSE, NULL, &selected, NULL, &error);
    /* Dovecot 2.3 sends no [NONEXISTENT] for SELECT. */
    g_assert_true (g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT) ||
                   g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO));
    g_assert_nonnull (strstr (error->message, "refused SELECT Nowhere: "));
    g_clear_error (&error);
    g_assert_null (tern_imap_client_get_selected (client));
  }

  logout (g_steal_pointer (&client));
}

/* The bulk fetch */

typedef struct
{
  TernImapSet *uids;
  guint count;
  guint with_everything;
} Bulk;

static gboolean
bulk_cb (TernImapMessage  *message,
         gpointer          user_data,
         GError          **error)
{
  Bulk *bulk = user_data;
  TernImapFetchItems all = TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS |
                           TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                           TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                           TERN_IMAP_FETCH_HEADERS | TERN_IMAP_FETCH_MODSEQ;

  bulk->count++;
  tern_imap_set_add (bulk->uids, message->uid);
  if ((message->present & all) == all && message->envelope != NULL &&
      message->envelope->subject != NULL && message->body != NULL &&
      message->size > 0 && message->internal_date > 0 && message->modseq > 0)
    bulk->with_everything++;
  return TRUE;
}

static void
test_fetch_bulk (void)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernImapSet) uids = NULL;
  g_autoptr(TernImapSet) all = set_of (1, G_MAXUINT32);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *got = NULL;
  TernImapSelected selected;
  Bulk bulk = { tern_imap_set_new (), 0, 0 };
  gint64 start;

  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 1), NULL,
                                  bulk_count, &error);
  g_assert_no_error (error);

  client = login_as (1, NULL, FALSE, NULL);
  select_ok (client, "INBOX", &selected);
  g_assert_cmpuint (selected.exists, ==, bulk_count);
  g_assert_cmpuint (selected.uidvalidity, !=, 0);
  g_assert_cmpuint (selected.highestmodseq, !=, 0);
  uids = search_all (client);
  g_assert_cmpuint (tern_imap_set_count (uids), ==, bulk_count);

  start = g_get_monotonic_time ();
  tern_imap_client_fetch (client, all,
                          TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS |
                          TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                          TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                          TERN_IMAP_FETCH_HEADERS | TERN_IMAP_FETCH_MODSEQ,
                          0, bulk_cb, &bulk, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ + 3 headers "
                  "of %u messages: %.3f s", bulk_count,
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  g_assert_cmpuint (bulk.count, ==, bulk_count);
  g_assert_cmpuint (bulk.with_everything, ==, bulk_count);
  expected = tern_imap_set_to_string (uids);
  got = tern_imap_set_to_string (bulk.uids);
  g_assert_cmpstr (got, ==, expected);

  /* The same by explicit UIDs, in batches. */
  bulk.count = 0;
  start = g_get_monotonic_time ();
  tern_imap_client_fetch (client, uids, TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS, 0,
                          bulk_cb, &bulk, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("UID FLAGS of %u messages by UID set: %.3f s", bulk_count,
                  (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  g_assert_cmpuint (bulk.count, ==, bulk_count);

  tern_imap_set_free (bulk.uids);
  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
}

/* The body of bob's message @uid as Dovecot stores it, with CRLF. */
static GBytes *
stored_message (guint32 uid)
{
  g_autoptr(GKeyFile) ini = g_key_file_new ();
  g_autofree char *ini_path = g_build_filename (tern_test_servers_get_dir (servers),
                                                "servers.ini", NULL);
  g_autofree char *maildir = NULL;
  g_autofree char *uidlist_path = NULL;
  g_autofree char *uidlist = NULL;
  g_autofree char *base = NULL;
  g_autofree char *cur = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *prefix = g_strdup_printf ("%u ", uid);
  const char *name;

  g_key_file_load_from_file (ini, ini_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  maildir = g_key_file_get_string (ini, "users", "maildir1", &error);
  g_assert_no_error (error);

  uidlist_path = g_build_filename (maildir, "dovecot-uidlist", NULL);
  g_file_get_contents (uidlist_path, &uidlist, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (uidlist, "\n", -1);
  for (guint i = 1; lines[i] != NULL && base == NULL; i++)
    if (g_str_has_prefix (lines[i], prefix) && strchr (lines[i], ':') != NULL)
      base = g_strdup (strchr (lines[i], ':') + 1);
  g_assert_nonnull (base);

  cur = g_build_filename (maildir, "cur", NULL);
  dir = g_dir_open (cur, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, base))
      {
        g_autofree char *path = g_build_filename (cur, name, NULL);
        g_autofree char *contents = NULL;
        g_autoptr(GString) crlf = g_string_new (NULL);
        gsize len;

        g_file_get_contents (path, &contents, &len, &error);
        g_assert_no_error (error);
        for (gsize i = 0; i < len; i++)
          {
            if (contents[i] == '\n' && (i == 0 || contents[i - 1] != '\r'))
              g_string_append_c (crlf, '\r');
            g_string_append_c (crlf, contents[i]);
          }
        return g_string_free_to_bytes (g_steal_pointer (&crlf));
      }

  g_assert_not_reached ();
}

static gboolean
size_cb (TernImapMessage  *message,
         gpointer          user_data,
         GError          **error)
{
  *(guint64 *) user_data = message->size;
  return TRUE;
}

static void
test_fetch_body (void)
{
  g_autoptr(TernImapClient) client = login_as (1, NULL, FALSE, NULL);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) expected = NULL;
  g_autoptr(TernImapSet) one = set_of (1234, 1234);
  g_autoptr(GError) error = NULL;
  TernImapSelected selected;
  guint64 size = 0;

  select_ok (client, "INBOX", &selected);
  tern_imap_client_fetch_body (client, 1234, NULL, out, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, NULL);
  got = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  expected = stored_message (1234);
  tern_imap_client_fetch (client, one, TERN_IMAP_FETCH_SIZE, 0, size_cb, &size, NULL, &error);
  g_assert_no_error (error);

  g_test_message ("message 1234: %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (got));
  g_assert_cmpuint (g_bytes_get_size (got), ==, size);
  g_assert_cmpuint (g_bytes_get_size (got), ==, g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (got, expected));

  /* A message that is not there. */
  {
    g_autoptr(GOutputStream) none = g_memory_output_stream_new_resizable ();

    tern_imap_client_fetch_body (client, 999999, NULL, none, NULL, &error);
    g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT);
  }

  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
}

/* Changes */

static gboolean
collect_cb (TernImapMessage  *message,
            gpointer          user_data,
            GError          **error)
{
  GHashTable *flags = user_data;

  g_hash_table_insert (flags, GUINT_TO_POINTER (message->uid),
                       GUINT_TO_POINTER (message->flags & ~TERN_IMAP_FLAG_RECENT));
  return TRUE;
}

static GHashTable *
fetch_flags (TernImapClient    *client,
             const TernImapSet *uids)
{
  g_autoptr(GError) error = NULL;
  GHashTable *flags = g_hash_table_new (NULL, NULL);

  tern_imap_client_fetch (client, uids, TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS, 0,
                          collect_cb, flags, NULL, &error);
  g_assert_no_error (error);
  return flags;
}

static void
test_store_copy_move_expunge (void)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernImapSet) first = set_of (1, 3);
  g_autoptr(TernImapSet) moved = set_of (4, 5);
  g_autoptr(TernImapSet) gone = set_of (6, 6);
  g_autoptr(TernImapSet) source = NULL;
  g_autoptr(TernImapSet) dest = NULL;
  g_autoptr(TernImapSet) left = NULL;
  g_autoptr(GHashTable) flags = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dest_text = NULL;
  TernImapSelected selected;
  guint32 uidvalidity = 0;
  Events events;

  events_init (&events);
  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0), NULL, 10,
                                  &error);
  g_assert_no_error (error);
  client = login_as (0, NULL, FALSE, &events);
  select_ok (client, "INBOX", &selected);
  g_assert_cmpuint (selected.exists, ==, 10);

  tern_imap_client_store_flags (client, first, TERN_IMAP_FLAG_FLAGGED | TERN_IMAP_FLAG_JUNK |
                                TERN_IMAP_FLAG_SEEN, 0, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_store_flags (client, first, 0, TERN_IMAP_FLAG_SEEN, NULL, &error);
  g_assert_no_error (error);
  flags = fetch_flags (client, first);
  g_assert_cmpuint (g_hash_table_size (flags), ==, 3);
  for (guint32 uid = 1; uid <= 3; uid++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (flags, GUINT_TO_POINTER (uid))), ==,
                      TERN_IMAP_FLAG_FLAGGED | TERN_IMAP_FLAG_JUNK);

  tern_imap_client_copy (client, first, "Archive", FALSE, &uidvalidity, &source, &dest,
                         NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, !=, 0);
  g_assert_cmpuint (tern_imap_set_count (source), ==, 3);
  g_assert_cmpuint (tern_imap_set_count (dest), ==, 3);
  g_clear_pointer (&source, tern_imap_set_free);
  g_clear_pointer (&dest, tern_imap_set_free);

  tern_imap_client_copy (client, moved, "Trash", TRUE, &uidvalidity, &source, &dest,
                         NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tern_imap_set_count (source), ==, 2);
  dest_text = tern_imap_set_to_string (dest);
  g_test_message ("moved 4:5 to Trash as %s", dest_text);
  g_assert_cmpuint (tern_imap_set_count (dest), ==, 2);
  /* QRESYNC: the move is reported as VANISHED. */
  g_assert_true (tern_imap_set_contains (events.vanished, 4));
  g_assert_true (tern_imap_set_contains (events.vanished, 5));

  tern_imap_client_store_flags (client, gone, TERN_IMAP_FLAG_DELETED, 0, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_expunge (client, gone, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_imap_set_contains (events.vanished, 6));

  left = search_all (client);
  g_assert_cmpuint (tern_imap_set_count (left), ==, 7);
  g_assert_false (tern_imap_set_contains (left, 4));
  g_assert_false (tern_imap_set_contains (left, 6));

  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
  events_clear (&events);
}

static void
test_append (void)
{
  g_autoptr(TernImapClient) client = login_as (0, NULL, FALSE, NULL);
  g_autoptr(GBytes) message = NULL;
  g_autoptr(TernImapSet) one = NULL;
  g_autoptr(GError) error = NULL;
  TernImapSelected selected;
  guint32 uidvalidity = 0, uid = 0;
  gint64 date = 1767225600; /* 2026-01-01 00:00:00 UTC */
  Bulk bulk = { tern_imap_set_new (), 0, 0 };
  const char *text =
    "From: Алиса <alice@tern.test>\r\n"
    "To: bob@tern.test\r\n"
    "Subject: draft\r\n"
    "Message-ID: <draft-1@tern.test>\r\n"
    "\r\n"
    "Черновик.\r\n";

  message = g_bytes_new_static (text, strlen (text));
  tern_imap_client_append (client, "Drafts", TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN, date,
                           message, &uidvalidity, &uid, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, !=, 0);
  g_assert_cmpuint (uid, !=, 0);

  select_ok (client, "Drafts", &selected);
  g_assert_cmpuint (selected.uidvalidity, ==, uidvalidity);
  one = set_of (uid, uid);
  {
    g_autoptr(GHashTable) flags = fetch_flags (client, one);

    g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (flags, GUINT_TO_POINTER (uid))), ==,
                      TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN);
  }
  tern_imap_client_fetch (client, one, TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_SIZE |
                          TERN_IMAP_FETCH_INTERNALDATE, 0, bulk_cb, &bulk, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bulk.count, ==, 1);

  tern_imap_set_free (bulk.uids);
  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
}

static void
test_qresync (void)
{
  g_autoptr(TernImapClient) client = login_as (0, NULL, FALSE, NULL);
  g_autoptr(TernImapClient) other = NULL;
  g_autoptr(TernImapSet) known = NULL;
  g_autoptr(TernImapSet) flag = set_of (7, 8);
  g_autoptr(TernImapSet) expunge = set_of (9, 9);
  g_autoptr(GError) error = NULL;
  TernImapSelectParams params = { 0 };
  TernImapSelected selected;
  Events events;
  gboolean seen7 = FALSE;

  select_ok (client, "INBOX", &selected);
  known = search_all (client);
  params.uidvalidity = selected.uidvalidity;
  params.highestmodseq = selected.highestmodseq;
  params.known_uids = known;
  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));

  /* Changes made elsewhere while we were away. */
  other = login_as (0, NULL, FALSE, NULL);
  select_ok (other, "INBOX", &selected);
  tern_imap_selected_clear (&selected);
  tern_imap_client_store_flags (other, flag, TERN_IMAP_FLAG_ANSWERED, 0, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_store_flags (other, expunge, TERN_IMAP_FLAG_DELETED, 0, NULL, &error);
  g_assert_no_error (error);
  tern_imap_client_expunge (other, expunge, NULL, &error);
  g_assert_no_error (error);
  logout (g_steal_pointer (&other));

  events_init (&events);
  client = login_as (0, NULL, FALSE, &events);
  tern_imap_client_select (client, "INBOX", FALSE, &params, &selected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (selected.uidvalidity, ==, params.uidvalidity);
  g_assert_cmpuint (selected.highestmodseq, >, params.highestmodseq);
  g_assert_true (tern_imap_set_contains (selected.vanished, 9));
  g_assert_cmpuint (tern_imap_set_count (selected.vanished), ==, 1);
  for (guint i = 0; i < events.fetched->len; i++)
    {
      TernImapMessage *message = events.fetched->pdata[i];

      g_test_message ("changed: UID %u flags %x modseq %" G_GUINT64_FORMAT,
                      message->uid, message->flags, message->modseq);
      if (message->uid == 7)
        {
          seen7 = TRUE;
          g_assert_true (message->flags & TERN_IMAP_FLAG_ANSWERED);
        }
    }
  g_assert_true (seen7);

  /* A stale UIDVALIDITY is reported, not an error. */
  tern_imap_selected_clear (&selected);
  params.uidvalidity = 1;
  params.known_uids = NULL;
  tern_imap_client_select (client, "INBOX", TRUE, &params, &selected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (selected.uidvalidity, !=, 1);
  g_assert_true (selected.read_only);

  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
  events_clear (&events);
}

/* Delivers one message to user @data (an index) after 0.3 s. */
static gpointer
deliver_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;

  g_usleep (300 * 1000);
  tern_test_servers_add_messages (servers,
                                  tern_test_servers_get_user (servers, GPOINTER_TO_UINT (data)),
                                  NULL, 1, &error);
  g_assert_no_error (error);
  return NULL;
}

static gpointer
cancel_thread (gpointer data)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_idle (void)
{
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TernImapSelected selected;
  GThread *thread;
  Events events;
  gint64 start;
  double took;

  events_init (&events);
  client = login_as (0, NULL, FALSE, &events);
  select_ok (client, "INBOX", &selected);

  /* Nothing happens: the timeout ends it. */
  start = g_get_monotonic_time ();
  g_assert_true (tern_imap_client_idle (client, 1, NULL, &error));
  g_assert_no_error (error);
  took = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_cmpfloat (took, >=, 0.9);
  g_assert_cmpfloat (took, <, 3);
  g_assert_cmpuint (events.exists_calls, ==, 0);

  thread = g_thread_new ("deliver", deliver_thread, GUINT_TO_POINTER (0));
  start = g_get_monotonic_time ();
  g_assert_true (tern_imap_client_idle (client, 60, NULL, &error));
  g_assert_no_error (error);
  took = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_thread_join (thread);
  g_test_message ("IDLE returned %.3f s after it began (delivery at 0.3 s)", took);
  g_assert_cmpfloat (took, <, 2);
  g_assert_cmpuint (events.exists_calls, >=, 1);
  g_assert_cmpuint (events.last_exists, ==, selected.exists + 1);

  /* Cancelled while idling: DONE is sent and the session goes on. */
  thread = g_thread_new ("cancel", cancel_thread, cancellable);
  g_assert_false (tern_imap_client_idle (client, 60, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_thread_join (thread);
  tern_imap_client_noop (client, NULL, &error);
  g_assert_no_error (error);

  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
  events_clear (&events);
}

static void
test_compress (void)
{
  g_autoptr(TernImapClient) client = login_as (1, NULL, TRUE, NULL);
  g_autoptr(TernImapSet) all = set_of (1, G_MAXUINT32);
  g_autoptr(GError) error = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  TernConnection *connection = tern_imap_client_get_connection (client);
  TernImapSelected selected;
  Bulk bulk = { tern_imap_set_new (), 0, 0 };
  guint64 data_in, wire_in;
  gint64 start;

  g_assert_true (tern_connection_is_compressed (connection));
  g_assert_true (tern_imap_client_is_enabled (client, "QRESYNC"));
  select_ok (client, "INBOX", &selected);

  start = g_get_monotonic_time ();
  tern_imap_client_fetch (client, all,
                          TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS |
                          TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                          TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                          TERN_IMAP_FETCH_HEADERS | TERN_IMAP_FETCH_MODSEQ,
                          0, bulk_cb, &bulk, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bulk.count, ==, bulk_count);
  g_assert_cmpuint (bulk.with_everything, ==, bulk_count);
  tern_imap_client_fetch_body (client, 1234, NULL, out, NULL, &error);
  g_assert_no_error (error);

  tern_connection_get_byte_counts (connection, &data_in, NULL, &wire_in, NULL);
  g_test_message ("compressed: headers of %u messages in %.3f s; %" G_GUINT64_FORMAT
                  " bytes of IMAP in %" G_GUINT64_FORMAT " bytes on the wire (%.0f%%)",
                  bulk_count, (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
                  data_in, wire_in, 100.0 * wire_in / data_in);
  g_assert_cmpuint (wire_in * 2, <, data_in);

  /* IDLE through the compressed stream: the timeout, then a delivery. */
  g_assert_true (tern_imap_client_idle (client, 1, NULL, &error));
  g_assert_no_error (error);
  {
    GThread *thread = g_thread_new ("deliver", deliver_thread, GUINT_TO_POINTER (1));
    Events events;

    events_init (&events);
    tern_imap_client_set_events (client, &event_funcs, &events);
    start = g_get_monotonic_time ();
    g_assert_true (tern_imap_client_idle (client, 60, NULL, &error));
    g_assert_no_error (error);
    g_thread_join (thread);
    g_test_message ("compressed IDLE returned after %.3f s",
                    (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
    g_assert_cmpuint (events.last_exists, ==, selected.exists + 1);
    tern_imap_client_set_events (client, NULL, NULL);
    events_clear (&events);
  }
  tern_imap_client_noop (client, NULL, &error);
  g_assert_no_error (error);

  tern_imap_set_free (bulk.uids);
  tern_imap_selected_clear (&selected);
  logout (g_steal_pointer (&client));
}

static void
test_servers_started (void)
{
  g_assert_no_error (start_error);
}

static const LoginCase login_cases[] = {
  { "SCRAM-SHA-256", TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT },
  { "PLAIN", TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT },
  { "LOGIN", TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT },
  { NULL, TERN_TEST_SERVICE_IMAPS, TERN_TLS_MODE_IMPLICIT },
  { "SCRAM-SHA-256", TERN_TEST_SERVICE_IMAP, TERN_TLS_MODE_STARTTLS },
  { "PLAIN", TERN_TEST_SERVICE_IMAP, TERN_TLS_MODE_STARTTLS },
  { "LOGIN", TERN_TEST_SERVICE_IMAP, TERN_TLS_MODE_STARTTLS },
};

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TERN_IMAP_BENCH_COUNT") != NULL)
    bulk_count = MAX (2000, (guint) g_ascii_strtoull (g_getenv ("TERN_IMAP_BENCH_COUNT"), NULL, 10));

  servers = tern_test_servers_start (&start_error);
  if (servers == NULL)
    {
      g_test_add_func ("/tern/imap/client/servers/start", test_servers_started);
      return g_test_run ();
    }

  for (guint i = 0; i < G_N_ELEMENTS (login_cases); i++)
    {
      g_autofree char *path =
        g_strdup_printf ("/tern/imap/client/servers/login/%s/%s",
                         login_cases[i].mode == TERN_TLS_MODE_IMPLICIT ? "imaps" : "starttls",
                         login_cases[i].mechanism ? login_cases[i].mechanism : "default");

      g_test_add_data_func (path, &login_cases[i], test_login);
    }
  g_test_add_func ("/tern/imap/client/servers/wrong-password", test_wrong_password);
  g_test_add_func ("/tern/imap/client/servers/starttls-logindisabled",
                   test_starttls_logindisabled);
  g_test_add_func ("/tern/imap/client/servers/list", test_list);
  g_test_add_func ("/tern/imap/client/servers/fetch-bulk", test_fetch_bulk);
  g_test_add_func ("/tern/imap/client/servers/fetch-body", test_fetch_body);
  g_test_add_func ("/tern/imap/client/servers/store-copy-move-expunge",
                   test_store_copy_move_expunge);
  g_test_add_func ("/tern/imap/client/servers/append", test_append);
  g_test_add_func ("/tern/imap/client/servers/qresync", test_qresync);
  g_test_add_func ("/tern/imap/client/servers/idle", test_idle);
  g_test_add_func ("/tern/imap/client/servers/compress", test_compress);

  ret = g_test_run ();
  tern_test_servers_free (servers);
  return ret;
}
