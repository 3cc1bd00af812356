/* tern-smtp-client.c: one SMTP submission session over one TernConnection.
 *
 * A transaction is MAIL, RCPT..., DATA queued together when the server
 * offers PIPELINING (RFC 2920), the replies then read in order.  Replies
 * are read whole by tern-smtp-reply.c, which keeps their enhanced status
 * codes so that every error can quote what the server said; the message
 * itself is streamed by tern-smtp-data.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-smtp"

#include "config.h"

#include "tern-smtp-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-sasl.h"

G_DEFINE_QUARK (tern-smtp-error-quark, tern_smtp_error)

G_DEFINE_FINAL_TYPE (TernSmtpClient, tern_smtp_client, G_TYPE_OBJECT)

static void
tern_smtp_client_finalize (GObject *object)
{
  TernSmtpClient *self = TERN_SMTP_CLIENT (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->extensions, g_hash_table_unref);
  g_clear_pointer (&self->domain, g_free);

  G_OBJECT_CLASS (tern_smtp_client_parent_class)->finalize (object);
}

static void
tern_smtp_client_class_init (TernSmtpClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_smtp_client_finalize;
}

static void
tern_smtp_client_init (TernSmtpClient *self)
{
  self->extensions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

TernSmtpClient *
tern_smtp_client_new (TernConnection *connection)
{
  TernSmtpClient *self;

  g_return_val_if_fail (TERN_IS_CONNECTION (connection), NULL);

  self = g_object_new (TERN_TYPE_SMTP_CLIENT, NULL);
  self->connection = g_object_ref (connection);
  self->label = g_strdup (tern_connection_get_label (connection));
  return self;
}

TernConnection *
tern_smtp_client_get_connection (TernSmtpClient *self)
{
  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), NULL);

  return self->connection;
}

gboolean
tern_smtp_client_has_extension (TernSmtpClient *self,
                                const char     *keyword)
{
  return tern_smtp_client_get_extension (self, keyword) != NULL;
}

const char *
tern_smtp_client_get_extension (TernSmtpClient *self,
                                const char     *keyword)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), NULL);

  upper = g_ascii_strup (keyword, -1);
  return g_hash_table_lookup (self->extensions, upper);
}

guint64
tern_smtp_client_get_size_limit (TernSmtpClient *self)
{
  const char *size = tern_smtp_client_get_extension (self, "SIZE");

  if (size == NULL || *size == '\0')
    return 0;
  return g_ascii_strtoull (size, NULL, 10);
}

static gboolean
send_line (TernSmtpClient  *self,
           const char      *line,
           GCancellable    *cancellable,
           GError         **error)
{
  tern_connection_queue (self->connection, line, strlen (line));
  return tern_connection_write_all (self->connection, "\r\n", 2, cancellable, error);
}

/* Sends @line and reads its reply; NULL only for I/O errors. */
static TernSmtpReply *
command (TernSmtpClient  *self,
         const char      *line,
         const char      *what,
         GCancellable    *cancellable,
         GError         **error)
{
  if (!tern_connection_is_connected (self->connection))
    {
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                   _("Not connected to %s"), self->label);
      return NULL;
    }
  if (!send_line (self, line, cancellable, error))
    return NULL;
  return _tern_smtp_client_read_reply (self, what, cancellable, error);
}

static gboolean
simple_command (TernSmtpClient  *self,
                const char      *line,
                GCancellable    *cancellable,
                GError         **error)
{
  g_autoptr(TernSmtpReply) reply = command (self, line, line, cancellable, error);

  if (reply == NULL)
    return FALSE;
  if (reply->code / 100 != 2)
    return _tern_smtp_client_set_reply_error (self, reply, line, error);
  return TRUE;
}

/* Opening */

static void
set_extensions (TernSmtpClient      *self,
                const TernSmtpReply *reply)
{
  g_hash_table_remove_all (self->extensions);
  /* The first line is the server's name and greeting. */
  for (guint i = 1; i < reply->lines->len; i++)
    {
      const char *line = reply->lines->pdata[i];
      const char *space = strchr (line, ' ');
      g_autofree char *keyword = g_strndup (line, space ? (gsize) (space - line) : strlen (line));

      if (*keyword == '\0')
        continue;
      g_hash_table_replace (self->extensions, g_ascii_strup (keyword, -1),
                            g_strstrip (g_strdup (space != NULL ? space : "")));
    }
}

static gboolean
ehlo (TernSmtpClient  *self,
      GCancellable    *cancellable,
      GError         **error)
{
  g_autofree char *line = g_strdup_printf ("EHLO %s", self->domain);
  g_autoptr(TernSmtpReply) reply = command (self, line, "EHLO", cancellable, error);

  g_hash_table_remove_all (self->extensions);
  if (reply == NULL)
    return FALSE;
  if (reply->code == 250)
    {
      set_extensions (self, reply);
      return TRUE;
    }
  if (reply->code / 100 != 5)
    return _tern_smtp_client_set_reply_error (self, reply, "EHLO", error);

  /* An old server that knows only RFC 821: no extensions at all. */
  g_clear_pointer (&reply, _tern_smtp_reply_free);
  g_free (line);
  line = g_strdup_printf ("HELO %s", self->domain);
  reply = command (self, line, "HELO", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (reply->code != 250)
    return _tern_smtp_client_set_reply_error (self, reply, "HELO", error);
  return TRUE;
}

/* Nothing more is said on a connection that should have been encrypted:
 * when STARTTLS is missing or refused it is closed, so that no
 * credentials or mail can follow. */
static gboolean
starttls (TernSmtpClient  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(TernSmtpReply) reply = NULL;
  g_autofree char *refusal = NULL;

  if (!tern_smtp_client_has_extension (self, "STARTTLS"))
    refusal = g_strdup_printf (_("%s does not offer STARTTLS, so the connection cannot be "
                                 "encrypted; it was closed before signing in or sending mail"),
                               self->label);
  else
    {
      reply = command (self, "STARTTLS", "STARTTLS", cancellable, error);
      if (reply == NULL)
        return FALSE;
      /* Only the code: the text came in clear and may be an attacker's. */
      if (reply->code != 220)
        refusal = g_strdup_printf (_("%s refused to start encryption (STARTTLS, reply %d); "
                                     "the connection was closed before signing in or sending "
                                     "mail"),
                                   self->label, reply->code);
    }
  if (refusal != NULL)
    {
      tern_connection_close (self->connection, NULL, NULL);
      g_hash_table_remove_all (self->extensions);
      g_set_error_literal (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_STARTTLS_REFUSED, refusal);
      return FALSE;
    }

  if (!tern_connection_start_tls (self->connection, cancellable, error))
    return FALSE;

  /* What the server said in clear may have been forged (RFC 3207 §4.2). */
  return ehlo (self, cancellable, error);
}

static char *
default_domain (void)
{
  const char *host = g_get_host_name ();

  if (strchr (host, '.') != NULL && strspn (host, "abcdefghijklmnopqrstuvwxyz"
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
                                      strlen (host))
    return g_strdup (host);
  return g_strdup ("localhost.localdomain");
}

gboolean
tern_smtp_client_open (TernSmtpClient  *self,
                       const char      *domain,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(TernSmtpReply) greeting = NULL;

  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (domain == NULL ||
                        (*domain != '\0' && strpbrk (domain, " \r\n\t") == NULL), FALSE);

  g_hash_table_remove_all (self->extensions);
  g_free (self->domain);
  self->domain = domain != NULL ? g_strdup (domain) : default_domain ();

  if (!tern_connection_connect (self->connection, cancellable, error))
    return FALSE;

  greeting = _tern_smtp_client_read_reply (self, "the connection", cancellable, error);
  if (greeting == NULL)
    return FALSE;
  if (greeting->code != 220)
    {
      g_autofree char *said = _tern_smtp_reply_describe (greeting);
      int code = greeting->code / 100 == 4 ? TERN_SMTP_ERROR_TEMPORARY
                                           : TERN_SMTP_ERROR_PERMANENT;

      tern_connection_close (self->connection, NULL, NULL);
      /* Text in clear on a connection that must be encrypted is not shown. */
      if (tern_connection_get_mode (self->connection) == TERN_TLS_MODE_STARTTLS)
        g_set_error (error, TERN_SMTP_ERROR, code,
                     _("%s refused the connection before it could be encrypted"),
                     self->label);
      else
        g_set_error (error, TERN_SMTP_ERROR, code, _("%s refused the connection: “%s”"),
                     self->label, said);
      return FALSE;
    }

  if (tern_connection_get_mode (self->connection) != TERN_TLS_MODE_STARTTLS)
    return ehlo (self, cancellable, error);

  /* A connection that must be encrypted is closed when it cannot be. */
  if (!ehlo (self, cancellable, error) || !starttls (self, cancellable, error))
    {
      tern_connection_close (self->connection, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* Signing in */

static char **
offered_mechanisms (TernSmtpClient *self)
{
  const char *auth = tern_smtp_client_get_extension (self, "AUTH");

  return g_strsplit_set (auth != NULL ? auth : "", " ", -1);
}

static gboolean
set_auth_error (TernSmtpClient       *self,
                const TernSmtpReply  *reply,
                GError              **error)
{
  g_autofree char *said = _tern_smtp_reply_describe (reply);

  if (reply->code / 100 == 4)
    g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TEMPORARY,
                 _("%s cannot sign you in at the moment: “%s”"), self->label, said);
  else
    g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED,
                 _("%s did not accept the user name or password: “%s”"), self->label, said);
  return FALSE;
}

static gboolean
authenticate (TernSmtpClient  *self,
              TernSasl        *sasl,
              const char      *mechanism,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(GError) sasl_error = NULL;
  g_autoptr(GString) line = g_string_new ("AUTH ");
  gboolean ok;

  g_string_append (line, mechanism);
  if (tern_sasl_mechanism_has_initial_response (mechanism))
    {
      g_autoptr(TernSaslResponse) initial = tern_sasl_step (sasl, NULL, &sasl_error);

      if (initial == NULL)
        {
          g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED,
                       "%s", sasl_error->message);
          return FALSE;
        }
      g_string_append_c (line, ' ');
      g_string_append (line, *initial != '\0' ? initial : "=");
    }

  ok = send_line (self, line->str, cancellable, error);
  memset (line->str, 0, line->len);
  if (!ok)
    return FALSE;

  for (;;)
    {
      g_autoptr(TernSmtpReply) reply = NULL;
      g_autoptr(TernSaslResponse) answer = NULL;

      reply = _tern_smtp_client_read_reply (self, "AUTH", cancellable, error);
      if (reply == NULL)
        return FALSE;
      if (reply->code == 235)
        {
          /* A server that claims success before proving it knows the
           * password (SCRAM's server signature) may be an impostor. */
          if (sasl_error != NULL || !tern_sasl_is_complete (sasl))
            {
              tern_connection_close (self->connection, NULL, NULL);
              g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED,
                           _("%s accepted the sign-in without proving that it knows your "
                             "password; the connection was closed"),
                           self->label);
              return FALSE;
            }
          return TRUE;
        }
      if (reply->code != 334)
        {
          if (sasl_error != NULL)
            {
              g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED,
                           "%s", sasl_error->message);
              return FALSE;
            }
          return set_auth_error (self, reply, error);
        }

      /* A challenge; after a failed step the exchange is cancelled with
       * "*" (RFC 4954 §4) and the server's answer awaited; a server that
       * asks again after that would never stop. */
      if (sasl_error != NULL)
        {
          tern_connection_close (self->connection, NULL, NULL);
          g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED, "%s",
                       sasl_error->message);
          return FALSE;
        }
      answer = tern_sasl_step (sasl, reply->text, &sasl_error);
      if (!send_line (self, answer != NULL ? answer : "*", cancellable, error))
        return FALSE;
    }
}

gboolean
tern_smtp_client_login (TernSmtpClient  *self,
                        const char      *username,
                        const char      *password,
                        const char      *mechanism,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_auto(GStrv) offered = NULL;
  g_autoptr(GError) choose_error = NULL;
  g_autoptr(TernSasl) sasl = NULL;
  const char *chosen;

  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (username != NULL && password != NULL, FALSE);

  if (!tern_connection_is_connected (self->connection))
    {
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                   _("Not connected to %s"), self->label);
      return FALSE;
    }

  offered = offered_mechanisms (self);
  chosen = tern_sasl_choose_mechanism ((const char * const *) offered, mechanism,
                                       tern_connection_is_tls (self->connection),
                                       &choose_error);
  if (chosen == NULL)
    {
      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_UNAVAILABLE,
                   _("Cannot sign in to %s: %s"), self->label, choose_error->message);
      return FALSE;
    }

  sasl = tern_sasl_new (self->label, username, password);
  if (!tern_sasl_start (sasl, chosen, &choose_error))
    {
      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_UNAVAILABLE,
                   "%s", choose_error->message);
      return FALSE;
    }
  return authenticate (self, sasl, chosen, cancellable, error);
}

/* Sending */

/* An address goes between angle brackets on a command line: anything
 * that could end the line or the path is refused. */
static gboolean
check_address (TernSmtpClient  *self,
               const char      *address,
               gboolean         may_be_empty,
               GError         **error)
{
  gboolean ok = (may_be_empty || *address != '\0') && g_utf8_validate (address, -1, NULL);

  for (const char *p = address; ok && *p != '\0'; p++)
    if ((guchar) *p < 0x21 || *p == 0x7f || *p == '<' || *p == '>')
      ok = FALSE;
  if (!ok)
    g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_INVALID_ADDRESS,
                 _("The address “%s” cannot be sent to %s: it is empty or contains spaces, "
                   "angle brackets or control characters"),
                 address, self->label);
  return ok;
}

static char *
mail_from_line (TernSmtpClient *self,
                const char     *from,
                gint64          size,
                gboolean        eight_bit,
                gboolean        utf8)
{
  GString *line = g_string_new (NULL);

  g_string_append_printf (line, "MAIL FROM:<%s>", from);
  if (size >= 0 && tern_smtp_client_has_extension (self, "SIZE"))
    g_string_append_printf (line, " SIZE=%" G_GINT64_FORMAT, size);
  /* Without 8BITMIME the message goes as it is: refusing would leave the
   * user stuck, and servers pass 8-bit data in practice. */
  if ((eight_bit || utf8) && tern_smtp_client_has_extension (self, "8BITMIME"))
    g_string_append (line, " BODY=8BITMIME");
  if (utf8)
    g_string_append (line, " SMTPUTF8");
  return g_string_free (line, FALSE);
}

static gboolean
check_before_mail (TernSmtpClient      *self,
                   const char          *from,
                   const char * const  *recipients,
                   gint64               size,
                   gboolean            *utf8,
                   GError             **error)
{
  guint64 limit = tern_smtp_client_get_size_limit (self);

  if (!tern_connection_is_connected (self->connection))
    {
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                   _("Not connected to %s"), self->label);
      return FALSE;
    }
  if (!check_address (self, from, TRUE, error))
    return FALSE;
  *utf8 = !g_str_is_ascii (from);
  if (recipients == NULL || recipients[0] == NULL)
    {
      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_INVALID_ADDRESS,
                   _("The message has no recipients, so it was not sent to %s"), self->label);
      return FALSE;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!check_address (self, recipients[i], FALSE, error))
        return FALSE;
      *utf8 = *utf8 || !g_str_is_ascii (recipients[i]);
    }

  if (*utf8 && !tern_smtp_client_has_extension (self, "SMTPUTF8"))
    {
      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_UNSUPPORTED,
                   _("%s cannot send mail from or to addresses with non-ASCII characters "
                     "(it does not offer SMTPUTF8); the message was not sent"),
                   self->label);
      return FALSE;
    }
  if (size >= 0 && limit > 0 && (guint64) size > limit)
    {
      g_autofree char *size_text = g_format_size ((guint64) size);
      g_autofree char *limit_text = g_format_size (limit);

      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TOO_BIG,
                   _("The message is %s, more than the %s that %s accepts; it was not sent"),
                   size_text, limit_text, self->label);
      return FALSE;
    }
  return TRUE;
}

static void
queue_line (TernSmtpClient *self,
            const char     *line)
{
  tern_connection_queue (self->connection, line, strlen (line));
  tern_connection_queue (self->connection, "\r\n", 2);
}

/* The envelope: MAIL, RCPTs and DATA, pipelined when offered.  TRUE when
 * DATA got its 354 and the message may follow. */
static gboolean
send_envelope (TernSmtpClient      *self,
               const char          *mail_line,
               const char * const  *recipients,
               GPtrArray           *results,
               GCancellable        *cancellable,
               GError             **error)
{
  gboolean pipelining = tern_smtp_client_has_extension (self, "PIPELINING");
  g_autoptr(TernSmtpReply) mail = NULL;
  g_autoptr(TernSmtpReply) data = NULL;
  g_autoptr(TernSmtpReply) first_refusal = NULL;
  guint accepted = 0;
  gboolean any_temporary = FALSE;
  guint n = g_strv_length ((char **) recipients);

  queue_line (self, mail_line);
  if (pipelining)
    {
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>", recipients[i]);

          queue_line (self, rcpt);
        }
      queue_line (self, "DATA");
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  mail = _tern_smtp_client_read_reply (self, "MAIL FROM", cancellable, error);
  if (mail == NULL)
    return FALSE;
  if (mail->code / 100 != 2 && !pipelining)
    return _tern_smtp_client_set_reply_error (self, mail, "MAIL FROM", error);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernSmtpReply) reply = NULL;

      if (!pipelining)
        {
          g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>", recipients[i]);

          if (!send_line (self, rcpt, cancellable, error))
            return FALSE;
        }
      reply = _tern_smtp_client_read_reply (self, "RCPT TO", cancellable, error);
      if (reply == NULL)
        return FALSE;
      g_ptr_array_add (results, _tern_smtp_recipient_result_new (recipients[i], reply));
      if (reply->code / 100 == 2)
        accepted++;
      else
        {
          any_temporary = any_temporary || reply->code / 100 == 4;
          if (first_refusal == NULL)
            first_refusal = g_steal_pointer (&reply);
        }
    }

  if (pipelining)
    {
      data = _tern_smtp_client_read_reply (self, "DATA", cancellable, error);
      if (data == NULL)
        return FALSE;
      /* RFC 2920 §3.1: a server that said 354 although every recipient
       * was refused gets an empty message, which it must then refuse. */
      if (data->code == 354 && (accepted == 0 || mail->code / 100 != 2))
        {
          g_autoptr(TernSmtpReply) end = NULL;

          if (!tern_connection_write_all (self->connection, ".\r\n", 3, cancellable, error))
            return FALSE;
          end = _tern_smtp_client_read_reply (self, "DATA", cancellable, error);
          if (end == NULL)
            return FALSE;
          g_clear_pointer (&data, _tern_smtp_reply_free);
        }
    }

  if (mail->code / 100 != 2)
    {
      tern_smtp_client_rset (self, cancellable, NULL);
      return _tern_smtp_client_set_reply_error (self, mail, "MAIL FROM", error);
    }

  if (accepted == 0)
    {
      g_autofree char *said = _tern_smtp_reply_describe (first_refusal);

      tern_smtp_client_rset (self, cancellable, NULL);
      g_set_error (error, TERN_SMTP_ERROR,
                   any_temporary ? TERN_SMTP_ERROR_TEMPORARY : TERN_SMTP_ERROR_PERMANENT,
                   _("%s refused every recipient, so the message was not sent: “%s”"),
                   self->label, said);
      return FALSE;
    }

  if (!pipelining)
    {
      data = command (self, "DATA", "DATA", cancellable, error);
      if (data == NULL)
        return FALSE;
    }
  if (data == NULL || data->code != 354)
    {
      if (data != NULL)
        _tern_smtp_client_set_reply_error (self, data, "DATA", error);
      else
        _tern_smtp_client_fail_protocol (self, "DATA", error);
      tern_smtp_client_rset (self, cancellable, NULL);
      return FALSE;
    }
  return TRUE;
}

/* The whole data and its "." went out, and no reply came back: the
 * server may have taken the message (RFC 5321 §4.1.1.4).  A cancellation
 * while waiting for that reply is no different: the server got the "."
 * all the same, so the caller must not send the message again. */
static void
set_no_final_reply (TernSmtpClient  *self,
                    GError         **error)
{
  g_autoptr(GError) cause = NULL;

  if (error == NULL || *error == NULL)
    return;
  cause = g_steal_pointer (error);
  g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_NO_FINAL_REPLY,
               _("The message went out to %s but the server’s answer never came (%s), so it may "
                 "have been sent; ask the recipients before sending it again"),
               self->label, cause->message);
}

gboolean
tern_smtp_client_send (TernSmtpClient      *self,
                       const char          *from,
                       const char * const  *recipients,
                       GInputStream        *message,
                       gint64               size,
                       gboolean             eight_bit,
                       GPtrArray          **results,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(TernSmtpReply) end = NULL;
  g_autofree char *mail_line = NULL;
  gboolean utf8 = FALSE;

  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);
  g_return_val_if_fail (from != NULL, FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (message), FALSE);

  if (results != NULL)
    *results = NULL;
  if (!check_before_mail (self, from, recipients, size, &utf8, error))
    return FALSE;

  replies = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_smtp_recipient_result_free);
  mail_line = mail_from_line (self, from, size, eight_bit, utf8);
  if (!send_envelope (self, mail_line, recipients, replies, cancellable, error))
    goto out;

  if (!_tern_smtp_client_send_data (self, message, cancellable, error))
    goto out;
  end = _tern_smtp_client_read_reply (self, "DATA", cancellable, error);
  if (end == NULL)
    {
      set_no_final_reply (self, error);
      goto out;
    }
  if (end->code == 552)
    {
      g_autofree char *said = _tern_smtp_reply_describe (end);

      g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TOO_BIG,
                   _("%s refused the message as too large: “%s”"), self->label, said);
      goto out;
    }
  if (end->code / 100 != 2)
    {
      _tern_smtp_client_set_reply_error (self, end, "DATA", error);
      goto out;
    }

out:
  if (results != NULL && replies->len > 0)
    *results = g_steal_pointer (&replies);
  return end != NULL && end->code / 100 == 2;
}

gboolean
tern_smtp_client_send_bytes (TernSmtpClient      *self,
                             const char          *from,
                             const char * const  *recipients,
                             GBytes              *message,
                             GPtrArray          **results,
                             GCancellable        *cancellable,
                             GError             **error)
{
  g_autoptr(GInputStream) stream = NULL;
  gsize len;
  const guint8 *data;
  gboolean eight_bit = FALSE;

  g_return_val_if_fail (message != NULL, FALSE);

  data = g_bytes_get_data (message, &len);
  for (gsize i = 0; i < len && !eight_bit; i++)
    eight_bit = data[i] >= 0x80;
  stream = g_memory_input_stream_new_from_bytes (message);
  return tern_smtp_client_send (self, from, recipients, stream, (gint64) len, eight_bit,
                                results, cancellable, error);
}

/* Other commands */

gboolean
tern_smtp_client_rset (TernSmtpClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);

  return simple_command (self, "RSET", cancellable, error);
}

gboolean
tern_smtp_client_noop (TernSmtpClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);

  return simple_command (self, "NOOP", cancellable, error);
}

gboolean
tern_smtp_client_quit (TernSmtpClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(TernSmtpReply) reply = NULL;

  g_return_val_if_fail (TERN_IS_SMTP_CLIENT (self), FALSE);

  if (!tern_connection_is_connected (self->connection))
    return TRUE;
  /* The answer does not matter: the session ends either way. */
  reply = command (self, "QUIT", "QUIT", cancellable, NULL);
  return tern_connection_close (self->connection, cancellable, error);
}
