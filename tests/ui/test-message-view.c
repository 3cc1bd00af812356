/* test-message-view.c: the reading pane under a real X server (Xvfb), with
 * WebKit, a local HTTP server that must not be asked before the user
 * allows remote content, and real Dovecot for bodies that are not cached.
 *
 * With TERN_TEST_SCREENSHOT=FILE the realistic-message test also saves a
 * screenshot of the screen (ImageMagick's import) for data/screenshots/.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <webkit/webkit.h>

#include "tern-application.h"
#include "tern-attachment-bar.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-message-view.h"
#include "tern-message-web-view.h"
#include "tern-plain-text-view.h"
#include "tern-test-servers.h"
#include "tern-test-store.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"

#define DEADLINE_SECONDS 30

static TernTestServers *servers;
static char *password_file;

/* A 1×1 PNG. */
static const char png_base64[] =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/* Helpers */

static GtkStack *
body_stack (TernMessageView *view)
{
  return GTK_STACK (tern_test_find_descendant (GTK_WIDGET (view), GTK_TYPE_STACK));
}

static const char *
visible_page (TernMessageView *view)
{
  return gtk_stack_get_visible_child_name (body_stack (view));
}

static TernPlainTextView *
plain_view (TernMessageView *view)
{
  return TERN_PLAIN_TEXT_VIEW (
    tern_test_find_descendant (GTK_WIDGET (view), TERN_TYPE_PLAIN_TEXT_VIEW));
}

static TernMessageWebView *
web_view (TernMessageView *view)
{
  return TERN_MESSAGE_WEB_VIEW (
    tern_test_find_descendant (GTK_WIDGET (view), TERN_TYPE_MESSAGE_WEB_VIEW));
}

static GtkRevealer *
remote_banner (TernMessageView *view)
{
  return GTK_REVEALER (tern_test_find_descendant (GTK_WIDGET (view), GTK_TYPE_REVEALER));
}

static char *
buffer_text (TernMessageView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (plain_view (view)));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

typedef struct
{
  TernMessageView *view;
  const char *text;
} TextIs;

static gboolean
text_is (gpointer data)
{
  TextIs *wanted = data;
  g_autofree char *text = buffer_text (wanted->view);

  return g_strcmp0 (text, wanted->text) == 0;
}

static void
wait_for_text (TernMessageView *view,
               const char      *text)
{
  TextIs wanted = { view, text };

  tern_test_wait_until (text_is, &wanted, text);
}

static TernMessageContent *
content_from_string (const char *raw)
{
  g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));

  return tern_message_content_new (bytes, NULL);
}

typedef struct
{
  GtkWindow *window;
  TernMessageView *view;
} Pane;

static void
pane_open (Pane        *pane,
           TernContext *context)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_SECONDS * G_USEC_PER_SEC;

  pane->window = GTK_WINDOW (gtk_window_new ());
  pane->view = TERN_MESSAGE_VIEW (tern_message_view_new (context));
  gtk_window_set_default_size (pane->window, 900, 700);
  gtk_window_set_child (pane->window, GTK_WIDGET (pane->view));
  gtk_window_present (pane->window);
  while (!gtk_widget_get_mapped (GTK_WIDGET (pane->window)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (pane->window)));
  tern_test_drain ();
}

static void
pane_close (Pane *pane)
{
  gtk_window_destroy (pane->window);
  tern_test_drain ();
}

/* A local HTTP server that records every connection and request line. */

typedef struct
{
  GSocketService *service;
  guint16 port;
  guint connections;
  GPtrArray *requests; /* "GET /remote.png HTTP/1.1" */
} HttpServer;

typedef struct
{
  HttpServer *server;
  GSocketConnection *connection;
  char buffer[4096];
  gsize length;
} HttpClient;

static void
http_client_free (HttpClient *client)
{
  g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
  g_object_unref (client->connection);
  g_free (client);
}

static void
http_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HttpClient *client = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  const char *end_of_line;

  if (n <= 0)
    {
      http_client_free (client);
      return;
    }
  client->length += n;
  end_of_line = g_strstr_len (client->buffer, client->length, "\r\n\r\n");
  if (end_of_line == NULL && client->length < sizeof client->buffer - 1)
    {
      g_input_stream_read_async (G_INPUT_STREAM (source), client->buffer + client->length,
                                 sizeof client->buffer - 1 - client->length, G_PRIORITY_DEFAULT,
                                 NULL, http_read_cb, client);
      return;
    }
  {
    gsize png_size;
    g_autofree guchar *png = g_base64_decode (png_base64, &png_size);
    g_autofree char *header = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                                               "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                               png_size);
    GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));

    g_ptr_array_add (client->server->requests,
                     g_strndup (client->buffer, strcspn (client->buffer, "\r\n")));
    g_output_stream_write_all (out, header, strlen (header), NULL, NULL, NULL);
    g_output_stream_write_all (out, png, png_size, NULL, NULL, NULL);
  }
  http_client_free (client);
}

static gboolean
http_incoming_cb (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source,
                  HttpServer        *server)
{
  HttpClient *client = g_new0 (HttpClient, 1);

  server->connections++;
  g_test_message ("connection %u to the HTTP server", server->connections);
  client->server = server;
  client->connection = g_object_ref (connection);
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                             client->buffer, sizeof client->buffer - 1, G_PRIORITY_DEFAULT, NULL,
                             http_read_cb, client);
  return TRUE;
}

static void
http_server_start (HttpServer *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  server->service = g_socket_service_new ();
  server->requests = g_ptr_array_new_with_free_func (g_free);
  g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (server->service, "incoming", G_CALLBACK (http_incoming_cb), server);
  g_socket_service_start (server->service);
}

static void
http_server_stop (HttpServer *server)
{
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_clear_object (&server->service);
  g_clear_pointer (&server->requests, g_ptr_array_unref);
}

static void
http_server_log (HttpServer *server)
{
  for (guint i = 0; i < server->requests->len; i++)
    g_test_message ("request: %s", (const char *) g_ptr_array_index (server->requests, i));
}

static gboolean
http_server_got (HttpServer *server,
                 const char *path)
{
  g_autofree char *line = g_strdup_printf ("GET %s HTTP/", path);

  for (guint i = 0; i < server->requests->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (server->requests, i), line))
      return TRUE;
  return FALSE;
}

/* WebKit loads */

typedef struct
{
  gboolean finished;
  GPtrArray *parts; /* cid: URIs asked for */
} LoadWatch;

static void
load_changed_cb (WebKitWebView   *web_view,
                 WebKitLoadEvent  event,
                 LoadWatch       *watch)
{
  if (event == WEBKIT_LOAD_FINISHED)
    watch->finished = TRUE;
}

static void
part_requested_cb (TernMessageWebView *view,
                   const char         *uri,
                   LoadWatch          *watch)
{
  g_ptr_array_add (watch->parts, g_strdup (uri));
}

static gboolean
load_finished (gpointer data)
{
  return ((LoadWatch *) data)->finished;
}

static void
watch_loads (TernMessageView *view,
             LoadWatch       *watch)
{
  watch->parts = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (tern_message_web_view_get_web_view (web_view (view)), "load-changed",
                    G_CALLBACK (load_changed_cb), watch);
  g_signal_connect (web_view (view), "part-requested", G_CALLBACK (part_requested_cb), watch);
}

static void
unwatch_loads (TernMessageView *view,
               LoadWatch       *watch)
{
  g_signal_handlers_disconnect_by_data (tern_message_web_view_get_web_view (web_view (view)), watch);
  g_signal_handlers_disconnect_by_data (web_view (view), watch);
  g_clear_pointer (&watch->parts, g_ptr_array_unref);
}

/* Tests */

static void
test_plain_quotes_links (void)
{
  g_autoptr(TernMessageContent) content = content_from_string (
    "From: Ann Example <ann@example.org>\r\n"
    "To: Boris <boris@example.ru>\r\n"
    "Subject: Re: the plan\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "See https://example.org/plan?a=1&b=2.\r\n"
    "> Did you read it?\r\n"
    "> > Not yet, mailto:boris@example.ru\r\n"
    "javascript:alert(1) file:///etc/passwd\r\n");
  GtkTextBuffer *buffer;
  GtkTextTagTable *tags;
  GtkTextIter iter;
  g_autofree char *link = NULL;
  g_autofree char *mailto = NULL;
  Pane pane;

  pane_open (&pane, NULL);
  tern_message_view_set_content (pane.view, content);
  tern_test_drain ();
  g_assert_cmpstr (visible_page (pane.view), ==, "plain");

  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (plain_view (pane.view)));
  tags = gtk_text_buffer_get_tag_table (buffer);
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 0, 6);
  g_assert_true (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "link")));
  link = tern_plain_text_view_get_link (plain_view (pane.view), &iter);
  /* The full stop ends the sentence, not the URL. */
  g_assert_cmpstr (link, ==, "https://example.org/plan?a=1&b=2");
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 0, 1);
  g_assert_false (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "link")));

  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 1, 3);
  g_assert_true (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "quote-1")));
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 2, 5);
  g_assert_true (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "quote-2")));
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 2, 20);
  mailto = tern_plain_text_view_get_link (plain_view (pane.view), &iter);
  g_assert_cmpstr (mailto, ==, "mailto:boris@example.ru");

  /* Other schemes are neither links nor openable. */
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 3, 2);
  g_assert_false (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "link")));
  gtk_text_buffer_get_iter_at_line_offset (buffer, &iter, 3, 25);
  g_assert_false (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "link")));
  g_assert_false (gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (tags, "quote-1")));
  g_assert_true (tern_plain_text_view_uri_is_openable ("https://example.org"));
  g_assert_true (tern_plain_text_view_uri_is_openable ("mailto:a@b"));
  g_assert_false (tern_plain_text_view_uri_is_openable ("javascript:alert(1)"));
  g_assert_false (tern_plain_text_view_uri_is_openable ("file:///etc/passwd"));
  g_assert_false (tern_plain_text_view_uri_is_openable ("cid:x"));

  pane_close (&pane);
}

static char *
html_message (const char *from,
              guint16     port)
{
  return g_strdup_printf (
    "From: %s\r\n"
    "To: ann@example.org\r\n"
    "Subject: Newsletter\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/related; boundary=rel\r\n"
    "\r\n"
    "--rel\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><head><link rel=preconnect href=\"http://127.0.0.1:%u/\">"
    "<LINK REL='dns-prefetch' HREF='//127.0.0.1:%u'>"
    "<style>body { background: url(http://127.0.0.1:%u/background.png) }</style></head>"
    "<body><p>Hello</p><img src=\"cid:logo@tern.test\" alt=\"logo\">"
    "<img src=\"http://127.0.0.1:%u/remote.png\" alt=\"tracker\">"
    "<a href=\"http://127.0.0.1:%u/link\">a link</a></body></html>\r\n"
    "--rel\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@tern.test>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "%s\r\n"
    "--rel--\r\n",
    from, port, port, port, port, port, png_base64);
}

/* Both remote images: once they are in, no load of the page is still on
 * its way to the server (which the next test would count). */
static gboolean
has_request (gpointer data)
{
  return http_server_got (data, "/remote.png") && http_server_got (data, "/background.png");
}

static void
test_remote_content (void)
{
  HttpServer server = { 0 };
  LoadWatch watch = { 0 };
  g_autofree char *raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  Pane pane;

  g_settings_set_strv (settings, "trusted-senders", NULL);
  http_server_start (&server);
  raw = html_message ("News <news@shop.example>", server.port);
  content = content_from_string (raw);
  pane_open (&pane, NULL);
  watch_loads (pane.view, &watch);

  tern_message_view_set_content (pane.view, content);
  tern_test_wait_until (load_finished, &watch, "the HTML body to load");
  tern_test_drain ();
  g_assert_cmpstr (visible_page (pane.view), ==, "html");
  /* The cid: image came from the message... */
  g_assert_cmpuint (watch.parts->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (watch.parts, 0), ==, "cid:logo@tern.test");
  /* The image the body shows is no attachment to open or save. */
  g_assert_false (gtk_widget_get_visible (
    tern_test_find_descendant (GTK_WIDGET (pane.view), TERN_TYPE_ATTACHMENT_BAR)));
  /* ...and nothing, not even a preconnect, reached the network: the load
   * event waits for the images, so a request would have come first. */
  g_assert_cmpuint (server.connections, ==, 0);
  g_assert_true (gtk_revealer_get_reveal_child (remote_banner (pane.view)));

  /* Hovering a link shows where it really goes, whatever its text says. */
  {
    WebKitWebView *inner = WEBKIT_WEB_VIEW (tern_message_web_view_get_web_view (web_view (pane.view)));
    g_autoptr(WebKitHitTestResult) link = g_object_new (WEBKIT_TYPE_HIT_TEST_RESULT,
                                                        "context", WEBKIT_HIT_TEST_RESULT_CONTEXT_LINK,
                                                        "link-uri", "http://evil.example/real",
                                                        "link-label", "https://bank.example",
                                                        NULL);
    g_autoptr(WebKitHitTestResult) text = g_object_new (WEBKIT_TYPE_HIT_TEST_RESULT,
                                                        "context", WEBKIT_HIT_TEST_RESULT_CONTEXT_DOCUMENT,
                                                        NULL);
    GtkWidget *label = NULL;

    g_signal_emit_by_name (inner, "mouse-target-changed", link, 0);
    g_assert_cmpstr (tern_message_web_view_get_hover_uri (web_view (pane.view)), ==,
                     "http://evil.example/real");
    for (GtkWidget *w = gtk_widget_get_first_child (gtk_widget_get_first_child (GTK_WIDGET (web_view (pane.view))));
         w != NULL; w = gtk_widget_get_next_sibling (w))
      if (GTK_IS_LABEL (w))
        label = w;
    g_assert_nonnull (label);
    g_assert_true (gtk_widget_get_visible (label));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, "http://evil.example/real");
    g_signal_emit_by_name (inner, "mouse-target-changed", text, 0);
    g_assert_null (tern_message_web_view_get_hover_uri (web_view (pane.view)));
    g_assert_false (gtk_widget_get_visible (label));
  }

  watch.finished = FALSE;
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.show-remote", NULL);
  tern_test_wait_until (has_request, &server, "the remote image requests");
  tern_test_wait_until (load_finished, &watch, "the HTML body to load again");
  g_assert_false (gtk_revealer_get_reveal_child (remote_banner (pane.view)));
  /* Allowed images load; the preconnect stays removed and the link is not
   * followed. */
  g_assert_false (http_server_got (&server, "/link"));

  /* Links alone are no remote content: no banner for them. */
  {
    g_autofree char *links_raw = g_strdup_printf (
      "From: Friend <friend@example.org>\r\nSubject: links\r\n"
      "Content-Type: text/html; charset=utf-8\r\n\r\n"
      "<p><a href=\"http://127.0.0.1:%u/link\">read more</a></p>\r\n", server.port);
    g_autoptr(TernMessageContent) links = content_from_string (links_raw);

    server.connections = 0;
    watch.finished = FALSE;
    tern_message_view_set_content (pane.view, links);
    tern_test_wait_until (load_finished, &watch, "the links-only body to load");
    g_assert_false (gtk_revealer_get_reveal_child (remote_banner (pane.view)));
    g_assert_cmpuint (server.connections, ==, 0);
  }

  unwatch_loads (pane.view, &watch);
  pane_close (&pane);
  http_server_stop (&server);
}

/* Every way an HTML mail can reach out: nothing before "Show remote
 * content"; afterwards the images and style sheets, and still never a
 * frame, an object, a form, a refresh or a prefetch. */
static const char *const allowed_after[] = {
  "/img.png", "/srcset.png", "/css-url.png", "/import.css", "/background-attr.png", "/svg.png",
};
static const char *const never[] = {
  "/prefetch", "/dns-prefetch", "/preconnect", "/refresh", "/iframe", "/form", "/object",
  "/embed",
};

static gboolean
has_allowed_requests (gpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (allowed_after); i++)
    if (!http_server_got (data, allowed_after[i]))
      return FALSE;
  return TRUE;
}

static void
test_remote_every_way (void)
{
  HttpServer server = { 0 };
  LoadWatch watch = { 0 };
  g_autofree char *raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  Pane pane;

  g_settings_set_strv (settings, "trusted-senders", NULL);
  http_server_start (&server);
  raw = g_strdup_printf (
    "From: Tracker <tracker@shop.example>\r\nSubject: every way\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head>"
    "<meta http-equiv=\"refresh\" content=\"0; url=http://127.0.0.1:%1$u/refresh\">"
    "<link rel=\"prefetch\" href=\"http://127.0.0.1:%1$u/prefetch\">"
    "<link rel=\"dns-prefetch\" href=\"http://127.0.0.1:%1$u/dns-prefetch\">"
    "<link rel=\"preconnect\" href=\"http://127.0.0.1:%1$u/preconnect\">"
    "<style>@import url(http://127.0.0.1:%1$u/import.css);\n"
    "p.t { background-image: url(http://127.0.0.1:%1$u/css-url.png) }</style></head><body>"
    "<p class=\"t\">text</p>"
    "<img src=\"http://127.0.0.1:%1$u/img.png\">"
    "<img srcset=\"http://127.0.0.1:%1$u/srcset.png 1x\">"
    "<table background=\"http://127.0.0.1:%1$u/background-attr.png\"><tr><td>cell</td></tr></table>"
    "<video poster=\"http://127.0.0.1:%1$u/poster.png\"></video>"
    "<svg width=\"10\" height=\"10\"><image href=\"http://127.0.0.1:%1$u/svg.png\" "
    "width=\"10\" height=\"10\"/></svg>"
    "<iframe src=\"http://127.0.0.1:%1$u/iframe\"></iframe>"
    "<form action=\"http://127.0.0.1:%1$u/form\" method=\"get\"><input name=\"q\"></form>"
    "<object data=\"http://127.0.0.1:%1$u/object\"></object>"
    "<embed src=\"http://127.0.0.1:%1$u/embed\">"
    "</body></html>\r\n",
    server.port);
  content = content_from_string (raw);
  pane_open (&pane, NULL);
  watch_loads (pane.view, &watch);

  tern_message_view_set_content (pane.view, content);
  tern_test_wait_until (load_finished, &watch, "the HTML body to load");
  tern_test_drain ();
  g_assert_cmpuint (server.connections, ==, 0);
  g_assert_true (gtk_revealer_get_reveal_child (remote_banner (pane.view)));

  watch.finished = FALSE;
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.show-remote", NULL);
  tern_test_wait_until (has_allowed_requests, &server, "the allowed remote requests");
  tern_test_wait_until (load_finished, &watch, "the HTML body to load again");
  tern_test_drain ();
  http_server_log (&server);
  for (guint i = 0; i < G_N_ELEMENTS (never); i++)
    g_assert_false (http_server_got (&server, never[i]));

  unwatch_loads (pane.view, &watch);
  pane_close (&pane);
  http_server_stop (&server);
}

static void
test_trusted_sender (void)
{
  HttpServer server = { 0 };
  LoadWatch watch = { 0 };
  g_autofree char *raw = NULL;
  g_autofree char *other_raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  g_autoptr(TernMessageContent) other = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APPLICATION_ID);
  g_auto(GStrv) trusted = NULL;
  Pane pane;

  g_settings_set_strv (settings, "trusted-senders", NULL);
  http_server_start (&server);
  raw = html_message ("Friend <friend@example.org>", server.port);
  content = content_from_string (raw);
  other_raw = html_message ("Stranger <stranger@example.net>", server.port);
  other = content_from_string (other_raw);
  pane_open (&pane, NULL);
  watch_loads (pane.view, &watch);

  tern_message_view_set_content (pane.view, content);
  tern_test_wait_until (load_finished, &watch, "the HTML body to load");
  http_server_log (&server);
  g_assert_cmpuint (server.connections, ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.trust-sender", NULL);
  trusted = g_settings_get_strv (settings, "trusted-senders");
  g_assert_cmpstrv (trusted, ((const char *[]) { "friend@example.org", NULL }));
  tern_test_wait_until (has_request, &server, "the remote image requests");

  /* Another sender's mail is still blocked... */
  g_ptr_array_set_size (server.requests, 0);
  server.connections = 0;
  watch.finished = FALSE;
  tern_message_view_set_content (pane.view, other);
  tern_test_wait_until (load_finished, &watch, "the stranger's body to load");
  g_assert_cmpuint (server.connections, ==, 0);
  g_assert_true (gtk_revealer_get_reveal_child (remote_banner (pane.view)));

  /* ...and the trusted sender's loads without asking. */
  tern_message_view_set_content (pane.view, content);
  tern_test_wait_until (has_request, &server, "the trusted sender's image requests");
  g_assert_false (gtk_revealer_get_reveal_child (remote_banner (pane.view)));

  unwatch_loads (pane.view, &watch);
  pane_close (&pane);
  http_server_stop (&server);
  g_settings_set_strv (settings, "trusted-senders", NULL);
}

static void
test_koi8r_override (void)
{
  /* "Привет, мир" in KOI8-R. */
  g_autoptr(TernMessageContent) content = content_from_string (
    "From: =?KOI8-R?B?4s/SydM=?= <boris@example.ru>\r\n"
    "Subject: =?KOI8-R?B?8NLJ18XU?=\r\n"
    "Content-Type: text/plain; charset=koi8-r\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2\r\n");
  g_autofree char *declared = NULL;
  g_autofree char *overridden = NULL;
  g_autofree char *restored = NULL;
  Pane pane;

  g_autoptr(GMenuModel) menu = tern_message_view_new_encoding_menu ();
  g_autoptr(GVariant) automatic = g_menu_model_get_item_attribute_value (menu, 0, G_MENU_ATTRIBUTE_TARGET,
                                                                          G_VARIANT_TYPE_STRING);

  /* The menu's first item is the declared charset, then the others. */
  g_assert_cmpint (g_menu_model_get_n_items (menu), >, 3);
  g_assert_cmpstr (g_variant_get_string (automatic, NULL), ==, "");
  /* A label's "_" is no mnemonic: Shift_JIS reads as Shift_JIS. */
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *label = NULL;
      g_autoptr(GVariant) target = g_menu_model_get_item_attribute_value (
        menu, i, G_MENU_ATTRIBUTE_TARGET, G_VARIANT_TYPE_STRING);

      g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
      if (g_str_equal (g_variant_get_string (target, NULL), "Shift_JIS"))
        g_assert_cmpstr (label, ==, "Shift__JIS");
    }

  pane_open (&pane, NULL);
  tern_message_view_set_content (pane.view, content);
  tern_test_drain ();
  declared = buffer_text (pane.view);
  g_assert_cmpstr (declared, ==, "Привет, мир\n");

  /* View → Encoding through the widget action, as the menu does it.  The
   * message is parsed again on a thread (a big one takes a while): until
   * then the pane shows it as it was. */
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.charset", "s", "windows-1251");
  g_assert_cmpstr (tern_message_view_get_charset (pane.view), ==, "windows-1251");
  overridden = buffer_text (pane.view);
  g_assert_cmpstr (overridden, ==, "Привет, мир\n");
  g_clear_pointer (&overridden, g_free);
  wait_for_text (pane.view, "рТЙЧЕФ, НЙТ\n");

  /* Chosen again before the parse for the first choice ends: the last one
   * is what shows. */
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.charset", "s", "ISO-8859-5");
  gtk_widget_activate_action (GTK_WIDGET (pane.view), "message-view.charset", "s", "");
  wait_for_text (pane.view, "Привет, мир\n");
  g_assert_null (tern_message_view_get_charset (pane.view));
  tern_test_drain ();
  restored = buffer_text (pane.view);
  g_assert_cmpstr (restored, ==, "Привет, мир\n");

  pane_close (&pane);
}

/* Real Dovecot: a body that is not cached is fetched with a spinner;
 * offline the view says so and still shows the headers. */

static gboolean
page_is_not_loading (gpointer data)
{
  return g_strcmp0 (visible_page (data), "loading") != 0;
}

static TernAccount *
add_imap_account (TernContext *context)
{
  g_autoptr(GError) error = NULL;
  const char *user = tern_test_servers_get_user (servers, 0);
  g_autoptr(TernServer) server = tern_server_new (tern_test_servers_get_address (servers,
                                                                                TERN_TEST_CERT_GOOD),
                                                  tern_test_servers_get_port (servers,
                                                                              TERN_TEST_SERVICE_IMAPS),
                                                  TERN_TLS_MODE_IMPLICIT);
  g_autoptr(TernAccount) account = NULL;
  g_autofree char *command = g_strdup_printf ("cat '%s'", password_file);

  server->username = g_strdup (user);
  account = tern_account_new (user, user, TERN_ACCOUNT_PROTOCOL_IMAP, server, NULL);
  tern_account_set_password_command (account, command);
  tern_account_manager_add (tern_context_get_accounts (context), account, NULL, NULL, &error);
  g_assert_no_error (error);
  return account;
}

static gboolean
sync_job (TernWorkerJob  *job,
          gpointer        data,
          GCancellable   *cancellable,
          GError        **error)
{
  return tern_imap_sync_account (data, tern_worker_job_get_account (job), TERN_IMAP_SYNC_BODIES_NONE,
                                 NULL, NULL, NULL, cancellable, error);
}

static void
job_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error);
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *) data;
}

static void
test_fetch_body (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = tern_test_make_tmpdir ("tern-message-view-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  TernContext *context = tern_context_new (profile, &error);
  TernStore *store;
  TernAccount *account;
  g_autoptr(TernMailFolder) inbox = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GBytes) cached = NULL;
  TernMailMessage *first, *second;
  g_autofree char *text = NULL;
  gboolean synced = FALSE;
  Pane pane;

  g_assert_no_error (error);
  store = tern_context_get_store (context);
  tern_context_set_ca_file (context, tern_test_servers_get_ca_file (servers));
  account = add_imap_account (context);
  tern_test_servers_add_messages (servers, tern_test_servers_get_user (servers, 0), NULL, 2, &error);
  g_assert_no_error (error);
  /* Synced as the application does it: a job of the account's worker. */
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, sync_job, context,
                              NULL, job_done_cb, &synced);
  tern_test_wait_until (is_true, &synced, "the sync");
  inbox = tern_mail_store_find_folder_by_role (store, tern_account_get_id (account), "inbox", &error);
  g_assert_no_error (error);
  messages = tern_mail_store_list_messages (store, inbox->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 2);
  first = g_ptr_array_index (messages, 0);
  second = g_ptr_array_index (messages, 1);
  g_assert_false (first->has_body);

  pane_open (&pane, context);
  /* Nothing selected: the placeholder alone, no empty header block. */
  g_assert_cmpstr (visible_page (pane.view), ==, "empty");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (
    GTK_WIDGET (pane.view), TERN_TYPE_MESSAGE_VIEW, "header_box"))));
  tern_message_view_set_message (pane.view, first->id);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (
    GTK_WIDGET (pane.view), TERN_TYPE_MESSAGE_VIEW, "header_box"))));
  /* The store's headers at once, the body behind a spinner. */
  g_assert_cmpstr (visible_page (pane.view), ==, "loading");
  g_assert_true (gtk_spinner_get_spinning (GTK_SPINNER (
    gtk_stack_get_child_by_name (body_stack (pane.view), "loading"))));
  tern_test_wait_until (page_is_not_loading, pane.view, "the body to arrive");
  g_assert_cmpstr (visible_page (pane.view), ==, "plain");
  text = buffer_text (pane.view);
  g_assert_true (g_str_has_prefix (text, "Hello,\n\n"));
  g_assert_false (tern_message_view_is_offline (pane.view));
  cached = tern_mail_store_get_body (store, first->id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cached);

  /* Offline: the other body is not cached and cannot be fetched. */
  tern_test_servers_stop_dovecot (servers, &error);
  g_assert_no_error (error);
  tern_message_view_set_message (pane.view, second->id);
  tern_test_wait_until (page_is_not_loading, pane.view, "the fetch to fail");
  g_assert_cmpstr (visible_page (pane.view), ==, "unavailable");
  g_assert_true (tern_message_view_is_offline (pane.view));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (
                     tern_test_find_descendant (GTK_WIDGET (pane.view), GTK_TYPE_LABEL))),
                   ==, second->subject);
  /* The cached one still shows. */
  tern_message_view_set_message (pane.view, first->id);
  tern_test_wait_until (page_is_not_loading, pane.view, "the cached body");
  g_assert_cmpstr (visible_page (pane.view), ==, "plain");

  pane_close (&pane);
  tern_test_servers_start_dovecot (servers, &error);
  g_assert_no_error (error);
  tern_worker_pool_cancel_account (tern_context_get_worker_pool (context), account);
  tern_test_drain ();
  g_assert_finalize_object (context);
  tern_test_remove_tree (dir);
}

/* Open writes to a private directory, under a name that cannot climb out
 * of it or hide. */
static void
store_result_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
has_result (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

/* A cached body is read off the main thread: here the cached file is a
 * FIFO (tern_test_fifo_new()), whose open() waits for a writer; the pane
 * must show the headers and its spinner at once. */
static void
test_cached_off_main (void)
{
  g_autofree char *dir = tern_test_make_tmpdir ("tern-message-view-XXXXXX");
  g_autofree char *profile = g_build_filename (dir, "profile", NULL);
  g_autofree char *path = g_build_filename (profile, "bodies", "piped.eml", NULL);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(TernMailMessage) row = NULL;
  g_autoptr(GError) error = NULL;
  TernContext *context = tern_context_new (profile, &error);
  TernTestFifo *fifo;
  TernStore *store;
  gint64 folder;
  Pane pane;

  g_assert_no_error (error);
  store = tern_context_get_store (context);
  tern_test_store_add_account (store, 1);
  folder = tern_test_store_add_folder (store, 1, "INBOX");
  g_ptr_array_add (batch, tern_test_new_message (1, 1700000000, "ann", "Piped", NULL));
  tern_test_store_add_messages (store, folder, batch);
  row = tern_mail_store_find_message (store, folder, 1, &error);
  g_assert_no_error (error);
  tern_mail_store_set_body (store, row->id, NULL, "bodies/piped.eml", 100, &error);
  g_assert_no_error (error);

  pane_open (&pane, context);
  fifo = tern_test_fifo_new (path);
  tern_message_view_set_message (pane.view, row->id);
  tern_test_fifo_returned (fifo);
  g_assert_cmpstr (visible_page (pane.view), ==, "loading");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (
                     tern_test_find_descendant (GTK_WIDGET (pane.view), GTK_TYPE_LABEL))),
                   ==, "Piped");
  /* What the worker read is no message (a pipe cannot be mapped): the
   * pane says so rather than spinning on, or asking the server. */
  tern_test_wait_until (page_is_not_loading, pane.view, "the read to end");
  g_assert_false (tern_test_fifo_free (fifo));
  g_assert_cmpstr (visible_page (pane.view), ==, "unavailable");

  pane_close (&pane);
  tern_test_drain ();
  g_assert_finalize_object (context);
  tern_test_remove_tree (dir);
}

static void
test_attachment_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) dir = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInfo) dir_info = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  gsize length;
  TernMessageAttachment attachment = { 0 };
  static const struct { const char *in, *out; } names[] = {
    { "report.pdf", "report.pdf" },
    { "../../.bashrc", "bashrc" },
    { "/etc/passwd", "passwd" },
    { "a\\b\nc.txt", "a_b_c.txt" },
    { "..", "attachment" },
    { "", "attachment" },
    { "отчёт.pdf", "отчёт.pdf" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *safe = tern_attachment_bar_safe_filename (names[i].in);

      g_assert_cmpstr (safe, ==, names[i].out);
    }

  attachment.filename = (char *) "../notes.txt";
  attachment.content_type = (char *) "text/plain";
  attachment.data = g_bytes_new_static ("secret notes", 12);
  file = tern_attachment_bar_write_temporary (&attachment, &error);
  g_assert_no_error (error);
  name = g_file_get_basename (file);
  g_assert_cmpstr (name, ==, "notes.txt");
  g_file_load_contents (file, NULL, &contents, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, length, "secret notes", 12);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_UNIX_MODE, G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_UNIX_MODE) & 0777, ==, 0600);
  dir = g_file_get_parent (file);
  dir_info = g_file_query_info (dir, G_FILE_ATTRIBUTE_UNIX_MODE, G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_file_info_get_attribute_uint32 (dir_info, G_FILE_ATTRIBUTE_UNIX_MODE) & 0777, ==, 0700);
  g_file_delete (file, NULL, NULL);
  g_file_delete (dir, NULL, NULL);
  g_bytes_unref (attachment.data);

  /* Save As keeps the data alive while it writes: the view may drop the
   * message (another one opened) right after the click. */
  {
    gsize size = 256 * 1024;
    char *pattern = g_malloc (size);
    g_autofree char *saved = NULL;
    g_autofree char *dir_path = tern_test_make_tmpdir ("tern-save-as-XXXXXX");
    g_autofree char *path = g_build_filename (dir_path, "report.bin", NULL);
    g_autoptr(GFile) target = g_file_new_for_path (path);
    g_autoptr(GAsyncResult) result = NULL;
    gsize saved_size;

    for (gsize i = 0; i < size; i++)
      pattern[i] = (char) ('a' + i % 26);
    attachment.filename = (char *) "report.bin";
    attachment.content_type = (char *) "application/octet-stream";
    attachment.data = g_bytes_new_take (pattern, size);
    tern_attachment_bar_save_async (&attachment, target, store_result_cb, &result);
    g_clear_pointer (&attachment.data, g_bytes_unref);
    tern_test_wait_until (has_result, &result, "Save As to end");
    g_assert_true (tern_attachment_bar_save_finish (target, result, &error));
    g_assert_no_error (error);
    g_file_get_contents (path, &saved, &saved_size, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (saved_size, ==, size);
    for (gsize i = 0; i < size; i++)
      if (saved[i] != (char) ('a' + i % 26))
        g_error ("byte %" G_GSIZE_FORMAT " of the saved attachment is %d", i, saved[i]);
    tern_test_remove_tree (dir_path);
  }
}

/* A realistic message, for the eyes and for the screenshot. */
static void
test_realistic (void)
{
  g_autofree char *raw = g_strdup_printf (
    "From: =?UTF-8?B?0JHQvtGA0LjRgSDQodC80LjRgNC90L7Qsg==?= <boris@example.ru>\r\n"
    "To: Ann Example <ann@example.org>, team@example.org\r\n"
    "Cc: Carol <carol@example.org>\r\n"
    "Date: Tue, 3 Mar 2026 10:24:00 +0100\r\n"
    "Subject: Re: Launch checklist for Thursday\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=mix\r\n"
    "\r\n"
    "--mix\r\n"
    "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
    "\r\n"
    "Hi Ann,\r\n"
    "\r\n"
    "The release notes are attached; the press kit is at \r\n"
    "https://example.org/press-kit and the screenshots are in the shared \r\n"
    "folder.\r\n"
    "\r\n"
    "> Can we move the announcement to 10:00 so that Europe is awake?\r\n"
    ">\r\n"
    ">> The blog post is ready; the mailing list goes out after it.\r\n"
    "\r\n"
    "Yes, 10:00 works. I will ping the mirrors at 9:30.\r\n"
    "\r\n"
    "-- \r\n"
    "Boris\r\n"
    "--mix\r\n"
    "Content-Type: application/pdf; name=\"release-notes.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"release-notes.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==\r\n"
    "--mix\r\n"
    "Content-Type: image/png; name=\"checklist.png\"\r\n"
    "Content-Disposition: attachment; filename=\"checklist.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "%s\r\n"
    "--mix--\r\n",
    png_base64);
  g_autoptr(TernMessageContent) content = content_from_string (raw);
  const char *screenshot = g_getenv ("TERN_TEST_SCREENSHOT");
  Pane pane;

  pane_open (&pane, NULL);
  tern_message_view_set_content (pane.view, content);
  tern_test_drain ();
  g_assert_cmpstr (visible_page (pane.view), ==, "plain");
  g_assert_cmpuint (tern_message_content_get_attachments (content)->len, ==, 2);
  g_assert_true (gtk_widget_get_visible (
    tern_test_find_descendant (GTK_WIDGET (pane.view), TERN_TYPE_ATTACHMENT_BAR)));
  if (screenshot != NULL)
    {
      g_autoptr(GError) error = NULL;
      /* No window manager maximizes under Xvfb: the window's corner. */
      const char *argv[] = { "import", "-window", "root", "-crop", "900x700+0+0", "+repage",
                             screenshot, NULL };
      gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;

      /* Let the frame clock paint before ImageMagick reads the screen. */
      while (g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, FALSE);
      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                    &error);
      g_assert_no_error (error);
    }
  pane_close (&pane);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();

  servers = tern_test_servers_start (&error);
  g_assert_no_error (error);
  password_file = g_build_filename (tern_test_servers_get_dir (servers), "password", NULL);
  g_file_set_contents (password_file, tern_test_servers_get_password (servers, 0), -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/tern/ui/message-view/plain-quotes-links", test_plain_quotes_links);
  g_test_add_func ("/tern/ui/message-view/remote-content", test_remote_content);
  g_test_add_func ("/tern/ui/message-view/remote-every-way", test_remote_every_way);
  g_test_add_func ("/tern/ui/message-view/trusted-sender", test_trusted_sender);
  g_test_add_func ("/tern/ui/message-view/cached-off-main", test_cached_off_main);
  g_test_add_func ("/tern/ui/message-view/koi8r-override", test_koi8r_override);
  g_test_add_func ("/tern/ui/message-view/fetch-body", test_fetch_body);
  g_test_add_func ("/tern/ui/message-view/attachment-files", test_attachment_files);
  g_test_add_func ("/tern/ui/message-view/realistic", test_realistic);

  status = g_test_run ();
  tern_test_servers_free (servers);
  g_free (password_file);
  return status;
}
