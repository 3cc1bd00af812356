/* test-hostile-common.h: the three protocol clients behind one face, so
 * that a hostile test is written once and tried on IMAP, POP3 and SMTP.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-imap-client.h"
#include "tern-pop3-client.h"
#include "tern-smtp-client.h"
#include "test-fake-server.h"

G_BEGIN_DECLS

/* Distinctive, so that finding it anywhere it must not be is unambiguous. */
#define HOSTILE_PASSWORD "Hostile-Secret-9f3a"
#define HOSTILE_DOMAIN   "tern.test"
/* Every hostile server's text contains it; no error may repeat it. */
#define EVIL             "EVIL-TEXT"

typedef enum {
  HOSTILE_IMAP,
  HOSTILE_POP3,
  HOSTILE_SMTP,
} HostileProtocol;

const char *hostile_protocol_name (HostileProtocol protocol);
/* A client of @protocol on @connection, as a GObject. */
GObject    *hostile_client_new    (HostileProtocol  protocol,
                                   TernConnection  *connection);
TernConnection *hostile_client_get_connection (HostileProtocol  protocol,
                                               GObject         *client);
gboolean    hostile_client_open   (HostileProtocol  protocol,
                                   GObject         *client,
                                   GError         **error);
/* Signs in with HOSTILE_PASSWORD (PLAIN). */
gboolean    hostile_client_login  (HostileProtocol  protocol,
                                   GObject         *client,
                                   GError         **error);
/* The protocol's STARTTLS_REFUSED error, for g_assert_error(). */
GQuark      hostile_error_domain  (HostileProtocol  protocol);
int         hostile_starttls_refused_code (HostileProtocol protocol);

/* Asserts what a careless caller can no longer do after a failed open:
 * sign in (nothing may be sent), and that the connection is closed. */
void        hostile_assert_dead   (HostileProtocol  protocol,
                                   GObject         *client);
/* Asserts that @sent (what went over the wire in clear) holds no
 * credentials and no mailbox or mail command. */
void        hostile_assert_nothing_secret (const char *sent);

G_END_DECLS
