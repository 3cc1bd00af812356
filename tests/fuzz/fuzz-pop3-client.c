/* fuzz-pop3-client.c: libFuzzer target for the POP3 reply parsing of
 * TernPop3Client: status lines, CAPA, SASL continuations, STAT, LIST,
 * UIDL, and multi-line RETR and TOP answers with dot-unstuffing.
 *
 * The input, after its first byte, is what the server says for a whole
 * session (fuzz-loopback.c plays it back over 127.0.0.1); the client
 * greets, signs in, lists, fetches and deletes, each step as far as the
 * answers let it.  The first byte picks the sign-in method and whether
 * the fetches are pipelined RETR or TOP.  Beyond not crashing, checks that
 * every message written out is whole lines ended by CRLF.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz-loopback.h"
#include "tern-pop3-client.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* More than this many messages is the same code again. */
#define MAX_FETCH 8

static GOutputStream *
begin_cb (guint     number,
          gpointer  user_data,
          GError  **error)
{
  return g_memory_output_stream_new_resizable ();
}

static gboolean
end_cb (guint           number,
        GOutputStream  *stream,
        gpointer        user_data,
        GError        **error)
{
  GMemoryOutputStream *memory = G_MEMORY_OUTPUT_STREAM (stream);
  const char *text = g_memory_output_stream_get_data (memory);
  gsize len = g_memory_output_stream_get_data_size (memory);

  /* Each line of the text ends with CRLF, so the text does too. */
  g_assert (len == 0 || (len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n'));
  /* Now and then a caller that stops. */
  if (number % 5 == 4)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "Full");
      return FALSE;
    }
  return TRUE;
}

static void
session (TernPop3Client *client,
         guint8          choice)
{
  static const char *mechanisms[] = { NULL, "USER", "APOP", "PLAIN", "LOGIN", "SCRAM-SHA-256",
                                      "CRAM-MD5", "XOAUTH2" };
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) uidl = NULL;
  g_autoptr(GOutputStream) out = NULL;
  TernConnection *connection = tern_pop3_client_get_connection (client);
  guint numbers[MAX_FETCH];
  guint n_numbers = 0;
  guint count = 0;
  guint64 octets = 0;

  if (!tern_pop3_client_open (client, NULL, NULL))
    return;
  tern_pop3_client_has_uidl (client);
  tern_pop3_client_has_top (client);
  tern_pop3_client_has_capability (client, "PIPELINING");
  if (!tern_pop3_client_login (client, "user", "password",
                               mechanisms[choice % G_N_ELEMENTS (mechanisms)], NULL, NULL))
    return;
  if (!tern_pop3_client_stat (client, &count, &octets, NULL, NULL))
    return;
  list = tern_pop3_client_list (client, NULL, NULL);
  uidl = tern_pop3_client_uidl (client, NULL, NULL);
  if (list == NULL && uidl == NULL && !tern_connection_is_connected (connection))
    return;
  for (guint i = 0; uidl != NULL && i < uidl->len; i++)
    {
      const TernPop3Entry *entry = uidl->pdata[i];

      g_assert_cmpuint (entry->number, >, 0);
      g_assert_true (entry->uid != NULL && entry->uid[0] != '\0' && !strchr (entry->uid, ' '));
    }
  for (guint i = 0; list != NULL && i < list->len && n_numbers < MAX_FETCH; i++)
    numbers[n_numbers++] = ((TernPop3Entry *) list->pdata[i])->number;
  if (n_numbers == 0)
    numbers[n_numbers++] = 1;
  if (!tern_pop3_client_retrieve_many (client, numbers, n_numbers, (choice & 8) != 0, begin_cb,
                                       end_cb, NULL, NULL, NULL) &&
      !tern_connection_is_connected (connection))
    return;
  out = g_memory_output_stream_new_resizable ();
  if (!tern_pop3_client_retrieve (client, numbers[0], out, NULL, NULL) &&
      !tern_connection_is_connected (connection))
    return;
  tern_pop3_client_delete (client, numbers, n_numbers, NULL, NULL);
  tern_pop3_client_noop (client, NULL, NULL);
  tern_pop3_client_reset (client, NULL, NULL);
  tern_pop3_client_quit (client, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzLoopback *loopback;
  TernConnection *connection;
  TernPop3Client *client;

  if (size < 1)
    return 0;
  loopback = fuzz_loopback_start (data + 1, size - 1);
  connection = fuzz_loopback_connection (loopback);
  client = tern_pop3_client_new (connection);
  session (client, data[0]);
  g_object_unref (client);
  g_object_unref (connection);
  fuzz_loopback_finish (loopback);
  return 0;
}
