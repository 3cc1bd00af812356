/* test-hostile-common.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "test-hostile-common.h"

const char *
hostile_protocol_name (HostileProtocol protocol)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return "imap";
    case HOSTILE_POP3:
      return "pop3";
    case HOSTILE_SMTP:
    default:
      return "smtp";
    }
}

GObject *
hostile_client_new (HostileProtocol  protocol,
                    TernConnection  *connection)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return G_OBJECT (tern_imap_client_new (connection));
    case HOSTILE_POP3:
      return G_OBJECT (tern_pop3_client_new (connection));
    case HOSTILE_SMTP:
    default:
      return G_OBJECT (tern_smtp_client_new (connection));
    }
}

TernConnection *
hostile_client_get_connection (HostileProtocol  protocol,
                               GObject         *client)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return tern_imap_client_get_connection (TERN_IMAP_CLIENT (client));
    case HOSTILE_POP3:
      return tern_pop3_client_get_connection (TERN_POP3_CLIENT (client));
    case HOSTILE_SMTP:
    default:
      return tern_smtp_client_get_connection (TERN_SMTP_CLIENT (client));
    }
}

gboolean
hostile_client_open (HostileProtocol  protocol,
                     GObject         *client,
                     GError         **error)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return tern_imap_client_open (TERN_IMAP_CLIENT (client), NULL, error);
    case HOSTILE_POP3:
      return tern_pop3_client_open (TERN_POP3_CLIENT (client), NULL, error);
    case HOSTILE_SMTP:
    default:
      return tern_smtp_client_open (TERN_SMTP_CLIENT (client), HOSTILE_DOMAIN, NULL, error);
    }
}

gboolean
hostile_client_login (HostileProtocol  protocol,
                      GObject         *client,
                      GError         **error)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return tern_imap_client_login (TERN_IMAP_CLIENT (client), "alice", HOSTILE_PASSWORD,
                                     "PLAIN", FALSE, NULL, error);
    case HOSTILE_POP3:
      return tern_pop3_client_login (TERN_POP3_CLIENT (client), "alice", HOSTILE_PASSWORD,
                                     "PLAIN", NULL, error);
    case HOSTILE_SMTP:
    default:
      return tern_smtp_client_login (TERN_SMTP_CLIENT (client), "alice", HOSTILE_PASSWORD,
                                     "PLAIN", NULL, error);
    }
}

GQuark
hostile_error_domain (HostileProtocol protocol)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return TERN_IMAP_ERROR;
    case HOSTILE_POP3:
      return TERN_POP3_ERROR;
    case HOSTILE_SMTP:
    default:
      return TERN_SMTP_ERROR;
    }
}

int
hostile_starttls_refused_code (HostileProtocol protocol)
{
  switch (protocol)
    {
    case HOSTILE_IMAP:
      return TERN_IMAP_ERROR_STARTTLS_REFUSED;
    case HOSTILE_POP3:
      return TERN_POP3_ERROR_STARTTLS_REFUSED;
    case HOSTILE_SMTP:
    default:
      return TERN_SMTP_ERROR_STARTTLS_REFUSED;
    }
}

void
hostile_assert_dead (HostileProtocol  protocol,
                     GObject         *client)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (tern_connection_is_connected (hostile_client_get_connection (protocol,
                                                                               client)));
  g_assert_false (hostile_client_login (protocol, client, &error));
  g_assert_nonnull (error);
}

void
hostile_assert_nothing_secret (const char *sent)
{
  static const char *const forbidden[] = {
    HOSTILE_PASSWORD, "LOGIN", "AUTH", "USER", "PASS", "APOP", "MAIL FROM", "RCPT",
    "SELECT", "EXAMINE", "LIST", "STATUS", "FETCH", "RETR", "UIDL",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forbidden); i++)
    if (strstr (sent, forbidden[i]) != NULL)
      g_error ("sent in clear: %s (all of it: %s)", forbidden[i], sent);
}
