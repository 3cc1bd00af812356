/* tern-pop3-client.c: one POP3 session over one TernConnection.
 *
 * Every answer is a status line ("+OK", "-ERR", or "+ " during AUTH),
 * sometimes followed by dot-stuffed lines up to a lone ".".  Pipelined
 * commands are answered in order, so a window of commands is kept in flight
 * and refilled as answers come in.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-pop3"

#include "config.h"

#include "tern-pop3-client.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-sasl.h"

/* RFC 2449 limits status lines to 512 octets; servers exceed that in
 * their texts, so allow more, but not without bound. */
#define STATUS_LINE_MAX 8192
/* Lines of a message: RFC 5322 says 998, real mail has longer ones. */
#define DATA_LINE_MAX (4 * 1024 * 1024)
/* RFC 5034: an AUTH command with its initial response fits in 255 octets. */
#define AUTH_LINE_MAX 255
#define PIPELINE_WINDOW 50
#define WRITE_CHUNK (64 * 1024)
/* CAPA, LIST and UIDL: far more than the list of any maildrop takes
 * (counting what each line costs to keep), so that a server that never
 * ends its list cannot take all memory. */
#define LIST_BYTES_MAX (128 * 1024 * 1024)

G_DEFINE_QUARK (tern-pop3-error-quark, tern_pop3_error)

struct _TernPop3Client
{
  GObject parent_instance;

  /* Owned references */
  TernConnection *connection;
  char *label;
  GHashTable *capabilities;  /* upper-case tag → arguments */
  char *apop_timestamp;

  gboolean capa_known;
  gboolean uidl_refused;
  gboolean authenticated;
};

typedef enum {
  REPLY_FAILED,
  REPLY_OK,
  REPLY_ERR,
  REPLY_CONTINUE,
} Reply;

G_DEFINE_FINAL_TYPE (TernPop3Client, tern_pop3_client, G_TYPE_OBJECT)

void
tern_pop3_entry_free (TernPop3Entry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->uid);
  g_free (entry);
}

static void
tern_pop3_client_finalize (GObject *object)
{
  TernPop3Client *self = TERN_POP3_CLIENT (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->capabilities, g_hash_table_unref);
  g_clear_pointer (&self->apop_timestamp, g_free);

  G_OBJECT_CLASS (tern_pop3_client_parent_class)->finalize (object);
}

static void
tern_pop3_client_class_init (TernPop3ClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_pop3_client_finalize;
}

static void
tern_pop3_client_init (TernPop3Client *self)
{
  self->capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

TernPop3Client *
tern_pop3_client_new (TernConnection *connection)
{
  TernPop3Client *self;

  g_return_val_if_fail (TERN_IS_CONNECTION (connection), NULL);

  self = g_object_new (TERN_TYPE_POP3_CLIENT, NULL);
  self->connection = g_object_ref (connection);
  self->label = g_strdup (tern_connection_get_label (connection));
  return self;
}

TernConnection *
tern_pop3_client_get_connection (TernPop3Client *self)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), NULL);

  return self->connection;
}

gboolean
tern_pop3_client_has_capability (TernPop3Client *self,
                                 const char     *capability)
{
  g_autofree char *tag = NULL;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  tag = g_ascii_strup (capability, -1);
  return g_hash_table_contains (self->capabilities, tag);
}

gboolean
tern_pop3_client_has_uidl (TernPop3Client *self)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  /* Without CAPA (a plain RFC 1939 server) UIDL may still work: it is
   * assumed until the server refuses it. */
  if (self->uidl_refused)
    return FALSE;
  return !self->capa_known || tern_pop3_client_has_capability (self, "UIDL");
}

gboolean
tern_pop3_client_has_top (TernPop3Client *self)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  return !self->capa_known || tern_pop3_client_has_capability (self, "TOP");
}

gboolean
tern_pop3_client_has_apop (TernPop3Client *self)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  return self->apop_timestamp != NULL;
}

/* Low-level I/O */

static gboolean
fail_protocol (TernPop3Client  *self,
               const char      *what,
               GError         **error)
{
  tern_connection_close (self->connection, NULL, NULL);
  if (what == NULL)
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PROTOCOL,
                 _("%s did not greet Tern the way a POP3 server does; the connection was "
                   "closed"),
                 self->label);
  else
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PROTOCOL,
                 _("%s answered %s with something Tern did not expect; the connection was "
                   "closed"),
                 self->label, what);
  return FALSE;
}

static gboolean
ensure_connected (TernPop3Client  *self,
                  GError         **error)
{
  if (tern_connection_is_connected (self->connection))
    return TRUE;
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
               _("Not connected to %s"), self->label);
  return FALSE;
}

static gboolean
send_line (TernPop3Client  *self,
           const char      *line,
           GCancellable    *cancellable,
           GError         **error)
{
  tern_connection_queue (self->connection, line, strlen (line));
  return tern_connection_write_all (self->connection, "\r\n", 2, cancellable, error);
}

/* Reads a status line; @text receives what follows the status word. */
static Reply
read_reply (TernPop3Client  *self,
            const char      *what,
            char           **text,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *line = NULL;
  gsize len;
  const char *rest;

  line = tern_connection_read_line (self->connection, STATUS_LINE_MAX, &len,
                                    cancellable, error);
  if (line == NULL)
    return REPLY_FAILED;
  if (strlen (line) != len)
    {
      fail_protocol (self, what, error);
      return REPLY_FAILED;
    }

  if (g_str_has_prefix (line, "+OK"))
    rest = line + 3;
  else if (g_str_has_prefix (line, "-ERR"))
    rest = line + 4;
  else if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0'))
    rest = line + 1;
  else
    {
      fail_protocol (self, what, error);
      return REPLY_FAILED;
    }
  if (*rest != ' ' && *rest != '\0')
    {
      fail_protocol (self, what, error);
      return REPLY_FAILED;
    }
  while (*rest == ' ')
    rest++;
  if (text != NULL)
    *text = g_strdup (rest);

  if (line[0] == '-')
    return REPLY_ERR;
  return line[1] == 'O' ? REPLY_OK : REPLY_CONTINUE;
}

/* Turns -ERR text into an error, by its response code (RFC 2449, 3206).
 * A -ERR without a code while signing in means the credentials. */
static void
set_err (TernPop3Client  *self,
         const char      *what,
         const char      *text,
         gboolean         signing_in,
         GError         **error)
{
  g_autofree char *code = NULL;
  const char *message = text;

  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close != NULL)
        {
          code = g_ascii_strup (text + 1, close - text - 1);
          message = close + 1;
          while (*message == ' ')
            message++;
        }
    }

  if (g_strcmp0 (code, "IN-USE") == 0)
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_IN_USE,
                 _("%s says your mailbox is in use by another session, perhaps another "
                   "mail program; try again once it has finished: %s"),
                 self->label, message);
  else if (g_strcmp0 (code, "LOGIN-DELAY") == 0)
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_LOGIN_DELAY,
                 _("%s does not allow signing in again this soon; try again in a few "
                   "minutes: %s"),
                 self->label, message);
  else if (g_strcmp0 (code, "SYS/TEMP") == 0)
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_TEMPORARY,
                 _("%s has a temporary problem; try again later: %s"),
                 self->label, message);
  else if (g_strcmp0 (code, "SYS/PERM") == 0)
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PERMANENT,
                 _("%s cannot open your mailbox because of a problem on the server: %s"),
                 self->label, message);
  else if (g_strcmp0 (code, "AUTH") == 0 || (signing_in && code == NULL))
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED,
                 _("%s did not accept the user name or password: %s"),
                 self->label, message);
  else
    g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR,
                 _("%s refused %s: %s"), self->label, what, message);
}

/* Sends @command (its first word names it in messages) and reads +OK. */
static gboolean
run_simple (TernPop3Client  *self,
            const char      *command,
            char           **text,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autofree char *what = g_strndup (command, strcspn (command, " "));
  g_autofree char *reply_text = NULL;
  Reply reply;

  if (!ensure_connected (self, error) || !send_line (self, command, cancellable, error))
    return FALSE;
  reply = read_reply (self, what, &reply_text, cancellable, error);
  if (reply == REPLY_FAILED)
    return FALSE;
  if (reply == REPLY_CONTINUE)
    return fail_protocol (self, what, error);
  if (reply == REPLY_ERR)
    {
      set_err (self, what, reply_text, FALSE, error);
      return FALSE;
    }
  if (text != NULL)
    *text = g_steal_pointer (&reply_text);
  return TRUE;
}

static gboolean
write_buffer (GOutputStream  *stream,
              GByteArray     *buffer,
              GCancellable   *cancellable,
              GError        **write_error)
{
  gboolean ok = TRUE;

  if (stream != NULL && *write_error == NULL && buffer->len > 0)
    ok = g_output_stream_write_all (stream, buffer->data, buffer->len, NULL,
                                    cancellable, write_error);
  g_byte_array_set_size (buffer, 0);
  return ok;
}

static gboolean
fail_too_large (TernPop3Client  *self,
                GError         **error)
{
  g_autofree char *limit = g_format_size_full (TERN_POP3_MAX_MESSAGE_SIZE, G_FORMAT_SIZE_IEC_UNITS);

  tern_connection_close (self->connection, NULL, NULL);
  g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_TOO_LARGE,
               _("%s sent a message larger than %s, more than Tern accepts; the connection "
                 "was closed"),
               self->label, limit);
  return FALSE;
}

/* Whether a message that began at @start (monotonic time) and has brought
 * @total bytes so far is coming too slowly; see TERN_POP3_MIN_RATE. */
static gboolean
too_slow (TernPop3Client  *self,
          gint64           start,
          guint64          total,
          GError         **error)
{
  guint timeout = tern_connection_get_io_timeout (self->connection);
  gint64 allowed = ((gint64) timeout + (gint64) (total / TERN_POP3_MIN_RATE)) * G_USEC_PER_SEC;

  if (timeout == 0 || g_get_monotonic_time () - start <= allowed)
    return FALSE;
  tern_connection_close (self->connection, NULL, NULL);
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT,
               _("%s sent a message so slowly that it would never arrive; the connection was "
                 "closed"),
               self->label);
  return TRUE;
}

/* Reads dot-stuffed lines up to the lone "." into @stream (NULL: drops
 * them), unstuffed and ended by CRLF.  A failing write is kept in
 * @write_error and the reading goes on, so the session stays in step;
 * FALSE means the connection failed. */
static gboolean
read_multiline (TernPop3Client  *self,
                GOutputStream   *stream,
                gsize            max_line,
                GError         **write_error,
                GCancellable    *cancellable,
                GError         **error)
{
  g_autoptr(GByteArray) buffer = g_byte_array_sized_new (WRITE_CHUNK + 1024);
  g_autoptr(GByteArray) line = g_byte_array_new ();
  gint64 start = g_get_monotonic_time ();
  guint64 total = 0;

  for (;;)
    {
      const char *data;
      gsize len;

      /* One buffer for all the lines of the message. */
      if (!tern_connection_read_line_into (self->connection, line, max_line, cancellable, error))
        return FALSE;
      data = (const char *) line->data;
      len = line->len;
      if (len > 0 && data[0] == '.')
        {
          if (len == 1)
            break;
          data++;
          len--;
        }
      /* Counted even when the text is dropped: reading must end too. */
      total += len + 2;
      if (total > TERN_POP3_MAX_MESSAGE_SIZE)
        return fail_too_large (self, error);
      if (too_slow (self, start, total, error))
        return FALSE;
      if (stream == NULL || *write_error != NULL)
        continue;
      g_byte_array_append (buffer, (const guint8 *) data, len);
      g_byte_array_append (buffer, (const guint8 *) "\r\n", 2);
      if (buffer->len >= WRITE_CHUNK)
        write_buffer (stream, buffer, cancellable, write_error);
    }

  write_buffer (stream, buffer, cancellable, write_error);
  return TRUE;
}

/* Reads the lines of a multi-line answer as strings, for CAPA, LIST and
 * UIDL. */
static GPtrArray *
read_lines (TernPop3Client  *self,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  gsize kept = 0;

  for (;;)
    {
      char *line;
      gsize len;

      line = tern_connection_read_line (self->connection, STATUS_LINE_MAX, &len,
                                        cancellable, error);
      if (line == NULL)
        return NULL;
      if (strcmp (line, ".") == 0)
        {
          g_free (line);
          break;
        }
      kept += len + 2 * sizeof (gpointer) + 32;
      if (kept > LIST_BYTES_MAX)
        {
          g_free (line);
          tern_connection_close (self->connection, NULL, NULL);
          g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_PROTOCOL,
                       _("%s sent a longer list than any mailbox has; the connection was "
                         "closed"),
                       self->label);
          return NULL;
        }
      if (line[0] == '.')
        memmove (line, line + 1, len);
      g_ptr_array_add (lines, line);
    }
  return g_steal_pointer (&lines);
}

/* Greeting, CAPA and STLS */

static gboolean
ask_capa (TernPop3Client  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  Reply reply;

  g_hash_table_remove_all (self->capabilities);
  self->capa_known = FALSE;
  if (!send_line (self, "CAPA", cancellable, error))
    return FALSE;
  reply = read_reply (self, "CAPA", NULL, cancellable, error);
  if (reply == REPLY_FAILED)
    return FALSE;
  if (reply == REPLY_CONTINUE)
    return fail_protocol (self, "CAPA", error);
  if (reply == REPLY_ERR)
    return TRUE;  /* an RFC 1939 server: no extensions known */

  lines = read_lines (self, cancellable, error);
  if (lines == NULL)
    return FALSE;
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      gsize tag_len = strcspn (line, " ");
      const char *args = line + tag_len;

      while (*args == ' ')
        args++;
      if (tag_len > 0)
        g_hash_table_replace (self->capabilities, g_ascii_strup (line, tag_len),
                              g_strdup (args));
    }
  self->capa_known = TRUE;
  return TRUE;
}

/* Nothing more is said on a connection that should have been encrypted:
 * when STLS is missing or refused it is closed, so that no credentials
 * can follow. */
static gboolean
starttls (TernPop3Client  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autofree char *text = NULL;
  g_autofree char *refusal = NULL;
  Reply reply;

  if (!tern_pop3_client_has_capability (self, "STLS"))
    refusal = g_strdup_printf (_("%s does not offer STLS, so the connection cannot be "
                                 "encrypted; it was closed without signing in"),
                               self->label);
  else
    {
      if (!send_line (self, "STLS", cancellable, error))
        return FALSE;
      reply = read_reply (self, "STLS", &text, cancellable, error);
      if (reply == REPLY_FAILED)
        return FALSE;
      /* Without the text: it came in clear and may be an attacker's. */
      if (reply != REPLY_OK)
        refusal = g_strdup_printf (_("%s refused to start encryption (STLS); the "
                                     "connection was closed without signing in"),
                                   self->label);
    }
  if (refusal != NULL)
    {
      tern_connection_close (self->connection, NULL, NULL);
      g_set_error_literal (error, TERN_POP3_ERROR, TERN_POP3_ERROR_STARTTLS_REFUSED, refusal);
      return FALSE;
    }

  if (!tern_connection_start_tls (self->connection, cancellable, error))
    return FALSE;

  /* What the server said in clear may have been forged (RFC 2595 §4). */
  return ask_capa (self, cancellable, error);
}

/* The APOP timestamp is the greeting's "<...@...>" (RFC 1939 §7). */
static char *
find_apop_timestamp (const char *text)
{
  const char *start = strchr (text, '<');
  const char *end = start != NULL ? strchr (start, '>') : NULL;
  g_autofree char *stamp = NULL;

  if (end == NULL)
    return NULL;
  stamp = g_strndup (start, end - start + 1);
  if (strchr (stamp, '@') == NULL || strchr (stamp + 1, '<') != NULL)
    return NULL;
  return g_steal_pointer (&stamp);
}

gboolean
tern_pop3_client_open (TernPop3Client  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autofree char *text = NULL;
  Reply reply;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  g_clear_pointer (&self->apop_timestamp, g_free);
  self->authenticated = FALSE;
  self->uidl_refused = FALSE;
  if (!tern_connection_connect (self->connection, cancellable, error))
    return FALSE;

  reply = read_reply (self, NULL, &text, cancellable, error);
  if (reply == REPLY_FAILED)
    return FALSE;
  if (reply == REPLY_CONTINUE)
    return fail_protocol (self, NULL, error);
  if (reply == REPLY_ERR)
    {
      tern_connection_close (self->connection, NULL, NULL);
      /* Text in clear on a connection that must be encrypted is not shown. */
      if (tern_connection_get_mode (self->connection) == TERN_TLS_MODE_STARTTLS)
        g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR,
                     _("%s refused the connection before it could be encrypted"), self->label);
      else if (text[0] == '[')
        set_err (self, "POP3", text, FALSE, error);
      else
        g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR,
                     _("%s refused the connection: %s"), self->label, text);
      return FALSE;
    }
  self->apop_timestamp = find_apop_timestamp (text);

  if (!ask_capa (self, cancellable, error))
    return FALSE;
  if (tern_connection_get_mode (self->connection) == TERN_TLS_MODE_STARTTLS)
    return starttls (self, cancellable, error);
  return TRUE;
}

/* Signing in */

static gboolean
user_pass (TernPop3Client  *self,
           const char      *username,
           const char      *password,
           GCancellable    *cancellable,
           GError         **error)
{
  g_autofree char *user = g_strdup_printf ("USER %s", username);
  g_autoptr(TernSaslResponse) pass = g_strdup_printf ("PASS %s", password);
  g_autofree char *text = NULL;
  Reply reply;

  if (!send_line (self, user, cancellable, error))
    return FALSE;
  reply = read_reply (self, "USER", &text, cancellable, error);
  if (reply == REPLY_FAILED)
    return FALSE;
  if (reply == REPLY_OK)
    {
      g_clear_pointer (&text, g_free);
      if (!send_line (self, pass, cancellable, error))
        return FALSE;
      reply = read_reply (self, "PASS", &text, cancellable, error);
      if (reply == REPLY_FAILED)
        return FALSE;
    }
  if (reply == REPLY_CONTINUE)
    return fail_protocol (self, "PASS", error);
  if (reply == REPLY_ERR)
    {
      set_err (self, "PASS", text, TRUE, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
apop (TernPop3Client  *self,
      const char      *username,
      const char      *password,
      GCancellable    *cancellable,
      GError         **error)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree char *command = NULL;
  g_autofree char *text = NULL;
  Reply reply;

  g_checksum_update (md5, (const guchar *) self->apop_timestamp, -1);
  g_checksum_update (md5, (const guchar *) password, -1);
  command = g_strdup_printf ("APOP %s %s", username, g_checksum_get_string (md5));
  if (!send_line (self, command, cancellable, error))
    return FALSE;
  reply = read_reply (self, "APOP", &text, cancellable, error);
  if (reply == REPLY_FAILED)
    return FALSE;
  if (reply == REPLY_CONTINUE)
    return fail_protocol (self, "APOP", error);
  if (reply == REPLY_ERR)
    {
      set_err (self, "APOP", text, TRUE, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
authenticate (TernPop3Client  *self,
              const char      *mechanism,
              const char      *username,
              const char      *password,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new (self->label, username, password);
  g_autoptr(TernSaslResponse) initial = NULL;
  g_autoptr(TernSaslResponse) command = NULL;
  g_autoptr(GError) sasl_error = NULL;

  if (!tern_sasl_start (sasl, mechanism, error))
    return FALSE;
  if (tern_sasl_mechanism_has_initial_response (mechanism))
    {
      initial = tern_sasl_step (sasl, NULL, error);
      if (initial == NULL)
        return FALSE;
    }

  /* A long initial response waits for the server's empty challenge. */
  if (initial != NULL &&
      strlen ("AUTH  \r\n") + strlen (mechanism) + MAX (strlen (initial), 1) <= AUTH_LINE_MAX)
    {
      command = g_strdup_printf ("AUTH %s %s", mechanism, initial[0] != '\0' ? initial : "=");
      g_clear_pointer (&initial, tern_sasl_response_free);
    }
  else
    command = g_strdup_printf ("AUTH %s", mechanism);
  if (!send_line (self, command, cancellable, error))
    return FALSE;

  for (;;)
    {
      g_autofree char *text = NULL;
      g_autoptr(TernSaslResponse) answer = NULL;
      Reply reply = read_reply (self, "AUTH", &text, cancellable, error);

      if (reply == REPLY_FAILED)
        return FALSE;
      if (reply == REPLY_ERR)
        {
          if (sasl_error != NULL)
            g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED,
                         "%s", sasl_error->message);
          else
            set_err (self, "AUTH", text, TRUE, error);
          return FALSE;
        }
      if (reply == REPLY_OK)
        {
          /* A server that claims success before proving it knows the
           * password (SCRAM's server signature) may be an impostor. */
          if (sasl_error != NULL || !tern_sasl_is_complete (sasl))
            {
              tern_connection_close (self->connection, NULL, NULL);
              g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED,
                           _("%s accepted the sign-in without proving that it knows your "
                             "password; the connection was closed"),
                           self->label);
              return FALSE;
            }
          return TRUE;
        }

      /* A challenge.  After a failed step the exchange is cancelled ("*")
       * and the server's answer awaited; a server that asks again after
       * that would never stop. */
      if (sasl_error != NULL)
        {
          tern_connection_close (self->connection, NULL, NULL);
          g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED, "%s",
                       sasl_error->message);
          return FALSE;
        }
      if (initial != NULL)
        answer = g_steal_pointer (&initial);
      else
        answer = tern_sasl_step (sasl, text, &sasl_error);
      if (!send_line (self, answer != NULL ? answer : "*", cancellable, error))
        return FALSE;
    }
}

static char **
offered_mechanisms (TernPop3Client *self)
{
  const char *sasl = g_hash_table_lookup (self->capabilities, "SASL");

  if (sasl == NULL)
    return g_new0 (char *, 1);
  return g_strsplit_set (sasl, " ", -1);
}

gboolean
tern_pop3_client_login (TernPop3Client  *self,
                        const char      *username,
                        const char      *password,
                        const char      *mechanism,
                        GCancellable    *cancellable,
                        GError         **error)
{
  gboolean allow_plaintext;
  gboolean ok;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (username != NULL && password != NULL, FALSE);

  if (!ensure_connected (self, error))
    return FALSE;
  if (strpbrk (username, "\r\n") != NULL || strpbrk (password, "\r\n") != NULL)
    {
      g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED,
                   _("The user name or password for %s contains a line break"), self->label);
      return FALSE;
    }

  allow_plaintext = tern_connection_is_tls (self->connection) ||
                    tern_connection_get_mode (self->connection) == TERN_TLS_MODE_PLAIN;

  if (mechanism != NULL && g_ascii_strcasecmp (mechanism, "APOP") == 0)
    {
      if (self->apop_timestamp == NULL)
        {
          g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("%s does not offer signing in with APOP"), self->label);
          return FALSE;
        }
      ok = apop (self, username, password, cancellable, error);
    }
  else if (mechanism != NULL && g_ascii_strcasecmp (mechanism, "USER") == 0)
    {
      if (!allow_plaintext)
        {
          g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("Tern does not send your password to %s without encryption"),
                       self->label);
          return FALSE;
        }
      ok = user_pass (self, username, password, cancellable, error);
    }
  else
    {
      g_auto(GStrv) offered = offered_mechanisms (self);
      g_autoptr(GError) choose_error = NULL;
      const char *chosen;

      chosen = tern_sasl_choose_mechanism ((const char * const *) offered, mechanism,
                                           allow_plaintext, &choose_error);
      if (chosen != NULL)
        ok = authenticate (self, chosen, username, password, cancellable, error);
      else if (mechanism == NULL && allow_plaintext)
        ok = user_pass (self, username, password, cancellable, error);
      else
        {
          g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("Cannot sign in to %s: %s"), self->label, choose_error->message);
          return FALSE;
        }
    }
  if (!ok)
    return FALSE;

  self->authenticated = TRUE;
  /* Capabilities may change after signing in (RFC 2449 §5). */
  return ask_capa (self, cancellable, error);
}

/* The maildrop */

gboolean
tern_pop3_client_stat (TernPop3Client  *self,
                       guint           *count,
                       guint64         *size,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autofree char *text = NULL;
  guint64 c, s;
  char *end;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  if (!run_simple (self, "STAT", &text, cancellable, error))
    return FALSE;
  c = g_ascii_strtoull (text, &end, 10);
  if (end == text || *end != ' ' || c > G_MAXUINT)
    return fail_protocol (self, "STAT", error);
  s = g_ascii_strtoull (end + 1, &end, 10);
  if (*end != '\0' && *end != ' ')
    return fail_protocol (self, "STAT", error);
  if (count != NULL)
    *count = c;
  if (size != NULL)
    *size = s;
  return TRUE;
}

/* LIST and UIDL: "number value" lines. */
static GPtrArray *
list_entries (TernPop3Client  *self,
              const char      *command,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  gboolean uidl = strcmp (command, "UIDL") == 0;

  if (!run_simple (self, command, NULL, cancellable, error))
    return NULL;
  lines = read_lines (self, cancellable, error);
  if (lines == NULL)
    return NULL;

  entries = g_ptr_array_new_full (lines->len, (GDestroyNotify) tern_pop3_entry_free);
  for (guint i = 0; i < lines->len; i++)
    {
      const char *line = g_ptr_array_index (lines, i);
      g_autoptr(TernPop3Entry) entry = g_new0 (TernPop3Entry, 1);
      guint64 number;
      char *end;

      number = g_ascii_strtoull (line, &end, 10);
      if (end == line || *end != ' ' || number == 0 || number > G_MAXUINT)
        {
          fail_protocol (self, command, error);
          return NULL;
        }
      entry->number = number;
      line = end + 1;
      if (uidl)
        {
          gsize len = strcspn (line, " ");

          if (len == 0)
            {
              fail_protocol (self, command, error);
              return NULL;
            }
          entry->uid = g_strndup (line, len);
        }
      else
        entry->size = g_ascii_strtoull (line, NULL, 10);
      g_ptr_array_add (entries, g_steal_pointer (&entry));
    }
  return g_steal_pointer (&entries);
}

GPtrArray *
tern_pop3_client_list (TernPop3Client  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), NULL);

  return list_entries (self, "LIST", cancellable, error);
}

GPtrArray *
tern_pop3_client_uidl (TernPop3Client  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  GPtrArray *entries;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), NULL);

  if (self->capa_known && !tern_pop3_client_has_capability (self, "UIDL"))
    self->uidl_refused = TRUE;
  if (self->uidl_refused)
    {
      g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED,
                   _("%s does not give messages lasting identifiers (UIDL)"), self->label);
      return NULL;
    }

  entries = list_entries (self, "UIDL", cancellable, &local_error);
  if (g_error_matches (local_error, TERN_POP3_ERROR, TERN_POP3_ERROR_ERR))
    {
      self->uidl_refused = TRUE;
      g_set_error (error, TERN_POP3_ERROR, TERN_POP3_ERROR_UNSUPPORTED,
                   _("%s does not give messages lasting identifiers (UIDL)"), self->label);
      return NULL;
    }
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return entries;
}

/* Pipelined commands on many messages: up to a window of commands is in
 * flight, refilled when half of it has been answered.  After the first
 * failure no more commands are sent, and those in flight are drained. */
static gboolean
run_many (TernPop3Client    *self,
          const char        *verb,
          const char        *suffix,
          const guint       *numbers,
          gsize              n_numbers,
          gboolean           multiline,
          TernPop3BeginFunc  begin,
          TernPop3EndFunc    end,
          gpointer           user_data,
          GCancellable      *cancellable,
          GError           **error)
{
  gsize window = tern_pop3_client_has_capability (self, "PIPELINING") ? PIPELINE_WINDOW : 1;
  const char *what = verb;
  g_autoptr(GError) first_error = NULL;
  gsize sent = 0, done = 0;

  if (!ensure_connected (self, error))
    return FALSE;

  while (done < n_numbers && (first_error == NULL || done < sent))
    {
      g_autofree char *text = NULL;
      g_autoptr(GOutputStream) stream = NULL;
      Reply reply;

      if (first_error == NULL && sent < n_numbers && sent - done <= window / 2)
        {
          for (; sent < n_numbers && sent - done < window; sent++)
            {
              g_autofree char *command = g_strdup_printf ("%s %u%s\r\n", verb,
                                                          numbers[sent], suffix);

              tern_connection_queue (self->connection, command, strlen (command));
            }
          if (!tern_connection_flush (self->connection, cancellable, error))
            return FALSE;
        }

      reply = read_reply (self, what, &text, cancellable, error);
      if (reply == REPLY_FAILED)
        return FALSE;
      if (reply == REPLY_CONTINUE)
        return fail_protocol (self, what, error);
      if (reply == REPLY_ERR)
        {
          if (first_error == NULL)
            set_err (self, what, text, FALSE, &first_error);
          done++;
          continue;
        }

      if (multiline)
        {
          g_autoptr(GError) write_error = NULL;

          if (first_error == NULL && begin != NULL)
            stream = begin (numbers[done], user_data, &first_error);
          if (!read_multiline (self, stream, DATA_LINE_MAX, &write_error, cancellable, error))
            return FALSE;
          if (write_error != NULL && first_error == NULL)
            first_error = g_steal_pointer (&write_error);
          if (stream != NULL && first_error == NULL && end != NULL &&
              !end (numbers[done], stream, user_data, &first_error))
            g_assert (first_error != NULL);
        }
      done++;
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_pop3_client_retrieve_many (TernPop3Client   *self,
                                const guint      *numbers,
                                gsize             n_numbers,
                                gboolean          headers_only,
                                TernPop3BeginFunc begin,
                                TernPop3EndFunc   end,
                                gpointer          user_data,
                                GCancellable     *cancellable,
                                GError          **error)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (numbers != NULL || n_numbers == 0, FALSE);

  return run_many (self, headers_only ? "TOP" : "RETR", headers_only ? " 0" : "", numbers, n_numbers,
                   TRUE, begin, end, user_data, cancellable, error);
}

static GOutputStream *
single_stream_cb (guint      number,
                  gpointer   user_data,
                  GError   **error)
{
  return g_object_ref (G_OUTPUT_STREAM (user_data));
}

gboolean
tern_pop3_client_retrieve (TernPop3Client  *self,
                           guint            number,
                           GOutputStream   *stream,
                           GCancellable    *cancellable,
                           GError         **error)
{
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);

  return tern_pop3_client_retrieve_many (self, &number, 1, FALSE, single_stream_cb, NULL,
                                         stream, cancellable, error);
}

gboolean
tern_pop3_client_headers (TernPop3Client  *self,
                          guint            number,
                          GOutputStream   *stream,
                          GCancellable    *cancellable,
                          GError         **error)
{
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);

  return tern_pop3_client_retrieve_many (self, &number, 1, TRUE, single_stream_cb, NULL,
                                         stream, cancellable, error);
}

gboolean
tern_pop3_client_delete (TernPop3Client  *self,
                         const guint     *numbers,
                         gsize            n_numbers,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (numbers != NULL || n_numbers == 0, FALSE);

  return run_many (self, "DELE", "", numbers, n_numbers, FALSE, NULL, NULL, NULL,
                   cancellable, error);
}

gboolean
tern_pop3_client_reset (TernPop3Client  *self,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  return run_simple (self, "RSET", NULL, cancellable, error);
}

gboolean
tern_pop3_client_noop (TernPop3Client  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  return run_simple (self, "NOOP", NULL, cancellable, error);
}

gboolean
tern_pop3_client_quit (TernPop3Client  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  gboolean ok;

  g_return_val_if_fail (TERN_IS_POP3_CLIENT (self), FALSE);

  ok = run_simple (self, "QUIT", NULL, cancellable, error);
  tern_connection_close (self->connection, NULL, NULL);
  self->authenticated = FALSE;
  return ok;
}
