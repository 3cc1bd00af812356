/* tern-sasl.c: SASL client through libgsasl.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-sasl"

#include "config.h"

#include "tern-sasl.h"
#include "tern-sasl-private.h"

#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <gsasl.h>
#include <string.h>

struct _TernSasl
{
  GObject parent_instance;

  char *label;
  char *username;
  char *password;  /* zeroed before it is freed */

  /* Owned libgsasl state, NULL until tern_sasl_start() */
  Gsasl *context;
  Gsasl_session *session;
  char *mechanism;
  gboolean complete;
  guint64 refused_iterations;  /* a SCRAM count past MAX_SCRAM_ITERATIONS */
};

G_DEFINE_FINAL_TYPE (TernSasl, tern_sasl, G_TYPE_OBJECT)

G_DEFINE_QUARK (tern-sasl-error-quark, tern_sasl_error)

/* Best first.  SCRAM never sends the password and proves the server knows
 * it; PLAIN and LOGIN send it (only ever inside TLS, or on a connection
 * the user chose to run in clear); CRAM-MD5 is last because it forces the
 * server to store the password in clear. */
static const char * const preference[] = {
  "SCRAM-SHA-256", "PLAIN", "LOGIN", "CRAM-MD5", NULL
};

static void
clear_secret (char **secret)
{
  if (*secret != NULL)
    {
      explicit_bzero (*secret, strlen (*secret));
      g_clear_pointer (secret, g_free);
    }
}

static void
tern_sasl_finalize (GObject *object)
{
  TernSasl *self = TERN_SASL (object);

  g_clear_pointer (&self->session, gsasl_finish);
  g_clear_pointer (&self->context, gsasl_done);
  clear_secret (&self->password);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->mechanism, g_free);

  G_OBJECT_CLASS (tern_sasl_parent_class)->finalize (object);
}

static void
tern_sasl_class_init (TernSaslClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_sasl_finalize;
}

static void
tern_sasl_init (TernSasl *self)
{
}

TernSasl *
tern_sasl_new (const char *server_label,
               const char *username,
               const char *password)
{
  TernSasl *self;

  g_return_val_if_fail (server_label != NULL, NULL);
  g_return_val_if_fail (username != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  self = g_object_new (TERN_TYPE_SASL, NULL);
  self->label = g_strdup (server_label);
  self->username = g_strdup (username);
  self->password = g_strdup (password);
  return self;
}

gboolean
_tern_sasl_salted_password (const char *mechanism,
                            const char *password,
                            const char *salt_base64,
                            guint       iterations,
                            char      **hex)
{
  gnutls_mac_algorithm_t mac;
  guchar key[32];
  gsize key_length;
  g_autofree guchar *salt = NULL;
  gsize salt_length = 0;
  char *prepared = NULL;
  gnutls_datum_t password_datum;
  gnutls_datum_t salt_datum;
  gnutls_datum_t key_datum;
  size_t hex_size;
  int ret;

  if (g_ascii_strcasecmp (mechanism, "SCRAM-SHA-256") == 0)
    mac = GNUTLS_MAC_SHA256, key_length = 32;
  else if (g_ascii_strcasecmp (mechanism, "SCRAM-SHA-1") == 0)
    mac = GNUTLS_MAC_SHA1, key_length = 20;
  else
    return FALSE;
  if (iterations == 0 || salt_base64 == NULL || password == NULL)
    return FALSE;

  /* RFC 5802: Hi (Normalize (password), salt, i), Normalize being
   * SASLprep, as libgsasl applies it. */
  if (gsasl_saslprep (password, GSASL_ALLOW_UNASSIGNED, &prepared, NULL) != GSASL_OK)
    return FALSE;
  salt = g_base64_decode (salt_base64, &salt_length);
  password_datum = (gnutls_datum_t) { (guchar *) prepared, strlen (prepared) };
  salt_datum = (gnutls_datum_t) { salt, salt_length };
  ret = gnutls_pbkdf2 (mac, &password_datum, &salt_datum, iterations, key, key_length);
  explicit_bzero (prepared, strlen (prepared));
  gsasl_free (prepared);
  if (ret < 0)
    return FALSE;

  key_datum = (gnutls_datum_t) { key, key_length };
  hex_size = 2 * key_length + 1;
  *hex = g_malloc (hex_size);
  ret = gnutls_hex_encode (&key_datum, *hex, &hex_size);
  explicit_bzero (key, sizeof key);
  if (ret < 0)
    g_clear_pointer (hex, g_free);
  return ret >= 0;
}

/* RFC 7677 asks for at least 4,096 rounds; servers use 4,096 to some tens
 * of thousands.  The count is the server's to choose, and every round is
 * our CPU: past a million (about a quarter of a second here) the sign-in
 * fails instead of a thread spinning for minutes or hours. */
#define MAX_SCRAM_ITERATIONS 1000000

/* SCRAM's salted password, Hi () of RFC 5802: 4,096 rounds of HMAC at
 * Dovecot's setting.  libgsasl computes it with a hash of its own in plain
 * C, two thirds of the instructions of a whole no-change resync; GnuTLS
 * (nettle) does the same rounds with the CPU's SHA instructions.  libgsasl
 * asks for this property once it has the server's salt and count, and
 * computes the value itself if we decline. */
static int
salted_password (Gsasl_session *session)
{
  TernSasl *self = gsasl_session_hook_get (session);
  const char *iterations = gsasl_property_fast (session, GSASL_SCRAM_ITER);
  const char *salt = gsasl_property_fast (session, GSASL_SCRAM_SALT);
  guint64 count = 0;
  char *hex = NULL;
  int ret;

  if (self == NULL || iterations == NULL ||
      !g_ascii_string_to_unsigned (iterations, 10, 1, G_MAXUINT64, &count, NULL))
    return GSASL_NO_CALLBACK;
  if (count > MAX_SCRAM_ITERATIONS)
    {
      /* Without a password libgsasl cannot compute it either: the step
       * fails, and set_gsasl_error() says why. */
      self->refused_iterations = count;
      gsasl_property_set (session, GSASL_PASSWORD, NULL);
      return GSASL_NO_CALLBACK;
    }
  if (!_tern_sasl_salted_password (self->mechanism, self->password, salt, (guint) count, &hex))
    return GSASL_NO_CALLBACK;
  ret = gsasl_property_set (session, GSASL_SCRAM_SALTED_PASSWORD, hex);
  explicit_bzero (hex, strlen (hex));
  g_free (hex);
  return ret;
}

/* Every other property we need is set before the exchange; anything
 * libgsasl asks for besides them (notably the TLS channel-binding data,
 * which would make SCRAM fail against Dovecot 2.3) is refused. */
static int
callback_cb (Gsasl          *context,
             Gsasl_session  *session,
             Gsasl_property  property)
{
  if (property == GSASL_SCRAM_SALTED_PASSWORD)
    return salted_password (session);
  return GSASL_NO_CALLBACK;
}

static gboolean
is_plaintext (const char *mechanism)
{
  return g_ascii_strcasecmp (mechanism, "PLAIN") == 0 ||
         g_ascii_strcasecmp (mechanism, "LOGIN") == 0;
}

static gboolean
is_offered (const char * const *offered,
            const char         *mechanism)
{
  for (gsize i = 0; offered != NULL && offered[i] != NULL; i++)
    if (g_ascii_strcasecmp (offered[i], mechanism) == 0)
      return TRUE;

  return FALSE;
}

static gboolean
is_supported (const char *mechanism)
{
  Gsasl *context = NULL;
  gboolean supported;

  if (gsasl_init (&context) != GSASL_OK)
    return FALSE;
  supported = gsasl_client_support_p (context, mechanism);
  gsasl_done (context);
  return supported;
}

const char *
tern_sasl_choose_mechanism (const char * const  *offered,
                            const char          *wanted,
                            gboolean             allow_plaintext,
                            GError             **error)
{
  if (wanted != NULL)
    {
      for (gsize i = 0; preference[i] != NULL; i++)
        if (g_ascii_strcasecmp (preference[i], wanted) == 0 &&
            is_offered (offered, preference[i]) &&
            (allow_plaintext || !is_plaintext (preference[i])) &&
            is_supported (preference[i]))
          return preference[i];

      g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM,
                   _("The server does not offer the sign-in method %s, or it cannot be "
                     "used on this connection"),
                   wanted);
      return NULL;
    }

  for (gsize i = 0; preference[i] != NULL; i++)
    if (is_offered (offered, preference[i]) &&
        (allow_plaintext || !is_plaintext (preference[i])) &&
        is_supported (preference[i]))
      return preference[i];

  g_set_error_literal (error, TERN_SASL_ERROR, TERN_SASL_ERROR_NO_MECHANISM,
                       _("The server offers no sign-in method that Tern supports on this "
                         "connection"));
  return NULL;
}

gboolean
tern_sasl_mechanism_has_initial_response (const char *mechanism)
{
  g_return_val_if_fail (mechanism != NULL, FALSE);

  return g_ascii_strcasecmp (mechanism, "PLAIN") == 0 ||
         g_ascii_strncasecmp (mechanism, "SCRAM-", 6) == 0;
}

static void
set_gsasl_error (TernSasl    *self,
                 int          code,
                 GError     **error)
{
  if (self->refused_iterations > 0)
    {
      g_autofree char *rounds = g_strdup_printf ("%" G_GUINT64_FORMAT, self->refused_iterations);

      g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER,
                   _("%s asked for %s rounds of password hashing to sign in, far more than "
                     "servers use; the connection may have been intercepted"),
                   self->label, rounds);
    }
  else if (code == GSASL_AUTHENTICATION_ERROR)
    g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER,
                 _("%s could not prove that it knows your password; the connection may "
                   "have been intercepted"),
                 self->label);
  else if (code == GSASL_MECHANISM_PARSE_ERROR || code == GSASL_BASE64_ERROR)
    g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER,
                 _("%s sent a sign-in challenge that cannot be understood (%s)"),
                 self->label, self->mechanism);
  else
    g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_FAILED,
                 _("Signing in to %s with %s failed: %s"),
                 self->label, self->mechanism, gsasl_strerror (code));
}

gboolean
tern_sasl_start (TernSasl    *self,
                 const char  *mechanism,
                 GError     **error)
{
  int ret;

  g_return_val_if_fail (TERN_IS_SASL (self), FALSE);
  g_return_val_if_fail (mechanism != NULL, FALSE);
  g_return_val_if_fail (self->session == NULL, FALSE);

  g_free (self->mechanism);
  self->mechanism = g_ascii_strup (mechanism, -1);
  self->complete = FALSE;

  if (self->context == NULL)
    {
      ret = gsasl_init (&self->context);
      if (ret != GSASL_OK)
        {
          self->context = NULL;
          set_gsasl_error (self, ret, error);
          return FALSE;
        }
      gsasl_callback_set (self->context, callback_cb);
    }

  ret = gsasl_client_start (self->context, self->mechanism, &self->session);
  if (ret != GSASL_OK)
    {
      self->session = NULL;
      set_gsasl_error (self, ret, error);
      return FALSE;
    }

  gsasl_session_hook_set (self->session, self);
  if ((ret = gsasl_property_set (self->session, GSASL_AUTHID, self->username)) != GSASL_OK ||
      (ret = gsasl_property_set (self->session, GSASL_PASSWORD, self->password)) != GSASL_OK)
    {
      g_clear_pointer (&self->session, gsasl_finish);
      set_gsasl_error (self, ret, error);
      return FALSE;
    }

  return TRUE;
}

const char *
tern_sasl_get_mechanism (TernSasl *self)
{
  g_return_val_if_fail (TERN_IS_SASL (self), NULL);

  return self->mechanism;
}

char *
tern_sasl_step (TernSasl    *self,
                const char  *challenge,
                GError     **error)
{
  char *output = NULL;
  char *response;
  int ret;

  g_return_val_if_fail (TERN_IS_SASL (self), NULL);
  g_return_val_if_fail (self->session != NULL, NULL);

  if (self->complete)
    {
      g_set_error (error, TERN_SASL_ERROR, TERN_SASL_ERROR_BAD_SERVER,
                   _("%s asked for more after the sign-in exchange (%s) had finished"),
                   self->label, self->mechanism);
      return NULL;
    }

  ret = gsasl_step64 (self->session, challenge != NULL ? challenge : "", &output);
  if (ret != GSASL_OK && ret != GSASL_NEEDS_MORE)
    {
      if (output != NULL)
        {
          explicit_bzero (output, strlen (output));
          gsasl_free (output);
        }
      set_gsasl_error (self, ret, error);
      return NULL;
    }

  self->complete = ret == GSASL_OK;
  response = g_strdup (output != NULL ? output : "");
  if (output != NULL)
    {
      explicit_bzero (output, strlen (output));
      gsasl_free (output);
    }
  return response;
}

gboolean
tern_sasl_is_complete (TernSasl *self)
{
  g_return_val_if_fail (TERN_IS_SASL (self), FALSE);

  return self->complete;
}

void
tern_sasl_response_free (char *response)
{
  clear_secret (&response);
}
