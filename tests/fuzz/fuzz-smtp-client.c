/* fuzz-smtp-client.c: libFuzzer target for the SMTP reply parsing of
 * TernSmtpClient (tern-smtp-reply.c): multi-line replies, enhanced status
 * codes, EHLO keywords (SIZE, PIPELINING, AUTH ...), SASL continuations,
 * per-recipient results.
 *
 * The input, after its first byte, is what the server says for a whole
 * session (fuzz-loopback.c plays it back over 127.0.0.1); the client
 * greets, signs in and sends one message to three recipients.  The first
 * byte picks the sign-in method and the message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz-loopback.h"
#include "tern-smtp-client.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A result per recipient that got its reply, in order (all of them once
 * the message went out; fewer when the connection broke off). */
static void
check_results (GPtrArray          *results,
               const char * const *recipients)
{
  if (results != NULL)
    g_assert_cmpuint (results->len, <=, g_strv_length ((GStrv) recipients));
  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      const TernSmtpRecipientResult *result = results->pdata[i];

      g_assert_cmpstr (result->address, ==, recipients[i]);
      g_assert_nonnull (result->text);
      g_assert (result->code >= 200 && result->code < 600);
    }
}

static void
session (TernSmtpClient *client,
         guint8          choice)
{
  static const char *mechanisms[] = { NULL, "PLAIN", "LOGIN", "SCRAM-SHA-256", "CRAM-MD5" };
  static const char *messages[] = {
    "Subject: hi\r\n\r\nHello\r\n.\r\n..dots\r\n",
    "Subject: \xd0\xbf\xd1\x80\xd0\xb8\n\n8-bit body\nbare LF\n",
  };
  const char *recipients[] = { "a@example.org", "b@example.org", "c@example.org", NULL };
  const char *message = messages[(choice >> 4) % G_N_ELEMENTS (messages)];
  g_autoptr(GBytes) bytes = g_bytes_new_static (message, strlen (message));
  g_autoptr(GPtrArray) results = NULL;
  gboolean sent;

  if (!tern_smtp_client_open (client, "tern.test", NULL, NULL))
    return;
  tern_smtp_client_has_extension (client, "PIPELINING");
  tern_smtp_client_get_extension (client, "AUTH");
  tern_smtp_client_get_size_limit (client);
  if ((choice & 8) == 0 &&
      !tern_smtp_client_login (client, "user", "password",
                               mechanisms[(choice & 7) % G_N_ELEMENTS (mechanisms)], NULL, NULL))
    return;
  sent = tern_smtp_client_send_bytes (client, "me@example.org", recipients, bytes, &results,
                                      NULL, NULL);
  check_results (results, recipients);
  /* Sent means the server took it for at least one recipient. */
  if (sent)
    {
      gboolean accepted = FALSE;

      g_assert_nonnull (results);
      g_assert_cmpuint (results->len, ==, g_strv_length ((GStrv) recipients));
      for (guint i = 0; i < results->len; i++)
        accepted = accepted || tern_smtp_recipient_result_is_accepted (results->pdata[i]);
      g_assert_true (accepted);
    }
  tern_smtp_client_noop (client, NULL, NULL);
  tern_smtp_client_rset (client, NULL, NULL);
  tern_smtp_client_quit (client, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzLoopback *loopback;
  TernConnection *connection;
  TernSmtpClient *client;

  if (size < 1)
    return 0;
  loopback = fuzz_loopback_start (data + 1, size - 1);
  connection = fuzz_loopback_connection (loopback);
  client = tern_smtp_client_new (connection);
  session (client, data[0]);
  g_object_unref (client);
  g_object_unref (connection);
  fuzz_loopback_finish (loopback);
  return 0;
}
