/* test-autoconfig-util.c: what the detection tests share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "test-autoconfig-util.h"

/* A resolver that knows only what the test tells it. */

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static GList *
test_resolver_lookup_records (GResolver            *resolver,
                              const char           *rrname,
                              GResolverRecordType   type,
                              GCancellable         *cancellable,
                              GError              **error)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  const char *value = NULL;

  if (type == G_RESOLVER_RECORD_MX)
    value = g_hash_table_lookup (self->mx, rrname);
  else if (type == G_RESOLVER_RECORD_SRV)
    value = g_hash_table_lookup (self->srv, rrname);
  if (value == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No %s records for %s",
                   type == G_RESOLVER_RECORD_MX ? "MX" : "SRV", rrname);
      return NULL;
    }
  if (type == G_RESOLVER_RECORD_MX)
    return g_list_append (g_list_append (NULL, g_variant_ref_sink (g_variant_new ("(qs)", 20, "backup.invalid"))),
                          g_variant_ref_sink (g_variant_new ("(qs)", 10, value)));
  {
    g_auto(GStrv) parts = g_strsplit (value, ":", 2);

    return g_list_append (NULL, g_variant_ref_sink (g_variant_new ("(qqqs)", 0, 0,
                                                                   atoi (parts[1]), parts[0])));
  }
}

static GList *
test_resolver_lookup_service (GResolver     *resolver,
                              const char    *rrname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  const char *value = g_hash_table_lookup (self->srv, rrname);
  g_auto(GStrv) parts = NULL;

  if (value == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No SRV records for %s",
                   rrname);
      return NULL;
    }
  parts = g_strsplit (value, ":", 2);
  return g_list_append (NULL, g_srv_target_new (parts[0], atoi (parts[1]), 0, 0));
}

static GList *
test_resolver_lookup_by_name (GResolver     *resolver,
                              const char    *hostname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "Offline: %s", hostname);
  return NULL;
}

static void
test_resolver_finalize (GObject *object)
{
  TestResolver *self = TEST_RESOLVER (object);

  g_hash_table_unref (self->mx);
  g_hash_table_unref (self->srv);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_records = test_resolver_lookup_records;
  resolver_class->lookup_service = test_resolver_lookup_service;
  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
}

static void
test_resolver_init (TestResolver *self)
{
  self->mx = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->srv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
test_store_result (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

TernAutoconfigConfig *
test_detect (TernAutoconfig  *autoconfig,
             const char      *address,
             GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tern_autoconfig_detect_async (autoconfig, address, NULL, test_store_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return tern_autoconfig_detect_finish (autoconfig, result, error);
}

TernAutoconfigResult
test_attempt_result (TernAutoconfig *autoconfig,
                     const char     *host,
                     const char     *what_prefix)
{
  g_autoptr(GPtrArray) attempts = tern_autoconfig_dup_attempts (autoconfig);

  for (guint i = 0; i < attempts->len; i++)
    {
      TernAutoconfigAttempt *attempt = g_ptr_array_index (attempts, i);

      if (g_strcmp0 (attempt->host, host) == 0
          && (what_prefix == NULL || g_str_has_prefix (attempt->what, what_prefix)))
        {
          /* For people, whatever bytes the server sent. */
          g_assert_true (attempt->message == NULL || g_utf8_validate (attempt->message, -1, NULL));
          g_test_message ("%s %s:%u %s: %s (%s)", tern_autoconfig_source_to_string (attempt->source),
                          attempt->host, attempt->port, attempt->what,
                          tern_autoconfig_result_to_string (attempt->result),
                          attempt->message ? attempt->message : "");
          return attempt->result;
        }
    }
  g_error ("no attempt at %s %s", host, what_prefix ? what_prefix : "");
}

void
test_assert_server (GPtrArray              *servers,
                    guint                   index,
                    TernAutoconfigProtocol  protocol,
                    const char             *host,
                    guint16                 port,
                    TernTlsMode             security,
                    const char             *username)
{
  const TernAutoconfigServer *server;

  g_assert_cmpuint (servers->len, >, index);
  server = g_ptr_array_index (servers, index);
  g_assert_cmpint (server->protocol, ==, protocol);
  g_assert_cmpstr (server->server->host, ==, host);
  g_assert_cmpuint (server->server->port, ==, port);
  g_assert_cmpint (server->server->security, ==, security);
  g_assert_cmpstr (server->server->username, ==, username);
}

void
test_unref_and_wait (gpointer object)
{
  gpointer weak = object;

  g_object_add_weak_pointer (object, &weak);
  g_object_unref (object);
  while (weak != NULL)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}
