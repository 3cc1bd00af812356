/* tern-smtp-reply.c: SMTP replies (RFC 5321 §4.2, enhanced status codes
 * of RFC 3463) and what becomes of them: errors that quote the server and
 * per-recipient results.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-smtp"

#include "config.h"

#include "tern-smtp-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* RFC 5321 allows 512 bytes per reply line; servers write longer texts. */
#define MAX_REPLY_LINE 8192
#define MAX_REPLY_LINES 1000

void
_tern_smtp_reply_free (TernSmtpReply *reply)
{
  g_free (reply->enhanced);
  g_free (reply->text);
  g_ptr_array_unref (reply->lines);
  g_free (reply);
}

void
tern_smtp_recipient_result_free (TernSmtpRecipientResult *result)
{
  if (result == NULL)
    return;
  g_free (result->address);
  g_free (result->enhanced_code);
  g_free (result->text);
  g_free (result);
}

gboolean
tern_smtp_recipient_result_is_accepted (const TernSmtpRecipientResult *result)
{
  return result->code >= 200 && result->code < 300;
}

TernSmtpRecipientResult *
_tern_smtp_recipient_result_new (const char          *address,
                                 const TernSmtpReply *reply)
{
  TernSmtpRecipientResult *result = g_new0 (TernSmtpRecipientResult, 1);

  result->address = g_strdup (address);
  result->code = reply->code;
  result->enhanced_code = g_strdup (reply->enhanced);
  result->text = g_strdup (reply->text);
  return result;
}

/* "5.1.1 " at the start of @text, of the same class as the reply code. */
static gsize
enhanced_code_length (const char *text,
                      guint       code)
{
  const char *p = text;

  if (*p != '0' + (char) (code / 100))
    return 0;
  p++;
  for (guint part = 0; part < 2; part++)
    {
      guint digits = 0;

      if (*p++ != '.')
        return 0;
      while (g_ascii_isdigit (*p) && digits < 4)
        p++, digits++;
      if (digits == 0 || digits > 3)
        return 0;
    }
  if (*p != ' ' && *p != '\0')
    return 0;
  return (gsize) (p - text);
}

char *
_tern_smtp_reply_describe (const TernSmtpReply *reply)
{
  if (reply->enhanced != NULL)
    return g_strdup_printf ("%u %s %s", reply->code, reply->enhanced, reply->text);
  return g_strdup_printf ("%u %s", reply->code, reply->text);
}

gboolean
_tern_smtp_client_fail_protocol (TernSmtpClient  *self,
                                 const char      *what,
                                 GError         **error)
{
  tern_connection_close (self->connection, NULL, NULL);
  g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PROTOCOL,
               _("%s answered %s with something Tern did not expect; the connection was "
                 "closed"),
               self->label, what);
  return FALSE;
}

static gboolean
parse_reply_line (const char *line,
                  gsize       len,
                  guint      *code,
                  gboolean   *last)
{
  if (len < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
      !g_ascii_isdigit (line[2]) || line[0] < '2' || line[0] > '5')
    return FALSE;
  if (len > 3 && line[3] != ' ' && line[3] != '-')
    return FALSE;
  *code = (guint) g_ascii_digit_value (line[0]) * 100 +
          (guint) g_ascii_digit_value (line[1]) * 10 + (guint) g_ascii_digit_value (line[2]);
  *last = len == 3 || line[3] == ' ';
  return TRUE;
}

TernSmtpReply *
_tern_smtp_client_read_reply (TernSmtpClient  *self,
                              const char      *what,
                              GCancellable    *cancellable,
                              GError         **error)
{
  g_autoptr(TernSmtpReply) reply = g_new0 (TernSmtpReply, 1);
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean last = FALSE;

  reply->lines = g_ptr_array_new_with_free_func (g_free);
  while (!last)
    {
      g_autofree char *line = NULL;
      const char *rest;
      gsize len = 0;
      guint code;

      line = tern_connection_read_line (self->connection, MAX_REPLY_LINE, &len,
                                        cancellable, error);
      if (line == NULL)
        return NULL;
      if (!parse_reply_line (line, len, &code, &last) ||
          (reply->lines->len > 0 && code != reply->code) ||
          reply->lines->len >= MAX_REPLY_LINES)
        {
          _tern_smtp_client_fail_protocol (self, what, error);
          return NULL;
        }
      reply->code = code;
      rest = len > 4 ? line + 4 : "";
      if (reply->lines->len == 0)
        {
          gsize enhanced = enhanced_code_length (rest, code);

          if (enhanced > 0)
            reply->enhanced = g_strndup (rest, enhanced);
        }
      if (reply->enhanced != NULL && g_str_has_prefix (rest, reply->enhanced))
        {
          rest += strlen (reply->enhanced);
          while (*rest == ' ')
            rest++;
        }
      if (text->len > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, rest);
      g_ptr_array_add (reply->lines, g_strdup (len > 4 ? line + 4 : ""));
    }

  reply->text = g_strdup (text->str);
  /* 421 may come at any time: the server is closing the channel. */
  if (reply->code == 421)
    tern_connection_close (self->connection, NULL, NULL);
  return g_steal_pointer (&reply);
}

gboolean
_tern_smtp_client_set_reply_error (TernSmtpClient       *self,
                                   const TernSmtpReply  *reply,
                                   const char           *what,
                                   GError              **error)
{
  g_autofree char *said = NULL;

  /* Text in clear on a connection that must be encrypted may be an
   * attacker's: only the code is shown. */
  if (tern_connection_get_mode (self->connection) == TERN_TLS_MODE_STARTTLS &&
      !tern_connection_is_tls (self->connection))
    {
      if (reply->code >= 400 && reply->code < 500)
        g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TEMPORARY,
                     _("%s cannot accept %s at the moment (reply %d, before encryption)"),
                     self->label, what, reply->code);
      else
        g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PERMANENT,
                     _("%s refused %s (reply %d, before encryption)"), self->label, what,
                     reply->code);
      return FALSE;
    }

  said = _tern_smtp_reply_describe (reply);
  if (reply->code >= 400 && reply->code < 500)
    g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TEMPORARY,
                 _("%s cannot accept %s at the moment: “%s”"), self->label, what, said);
  else
    g_set_error (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PERMANENT,
                 _("%s refused %s: “%s”"), self->label, what, said);
  return FALSE;
}
