/* test-autoconfig.c: the detection sources one by one and together, over a
 * local HTTPS server (the test CA's certificate from tests/servers/) and a
 * fake resolver, and documents that are broken on purpose.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <libsoup/soup.h>

#include "tern-app-error.h"
#include "tern-autoconfig-private.h"
#include "tern-test-servers.h"
#include "test-autoconfig-util.h"

static TernTestServers *servers;
static char *providers_dir;

/* One listener for the whole program: ports are never reused between
 * tests, so no TLS session or straggling request of an earlier test can
 * meet a later test's server.  Every port stays the host it was made for. */
static GSocketService *service;
static GHashTable *ports;       /* port → host name it plays ("http:" prefix: plain) */
static GHashTable *https_ports; /* port set */

/* A local web server: one port per host name it pretends to be. */

typedef struct
{
  SoupServer     *server;
  GTlsCertificate *certificate;
  GHashTable     *pages;    /* "host path" or "host path?query" → GBytes */
  GPtrArray      *requests; /* "host path?query" */
  TestResolver   *resolver;
  TernAutoconfig *autoconfig;
} Fixture;

static void
handle (SoupServer        *server,
        SoupServerMessage *message,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  Fixture *fixture = user_data;
  GSocketAddress *local = soup_server_message_get_local_address (message);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  const char *host = g_hash_table_lookup (ports, GUINT_TO_POINTER (port));
  const char *raw_query = g_uri_get_query (soup_server_message_get_uri (message));
  g_autofree char *key = g_strdup_printf ("%s %s", host, path);
  g_autofree char *full = g_strdup_printf ("%s%s%s", key, raw_query ? "?" : "",
                                           raw_query ? raw_query : "");
  GBytes *page = g_hash_table_lookup (fixture->pages, full);

  g_ptr_array_add (fixture->requests, g_strdup (full));
  if (page == NULL)
    page = g_hash_table_lookup (fixture->pages, key);
  if (page == NULL)
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/xml", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (page, NULL), g_bytes_get_size (page));
}

/* The test accepts the connections itself and hands them to the server:
 * SoupServer's own listener leaks what it accepts (libsoup 3.2). */
static Fixture *current;

static gboolean
incoming (GSocketService    *socket_service,
          GSocketConnection *connection,
          GObject           *source,
          gpointer           user_data)
{
  Fixture *fixture = current;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, &error);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, &error);
  g_autoptr(GIOStream) stream = NULL;
  guint port;

  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  if (fixture == NULL)
    return FALSE;
  if (g_hash_table_contains (https_ports, GUINT_TO_POINTER (port)))
    stream = g_tls_server_connection_new (G_IO_STREAM (connection), fixture->certificate, &error);
  else
    stream = g_object_ref (G_IO_STREAM (connection));
  g_assert_no_error (error);
  soup_server_accept_iostream (fixture->server, stream, local, remote, &error);
  g_assert_no_error (error);
  return TRUE;
}

/* Makes @host:@port (443 or 80) a port of the local server. */
static void
serve_host (Fixture    *fixture,
            const char *host,
            gboolean    https)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr(GSocketAddress) address = NULL;
  guint16 port;

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), any, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &address, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  if (https)
    g_hash_table_add (https_ports, GUINT_TO_POINTER (port));
  /* Pages of the unencrypted one are keyed "http:HOST PATH". */
  g_hash_table_insert (ports, GUINT_TO_POINTER (port),
                       https ? g_strdup (host) : g_strconcat ("http:", host, NULL));

  from = g_strdup_printf ("%s:%u", host, https ? 443 : 80);
  to = g_strdup_printf ("127.0.0.1:%u", port);
  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, from, to));
}

static void
add_page (Fixture    *fixture,
          const char *host_and_path,
          const char *body)
{
  g_hash_table_insert (fixture->pages, g_strdup (host_and_path),
                       g_bytes_new (body, strlen (body)));
}

static const char *
good_key_file (void)
{
  static char *path;

  if (path == NULL)
    {
      g_autoptr(GKeyFile) ini = g_key_file_new ();
      g_autofree char *ini_path =
        g_build_filename (tern_test_servers_get_dir (servers), "servers.ini", NULL);
      g_autoptr(GError) error = NULL;

      g_key_file_load_from_file (ini, ini_path, G_KEY_FILE_NONE, &error);
      g_assert_no_error (error);
      path = g_key_file_get_string (ini, "certs", "good_key", &error);
      g_assert_no_error (error);
    }
  return path;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->certificate = g_tls_certificate_new_from_files (
    tern_test_servers_get_cert_file (servers, TERN_TEST_CERT_GOOD), good_key_file (), &error);
  g_assert_no_error (error);
  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, handle, fixture, NULL);
  current = fixture;
  fixture->pages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_bytes_unref);
  fixture->requests = g_ptr_array_new_with_free_func (g_free);
  fixture->resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);

  fixture->autoconfig = tern_autoconfig_new ();
  tern_autoconfig_set_providers_dir (fixture->autoconfig, providers_dir);
  tern_autoconfig_set_ca_file (fixture->autoconfig, tern_test_servers_get_ca_file (servers));
  tern_autoconfig_set_resolver (fixture->autoconfig, G_RESOLVER (fixture->resolver));
  /* Generous: only what is served answers, and under ASan on a busy
   * machine a TLS handshake can take seconds. */
  tern_autoconfig_set_timeout (fixture->autoconfig, 60);
  tern_autoconfig_set_stagger (fixture->autoconfig, 5);
  /* Anything not served below is unreachable: the test stays offline. */
  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, "nothing.invalid:1",
                                              "127.0.0.1:1"));
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  test_unref_and_wait (fixture->autoconfig);
  /* Sources that lost may still hold the resolver for a moment. */
  g_object_unref (fixture->resolver);
  current = NULL;
  soup_server_disconnect (fixture->server);
  /* Its connections go away on the main context. */
  test_unref_and_wait (fixture->server);
  g_object_unref (fixture->certificate);
  g_hash_table_unref (fixture->pages);
  g_ptr_array_unref (fixture->requests);
}

static TernAutoconfigConfig *
detect_ok (Fixture    *fixture,
           const char *address)
{
  g_autoptr(GError) error = NULL;
  TernAutoconfigConfig *config = test_detect (fixture->autoconfig, address, &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

static char *
config_xml_port (const char *host,
                 const char *port,
                 const char *extra)
{
  return g_strdup_printf ("<?xml version=\"1.0\"?>\n"
                          "<clientConfig version=\"1.1\"><emailProvider id=\"x\">"
                          "<domain>example.org</domain><displayName>Example</displayName>"
                          "<incomingServer type=\"imap\"><hostname>%s</hostname><port>%s</port>"
                          "<socketType>SSL</socketType><username>%%EMAILLOCALPART%%</username>"
                          "<authentication>password-cleartext</authentication></incomingServer>"
                          "<outgoingServer type=\"smtp\"><hostname>smtp.%%EMAILDOMAIN%%</hostname>"
                          "<port>587</port><socketType>STARTTLS</socketType>"
                          "<username>%%EMAILADDRESS%%</username></outgoingServer>%s"
                          "</emailProvider></clientConfig>\n",
                          host, port, extra ? extra : "");
}

static char *
config_xml (const char *host,
            const char *extra)
{
  return config_xml_port (host, "993", extra);
}

/* Each source alone */

static void
test_provider_file (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) gmail = detect_ok (fixture, "someone@googlemail.com");
  g_autoptr(TernAutoconfigConfig) yandex = NULL;
  g_autoptr(TernAutoconfigConfig) icloud = NULL;

  g_assert_cmpint (gmail->source, ==, TERN_AUTOCONFIG_SOURCE_PROVIDER);
  g_assert_cmpstr (gmail->origin, ==, "gmail.xml");
  test_assert_server (gmail->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.gmail.com", 993,
                 TERN_TLS_MODE_IMPLICIT, "someone@googlemail.com");
  test_assert_server (gmail->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.gmail.com", 465,
                 TERN_TLS_MODE_IMPLICIT, "someone@googlemail.com");
  g_assert_cmpint (gmail->password_kind, ==, TERN_AUTOCONFIG_PASSWORD_OAUTH2);
  g_assert_true (tern_autoconfig_server_needs_oauth2 (g_ptr_array_index (gmail->incoming, 0)));

  yandex = detect_ok (fixture, "someone@ya.ru");
  g_assert_cmpint (yandex->password_kind, ==, TERN_AUTOCONFIG_PASSWORD_APP);
  g_assert_true (g_str_has_prefix (yandex->help_url, "https://"));
  g_assert_false (tern_autoconfig_server_needs_oauth2 (g_ptr_array_index (yandex->incoming, 0)));

  /* iCloud's IMAP wants the local part, its SMTP the whole address. */
  icloud = detect_ok (fixture, "someone@me.com");
  test_assert_server (icloud->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.mail.me.com", 993,
                 TERN_TLS_MODE_IMPLICIT, "someone");
  test_assert_server (icloud->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.mail.me.com", 587,
                 TERN_TLS_MODE_STARTTLS, "someone@me.com");
}

static void
test_autoconfig_query (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *xml = config_xml ("imap.%EMAILDOMAIN%", NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  serve_host (fixture, "autoconfig.example.org", TRUE);
  /* Served only when the address is in the query. */
  add_page (fixture, "autoconfig.example.org /mail/config-v1.1.xml?emailaddress=alice%40example.org",
            xml);
  add_page (fixture, "autoconfig.example.org /mail/config-v1.1.xml", "<clientConfig/>");

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_AUTOCONFIG);
  g_assert_false (config->untrusted);
  g_assert_cmpstr (config->origin, ==,
                   "https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=alice%40example.org");
  g_assert_cmpstr (config->provider_name, ==, "Example");
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.example.org", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice");
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.example.org", 587,
                 TERN_TLS_MODE_STARTTLS, "alice@example.org");
}

static void
test_well_known (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *xml = config_xml ("mail.example.org", NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  serve_host (fixture, "autoconfig.example.org", TRUE);
  serve_host (fixture, "example.org", TRUE);
  add_page (fixture, "example.org /.well-known/autoconfig/mail/config-v1.1.xml", xml);

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_AUTOCONFIG);
  g_assert_cmpstr (config->origin, ==,
                   "https://example.org/.well-known/autoconfig/mail/config-v1.1.xml");
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "mail.example.org", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice");
  /* The provider's own server was asked first and had nothing. */
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "autoconfig.example.org", "https://"), ==,
                   TERN_AUTOCONFIG_RESULT_NOT_FOUND);
}

static void
test_ispdb (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *xml = config_xml ("imap.example.org", NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  serve_host (fixture, "autoconfig.thunderbird.net", TRUE);
  add_page (fixture, "autoconfig.thunderbird.net /v1.1/example.org", xml);

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_ISPDB);
  g_assert_cmpstr (config->origin, ==, "https://autoconfig.thunderbird.net/v1.1/example.org");
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.example.org", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice");
}

static void
test_mx_provider (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;

  /* A domain hosted by Google: its MX leads to google.com, in gmail.xml. */
  g_hash_table_insert (fixture->resolver->mx, g_strdup ("example.org"),
                       g_strdup ("ASPMX.L.GOOGLE.COM."));
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_MX);
  g_assert_true (g_str_has_prefix (config->origin, "gmail.xml"));
  g_assert_nonnull (strstr (config->origin, "aspmx.l.google.com"));
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.gmail.com", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  /* The MX host's own domain was tried before the registrable one. */
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "l.google.com", NULL), ==,
                   TERN_AUTOCONFIG_RESULT_NOT_FOUND);
}

static void
test_mx_registrable (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *xml = config_xml ("imap.hoster.co.uk", NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  /* mx1.eu.hoster.co.uk → eu.hoster.co.uk (nothing) → hoster.co.uk, not
   * co.uk: the public suffix list knows where the registrable part is. */
  g_hash_table_insert (fixture->resolver->mx, g_strdup ("example.org"),
                       g_strdup ("mx1.eu.hoster.co.uk"));
  serve_host (fixture, "autoconfig.hoster.co.uk", TRUE);
  add_page (fixture, "autoconfig.hoster.co.uk /mail/config-v1.1.xml", xml);

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_MX);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.hoster.co.uk", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice");
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "eu.hoster.co.uk", NULL), ==,
                   TERN_AUTOCONFIG_RESULT_NOT_FOUND);
  {
    g_autoptr(GPtrArray) attempts = tern_autoconfig_dup_attempts (fixture->autoconfig);

    for (guint i = 0; i < attempts->len; i++)
      g_assert_cmpstr (((TernAutoconfigAttempt *) g_ptr_array_index (attempts, i))->host, !=,
                       "co.uk");
  }
}

static void
add_srv (Fixture    *fixture,
         const char *name,
         const char *target)
{
  g_hash_table_insert (fixture->resolver->srv, g_strdup (name), g_strdup (target));
}

static void
test_srv (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;

  add_srv (fixture, "_imap._tcp.example.org", "imap.example.org.:143");
  add_srv (fixture, "_imaps._tcp.example.org", "imap.example.org.:993");
  add_srv (fixture, "_pop3s._tcp.example.org", "pop.example.org.:995");
  add_srv (fixture, "_submission._tcp.example.org", "smtp.example.org.:587");
  /* RFC 6186: "." says the service is not offered. */
  add_srv (fixture, "_pop3._tcp.example.org", ".:0");

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_SRV);
  g_assert_cmpuint (config->incoming->len, ==, 3);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.example.org", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  test_assert_server (config->incoming, 1, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.example.org", 143,
                 TERN_TLS_MODE_STARTTLS, "alice@example.org");
  test_assert_server (config->incoming, 2, TERN_AUTOCONFIG_PROTOCOL_POP3, "pop.example.org", 995,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.example.org", 587,
                 TERN_TLS_MODE_STARTTLS, "alice@example.org");
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "_pop3._tcp.example.org", NULL), ==,
                   TERN_AUTOCONFIG_RESULT_NOT_FOUND);
}

static void
test_plain_http (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *xml = config_xml ("imap.example.org", NULL);
  g_autoptr(TernAutoconfigConfig) config = NULL;

  serve_host (fixture, "autoconfig.example.org", FALSE);
  add_page (fixture, "http:autoconfig.example.org /mail/config-v1.1.xml", xml);

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_HTTP);
  g_assert_true (config->untrusted);
}

/* Plain HTTP is the last resort: servers that answer securely at the
 * usual names beat it; it beats a half-found secure configuration. */
static void
test_plain_http_after_probing (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *xml = config_xml ("from-http.example.org", NULL);
  g_autofree char *imaps = g_strdup_printf (
    "127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_IMAPS));
  g_autofree char *smtps = g_strdup_printf (
    "127.0.0.1:%u", tern_test_servers_get_port (servers, TERN_TEST_SERVICE_SUBMISSIONS));
  TernAutoconfigConfig *config;

  serve_host (fixture, "autoconfig.example.org", FALSE);
  add_page (fixture, "http:autoconfig.example.org /mail/config-v1.1.xml", xml);
  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, "imap.example.org:993", imaps));

  /* Only incoming answers securely: the HTTP configuration is taken. */
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_HTTP);
  g_assert_true (config->untrusted);
  tern_autoconfig_config_free (config);

  /* Both do: probing wins, and nothing is untrusted. */
  g_assert_true (tern_autoconfig_map_address (fixture->autoconfig, "smtp.example.org:465", smtps));
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_PROBE);
  g_assert_false (config->untrusted);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "imap.example.org", 993,
                      TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.example.org", 465,
                      TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  tern_autoconfig_config_free (config);
}

/* Several sources answer: the best-ranked wins, whatever answers first. */
static void
test_ranking (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *from_autoconfig = config_xml ("from-autoconfig.example.org", NULL);
  g_autofree char *from_well_known = config_xml ("from-well-known.example.org", NULL);
  g_autofree char *from_ispdb = config_xml ("from-ispdb.example.org", NULL);
  g_autofree char *from_http = config_xml ("from-http.example.org", NULL);
  TernAutoconfigConfig *config;

  serve_host (fixture, "autoconfig.example.org", TRUE);
  serve_host (fixture, "example.org", TRUE);
  serve_host (fixture, "autoconfig.thunderbird.net", TRUE);
  serve_host (fixture, "autoconfig.example.org", FALSE);

  /* Each step adds a better source than all before it. */
  add_page (fixture, "http:autoconfig.example.org /mail/config-v1.1.xml", from_http);
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_HTTP);
  tern_autoconfig_config_free (config);

  add_srv (fixture, "_imaps._tcp.example.org", "from-srv.example.org:993");
  add_srv (fixture, "_submissions._tcp.example.org", "from-srv.example.org:465");
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_SRV);
  tern_autoconfig_config_free (config);

  add_page (fixture, "autoconfig.thunderbird.net /v1.1/example.org", from_ispdb);
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_ISPDB);
  tern_autoconfig_config_free (config);

  add_page (fixture, "example.org /.well-known/autoconfig/mail/config-v1.1.xml", from_well_known);
  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_AUTOCONFIG);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP,
                 "from-well-known.example.org", 993, TERN_TLS_MODE_IMPLICIT, "alice");
  tern_autoconfig_config_free (config);

  add_page (fixture, "autoconfig.example.org /mail/config-v1.1.xml", from_autoconfig);
  config = detect_ok (fixture, "alice@example.org");
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP,
                 "from-autoconfig.example.org", 993, TERN_TLS_MODE_IMPLICIT, "alice");
  tern_autoconfig_config_free (config);

  /* A provider file beats everything, even with the MX pointing elsewhere. */
  g_hash_table_insert (fixture->resolver->mx, g_strdup ("gmail.com"), g_strdup ("mx.example.org"));
  config = detect_ok (fixture, "alice@gmail.com");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_PROVIDER);
  tern_autoconfig_config_free (config);
}

/* Broken documents from every source but one: the one wins, no crash. */
static void
test_hostile_sources (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GString) huge = g_string_new ("<?xml version=\"1.0\"?><clientConfig><emailProvider>");
  g_autofree char *missing = NULL;
  g_autofree char *wrong_port = NULL;
  g_autoptr(TernAutoconfigConfig) config = NULL;
  const char bad_utf8[] = "<clientConfig><emailProvider><displayName>\xff\xfe</displayName>";

  while (huge->len <= TERN_AUTOCONFIG_MAX_DOCUMENT)
    g_string_append (huge, "<domain>example.org</domain>\n");
  missing = g_strdup ("<clientConfig><emailProvider><outgoingServer type=\"smtp\">"
                      "<hostname>smtp.example.org</hostname><port>465</port>"
                      "<socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>");
  wrong_port = config_xml_port ("imap.example.org", "99999", NULL);

  serve_host (fixture, "autoconfig.example.org", TRUE);
  serve_host (fixture, "example.org", TRUE);
  serve_host (fixture, "autoconfig.thunderbird.net", TRUE);
  add_page (fixture, "autoconfig.example.org /mail/config-v1.1.xml", huge->str);
  add_page (fixture, "example.org /.well-known/autoconfig/mail/config-v1.1.xml", bad_utf8);
  add_page (fixture, "autoconfig.thunderbird.net /v1.1/example.org", missing);
  g_hash_table_insert (fixture->resolver->mx, g_strdup ("example.org"),
                       g_strdup ("mx.mailer.example.net"));
  serve_host (fixture, "autoconfig.mailer.example.net", TRUE);
  add_page (fixture, "autoconfig.mailer.example.net /mail/config-v1.1.xml", wrong_port);
  add_srv (fixture, "_imaps._tcp.example.org", "imap.example.org:993");
  add_srv (fixture, "_submissions._tcp.example.org", "smtp.example.org:465");

  config = detect_ok (fixture, "alice@example.org");
  g_assert_cmpint (config->source, ==, TERN_AUTOCONFIG_SOURCE_SRV);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "autoconfig.example.org", "https://"), ==,
                   TERN_AUTOCONFIG_RESULT_INVALID);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "example.org", "https://"), ==,
                   TERN_AUTOCONFIG_RESULT_INVALID);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "autoconfig.thunderbird.net", NULL), ==,
                   TERN_AUTOCONFIG_RESULT_INVALID);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "autoconfig.mailer.example.net", NULL), ==,
                   TERN_AUTOCONFIG_RESULT_INVALID);
}

static void
test_nothing_found (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAutoconfigConfig) config = test_detect (fixture->autoconfig, "alice@example.org", &error);
  g_autoptr(TernAutoconfigConfig) guess = NULL;

  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
  g_assert_null (config);
  /* Every probe was tried, and none silently became the answer. */
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "imap.example.org", "imap TLS"), ==,
                   TERN_AUTOCONFIG_RESULT_FAILED);
  g_assert_cmpint (test_attempt_result (fixture->autoconfig, "smtp.example.org", "smtp TLS"), ==,
                   TERN_AUTOCONFIG_RESULT_FAILED);

  /* The hosting default, for the form to start from. */
  guess = tern_autoconfig_guess (fixture->autoconfig, "alice@example.org");
  g_assert_cmpint (guess->source, ==, TERN_AUTOCONFIG_SOURCE_GUESS);
  test_assert_server (guess->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_IMAP, "mail.example.org", 993,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  test_assert_server (guess->incoming, 1, TERN_AUTOCONFIG_PROTOCOL_POP3, "mail.example.org", 995,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
  test_assert_server (guess->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "mail.example.org", 465,
                 TERN_TLS_MODE_IMPLICIT, "alice@example.org");
}

static void
count_attempt (TernAutoconfig        *autoconfig,
               TernAutoconfigAttempt *attempt,
               guint                 *counts)
{
  counts[attempt->result == TERN_AUTOCONFIG_RESULT_TRYING ? 0 : 1]++;
}

static void
test_progress_and_cancel (Fixture       *fixture,
                          gconstpointer  data)
{
  guint counts[2] = { 0, 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAutoconfigConfig) config = NULL;
  gulong handler = g_signal_connect (fixture->autoconfig, "attempt", G_CALLBACK (count_attempt),
                                     counts);

  config = detect_ok (fixture, "alice@gmail.com");
  /* At least the provider file was reported, as started and as found. */
  g_assert_cmpuint (counts[0], >=, 1);
  g_assert_cmpuint (counts[1], >=, 1);
  g_signal_handler_disconnect (fixture->autoconfig, handler);

  tern_autoconfig_detect_async (fixture->autoconfig, "alice@example.org", cancellable,
                                test_store_result, &result);
  g_cancellable_cancel (cancellable);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (tern_autoconfig_detect_finish (fixture->autoconfig, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_error (&error);
  g_clear_object (&result);
  tern_autoconfig_detect_async (fixture->autoconfig, "not an address", NULL, test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (tern_autoconfig_detect_finish (fixture->autoconfig, result, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
}

/* The parser alone, on documents broken in every way we could think of. */
static void
test_parse_hostile (void)
{
  const char *documents[] = {
    "",
    "<",
    "not xml at all",
    "<html><body>404</body></html>",
    "<clientConfig>",
    "<clientConfig><emailProvider></emailProvider></clientConfig>",
    /* undefined entities; DOCTYPE entities are not expanded */
    "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>"
    "<clientConfig><emailProvider><displayName>&lol2;</displayName></emailProvider></clientConfig>",
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>&foo;</hostname>"
    "</incomingServer></emailProvider></clientConfig>",
    /* servers that are each wrong in one way */
    "<clientConfig><emailProvider>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname><port>0</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname><port>-1</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname><port>993x</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org</hostname><port>993</port><socketType>SSLv2</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname>imap.example.org/evil</hostname><port>993</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><hostname></hostname><port>993</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"imap\"><port>993</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"exchange\"><hostname>x.example.org</hostname><port>443</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"smtp\"><hostname>x.example.org</hostname><port>465</port><socketType>SSL</socketType></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>smtp.example.org</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>"
    "</emailProvider></clientConfig>",
    /* no outgoing server */
    "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>",
    /* the wrong root */
    "<config><emailProvider><incomingServer type=\"imap\"><hostname>imap.example.org</hostname>"
    "<port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></config>",
    /* NUL inside */
    "<clientConfig>\0</clientConfig>",
  };
  g_autoptr(GString) deep = g_string_new ("<clientConfig>");
  g_autoptr(GString) long_text = g_string_new ("<clientConfig><emailProvider><displayName>");
  g_autoptr(GError) error = NULL;
  gsize nul_len = sizeof "<clientConfig>\0</clientConfig>" - 1;

  for (guint i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      gsize len = i + 1 == G_N_ELEMENTS (documents) ? nul_len : strlen (documents[i]);
      g_autoptr(TernAutoconfigConfig) config =
        tern_autoconfig_parse (documents[i], len, "a@example.org", NULL, &error);

      g_test_message ("document %u: %s", i, error ? error->message : "(parsed)");
      g_assert_null (config);
      g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
      g_clear_error (&error);
    }

  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "<a>");
  g_assert_null (tern_autoconfig_parse (deep->str, deep->len, "a@example.org", NULL, &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
  g_clear_error (&error);

  for (guint i = 0; i < 10000; i++)
    g_string_append (long_text, "x");
  g_assert_null (tern_autoconfig_parse (long_text->str, long_text->len, "a@example.org", NULL,
                                        &error));
  g_assert_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID);
}

/* Long prose where nothing is read from it is fine. */
static void
test_parse_long_description (void)
{
  g_autofree char *prose = g_strnfill (20000, 'x');
  g_autofree char *extra = g_strdup_printf ("<documentation url=\"https://example.org/help\">"
                                            "<descr lang=\"en\">%s</descr></documentation>"
                                            "<enable visiturl=\"https://example.org/enable\">"
                                            "<instruction>%s</instruction></enable>",
                                            prose, prose);
  g_autofree char *document = config_xml ("imap.example.org", extra);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernAutoconfigConfig) config =
    tern_autoconfig_parse (document, strlen (document), "a@example.org", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (config->help_url, ==, "https://example.org/help");
}

/* Good servers survive next to bad ones; unknown elements are ignored. */
static void
test_parse_mixed (void)
{
  const char *document =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<clientConfig version=\"1.1\"><emailProvider id=\"example.org\">"
    "<domain>Example.ORG</domain><domain>bad/domain</domain><unknown><deep>x</deep></unknown>"
    "<incomingServer type=\"imap\"><hostname>IMAP.Example.org</hostname><port>70000</port><socketType>SSL</socketType></incomingServer>"
    "<incomingServer type=\"pop3\"><hostname>pop.%EMAILDOMAIN%</hostname><port>995</port><socketType>SSL</socketType>"
    "<username>%EMAILLOCALPART%</username><authentication>OAuth2</authentication><authentication>password-cleartext</authentication></incomingServer>"
    "<outgoingServer type=\"smtp\"><hostname>smtp.example.org</hostname><port>25</port><socketType>plain</socketType></outgoingServer>"
    "</emailProvider><emailProvider id=\"second\"><incomingServer type=\"imap\"><hostname>second.example.org</hostname>"
    "<port>993</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>";
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) domains = NULL;
  g_autoptr(TernAutoconfigConfig) config =
    tern_autoconfig_parse (document, strlen (document), "bob@example.org", &domains, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (config->incoming->len, ==, 1);
  test_assert_server (config->incoming, 0, TERN_AUTOCONFIG_PROTOCOL_POP3, "pop.example.org", 995,
                 TERN_TLS_MODE_IMPLICIT, "bob");
  g_assert_false (tern_autoconfig_server_needs_oauth2 (g_ptr_array_index (config->incoming, 0)));
  test_assert_server (config->outgoing, 0, TERN_AUTOCONFIG_PROTOCOL_SMTP, "smtp.example.org", 25,
                 TERN_TLS_MODE_PLAIN, "bob@example.org");
  g_assert_true (config->insecure);
  g_assert_cmpstrv (domains, ((const char *[]) { "example.org", NULL }));
}

static void
test_usernames (void)
{
  g_autofree char *expanded =
    tern_autoconfig_expand ("%EMAILLOCALPART%+x@%EMAILDOMAIN% %EMAILADDRESS% %OTHER%",
                            "bob@example.org");
  g_autofree char *local = tern_autoconfig_other_username ("bob@example.org", "bob@example.org");
  g_autofree char *address = tern_autoconfig_other_username ("bob", "bob@example.org");
  g_autofree char *none = tern_autoconfig_other_username ("robert", "bob@example.org");

  g_assert_cmpstr (expanded, ==, "bob+x@example.org bob@example.org %OTHER%");
  g_assert_cmpstr (local, ==, "bob");
  g_assert_cmpstr (address, ==, "bob@example.org");
  g_assert_null (none);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static void
test_properties (void)
{
  g_autoptr(TernAutoconfig) autoconfig = tern_autoconfig_new ();
  g_autoptr(GResolver) resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(GResolver) got = NULL;
  g_autofree char *ca_file = NULL;
  guint timeout = 0;
  guint count = 0;

  g_assert_cmpstr (tern_autoconfig_get_providers_dir (autoconfig), ==, g_getenv ("TERN_PROVIDERS_DIR")
                     ? g_getenv ("TERN_PROVIDERS_DIR") : TERN_DATADIR "/providers");
  g_signal_connect (autoconfig, "notify", G_CALLBACK (count_notify), &count);
  g_object_set (autoconfig, "ca-file", "/ca.pem", "resolver", resolver, "timeout", 3, NULL);
  g_object_set (autoconfig, "ca-file", "/ca.pem", "timeout", 3, NULL);
  g_assert_cmpuint (count, ==, 3);
  g_object_get (autoconfig, "ca-file", &ca_file, "resolver", &got, "timeout", &timeout, NULL);
  g_assert_cmpstr (ca_file, ==, "/ca.pem");
  g_assert_true (got == resolver);
  g_assert_cmpuint (timeout, ==, 3);
  g_assert_false (tern_autoconfig_map_address (autoconfig, "no port", "127.0.0.1:1"));
  g_assert_false (tern_autoconfig_map_address (autoconfig, "a.example:1", "127.0.0.1:99999"));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  providers_dir = g_test_build_filename (G_TEST_DIST, "..", "data", "providers", NULL);
  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);

#define ADD(path, func) \
  g_test_add ("/autoconfig/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("provider-file", test_provider_file);
  ADD ("autoconfig-query", test_autoconfig_query);
  ADD ("well-known", test_well_known);
  ADD ("ispdb", test_ispdb);
  ADD ("mx-provider", test_mx_provider);
  ADD ("mx-registrable", test_mx_registrable);
  ADD ("srv", test_srv);
  ADD ("plain-http", test_plain_http);
  ADD ("plain-http-after-probing", test_plain_http_after_probing);
  ADD ("ranking", test_ranking);
  ADD ("hostile-sources", test_hostile_sources);
  ADD ("nothing-found", test_nothing_found);
  ADD ("progress-and-cancel", test_progress_and_cancel);
#undef ADD
  g_test_add_func ("/autoconfig/parse-hostile", test_parse_hostile);
  g_test_add_func ("/autoconfig/parse-mixed", test_parse_mixed);
  g_test_add_func ("/autoconfig/parse-long-description", test_parse_long_description);
  g_test_add_func ("/autoconfig/usernames", test_usernames);
  g_test_add_func ("/autoconfig/properties", test_properties);

  service = g_socket_service_new ();
  g_signal_connect (service, "incoming", G_CALLBACK (incoming), NULL);
  ports = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  https_ports = g_hash_table_new (NULL, NULL);

  status = g_test_run ();

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (service);
  g_hash_table_unref (ports);
  g_hash_table_unref (https_ports);
  tern_test_servers_free (servers);
  g_free (providers_dir);
  return status;
}
