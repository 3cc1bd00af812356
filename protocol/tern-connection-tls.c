/* tern-connection-tls.c: the GnuTLS session of a TernConnection, certificate
 * verification, pinning, and the messages a user sees when it fails.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-connection"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "tern-connection-private.h"

/* TLS 1.2 is the floor: older versions have known attacks, and every mail
 * server that matters speaks 1.2 by now. */
#define TERN_TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)

/* Transport: GnuTLS reads and writes through the GSocket, so timeouts and
 * cancellation behave as for clear text.  A failure keeps GIO's error for
 * the caller and tells GnuTLS only that it failed. */

static void
stash_transport_error (TernConnection *self,
                       GError         *transport_error)
{
  g_clear_error (&self->transport_error);
  self->transport_error = transport_error;
  gnutls_transport_set_errno (self->session, EIO);
}

static ssize_t
push_cb (gnutls_transport_ptr_t  ptr,
         const void             *data,
         size_t                  len)
{
  TernConnection *self = ptr;
  GError *local_error = NULL;
  gssize sent;

  sent = g_socket_send (self->socket, data, len, self->io_cancellable, &local_error);
  if (sent < 0)
    stash_transport_error (self, local_error);

  return sent;
}

#define TLS_IN_SIZE (32 * 1024)

static gssize
receive (TernConnection *self,
         void           *data,
         gsize           len)
{
  GError *local_error = NULL;
  gssize got;

  got = g_socket_receive (self->socket, data, len, self->io_cancellable, &local_error);
  if (got < 0)
    stash_transport_error (self, local_error);
  else if (got == 0)
    self->transport_eof = TRUE;
  return got;
}

static ssize_t
pull_cb (gnutls_transport_ptr_t  ptr,
         void                   *data,
         size_t                  len)
{
  TernConnection *self = ptr;
  gsize n;

  if (self->tls_in_start == self->tls_in_end)
    {
      gssize got;

      /* As much as the socket has: what GnuTLS asks next is likely there. */
      if (len >= TLS_IN_SIZE)
        return receive (self, data, len);
      if (self->tls_in == NULL)
        self->tls_in = g_malloc (TLS_IN_SIZE);
      got = receive (self, self->tls_in, TLS_IN_SIZE);
      if (got <= 0)
        return got;
      self->tls_in_start = 0;
      self->tls_in_end = got;
    }
  n = MIN (len, self->tls_in_end - self->tls_in_start);
  memcpy (data, self->tls_in + self->tls_in_start, n);
  self->tls_in_start += n;
  return n;
}

gboolean
_tern_connection_tls_has_input (TernConnection *self)
{
  return self->session != NULL && (self->tls_in_start < self->tls_in_end ||
                                   gnutls_record_check_pending (self->session) > 0);
}

/* GnuTLS asks this when it wants to wait for data with a time limit of its
 * own; the default would treat our pointer as a file descriptor. */
static int
pull_timeout_cb (gnutls_transport_ptr_t ptr,
                 unsigned int           ms)
{
  TernConnection *self = ptr;
  GError *local_error = NULL;
  gint64 timeout_us;

  if (self->tls_in_start < self->tls_in_end)
    return 1;
  if (ms == 0)
    return (g_socket_condition_check (self->socket, G_IO_IN) & G_IO_IN) != 0;

  timeout_us = ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (gint64) ms * 1000;
  if (g_socket_condition_timed_wait (self->socket, G_IO_IN, timeout_us,
                                     self->io_cancellable, &local_error))
    return 1;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_error_free (local_error);
      return 0;
    }

  stash_transport_error (self, local_error);
  return -1;
}

/* The presented certificate */

void
_tern_connection_clear_peer (TernConnection *self)
{
  g_clear_pointer (&self->peer_der, g_bytes_unref);
  g_clear_pointer (&self->peer_fingerprint, g_free);
  g_clear_pointer (&self->peer_description, g_free);
  self->verify_status = 0;
  self->peer_verified = FALSE;
}

static char *
format_time (time_t when)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (when);

  return date != NULL ? g_date_time_format (date, "%Y-%m-%d") : g_strdup ("?");
}

static char *
get_dn (gnutls_x509_crt_t crt,
        gboolean          issuer)
{
  gnutls_datum_t dn = { NULL, 0 };
  char *result;
  int ret;

  ret = issuer ? gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0)
               : gnutls_x509_crt_get_dn3 (crt, &dn, 0);
  if (ret < 0)
    return g_strdup ("(unknown)");

  result = g_strndup ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  return result;
}

static void
append_san (GPtrArray         *names,
            int                type,
            const char        *data,
            gsize              size)
{
  g_autoptr(GInetAddress) address = NULL;

  if (type == GNUTLS_SAN_DNSNAME)
    g_ptr_array_add (names, g_strndup (data, size));
  else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16))
    {
      address = g_inet_address_new_from_bytes ((const guint8 *) data,
                                               size == 4 ? G_SOCKET_FAMILY_IPV4
                                                         : G_SOCKET_FAMILY_IPV6);
      g_ptr_array_add (names, g_inet_address_to_string (address));
    }
}

/* The names the certificate is valid for: DNS and IP subjectAltNames, or
 * the common name when there are none (as RFC 6125 allows old ones). */
static char *
get_names (gnutls_x509_crt_t crt)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_null_terminated (4, g_free, TRUE);

  for (guint i = 0;; i++)
    {
      char data[512];
      size_t size = sizeof data - 1;
      int type = gnutls_x509_crt_get_subject_alt_name (crt, i, data, &size, NULL);

      if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        break;
      if (type >= 0)
        append_san (names, type, data, size);
    }

  if (names->len == 0)
    {
      char cn[256];
      size_t size = sizeof cn;

      if (gnutls_x509_crt_get_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                         cn, &size) == 0)
        g_ptr_array_add (names, g_strdup (cn));
    }

  if (names->len == 0)
    return g_strdup ("no name");

  return g_strjoinv (", ", (char **) names->pdata);
}

static char *
describe (gnutls_x509_crt_t  crt,
          const char        *fingerprint)
{
  g_autofree char *subject = get_dn (crt, FALSE);
  g_autofree char *issuer = get_dn (crt, TRUE);
  g_autofree char *names = get_names (crt);
  g_autofree char *from = format_time (gnutls_x509_crt_get_activation_time (crt));
  g_autofree char *until = format_time (gnutls_x509_crt_get_expiration_time (crt));

  return g_strdup_printf (_("Subject: %s\nIssuer: %s\nNames: %s\n"
                            "Valid from %s until %s\nSHA-256: %s"),
                          subject, issuer, names, from, until, fingerprint);
}

static gboolean
remember_peer (TernConnection       *self,
               const gnutls_datum_t *der)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;

  if (gnutls_x509_crt_init (&crt) < 0 ||
      gnutls_x509_crt_import (crt, der, GNUTLS_X509_FMT_DER) < 0)
    return FALSE;

  self->peer_der = g_bytes_new (der->data, der->size);
  self->peer_fingerprint = tern_fingerprint_from_der (der->data, der->size);
  self->peer_description = describe (crt, self->peer_fingerprint);
  return TRUE;
}

/* Trust
 *
 * A certificate is accepted when it is the one the user pinned for this
 * host and port, or when its chain verifies, for this host, against the
 * system's authorities together with the connection's CA file.  Parsing
 * the system store costs 10-14 ms, so: connections with neither a CA file
 * nor a pin share credentials that hold it, parsed once per process; the
 * others have credentials of their own, which get the system store only
 * when the pin or the CA file alone did not decide. */

static int verify_cb (gnutls_session_t session);

/* Never freed: sessions of any thread use them until the process exits.
 * GnuTLS allows sharing credentials between sessions once they are no
 * longer modified; they are complete before g_once_init_leave(). */
static gnutls_certificate_credentials_t
get_system_credentials (void)
{
  static gsize initialized;
  static gnutls_certificate_credentials_t credentials;

  if (g_once_init_enter (&initialized))
    {
      int ret;

      if (gnutls_certificate_allocate_credentials (&credentials) < 0)
        g_error ("out of memory");

      /* The system store may legitimately be empty (containers). */
      ret = gnutls_certificate_set_x509_system_trust (credentials);
      if (ret < 0)
        g_debug ("No system trust store: %s", gnutls_strerror (ret));

      gnutls_certificate_set_verify_function (credentials, verify_cb);
      g_once_init_leave (&initialized, 1);
    }

  return credentials;
}

/* The chain of the session's peer against the trust of the session's
 * credentials; the host per RFC 6125 (DNS names, IP literals against IP
 * subjectAltNames); and, when the certificate restricts its purpose, that
 * TLS servers are among them.  Returns gnutls_certificate_status_t bits. */
static guint
verify_chain (TernConnection *self)
{
  unsigned int status = 0;
  gnutls_typed_vdata_st checks[] = {
    { GNUTLS_DT_DNS_HOSTNAME, (unsigned char *) self->host, 0 },
    { GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *) GNUTLS_KP_TLS_WWW_SERVER, 0 },
  };

  if (gnutls_certificate_verify_peers (self->session, checks, G_N_ELEMENTS (checks), &status) < 0)
    status = GNUTLS_CERT_INVALID;
  return status;
}

/* GnuTLS documents read-only use of credentials as thread-safe, except
 * (gnutls#1212) a trust list backed by a PKCS#11 trust module, as the
 * system store is on some distributions.  Verifying takes well under a
 * millisecond: connections that share the system's take turns. */
static GMutex system_verify_lock;

static guint
check_trust (TernConnection *self)
{
  guint status;
  int ret;

  if (self->credentials == NULL)
    {
      g_mutex_lock (&system_verify_lock);
      status = verify_chain (self);
      g_mutex_unlock (&system_verify_lock);
      return status;
    }

  /* A chain that verifies against the CA file alone verifies against the
   * CA file and the system store together. */
  if (self->ca_file != NULL && !self->system_trust_loaded && verify_chain (self) == 0)
    return 0;

  /* The credentials are this connection's: no other session reads them
   * while they grow. */
  if (!self->system_trust_loaded)
    {
      ret = gnutls_certificate_set_x509_system_trust (self->credentials);
      if (ret < 0)
        g_debug ("No system trust store: %s", gnutls_strerror (ret));
      self->system_trust_loaded = TRUE;
    }

  return verify_chain (self);
}

/* Decides on the certificate the session's peer presented, in this
 * handshake or, for a resumed session, in the one it resumes. */
static gboolean
verify_peer (TernConnection *self)
{
  const gnutls_datum_t *chain;
  unsigned int chain_len = 0;

  _tern_connection_clear_peer (self);

  chain = gnutls_certificate_get_peers (self->session, &chain_len);
  if (chain == NULL || chain_len == 0 || !remember_peer (self, &chain[0]))
    return FALSE;

  /* The certificate the user accepted is accepted whether its chain
   * verifies or not: the pin decides alone. */
  if (self->pinned_fingerprint == NULL ||
      strcmp (self->pinned_fingerprint, self->peer_fingerprint) != 0)
    {
      self->verify_status = check_trust (self);
      if (self->verify_status != 0)
        return FALSE;
    }

  self->peer_verified = TRUE;
  return TRUE;
}

/* Called by GnuTLS once the server's certificate has arrived, so a refused
 * certificate aborts the handshake before any application data.  A chain
 * that does not verify is accepted only when its leaf is the very
 * certificate the user accepted for this host and port. */
static int
verify_cb (gnutls_session_t session)
{
  TernConnection *self = gnutls_session_get_ptr (session);

  return verify_peer (self) ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

/* Session resumption
 *
 * The last session ticket of each server, for the process, so that the
 * second connection to it (IDLE beside a sync, a send after a sync) skips
 * the certificate exchange and the key agreement's signature.  A ticket is
 * only offered under the settings that accepted its session: the key holds
 * everything that decides which certificate is accepted (host, which is
 * also the SNI, port, CA file, pin).  A resumed session carries the
 * certificate of the session it resumes; it is verified again, against the
 * trust of now, before the handshake counts as done. */

static GMutex tickets_lock;
static GHashTable *tickets;  /* resume key -> GBytes of gnutls_session_get_data2() */

static char *
make_resume_key (TernConnection *self)
{
  return g_strdup_printf ("%s\n%u\n%s\n%s", self->host, self->port,
                          self->ca_file != NULL ? self->ca_file : "",
                          self->pinned_fingerprint != NULL ? self->pinned_fingerprint : "");
}

static GBytes *
lookup_ticket (const char *key)
{
  GBytes *ticket = NULL;

  g_mutex_lock (&tickets_lock);
  if (tickets != NULL)
    ticket = g_hash_table_lookup (tickets, key);
  if (ticket != NULL)
    g_bytes_ref (ticket);
  g_mutex_unlock (&tickets_lock);
  return ticket;
}

/* Takes @ticket; NULL forgets the key's. */
static void
store_ticket (const char *key,
              GBytes     *ticket)
{
  g_mutex_lock (&tickets_lock);
  if (tickets == NULL)
    tickets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) g_bytes_unref);
  if (ticket != NULL)
    g_hash_table_replace (tickets, g_strdup (key), ticket);
  else
    g_hash_table_remove (tickets, key);
  g_mutex_unlock (&tickets_lock);
}

static void
remember_session (TernConnection *self)
{
  gnutls_datum_t data = { NULL, 0 };

  if (!self->peer_verified || gnutls_session_get_data2 (self->session, &data) < 0)
    return;

  store_ticket (self->resume_key, g_bytes_new (data.data, data.size));
  gnutls_free (data.data);
}

/* TLS 1.3 tickets come after the handshake, with the first records read;
 * a TLS 1.2 ticket comes inside the handshake, and its session is only
 * complete when the handshake is (see _tern_connection_tls_handshake()). */
static int
ticket_hook (gnutls_session_t      session,
             unsigned int          htype,
             unsigned int          when,
             unsigned int          incoming,
             const gnutls_datum_t *msg)
{
  TernConnection *self = gnutls_session_get_ptr (session);

  if (htype == GNUTLS_HANDSHAKE_NEW_SESSION_TICKET && when == GNUTLS_HOOK_POST && incoming &&
      gnutls_protocol_get_version (session) == GNUTLS_TLS1_3)
    remember_session (self);
  return 0;
}

/* Error messages */

/* @sentence names the server and what is wrong; the fingerprint follows, so
 * that the user can compare it with what the server's owner publishes. */
static void
set_cert_error (TernConnection     *self,
                GError            **error,
                TernConnectionError code,
                const char         *sentence)
{
  g_autofree char *fingerprint = g_strdup_printf (_("Its SHA-256 fingerprint is %s."),
                                                  self->peer_fingerprint);

  g_set_error (error, TERN_CONNECTION_ERROR, code, "%s %s", sentence, fingerprint);
}

static void
set_cert_error_printf (TernConnection     *self,
                       GError            **error,
                       TernConnectionError code,
                       const char         *format,
                       ...) G_GNUC_PRINTF (4, 5);

static void
set_cert_error_printf (TernConnection     *self,
                       GError            **error,
                       TernConnectionError code,
                       const char         *format,
                       ...)
{
  g_autofree char *sentence = NULL;
  va_list args;

  va_start (args, format);
  sentence = g_strdup_vprintf (format, args);
  va_end (args);
  set_cert_error (self, error, code, sentence);
}

static void
set_untrusted_error (TernConnection     *self,
                     gnutls_x509_crt_t   crt,
                     GError            **error)
{
  g_autofree char *issuer = get_dn (crt, TRUE);

  if (gnutls_x509_crt_check_issuer (crt, crt))
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                           _("The certificate of %s is self-signed, not signed by a trusted "
                             "authority (issuer: %s)."),
                           self->label, issuer);
  else
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                           _("The certificate of %s is not signed by a trusted authority "
                             "(issuer: %s)."),
                           self->label, issuer);
}

static void
set_time_error (TernConnection     *self,
                gnutls_x509_crt_t   crt,
                gboolean            expired,
                GError            **error)
{
  g_autofree char *date = NULL;

  if (expired)
    {
      date = format_time (gnutls_x509_crt_get_expiration_time (crt));
      set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_EXPIRED,
                             _("The certificate of %s expired on %s."), self->label, date);
    }
  else
    {
      date = format_time (gnutls_x509_crt_get_activation_time (crt));
      set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_NOT_YET_VALID,
                             _("The certificate of %s is not valid before %s."), self->label,
                             date);
    }
}

static void
set_identity_error (TernConnection     *self,
                    gnutls_x509_crt_t   crt,
                    GError            **error)
{
  g_autofree char *names = get_names (crt);

  set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_BAD_IDENTITY,
                         _("The certificate of %s is for %s, not %s."), self->label, names,
                         self->host);
}

/* When several things are wrong, the most fundamental one is named: a
 * certificate nobody vouches for is untrusted before it is expired. */
static void
set_verify_error (TernConnection  *self,
                  GError         **error)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;
  gnutls_datum_t der;
  guint status = self->verify_status;

  der.data = (unsigned char *) g_bytes_get_data (self->peer_der, NULL);
  der.size = g_bytes_get_size (self->peer_der);
  gnutls_x509_crt_init (&crt);
  gnutls_x509_crt_import (crt, &der, GNUTLS_X509_FMT_DER);

  if (self->pinned_fingerprint != NULL)
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_PIN_MISMATCH,
                           _("The certificate of %s is not the one you accepted for it: it may "
                             "have been replaced by the server’s owner, or by an attacker."),
                           self->label);
  else if (status & GNUTLS_CERT_REVOKED)
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_REVOKED,
                           _("The certificate of %s has been revoked by its issuer."),
                           self->label);
  else if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
    set_untrusted_error (self, crt, error);
  else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_INSECURE,
                           _("The certificate of %s is signed with an insecure algorithm."),
                           self->label);
  else if (status & GNUTLS_CERT_EXPIRED)
    set_time_error (self, crt, TRUE, error);
  else if (status & GNUTLS_CERT_NOT_ACTIVATED)
    set_time_error (self, crt, FALSE, error);
  else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
    set_identity_error (self, crt, error);
  else if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                           _("The certificate of %s is not issued for use by a server."),
                           self->label);
  else
    set_cert_error_printf (self, error, TERN_CONNECTION_ERROR_CERT_UNTRUSTED,
                           _("The certificate of %s could not be verified."), self->label);
}

static gboolean
is_version_error (TernConnection *self,
                  int             ret)
{
  if (ret == GNUTLS_E_UNSUPPORTED_VERSION_PACKET)
    return TRUE;

  return ret == GNUTLS_E_FATAL_ALERT_RECEIVED &&
         gnutls_alert_get (self->session) == GNUTLS_A_PROTOCOL_VERSION;
}

static void
set_handshake_error (TernConnection  *self,
                     int              ret,
                     GError         **error)
{
  if (self->transport_error != NULL)
    _tern_connection_set_io_error (self, g_steal_pointer (&self->transport_error),
                                   TERN_IO_PHASE_HANDSHAKE, error);
  else if (self->peer_der != NULL && !self->peer_verified)
    set_verify_error (self, error);
  else if (is_version_error (self, ret))
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_VERSION_TOO_OLD,
                 _("%s only offers TLS versions older than 1.2, which are no longer secure"),
                 self->label);
  /* CLOSED, as when the transport reports it: a connection cut during the
   * handshake is an outage to retry, not a refusal (the outbox would fail
   * the message for good). */
  else if (self->transport_eof)
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                 _("%s closed the connection during the TLS handshake"), self->label);
  else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_HANDSHAKE_FAILED,
                 _("The TLS handshake with %s failed: the server reported “%s”"),
                 self->label, gnutls_alert_get_name (gnutls_alert_get (self->session)));
  else
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_HANDSHAKE_FAILED,
                 _("The TLS handshake with %s failed: %s"),
                 self->label, gnutls_strerror (ret));
}

/* Session setup */

/* Credentials of this connection's own, for a CA file or a pin: the
 * system store is added only if they do not decide (check_trust()). */
static gboolean
load_credentials (TernConnection  *self,
                  GError         **error)
{
  if (gnutls_certificate_allocate_credentials (&self->credentials) < 0)
    g_error ("out of memory");
  self->system_trust_loaded = FALSE;

  if (self->ca_file != NULL &&
      gnutls_certificate_set_x509_trust_file (self->credentials, self->ca_file,
                                              GNUTLS_X509_FMT_PEM) <= 0)
    {
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TLS_HANDSHAKE_FAILED,
                   _("No certificate authority could be read from %s"), self->ca_file);
      return FALSE;
    }

  gnutls_certificate_set_verify_function (self->credentials, verify_cb);
  return TRUE;
}

static gboolean
create_session (TernConnection  *self,
                GError         **error)
{
  gnutls_certificate_credentials_t credentials;
  g_autoptr(GBytes) ticket = NULL;

  if (self->ca_file == NULL && self->pinned_fingerprint == NULL)
    credentials = get_system_credentials ();
  else if (load_credentials (self, error))
    credentials = self->credentials;
  else
    return FALSE;

  if (gnutls_init (&self->session, GNUTLS_CLIENT) < 0)
    g_error ("out of memory");
  self->tls_in_start = self->tls_in_end = 0;

  gnutls_priority_set_direct (self->session, TERN_TLS_PRIORITY, NULL);
  gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, credentials);
  /* SNI is for names only (RFC 6066 §3). */
  if (!g_hostname_is_ip_address (self->host))
    gnutls_server_name_set (self->session, GNUTLS_NAME_DNS, self->host, strlen (self->host));

  gnutls_session_set_ptr (self->session, self);
  gnutls_transport_set_ptr (self->session, self);
  gnutls_transport_set_push_function (self->session, push_cb);
  gnutls_transport_set_pull_function (self->session, pull_cb);
  gnutls_transport_set_pull_timeout_function (self->session, pull_timeout_cb);
  /* The socket's own timeout bounds each wait. */
  gnutls_handshake_set_timeout (self->session, 0);

  self->resume_key = make_resume_key (self);
  ticket = lookup_ticket (self->resume_key);
  if (ticket != NULL &&
      gnutls_session_set_data (self->session, g_bytes_get_data (ticket, NULL),
                               g_bytes_get_size (ticket)) < 0)
    store_ticket (self->resume_key, NULL);
  gnutls_handshake_set_hook_function (self->session, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                      GNUTLS_HOOK_POST, ticket_hook);
  return TRUE;
}

void
_tern_connection_tls_free (TernConnection *self)
{
  g_clear_pointer (&self->session, gnutls_deinit);
  g_clear_pointer (&self->tls_in, g_free);
  self->tls_in_start = self->tls_in_end = 0;
  g_clear_pointer (&self->credentials, gnutls_certificate_free_credentials);
  g_clear_pointer (&self->tls_description, g_free);
  g_clear_pointer (&self->resume_key, g_free);
}

static void
begin_io (TernConnection *self,
          GCancellable   *cancellable)
{
  g_clear_error (&self->transport_error);
  self->transport_eof = FALSE;
  self->io_cancellable = cancellable;
}

gboolean
_tern_connection_tls_handshake (TernConnection  *self,
                                GCancellable    *cancellable,
                                GError         **error)
{
  char *description;
  int ret;

  _tern_connection_clear_peer (self);
  if (!create_session (self, error))
    {
      _tern_connection_drop (self);
      return FALSE;
    }

  begin_io (self, cancellable);
  do
    ret = gnutls_handshake (self->session);
  while (ret < 0 && !gnutls_error_is_fatal (ret));
  self->io_cancellable = NULL;

  /* A resumed session brought no certificate to the verify callback: the
   * one of the session it resumes must still be accepted now. */
  if (ret == 0 && gnutls_session_is_resumed (self->session))
    verify_peer (self);

  /* Belt and braces: a handshake without a verified certificate (anonymous
   * suites are not in our priority string) must never count as secure. */
  if (ret == 0 && !self->peer_verified)
    ret = GNUTLS_E_CERTIFICATE_ERROR;

  if (ret < 0)
    {
      store_ticket (self->resume_key, NULL);
      set_handshake_error (self, ret, error);
      _tern_connection_drop (self);
      return FALSE;
    }

  if (gnutls_protocol_get_version (self->session) != GNUTLS_TLS1_3)
    remember_session (self);

  description = gnutls_session_get_desc (self->session);
  self->tls_description = g_strdup (description);
  gnutls_free (description);
  return TRUE;
}

/* Record I/O */

static void
set_record_error (TernConnection  *self,
                  int              ret,
                  TernIoPhase      phase,
                  GError         **error)
{
  if (self->transport_error != NULL)
    _tern_connection_set_io_error (self, g_steal_pointer (&self->transport_error),
                                   phase, error);
  /* Cut in the middle of a record: GnuTLS calls that a decoding error,
   * the user should hear that the connection was closed. */
  else if (self->transport_eof)
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                 _("%s closed the connection"), self->label);
  else
    g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED,
                 _("TLS error on the connection to %s: %s"),
                 self->label, gnutls_strerror (ret));
}

/* Returns 0 when the server closed, with or without close_notify: mail
 * protocols detect truncation themselves (tagged replies, "." lines). */
gssize
_tern_connection_tls_recv (TernConnection  *self,
                           void            *buffer,
                           gsize            n,
                           GCancellable    *cancellable,
                           GError         **error)
{
  ssize_t ret;

  begin_io (self, cancellable);
  do
    ret = gnutls_record_recv (self->session, buffer, n);
  while (ret < 0 && !gnutls_error_is_fatal ((int) ret));
  self->io_cancellable = NULL;

  if (ret >= 0 || (ret == GNUTLS_E_PREMATURE_TERMINATION && self->transport_error == NULL))
    return ret < 0 ? 0 : ret;

  set_record_error (self, (int) ret, TERN_IO_PHASE_RECEIVING, error);
  return -1;
}

gssize
_tern_connection_tls_send (TernConnection  *self,
                           const void      *data,
                           gsize            n,
                           GCancellable    *cancellable,
                           GError         **error)
{
  ssize_t ret;

  begin_io (self, cancellable);
  do
    ret = gnutls_record_send (self->session, data, n);
  while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
  self->io_cancellable = NULL;

  if (ret >= 0)
    return ret;

  set_record_error (self, (int) ret, TERN_IO_PHASE_SENDING, error);
  return -1;
}

void
_tern_connection_tls_bye (TernConnection *self,
                          GCancellable   *cancellable)
{
  begin_io (self, cancellable);
  gnutls_bye (self->session, GNUTLS_SHUT_WR);
  self->io_cancellable = NULL;
  g_clear_error (&self->transport_error);
}
