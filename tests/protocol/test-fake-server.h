/* test-fake-server.h: scripted servers for what a real server cannot be made
 * to do (inject bytes, stall, speak only TLS 1.0), and certificates made on
 * the fly so these tests need nothing outside the process.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tern-connection.h"

G_BEGIN_DECLS

/* A CA, a private key, and leaf certificates for 127.0.0.1 in each state
 * the client must tell apart.  ca_file is the CA as PEM in a temp dir. */
typedef struct {
  char *dir;
  char *ca_file;
  gnutls_x509_privkey_t ca_key;
  gnutls_x509_privkey_t key;
  gnutls_x509_crt_t ca;
  gnutls_x509_crt_t good;        /* by the CA, for localhost and 127.0.0.1 */
  gnutls_x509_crt_t expired;     /* by the CA, expired yesterday */
  gnutls_x509_crt_t wrong_host;  /* by the CA, for wrong.example only */
  gnutls_x509_crt_t self_signed; /* for 127.0.0.1, signed by itself */
  gnutls_x509_crt_t client_only; /* by the CA, for TLS clients only */
} TestCerts;

TestCerts *test_certs_new  (void);
void       test_certs_free (TestCerts *certs);
char      *test_cert_fingerprint (gnutls_x509_crt_t crt);

typedef struct _FakeServer FakeServer;

/* Runs in the server's thread with a blocking socket to the one client. */
typedef void (*FakeScript) (FakeServer *server,
                            int         fd);

struct _FakeServer {
  GSocketListener *listener;
  guint16 port;
  GThread *thread;
  FakeScript script;
  gpointer data;
  guint connections;
  /* Everything the client sent in clear (TLS records stay encrypted). */
  GByteArray *received;
  /* Lets a test and its script take turns: test_step_* below. */
  GMutex lock;
  GCond cond;
  guint step;
  /* What the client sent over TLS in a dialogue (see below). */
  GByteArray *received_tls;
};

FakeServer *fake_server_start (FakeScript  script,
                               gpointer    data);
/* Runs @script once for each of @connections clients, one after the
 * other, with the same @data and received bytes. */
FakeServer *fake_server_start_many (FakeScript  script,
                                    gpointer    data,
                                    guint       connections);
/* Waits for the script to finish, then frees nothing: assert on
 * server->received, then fake_server_free(). */
void        fake_server_join  (FakeServer *server);
void        fake_server_free  (FakeServer *server);

/* A client connection to @server that gives up after 5 s instead of
 * hanging a test; it trusts @ca_file when not NULL. */
TernConnection *fake_connection_new (FakeServer  *server,
                                     TernTlsMode  mode,
                                     const char  *ca_file);

/* Script helpers; each records what it reads. */
char       *fake_read_line    (FakeServer *server,
                               int         fd);
gsize       fake_read_some    (FakeServer *server,
                               int         fd,
                               gsize       max);
void        fake_drain        (FakeServer *server,
                               int         fd);
void        fake_write        (int         fd,
                               const char *text);

/* One side announces it has reached @step; the other waits for it. */
void        fake_step_signal  (FakeServer *server,
                               guint       step);
void        fake_step_wait    (FakeServer *server,
                               guint       step);

/* A TLS server session over @fd; returns the handshake's result. */
typedef struct {
  gnutls_certificate_credentials_t credentials;
  gnutls_session_t session;
} FakeTls;

int         fake_tls_start    (FakeTls              *tls,
                               int                   fd,
                               gnutls_x509_crt_t     crt,
                               gnutls_x509_privkey_t key,
                               const char           *priority);
char       *fake_tls_read_line (FakeTls             *tls);
void        fake_tls_write    (FakeTls              *tls,
                               const char           *text);
void        fake_tls_finish   (FakeTls              *tls);

/* What the client sent so far, as a string (maybe empty). */
char       *fake_received_text (FakeServer *server);
/* Reads one line in the script and asserts it is @expected. */
void        fake_expect_line  (FakeServer *server,
                               int         fd,
                               const char *expected);

/* Dialogues: a script as data, for tests that try many servers.  Each step
 * runs in order; after FAKE_STEP_TLS every step goes through TLS.  What the
 * client sends in clear is recorded in server->received as usual; what it
 * sends over TLS in server->received_tls. */
typedef enum {
  FAKE_STEP_SEND,   /* write text (len bytes; strlen when len is 0) */
  FAKE_STEP_EXPECT, /* read a line; it must be text (any line when NULL) */
  FAKE_STEP_TLS,    /* TLS handshake as the server; it must succeed */
  FAKE_STEP_TLS_TRY,/* TLS handshake whose failure ends the dialogue */
  FAKE_STEP_DRAIN,  /* read everything until the client closes */
  FAKE_STEP_FLOOD,  /* write text again and again until the client closes */
  FAKE_STEP_HANGUP, /* shut down the server's sending side (as after BYE) */
  FAKE_STEP_END,
} FakeStepKind;

typedef struct {
  FakeStepKind kind;
  const char *text;
  gsize len;
} FakeStep;

typedef struct {
  const FakeStep *steps;
  gnutls_x509_crt_t crt;         /* for the TLS steps */
  gnutls_x509_privkey_t key;
  const char *priority;          /* NULL: TLS 1.2 and 1.3 */
  /* Filled in by the server: bytes FAKE_STEP_FLOOD wrote, the handshake's
   * result for FAKE_STEP_TLS_TRY. */
  guint64 flooded;
  int tls_result;
} FakeDialogue;

/* Starts a server that runs @dialogue for one client. */
FakeServer *fake_server_start_dialogue (FakeDialogue *dialogue);
/* What the client sent over TLS, as a string (maybe empty). */
char       *fake_received_tls_text     (FakeServer   *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeServer, fake_server_free)

G_END_DECLS
