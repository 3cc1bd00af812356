/* tern-autoconfig.c: detection of an account's servers.
 *
 * Each source runs on a thread of its own, all at once; the coordinator
 * (a GTask thread) waits for them in rank order and takes the first that
 * answered, so a slow low-ranked source never delays a good answer and a
 * fast low-ranked one never beats a better one.  The losers are cancelled
 * and finish on their own: each holds a reference to the detection.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-autoconfig"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gmodule.h>
#include <libsoup/soup.h>

#include "tern-app-error.h"
#include "tern-autoconfig-private.h"

#define ISPDB_URL "https://autoconfig.thunderbird.net/v1.1/"
#define GUESS_FILE "hosting-default.xml"
#define LOSER_GRACE_MS 2000

struct _TernAutoconfig
{
  GObject     parent_instance;

  char       *providers_dir;
  char       *ca_file;
  GResolver  *resolver;
  GHashTable *map; /* "host:port" → "host:port"; NULL: none */
  guint       timeout;
  guint       stagger;
  GPtrArray  *attempts;
};

G_DEFINE_FINAL_TYPE (TernAutoconfig, tern_autoconfig, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PROVIDERS_DIR,
  PROP_CA_FILE,
  PROP_RESOLVER,
  PROP_TIMEOUT,
  PROP_STAGGER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_ATTEMPT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Boxed types */

G_DEFINE_BOXED_TYPE (TernAutoconfigServer, tern_autoconfig_server, tern_autoconfig_server_copy,
                     tern_autoconfig_server_free)
G_DEFINE_BOXED_TYPE (TernAutoconfigConfig, tern_autoconfig_config, tern_autoconfig_config_copy,
                     tern_autoconfig_config_free)
G_DEFINE_BOXED_TYPE (TernAutoconfigAttempt, tern_autoconfig_attempt, tern_autoconfig_attempt_copy,
                     tern_autoconfig_attempt_free)

static const char * const source_names[] = {
  [TERN_AUTOCONFIG_SOURCE_PROVIDER] = "provider",
  [TERN_AUTOCONFIG_SOURCE_AUTOCONFIG] = "autoconfig",
  [TERN_AUTOCONFIG_SOURCE_ISPDB] = "ispdb",
  [TERN_AUTOCONFIG_SOURCE_MX] = "mx",
  [TERN_AUTOCONFIG_SOURCE_SRV] = "srv",
  [TERN_AUTOCONFIG_SOURCE_HTTP] = "http",
  [TERN_AUTOCONFIG_SOURCE_PROBE] = "probe",
  [TERN_AUTOCONFIG_SOURCE_GUESS] = "guess",
};

const char *
tern_autoconfig_source_to_string (TernAutoconfigSource source)
{
  g_return_val_if_fail (source < G_N_ELEMENTS (source_names), NULL);
  return source_names[source];
}

const char *
tern_autoconfig_source_describe (TernAutoconfigSource source)
{
  switch (source)
    {
    case TERN_AUTOCONFIG_SOURCE_PROVIDER:
      return _("Tern’s provider list");
    case TERN_AUTOCONFIG_SOURCE_AUTOCONFIG:
      return _("the provider’s configuration server");
    case TERN_AUTOCONFIG_SOURCE_ISPDB:
      return _("Thunderbird’s provider database");
    case TERN_AUTOCONFIG_SOURCE_MX:
      return _("the domain’s mail exchanger");
    case TERN_AUTOCONFIG_SOURCE_SRV:
      return _("DNS service records");
    case TERN_AUTOCONFIG_SOURCE_HTTP:
      return _("an unencrypted configuration server");
    case TERN_AUTOCONFIG_SOURCE_PROBE:
      return _("trying the usual server names");
    case TERN_AUTOCONFIG_SOURCE_GUESS:
      return _("a guess that was not checked");
    default:
      g_return_val_if_reached (NULL);
    }
}

const char *
tern_autoconfig_protocol_to_string (TernAutoconfigProtocol protocol)
{
  static const char * const names[] = { "imap", "pop3", "smtp" };

  g_return_val_if_fail (protocol < G_N_ELEMENTS (names), NULL);
  return names[protocol];
}

const char *
tern_autoconfig_result_to_string (TernAutoconfigResult result)
{
  static const char * const names[] = {
    "trying", "found", "not-found", "invalid", "failed", "skipped",
  };

  g_return_val_if_fail (result < G_N_ELEMENTS (names), NULL);
  return names[result];
}

TernAutoconfigServer *
tern_autoconfig_server_copy (const TernAutoconfigServer *server)
{
  TernAutoconfigServer *copy = g_new0 (TernAutoconfigServer, 1);

  copy->protocol = server->protocol;
  copy->server = tern_server_copy (server->server);
  copy->username_template = g_strdup (server->username_template);
  copy->auth = server->auth;
  return copy;
}

void
tern_autoconfig_server_free (TernAutoconfigServer *server)
{
  if (server == NULL)
    return;
  tern_server_free (server->server);
  g_free (server->username_template);
  g_free (server);
}

gboolean
tern_autoconfig_server_needs_oauth2 (const TernAutoconfigServer *server)
{
  return (server->auth & TERN_AUTOCONFIG_AUTH_OAUTH2) != 0
         && (server->auth & TERN_AUTOCONFIG_AUTH_PASSWORD) == 0;
}

gboolean
tern_autoconfig_server_is_insecure (const TernAutoconfigServer *server)
{
  return server->server->security == TERN_TLS_MODE_PLAIN;
}

static GPtrArray *
copy_servers (GPtrArray *servers)
{
  return g_ptr_array_copy (servers, (GCopyFunc) (void (*) (void)) tern_autoconfig_server_copy,
                           NULL);
}

TernAutoconfigConfig *
tern_autoconfig_config_copy (const TernAutoconfigConfig *config)
{
  TernAutoconfigConfig *copy = g_new0 (TernAutoconfigConfig, 1);

  copy->source = config->source;
  copy->origin = g_strdup (config->origin);
  copy->provider_name = g_strdup (config->provider_name);
  copy->untrusted = config->untrusted;
  copy->insecure = config->insecure;
  copy->password_kind = config->password_kind;
  copy->help_url = g_strdup (config->help_url);
  copy->incoming = copy_servers (config->incoming);
  g_ptr_array_set_free_func (copy->incoming, (GDestroyNotify) tern_autoconfig_server_free);
  copy->outgoing = copy_servers (config->outgoing);
  g_ptr_array_set_free_func (copy->outgoing, (GDestroyNotify) tern_autoconfig_server_free);
  return copy;
}

void
tern_autoconfig_config_free (TernAutoconfigConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->origin);
  g_free (config->provider_name);
  g_free (config->help_url);
  g_clear_pointer (&config->incoming, g_ptr_array_unref);
  g_clear_pointer (&config->outgoing, g_ptr_array_unref);
  g_free (config);
}

const TernAutoconfigServer *
tern_autoconfig_config_find (const TernAutoconfigConfig *config,
                             TernAutoconfigProtocol      protocol)
{
  for (guint i = 0; i < config->incoming->len; i++)
    {
      const TernAutoconfigServer *server = g_ptr_array_index (config->incoming, i);

      if (server->protocol == protocol)
        return server;
    }
  return NULL;
}

static TernAutoconfigConfig *
config_new (TernAutoconfigSource source)
{
  TernAutoconfigConfig *config = g_new0 (TernAutoconfigConfig, 1);

  config->source = source;
  config->incoming = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);
  config->outgoing = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_server_free);
  return config;
}

TernAutoconfigAttempt *
tern_autoconfig_attempt_copy (const TernAutoconfigAttempt *attempt)
{
  TernAutoconfigAttempt *copy = g_memdup2 (attempt, sizeof *attempt);

  copy->host = g_strdup (attempt->host);
  copy->what = g_strdup (attempt->what);
  copy->message = g_strdup (attempt->message);
  return copy;
}

void
tern_autoconfig_attempt_free (TernAutoconfigAttempt *attempt)
{
  if (attempt == NULL)
    return;
  g_free (attempt->host);
  g_free (attempt->what);
  g_free (attempt->message);
  g_free (attempt);
}

/* The object */

static void
tern_autoconfig_finalize (GObject *object)
{
  TernAutoconfig *self = TERN_AUTOCONFIG (object);

  g_free (self->providers_dir);
  g_free (self->ca_file);
  g_clear_object (&self->resolver);
  g_clear_pointer (&self->map, g_hash_table_unref);
  g_clear_pointer (&self->attempts, g_ptr_array_unref);
  G_OBJECT_CLASS (tern_autoconfig_parent_class)->finalize (object);
}

static void
tern_autoconfig_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TernAutoconfig *self = TERN_AUTOCONFIG (object);

  switch (prop_id)
    {
    case PROP_PROVIDERS_DIR:
      g_value_set_string (value, self->providers_dir);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_RESOLVER:
      g_value_set_object (value, self->resolver);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_STAGGER:
      g_value_set_uint (value, self->stagger);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_autoconfig_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TernAutoconfig *self = TERN_AUTOCONFIG (object);

  switch (prop_id)
    {
    case PROP_PROVIDERS_DIR:
      tern_autoconfig_set_providers_dir (self, g_value_get_string (value));
      break;
    case PROP_CA_FILE:
      tern_autoconfig_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_RESOLVER:
      tern_autoconfig_set_resolver (self, g_value_get_object (value));
      break;
    case PROP_TIMEOUT:
      tern_autoconfig_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_STAGGER:
      tern_autoconfig_set_stagger (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_autoconfig_class_init (TernAutoconfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_autoconfig_finalize;
  object_class->get_property = tern_autoconfig_get_property;
  object_class->set_property = tern_autoconfig_set_property;

  /* NULL: $TERN_PROVIDERS_DIR, else the installed provider files. */
  properties[PROP_PROVIDERS_DIR] =
    g_param_spec_string ("providers-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Extra authorities for HTTPS and the servers, besides the system's. */
  properties[PROP_CA_FILE] =
    g_param_spec_string ("ca-file", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* For MX and SRV records; NULL: the default resolver. */
  properties[PROP_RESOLVER] =
    g_param_spec_object ("resolver", NULL, NULL, G_TYPE_RESOLVER,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Seconds for each fetch, lookup and probe. */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 1, 600, TERN_AUTOCONFIG_DEFAULT_TIMEOUT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Milliseconds between the starts of two probes. */
  properties[PROP_STAGGER] =
    g_param_spec_uint ("stagger", NULL, NULL, 0, 10000, TERN_AUTOCONFIG_DEFAULT_STAGGER,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TernAutoconfig::attempt:
   * @attempt: a #TernAutoconfigAttempt
   *
   * Something is being tried (result TRYING) or has been (any other
   * result): what a progress page shows.  Emitted on the main context of
   * the thread that started the detection.
   */
  signals[SIGNAL_ATTEMPT] =
    g_signal_new ("attempt", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TERN_TYPE_AUTOCONFIG_ATTEMPT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
tern_autoconfig_init (TernAutoconfig *self)
{
  self->timeout = TERN_AUTOCONFIG_DEFAULT_TIMEOUT;
  self->stagger = TERN_AUTOCONFIG_DEFAULT_STAGGER;
  self->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_attempt_free);
}

TernAutoconfig *
tern_autoconfig_new (void)
{
  return g_object_new (TERN_TYPE_AUTOCONFIG, NULL);
}

static void
set_string (TernAutoconfig  *self,
            char           **field,
            const char      *value,
            guint            prop_id)
{
  if (value != NULL && *value == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
tern_autoconfig_set_providers_dir (TernAutoconfig *self,
                                   const char     *providers_dir)
{
  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  set_string (self, &self->providers_dir, providers_dir, PROP_PROVIDERS_DIR);
}

const char *
tern_autoconfig_get_providers_dir (TernAutoconfig *self)
{
  const char *dir;

  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), NULL);
  if (self->providers_dir != NULL)
    return self->providers_dir;
  dir = g_getenv ("TERN_PROVIDERS_DIR");
  return dir != NULL && *dir != '\0' ? dir : TERN_DATADIR G_DIR_SEPARATOR_S "providers";
}

void
tern_autoconfig_set_ca_file (TernAutoconfig *self,
                             const char     *ca_file)
{
  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  set_string (self, &self->ca_file, ca_file, PROP_CA_FILE);
}

const char *
tern_autoconfig_get_ca_file (TernAutoconfig *self)
{
  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), NULL);
  return self->ca_file;
}

void
tern_autoconfig_set_resolver (TernAutoconfig *self,
                              GResolver      *resolver)
{
  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  g_return_if_fail (resolver == NULL || G_IS_RESOLVER (resolver));
  if (g_set_object (&self->resolver, resolver))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESOLVER]);
}

GResolver *
tern_autoconfig_get_resolver (TernAutoconfig *self)
{
  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), NULL);
  return self->resolver;
}

void
tern_autoconfig_set_timeout (TernAutoconfig *self,
                             guint           seconds)
{
  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  g_return_if_fail (seconds > 0);
  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

void
tern_autoconfig_set_stagger (TernAutoconfig *self,
                             guint           milliseconds)
{
  g_return_if_fail (TERN_IS_AUTOCONFIG (self));
  if (self->stagger == milliseconds)
    return;
  self->stagger = milliseconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STAGGER]);
}

/* The address map */

/* "host:port" in a canonical form (lower case), or NULL. */
static char *
normalize_address (const char *text)
{
  g_autofree char *spec = g_strconcat (text, ":tls", NULL);
  g_autoptr(TernServer) server = tern_server_parse (spec, NULL);
  g_autofree char *host = NULL;

  if (server == NULL)
    return NULL;
  host = g_ascii_strdown (server->host, -1);
  return g_strdup_printf (strchr (host, ':') ? "[%s]:%u" : "%s:%u", host, server->port);
}

gboolean
tern_autoconfig_map_address (TernAutoconfig *self,
                             const char     *from,
                             const char     *to)
{
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;

  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), FALSE);

  key = normalize_address (from);
  value = normalize_address (to);
  if (key == NULL || value == NULL)
    return FALSE;
  if (self->map == NULL)
    self->map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (self->map, g_steal_pointer (&key), g_steal_pointer (&value));
  return TRUE;
}

GHashTable *
tern_autoconfig_dup_map (TernAutoconfig *self)
{
  GHashTable *copy;
  GHashTableIter iter;
  gpointer key, value;

  if (self->map == NULL)
    return NULL;
  copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, self->map);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
  return copy;
}

gboolean
tern_autoconfig_map_lookup (GHashTable  *map,
                            const char  *host,
                            guint16      port,
                            char       **mapped_host,
                            guint16     *mapped_port,
                            GError     **error)
{
  g_autofree char *lower = g_ascii_strdown (host, -1);
  g_autofree char *key = g_strdup_printf (strchr (lower, ':') ? "[%s]:%u" : "%s:%u", lower, port);
  const char *value;
  g_autofree char *spec = NULL;
  g_autoptr(TernServer) server = NULL;

  if (map == NULL)
    {
      *mapped_host = g_strdup (host);
      *mapped_port = port;
      return TRUE;
    }
  value = g_hash_table_lookup (map, key);
  if (value == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("%s is not in the address map."), key);
      return FALSE;
    }
  spec = g_strconcat (value, ":tls", NULL);
  server = tern_server_parse (spec, error);
  if (server == NULL)
    return FALSE;
  *mapped_host = g_steal_pointer (&server->host);
  *mapped_port = server->port;
  return TRUE;
}

/* Detections */

static TernDetection *
tern_detection_ref (TernDetection *detection)
{
  g_atomic_ref_count_inc (&detection->ref);
  return detection;
}

static void
tern_detection_unref (TernDetection *detection)
{
  if (!g_atomic_ref_count_dec (&detection->ref))
    return;
  g_weak_ref_clear (&detection->owner);
  g_main_context_unref (detection->context);
  g_mutex_clear (&detection->lock);
  g_cond_clear (&detection->cond);
  g_object_unref (detection->cancellable);
  g_free (detection->address);
  g_free (detection->domain);
  g_free (detection->providers_dir);
  g_free (detection->ca_file);
  g_clear_object (&detection->resolver);
  g_clear_pointer (&detection->map, g_hash_table_unref);
  g_ptr_array_unref (detection->attempts);
  g_free (detection);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernDetection, tern_detection_unref)

/* Attempts reach the caller's main context without keeping the object
 * alive: a source that lost may report long after the caller is gone. */
typedef struct
{
  GWeakRef               owner;
  TernAutoconfigAttempt *attempt;
} Emission;

static gboolean
emit_attempt (gpointer data)
{
  Emission *emission = data;
  g_autoptr(TernAutoconfig) owner = g_weak_ref_get (&emission->owner);

  if (owner != NULL)
    g_signal_emit (owner, signals[SIGNAL_ATTEMPT], 0, emission->attempt);
  return G_SOURCE_REMOVE;
}

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  g_weak_ref_clear (&emission->owner);
  tern_autoconfig_attempt_free (emission->attempt);
  g_free (emission);
}

/* Called with the lock held. */
static void
report (TernDetection               *detection,
        const TernAutoconfigAttempt *attempt)
{
  g_autoptr(TernAutoconfig) owner = g_weak_ref_get (&detection->owner);
  g_autoptr(GSource) source = NULL;
  Emission *emission;

  if (detection->finished || owner == NULL)
    return;
  emission = g_new0 (Emission, 1);
  g_weak_ref_init (&emission->owner, owner);
  emission->attempt = tern_autoconfig_attempt_copy (attempt);
  /* An idle source, not g_main_context_invoke(): that would run the
   * handlers right here, on this thread and under the lock, whenever the
   * main context happens to be free. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_attempt, emission, emission_free);
  g_source_set_static_name (source, "[tern] autoconfig attempt");
  g_source_attach (source, detection->context);
}

guint
tern_detection_attempt_start (TernDetection        *detection,
                              TernAutoconfigSource  source,
                              const char           *host,
                              guint16               port,
                              const char           *what)
{
  TernAutoconfigAttempt *attempt = g_new0 (TernAutoconfigAttempt, 1);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&detection->lock);

  attempt->id = detection->attempts->len;
  attempt->source = source;
  attempt->host = g_strdup (host);
  attempt->port = port;
  attempt->what = g_strdup (what);
  attempt->result = TERN_AUTOCONFIG_RESULT_TRYING;
  g_ptr_array_add (detection->attempts, attempt);
  report (detection, attempt);
  return attempt->id;
}

void
tern_detection_attempt_end (TernDetection        *detection,
                            guint                 id,
                            TernAutoconfigResult  result,
                            const char           *message)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&detection->lock);
  TernAutoconfigAttempt *attempt = g_ptr_array_index (detection->attempts, id);

  if (detection->finished)
    return;
  attempt->result = result;
  g_free (attempt->message);
  attempt->message = g_strdup (message);
  report (detection, attempt);
}

static TernAutoconfigResult
result_from_error (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return TERN_AUTOCONFIG_RESULT_SKIPPED;
  if (g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND)
      || g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    return TERN_AUTOCONFIG_RESULT_NOT_FOUND;
  if (g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID))
    return TERN_AUTOCONFIG_RESULT_INVALID;
  return TERN_AUTOCONFIG_RESULT_FAILED;
}

static void
end_with_error (TernDetection *detection,
                guint          id,
                const GError  *error)
{
  tern_detection_attempt_end (detection, id, result_from_error (error), error->message);
}

/* Provider files */

static TernAutoconfigConfig *
parse_file (const char  *path,
            const char  *address,
            GStrv       *domains,
            GError     **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return tern_autoconfig_parse (data, len, address, domains, error);
}

/* The shipped file whose <domain> list has @domain. */
static TernAutoconfigConfig *
lookup_provider (TernDetection         *detection,
                 TernAutoconfigSource   source,
                 const char            *domain)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint id = tern_detection_attempt_start (detection, source, domain, 0,
                                           detection->providers_dir);

  dir = g_dir_open (detection->providers_dir, 0, &error);
  if (dir == NULL)
    {
      end_with_error (detection, id, error);
      return NULL;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(TernAutoconfigConfig) config = NULL;
      g_auto(GStrv) domains = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      path = g_build_filename (detection->providers_dir, name, NULL);
      config = parse_file (path, detection->address, &domains, &local_error);
      if (config == NULL)
        {
          g_debug ("Provider file %s: %s", path, local_error->message);
          continue;
        }
      if (!g_strv_contains ((const char * const *) domains, domain))
        continue;
      config->source = source;
      config->origin = g_strdup (name);
      tern_detection_attempt_end (detection, id, TERN_AUTOCONFIG_RESULT_FOUND, name);
      return g_steal_pointer (&config);
    }
  tern_detection_attempt_end (detection, id, TERN_AUTOCONFIG_RESULT_NOT_FOUND, NULL);
  return NULL;
}

/* HTTP */

/* libsoup, loaded when the setup first fetches a configuration or asks
 * for a domain's public suffix.  Linked, it and the twelve libraries it
 * brings (HTTP/2, Brotli, PSL, Kerberos...) were loaded at every start of
 * every process, 3 ms of the 50 that a no-change sync may take on the
 * benchmark's machine; a sync never needs them. */
typedef struct
{
  SoupSession  *(*session_new_with_options)    (const char *first_property, ...);
  SoupMessage  *(*message_new_from_uri)        (const char *method, GUri *uri);
  GInputStream *(*session_send)                (SoupSession *session, SoupMessage *message,
                                                GCancellable *cancellable, GError **error);
  guint         (*message_get_status)          (SoupMessage *message);
  GUri         *(*message_get_uri)             (SoupMessage *message);
  const char   *(*message_get_reason_phrase)   (SoupMessage *message);
  const char   *(*tld_get_base_domain)         (const char *hostname, GError **error);
  gboolean      (*tld_domain_is_public_suffix) (const char *domain);
  char *error;  /* why it could not be loaded; then the rest is NULL */
} Soup;

static gboolean
find_symbols (GModule *module,
              Soup    *soup)
{
  const struct {
    const char *name;
    gpointer *address;
  } symbols[] = {
    { "soup_session_new_with_options", (gpointer *) &soup->session_new_with_options },
    { "soup_message_new_from_uri", (gpointer *) &soup->message_new_from_uri },
    { "soup_session_send", (gpointer *) &soup->session_send },
    { "soup_message_get_status", (gpointer *) &soup->message_get_status },
    { "soup_message_get_uri", (gpointer *) &soup->message_get_uri },
    { "soup_message_get_reason_phrase", (gpointer *) &soup->message_get_reason_phrase },
    { "soup_tld_get_base_domain", (gpointer *) &soup->tld_get_base_domain },
    { "soup_tld_domain_is_public_suffix", (gpointer *) &soup->tld_domain_is_public_suffix },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (symbols); i++)
    if (!g_module_symbol (module, symbols[i].name, symbols[i].address))
      return FALSE;
  return TRUE;
}

static const Soup *
get_soup (void)
{
  static Soup soup;
  static gsize loaded;

  if (g_once_init_enter (&loaded))
    {
      GModule *module = g_module_open (TERN_SOUP_LIBRARY, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);

      if (module == NULL || !find_symbols (module, &soup))
        {
          const char *why = g_module_error ();
          Soup failed = { 0 };

          failed.error = g_strdup (why != NULL ? why : "no such library or symbol");
          soup = failed;
          g_warning ("%s could not be loaded: %s", TERN_SOUP_LIBRARY, soup.error);
        }
      /* Its types are registered with GObject once used: never unloaded. */
      if (module != NULL)
        g_module_make_resident (module);
      g_once_init_leave (&loaded, 1);
    }
  return &soup;
}

typedef struct
{
  GTlsDatabase       *database;
  GSocketConnectable *identity;
} ExtraTrust;

/* A certificate the system does not trust is still fine when the extra CA
 * file vouches for it, as TernConnection does for the mail servers. */
static gboolean
accept_certificate (SoupMessage          *message,
                    GTlsCertificate      *certificate,
                    GTlsCertificateFlags  errors,
                    gpointer              user_data)
{
  ExtraTrust *trust = user_data;

  return g_tls_database_verify_chain (trust->database, certificate,
                                      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, trust->identity,
                                      NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL) == 0;
}

static GBytes *
read_limited (GInputStream  *stream,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;)
    {
      gssize n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (data, buffer, n);
      if (data->len > TERN_AUTOCONFIG_MAX_DOCUMENT)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("The configuration is larger than %u bytes."),
                       TERN_AUTOCONFIG_MAX_DOCUMENT);
          return NULL;
        }
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static GBytes *
http_fetch (TernDetection  *detection,
            GUri           *uri,
            GError        **error)
{
  gboolean https = g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;
  gint port = g_uri_get_port (uri);
  g_autofree char *host = NULL;
  guint16 mapped_port = 0;
  g_autoptr(GUri) target = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GInputStream) stream = NULL;
  const Soup *soup = get_soup ();
  ExtraTrust trust = { NULL, NULL };
  GBytes *body = NULL;
  guint status;

  if (soup->error != NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                   _("The HTTP library could not be loaded: %s"), soup->error);
      return NULL;
    }
  if (!tern_autoconfig_map_lookup (detection->map, g_uri_get_host (uri),
                                   port > 0 ? port : https ? 443 : 80, &host, &mapped_port, error))
    return NULL;
  target = g_uri_build (G_URI_FLAGS_NONE, g_uri_get_scheme (uri), NULL, host, mapped_port,
                        g_uri_get_path (uri), g_uri_get_query (uri), NULL);

  session = soup->session_new_with_options ("timeout", detection->timeout, "idle-timeout",
                                           detection->timeout, "user-agent",
                                           PACKAGE_NAME "/" PACKAGE_VERSION, NULL);
  message = soup->message_new_from_uri ("GET", target);
  if (https && detection->ca_file != NULL)
    {
      trust.database = g_tls_file_database_new (detection->ca_file, error);
      if (trust.database == NULL)
        return NULL;
      trust.identity = g_network_address_new (host, mapped_port);
      g_signal_connect (message, "accept-certificate", G_CALLBACK (accept_certificate), &trust);
    }

  stream = soup->session_send (session, message, detection->cancellable, error);
  if (stream != NULL)
    {
      status = soup->message_get_status (message);
      if (https && g_strcmp0 (g_uri_get_scheme (soup->message_get_uri (message)), "https") != 0)
        g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                             _("The server redirected to an unencrypted address."));
      else if (status >= 400 && status < 500)
        g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("The server answered %u %s."),
                     status, soup->message_get_reason_phrase (message));
      else if (!SOUP_STATUS_IS_SUCCESSFUL (status))
        g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED, _("The server answered %u %s."),
                     status, soup->message_get_reason_phrase (message));
      else
        body = read_limited (stream, detection->cancellable, error);
    }
  if (trust.database != NULL)
    g_signal_handlers_disconnect_by_data (message, &trust);
  g_clear_object (&trust.database);
  g_clear_object (&trust.identity);
  return body;
}

static TernAutoconfigConfig *
fetch_config (TernDetection        *detection,
              TernAutoconfigSource  source,
              const char           *url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_ENCODED_QUERY, &error);
  g_autoptr(GBytes) body = NULL;
  TernAutoconfigConfig *config = NULL;
  gboolean https;
  guint id;

  if (uri == NULL)
    {
      g_debug ("%s: %s", url, error->message);
      return NULL;
    }
  https = g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;
  id = tern_detection_attempt_start (detection, source, g_uri_get_host (uri),
                                     g_uri_get_port (uri) > 0 ? g_uri_get_port (uri)
                                                              : https ? 443 : 80,
                                     url);
  body = http_fetch (detection, uri, &error);
  if (body != NULL)
    config = tern_autoconfig_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                                    detection->address, NULL, &error);
  if (config == NULL)
    {
      end_with_error (detection, id, error);
      return NULL;
    }
  config->source = source;
  config->origin = g_strdup (url);
  config->untrusted = !https;
  tern_detection_attempt_end (detection, id, TERN_AUTOCONFIG_RESULT_FOUND, NULL);
  return config;
}

static char *
autoconfig_url (const char *scheme,
                const char *domain,
                const char *address)
{
  g_autofree char *escaped = g_uri_escape_string (address, NULL, FALSE);

  return g_strdup_printf ("%s://autoconfig.%s/mail/config-v1.1.xml?emailaddress=%s", scheme,
                          domain, escaped);
}

/* The provider's own server, then its .well-known address. */
static TernAutoconfigConfig *
lookup_autoconfig (TernDetection        *detection,
                   TernAutoconfigSource  source,
                   const char           *domain)
{
  g_autofree char *url = autoconfig_url ("https", domain, detection->address);
  g_autofree char *well_known = NULL;
  TernAutoconfigConfig *config = fetch_config (detection, source, url);

  if (config != NULL || g_cancellable_is_cancelled (detection->cancellable))
    return config;
  well_known = g_strdup_printf ("https://%s/.well-known/autoconfig/mail/config-v1.1.xml", domain);
  return fetch_config (detection, source, well_known);
}

static TernAutoconfigConfig *
lookup_ispdb (TernDetection        *detection,
              TernAutoconfigSource  source,
              const char           *domain)
{
  g_autofree char *url = g_strconcat (ISPDB_URL, domain, NULL);

  return fetch_config (detection, source, url);
}

/* The sources, each run on a thread of its own */

static TernAutoconfigConfig *
source_provider (TernDetection *detection)
{
  return lookup_provider (detection, TERN_AUTOCONFIG_SOURCE_PROVIDER, detection->domain);
}

static TernAutoconfigConfig *
source_autoconfig (TernDetection *detection)
{
  return lookup_autoconfig (detection, TERN_AUTOCONFIG_SOURCE_AUTOCONFIG, detection->domain);
}

static TernAutoconfigConfig *
source_ispdb (TernDetection *detection)
{
  return lookup_ispdb (detection, TERN_AUTOCONFIG_SOURCE_ISPDB, detection->domain);
}

static TernAutoconfigConfig *
source_http (TernDetection *detection)
{
  g_autofree char *url = autoconfig_url ("http", detection->domain, detection->address);

  return fetch_config (detection, TERN_AUTOCONFIG_SOURCE_HTTP, url);
}

static char *
strip_dot (const char *name)
{
  gsize len = strlen (name);

  while (len > 0 && name[len - 1] == '.')
    len--;
  return g_ascii_strdown (name, len);
}

static GList *
offline_lookup (GError **error)
{
  g_set_error_literal (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                       _("DNS is not asked: only mapped addresses are reachable."));
  return NULL;
}

/* The MX host with the lowest preference, or NULL. */
static char *
lookup_mx (TernDetection *detection)
{
  g_autoptr(GError) error = NULL;
  GList *records;
  char *best = NULL;
  guint16 best_preference = G_MAXUINT16;
  guint id = tern_detection_attempt_start (detection, TERN_AUTOCONFIG_SOURCE_MX, detection->domain,
                                           0, "MX");

  if (detection->resolver != NULL)
    records = g_resolver_lookup_records (detection->resolver, detection->domain,
                                         G_RESOLVER_RECORD_MX, detection->cancellable, &error);
  else
    records = offline_lookup (&error);
  for (GList *l = records; l != NULL; l = l->next)
    {
      guint16 preference;
      const char *host;

      if (!g_variant_is_of_type (l->data, G_VARIANT_TYPE ("(qs)")))
        continue;
      g_variant_get (l->data, "(q&s)", &preference, &host);
      if (preference < best_preference && strcmp (host, ".") != 0 && *host != '\0')
        {
          g_free (best);
          best = strip_dot (host);
          best_preference = preference;
        }
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  if (error != NULL)
    end_with_error (detection, id, error);
  else
    tern_detection_attempt_end (detection, id,
                                best ? TERN_AUTOCONFIG_RESULT_FOUND
                                     : TERN_AUTOCONFIG_RESULT_NOT_FOUND,
                                best);
  return best;
}

/* mx1.mail.provider.co.uk → mail.provider.co.uk, then provider.co.uk. */
static GPtrArray *
mx_domains (const char *mx_host,
            const char *own_domain)
{
  GPtrArray *domains = g_ptr_array_new_with_free_func (g_free);
  const Soup *soup = get_soup ();
  const char *dot = strchr (mx_host, '.');
  const char *base = NULL;
  const char *candidates[2] = { NULL, NULL };

  /* Without the public suffix list, no domain is known not to be one. */
  if (soup->error != NULL)
    return domains;
  base = soup->tld_get_base_domain (mx_host, NULL);
  candidates[0] = dot ? dot + 1 : NULL;
  candidates[1] = base;

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      const char *candidate = candidates[i];
      gboolean seen = FALSE;

      if (candidate == NULL || strchr (candidate, '.') == NULL
          || g_ascii_strcasecmp (candidate, own_domain) == 0)
        continue;
      /* A public suffix ("co.uk") is nobody's configuration. */
      if (soup->tld_domain_is_public_suffix (candidate))
        continue;
      for (guint j = 0; j < domains->len; j++)
        seen |= g_ascii_strcasecmp (g_ptr_array_index (domains, j), candidate) == 0;
      if (!seen)
        g_ptr_array_add (domains, g_ascii_strdown (candidate, -1));
    }
  return domains;
}

static TernAutoconfigConfig *
source_mx (TernDetection *detection)
{
  g_autofree char *mx_host = lookup_mx (detection);
  g_autoptr(GPtrArray) domains = NULL;

  if (mx_host == NULL)
    return NULL;
  domains = mx_domains (mx_host, detection->domain);
  for (guint i = 0; i < domains->len; i++)
    {
      const char *domain = g_ptr_array_index (domains, i);
      TernAutoconfigConfig *config = NULL;

      if (g_cancellable_is_cancelled (detection->cancellable))
        return NULL;
      config = lookup_provider (detection, TERN_AUTOCONFIG_SOURCE_MX, domain);
      if (config == NULL)
        config = lookup_autoconfig (detection, TERN_AUTOCONFIG_SOURCE_MX, domain);
      if (config == NULL)
        config = lookup_ispdb (detection, TERN_AUTOCONFIG_SOURCE_MX, domain);
      if (config != NULL)
        {
          char *origin = g_strdup_printf (_("%s (for the mail exchanger %s)"), config->origin,
                                          mx_host);
          g_free (config->origin);
          config->origin = origin;
          return config;
        }
    }
  return NULL;
}

typedef struct
{
  const char             *service;
  TernAutoconfigProtocol  protocol;
  TernTlsMode             security;
} SrvService;

/* RFC 8314 order: implicit TLS before STARTTLS, IMAP before POP3. */
static const SrvService srv_services[] = {
  { "imaps", TERN_AUTOCONFIG_PROTOCOL_IMAP, TERN_TLS_MODE_IMPLICIT },
  { "imap", TERN_AUTOCONFIG_PROTOCOL_IMAP, TERN_TLS_MODE_STARTTLS },
  { "pop3s", TERN_AUTOCONFIG_PROTOCOL_POP3, TERN_TLS_MODE_IMPLICIT },
  { "pop3", TERN_AUTOCONFIG_PROTOCOL_POP3, TERN_TLS_MODE_STARTTLS },
  { "submissions", TERN_AUTOCONFIG_PROTOCOL_SMTP, TERN_TLS_MODE_IMPLICIT },
  { "submission", TERN_AUTOCONFIG_PROTOCOL_SMTP, TERN_TLS_MODE_STARTTLS },
};

static void
lookup_srv (TernDetection    *detection,
            const SrvService *service,
            GPtrArray        *servers,
            GString          *names)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("_%s._tcp.%s", service->service, detection->domain);
  guint id = tern_detection_attempt_start (detection, TERN_AUTOCONFIG_SOURCE_SRV, name, 0, "SRV");
  GList *targets = detection->resolver
                     ? g_resolver_lookup_service (detection->resolver, service->service, "tcp",
                                                  detection->domain, detection->cancellable,
                                                  &error)
                     : offline_lookup (&error);
  guint found = 0;

  for (GList *l = targets; l != NULL; l = l->next)
    {
      g_autofree char *host = strip_dot (g_srv_target_get_hostname (l->data));
      guint16 port = g_srv_target_get_port (l->data);

      /* "." (here: empty) means the service is deliberately not offered. */
      if (*host == '\0' || port == 0)
        continue;
      /* RFC 6186 §4: try the whole address as the user name first. */
      g_ptr_array_add (servers, tern_autoconfig_server_new (service->protocol, host, port,
                                                            service->security, "%EMAILADDRESS%",
                                                            detection->address));
      found++;
    }
  g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);
  if (error != NULL)
    end_with_error (detection, id, error);
  else
    tern_detection_attempt_end (detection, id,
                                found ? TERN_AUTOCONFIG_RESULT_FOUND
                                      : TERN_AUTOCONFIG_RESULT_NOT_FOUND,
                                NULL);
  if (found > 0)
    g_string_append_printf (names, "%s%s", names->len ? ", " : "", name);
}

static TernAutoconfigConfig *
source_srv (TernDetection *detection)
{
  g_autoptr(TernAutoconfigConfig) config = config_new (TERN_AUTOCONFIG_SOURCE_SRV);
  g_autoptr(GString) names = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (srv_services); i++)
    {
      const SrvService *service = &srv_services[i];

      if (g_cancellable_is_cancelled (detection->cancellable))
        return NULL;
      lookup_srv (detection, service,
                  service->protocol == TERN_AUTOCONFIG_PROTOCOL_SMTP ? config->outgoing
                                                                     : config->incoming,
                  names);
    }
  if (config->incoming->len == 0 || config->outgoing->len == 0)
    return NULL;
  config->origin = g_string_free (g_steal_pointer (&names), FALSE);
  tern_autoconfig_config_update_flags (config);
  return g_steal_pointer (&config);
}

/* Running the sources */

typedef TernAutoconfigConfig *(*SourceFunc) (TernDetection *detection);

/* In rank order.  The last, plain HTTP, runs alongside the others but
 * ranks below secure probing: it is taken only when the usual server names
 * did not answer securely (see detect_thread()). */
static const SourceFunc sources[] = {
  source_provider,
  source_autoconfig,
  source_ispdb,
  source_mx,
  source_srv,
  source_http,
};

typedef struct
{
  TernDetection        *detection;
  SourceFunc            func;
  TernAutoconfigConfig *config;
  gboolean              done;
  gatomicrefcount       ref;
} Job;

static void
job_unref (Job *job)
{
  if (!g_atomic_ref_count_dec (&job->ref))
    return;
  tern_detection_unref (job->detection);
  tern_autoconfig_config_free (job->config);
  g_free (job);
}

static gpointer
job_thread (gpointer data)
{
  Job *job = data;
  TernDetection *detection = job->detection;
  TernAutoconfigConfig *config = job->func (detection);

  g_mutex_lock (&detection->lock);
  job->config = config;
  job->done = TRUE;
  g_cond_broadcast (&detection->cond);
  g_mutex_unlock (&detection->lock);
  job_unref (job);
  return NULL;
}

static void
wake_up (GCancellable  *cancellable,
         TernDetection *detection)
{
  g_mutex_lock (&detection->lock);
  g_cond_broadcast (&detection->cond);
  g_mutex_unlock (&detection->lock);
}

#define N_RANKED (G_N_ELEMENTS (sources) - 1)
#define HTTP_JOB (G_N_ELEMENTS (sources) - 1)

/* The best answer of the sources ranked above probing, or NULL; then
 * @http_job is the plain-HTTP job, still running perhaps. */
static TernAutoconfigConfig *
run_sources (TernDetection  *detection,
             Job           **http_job)
{
  Job *jobs[G_N_ELEMENTS (sources)];
  TernAutoconfigConfig *winner = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      Job *job = g_new0 (Job, 1);

      job->detection = tern_detection_ref (detection);
      job->func = sources[i];
      g_atomic_ref_count_init (&job->ref);
      g_atomic_ref_count_inc (&job->ref);
      jobs[i] = job;
      g_thread_unref (g_thread_new ("tern-autoconfig", job_thread, job));
    }

  g_mutex_lock (&detection->lock);
  for (guint i = 0; i < N_RANKED && winner == NULL; i++)
    {
      while (!jobs[i]->done && !g_cancellable_is_cancelled (detection->cancellable))
        g_cond_wait (&detection->cond, &detection->lock);
      winner = g_steal_pointer (&jobs[i]->config);
    }
  g_mutex_unlock (&detection->lock);

  /* The losers stop what they are doing.  They get a moment to do so, so
   * that nothing of this detection is still talking to servers when the
   * caller hears the answer; a DNS lookup that ignores cancellation is
   * not waited for beyond that. */
  if (winner != NULL)
    {
      gint64 end = g_get_monotonic_time () + LOSER_GRACE_MS * G_TIME_SPAN_MILLISECOND;

      g_cancellable_cancel (detection->cancellable);
      g_mutex_lock (&detection->lock);
      for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
        while (!jobs[i]->done)
          if (!g_cond_wait_until (&detection->cond, &detection->lock, end))
            break;
      g_mutex_unlock (&detection->lock);
    }
  *http_job = winner ? NULL : jobs[HTTP_JOB];
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    if (winner != NULL || i != HTTP_JOB)
      job_unref (jobs[i]);
  return winner;
}

/* Before any plaintext server is considered: what plain HTTP said. */
static TernAutoconfigConfig *
take_http (TernDetection *detection,
           gpointer       data)
{
  Job *job = data;
  TernAutoconfigConfig *config;

  g_mutex_lock (&detection->lock);
  while (!job->done && !g_cancellable_is_cancelled (detection->cancellable))
    g_cond_wait (&detection->cond, &detection->lock);
  config = g_steal_pointer (&job->config);
  g_mutex_unlock (&detection->lock);
  return config;
}

static void
detect_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  TernDetection *detection = task_data;
  TernAutoconfigConfig *config;
  Job *http_job = NULL;
  gulong handler;

  handler = g_cancellable_connect (detection->cancellable, G_CALLBACK (wake_up), detection, NULL);
  config = run_sources (detection, &http_job);
  if (config == NULL && !g_cancellable_is_cancelled (detection->cancellable))
    config = tern_detection_probe (detection, take_http, http_job);
  g_cancellable_disconnect (detection->cancellable, handler);
  g_clear_pointer (&http_job, job_unref);

  if (g_task_return_error_if_cancelled (task))
    tern_autoconfig_config_free (config);
  else if (config == NULL)
    g_task_return_new_error (task, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                             _("No server settings were found for %s: neither the known "
                               "providers, the domain’s configuration, DNS, nor the usual "
                               "server names answered.  Enter the servers by hand."),
                             detection->domain);
  else
    g_task_return_pointer (task, config, (GDestroyNotify) tern_autoconfig_config_free);
}

static void
forward_cancel (GCancellable *cancellable,
                GCancellable *target)
{
  g_cancellable_cancel (target);
}

static gboolean
split_address (const char  *address,
               char       **domain,
               GError     **error)
{
  const char *at = address ? strrchr (address, '@') : NULL;

  if (at == NULL || at == address || at[1] == '\0' || strchr (at + 1, '.') == NULL
      || !g_utf8_validate (address, -1, NULL))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not an email address like name@example.org."),
                   address ? address : "");
      return FALSE;
    }
  *domain = g_ascii_strdown (at + 1, -1);
  return TRUE;
}

void
tern_autoconfig_detect_async (TernAutoconfig      *self,
                              const char          *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *domain = NULL;
  TernDetection *detection;

  g_return_if_fail (TERN_IS_AUTOCONFIG (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_autoconfig_detect_async);
  if (!split_address (address, &domain, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  detection = g_new0 (TernDetection, 1);
  g_atomic_ref_count_init (&detection->ref);
  g_weak_ref_init (&detection->owner, self);
  detection->context = g_main_context_ref_thread_default ();
  g_mutex_init (&detection->lock);
  g_cond_init (&detection->cond);
  detection->cancellable = g_cancellable_new ();
  detection->address = g_strdup (address);
  detection->domain = g_steal_pointer (&domain);
  detection->providers_dir = g_strdup (tern_autoconfig_get_providers_dir (self));
  detection->ca_file = g_strdup (self->ca_file);
  /* A test that mapped addresses and gave no resolver stays off DNS too. */
  if (self->resolver != NULL)
    detection->resolver = g_object_ref (self->resolver);
  else if (self->map == NULL)
    detection->resolver = g_resolver_get_default ();
  detection->map = tern_autoconfig_dup_map (self);
  detection->timeout = self->timeout;
  detection->stagger = self->stagger;
  detection->attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_autoconfig_attempt_free);
  if (cancellable != NULL)
    g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel),
                           g_object_ref (detection->cancellable), g_object_unref);
  g_task_set_task_data (task, detection, (GDestroyNotify) tern_detection_unref);
  g_task_run_in_thread (task, detect_thread);
}

TernAutoconfigConfig *
tern_autoconfig_detect_finish (TernAutoconfig  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  TernDetection *detection;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  /* Attempts still running lost to a better source. */
  detection = g_task_get_task_data (G_TASK (result));
  g_ptr_array_set_size (self->attempts, 0);
  if (detection != NULL)
    {
      g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&detection->lock);

      detection->finished = TRUE;
      for (guint i = 0; i < detection->attempts->len; i++)
        {
          TernAutoconfigAttempt *copy =
            tern_autoconfig_attempt_copy (g_ptr_array_index (detection->attempts, i));

          if (copy->result == TERN_AUTOCONFIG_RESULT_TRYING)
            copy->result = TERN_AUTOCONFIG_RESULT_SKIPPED;
          g_ptr_array_add (self->attempts, copy);
        }
    }
  return g_task_propagate_pointer (G_TASK (result), error);
}

GPtrArray *
tern_autoconfig_dup_attempts (TernAutoconfig *self)
{
  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), NULL);
  return g_ptr_array_copy (self->attempts,
                           (GCopyFunc) (void (*) (void)) tern_autoconfig_attempt_copy, NULL);
}

TernAutoconfigConfig *
tern_autoconfig_guess (TernAutoconfig *self,
                       const char     *address)
{
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  TernAutoconfigConfig *config;

  g_return_val_if_fail (TERN_IS_AUTOCONFIG (self), NULL);

  path = g_build_filename (tern_autoconfig_get_providers_dir (self), GUESS_FILE, NULL);
  config = parse_file (path, address, NULL, &error);
  if (config == NULL)
    {
      g_warning ("%s: %s", path, error->message);
      return NULL;
    }
  config->source = TERN_AUTOCONFIG_SOURCE_GUESS;
  config->origin = g_strdup (GUESS_FILE);
  return config;
}
