/* tern-sasl.h: the client side of SASL (RFC 4422) through libgsasl, shared
 * by IMAP AUTHENTICATE, POP3 AUTH and SMTP AUTH.
 *
 * All three protocols carry SASL messages as base64 lines, so the step
 * function takes and returns base64.  Channel binding is never used:
 * Dovecot 2.3 has no SCRAM-*-PLUS, and offering binding data makes its
 * SCRAM exchange fail.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define TERN_SASL_ERROR (tern_sasl_error_quark ())

typedef enum {
  TERN_SASL_ERROR_NO_MECHANISM,  /* no mechanism both sides support */
  TERN_SASL_ERROR_FAILED,        /* the exchange failed on our side */
  TERN_SASL_ERROR_BAD_SERVER,    /* malformed challenge, or the server failed to
                                    prove it knows the password (SCRAM) */
} TernSaslError;

GQuark tern_sasl_error_quark (void);

#define TERN_TYPE_SASL (tern_sasl_get_type ())
G_DECLARE_FINAL_TYPE (TernSasl, tern_sasl, TERN, SASL, GObject)

/* @server_label ("imap.example.org:993") names the server in messages.
 * The password is copied and the copy is zeroed when the object goes. */
TernSasl   *tern_sasl_new                   (const char          *server_label,
                                             const char          *username,
                                             const char          *password);

/* Picks from @offered (the server's mechanism names, any case): @wanted
 * when given and offered (NULL if not), else the first of SCRAM-SHA-256,
 * PLAIN, LOGIN, CRAM-MD5 that is offered and that libgsasl supports.
 * @allow_plaintext FALSE leaves out PLAIN and LOGIN (no TLS). */
const char *tern_sasl_choose_mechanism      (const char * const  *offered,
                                             const char          *wanted,
                                             gboolean             allow_plaintext,
                                             GError             **error);

/* Whether the client speaks first in @mechanism: then the first
 * tern_sasl_step() (with a NULL challenge) gives an initial response
 * that may go on the command line (SASL-IR, SMTP AUTH). */
gboolean    tern_sasl_mechanism_has_initial_response (const char *mechanism);

gboolean    tern_sasl_start                 (TernSasl            *self,
                                             const char          *mechanism,
                                             GError             **error);
const char *tern_sasl_get_mechanism         (TernSasl            *self);

/* One step: @challenge is the server's base64 text (NULL or "" when it
 * sent nothing), the result the base64 response to send ("" for an empty
 * one).  The result may contain the password in base64: free it with
 * tern_sasl_response_free(), which zeroes it. */
char       *tern_sasl_step                  (TernSasl            *self,
                                             const char          *challenge,
                                             GError             **error);
/* TRUE once the mechanism has finished on our side; for SCRAM this means
 * the server proved it knows the password.  A server that says "success"
 * before that is not to be believed. */
gboolean    tern_sasl_is_complete           (TernSasl            *self);

/* g_autoptr(TernSaslResponse) holds a step's result. */
typedef char TernSaslResponse;
void        tern_sasl_response_free         (char                *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernSaslResponse, tern_sasl_response_free)

G_END_DECLS
