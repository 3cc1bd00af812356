/* tern-test-servers.h: start the real mail servers of tests/servers/ from a
 * GLib test program.
 *
 * Everything lives under a fresh temporary directory, listens on 127.0.0.x on
 * free high ports, and is stopped by tern_test_servers_free() (or, should the
 * test process die, by a watcher that notices the parent is gone).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TernTestServers TernTestServers;

/* Services the servers.ini file names; each has a port. */
typedef enum {
  TERN_TEST_SERVICE_IMAP,        /* 143-style, STARTTLS available         */
  TERN_TEST_SERVICE_IMAPS,       /* 993-style, implicit TLS               */
  TERN_TEST_SERVICE_POP3,        /* 110-style, STLS available             */
  TERN_TEST_SERVICE_POP3S,       /* 995-style, implicit TLS               */
  TERN_TEST_SERVICE_LMTP,        /* plain LMTP into Dovecot               */
  TERN_TEST_SERVICE_SUBMISSION,  /* Postfix 587-style, STARTTLS required  */
  TERN_TEST_SERVICE_SUBMISSIONS, /* Postfix 465-style, implicit TLS       */
} TernTestService;

/* Which certificate a listener address presents.  All of them listen on the
 * same ports; the address chooses the certificate. */
typedef enum {
  TERN_TEST_CERT_GOOD,        /* signed by the test CA, for localhost and 127.0.0.1 */
  TERN_TEST_CERT_EXPIRED,     /* signed by the test CA, expired                     */
  TERN_TEST_CERT_SELF_SIGNED, /* self-signed                                        */
  TERN_TEST_CERT_WRONG_HOST,  /* signed by the test CA, for wrong.example only      */
} TernTestCert;

/* Starts Dovecot and Postfix.  Returns NULL and sets @error when they cannot
 * be started (packages missing, ports, ...). */
TernTestServers *tern_test_servers_start        (GError         **error);
void             tern_test_servers_free         (TernTestServers *servers);

/* The temporary directory everything lives under. */
const char      *tern_test_servers_get_dir      (TernTestServers *servers);
/* PEM file of the throwaway CA that signed the GOOD certificate. */
const char      *tern_test_servers_get_ca_file  (TernTestServers *servers);
/* PEM file of a certificate, e.g. to compute its fingerprint in a test. */
const char      *tern_test_servers_get_cert_file (TernTestServers *servers,
                                                  TernTestCert     cert);
/* "127.0.0.1" for GOOD; other loopback addresses for the bad certificates. */
const char      *tern_test_servers_get_address  (TernTestServers *servers,
                                                 TernTestCert     cert);
guint16          tern_test_servers_get_port     (TernTestServers *servers,
                                                 TernTestService  service);

/* Test users (alice@tern.test, bob@tern.test) and their passwords. */
const char      *tern_test_servers_get_user     (TernTestServers *servers,
                                                 guint            index);
const char      *tern_test_servers_get_password (TernTestServers *servers,
                                                 guint            index);

/* Puts @count generated messages into @user's @folder (NULL: INBOX). */
gboolean         tern_test_servers_add_messages (TernTestServers *servers,
                                                 const char      *user,
                                                 const char      *folder,
                                                 guint            count,
                                                 GError         **error);

/* Dovecot's configuration file, for doveadm -c. */
const char      *tern_test_servers_get_dovecot_config (TernTestServers *servers);

/* Stops Dovecot alone (Postfix keeps running), cutting its open sessions,
 * and waits until IMAPS refuses connections; tern_test_servers_start_dovecot() brings it back on
 * the same ports with the same users and mail, and waits until IMAPS
 * answers.  For tests of what happens while the server is away. */
gboolean         tern_test_servers_stop_dovecot  (TernTestServers *servers,
                                                  GError         **error);
gboolean         tern_test_servers_start_dovecot (TernTestServers *servers,
                                                  GError         **error);

/* The same for Postfix (submission and submissions): stopped, then started
 * again with the same configuration, queue and ports. */
gboolean         tern_test_servers_stop_postfix  (TernTestServers *servers,
                                                  GError         **error);
gboolean         tern_test_servers_start_postfix (TernTestServers *servers,
                                                  GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernTestServers, tern_test_servers_free)

G_END_DECLS
