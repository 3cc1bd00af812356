/* test-hostile-tamper.c: tampering before TLS leaves the cache unchanged.
 *
 * A man in the middle speaks for the real Dovecot until STARTTLS: his
 * greeting and his answer to CAPABILITY come with untagged LIST, STATUS,
 * EXISTS, EXPUNGE, FETCH, FLAGS, CAPABILITY and resp-codes of his own.
 * At STARTTLS he asks Dovecot for TLS himself and from then on passes the
 * bytes through untouched (the fault proxy's preamble), so that Tern's
 * TLS session is with Dovecot and the sync that follows is real.  The
 * account's cache after that sync must be identical to the cache of a
 * sync straight to Dovecot, and Tern must have sent nothing but
 * CAPABILITY and STARTTLS in clear.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-faults-common.h"

/* Every line the man in the middle makes up contains it. */
#define EVIL "EVIL-TEXT"

/* Untagged responses and resp-codes that would change the cache if a
 * client believed them. */
static const char tampering[] =
  "* LIST () \"/\" \"" EVIL "-Folder\"\r\n"
  "* LIST (\\Noselect) \"/\" \"INBOX\"\r\n"
  "* STATUS INBOX (MESSAGES 999 UIDNEXT 999 UIDVALIDITY 1 UNSEEN 999)\r\n"
  "* 999 EXISTS\r\n"
  "* 1 EXPUNGE\r\n"
  "* 1 FETCH (UID 4242 FLAGS (\\Seen \\Deleted) RFC822.SIZE 10 ENVELOPE (NIL \"" EVIL
  "\" NIL NIL NIL NIL NIL NIL NIL \"<evil@" EVIL ">\"))\r\n"
  "* FLAGS (\\Seen " EVIL ")\r\n"
  "* OK [UIDVALIDITY 1] " EVIL "\r\n"
  "* OK [PERMANENTFLAGS ()] " EVIL "\r\n"
  "* OK [ALERT] " EVIL ": your mailbox is full\r\n"
  "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED X-" EVIL "\r\n";

typedef struct
{
  GMutex lock;
  GString *sent;          /* what Tern sent in clear, every session */
  gboolean greeting_caps; /* the greeting names the capabilities */
} Tamper;

static gboolean
write_text (GIOStream  *stream,
            const char *text)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (stream), text, strlen (text),
                                    NULL, NULL, NULL);
}

/* A line of @in without its CRLF, or NULL at the end. */
static char *
read_line (GDataInputStream *in)
{
  char *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);

  if (line != NULL)
    g_strchomp (line);
  return line;
}

/* Dovecot's own STARTTLS, for the man in the middle. */
static gboolean
server_starttls (GIOStream *server)
{
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (server));
  g_autofree char *greeting = NULL;

  /* Unbuffered beyond a line: TLS follows the OK. */
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in), 1);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  greeting = read_line (in);
  if (greeting == NULL || !write_text (server, "M1 STARTTLS\r\n"))
    return FALSE;
  for (;;)
    {
      g_autofree char *line = read_line (in);

      if (line == NULL)
        return FALSE;
      if (g_str_has_prefix (line, "M1 "))
        return g_str_has_prefix (line, "M1 OK");
    }
}

static gboolean
tamper_preamble (GIOStream *client,
                 GIOStream *server,
                 gpointer   user_data)
{
  Tamper *tamper = user_data;
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (client));
  g_autofree char *greeting = NULL;

  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in), 1);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  greeting = g_strdup_printf ("* OK %s" EVIL " ready\r\n%s",
                              tamper->greeting_caps
                              ? "[CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] " : "",
                              tampering);
  if (!write_text (client, greeting))
    return FALSE;
  for (;;)
    {
      g_autofree char *line = read_line (in);
      g_auto(GStrv) words = NULL;
      g_autofree char *reply = NULL;

      if (line == NULL)
        return FALSE;
      g_mutex_lock (&tamper->lock);
      g_string_append_printf (tamper->sent, "%s\n", line);
      g_mutex_unlock (&tamper->lock);
      words = g_strsplit (line, " ", 3);
      if (g_strv_length (words) != 2)
        return FALSE;
      if (g_ascii_strcasecmp (words[1], "CAPABILITY") == 0)
        {
          reply = g_strdup_printf ("%s* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
                                   "%s OK " EVIL " done\r\n",
                                   tampering, words[0]);
          if (!write_text (client, reply))
            return FALSE;
        }
      else if (g_ascii_strcasecmp (words[1], "STARTTLS") == 0)
        {
          /* From here on Tern speaks TLS with Dovecot. */
          reply = g_strdup_printf ("%s OK Begin TLS negotiation now\r\n", words[0]);
          return server_starttls (server) && write_text (client, reply);
        }
      else
        return FALSE;
    }
}

/* What a sync put in the cache, without the row ids and times that
 * differ between two profiles of the same mailbox. */
static char *
dump_cache (FaultsProfile *profile)
{
  g_autofree char *folders = NULL;
  g_autofree char *messages = NULL;
  g_autofree char *bodies = NULL;

  /* Without \Marked and \Unmarked (1 << 6, 1 << 7): whether mail came
   * since the last SELECT, which the first sync changes for the second. */
  folders = faults_db_rows (profile,
                            "SELECT name, delimiter, role, attributes & ~192, subscribed, uidvalidity,"
                            " uidnext, highestmodseq, total_count, unread_count FROM folders");
  messages = faults_db_rows (profile,
                             "SELECT f.name, m.uid, m.pop3_uidl, m.flags, m.keywords, m.modseq,"
                             " m.internal_date, m.date, m.size, m.subject, m.from_name,"
                             " m.from_address, m.to_list, m.cc_list, m.reply_to, m.message_id,"
                             " m.in_reply_to, m.references_list, m.list_id,"
                             " m.has_attachments, m.preview"
                             " FROM messages m JOIN folders f ON f.id = m.folder_id");
  bodies = faults_db_rows (profile,
                           "SELECT f.name, m.uid, b.size, hex(b.data)"
                           " FROM bodies b JOIN messages m ON m.id = b.message_id"
                           " JOIN folders f ON f.id = m.folder_id");
  return g_strdup_printf ("folders:\n%s\nmessages:\n%s\nbodies:\n%s", folders, messages, bodies);
}

/* Equal dumps; otherwise the first lines that differ, not megabytes of
 * hex. */
static void
assert_same_cache (const char *tampered,
                   const char *clean)
{
  g_auto(GStrv) a = g_strsplit (tampered, "\n", -1);
  g_auto(GStrv) b = g_strsplit (clean, "\n", -1);

  for (guint i = 0; a[i] != NULL && b[i] != NULL; i++)
    if (!g_str_equal (a[i], b[i]))
      {
        g_test_message ("tampered: %.300s", a[i]);
        g_test_message ("clean:    %.300s", b[i]);
        g_assert_cmpuint (i, ==, G_MAXUINT);
      }
  g_assert_cmpuint (g_strv_length (a), ==, g_strv_length (b));
}

static void
test_tamper_before_tls (gconstpointer data)
{
  guint16 imap_port = tern_test_servers_get_port (faults_servers, TERN_TEST_SERVICE_IMAP);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernFaultProxy) proxy = tern_fault_proxy_new ("127.0.0.1", imap_port, &error);
  g_autofree char *tampered_server = NULL;
  g_autofree char *clean_server = g_strdup_printf ("127.0.0.1:%u:starttls", imap_port);
  g_autoptr(FaultsProfile) tampered = NULL;
  g_autoptr(FaultsProfile) clean = NULL;
  g_autofree char *tampered_err = NULL;
  g_autofree char *tampered_cache = NULL;
  g_autofree char *clean_cache = NULL;
  g_auto(GStrv) sent = NULL;
  Tamper tamper = { 0 };

  g_assert_no_error (error);
  g_mutex_init (&tamper.lock);
  tamper.sent = g_string_new (NULL);
  tamper.greeting_caps = GPOINTER_TO_INT (data);
  tern_fault_proxy_set_preamble (proxy, tamper_preamble, &tamper);
  tern_test_servers_add_messages (faults_servers, tern_test_servers_get_user (faults_servers, 0),
                                  NULL, 12, &error);
  g_assert_no_error (error);
  tern_test_servers_add_messages (faults_servers, tern_test_servers_get_user (faults_servers, 0),
                                  "Archive", 3, &error);
  g_assert_no_error (error);

  tampered_server = g_strdup_printf ("127.0.0.1:%u:starttls", tern_fault_proxy_get_port (proxy));
  tampered = faults_profile_new (0, tampered_server, NULL, NULL);
  clean = faults_profile_new (0, clean_server, NULL, NULL);
  g_assert_cmpint (faults_cli (tampered, &tampered_err, "sync", "--bodies", "all", NULL), ==, 0);
  g_assert_cmpint (faults_cli (clean, NULL, "sync", "--bodies", "all", NULL), ==, 0);

  /* In clear, Tern asked for the capabilities and for TLS, nothing else. */
  g_test_message ("sent in clear:\n%s", tamper.sent->str);
  sent = g_strsplit (tamper.sent->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (sent), >=, 2);
  for (guint i = 0; sent[i] != NULL && *sent[i] != '\0'; i++)
    g_assert_true (g_str_has_suffix (sent[i], " CAPABILITY")
                   || g_str_has_suffix (sent[i], " STARTTLS"));
  g_assert_nonnull (strstr (tamper.sent->str, " STARTTLS\n"));
  if (!tamper.greeting_caps)
    g_assert_nonnull (strstr (tamper.sent->str, " CAPABILITY\n"));
  /* The forged ALERT was not shown. */
  g_assert_null (strstr (tampered_err, EVIL));

  tampered_cache = dump_cache (tampered);
  clean_cache = dump_cache (clean);
  g_assert_null (strstr (tampered_cache, EVIL));
  g_assert_nonnull (strstr (clean_cache, "Archive"));
  assert_same_cache (tampered_cache, clean_cache);

  g_clear_pointer (&proxy, tern_fault_proxy_free);
  g_string_free (tamper.sent, TRUE);
  g_mutex_clear (&tamper.lock);
}

int
main (int    argc,
      char **argv)
{
  faults_init (&argc, &argv);

  /* Tern asks for the capabilities when the greeting does not name them:
   * then the answer to CAPABILITY carries the forgeries too. */
  g_test_add_data_func ("/tern/hostile/tamper/greeting", GINT_TO_POINTER (TRUE),
                        test_tamper_before_tls);
  g_test_add_data_func ("/tern/hostile/tamper/capability", GINT_TO_POINTER (FALSE),
                        test_tamper_before_tls);

  return faults_run ();
}
