/* test-pop3-client-servers.c: TernPop3Client against the real Dovecot of
 * tests/servers/: every sign-in method over POP3S and STLS, a wrong
 * password, 1,000 messages listed and fetched pipelined and compared with
 * the Maildir files, headers only, deletion and its undoing, and a body
 * with lines that need dot-stuffing.
 *
 * The tests run in order and share one Dovecot; alice's INBOX holds the
 * messages.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tern-pop3-client.h"
#include "tern-test-servers.h"

/* TERN_POP3_BENCH_COUNT=10000 makes the bulk fetch a benchmark. */
static guint bulk_count = 1000;

static TernTestServers *servers;
static GError *start_error;

static TernPop3Client *
client_new (TernTestService service)
{
  TernTlsMode mode = service == TERN_TEST_SERVICE_POP3S ? TERN_TLS_MODE_IMPLICIT
                                                         : TERN_TLS_MODE_STARTTLS;
  g_autoptr(TernConnection) connection =
    tern_connection_new (tern_test_servers_get_address (servers, TERN_TEST_CERT_GOOD),
                         tern_test_servers_get_port (servers, service), mode);

  tern_connection_set_ca_file (connection, tern_test_servers_get_ca_file (servers));
  tern_connection_set_io_timeout (connection, 30);
  return tern_pop3_client_new (connection);
}

/* A signed-in session on POP3S as alice. */
static TernPop3Client *
alice_session (void)
{
  g_autoptr(TernPop3Client) client = client_new (TERN_TEST_SERVICE_POP3S);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_login (client, tern_test_servers_get_user (servers, 0),
                          tern_test_servers_get_password (servers, 0), NULL, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static void
quit (TernPop3Client *client)
{
  g_autoptr(GError) error = NULL;

  tern_pop3_client_quit (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (client);
}

static guint
message_count (void)
{
  TernPop3Client *client = alice_session ();
  g_autoptr(GError) error = NULL;
  guint count = 0;

  tern_pop3_client_stat (client, &count, NULL, NULL, &error);
  g_assert_no_error (error);
  quit (client);
  return count;
}

/* Sign-in */

typedef struct
{
  TernTestService service;
  const char *mechanism;
} LoginCase;

static void
test_login (gconstpointer data)
{
  const LoginCase *login = data;
  g_autoptr(TernPop3Client) client = client_new (login->service);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_tls (tern_pop3_client_get_connection (client)));
  g_assert_true (tern_pop3_client_has_capability (client, "SASL"));
  tern_pop3_client_login (client, tern_test_servers_get_user (servers, 0),
                          tern_test_servers_get_password (servers, 0), login->mechanism,
                          NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tern_pop3_client_has_uidl (client));
  g_assert_true (tern_pop3_client_has_capability (client, "PIPELINING"));
  tern_pop3_client_noop (client, NULL, &error);
  g_assert_no_error (error);
  quit (g_steal_pointer (&client));
}

static void
test_wrong_password (gconstpointer data)
{
  const char *mechanism = data;
  g_autoptr(TernPop3Client) client = client_new (TERN_TEST_SERVICE_POP3S);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_login (client, tern_test_servers_get_user (servers, 0),
                                          "not the password", mechanism, NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1:"));
}

static void
test_apop_not_offered (void)
{
  g_autoptr(TernPop3Client) client = client_new (TERN_TEST_SERVICE_POP3S);
  g_autoptr(GError) error = NULL;

  tern_pop3_client_open (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (tern_pop3_client_has_apop (client));
  g_assert_false (tern_pop3_client_login (client, tern_test_servers_get_user (servers, 0),
                                          tern_test_servers_get_password (servers, 0),
                                          "APOP", NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_UNAVAILABLE);
}

/* The Maildir: Dovecot's UIDL is "%08Xu%08Xv" (tests/servers), so a UIDL
 * names the UID, and dovecot-uidlist names the file of each UID. */

static char *
maildir (void)
{
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autofree char *local = g_strndup (user, strcspn (user, "@"));

  return g_build_filename (tern_test_servers_get_dir (servers), "mail", local, "Maildir",
                           NULL);
}

/* UID → path of the file in cur/. */
static GHashTable *
maildir_files (void)
{
  g_autofree char *dir = maildir ();
  g_autofree char *uidlist_path = g_build_filename (dir, "dovecot-uidlist", NULL);
  g_autofree char *cur_path = g_build_filename (dir, "cur", NULL);
  g_autofree char *uidlist = NULL;
  g_autoptr(GHashTable) by_base = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) files = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GDir) cur = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  cur = g_dir_open (cur_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (cur)) != NULL)
    g_hash_table_insert (by_base, g_strndup (name, strcspn (name, ",:")),
                         g_build_filename (cur_path, name, NULL));

  g_file_get_contents (uidlist_path, &uidlist, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (uidlist, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *colon = strstr (lines[i], " :");
      g_autofree char *base = NULL;
      guint64 uid = g_ascii_strtoull (lines[i], NULL, 10);

      if (colon == NULL || uid == 0)
        continue;
      base = g_strndup (colon + 2, strcspn (colon + 2, ",:"));
      if (g_hash_table_contains (by_base, base))
        g_hash_table_insert (files, GUINT_TO_POINTER (uid),
                             g_strdup (g_hash_table_lookup (by_base, base)));
    }
  return g_steal_pointer (&files);
}

static guint
uid_of (const TernPop3Entry *entry)
{
  g_autofree char *hex = g_strndup (entry->uid, 8);

  g_assert_cmpuint (strlen (entry->uid), ==, 16);
  return g_ascii_strtoull (hex, NULL, 16);
}

/* Maildir files end lines with LF, POP3 with CRLF: compared with CRLF
 * made LF. */
static char *
lf_only (const char *data,
         gsize       len)
{
  GString *text = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
      g_string_append_c (text, data[i]);
  return g_string_free (text, FALSE);
}

static char *
file_text (const char *path)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return lf_only (data, len);
}

static char *
stream_text (GOutputStream *stream,
             gsize         *len)
{
  GMemoryOutputStream *memory = G_MEMORY_OUTPUT_STREAM (stream);

  *len = g_memory_output_stream_get_data_size (memory);
  return lf_only (g_memory_output_stream_get_data (memory), *len);
}

typedef struct
{
  GPtrArray *streams;   /* of GMemoryOutputStream, by message number - 1 */
  guint ended;
} Bulk;

static GOutputStream *
bulk_begin_cb (guint     number,
               gpointer  user_data,
               GError  **error)
{
  Bulk *bulk = user_data;
  GOutputStream *stream = g_memory_output_stream_new_resizable ();

  g_assert_cmpuint (number, ==, bulk->streams->len + 1);
  g_ptr_array_add (bulk->streams, g_object_ref (stream));
  return stream;
}

static gboolean
bulk_end_cb (guint           number,
             GOutputStream  *stream,
             gpointer        user_data,
             GError        **error)
{
  Bulk *bulk = user_data;

  g_assert_true (stream == g_ptr_array_index (bulk->streams, number - 1));
  bulk->ended++;
  return TRUE;
}

static void
test_bulk (void)
{
  TernPop3Client *client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uids = NULL;
  g_autoptr(GPtrArray) sizes = NULL;
  g_autoptr(GHashTable) files = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  Bulk bulk = { g_ptr_array_new_with_free_func (g_object_unref), 0 };
  guint64 total = 0;
  gint64 start;
  double seconds;

  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0), NULL,
                                  bulk_count, &error);
  g_assert_no_error (error);

  client = alice_session ();
  uids = tern_pop3_client_uidl (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uids->len, ==, bulk_count);
  sizes = tern_pop3_client_list (client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sizes->len, ==, bulk_count);
  for (guint i = 0; i < uids->len; i++)
    {
      guint number = ((TernPop3Entry *) g_ptr_array_index (uids, i))->number;

      g_assert_cmpuint (number, ==, i + 1);
      g_array_append_val (numbers, number);
    }

  start = g_get_monotonic_time ();
  tern_pop3_client_retrieve_many (client, (const guint *) numbers->data, numbers->len, FALSE,
                                  bulk_begin_cb, bulk_end_cb, &bulk, NULL, &error);
  seconds = (g_get_monotonic_time () - start) / 1e6;
  g_assert_no_error (error);
  g_assert_cmpuint (bulk.ended, ==, bulk_count);

  /* Every message as the Maildir file has it; its size in CRLF form is
   * what LIST announced, so the CRLF line ends arrived too. */
  files = maildir_files ();
  for (guint i = 0; i < bulk_count; i++)
    {
      const TernPop3Entry *uid = g_ptr_array_index (uids, i);
      const TernPop3Entry *size = g_ptr_array_index (sizes, i);
      const char *path = g_hash_table_lookup (files, GUINT_TO_POINTER (uid_of (uid)));
      g_autofree char *expected = NULL;
      g_autofree char *got = NULL;
      gsize len;

      g_assert_nonnull (path);
      expected = file_text (path);
      got = stream_text (g_ptr_array_index (bulk.streams, i), &len);
      g_assert_cmpstr (got, ==, expected);
      g_assert_cmpuint (len, ==, size->size);
      total += len;
    }
  g_test_message ("RETR of %u messages (%.1f MB), pipelined over POP3S: %.3f s",
                  bulk_count, total / 1e6, seconds);

  g_ptr_array_unref (bulk.streams);
  quit (client);
}

/* TOP n 0 gives the header and the blank line, nothing of the body. */
static void
test_headers (void)
{
  TernPop3Client *client = alice_session ();
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) whole = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *message = NULL;
  gsize len, whole_len;

  tern_pop3_client_headers (client, 7, stream, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_retrieve (client, 7, whole, NULL, &error);
  g_assert_no_error (error);
  headers = stream_text (stream, &len);
  message = stream_text (whole, &whole_len);
  g_assert_true (g_str_has_suffix (headers, "\n\n"));
  g_assert_true (g_str_has_prefix (message, headers));
  g_assert_cmpuint (len, <, whole_len);
  /* The first blank line is the last line. */
  g_assert_true (strstr (headers, "\n\n") == headers + strlen (headers) - 2);
  quit (client);
}

/* DELE is undone by RSET, and carried out by QUIT. */
static void
test_delete (void)
{
  TernPop3Client *client;
  g_autoptr(GError) error = NULL;
  guint count = message_count ();
  const guint first[] = { 1, 2, 3 };
  const guint last[] = { 1 };

  client = alice_session ();
  tern_pop3_client_delete (client, first, G_N_ELEMENTS (first), NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_reset (client, NULL, &error);
  g_assert_no_error (error);
  quit (client);
  g_assert_cmpuint (message_count (), ==, count);

  client = alice_session ();
  tern_pop3_client_delete (client, last, G_N_ELEMENTS (last), NULL, &error);
  g_assert_no_error (error);
  /* Deleting it twice is refused with the server's words. */
  g_assert_false (tern_pop3_client_delete (client, last, 1, NULL, &error));
  g_assert_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR);
  g_clear_error (&error);
  quit (client);
  g_assert_cmpuint (message_count (), ==, count - 1);
}

/* Lines "." and ".x" in a body are dot-stuffed by the server and must
 * arrive as they were. */
static void
test_dot_lines (void)
{
  static const char text[] = "From: carol@example.org\nTo: alice@tern.test\n"
                             "Subject: dots\n\n.\n.x\n..\nend\n.\n";
  g_autofree char *dir = maildir ();
  g_autofree char *cur = g_build_filename (dir, "cur", NULL);
  g_autofree char *name = g_strdup_printf ("9999999999.M1P1Q1.dots,S=%zu:2,", strlen (text));
  g_autofree char *path = g_build_filename (cur, name, NULL);
  g_autofree char *got = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GOutputStream) stream = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  TernPop3Client *client;
  guint count;
  gsize len;
  int status = 0;
  const char *argv[] = { "doveadm", "-c", tern_test_servers_get_dovecot_config (servers),
                         "force-resync", "-u", tern_test_servers_get_user (servers, 0),
                         "INBOX", NULL };

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (cur, &st), ==, 0);
  g_assert_cmpint (chown (path, st.st_uid, st.st_gid), ==, 0);
  g_spawn_sync (NULL, (char **) argv, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);

  client = alice_session ();
  tern_pop3_client_stat (client, &count, NULL, NULL, &error);
  g_assert_no_error (error);
  tern_pop3_client_retrieve (client, count, stream, NULL, &error);
  g_assert_no_error (error);
  got = stream_text (stream, &len);
  expected = lf_only (text, strlen (text));
  g_assert_cmpstr (got, ==, expected);
  g_assert_cmpuint (len, ==, strlen (text) + 9);  /* nine lines, each CRLF */
  quit (client);
}

static void
test_servers_started (void)
{
  g_assert_no_error (start_error);
}

static const LoginCase login_cases[] = {
  { TERN_TEST_SERVICE_POP3S, NULL },
  { TERN_TEST_SERVICE_POP3S, "USER" },
  { TERN_TEST_SERVICE_POP3S, "SCRAM-SHA-256" },
  { TERN_TEST_SERVICE_POP3S, "PLAIN" },
  { TERN_TEST_SERVICE_POP3S, "LOGIN" },
  { TERN_TEST_SERVICE_POP3, NULL },
  { TERN_TEST_SERVICE_POP3, "USER" },
  { TERN_TEST_SERVICE_POP3, "SCRAM-SHA-256" },
  { TERN_TEST_SERVICE_POP3, "PLAIN" },
  { TERN_TEST_SERVICE_POP3, "LOGIN" },
};

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("TERN_POP3_BENCH_COUNT") != NULL)
    bulk_count = MAX (10, g_ascii_strtoull (g_getenv ("TERN_POP3_BENCH_COUNT"), NULL, 10));

  servers = tern_test_servers_start (&start_error);
  if (servers == NULL)
    {
      g_test_add_func ("/tern/pop3/client/servers/start", test_servers_started);
      return g_test_run ();
    }

  for (gsize i = 0; i < G_N_ELEMENTS (login_cases); i++)
    {
      const LoginCase *login = &login_cases[i];
      g_autofree char *path =
        g_strdup_printf ("/tern/pop3/client/servers/login/%s/%s",
                         login->service == TERN_TEST_SERVICE_POP3S ? "pop3s" : "stls",
                         login->mechanism != NULL ? login->mechanism : "auto");

      g_test_add_data_func (path, login, test_login);
    }
  g_test_add_data_func ("/tern/pop3/client/servers/wrong-password/USER", "USER",
                        test_wrong_password);
  g_test_add_data_func ("/tern/pop3/client/servers/wrong-password/SCRAM-SHA-256",
                        "SCRAM-SHA-256", test_wrong_password);
  g_test_add_func ("/tern/pop3/client/servers/apop-not-offered", test_apop_not_offered);
  g_test_add_func ("/tern/pop3/client/servers/bulk", test_bulk);
  g_test_add_func ("/tern/pop3/client/servers/headers", test_headers);
  g_test_add_func ("/tern/pop3/client/servers/delete", test_delete);
  g_test_add_func ("/tern/pop3/client/servers/dot-lines", test_dot_lines);

  ret = g_test_run ();
  tern_test_servers_free (servers);
  return ret;
}
