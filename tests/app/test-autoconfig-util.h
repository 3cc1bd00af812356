/* test-autoconfig-util.h: what the detection tests share: a resolver that
 * knows only what the test tells it, and waiting for results.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-autoconfig.h"

G_BEGIN_DECLS

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver   parent_instance;
  GHashTable *mx;  /* domain → host */
  GHashTable *srv; /* "_imaps._tcp.example.org" → "host:port" */
};

/* A GAsyncReadyCallback that stores a reference to the result in
 * *user_data, for a loop that iterates until it is set. */
void                  test_store_result   (GObject        *source,
                                           GAsyncResult   *result,
                                           gpointer        user_data);
TernAutoconfigConfig *test_detect         (TernAutoconfig *autoconfig,
                                           const char     *address,
                                           GError        **error);
/* The result of the first attempt at @host whose "what" starts with
 * @what_prefix (NULL: any); aborts when there is none. */
TernAutoconfigResult  test_attempt_result (TernAutoconfig *autoconfig,
                                           const char     *host,
                                           const char     *what_prefix);
void                  test_assert_server  (GPtrArray              *servers,
                                           guint                   index,
                                           TernAutoconfigProtocol  protocol,
                                           const char             *host,
                                           guint16                 port,
                                           TernTlsMode             security,
                                           const char             *username);
/* Drops the test's reference and waits until the object is finalized: a
 * GTask's worker thread may let go of its source object a moment after the
 * result arrived. */
void                  test_unref_and_wait (gpointer                object);

G_END_DECLS
