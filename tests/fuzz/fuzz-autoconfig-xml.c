/* fuzz-autoconfig-xml.c: libFuzzer target for the autoconfig XML reader
 * (app/tern-autoconfig-xml.c), which reads documents fetched from
 * providers' web servers and the ISPDB.
 *
 * Beyond not crashing, checks the reader's promises: a configuration it
 * returns has an incoming and an outgoing server, each with a host and a
 * port, and survives a copy; an error has a message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>

#include "tern-autoconfig-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_servers (GPtrArray *servers)
{
  g_assert_cmpuint (servers->len, >, 0);
  for (guint i = 0; i < servers->len; i++)
    {
      const TernAutoconfigServer *server = servers->pdata[i];

      g_assert_nonnull (server->server);
      g_assert_nonnull (server->server->host);
      g_assert_cmpstr (server->server->host, !=, "");
      g_assert_cmpuint (server->server->port, >, 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(TernAutoconfigConfig) config = NULL;
  g_autoptr(TernAutoconfigConfig) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) domains = NULL;

  config = tern_autoconfig_parse ((const char *) data, size, "jane.doe@example.org", &domains,
                                  &error);
  if (config == NULL)
    {
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      return 0;
    }
  g_assert_null (error);
  g_assert_nonnull (domains);
  check_servers (config->incoming);
  check_servers (config->outgoing);
  copy = tern_autoconfig_config_copy (config);
  g_assert_cmpuint (copy->incoming->len, ==, config->incoming->len);
  return 0;
}
