/* tern-connection.c: TCP connection, read buffer, line and literal I/O.
 *
 * The TLS half (session, verification, pinning) is in tern-connection-tls.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-connection"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "tern-connection-private.h"

G_DEFINE_ENUM_TYPE (TernTlsMode, tern_tls_mode,
                    G_DEFINE_ENUM_VALUE (TERN_TLS_MODE_IMPLICIT, "implicit"),
                    G_DEFINE_ENUM_VALUE (TERN_TLS_MODE_STARTTLS, "starttls"),
                    G_DEFINE_ENUM_VALUE (TERN_TLS_MODE_PLAIN, "plain"))

G_DEFINE_FINAL_TYPE (TernConnection, tern_connection, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_MODE,
  PROP_CA_FILE,
  PROP_PINNED_FINGERPRINT,
  PROP_CONNECT_TIMEOUT,
  PROP_IO_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* g_set_str() arrived in GLib 2.76. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
tern_connection_constructed (GObject *object)
{
  TernConnection *self = TERN_CONNECTION (object);

  G_OBJECT_CLASS (tern_connection_parent_class)->constructed (object);

  /* An IPv6 literal needs brackets, or "::1:993" reads as an address. */
  if (strchr (self->host, ':') != NULL)
    self->label = g_strdup_printf ("[%s]:%u", self->host, self->port);
  else
    self->label = g_strdup_printf ("%s:%u", self->host, self->port);
}

static void
tern_connection_finalize (GObject *object)
{
  TernConnection *self = TERN_CONNECTION (object);

  _tern_connection_drop (self);
  _tern_connection_clear_peer (self);
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->pinned_fingerprint, g_free);
  g_clear_pointer (&self->rbuf, g_free);
  g_clear_pointer (&self->wbuf, g_byte_array_unref);

  G_OBJECT_CLASS (tern_connection_parent_class)->finalize (object);
}

static void
tern_connection_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TernConnection *self = TERN_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_PINNED_FINGERPRINT:
      g_value_set_string (value, self->pinned_fingerprint);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_IO_TIMEOUT:
      g_value_set_uint (value, self->io_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_connection_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TernConnection *self = TERN_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      self->host = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = (guint16) g_value_get_uint (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_CA_FILE:
      tern_connection_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_PINNED_FINGERPRINT:
      tern_connection_set_pinned_fingerprint (self, g_value_get_string (value));
      break;
    case PROP_CONNECT_TIMEOUT:
      tern_connection_set_connect_timeout (self, g_value_get_uint (value));
      break;
    case PROP_IO_TIMEOUT:
      tern_connection_set_io_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_connection_class_init (TernConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  const GParamFlags setting = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = tern_connection_constructed;
  object_class->finalize = tern_connection_finalize;
  object_class->get_property = tern_connection_get_property;
  object_class->set_property = tern_connection_set_property;

  properties[PROP_HOST] =
    g_param_spec_string ("host", NULL, NULL, NULL, construct);
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 1, G_MAXUINT16, 1, construct);
  properties[PROP_MODE] =
    g_param_spec_enum ("mode", NULL, NULL, TERN_TYPE_TLS_MODE,
                       TERN_TLS_MODE_IMPLICIT, construct);
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL, setting);
  properties[PROP_PINNED_FINGERPRINT] =
    g_param_spec_string ("pinned-fingerprint", NULL, NULL, NULL, setting);
  properties[PROP_CONNECT_TIMEOUT] =
    g_param_spec_uint ("connect-timeout", NULL, NULL, 0, G_MAXUINT,
                       TERN_CONNECTION_DEFAULT_TIMEOUT, setting | G_PARAM_CONSTRUCT);
  properties[PROP_IO_TIMEOUT] =
    g_param_spec_uint ("io-timeout", NULL, NULL, 0, G_MAXUINT,
                       TERN_CONNECTION_DEFAULT_TIMEOUT, setting | G_PARAM_CONSTRUCT);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_connection_init (TernConnection *self)
{
  self->rbuf = g_malloc (TERN_CONNECTION_BUFFER_SIZE);
  self->wbuf = g_byte_array_new ();
}

TernConnection *
tern_connection_new (const char  *host,
                     guint16      port,
                     TernTlsMode  mode)
{
  g_return_val_if_fail (host != NULL && *host != '\0', NULL);
  g_return_val_if_fail (port != 0, NULL);

  return g_object_new (TERN_TYPE_CONNECTION,
                       "host", host,
                       "port", (guint) port,
                       "mode", mode,
                       NULL);
}

/* Settings */

void
tern_connection_set_ca_file (TernConnection *self,
                             const char     *ca_file)
{
  g_return_if_fail (TERN_IS_CONNECTION (self));

  if (set_str (&self->ca_file, ca_file))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CA_FILE]);
}

const char *
tern_connection_get_ca_file (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->ca_file;
}

/* The pin is stored canonical so that comparing it with the presented
 * certificate is a plain string comparison. */
void
tern_connection_set_pinned_fingerprint (TernConnection *self,
                                        const char     *fingerprint)
{
  g_autofree char *canonical = NULL;

  g_return_if_fail (TERN_IS_CONNECTION (self));

  if (fingerprint != NULL)
    {
      canonical = tern_fingerprint_normalize (fingerprint);
      g_return_if_fail (canonical != NULL);
    }

  if (set_str (&self->pinned_fingerprint, canonical))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED_FINGERPRINT]);
}

const char *
tern_connection_get_pinned_fingerprint (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->pinned_fingerprint;
}

void
tern_connection_set_connect_timeout (TernConnection *self,
                                     guint           seconds)
{
  g_return_if_fail (TERN_IS_CONNECTION (self));

  if (self->connect_timeout == seconds)
    return;

  self->connect_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECT_TIMEOUT]);
}

guint
tern_connection_get_connect_timeout (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), 0);

  return self->connect_timeout;
}

void
tern_connection_set_io_timeout (TernConnection *self,
                                guint           seconds)
{
  g_return_if_fail (TERN_IS_CONNECTION (self));

  if (self->io_timeout == seconds)
    return;

  self->io_timeout = seconds;
  if (self->socket != NULL)
    g_socket_set_timeout (self->socket, seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IO_TIMEOUT]);
}

guint
tern_connection_get_io_timeout (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), 0);

  return self->io_timeout;
}

/* Getters */

const char *
tern_connection_get_host (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->host;
}

guint16
tern_connection_get_port (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), 0);

  return self->port;
}

const char *
tern_connection_get_label (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->label;
}

TernTlsMode
tern_connection_get_mode (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), TERN_TLS_MODE_PLAIN);

  return self->mode;
}

gboolean
tern_connection_is_connected (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  return self->socket != NULL;
}

gboolean
tern_connection_is_tls (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  return self->session != NULL && self->tls_description != NULL;
}

const char *
tern_connection_get_tls_description (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->tls_description;
}

gboolean
tern_connection_is_resumed (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  return tern_connection_is_tls (self) && gnutls_session_is_resumed (self->session);
}

const char *
tern_connection_get_peer_fingerprint (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->peer_fingerprint;
}

GBytes *
tern_connection_get_peer_certificate_der (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->peer_der;
}

const char *
tern_connection_get_peer_description (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  return self->peer_description;
}

/* Errors */

/* Turns a GIO error from the socket into our domain, naming the server.
 * Cancellation passes through unchanged.  Takes @io_error. */
void
_tern_connection_set_io_error (TernConnection  *self,
                               GError          *io_error,
                               TernIoPhase      phase,
                               GError         **error)
{
  g_autoptr(GError) owned = io_error;
  gboolean handshake = phase == TERN_IO_PHASE_HANDSHAKE;

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&owned));
  else if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT,
                 handshake
                 ? g_dngettext (GETTEXT_PACKAGE,
                                "%s did not answer within %u second during the TLS handshake",
                                "%s did not answer within %u seconds during the TLS handshake",
                                self->io_timeout)
                 : g_dngettext (GETTEXT_PACKAGE,
                                "%s did not answer within %u second",
                                "%s did not answer within %u seconds",
                                self->io_timeout),
                 self->label, self->io_timeout);
  else if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                 handshake ? _("%s closed the connection during the TLS handshake")
                           : _("%s closed the connection"),
                 self->label);
  else
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED,
                 phase == TERN_IO_PHASE_RECEIVING ? _("Receiving from %s failed: %s")
                 : phase == TERN_IO_PHASE_SENDING ? _("Sending to %s failed: %s")
                                                  : _("The TLS handshake with %s failed: %s"),
                 self->label, owned->message);
}

static gboolean
fail_not_connected (TernConnection  *self,
                    GError         **error)
{
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
               _("Not connected to %s"), self->label);
  return FALSE;
}

/* Connecting and closing */

/* Forgets the socket and TLS state without any I/O: used after errors,
 * when the protocol state is unknown and nothing more may be exchanged. */
static void free_compression (TernConnection *self);

void
_tern_connection_drop (TernConnection *self)
{
  free_compression (self);
  _tern_connection_tls_free (self);
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->socket);
  g_clear_object (&self->connection);
  g_clear_error (&self->transport_error);
  self->rbuf_start = self->rbuf_end = 0;
  g_byte_array_set_size (self->wbuf, 0);
}

static void
map_connect_error (TernConnection  *self,
                   GError          *connect_error,
                   GError         **error)
{
  g_autoptr(GError) owned = connect_error;

  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&owned));
  else if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT,
                 g_dngettext (GETTEXT_PACKAGE, "Connecting to %s timed out after %u second",
                              "Connecting to %s timed out after %u seconds",
                              self->connect_timeout),
                 self->label, self->connect_timeout);
  else
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED,
                 _("Could not connect to %s: %s"), self->label, owned->message);
}

/* Mail protocols write a command and wait for its answer; without
 * TCP_NODELAY each small write can wait ~40 ms for the peer's delayed ACK. */
static void
set_nodelay (TernConnection *self)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_socket_set_option (self->socket, IPPROTO_TCP, TCP_NODELAY, 1, &local_error))
    g_debug ("TCP_NODELAY on %s: %s", self->label, local_error->message);
}

gboolean
tern_connection_connect (TernConnection  *self,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (self->socket == NULL, FALSE);

  _tern_connection_clear_peer (self);
  self->data_in = self->data_out = self->wire_in = self->wire_out = 0;

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, self->connect_timeout);
  /* Proxies configured for the web must not see mail traffic. */
  g_socket_client_set_enable_proxy (client, FALSE);
  address = g_network_address_new (self->host, self->port);

  self->connection = g_socket_client_connect (client, address, cancellable, &local_error);
  if (self->connection == NULL)
    {
      map_connect_error (self, local_error, error);
      return FALSE;
    }

  self->socket = g_object_ref (g_socket_connection_get_socket (self->connection));
  g_socket_set_timeout (self->socket, self->io_timeout);
  set_nodelay (self);

  if (self->mode == TERN_TLS_MODE_IMPLICIT)
    return _tern_connection_tls_handshake (self, cancellable, error);

  return TRUE;
}

/* TRUE when the peer has already sent bytes we have not read.  Only a
 * non-blocking peek: nothing may be consumed or written here. */
static gboolean
socket_has_input (TernConnection *self)
{
  char byte;

  if ((g_socket_condition_check (self->socket, G_IO_IN) & G_IO_IN) == 0)
    return FALSE;

  return recv (g_socket_get_fd (self->socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Bytes that arrive between the server's go-ahead and the TLS handshake
 * came in clear, possibly from an attacker (CVE-2011-0411 and friends);
 * anything acting on them would treat forged data as protected.  So they
 * are never read as TLS or protocol data: the connection is closed. */
gboolean
tern_connection_start_tls (TernConnection  *self,
                           GCancellable    *cancellable,
                           GError         **error)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (self->mode == TERN_TLS_MODE_STARTTLS, FALSE);
  g_return_val_if_fail (self->session == NULL, FALSE);
  g_return_val_if_fail (self->wbuf->len == 0, FALSE);
  g_return_val_if_fail (self->inflater == NULL, FALSE);

  if (self->socket == NULL)
    return fail_not_connected (self, error);

  if (self->rbuf_end > self->rbuf_start || socket_has_input (self))
    {
      _tern_connection_drop (self);
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_STARTTLS_INJECTION,
                   _("%s sent data after agreeing to start TLS and before the encryption "
                     "began; it may have been injected by an attacker, so the connection was "
                     "closed"),
                   self->label);
      return FALSE;
    }

  return _tern_connection_tls_handshake (self, cancellable, error);
}

/* A polite close: TLS close_notify, then the socket.  The TLS goodbye is
 * best effort, as the server has often closed already (after LOGOUT). */
gboolean
tern_connection_close (TernConnection  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  if (self->socket == NULL)
    return TRUE;

  if (tern_connection_is_tls (self))
    _tern_connection_tls_bye (self, cancellable);

  _tern_connection_drop (self);
  return TRUE;
}

/* Reading */

/* Reads whatever TLS or the socket delivers, at most @n bytes; 0 means
 * the peer closed. */
static gssize
transport_recv (TernConnection  *self,
          void            *buffer,
          gsize            n,
          GCancellable    *cancellable,
          GError         **error)
{
  GError *local_error = NULL;
  gssize got;

  if (self->session != NULL)
    got = _tern_connection_tls_recv (self, buffer, n, cancellable, error);
  else if ((got = g_socket_receive (self->socket, buffer, n, cancellable, &local_error)) < 0)
    _tern_connection_set_io_error (self, local_error, TERN_IO_PHASE_RECEIVING, error);

  if (got > 0)
    self->wire_in += (guint64) got;
  return got;
}

static gssize inflate_recv (TernConnection  *self,
                            void            *buffer,
                            gsize            n,
                            GCancellable    *cancellable,
                            GError         **error);

/* Reads whatever arrives, at most @n bytes, inflated when compression is
 * on; 0 means the peer closed. */
static gssize
raw_recv (TernConnection  *self,
          void            *buffer,
          gsize            n,
          GCancellable    *cancellable,
          GError         **error)
{
  gssize got;

  if (self->inflater != NULL)
    got = inflate_recv (self, buffer, n, cancellable, error);
  else
    got = transport_recv (self, buffer, n, cancellable, error);

  if (got > 0)
    self->data_in += (guint64) got;
  return got;
}

/* Reads more bytes into the buffer, which must be empty.  Any failure,
 * including the peer closing, drops the connection. */
static gboolean
fill_buffer (TernConnection  *self,
             GCancellable    *cancellable,
             GError         **error)
{
  gssize got;

  g_assert (self->rbuf_start == self->rbuf_end);

  if (self->socket == NULL)
    return fail_not_connected (self, error);

  self->rbuf_start = self->rbuf_end = 0;
  got = raw_recv (self, self->rbuf, TERN_CONNECTION_BUFFER_SIZE, cancellable, error);
  if (got > 0)
    {
      self->rbuf_end = (gsize) got;
      return TRUE;
    }

  if (got == 0)
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                 _("%s closed the connection"), self->label);
  _tern_connection_drop (self);
  return FALSE;
}

static gsize
buffered (TernConnection *self)
{
  return self->rbuf_end - self->rbuf_start;
}

/* Once a line (or a chunk of a literal) has begun, all of it must come
 * within this many I/O timeouts: the I/O timeout alone would let a server
 * that sends a byte just before each one hold the session forever. */
#define TRICKLE_TIMEOUTS 3

static gboolean
check_trickle (TernConnection  *self,
               gint64           started,
               GError         **error)
{
  guint seconds = self->io_timeout * TRICKLE_TIMEOUTS;

  if (self->io_timeout == 0 || started == 0 ||
      g_get_monotonic_time () - started <= (gint64) seconds * G_USEC_PER_SEC)
    return TRUE;
  _tern_connection_drop (self);
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT,
               g_dngettext (GETTEXT_PACKAGE,
                            "%s sent its answer too slowly (a line took more than %u second)",
                            "%s sent its answer too slowly (a line took more than %u seconds)",
                            seconds),
               self->label, seconds);
  return FALSE;
}

/* A line too long for the caller would make us buffer without bound; the
 * rest of it is unread, so the connection is unusable and dropped. */
static gboolean
fail_line_too_long (TernConnection  *self,
                    gsize            max_len,
                    GError         **error)
{
  _tern_connection_drop (self);
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_LINE_TOO_LONG,
               g_dngettext (GETTEXT_PACKAGE, "%s sent a line longer than %lu byte",
                            "%s sent a line longer than %lu bytes", max_len),
               self->label, (unsigned long) max_len);
  return FALSE;
}

/* Puts the next line into @line without its LF or CRLF (a line may
 * contain NUL bytes).  Memory stays within @max_len plus one buffer. */
gboolean
tern_connection_read_line_into (TernConnection  *self,
                                GByteArray      *line,
                                gsize            max_len,
                                GCancellable    *cancellable,
                                GError         **error)
{
  gint64 started = 0;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (line != NULL, FALSE);

  g_byte_array_set_size (line, 0);
  for (;;)
    {
      const guint8 *start;
      const guint8 *newline;
      gsize take;

      if (buffered (self) == 0 &&
          (!check_trickle (self, started, error) || !fill_buffer (self, cancellable, error)))
        return FALSE;

      start = self->rbuf + self->rbuf_start;
      newline = memchr (start, '\n', buffered (self));
      take = newline != NULL ? (gsize) (newline - start) : buffered (self);
      g_byte_array_append (line, start, take);
      self->rbuf_start += take;

      if (newline != NULL)
        break;
      /* The line goes on past what came: from now on the rest must come
       * in time.  Not asked for a line found whole in the buffer (most
       * are: a POP3 message is read a line at a time). */
      if (started == 0)
        started = g_get_monotonic_time ();

      /* One byte of slack: it may be the CR of a CRLF.  Written so that
       * max_len = G_MAXSIZE cannot overflow. */
      if (line->len > max_len && line->len - max_len > 1)
        return fail_line_too_long (self, max_len, error);
    }

  self->rbuf_start++;  /* the LF */
  if (line->len > 0 && line->data[line->len - 1] == '\r')
    g_byte_array_set_size (line, line->len - 1);
  if (line->len > max_len)
    return fail_line_too_long (self, max_len, error);
  return TRUE;
}

char *
tern_connection_read_line (TernConnection  *self,
                           gsize            max_len,
                           gsize           *len_out,
                           GCancellable    *cancellable,
                           GError         **error)
{
  g_autoptr(GByteArray) line = g_byte_array_new ();

  g_return_val_if_fail (TERN_IS_CONNECTION (self), NULL);

  if (!tern_connection_read_line_into (self, line, max_len, cancellable, error))
    return NULL;
  if (len_out != NULL)
    *len_out = line->len;
  g_byte_array_append (line, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&line), FALSE);
}

gboolean
tern_connection_read_exact (TernConnection  *self,
                            void            *buffer,
                            gsize            n,
                            GCancellable    *cancellable,
                            GError         **error)
{
  guint8 *out = buffer;
  gint64 started = 0;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (buffer != NULL || n == 0, FALSE);

  while (n > 0)
    {
      gsize take;

      if (buffered (self) == 0 &&
          (!check_trickle (self, started, error) || !fill_buffer (self, cancellable, error)))
        return FALSE;
      if (started == 0)
        started = g_get_monotonic_time ();

      take = MIN (n, buffered (self));
      memcpy (out, self->rbuf + self->rbuf_start, take);
      self->rbuf_start += take;
      out += take;
      n -= take;
    }

  return TRUE;
}

/* Streams @n bytes (a message body, say) to @stream one buffer at a time,
 * so a large literal never needs to fit in memory. */
gboolean
tern_connection_read_to_stream (TernConnection  *self,
                                GOutputStream   *stream,
                                gsize            n,
                                GCancellable    *cancellable,
                                GError         **error)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);

  while (n > 0)
    {
      gsize take;

      if (buffered (self) == 0 && !fill_buffer (self, cancellable, error))
        return FALSE;

      take = MIN (n, buffered (self));
      if (!g_output_stream_write_all (stream, self->rbuf + self->rbuf_start, take,
                                      NULL, cancellable, error))
        {
          /* The rest of the literal is unread: the connection is lost. */
          _tern_connection_drop (self);
          return FALSE;
        }
      self->rbuf_start += take;
      n -= take;
    }

  return TRUE;
}

/* Writing */

static gboolean
transport_send_all (TernConnection  *self,
          const guint8    *data,
          gsize            n,
          GCancellable    *cancellable,
          GError         **error)
{
  while (n > 0)
    {
      GError *local_error = NULL;
      gssize sent;

      if (self->session != NULL)
        sent = _tern_connection_tls_send (self, data, n, cancellable, error);
      else if ((sent = g_socket_send (self->socket, (const char *) data, n,
                                      cancellable, &local_error)) < 0)
        _tern_connection_set_io_error (self, local_error, TERN_IO_PHASE_SENDING, error);

      if (sent < 0)
        {
          _tern_connection_drop (self);
          return FALSE;
        }
      self->wire_out += (guint64) sent;
      data += sent;
      n -= (gsize) sent;
    }

  return TRUE;
}

static gboolean deflate_send_all (TernConnection  *self,
                                  const guint8    *data,
                                  gsize            n,
                                  GCancellable    *cancellable,
                                  GError         **error);

static gboolean
send_all (TernConnection  *self,
          const guint8    *data,
          gsize            n,
          GCancellable    *cancellable,
          GError         **error)
{
  self->data_out += n;
  if (self->deflater != NULL)
    return deflate_send_all (self, data, n, cancellable, error);

  return transport_send_all (self, data, n, cancellable, error);
}

/* Appends to the write queue without any I/O: pipelined commands queued
 * this way leave in as few TCP segments and TLS records as possible. */
void
tern_connection_queue (TernConnection *self,
                       const void     *data,
                       gsize           n)
{
  g_return_if_fail (TERN_IS_CONNECTION (self));
  g_return_if_fail (data != NULL || n == 0);

  g_byte_array_append (self->wbuf, data, n);
}

gboolean
tern_connection_flush (TernConnection  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  gboolean ok;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  if (self->socket == NULL)
    return fail_not_connected (self, error);
  if (self->wbuf->len == 0)
    return TRUE;

  ok = send_all (self, self->wbuf->data, self->wbuf->len, cancellable, error);

  /* Commands may carry a password (LOGIN, AUTHENTICATE PLAIN): no copy
   * outlives the send. */
  explicit_bzero (self->wbuf->data, self->wbuf->len);

  /* Do not keep the memory of a large upload for the connection's life. */
  if (self->wbuf->len > TERN_CONNECTION_BUFFER_SIZE * 4)
    {
      g_byte_array_unref (self->wbuf);
      self->wbuf = g_byte_array_new ();
    }
  else
    g_byte_array_set_size (self->wbuf, 0);

  return ok;
}

/* Sends the queue, if any, and @data. */
gboolean
tern_connection_write_all (TernConnection  *self,
                           const void      *data,
                           gsize            n,
                           GCancellable    *cancellable,
                           GError         **error)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (data != NULL || n == 0, FALSE);

  if (self->socket == NULL)
    return fail_not_connected (self, error);

  if (self->wbuf->len > 0)
    {
      tern_connection_queue (self, data, n);
      return tern_connection_flush (self, cancellable, error);
    }

  return send_all (self, data, n, cancellable, error);
}

/* Compression (RFC 4978) */

static void
free_compression (TernConnection *self)
{
  if (self->inflater != NULL)
    {
      inflateEnd (self->inflater);
      g_clear_pointer (&self->inflater, g_free);
    }
  if (self->deflater != NULL)
    {
      deflateEnd (self->deflater);
      g_clear_pointer (&self->deflater, g_free);
    }
  g_clear_pointer (&self->zin, g_free);
  g_clear_pointer (&self->zout, g_free);
  self->inflate_pending = FALSE;
  self->inflate_ended = FALSE;
}

static gboolean
fail_compression (TernConnection  *self,
                  GError         **error)
{
  free_compression (self);
  g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED,
               _("Compression could not be started on the connection to %s"),
               self->label);
  return FALSE;
}

gboolean
tern_connection_start_compression (TernConnection  *self,
                                   GError         **error)
{
  gsize carried;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (self->inflater == NULL, FALSE);
  g_return_val_if_fail (self->wbuf->len == 0, FALSE);

  if (self->socket == NULL)
    return fail_not_connected (self, error);

  self->inflater = g_new0 (z_stream, 1);
  self->deflater = g_new0 (z_stream, 1);
  self->zin = g_malloc (TERN_CONNECTION_BUFFER_SIZE);
  self->zout = g_malloc (TERN_CONNECTION_BUFFER_SIZE);

  /* Negative window bits: raw deflate, no zlib header, as RFC 4978 says. */
  if (inflateInit2 (self->inflater, -15) != Z_OK)
    {
      g_clear_pointer (&self->inflater, g_free);
      return fail_compression (self, error);
    }
  if (deflateInit2 (self->deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                    Z_DEFAULT_STRATEGY) != Z_OK)
    {
      g_clear_pointer (&self->deflater, g_free);
      return fail_compression (self, error);
    }

  /* What the server sent after its OK is compressed already. */
  carried = buffered (self);
  memcpy (self->zin, self->rbuf + self->rbuf_start, carried);
  self->inflater->next_in = self->zin;
  self->inflater->avail_in = (uInt) carried;
  self->rbuf_start = self->rbuf_end = 0;

  return TRUE;
}

gboolean
tern_connection_is_compressed (TernConnection *self)
{
  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  return self->inflater != NULL;
}

void
tern_connection_get_byte_counts (TernConnection *self,
                                 guint64        *data_in,
                                 guint64        *data_out,
                                 guint64        *wire_in,
                                 guint64        *wire_out)
{
  g_return_if_fail (TERN_IS_CONNECTION (self));

  if (data_in != NULL)
    *data_in = self->data_in;
  if (data_out != NULL)
    *data_out = self->data_out;
  if (wire_in != NULL)
    *wire_in = self->wire_in;
  if (wire_out != NULL)
    *wire_out = self->wire_out;
}

/* Inflates into @buffer, reading compressed bytes as needed; returns as
 * soon as anything was produced.  Memory stays at the two fixed buffers
 * and zlib's window, however much the data expands. */
static gssize
inflate_recv (TernConnection  *self,
              void            *buffer,
              gsize            n,
              GCancellable    *cancellable,
              GError         **error)
{
  z_stream *z = self->inflater;

  if (self->inflate_ended)
    return 0;

  for (;;)
    {
      gsize produced;
      int ret;

      /* With output still pending inside zlib, inflate before reading: the
       * server may have nothing more to send until we answer. */
      if (z->avail_in == 0 && !self->inflate_pending)
        {
          gssize got = transport_recv (self, self->zin, TERN_CONNECTION_BUFFER_SIZE,
                                       cancellable, error);
          if (got <= 0)
            return got;
          z->next_in = self->zin;
          z->avail_in = (uInt) got;
        }

      z->next_out = buffer;
      z->avail_out = (uInt) MIN (n, G_MAXUINT32);
      ret = inflate (z, Z_SYNC_FLUSH);
      produced = MIN (n, G_MAXUINT32) - z->avail_out;
      self->inflate_pending = z->avail_out == 0;

      if (ret == Z_STREAM_END)
        {
          self->inflate_ended = TRUE;
          return (gssize) produced;
        }
      if (ret != Z_OK && ret != Z_BUF_ERROR)
        {
          g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED,
                       _("%s sent compressed data that cannot be decompressed"),
                       self->label);
          return -1;
        }
      if (produced > 0)
        return (gssize) produced;
    }
}

/* Deflates @data and ends with a sync flush, so that the server can
 * decompress and act on everything sent so far. */
static gboolean
deflate_send_all (TernConnection  *self,
                  const guint8    *data,
                  gsize            n,
                  GCancellable    *cancellable,
                  GError         **error)
{
  z_stream *z = self->deflater;

  do
    {
      gsize chunk = MIN (n, TERN_CONNECTION_BUFFER_SIZE * 4);

      z->next_in = (Bytef *) data;
      z->avail_in = (uInt) chunk;
      data += chunk;
      n -= chunk;

      do
        {
          gsize have;
          int ret;

          z->next_out = self->zout;
          z->avail_out = TERN_CONNECTION_BUFFER_SIZE;
          ret = deflate (z, n == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
          if (ret != Z_OK && ret != Z_BUF_ERROR)
            {
              _tern_connection_drop (self);
              g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED,
                           _("Compressing data for %s failed"), self->label);
              return FALSE;
            }

          have = TERN_CONNECTION_BUFFER_SIZE - z->avail_out;
          if (have > 0 && !transport_send_all (self, self->zout, have, cancellable, error))
            return FALSE;
        }
      while (z->avail_out == 0 || z->avail_in > 0);
    }
  while (n > 0);

  return TRUE;
}

/* Waiting */

/* Inflates compressed bytes already received into the empty read buffer,
 * without reading: TRUE when that produced data. */
static gboolean
inflate_buffered (TernConnection *self)
{
  z_stream *z = self->inflater;
  int ret;

  if (z == NULL || (z->avail_in == 0 && !self->inflate_pending) || self->inflate_ended)
    return FALSE;

  self->rbuf_start = self->rbuf_end = 0;
  z->next_out = self->rbuf;
  z->avail_out = TERN_CONNECTION_BUFFER_SIZE;
  ret = inflate (z, Z_SYNC_FLUSH);
  self->inflate_pending = z->avail_out == 0;
  self->rbuf_end = TERN_CONNECTION_BUFFER_SIZE - z->avail_out;
  self->data_in += self->rbuf_end;
  if (ret == Z_STREAM_END)
    self->inflate_ended = TRUE;

  /* A corrupt stream is reported by the next read. */
  return self->rbuf_end > 0 || (ret != Z_OK && ret != Z_BUF_ERROR);
}

gboolean
tern_connection_wait_readable (TernConnection  *self,
                               gint             timeout_ms,
                               GCancellable    *cancellable,
                               GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean ready;

  g_return_val_if_fail (TERN_IS_CONNECTION (self), FALSE);

  if (self->socket == NULL)
    return fail_not_connected (self, error);

  if (buffered (self) > 0 || inflate_buffered (self))
    return TRUE;
  if (_tern_connection_tls_has_input (self))
    return TRUE;

  /* The socket's I/O timeout would cut a long wait short. */
  g_socket_set_timeout (self->socket, 0);
  ready = g_socket_condition_timed_wait (self->socket, G_IO_IN,
                                         timeout_ms < 0 ? -1 : (gint64) timeout_ms * 1000,
                                         cancellable, &local_error);
  g_socket_set_timeout (self->socket, self->io_timeout);
  if (ready)
    return TRUE;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return FALSE;

  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* Fingerprints */

char *
tern_fingerprint_normalize (const char *fingerprint)
{
  g_autoptr(GString) out = g_string_sized_new (96);
  guint digits = 0;

  g_return_val_if_fail (fingerprint != NULL, NULL);

  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p) || digits == 64)
        return NULL;
      if (digits > 0 && digits % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (*p));
      digits++;
    }

  if (digits != 64)
    return NULL;

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
tern_fingerprint_from_der (const guint8 *der,
                           gsize         len)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (checksum, der, len);
  return tern_fingerprint_normalize (g_checksum_get_string (checksum));
}
