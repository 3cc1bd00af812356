/* test-compress.c: COMPRESS=DEFLATE (RFC 4978) in TernConnection against a
 * scripted server that deflates and inflates with zlib: bytes carried over
 * from before the switch, a large literal that expands far beyond the
 * buffers, every flush readable at once by the server, corrupt data.
 * Compression inside TLS against Dovecot is in the IMAP client's tests.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tern-connection.h"
#include "test-fake-server.h"

#define BIG_SIZE (3 * 1024 * 1024)

static guint8 *
make_big (void)
{
  guint8 *big = g_malloc (BIG_SIZE);
  guint32 state = 1;

  /* Mostly repetitive (compresses well, long matches that overflow the
   * caller's buffer), with a sprinkle of noise. */
  for (gsize i = 0; i < BIG_SIZE; i++)
    {
      state = state * 1103515245 + 12345;
      big[i] = (i % 997 == 0) ? (guint8) (state >> 16) : (guint8) ("abcdefgh\r\n"[i % 10]);
    }
  return big;
}

static void
send_deflated (z_stream   *z,
               int         fd,
               const void *data,
               gsize       len,
               const char *clear_prefix)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 chunk[16384];

  if (clear_prefix != NULL)
    g_byte_array_append (out, (const guint8 *) clear_prefix, strlen (clear_prefix));

  z->next_in = (Bytef *) data;
  z->avail_in = (uInt) len;
  do
    {
      z->next_out = chunk;
      z->avail_out = sizeof chunk;
      g_assert_cmpint (deflate (z, Z_SYNC_FLUSH), !=, Z_STREAM_ERROR);
      g_byte_array_append (out, chunk, sizeof chunk - z->avail_out);
    }
  while (z->avail_out == 0);

  g_assert_cmpint (write (fd, out->data, out->len), ==, (ssize_t) out->len);
}

/* Reads and inflates until a whole line has arrived. */
static char *
read_inflated_line (FakeServer *server,
                    z_stream   *z,
                    int         fd)
{
  g_autoptr(GString) line = g_string_new (NULL);

  while (strchr (line->str, '\n') == NULL)
    {
      guint8 in[4096];
      char out[4096];
      ssize_t got = read (fd, in, sizeof in);

      g_assert_cmpint (got, >, 0);
      g_byte_array_append (server->received, in, (guint) got);
      z->next_in = in;
      z->avail_in = (uInt) got;
      do
        {
          z->next_out = (Bytef *) out;
          z->avail_out = sizeof out;
          g_assert_cmpint (inflate (z, Z_SYNC_FLUSH), !=, Z_DATA_ERROR);
          g_string_append_len (line, out, (gssize) (sizeof out - z->avail_out));
        }
      while (z->avail_in > 0 || z->avail_out == 0);
    }

  return g_string_free (g_steal_pointer (&line), FALSE);
}

static void
compress_script (FakeServer *server,
                 int         fd)
{
  g_autofree guint8 *big = make_big ();
  g_autofree char *line = NULL;
  g_autofree char *header = NULL;
  z_stream deflater = { 0 };
  z_stream inflater = { 0 };

  g_assert_cmpint (deflateInit2 (&deflater, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
  g_assert_cmpint (inflateInit2 (&inflater, -15), ==, Z_OK);

  fake_write (fd, "* OK hello\r\n");
  line = fake_read_line (server, fd);
  g_assert_cmpstr (line, ==, "a COMPRESS DEFLATE\r\n");

  /* The first compressed line travels in the same segment as the OK. */
  send_deflated (&deflater, fd, "* first\r\n", 9, "a OK go ahead\r\n");

  g_clear_pointer (&line, g_free);
  line = read_inflated_line (server, &inflater, fd);
  g_assert_cmpstr (line, ==, "b NOOP\r\n");

  header = g_strdup_printf ("* {%u}\r\n", BIG_SIZE);
  send_deflated (&deflater, fd, header, strlen (header), NULL);
  send_deflated (&deflater, fd, big, BIG_SIZE, NULL);
  send_deflated (&deflater, fd, "b OK done\r\n", 11, NULL);

  g_clear_pointer (&line, g_free);
  line = read_inflated_line (server, &inflater, fd);
  g_assert_cmpstr (line, ==, "c LOGOUT\r\n");

  /* Not a deflate stream: a block type that does not exist. */
  fake_write (fd, "\xff\xff\xff\xff\xff\xff\xff\xff");
  fake_step_wait (server, 1);

  deflateEnd (&deflater);
  inflateEnd (&inflater);
}

static char *
read_line (TernConnection *connection)
{
  g_autoptr(GError) error = NULL;
  char *line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);

  g_assert_no_error (error);
  return line;
}

static void
write_text (TernConnection *connection,
            const char     *text)
{
  g_autoptr(GError) error = NULL;

  tern_connection_queue (connection, text, strlen (text));
  tern_connection_flush (connection, NULL, &error);
  g_assert_no_error (error);
}

static void
test_compress (void)
{
  g_autoptr(FakeServer) server = fake_server_start (compress_script, NULL);
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *big = make_big ();
  g_autofree guint8 *got = g_malloc (BIG_SIZE);
  g_autofree char *line = NULL;
  guint64 data_in, wire_in, data_out, wire_out;

  connection = tern_connection_new ("127.0.0.1", server->port, TERN_TLS_MODE_PLAIN);
  tern_connection_set_io_timeout (connection, 10);
  tern_connection_connect (connection, NULL, &error);
  g_assert_no_error (error);

  line = read_line (connection);
  g_assert_cmpstr (line, ==, "* OK hello");
  write_text (connection, "a COMPRESS DEFLATE\r\n");
  g_clear_pointer (&line, g_free);
  line = read_line (connection);
  g_assert_cmpstr (line, ==, "a OK go ahead");

  g_assert_false (tern_connection_is_compressed (connection));
  tern_connection_start_compression (connection, &error);
  g_assert_no_error (error);
  g_assert_true (tern_connection_is_compressed (connection));

  g_clear_pointer (&line, g_free);
  line = read_line (connection);
  g_assert_cmpstr (line, ==, "* first");

  write_text (connection, "b NOOP\r\n");
  g_clear_pointer (&line, g_free);
  line = read_line (connection);
  g_assert_cmpstr (line, ==, "* {3145728}");
  tern_connection_read_exact (connection, got, BIG_SIZE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (memcmp (got, big, BIG_SIZE) == 0);
  g_clear_pointer (&line, g_free);
  line = read_line (connection);
  g_assert_cmpstr (line, ==, "b OK done");

  tern_connection_get_byte_counts (connection, &data_in, &data_out, &wire_in, &wire_out);
  g_test_message ("in: %" G_GUINT64_FORMAT " bytes of data, %" G_GUINT64_FORMAT
                  " on the wire", data_in, wire_in);
  g_assert_cmpuint (data_in, >, BIG_SIZE);
  g_assert_cmpuint (wire_in * 10, <, data_in);
  g_assert_cmpuint (data_out, ==, strlen ("a COMPRESS DEFLATE\r\nb NOOP\r\n"));

  write_text (connection, "c LOGOUT\r\n");
  g_clear_pointer (&line, g_free);
  line = tern_connection_read_line (connection, 1000, NULL, NULL, &error);
  g_assert_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED);
  g_assert_null (line);
  g_assert_false (tern_connection_is_connected (connection));

  fake_step_signal (server, 1);
  fake_server_join (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/connection/compress", test_compress);

  return g_test_run ();
}
