/* tern-autoconfig-probe.c: finding servers by connecting to them, and the
 * login test before an account is saved.
 *
 * Both go through the protocol clients, so a probe checks exactly what
 * the account will later do: the greeting, the capabilities, STARTTLS
 * (refused when not advertised) and the certificate.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-autoconfig"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-autoconfig-private.h"
#include "tern-certificate-pins.h"
#include "tern-imap-client.h"
#include "tern-pop3-client.h"
#include "tern-smtp-client.h"

G_DEFINE_BOXED_TYPE (TernLoginTest, tern_login_test, tern_login_test_copy, tern_login_test_free)

TernLoginTest *
tern_login_test_copy (const TernLoginTest *test)
{
  TernLoginTest *copy = g_memdup2 (test, sizeof *test);

  copy->message = g_strdup (test->message);
  copy->incoming_username = g_strdup (test->incoming_username);
  copy->outgoing_username = g_strdup (test->outgoing_username);
  copy->cert_host = g_strdup (test->cert_host);
  copy->cert_description = g_strdup (test->cert_description);
  copy->cert_fingerprint = g_strdup (test->cert_fingerprint);
  return copy;
}

void
tern_login_test_free (TernLoginTest *test)
{
  if (test == NULL)
    return;
  g_free (test->message);
  g_free (test->incoming_username);
  g_free (test->outgoing_username);
  g_free (test->cert_host);
  g_free (test->cert_description);
  g_free (test->cert_fingerprint);
  g_free (test);
}

/* One protocol session, opened but not signed in. */
typedef struct
{
  TernAutoconfigProtocol  protocol;
  TernConnection         *connection;
  GObject                *client;
} Session;

static void
session_clear (Session *session)
{
  if (session->connection != NULL && tern_connection_is_connected (session->connection))
    tern_connection_close (session->connection, NULL, NULL);
  g_clear_object (&session->client);
  g_clear_object (&session->connection);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Session, session_clear)

static gboolean
session_open (Session                *session,
              TernAutoconfigProtocol  protocol,
              const TernServer       *server,
              GHashTable             *map,
              const char             *ca_file,
              const char             *pin,
              guint                   timeout,
              const char             *domain,
              GCancellable           *cancellable,
              GError                **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (!tern_autoconfig_map_lookup (map, server->host, server->port, &host, &port, error))
    return FALSE;
  session->protocol = protocol;
  session->connection = tern_connection_new (host, port, server->security);
  tern_connection_set_ca_file (session->connection, ca_file);
  tern_connection_set_pinned_fingerprint (session->connection, pin);
  tern_connection_set_connect_timeout (session->connection, timeout);
  tern_connection_set_io_timeout (session->connection, timeout);

  switch (protocol)
    {
    case TERN_AUTOCONFIG_PROTOCOL_IMAP:
      session->client = G_OBJECT (tern_imap_client_new (session->connection));
      return tern_imap_client_open (TERN_IMAP_CLIENT (session->client), cancellable, error);
    case TERN_AUTOCONFIG_PROTOCOL_POP3:
      session->client = G_OBJECT (tern_pop3_client_new (session->connection));
      return tern_pop3_client_open (TERN_POP3_CLIENT (session->client), cancellable, error);
    case TERN_AUTOCONFIG_PROTOCOL_SMTP:
      session->client = G_OBJECT (tern_smtp_client_new (session->connection));
      return tern_smtp_client_open (TERN_SMTP_CLIENT (session->client), domain, cancellable,
                                    error);
    default:
      g_return_val_if_reached (FALSE);
    }
}

static gboolean
session_login (Session       *session,
               const char    *username,
               const char    *password,
               GCancellable  *cancellable,
               GError       **error)
{
  switch (session->protocol)
    {
    case TERN_AUTOCONFIG_PROTOCOL_IMAP:
      return tern_imap_client_login (TERN_IMAP_CLIENT (session->client), username, password, NULL,
                                     FALSE, cancellable, error);
    case TERN_AUTOCONFIG_PROTOCOL_POP3:
      return tern_pop3_client_login (TERN_POP3_CLIENT (session->client), username, password, NULL,
                                     cancellable, error);
    case TERN_AUTOCONFIG_PROTOCOL_SMTP:
      return tern_smtp_client_login (TERN_SMTP_CLIENT (session->client), username, password, NULL,
                                     cancellable, error);
    default:
      g_return_val_if_reached (FALSE);
    }
}

gboolean
tern_autoconfig_probe_server (TernAutoconfigProtocol  protocol,
                              const TernServer       *server,
                              GHashTable             *map,
                              const char             *ca_file,
                              const char             *pin,
                              guint                   timeout,
                              const char             *domain,
                              GCancellable           *cancellable,
                              GError                **error)
{
  g_auto(Session) session = { 0 };

  return session_open (&session, protocol, server, map, ca_file, pin, timeout, domain,
                       cancellable, error);
}

/* Probing */

typedef struct
{
  TernAutoconfigProtocol  protocol;
  guint16                 port;
  TernTlsMode             security;
  const char             *prefixes[3]; /* "imap." "mail." "": host names to try */
} Candidate;

/* RFC 8314 order.  Plaintext ones come last and only count when no
 * secure one answered. */
static const Candidate incoming_candidates[] = {
  { TERN_AUTOCONFIG_PROTOCOL_IMAP, 993, TERN_TLS_MODE_IMPLICIT, { "imap.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_IMAP, 143, TERN_TLS_MODE_STARTTLS, { "imap.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_POP3, 995, TERN_TLS_MODE_IMPLICIT, { "pop.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_POP3, 110, TERN_TLS_MODE_STARTTLS, { "pop.", "mail.", "" } },
};

static const Candidate incoming_plain_candidates[] = {
  { TERN_AUTOCONFIG_PROTOCOL_IMAP, 143, TERN_TLS_MODE_PLAIN, { "imap.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_POP3, 110, TERN_TLS_MODE_PLAIN, { "pop.", "mail.", "" } },
};

static const Candidate outgoing_candidates[] = {
  { TERN_AUTOCONFIG_PROTOCOL_SMTP, 465, TERN_TLS_MODE_IMPLICIT, { "smtp.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_SMTP, 587, TERN_TLS_MODE_STARTTLS, { "smtp.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_SMTP, 25, TERN_TLS_MODE_STARTTLS, { "smtp.", "mail.", "" } },
};

static const Candidate outgoing_plain_candidates[] = {
  { TERN_AUTOCONFIG_PROTOCOL_SMTP, 587, TERN_TLS_MODE_PLAIN, { "smtp.", "mail.", "" } },
  { TERN_AUTOCONFIG_PROTOCOL_SMTP, 25, TERN_TLS_MODE_PLAIN, { "smtp.", "mail.", "" } },
};

typedef struct
{
  TernDetection          *detection;
  GCancellable           *cancellable; /* the group's */
  TernAutoconfigProtocol  protocol;
  TernServer             *server;
  guint                   delay;       /* milliseconds before it starts */
  gboolean                done;
  gboolean                success;
} Probe;

static void
probe_free (Probe *probe)
{
  tern_server_free (probe->server);
  g_free (probe);
}

static const char *
security_label (TernTlsMode security)
{
  switch (security)
    {
    case TERN_TLS_MODE_IMPLICIT:
      return "TLS";
    case TERN_TLS_MODE_STARTTLS:
      return "STARTTLS";
    case TERN_TLS_MODE_PLAIN:
    default:
      return _("unencrypted");
    }
}

/* The stagger: FALSE when cancelled meanwhile. */
static gboolean
wait_turn (Probe *probe)
{
  gint64 end = g_get_monotonic_time () + probe->delay * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_is_cancelled (probe->cancellable))
        return FALSE;
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  return !g_cancellable_is_cancelled (probe->cancellable);
}

static gpointer
probe_thread (gpointer data)
{
  Probe *probe = data;
  TernDetection *detection = probe->detection;
  g_autoptr(GError) error = NULL;
  g_autofree char *what = NULL;
  gboolean success = FALSE;
  guint id;

  if (wait_turn (probe))
    {
      what = g_strdup_printf ("%s %s", tern_autoconfig_protocol_to_string (probe->protocol),
                              security_label (probe->server->security));
      id = tern_detection_attempt_start (detection, TERN_AUTOCONFIG_SOURCE_PROBE,
                                         probe->server->host, probe->server->port, what);
      success = tern_autoconfig_probe_server (probe->protocol, probe->server, detection->map,
                                              detection->ca_file, NULL, detection->timeout,
                                              detection->domain, probe->cancellable, &error);
      tern_detection_attempt_end (detection, id,
                                  success ? TERN_AUTOCONFIG_RESULT_FOUND
                                  : g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                    ? TERN_AUTOCONFIG_RESULT_SKIPPED
                                    : TERN_AUTOCONFIG_RESULT_FAILED,
                                  error ? error->message : NULL);
    }

  g_mutex_lock (&detection->lock);
  probe->done = TRUE;
  probe->success = success;
  g_cond_broadcast (&detection->cond);
  g_mutex_unlock (&detection->lock);
  return NULL;
}

/* The candidates for one direction, all running at once, a stagger apart.
 * The group's cancellable stops the losers once the winner is known, or
 * everything when the detection is cancelled. */
typedef struct
{
  TernDetection *detection;
  GCancellable  *cancellable;
  gulong         handler;
  GPtrArray     *probes;  /* Probe, in rank order */
  GPtrArray     *threads;
} Group;

static void
forward_cancel (GCancellable *cancellable,
                GCancellable *target)
{
  g_cancellable_cancel (target);
}

static Group *
group_start (TernDetection   *detection,
             const Candidate *candidates,
             gsize            n_candidates)
{
  Group *group = g_new0 (Group, 1);

  group->detection = detection;
  group->cancellable = g_cancellable_new ();
  group->handler = g_cancellable_connect (detection->cancellable, G_CALLBACK (forward_cancel),
                                          group->cancellable, NULL);
  group->probes = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_free);
  group->threads = g_ptr_array_new ();
  for (gsize i = 0; i < n_candidates; i++)
    for (guint j = 0; j < G_N_ELEMENTS (candidates[i].prefixes); j++)
      {
        Probe *probe = g_new0 (Probe, 1);
        g_autofree char *host = g_strconcat (candidates[i].prefixes[j], detection->domain, NULL);

        probe->detection = detection;
        probe->cancellable = group->cancellable;
        probe->protocol = candidates[i].protocol;
        probe->server = tern_server_new (host, candidates[i].port, candidates[i].security);
        probe->delay = group->probes->len * detection->stagger;
        g_ptr_array_add (group->probes, probe);
      }
  for (guint i = 0; i < group->probes->len; i++)
    g_ptr_array_add (group->threads, g_thread_new ("tern-probe", probe_thread,
                                                   g_ptr_array_index (group->probes, i)));
  return group;
}

/* The best candidate that answered, or NULL; then stops and frees the
 * group. */
static TernAutoconfigServer *
group_finish (Group *group)
{
  TernDetection *detection = group->detection;
  TernAutoconfigServer *winner = NULL;

  g_mutex_lock (&detection->lock);
  for (guint i = 0; i < group->probes->len && winner == NULL; i++)
    {
      Probe *probe = g_ptr_array_index (group->probes, i);

      while (!probe->done && !g_cancellable_is_cancelled (detection->cancellable))
        g_cond_wait (&detection->cond, &detection->lock);
      if (probe->done && probe->success)
        winner = tern_autoconfig_server_new (probe->protocol, probe->server->host,
                                             probe->server->port, probe->server->security,
                                             "%EMAILADDRESS%", detection->address);
    }
  g_mutex_unlock (&detection->lock);

  g_cancellable_cancel (group->cancellable);
  for (guint i = 0; i < group->threads->len; i++)
    g_thread_join (g_ptr_array_index (group->threads, i));
  g_cancellable_disconnect (detection->cancellable, group->handler);
  g_ptr_array_unref (group->threads);
  g_ptr_array_unref (group->probes);
  g_object_unref (group->cancellable);
  g_free (group);
  return winner;
}

TernAutoconfigConfig *
tern_detection_probe (TernDetection         *detection,
                      TernDetectionFallback  before_plaintext,
                      gpointer               data)
{
  g_autoptr(TernAutoconfigConfig) config = g_new0 (TernAutoconfigConfig, 1);
  TernAutoconfigServer *incoming;
  TernAutoconfigServer *outgoing;
  Group *in_group;
  Group *out_group;

  config->source = TERN_AUTOCONFIG_SOURCE_PROBE;
  config->incoming = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);
  config->outgoing = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);

  /* Both directions at once. */
  in_group = group_start (detection, incoming_candidates, G_N_ELEMENTS (incoming_candidates));
  out_group = group_start (detection, outgoing_candidates, G_N_ELEMENTS (outgoing_candidates));
  incoming = group_finish (in_group);
  outgoing = group_finish (out_group);

  if ((incoming == NULL || outgoing == NULL) && before_plaintext != NULL
      && !g_cancellable_is_cancelled (detection->cancellable))
    {
      TernAutoconfigConfig *instead = before_plaintext (detection, data);

      if (instead != NULL)
        {
          tern_autoconfig_server_free (incoming);
          tern_autoconfig_server_free (outgoing);
          return instead;
        }
    }

  /* Plaintext only where no secure server answered; the configuration
   * then says so and the user must confirm. */
  if (incoming == NULL && !g_cancellable_is_cancelled (detection->cancellable))
    incoming = group_finish (group_start (detection, incoming_plain_candidates,
                                          G_N_ELEMENTS (incoming_plain_candidates)));
  if (outgoing == NULL && !g_cancellable_is_cancelled (detection->cancellable))
    outgoing = group_finish (group_start (detection, outgoing_plain_candidates,
                                          G_N_ELEMENTS (outgoing_plain_candidates)));
  if (incoming == NULL)
    {
      tern_autoconfig_server_free (outgoing);
      return NULL;
    }
  g_ptr_array_add (config->incoming, incoming);
  if (outgoing != NULL)
    g_ptr_array_add (config->outgoing, outgoing);
  config->origin = g_strdup (_("connections to the usual server names"));
  tern_autoconfig_config_update_flags (config);
  return g_steal_pointer (&config);
}

/* The login test */

typedef struct
{
  TernContext          *context;
  GHashTable           *map;
  char                 *ca_file;
  guint                 timeout;
  char                 *address;
  char                 *password;
  TernAutoconfigServer *incoming;
  TernAutoconfigServer *outgoing;
} LoginData;

static void
login_data_free (LoginData *data)
{
  g_object_unref (data->context);
  g_clear_pointer (&data->map, g_hash_table_unref);
  g_free (data->ca_file);
  g_free (data->address);
  if (data->password != NULL)
    memset (data->password, 0, strlen (data->password));
  g_free (data->password);
  tern_autoconfig_server_free (data->incoming);
  tern_autoconfig_server_free (data->outgoing);
  g_free (data);
}

static gboolean
is_auth_failure (const GError *error)
{
  return g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED)
         || g_error_matches (error, TERN_POP3_ERROR, TERN_POP3_ERROR_AUTH_FAILED)
         || g_error_matches (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_AUTH_FAILED);
}

static gboolean
is_unreachable (const GError *error)
{
  return g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CONNECT_FAILED)
         || g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_TIMED_OUT)
         || g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED)
         || g_error_matches (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_IO_FAILED)
         || g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND);
}

/* Fills @test from the failure of one step. */
static void
describe_failure (TernLoginTest     *test,
                  const TernServer  *server,
                  Session           *session,
                  const char        *username,
                  const GError      *error)
{
  gboolean incoming = test->step == TERN_LOGIN_TEST_STEP_INCOMING;
  g_autofree char *label = g_strdup_printf (strchr (server->host, ':') ? "[%s]:%u" : "%s:%u",
                                            server->host, server->port);

  if (is_auth_failure (error))
    {
      test->status = TERN_LOGIN_TEST_WRONG_PASSWORD;
      test->message = g_strdup_printf (incoming
                                         ? _("The incoming server %s refused the password for "
                                             "“%s”.  Check the password; some providers want an "
                                             "app password made on their web site.")
                                         : _("The outgoing server %s refused the password for "
                                             "“%s”.  Check the password; some providers want an "
                                             "app password made on their web site."),
                                       label, username);
    }
  else if (tern_connection_error_is_certificate (error) && session->connection != NULL)
    {
      test->status = TERN_LOGIN_TEST_CERTIFICATE;
      test->message = g_strdup (error->message);
      test->cert_host = g_strdup (server->host);
      test->cert_port = server->port;
      test->cert_description =
        g_strdup (tern_connection_get_peer_description (session->connection));
      test->cert_fingerprint =
        g_strdup (tern_connection_get_peer_fingerprint (session->connection));
    }
  else if (is_unreachable (error))
    {
      test->status = TERN_LOGIN_TEST_UNREACHABLE;
      test->message = g_strdup_printf (incoming ? _("The incoming server %s cannot be reached: %s")
                                                : _("The outgoing server %s cannot be reached: %s"),
                                       label, error->message);
    }
  else
    {
      test->status = TERN_LOGIN_TEST_FAILED;
      test->message = g_strdup_printf (incoming ? _("Signing in to the incoming server %s failed: %s")
                                                : _("Signing in to the outgoing server %s failed: %s"),
                                       label, error->message);
    }
}

/* One step: open and sign in, with the other form of the user name when
 * the first is refused.  Returns the user name that worked, or NULL with
 * @test filled in. */
static char *
login_step (LoginData                  *data,
            const TernAutoconfigServer *server,
            TernLoginTest              *test,
            GCancellable               *cancellable,
            GError                    **error)
{
  const char *first = server->server->username ? server->server->username : data->address;
  g_autofree char *other = tern_autoconfig_other_username (first, data->address);
  const char *usernames[] = { first, other };
  g_autofree char *pin = NULL;
  const char *at = strrchr (data->address, '@');

  if (tern_autoconfig_server_needs_oauth2 (server))
    {
      test->status = TERN_LOGIN_TEST_NEEDS_OAUTH2;
      test->message = g_strdup_printf (_("%s does not accept passwords from mail programs: it "
                                         "wants a sign-in through its web page (OAuth2), which "
                                         "Tern cannot do yet."),
                                       server->server->host);
      return NULL;
    }
  pin = tern_certificate_pins_lookup (tern_context_get_store (data->context), server->server->host,
                                      server->server->port, error);
  if (pin == NULL && error != NULL && *error != NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (usernames) && usernames[i] != NULL; i++)
    {
      g_auto(Session) session = { 0 };
      g_autoptr(GError) local_error = NULL;

      if (session_open (&session, server->protocol, server->server, data->map, data->ca_file, pin,
                        data->timeout, at ? at + 1 : NULL, cancellable, &local_error)
          && session_login (&session, usernames[i], data->password, cancellable, &local_error))
        return g_strdup (usernames[i]);

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      /* Only a refused sign-in is worth a second try with another name;
       * the message names the form the template gave. */
      if (!is_auth_failure (local_error) || i + 1 == G_N_ELEMENTS (usernames)
          || usernames[i + 1] == NULL)
        {
          describe_failure (test, server->server, &session, usernames[0], local_error);
          return NULL;
        }
    }
  g_assert_not_reached ();
}

static void
login_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  LoginData *data = task_data;
  g_autoptr(TernLoginTest) test = g_new0 (TernLoginTest, 1);
  GError *error = NULL;

  test->step = TERN_LOGIN_TEST_STEP_INCOMING;
  test->incoming_username = login_step (data, data->incoming, test, cancellable, &error);
  if (test->incoming_username != NULL && data->outgoing != NULL)
    {
      test->step = TERN_LOGIN_TEST_STEP_OUTGOING;
      test->outgoing_username = login_step (data, data->outgoing, test, cancellable, &error);
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&test), (GDestroyNotify) tern_login_test_free);
}

void
tern_autoconfig_test_login_async (TernAutoconfig             *self,
                                  TernContext                *context,
                                  const char                 *address,
                                  const char                 *password,
                                  const TernAutoconfigServer *incoming,
                                  const TernAutoconfigServer *outgoing,
                                  GCancellable               *cancellable,
                                  GAsyncReadyCallback         callback,
                                  gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginData *data;

  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (address != NULL && password != NULL && incoming != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_autoconfig_test_login_async);
  data = g_new0 (LoginData, 1);
  data->context = g_object_ref (context);
  data->map = tern_autoconfig_dup_map (self);
  data->ca_file = g_strdup (tern_autoconfig_get_ca_file (self)
                              ? tern_autoconfig_get_ca_file (self)
                              : tern_context_get_ca_file (context));
  data->timeout = TERN_AUTOCONFIG_DEFAULT_TIMEOUT * 2;
  data->address = g_strdup (address);
  data->password = g_strdup (password);
  data->incoming = tern_autoconfig_server_copy (incoming);
  data->outgoing = outgoing ? tern_autoconfig_server_copy (outgoing) : NULL;
  g_task_set_task_data (task, data, (GDestroyNotify) login_data_free);
  g_task_run_in_thread (task, login_thread);
}

TernLoginTest *
tern_autoconfig_test_login_finish (TernAutoconfig  *self,
                                   GAsyncResult    *result,
                                   GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static TernServer *
server_for_account (const TernAutoconfigServer *server,
                    const char                 *username)
{
  TernServer *copy = tern_server_copy (server->server);

  if (username != NULL)
    {
      g_free (copy->username);
      copy->username = g_strdup (username);
    }
  return copy;
}

TernAccount *
tern_autoconfig_make_account (const char                 *display_name,
                              const char                 *address,
                              const TernAutoconfigServer *incoming,
                              const TernAutoconfigServer *outgoing,
                              const TernLoginTest        *test)
{
  g_autoptr(TernServer) in = NULL;
  g_autoptr(TernServer) out = NULL;

  g_return_val_if_fail (address != NULL && incoming != NULL, NULL);
  g_return_val_if_fail (incoming->protocol != TERN_AUTOCONFIG_PROTOCOL_SMTP, NULL);

  in = server_for_account (incoming, test ? test->incoming_username : NULL);
  if (outgoing != NULL)
    out = server_for_account (outgoing, test ? test->outgoing_username : NULL);
  return tern_account_new (display_name ? display_name : address, address,
                           incoming->protocol == TERN_AUTOCONFIG_PROTOCOL_IMAP
                             ? TERN_ACCOUNT_PROTOCOL_IMAP
                             : TERN_ACCOUNT_PROTOCOL_POP3,
                           in, out);
}
