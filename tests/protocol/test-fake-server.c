/* test-fake-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "test-fake-server.h"

/* Certificates */

static gnutls_x509_privkey_t
make_key (void)
{
  gnutls_x509_privkey_t key;

  g_assert_cmpint (gnutls_x509_privkey_init (&key), ==, 0);
  g_assert_cmpint (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                                 GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                                 0), ==, 0);
  return key;
}

static void
add_ip_san (gnutls_x509_crt_t crt,
            const char       *ip)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (ip);

  g_assert_cmpint (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS,
                                                         g_inet_address_to_bytes (address),
                                                         g_inet_address_get_native_size (address),
                                                         GNUTLS_FSAN_APPEND), ==, 0);
}

static void
add_dns_san (gnutls_x509_crt_t crt,
             const char       *name)
{
  g_assert_cmpint (gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_DNSNAME,
                                                         name, strlen (name),
                                                         GNUTLS_FSAN_APPEND), ==, 0);
}

/* @from and @until are days relative to now. */
static gnutls_x509_crt_t
make_cert (const char            *dn,
           gnutls_x509_privkey_t  key,
           int                    from,
           int                    until,
           guint                  serial)
{
  gnutls_x509_crt_t crt;
  time_t now = time (NULL);
  guint8 serial_bytes[2] = { 0x10, (guint8) serial };
  guint8 key_id[64];
  size_t key_id_len = sizeof key_id;

  g_assert_cmpint (gnutls_x509_crt_init (&crt), ==, 0);
  gnutls_x509_crt_set_version (crt, 3);
  gnutls_x509_crt_set_serial (crt, serial_bytes, sizeof serial_bytes);
  gnutls_x509_crt_set_activation_time (crt, now + from * 86400);
  gnutls_x509_crt_set_expiration_time (crt, now + until * 86400);
  g_assert_cmpint (gnutls_x509_crt_set_dn (crt, dn, NULL), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_set_key (crt, key), ==, 0);
  g_assert_cmpint (gnutls_x509_crt_get_key_id (crt, 0, key_id, &key_id_len), ==, 0);
  gnutls_x509_crt_set_subject_key_id (crt, key_id, key_id_len);
  return crt;
}

static void
sign (gnutls_x509_crt_t     crt,
      gnutls_x509_crt_t     issuer,
      gnutls_x509_privkey_t issuer_key)
{
  g_assert_cmpint (gnutls_x509_crt_sign2 (crt, issuer, issuer_key, GNUTLS_DIG_SHA256, 0), ==, 0);
}

static gnutls_x509_crt_t
make_leaf (TestCerts  *certs,
           const char *dn,
           const char *dns_name,
           int         from,
           int         until,
           guint       serial)
{
  gnutls_x509_crt_t crt = make_cert (dn, certs->key, from, until, serial);
  const char *purpose = serial == 6 ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER;

  gnutls_x509_crt_set_basic_constraints (crt, 0, -1);
  gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
  gnutls_x509_crt_set_key_purpose_oid (crt, purpose, 0);
  add_dns_san (crt, dns_name);
  if (g_str_equal (dns_name, "localhost"))
    add_ip_san (crt, "127.0.0.1");
  return crt;
}

static void
write_ca_file (TestCerts *certs)
{
  gnutls_datum_t pem;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (gnutls_x509_crt_export2 (certs->ca, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
  certs->ca_file = g_build_filename (certs->dir, "ca.pem", NULL);
  g_file_set_contents (certs->ca_file, (const char *) pem.data, pem.size, &error);
  g_assert_no_error (error);
  gnutls_free (pem.data);
}

TestCerts *
test_certs_new (void)
{
  TestCerts *certs = g_new0 (TestCerts, 1);
  g_autoptr(GError) error = NULL;

  certs->dir = g_dir_make_tmp ("tern-test-certs-XXXXXX", &error);
  g_assert_no_error (error);

  certs->ca_key = make_key ();
  certs->key = make_key ();

  certs->ca = make_cert ("CN=Tern Fake Test CA", certs->ca_key, -10, 3650, 1);
  gnutls_x509_crt_set_basic_constraints (certs->ca, 1, -1);
  gnutls_x509_crt_set_key_usage (certs->ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
  sign (certs->ca, certs->ca, certs->ca_key);

  certs->good = make_leaf (certs, "CN=localhost", "localhost", -1, 365, 2);
  sign (certs->good, certs->ca, certs->ca_key);
  certs->expired = make_leaf (certs, "CN=localhost", "localhost", -30, -1, 3);
  sign (certs->expired, certs->ca, certs->ca_key);
  certs->wrong_host = make_leaf (certs, "CN=wrong.example", "wrong.example", -1, 365, 4);
  sign (certs->wrong_host, certs->ca, certs->ca_key);
  certs->self_signed = make_leaf (certs, "CN=localhost,O=Self", "localhost", -1, 365, 5);
  sign (certs->self_signed, certs->self_signed, certs->key);
  /* Serial 6 is the one make_leaf() gives the client purpose. */
  certs->client_only = make_leaf (certs, "CN=localhost,OU=Client", "localhost", -1, 365, 6);
  sign (certs->client_only, certs->ca, certs->ca_key);

  write_ca_file (certs);
  return certs;
}

void
test_certs_free (TestCerts *certs)
{
  g_unlink (certs->ca_file);
  g_rmdir (certs->dir);
  g_free (certs->ca_file);
  g_free (certs->dir);
  gnutls_x509_crt_deinit (certs->ca);
  gnutls_x509_crt_deinit (certs->good);
  gnutls_x509_crt_deinit (certs->expired);
  gnutls_x509_crt_deinit (certs->wrong_host);
  gnutls_x509_crt_deinit (certs->self_signed);
  gnutls_x509_crt_deinit (certs->client_only);
  gnutls_x509_privkey_deinit (certs->ca_key);
  gnutls_x509_privkey_deinit (certs->key);
  g_free (certs);
}

/* Computed here independently of tern_fingerprint_from_der(). */
char *
test_cert_fingerprint (gnutls_x509_crt_t crt)
{
  guint8 digest[32];
  size_t size = sizeof digest;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, digest, &size), ==, 0);
  for (gsize i = 0; i < size; i++)
    g_string_append_printf (out, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (out, FALSE);
}

/* The server thread */

/* A stuck test must fail, not hang: every server read gives up after 5 s. */
static void
prepare_fd (int fd)
{
  struct timeval timeout = { 5, 0 };

  g_assert_true (g_unix_set_fd_nonblocking (fd, FALSE, NULL));
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), ==, 0);
}

static gpointer
server_thread (gpointer data)
{
  FakeServer *server = data;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < server->connections; i++)
    {
      g_autoptr(GSocket) socket = NULL;

      socket = g_socket_listener_accept_socket (server->listener, NULL, NULL, &error);
      g_assert_no_error (error);

      prepare_fd (g_socket_get_fd (socket));
      server->script (server, g_socket_get_fd (socket));
      g_socket_close (socket, NULL);
    }
  return NULL;
}

FakeServer *
fake_server_start (FakeScript script,
                   gpointer   data)
{
  return fake_server_start_many (script, data, 1);
}

FakeServer *
fake_server_start_many (FakeScript script,
                        gpointer   data,
                        guint      connections)
{
  FakeServer *server = g_new0 (FakeServer, 1);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  server->script = script;
  server->data = data;
  server->connections = connections;
  server->received = g_byte_array_new ();
  server->received_tls = g_byte_array_new ();
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);

  server->listener = g_socket_listener_new ();
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_socket_listener_add_address (server->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));

  server->thread = g_thread_new ("fake-server", server_thread, server);
  return server;
}

void
fake_server_join (FakeServer *server)
{
  g_clear_pointer (&server->thread, g_thread_join);
}

void
fake_server_free (FakeServer *server)
{
  fake_server_join (server);
  g_socket_listener_close (server->listener);
  g_object_unref (server->listener);
  g_byte_array_unref (server->received);
  g_byte_array_unref (server->received_tls);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_free (server);
}

TernConnection *
fake_connection_new (FakeServer  *server,
                     TernTlsMode  mode,
                     const char  *ca_file)
{
  TernConnection *connection = tern_connection_new ("127.0.0.1", server->port, mode);

  tern_connection_set_io_timeout (connection, 5);
  tern_connection_set_connect_timeout (connection, 5);
  if (ca_file != NULL)
    tern_connection_set_ca_file (connection, ca_file);
  return connection;
}

/* Script helpers */

/* Byte by byte, so nothing after the line is consumed: what follows a
 * STARTTLS line must still be on the socket for the TLS server. */
char *
fake_read_line (FakeServer *server,
                int         fd)
{
  GString *line = g_string_new (NULL);
  char c;

  while (read (fd, &c, 1) == 1)
    {
      g_byte_array_append (server->received, (guint8 *) &c, 1);
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }

  return g_string_free (line, FALSE);
}

gsize
fake_read_some (FakeServer *server,
                int         fd,
                gsize       max)
{
  guint8 buffer[4096];
  ssize_t got = read (fd, buffer, MIN (max, sizeof buffer));

  if (got <= 0)
    return 0;
  g_byte_array_append (server->received, buffer, (guint) got);
  return (gsize) got;
}

/* Records everything until the client closes. */
void
fake_drain (FakeServer *server,
            int         fd)
{
  while (fake_read_some (server, fd, 4096) > 0)
    ;
}

void
fake_write (int         fd,
            const char *text)
{
  gsize len = strlen (text);

  g_assert_cmpint (write (fd, text, len), ==, (ssize_t) len);
}

void
fake_step_signal (FakeServer *server,
                  guint       step)
{
  g_mutex_lock (&server->lock);
  server->step = step;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
}

void
fake_step_wait (FakeServer *server,
                guint       step)
{
  g_mutex_lock (&server->lock);
  while (server->step < step)
    g_cond_wait (&server->cond, &server->lock);
  g_mutex_unlock (&server->lock);
}

/* TLS server side */

int
fake_tls_start (FakeTls              *tls,
                int                   fd,
                gnutls_x509_crt_t     crt,
                gnutls_x509_privkey_t key,
                const char           *priority)
{
  int ret;

  g_assert_cmpint (gnutls_certificate_allocate_credentials (&tls->credentials), ==, 0);
  g_assert_cmpint (gnutls_certificate_set_x509_key (tls->credentials, &crt, 1, key), ==, 0);
  g_assert_cmpint (gnutls_init (&tls->session, GNUTLS_SERVER), ==, 0);
  g_assert_cmpint (gnutls_priority_set_direct (tls->session, priority, NULL), ==, 0);
  gnutls_credentials_set (tls->session, GNUTLS_CRD_CERTIFICATE, tls->credentials);
  gnutls_transport_set_int (tls->session, fd);

  do
    ret = gnutls_handshake (tls->session);
  while (ret < 0 && !gnutls_error_is_fatal (ret));

  return ret;
}

char *
fake_tls_read_line (FakeTls *tls)
{
  GString *line = g_string_new (NULL);
  char c;

  while (gnutls_record_recv (tls->session, &c, 1) == 1)
    {
      g_string_append_c (line, c);
      if (c == '\n')
        break;
    }

  return g_string_free (line, FALSE);
}

void
fake_tls_write (FakeTls    *tls,
                const char *text)
{
  gsize len = strlen (text);

  g_assert_cmpint (gnutls_record_send (tls->session, text, len), ==, (ssize_t) len);
}

void
fake_tls_finish (FakeTls *tls)
{
  g_clear_pointer (&tls->session, gnutls_deinit);
  g_clear_pointer (&tls->credentials, gnutls_certificate_free_credentials);
}

char *
fake_received_text (FakeServer *server)
{
  if (server->received->len == 0)
    return g_strdup ("");
  return g_strndup ((const char *) server->received->data, server->received->len);
}

void
fake_expect_line (FakeServer *server,
                  int         fd,
                  const char *expected)
{
  g_autofree char *line = fake_read_line (server, fd);

  g_assert_cmpstr (line, ==, expected);
}

/* Dialogues */

#define MODERN_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static void
dialogue_send (FakeTls    *tls,
               int         fd,
               const char *text,
               gsize       len)
{
  if (tls->session != NULL)
    g_assert_cmpint (gnutls_record_send (tls->session, text, len), ==, (ssize_t) len);
  else
    g_assert_cmpint (send (fd, text, len, MSG_NOSIGNAL), ==, (ssize_t) len);
}

static char *
dialogue_read_line (FakeServer *server,
                    FakeTls    *tls,
                    int         fd)
{
  char *line;

  if (tls->session == NULL)
    return fake_read_line (server, fd);

  line = fake_tls_read_line (tls);
  g_byte_array_append (server->received_tls, (guint8 *) line, strlen (line));
  return line;
}

static void
dialogue_drain (FakeServer *server,
                FakeTls    *tls,
                int         fd)
{
  guint8 buffer[4096];
  ssize_t got;

  if (tls->session == NULL)
    {
      fake_drain (server, fd);
      return;
    }
  while ((got = gnutls_record_recv (tls->session, buffer, sizeof buffer)) > 0)
    g_byte_array_append (server->received_tls, buffer, (guint) got);
}

/* Until the client gives up: a write then fails (EPIPE, ECONNRESET). */
static void
dialogue_flood (FakeDialogue *dialogue,
                FakeTls      *tls,
                int           fd,
                const char   *text,
                gsize         len)
{
  /* Whole copies of @text: a TLS record holds at most 16 kB, and a send
   * may take less than it was given. */
  for (;;)
    for (gsize done = 0; done < len;)
      {
        ssize_t sent;

        if (tls->session != NULL)
          sent = gnutls_record_send (tls->session, text + done, len - done);
        else
          sent = send (fd, text + done, len - done, MSG_NOSIGNAL);
        if (sent <= 0)
          return;
        done += (gsize) sent;
        dialogue->flooded += (guint64) sent;
      }
}

static void
dialogue_script (FakeServer *server,
                 int         fd)
{
  FakeDialogue *dialogue = server->data;
  FakeTls tls = { 0 };

  for (const FakeStep *step = dialogue->steps; step->kind != FAKE_STEP_END; step++)
    {
      gsize len = step->len != 0 || step->text == NULL ? step->len : strlen (step->text);
      g_autofree char *line = NULL;

      switch (step->kind)
        {
        case FAKE_STEP_SEND:
          dialogue_send (&tls, fd, step->text, len);
          break;
        case FAKE_STEP_EXPECT:
          line = dialogue_read_line (server, &tls, fd);
          if (step->text != NULL)
            g_assert_cmpstr (line, ==, step->text);
          break;
        case FAKE_STEP_TLS:
        case FAKE_STEP_TLS_TRY:
          dialogue->tls_result = fake_tls_start (&tls, fd, dialogue->crt, dialogue->key,
                                                 dialogue->priority != NULL
                                                 ? dialogue->priority : MODERN_PRIORITY);
          if (step->kind == FAKE_STEP_TLS)
            g_assert_cmpint (dialogue->tls_result, ==, 0);
          else if (dialogue->tls_result < 0)
            {
              fake_tls_finish (&tls);
              fake_drain (server, fd);
              return;
            }
          break;
        case FAKE_STEP_DRAIN:
          dialogue_drain (server, &tls, fd);
          break;
        case FAKE_STEP_FLOOD:
          dialogue_flood (dialogue, &tls, fd, step->text, len);
          break;
        case FAKE_STEP_HANGUP:
          if (tls.session != NULL)
            gnutls_bye (tls.session, GNUTLS_SHUT_WR);
          shutdown (fd, SHUT_WR);
          break;
        case FAKE_STEP_END:
        default:
          g_assert_not_reached ();
        }
    }
  fake_tls_finish (&tls);
}

FakeServer *
fake_server_start_dialogue (FakeDialogue *dialogue)
{
  return fake_server_start (dialogue_script, dialogue);
}

char *
fake_received_tls_text (FakeServer *server)
{
  if (server->received_tls->len == 0)
    return g_strdup ("");
  return g_strndup ((const char *) server->received_tls->data, server->received_tls->len);
}
