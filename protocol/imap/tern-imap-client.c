/* tern-imap-client.c: one IMAP session over one TernConnection.
 *
 * Commands are queued on the connection and flushed together where the
 * protocol allows, and their tagged answers collected by tag: a tagged
 * response that arrives for another command in flight is kept until that
 * command asks for it.  Untagged data goes first to the running command's
 * handler, then to the common one, which turns mailbox changes into the
 * caller's events.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include "tern-imap-client.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-imap-command.h"
#include "tern-imap-parser.h"
#include "tern-sasl.h"

/* UIDs per UID FETCH, and commands in flight: a header sync of 100,000
 * messages is 100 commands, 4 on the wire at any time. */
#define FETCH_BATCH 1000
#define FETCH_IN_FLIGHT 4
/* Ranges per STORE/COPY/EXPUNGE command, to keep lines short. */
#define SET_BATCH 500

struct _TernImapClient
{
  GObject parent_instance;

  /* Owned references */
  TernConnection *connection;
  TernImapParser *parser;
  char *label;                  /* "host:port" for messages */

  TernImapClientEvents events;
  gpointer events_data;

  /* Session state */
  guint next_tag;
  GHashTable *capabilities;     /* upper-case names */
  GHashTable *enabled;          /* upper-case names */
  GHashTable *done;             /* tag -> TernImapResponse, answered early */
  gboolean authenticated;
  gboolean logging_out;
  char *bye_text;               /* the server said BYE */
  char *namespace_prefix;
  char namespace_delimiter;

  /* The selected mailbox; the sequence number -> UID map is kept only
   * when it is known (0 = unknown UID), else EXPUNGEs become EXISTS. */
  char *selected;
  guint32 exists;
  GArray *seq_uids;

  /* Set by the common handler when it reported an event (for IDLE). */
  gboolean event_seen;
};

G_DEFINE_FINAL_TYPE (TernImapClient, tern_imap_client, G_TYPE_OBJECT)

static void
tern_imap_client_finalize (GObject *object)
{
  TernImapClient *self = TERN_IMAP_CLIENT (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->parser, tern_imap_parser_free);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->capabilities, g_hash_table_unref);
  g_clear_pointer (&self->enabled, g_hash_table_unref);
  g_clear_pointer (&self->done, g_hash_table_unref);
  g_clear_pointer (&self->bye_text, g_free);
  g_clear_pointer (&self->namespace_prefix, g_free);
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->seq_uids, g_array_unref);

  G_OBJECT_CLASS (tern_imap_client_parent_class)->finalize (object);
}

static void
tern_imap_client_class_init (TernImapClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_imap_client_finalize;
}

static void
tern_imap_client_init (TernImapClient *self)
{
  self->parser = tern_imap_parser_new ();
  self->capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->enabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) tern_imap_response_free);
  self->next_tag = 1;
}

TernImapClient *
tern_imap_client_new (TernConnection *connection)
{
  TernImapClient *self;
  const char *host;

  g_return_val_if_fail (TERN_IS_CONNECTION (connection), NULL);

  self = g_object_new (TERN_TYPE_IMAP_CLIENT, NULL);
  self->connection = g_object_ref (connection);
  host = tern_connection_get_host (connection);
  if (strchr (host, ':') != NULL)
    self->label = g_strdup_printf ("[%s]:%u", host, tern_connection_get_port (connection));
  else
    self->label = g_strdup_printf ("%s:%u", host, tern_connection_get_port (connection));
  return self;
}

TernConnection *
tern_imap_client_get_connection (TernImapClient *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  return self->connection;
}

void
tern_imap_client_set_events (TernImapClient             *self,
                             const TernImapClientEvents *events,
                             gpointer                    user_data)
{
  g_return_if_fail (TERN_IS_IMAP_CLIENT (self));

  if (events != NULL)
    self->events = *events;
  else
    memset (&self->events, 0, sizeof self->events);
  self->events_data = user_data;
}

gboolean
tern_imap_client_has_capability (TernImapClient *self,
                                 const char     *capability)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  upper = g_ascii_strup (capability, -1);
  return g_hash_table_contains (self->capabilities, upper);
}

gboolean
tern_imap_client_is_enabled (TernImapClient *self,
                             const char     *extension)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (extension != NULL, FALSE);

  upper = g_ascii_strup (extension, -1);
  /* ENABLE QRESYNC turns CONDSTORE on too (RFC 7162 §3.2.3). */
  if (g_str_equal (upper, "CONDSTORE") && g_hash_table_contains (self->enabled, "QRESYNC"))
    return TRUE;
  return g_hash_table_contains (self->enabled, upper);
}

const char *
tern_imap_client_get_namespace (TernImapClient *self,
                                char           *delimiter)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  if (delimiter != NULL)
    *delimiter = self->namespace_delimiter;
  return self->namespace_prefix;
}

const char *
tern_imap_client_get_selected (TernImapClient *self)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  return self->selected;
}

void
tern_imap_selected_clear (TernImapSelected *selected)
{
  g_clear_pointer (&selected->vanished, tern_imap_set_free);
  memset (selected, 0, sizeof *selected);
}

static gboolean
condstore_on (TernImapClient *self)
{
  return tern_imap_client_is_enabled (self, "CONDSTORE");
}

/* Alerts are the server's words shown as such: only when they cannot have
 * been forged in transit, or the user chose a clear connection. */
static gboolean
alerts_trusted (TernImapClient *self)
{
  return tern_connection_is_tls (self->connection) ||
         tern_connection_get_mode (self->connection) == TERN_TLS_MODE_PLAIN;
}

static void
set_capabilities (TernImapClient *self,
                  GPtrArray      *capabilities)
{
  g_hash_table_remove_all (self->capabilities);
  for (guint i = 0; capabilities != NULL && i < capabilities->len; i++)
    g_hash_table_add (self->capabilities, g_ascii_strup (capabilities->pdata[i], -1));
}

/* Commands */

static TernImapCommand *
command_new (TernImapClient *self,
             const char     *what)
{
  g_autofree char *tag = g_strdup_printf ("T%u", self->next_tag++);
  TernImapCommandFlags flags = 0;

  if (tern_imap_client_has_capability (self, "LITERAL+"))
    flags |= TERN_IMAP_COMMAND_LITERAL_PLUS;
  if (tern_imap_client_has_capability (self, "LITERAL-"))
    flags |= TERN_IMAP_COMMAND_LITERAL_MINUS;
  if (tern_imap_client_is_enabled (self, "UTF8=ACCEPT"))
    flags |= TERN_IMAP_COMMAND_UTF8;

  return tern_imap_command_new (tag, what, flags);
}

/* Errors */

static char *
response_text (TernImapResponse *response)
{
  if (response->code != TERN_IMAP_CODE_NONE && response->code_name != NULL)
    {
      if (response->code_text != NULL)
        return g_strdup_printf ("[%s %s] %s", response->code_name, response->code_text,
                                response->text);
      return g_strdup_printf ("[%s] %s", response->code_name, response->text);
    }

  return g_strdup (response->text);
}

static void
set_response_error (TernImapClient    *self,
                    const char        *what,
                    TernImapResponse  *response,
                    GError           **error)
{
  g_autofree char *text = response_text (response);

  if (response->status == TERN_IMAP_RESPONSE_STATUS_BAD)
    g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BAD,
                 _("%s rejected the command %s as invalid: %s"), self->label, what, text);
  else
    g_set_error (error, TERN_IMAP_ERROR,
                 response->code == TERN_IMAP_CODE_NONEXISTENT ? TERN_IMAP_ERROR_NONEXISTENT
                                                              : TERN_IMAP_ERROR_NO,
                 _("%s refused %s: %s"), self->label, what, text);
}

static gboolean
fail_protocol (TernImapClient  *self,
               const char      *what,
               GError         **error)
{
  g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
               _("%s answered %s with something Tern did not expect; the connection was "
                 "closed"),
               self->label, what);
  tern_connection_close (self->connection, NULL, NULL);
  return FALSE;
}

/* Responses */

static void
report_vanished (TernImapClient    *self,
                 const TernImapSet *uids)
{
  if (self->seq_uids != NULL)
    for (guint i = self->seq_uids->len; i > 0; i--)
      if (tern_imap_set_contains (uids, g_array_index (self->seq_uids, guint32, i - 1)))
        g_array_remove_index (self->seq_uids, i - 1);

  if (self->events.vanished != NULL)
    self->events.vanished (uids, self->events_data);
  self->event_seen = TRUE;
}

static void
handle_expunge (TernImapClient *self,
                guint32         seq)
{
  guint32 uid = 0;

  if (self->exists > 0)
    self->exists--;

  if (self->seq_uids != NULL && seq >= 1 && seq <= self->seq_uids->len)
    {
      uid = g_array_index (self->seq_uids, guint32, seq - 1);
      g_array_remove_index (self->seq_uids, seq - 1);
    }

  if (uid != 0)
    {
      g_autoptr(TernImapSet) uids = tern_imap_set_new ();

      tern_imap_set_add (uids, uid);
      report_vanished (self, uids);
      return;
    }

  /* Which message went is unknown: the count tells the caller to resync. */
  g_clear_pointer (&self->seq_uids, g_array_unref);
  if (self->events.exists != NULL)
    self->events.exists (self->exists, self->events_data);
  self->event_seen = TRUE;
}

static void
handle_exists (TernImapClient *self,
               guint32         count)
{
  self->exists = count;
  if (self->seq_uids != NULL)
    {
      guint32 unknown = 0;

      while (self->seq_uids->len < count)
        g_array_append_val (self->seq_uids, unknown);
      if (self->seq_uids->len > count)
        g_array_set_size (self->seq_uids, count);
    }

  if (self->events.exists != NULL)
    self->events.exists (count, self->events_data);
  self->event_seen = TRUE;
}

static void
note_fetch_uid (TernImapClient  *self,
                TernImapMessage *message)
{
  if (self->seq_uids != NULL && (message->present & TERN_IMAP_FETCH_UID) &&
      message->seq >= 1 && message->seq <= self->seq_uids->len)
    g_array_index (self->seq_uids, guint32, message->seq - 1) = message->uid;
}

/* What every command does with untagged data it did not take itself. */
static void
handle_untagged (TernImapClient   *self,
                 TernImapResponse *response)
{
  if (response->code == TERN_IMAP_CODE_ALERT && alerts_trusted (self) &&
      self->events.alert != NULL)
    self->events.alert (response->text, self->events_data);
  if (response->code == TERN_IMAP_CODE_CAPABILITY)
    set_capabilities (self, response->capabilities);

  if (response->status == TERN_IMAP_RESPONSE_STATUS_BYE)
    {
      g_free (self->bye_text);
      self->bye_text = g_strdup (response->text);
      return;
    }

  switch (response->data)
    {
    case TERN_IMAP_DATA_CAPABILITY:
      set_capabilities (self, response->capabilities);
      break;
    case TERN_IMAP_DATA_ENABLED:
      for (guint i = 0; response->capabilities != NULL && i < response->capabilities->len; i++)
        g_hash_table_add (self->enabled, g_ascii_strup (response->capabilities->pdata[i], -1));
      if (g_hash_table_contains (self->enabled, "UTF8=ACCEPT"))
        tern_imap_parser_set_utf8_accept (self->parser, TRUE);
      break;
    case TERN_IMAP_DATA_EXISTS:
      if (self->selected != NULL)
        handle_exists (self, response->number);
      break;
    case TERN_IMAP_DATA_EXPUNGE:
      if (self->selected != NULL)
        handle_expunge (self, response->number);
      break;
    case TERN_IMAP_DATA_VANISHED:
      if (self->selected != NULL && response->set != NULL)
        {
          if (!response->earlier)
            self->exists -= MIN (self->exists, (guint32) tern_imap_set_count (response->set));
          report_vanished (self, response->set);
        }
      break;
    case TERN_IMAP_DATA_FETCH:
      if (self->selected != NULL && response->message != NULL)
        {
          note_fetch_uid (self, response->message);
          if (self->events.fetch != NULL)
            self->events.fetch (response->message, self->events_data);
          self->event_seen = TRUE;
        }
      break;
    case TERN_IMAP_DATA_NAMESPACE:
      if (response->namespaces[0] != NULL && response->namespaces[0]->len > 0)
        {
          TernImapNamespace *ns = response->namespaces[0]->pdata[0];

          g_free (self->namespace_prefix);
          self->namespace_prefix = g_strdup (ns->prefix);
          self->namespace_delimiter = ns->delimiter;
        }
      break;
    default:
      break;
    }
}

/* Takes untagged data first; returns TRUE when it used the response. */
typedef gboolean (*UntaggedFunc) (TernImapClient   *self,
                                  TernImapResponse *response,
                                  gpointer          data);

/* A read failed: the connection is gone.  When the server had said BYE,
 * its words explain why. */
static void
set_read_error (TernImapClient  *self,
                GError          *read_error,
                GError         **error)
{
  tern_imap_parser_reset (self->parser);
  g_hash_table_remove_all (self->done);
  g_clear_pointer (&self->selected, g_free);
  tern_connection_close (self->connection, NULL, NULL);

  if (self->bye_text != NULL && !self->logging_out &&
      g_error_matches (read_error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED))
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE,
                   _("%s ended the session: %s"), self->label, self->bye_text);
      g_error_free (read_error);
    }
  else
    g_propagate_error (error, read_error);
}

static TernImapResponse *
read_response (TernImapClient  *self,
               GCancellable    *cancellable,
               GError         **error)
{
  GError *local_error = NULL;
  TernImapResponse *response;

  response = tern_imap_parser_read_response (self->parser, self->connection,
                                             cancellable, &local_error);
  if (response == NULL)
    set_read_error (self, local_error, error);
  return response;
}

/* Reads until the tagged answer to @tag and returns it; untagged data goes
 * to @func, then the common handler; other tags' answers are kept. */
static TernImapResponse *
wait_tagged (TernImapClient  *self,
             const char      *tag,
             UntaggedFunc     func,
             gpointer         data,
             GCancellable    *cancellable,
             GError         **error)
{
  gpointer key, value;

  if (g_hash_table_steal_extended (self->done, tag, &key, &value))
    {
      g_free (key);
      return value;
    }

  for (;;)
    {
      g_autoptr(TernImapResponse) response = read_response (self, cancellable, error);

      if (response == NULL)
        return NULL;

      switch (response->kind)
        {
        case TERN_IMAP_RESPONSE_TAGGED:
          if (g_strcmp0 (response->tag, tag) == 0)
            {
              if (response->code == TERN_IMAP_CODE_ALERT && alerts_trusted (self) &&
                  self->events.alert != NULL)
                self->events.alert (response->text, self->events_data);
              if (response->code == TERN_IMAP_CODE_CAPABILITY)
                set_capabilities (self, response->capabilities);
              return g_steal_pointer (&response);
            }
          g_hash_table_replace (self->done, g_strdup (response->tag),
                                g_steal_pointer (&response));
          break;
        case TERN_IMAP_RESPONSE_UNTAGGED:
          if (func == NULL || !func (self, response, data))
            handle_untagged (self, response);
          break;
        case TERN_IMAP_RESPONSE_CONTINUATION:
        default:
          fail_protocol (self, tag, error);
          return NULL;
        }
    }
}

/* Sends @command's first segment, and each further one after the server's
 * go-ahead; leaves the last in the queue for the caller's flush, so that
 * commands can be pipelined.  FALSE when the connection failed or the
 * server refused a literal (@refusal then holds its answer). */
static gboolean
send_command (TernImapClient    *self,
              TernImapCommand   *command,
              TernImapResponse **refusal,
              GCancellable      *cancellable,
              GError           **error)
{
  for (guint i = 0; i < command->segments->len; i++)
    {
      GBytes *segment = command->segments->pdata[i];

      if (i > 0)
        {
          if (!tern_connection_flush (self->connection, cancellable, error))
            return FALSE;

          for (;;)
            {
              g_autoptr(TernImapResponse) response = read_response (self, cancellable, error);

              if (response == NULL)
                return FALSE;
              if (response->kind == TERN_IMAP_RESPONSE_CONTINUATION)
                break;
              if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
                handle_untagged (self, response);
              else if (g_strcmp0 (response->tag, command->tag) == 0)
                {
                  *refusal = g_steal_pointer (&response);
                  return FALSE;
                }
              else
                g_hash_table_replace (self->done, g_strdup (response->tag),
                                      g_steal_pointer (&response));
            }
        }

      tern_connection_queue (self->connection, g_bytes_get_data (segment, NULL),
                             g_bytes_get_size (segment));
    }

  return TRUE;
}

/* Sends one command and waits for its tagged answer; TRUE for OK.  With
 * @tagged, the OK response is handed over for its response code. */
static gboolean
run_command (TernImapClient    *self,
             TernImapCommand   *command,
             UntaggedFunc       func,
             gpointer           data,
             TernImapResponse **tagged,
             GCancellable      *cancellable,
             GError           **error)
{
  g_autoptr(TernImapResponse) response = NULL;

  if (!tern_connection_is_connected (self->connection))
    {
      g_set_error (error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED,
                   _("Not connected to %s"), self->label);
      return FALSE;
    }

  if (!send_command (self, command, &response, cancellable, error))
    {
      if (response != NULL)
        set_response_error (self, command->what, response, error);
      return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  response = wait_tagged (self, command->tag, func, data, cancellable, error);
  if (response == NULL)
    return FALSE;

  if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      set_response_error (self, command->what, response, error);
      return FALSE;
    }

  if (tagged != NULL)
    *tagged = g_steal_pointer (&response);
  return TRUE;
}

/* The common case: a command of fixed text. */
static gboolean
run_simple (TernImapClient  *self,
            const char      *text,
            GCancellable    *cancellable,
            GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, text);

  tern_imap_command_add (command, text);
  tern_imap_command_end (command);
  return run_command (self, command, NULL, NULL, NULL, cancellable, error);
}

/* Opening */

static gboolean
refuse_starttls (TernImapClient  *self,
                 GError         **error,
                 const char      *format,
                 ...) G_GNUC_PRINTF (3, 4);

/* Nothing more is said on a connection that should have been encrypted:
 * it is closed, so that no credentials can follow. */
static gboolean
refuse_starttls (TernImapClient  *self,
                 GError         **error,
                 const char      *format,
                 ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  tern_connection_close (self->connection, NULL, NULL);
  tern_imap_parser_reset (self->parser);
  g_set_error_literal (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_STARTTLS_REFUSED, message);
  return FALSE;
}

static gboolean
ask_capability (TernImapClient  *self,
                GCancellable    *cancellable,
                GError         **error)
{
  return run_simple (self, "CAPABILITY", cancellable, error);
}

static gboolean
starttls (TernImapClient  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, "STARTTLS");
  g_autoptr(TernImapResponse) response = NULL;

  if (!tern_imap_client_has_capability (self, "STARTTLS"))
    return refuse_starttls (self, error,
                            _("%s does not offer STARTTLS, so the connection cannot be "
                              "encrypted; it was closed without signing in"),
                            self->label);

  tern_imap_command_add (command, "STARTTLS");
  tern_imap_command_end (command);
  if (!send_command (self, command, NULL, cancellable, error) ||
      !tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  response = wait_tagged (self, command->tag, NULL, NULL, cancellable, error);
  if (response == NULL)
    return FALSE;
  if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      g_autofree char *text = response_text (response);

      return refuse_starttls (self, error,
                              _("%s refused to start encryption (STARTTLS): %s; the "
                                "connection was closed without signing in"),
                              self->label, text);
    }

  if (!tern_connection_start_tls (self->connection, cancellable, error))
    return FALSE;

  /* What the server said in clear may have been forged (RFC 3501 §6.2.1). */
  g_hash_table_remove_all (self->capabilities);
  return ask_capability (self, cancellable, error);
}

gboolean
tern_imap_client_open (TernImapClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(TernImapResponse) greeting = NULL;
  TernTlsMode mode;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  mode = tern_connection_get_mode (self->connection);
  tern_imap_parser_reset (self->parser);
  tern_imap_parser_set_utf8_accept (self->parser, FALSE);
  g_hash_table_remove_all (self->capabilities);
  g_hash_table_remove_all (self->enabled);
  g_hash_table_remove_all (self->done);
  g_clear_pointer (&self->bye_text, g_free);
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->seq_uids, g_array_unref);
  g_clear_pointer (&self->namespace_prefix, g_free);
  self->exists = 0;
  self->authenticated = FALSE;
  self->logging_out = FALSE;

  if (!tern_connection_connect (self->connection, cancellable, error))
    return FALSE;

  greeting = read_response (self, cancellable, error);
  if (greeting == NULL)
    return FALSE;
  if (greeting->kind != TERN_IMAP_RESPONSE_UNTAGGED)
    return fail_protocol (self, "the connection", error);

  switch (greeting->status)
    {
    case TERN_IMAP_RESPONSE_STATUS_OK:
      break;
    case TERN_IMAP_RESPONSE_STATUS_PREAUTH:
      if (mode == TERN_TLS_MODE_STARTTLS)
        return refuse_starttls (self, error,
                                _("%s signed the session in before it could be encrypted "
                                  "(PREAUTH), so STARTTLS is impossible; the connection was "
                                  "closed"),
                                self->label);
      self->authenticated = TRUE;
      break;
    case TERN_IMAP_RESPONSE_STATUS_BYE:
      tern_connection_close (self->connection, NULL, NULL);
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE,
                   _("%s refused the connection: %s"), self->label, greeting->text);
      return FALSE;
    default:
      return fail_protocol (self, "the connection", error);
    }

  /* Capabilities in a clear greeting are not used for the STARTTLS
   * decision either: an attacker could remove STARTTLS from them as
   * easily as from a CAPABILITY answer, and the result is the same. */
  if (greeting->code == TERN_IMAP_CODE_CAPABILITY)
    set_capabilities (self, greeting->capabilities);
  else if (!ask_capability (self, cancellable, error))
    return FALSE;

  if (mode == TERN_TLS_MODE_STARTTLS)
    return starttls (self, cancellable, error);

  if (greeting->code == TERN_IMAP_CODE_ALERT && alerts_trusted (self) &&
      self->events.alert != NULL)
    self->events.alert (greeting->text, self->events_data);

  return TRUE;
}

/* Signing in */

static void
set_auth_error (TernImapClient    *self,
                TernImapResponse  *response,
                GError           **error)
{
  g_autofree char *text = response_text (response);

  if (response->code == TERN_IMAP_CODE_UNAVAILABLE)
    g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO,
                 _("%s cannot sign you in at the moment: %s"), self->label, text);
  else
    g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED,
                 _("%s did not accept the user name or password: %s"), self->label, text);
}

static char **
offered_mechanisms (TernImapClient *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->capabilities);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, "AUTH="))
      g_strv_builder_add (builder, (const char *) key + 5);

  return g_strv_builder_end (builder);
}

/* LOGIN: the password travels as a string, so it is never logged and its
 * copies are zeroed. */
static gboolean
login_command (TernImapClient  *self,
               const char      *username,
               const char      *password,
               GCancellable    *cancellable,
               GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, "LOGIN");
  g_autoptr(TernImapResponse) response = NULL;
  gboolean ok;

  tern_imap_command_add (command, "LOGIN ");
  tern_imap_command_add_string (command, username);
  tern_imap_command_add (command, " ");
  tern_imap_command_add_string (command, password);
  tern_imap_command_end (command);

  ok = send_command (self, command, &response, cancellable, error) &&
       tern_connection_flush (self->connection, cancellable, error);
  tern_imap_command_wipe (command);
  if (!ok && response == NULL)
    return FALSE;

  if (response == NULL)
    response = wait_tagged (self, command->tag, NULL, NULL, cancellable, error);
  if (response == NULL)
    return FALSE;
  if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      set_auth_error (self, response, error);
      return FALSE;
    }
  if (response->code == TERN_IMAP_CODE_CAPABILITY)
    set_capabilities (self, response->capabilities);
  else
    g_hash_table_remove_all (self->capabilities);
  return TRUE;
}

static gboolean
send_line (TernImapClient  *self,
           const char      *line,
           GCancellable    *cancellable,
           GError         **error)
{
  tern_connection_queue (self->connection, line, strlen (line));
  tern_connection_queue (self->connection, "\r\n", 2);
  return tern_connection_flush (self->connection, cancellable, error);
}

static gboolean
authenticate (TernImapClient  *self,
              const char      *mechanism,
              const char      *username,
              const char      *password,
              GCancellable    *cancellable,
              GError         **error)
{
  g_autoptr(TernSasl) sasl = tern_sasl_new (self->label, username, password);
  g_autoptr(TernImapCommand) command = NULL;
  g_autoptr(GError) sasl_error = NULL;
  g_autofree char *what = g_strdup_printf ("AUTHENTICATE %s", mechanism);
  gboolean ok;

  if (!tern_sasl_start (sasl, mechanism, &sasl_error))
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_UNAVAILABLE,
                   "%s", sasl_error->message);
      return FALSE;
    }

  command = command_new (self, what);
  tern_imap_command_add (command, what);
  if (tern_imap_client_has_capability (self, "SASL-IR") &&
      tern_sasl_mechanism_has_initial_response (mechanism))
    {
      g_autoptr(TernSaslResponse) initial = tern_sasl_step (sasl, NULL, &sasl_error);

      if (initial == NULL)
        {
          g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED,
                       "%s", sasl_error->message);
          return FALSE;
        }
      tern_imap_command_add (command, " ");
      tern_imap_command_add (command, *initial != '\0' ? initial : "=");
    }
  tern_imap_command_end (command);

  ok = send_command (self, command, NULL, cancellable, error) &&
       tern_connection_flush (self->connection, cancellable, error);
  tern_imap_command_wipe (command);
  if (!ok)
    return FALSE;

  for (;;)
    {
      g_autoptr(TernImapResponse) response = read_response (self, cancellable, error);
      g_autoptr(TernSaslResponse) answer = NULL;

      if (response == NULL)
        return FALSE;

      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        {
          handle_untagged (self, response);
          continue;
        }

      if (response->kind == TERN_IMAP_RESPONSE_TAGGED)
        {
          if (g_strcmp0 (response->tag, command->tag) != 0)
            return fail_protocol (self, what, error);
          if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
            {
              if (sasl_error != NULL)
                g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED,
                             "%s", sasl_error->message);
              else
                set_auth_error (self, response, error);
              return FALSE;
            }
          /* A server that claims success before proving it knows the
           * password (SCRAM's server signature) may be an impostor. */
          if (sasl_error != NULL || !tern_sasl_is_complete (sasl))
            {
              tern_connection_close (self->connection, NULL, NULL);
              g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED,
                           _("%s accepted the sign-in without proving that it knows your "
                             "password; the connection was closed"),
                           self->label);
              return FALSE;
            }
          if (response->code == TERN_IMAP_CODE_CAPABILITY)
            set_capabilities (self, response->capabilities);
          else
            g_hash_table_remove_all (self->capabilities);
          return TRUE;
        }

      /* A challenge.  After a failed step the exchange is cancelled ("*")
       * and the server's answer awaited. */
      if (sasl_error == NULL)
        answer = tern_sasl_step (sasl, response->text, &sasl_error);
      if (!send_line (self, answer != NULL ? answer : "*", cancellable, error))
        return FALSE;
    }
}

static gboolean
enable_extensions (TernImapClient  *self,
                   GCancellable    *cancellable,
                   GError         **error)
{
  static const char * const wanted[] = { "QRESYNC", "CONDSTORE", "UTF8=ACCEPT", NULL };
  g_autoptr(GString) text = g_string_new ("ENABLE");

  if (!tern_imap_client_has_capability (self, "ENABLE"))
    return TRUE;

  for (guint i = 0; wanted[i] != NULL; i++)
    if (tern_imap_client_has_capability (self, wanted[i]))
      g_string_append_printf (text, " %s", wanted[i]);

  if (g_str_equal (text->str, "ENABLE"))
    return TRUE;
  return run_simple (self, text->str, cancellable, error);
}

static gboolean
start_compression (TernImapClient  *self,
                   GCancellable    *cancellable,
                   GError         **error)
{
  if (tern_connection_is_compressed (self->connection) ||
      !tern_imap_client_has_capability (self, "COMPRESS=DEFLATE"))
    return TRUE;

  if (!run_simple (self, "COMPRESS DEFLATE", cancellable, error))
    return FALSE;

  /* The parser reads line by line, so whatever the server sent after the
   * OK is still in the connection, which inflates it. */
  return tern_connection_start_compression (self->connection, error);
}

/* ID and NAMESPACE together: one round trip. */
static gboolean
identify (TernImapClient  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(TernImapCommand) id = NULL;
  g_autoptr(TernImapCommand) ns = NULL;
  g_autoptr(TernImapResponse) response = NULL;

  if (tern_imap_client_has_capability (self, "ID"))
    {
      id = command_new (self, "ID");
      tern_imap_command_add (id, "ID (\"name\" \"Tern\" \"version\" \"" PACKAGE_VERSION "\")");
      tern_imap_command_end (id);
      if (!send_command (self, id, NULL, cancellable, error))
        return FALSE;
    }
  if (tern_imap_client_has_capability (self, "NAMESPACE"))
    {
      ns = command_new (self, "NAMESPACE");
      tern_imap_command_add (ns, "NAMESPACE");
      tern_imap_command_end (ns);
      if (!send_command (self, ns, NULL, cancellable, error))
        return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  /* Neither answer matters enough to fail the login over a NO. */
  if (id != NULL &&
      (response = wait_tagged (self, id->tag, NULL, NULL, cancellable, error)) == NULL)
    return FALSE;
  g_clear_pointer (&response, tern_imap_response_free);
  if (ns != NULL &&
      (response = wait_tagged (self, ns->tag, NULL, NULL, cancellable, error)) == NULL)
    return FALSE;

  return TRUE;
}

gboolean
tern_imap_client_login (TernImapClient  *self,
                        const char      *username,
                        const char      *password,
                        const char      *mechanism,
                        gboolean         compress,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_auto(GStrv) offered = NULL;
  g_autoptr(GError) choose_error = NULL;
  gboolean allow_plaintext;
  const char *chosen = NULL;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (username != NULL && password != NULL, FALSE);

  allow_plaintext = tern_connection_is_tls (self->connection) ||
                    tern_connection_get_mode (self->connection) == TERN_TLS_MODE_PLAIN;

  if (!self->authenticated)
    {
      offered = offered_mechanisms (self);
      chosen = tern_sasl_choose_mechanism ((const char * const *) offered, mechanism,
                                           allow_plaintext, &choose_error);

      if (chosen != NULL)
        {
          if (!authenticate (self, chosen, username, password, cancellable, error))
            return FALSE;
        }
      /* The LOGIN command, when the server offers no usable mechanism and
       * allows it, or when asked for "LOGIN" and AUTH=LOGIN is missing. */
      else if ((mechanism == NULL || g_ascii_strcasecmp (mechanism, "LOGIN") == 0) &&
               allow_plaintext && !tern_imap_client_has_capability (self, "LOGINDISABLED"))
        {
          if (!login_command (self, username, password, cancellable, error))
            return FALSE;
        }
      else if (tern_imap_client_has_capability (self, "LOGINDISABLED"))
        {
          g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_UNAVAILABLE,
                       _("%s does not allow signing in with a password on this connection "
                         "(LOGINDISABLED) and offers no other method that Tern supports"),
                       self->label);
          return FALSE;
        }
      else
        {
          g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_UNAVAILABLE,
                       _("Cannot sign in to %s: %s"), self->label, choose_error->message);
          return FALSE;
        }
      self->authenticated = TRUE;
    }

  if (g_hash_table_size (self->capabilities) == 0 && !ask_capability (self, cancellable, error))
    return FALSE;

  if (compress && !start_compression (self, cancellable, error))
    return FALSE;

  return enable_extensions (self, cancellable, error) &&
         identify (self, cancellable, error);
}

/* Mailboxes */

static void
add_status_items (TernImapClient      *self,
                  TernImapCommand     *command,
                  TernImapStatusItems  items)
{
  static const struct { TernImapStatusItems item; const char *name; const char *needs; } names[] = {
    { TERN_IMAP_STATUS_MESSAGES, "MESSAGES", NULL },
    { TERN_IMAP_STATUS_UIDNEXT, "UIDNEXT", NULL },
    { TERN_IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY", NULL },
    { TERN_IMAP_STATUS_UNSEEN, "UNSEEN", NULL },
    { TERN_IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ", "CONDSTORE" },
    { TERN_IMAP_STATUS_RECENT, "RECENT", NULL },
    { TERN_IMAP_STATUS_SIZE, "SIZE", "STATUS=SIZE" },
  };
  gboolean first = TRUE;

  tern_imap_command_add (command, "(");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if ((items & names[i].item) &&
        (names[i].needs == NULL || tern_imap_client_has_capability (self, names[i].needs)))
      {
        tern_imap_command_add_printf (command, "%s%s", first ? "" : " ", names[i].name);
        first = FALSE;
      }
  tern_imap_command_add (command, ")");
}

typedef struct
{
  GPtrArray *mailboxes;  /* of TernImapMailbox */
  GHashTable *by_name;   /* UTF-8 name -> TernImapMailbox, borrowed */
  gboolean lsub;
} ListData;

static gboolean
list_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  ListData *list = data;
  TernImapMailbox *mailbox;

  if (response->mailbox == NULL)
    return FALSE;

  switch (response->data)
    {
    case TERN_IMAP_DATA_LIST:
      if (list->lsub)
        return TRUE;
      mailbox = g_steal_pointer (&response->mailbox);
      g_ptr_array_add (list->mailboxes, mailbox);
      g_hash_table_replace (list->by_name, mailbox->name, mailbox);
      return TRUE;
    case TERN_IMAP_DATA_LSUB:
      mailbox = g_hash_table_lookup (list->by_name, response->mailbox->name);
      if (mailbox != NULL)
        mailbox->attributes |= TERN_IMAP_MAILBOX_SUBSCRIBED;
      return TRUE;
    case TERN_IMAP_DATA_STATUS:
      mailbox = g_hash_table_lookup (list->by_name, response->mailbox->name);
      if (mailbox != NULL)
        mailbox->status = response->mailbox->status;
      return TRUE;
    default:
      return FALSE;
    }
}

GPtrArray *
tern_imap_client_list (TernImapClient       *self,
                       TernImapStatusItems   status_items,
                       GCancellable         *cancellable,
                       GError              **error)
{
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GHashTable) by_name = NULL;
  g_autoptr(TernImapCommand) command = command_new (self, "LIST");
  gboolean extended = tern_imap_client_has_capability (self, "LIST-EXTENDED");
  ListData data;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  mailboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_mailbox_free);
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  data = (ListData) { mailboxes, by_name, FALSE };

  tern_imap_command_add (command, "LIST \"\" \"*\"");
  if (extended || tern_imap_client_has_capability (self, "SPECIAL-USE") ||
      (status_items != 0 && tern_imap_client_has_capability (self, "LIST-STATUS")))
    {
      g_autoptr(GStrvBuilder) options = g_strv_builder_new ();
      g_auto(GStrv) joined = NULL;
      g_autofree char *text = NULL;

      if (extended)
        {
          g_strv_builder_add (options, "SUBSCRIBED");
          g_strv_builder_add (options, "CHILDREN");
        }
      if (tern_imap_client_has_capability (self, "SPECIAL-USE"))
        g_strv_builder_add (options, "SPECIAL-USE");
      joined = g_strv_builder_end (options);
      text = g_strjoinv (" ", joined);
      tern_imap_command_add_printf (command, " RETURN (%s", text);
      if (status_items != 0 && tern_imap_client_has_capability (self, "LIST-STATUS"))
        {
          tern_imap_command_add (command, *text != '\0' ? " STATUS " : "STATUS ");
          add_status_items (self, command, status_items);
        }
      tern_imap_command_add (command, ")");
    }
  tern_imap_command_end (command);

  if (!run_command (self, command, list_untagged, &data, NULL, cancellable, error))
    return NULL;

  if (!extended)
    {
      g_autoptr(TernImapCommand) lsub = command_new (self, "LSUB");

      tern_imap_command_add (lsub, "LSUB \"\" \"*\"");
      tern_imap_command_end (lsub);
      data.lsub = TRUE;
      if (!run_command (self, lsub, list_untagged, &data, NULL, cancellable, error))
        return NULL;
    }

  /* Without LIST-STATUS, one STATUS per mailbox. */
  if (status_items != 0 && !tern_imap_client_has_capability (self, "LIST-STATUS"))
    for (guint i = 0; i < mailboxes->len; i++)
      {
        TernImapMailbox *mailbox = mailboxes->pdata[i];

        if (mailbox->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT))
          continue;
        if (!tern_imap_client_status (self, mailbox->name, status_items, &mailbox->status,
                                      cancellable, error))
          return NULL;
      }

  return g_steal_pointer (&mailboxes);
}

typedef struct
{
  TernImapStatus *status;
} StatusData;

static gboolean
status_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  StatusData *status = data;

  if (response->data != TERN_IMAP_DATA_STATUS || response->mailbox == NULL)
    return FALSE;

  *status->status = response->mailbox->status;
  return TRUE;
}

gboolean
tern_imap_client_status (TernImapClient       *self,
                         const char           *mailbox,
                         TernImapStatusItems   items,
                         TernImapStatus       *status,
                         GCancellable         *cancellable,
                         GError              **error)
{
  g_autofree char *what = g_strdup_printf ("STATUS %s", mailbox);
  g_autoptr(TernImapCommand) command = command_new (self, what);
  StatusData data = { status };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (status != NULL, FALSE);

  memset (status, 0, sizeof *status);
  tern_imap_command_add (command, "STATUS ");
  tern_imap_command_add_mailbox (command, mailbox);
  tern_imap_command_add (command, " ");
  add_status_items (self, command, items);
  tern_imap_command_end (command);
  return run_command (self, command, status_untagged, &data, NULL, cancellable, error);
}

static gboolean
mailbox_command (TernImapClient  *self,
                 const char      *verb,
                 const char      *mailbox,
                 const char      *second,
                 GCancellable    *cancellable,
                 GError         **error)
{
  g_autofree char *what = second != NULL ? g_strdup_printf ("%s %s %s", verb, mailbox, second)
                                         : g_strdup_printf ("%s %s", verb, mailbox);
  g_autoptr(TernImapCommand) command = command_new (self, what);

  tern_imap_command_add_printf (command, "%s ", verb);
  tern_imap_command_add_mailbox (command, mailbox);
  if (second != NULL)
    {
      tern_imap_command_add (command, " ");
      tern_imap_command_add_mailbox (command, second);
    }
  tern_imap_command_end (command);
  return run_command (self, command, NULL, NULL, NULL, cancellable, error);
}

gboolean
tern_imap_client_create (TernImapClient  *self,
                         const char      *mailbox,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "CREATE", mailbox, NULL, cancellable, error);
}

gboolean
tern_imap_client_delete (TernImapClient  *self,
                         const char      *mailbox,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "DELETE", mailbox, NULL, cancellable, error);
}

gboolean
tern_imap_client_rename (TernImapClient  *self,
                         const char      *from,
                         const char      *to,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "RENAME", from, to, cancellable, error);
}

/* Selecting */

typedef struct
{
  TernImapSelected *selected;
} SelectData;

static gboolean
select_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  TernImapSelected *selected = ((SelectData *) data)->selected;

  switch (response->code)
    {
    case TERN_IMAP_CODE_UIDVALIDITY:
      selected->uidvalidity = response->code_number;
      break;
    case TERN_IMAP_CODE_UIDNEXT:
      selected->uidnext = response->code_number;
      break;
    case TERN_IMAP_CODE_HIGHESTMODSEQ:
      selected->highestmodseq = response->code_modseq;
      break;
    case TERN_IMAP_CODE_NOMODSEQ:
      selected->highestmodseq = 0;
      break;
    case TERN_IMAP_CODE_PERMANENTFLAGS:
      selected->permanent_flags = response->flags;
      break;
    default:
      break;
    }

  switch (response->data)
    {
    case TERN_IMAP_DATA_EXISTS:
      selected->exists = self->exists = response->number;
      return TRUE;
    case TERN_IMAP_DATA_VANISHED:
      if (response->earlier && response->set != NULL)
        {
          for (guint i = 0; i < response->set->ranges->len; i++)
            {
              TernImapRange *range = &g_array_index (response->set->ranges, TernImapRange, i);

              tern_imap_set_add_range (selected->vanished, range->first, range->last);
            }
          return TRUE;
        }
      return FALSE;
    default:
      return response->code != TERN_IMAP_CODE_NONE && response->code != TERN_IMAP_CODE_ALERT &&
             response->data == TERN_IMAP_DATA_NONE;
    }
}

gboolean
tern_imap_client_select (TernImapClient              *self,
                         const char                  *mailbox,
                         gboolean                     read_only,
                         const TernImapSelectParams  *params,
                         TernImapSelected            *selected,
                         GCancellable                *cancellable,
                         GError                     **error)
{
  const char *verb = read_only ? "EXAMINE" : "SELECT";
  g_autofree char *what = g_strdup_printf ("%s %s", verb, mailbox);
  g_autoptr(TernImapCommand) command = command_new (self, what);
  g_autoptr(TernImapResponse) tagged = NULL;
  SelectData data = { selected };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (mailbox != NULL && selected != NULL, FALSE);

  memset (selected, 0, sizeof *selected);
  selected->vanished = tern_imap_set_new ();

  tern_imap_command_add_printf (command, "%s ", verb);
  tern_imap_command_add_mailbox (command, mailbox);
  if (tern_imap_client_is_enabled (self, "QRESYNC") && params != NULL &&
      params->uidvalidity != 0 && params->highestmodseq != 0)
    {
      tern_imap_command_add_printf (command, " (QRESYNC (%u %" G_GUINT64_FORMAT,
                          params->uidvalidity, params->highestmodseq);
      if (params->known_uids != NULL && !tern_imap_set_is_empty (params->known_uids))
        {
          g_autofree char *known = tern_imap_set_to_string (params->known_uids);

          tern_imap_command_add_printf (command, " %s", known);
        }
      tern_imap_command_add (command, "))");
    }
  else if (!condstore_on (self) && tern_imap_client_has_capability (self, "CONDSTORE"))
    tern_imap_command_add (command, " (CONDSTORE)");
  tern_imap_command_end (command);

  /* The server leaves the old mailbox as soon as it reads the command. */
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->seq_uids, g_array_unref);
  self->exists = 0;
  /* Changes reported during the select concern the new mailbox. */
  self->selected = g_strdup (mailbox);

  if (!run_command (self, command, select_untagged, &data, &tagged, cancellable, error))
    {
      g_clear_pointer (&self->selected, g_free);
      tern_imap_selected_clear (selected);
      return FALSE;
    }

  selected->read_only = tagged->code == TERN_IMAP_CODE_READ_ONLY;
  if (!condstore_on (self) && !tern_imap_client_has_capability (self, "CONDSTORE"))
    selected->highestmodseq = 0;
  return TRUE;
}

/* Fetching */

#define HEADER_FIELDS "HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)"

static char *
fetch_items_string (TernImapClient     *self,
                    TernImapFetchItems  items)
{
  g_autoptr(GString) text = g_string_new ("UID");

  if (items & TERN_IMAP_FETCH_FLAGS)
    g_string_append (text, " FLAGS");
  if (items & TERN_IMAP_FETCH_INTERNALDATE)
    g_string_append (text, " INTERNALDATE");
  if (items & TERN_IMAP_FETCH_SIZE)
    g_string_append (text, " RFC822.SIZE");
  if (items & TERN_IMAP_FETCH_ENVELOPE)
    g_string_append (text, " ENVELOPE");
  if (items & TERN_IMAP_FETCH_BODYSTRUCTURE)
    g_string_append (text, " BODYSTRUCTURE");
  if ((items & TERN_IMAP_FETCH_MODSEQ) && condstore_on (self))
    g_string_append (text, " MODSEQ");
  if (items & TERN_IMAP_FETCH_HEADERS)
    g_string_append (text, " BODY.PEEK[" HEADER_FIELDS "]");

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Cuts @set into sets of at most @per_chunk values (or @max_ranges
 * ranges); a range that ends at "*" stays whole. */
static GPtrArray *
split_set (const TernImapSet *set,
           guint64            per_chunk,
           guint              max_ranges)
{
  GPtrArray *chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_set_free);
  TernImapSet *current = NULL;
  guint64 count = 0;
  guint ranges = 0;

  for (guint i = 0; i < set->ranges->len; i++)
    {
      TernImapRange range = g_array_index (set->ranges, TernImapRange, i);

      while (TRUE)
        {
          guint64 room, take;

          if (current == NULL || count >= per_chunk || ranges >= max_ranges)
            {
              current = tern_imap_set_new ();
              g_ptr_array_add (chunks, current);
              count = 0;
              ranges = 0;
            }

          room = per_chunk - count;
          if (range.last == G_MAXUINT32)
            take = (guint64) range.last - range.first + 1;
          else
            take = MIN (room, (guint64) range.last - range.first + 1);

          tern_imap_set_add_range (current, range.first, (guint32) (range.first + take - 1));
          count += take;
          ranges++;
          if ((guint64) range.first + take - 1 >= range.last)
            break;
          range.first += (guint32) take;
        }
    }

  return chunks;
}

typedef struct
{
  const TernImapSet *uids;
  TernImapFetchItems items;  /* what a response must carry to be ours */
  TernImapFetchFunc func;
  gpointer user_data;
  GError *error;             /* the callback's, once it stopped */
  guint count;
} FetchData;

static void
take_headers (TernImapResponse *response)
{
  TernImapMessage *message = response->message;

  if ((message->present & TERN_IMAP_FETCH_HEADERS) || response->sections == NULL)
    return;

  for (guint i = 0; i < response->sections->len; i++)
    {
      TernImapFetchSection *section = response->sections->pdata[i];

      if (section->section != NULL && g_str_has_prefix (section->section, "HEADER.FIELDS"))
        {
          g_clear_pointer (&message->headers, g_bytes_unref);
          message->headers = section->data != NULL ? g_bytes_ref (section->data)
                                                   : g_bytes_new (NULL, 0);
          message->present |= TERN_IMAP_FETCH_HEADERS;
        }
    }
}

static gboolean
fetch_untagged (TernImapClient   *self,
                TernImapResponse *response,
                gpointer          data)
{
  FetchData *fetch = data;
  TernImapMessage *message = response->message;

  if (response->data != TERN_IMAP_DATA_FETCH || message == NULL)
    return FALSE;

  take_headers (response);
  if (!(message->present & TERN_IMAP_FETCH_UID) ||
      !tern_imap_set_contains (fetch->uids, message->uid) ||
      (message->present & fetch->items) != fetch->items)
    return FALSE;  /* a change the server reports on its own */

  note_fetch_uid (self, message);
  fetch->count++;
  if (fetch->error == NULL && !fetch->func (message, fetch->user_data, &fetch->error) &&
      fetch->error == NULL)
    g_set_error (&fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
  return TRUE;
}

static TernImapCommand *
fetch_command (TernImapClient    *self,
               const TernImapSet *uids,
               const char        *items,
               guint64            changedsince)
{
  g_autofree char *set = tern_imap_set_to_string (uids);
  TernImapCommand *command = command_new (self, "UID FETCH");

  tern_imap_command_add_printf (command, "UID FETCH %s (%s)", set, items);
  if (changedsince != 0 && condstore_on (self))
    tern_imap_command_add_printf (command, " (CHANGEDSINCE %" G_GUINT64_FORMAT ")", changedsince);
  tern_imap_command_end (command);
  return command;
}

gboolean
tern_imap_client_fetch (TernImapClient      *self,
                        const TernImapSet   *uids,
                        TernImapFetchItems   items,
                        guint64              changedsince,
                        TernImapFetchFunc    func,
                        gpointer             user_data,
                        GCancellable        *cancellable,
                        GError             **error)
{
  g_autoptr(GPtrArray) chunks = NULL;
  g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GQueue) in_flight = g_queue_new ();  /* borrowed from @commands */
  g_autofree char *item_text = NULL;
  g_autoptr(GError) first_error = NULL;
  FetchData data = { uids, 0, func, user_data, NULL, 0 };
  guint next = 0;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && func != NULL, FALSE);

  if (self->selected == NULL)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                   _("No mailbox is selected on %s"), self->label);
      return FALSE;
    }

  /* MODSEQ and BODY may legitimately be missing from our own answers. */
  data.items = items & (TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                        TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                        TERN_IMAP_FETCH_HEADERS);
  item_text = fetch_items_string (self, items);
  chunks = split_set (uids, FETCH_BATCH, SET_BATCH);

  for (;;)
    {
      g_autoptr(TernImapResponse) tagged = NULL;
      TernImapCommand *head;
      gboolean sent = FALSE;

      /* Keep the pipe full, unless we are stopping. */
      while (next < chunks->len && g_queue_get_length (in_flight) < FETCH_IN_FLIGHT &&
             data.error == NULL && first_error == NULL)
        {
          TernImapCommand *command = fetch_command (self, chunks->pdata[next++], item_text, changedsince);

          g_ptr_array_add (commands, command);
          g_queue_push_tail (in_flight, command);
          if (!send_command (self, command, NULL, cancellable, error))
            goto failed;
          sent = TRUE;
        }
      if (sent && !tern_connection_flush (self->connection, cancellable, error))
        goto failed;
      if (g_queue_is_empty (in_flight))
        break;

      head = g_queue_pop_head (in_flight);
      tagged = wait_tagged (self, head->tag, fetch_untagged, &data, cancellable, error);
      if (tagged == NULL)
        goto failed;
      if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK && first_error == NULL)
        set_response_error (self, head->what, tagged, &first_error);
    }

  if (data.error != NULL)
    {
      g_propagate_error (error, data.error);
      return FALSE;
    }
  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;

failed:
  g_clear_error (&data.error);
  return FALSE;
}

typedef struct
{
  GOutputStream *out;
  guint32 uid;
  gboolean got;
} BodyData;

static GOutputStream *
body_sink_cb (guint32     seq,
              const char *item,
              const char *section,
              guint64     size,
              gpointer    user_data)
{
  BodyData *body = user_data;

  return g_object_ref (body->out);
}

static gboolean
body_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  BodyData *body = data;

  if (response->data != TERN_IMAP_DATA_FETCH || response->message == NULL ||
      response->sections == NULL)
    return FALSE;

  for (guint i = 0; i < response->sections->len; i++)
    {
      TernImapFetchSection *section = response->sections->pdata[i];

      if (section->streamed || section->is_nil)
        body->got = body->got || section->streamed;
    }
  /* Flags that came along still count as a change to report. */
  return FALSE;
}

gboolean
tern_imap_client_fetch_body (TernImapClient  *self,
                             guint32          uid,
                             const char      *section,
                             GOutputStream   *out,
                             GCancellable    *cancellable,
                             GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, "UID FETCH BODY.PEEK[]");
  BodyData data = { out, uid, FALSE };
  gboolean ok;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  tern_imap_command_add_printf (command, "UID FETCH %u (UID BODY.PEEK[%s])", uid,
                      section != NULL ? section : "");
  tern_imap_command_end (command);

  tern_imap_parser_set_body_sink (self->parser, body_sink_cb, &data, NULL);
  ok = run_command (self, command, body_untagged, &data, NULL, cancellable, error);
  tern_imap_parser_set_body_sink (self->parser, NULL, NULL, NULL);
  if (!ok)
    return FALSE;

  if (!data.got)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT,
                   _("The message with UID %u is no longer on %s"), uid, self->label);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  TernImapSet *result;
} SearchData;

static gboolean
search_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  SearchData *search = data;

  if (response->data != TERN_IMAP_DATA_SEARCH && response->data != TERN_IMAP_DATA_ESEARCH)
    return FALSE;

  if (response->set != NULL)
    for (guint i = 0; i < response->set->ranges->len; i++)
      {
        TernImapRange *range = &g_array_index (response->set->ranges, TernImapRange, i);

        tern_imap_set_add_range (search->result, range->first, range->last);
      }
  return TRUE;
}

TernImapSet *
tern_imap_client_search_uids (TernImapClient  *self,
                              const char      *criteria,
                              GCancellable    *cancellable,
                              GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, "UID SEARCH");
  g_autoptr(TernImapSet) result = tern_imap_set_new ();
  gboolean all = criteria == NULL || g_ascii_strcasecmp (criteria, "ALL") == 0;
  SearchData data = { result };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  tern_imap_command_add (command, "UID SEARCH ");
  if (tern_imap_client_has_capability (self, "ESEARCH"))
    tern_imap_command_add (command, "RETURN (ALL) ");
  tern_imap_command_add (command, criteria != NULL ? criteria : "ALL");
  tern_imap_command_end (command);

  if (!run_command (self, command, search_untagged, &data, NULL, cancellable, error))
    return NULL;

  /* All UIDs in order are the sequence numbers' UIDs: from now on an
   * EXPUNGE can be reported by UID. */
  if (all && tern_imap_set_count (result) == self->exists)
    {
      g_clear_pointer (&self->seq_uids, g_array_unref);
      self->seq_uids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), self->exists);
      for (guint i = 0; i < result->ranges->len; i++)
        {
          TernImapRange *range = &g_array_index (result->ranges, TernImapRange, i);

          for (guint64 uid = range->first; uid <= range->last; uid++)
            {
              guint32 value = (guint32) uid;

              g_array_append_val (self->seq_uids, value);
            }
        }
    }

  return g_steal_pointer (&result);
}

/* Changing */

static char *
flags_string (TernImapFlags flags)
{
  static const struct { TernImapFlags flag; const char *name; } names[] = {
    { TERN_IMAP_FLAG_SEEN, "\\Seen" },
    { TERN_IMAP_FLAG_ANSWERED, "\\Answered" },
    { TERN_IMAP_FLAG_FLAGGED, "\\Flagged" },
    { TERN_IMAP_FLAG_DELETED, "\\Deleted" },
    { TERN_IMAP_FLAG_DRAFT, "\\Draft" },
    { TERN_IMAP_FLAG_FORWARDED, "$Forwarded" },
    { TERN_IMAP_FLAG_JUNK, "$Junk" },
  };
  g_autoptr(GString) text = g_string_new ("(");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      g_string_append_printf (text, "%s%s", text->len > 1 ? " " : "", names[i].name);
  g_string_append_c (text, ')');
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Sends one command per chunk of @uids, all pipelined, and waits for
 * every answer; the first refusal is the error. */
static gboolean
run_per_chunk (TernImapClient     *self,
               const char         *what,
               const TernImapSet  *uids,
               const char         *prefix,
               const char         *suffix,
               UntaggedFunc        func,
               gpointer            data,
               GCancellable       *cancellable,
               GError            **error)
{
  g_autoptr(GPtrArray) chunks = split_set (uids, G_MAXUINT64, SET_BATCH);
  g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GError) first_error = NULL;

  for (guint i = 0; i < chunks->len; i++)
    {
      g_autofree char *set = tern_imap_set_to_string (chunks->pdata[i]);
      TernImapCommand *command = command_new (self, what);

      g_ptr_array_add (commands, command);
      tern_imap_command_add_printf (command, "%s %s%s", prefix, set, suffix);
      tern_imap_command_end (command);
      if (!send_command (self, command, NULL, cancellable, error))
        return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  for (guint i = 0; i < commands->len; i++)
    {
      TernImapCommand *command = commands->pdata[i];
      g_autoptr(TernImapResponse) tagged = wait_tagged (self, command->tag, func, data,
                                                        cancellable, error);

      if (tagged == NULL)
        return FALSE;
      if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK && first_error == NULL)
        set_response_error (self, command->what, tagged, &first_error);
      else if (func != NULL && tagged->status == TERN_IMAP_RESPONSE_STATUS_OK)
        func (self, tagged, data);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_imap_client_store_flags (TernImapClient     *self,
                              const TernImapSet  *uids,
                              TernImapFlags       add,
                              TernImapFlags       remove,
                              GCancellable       *cancellable,
                              GError            **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL, FALSE);

  if (add != 0)
    {
      g_autofree char *flags = flags_string (add);
      g_autofree char *suffix = g_strdup_printf (" +FLAGS.SILENT %s", flags);

      if (!run_per_chunk (self, "UID STORE", uids, "UID STORE", suffix, NULL, NULL,
                          cancellable, error))
        return FALSE;
    }
  if (remove != 0)
    {
      g_autofree char *flags = flags_string (remove);
      g_autofree char *suffix = g_strdup_printf (" -FLAGS.SILENT %s", flags);

      if (!run_per_chunk (self, "UID STORE", uids, "UID STORE", suffix, NULL, NULL,
                          cancellable, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  guint32 uidvalidity;
  TernImapSet *source;
  TernImapSet *dest;
} CopyData;

static void
add_set (TernImapSet       *to,
         const TernImapSet *from)
{
  for (guint i = 0; from != NULL && i < from->ranges->len; i++)
    {
      TernImapRange *range = &g_array_index (from->ranges, TernImapRange, i);

      tern_imap_set_add_range (to, range->first, range->last);
    }
}

/* COPYUID comes in the tagged OK of COPY, and in an untagged OK before the
 * expunges of MOVE (RFC 6851 §4.3). */
static gboolean
copy_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  CopyData *copy = data;

  if (response->code != TERN_IMAP_CODE_COPYUID)
    return FALSE;

  copy->uidvalidity = response->code_number;
  add_set (copy->source, response->code_source_set);
  add_set (copy->dest, response->code_set);
  return response->kind == TERN_IMAP_RESPONSE_UNTAGGED &&
         response->status == TERN_IMAP_RESPONSE_STATUS_OK;
}

gboolean
tern_imap_client_copy (TernImapClient     *self,
                       const TernImapSet  *uids,
                       const char         *destination,
                       gboolean            move,
                       guint32            *dest_uidvalidity,
                       TernImapSet       **source_uids,
                       TernImapSet       **dest_uids,
                       GCancellable       *cancellable,
                       GError            **error)
{
  g_autoptr(TernImapSet) source = tern_imap_set_new ();
  g_autoptr(TernImapSet) dest = tern_imap_set_new ();
  g_autoptr(TernImapCommand) target = command_new (self, "");
  g_autofree char *suffix = NULL;
  g_autofree char *what = NULL;
  gboolean native_move = move && tern_imap_client_has_capability (self, "MOVE");
  CopyData data = { 0, source, dest };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && destination != NULL, FALSE);

  /* The destination as the wire wants it, after a space; a literal in
   * the middle of pipelined commands is not worth the complication (mailbox
   * names are modified UTF-7, so only UTF8=ACCEPT with a line break could
   * need one). */
  tern_imap_command_add_mailbox (target, destination);
  if (target->segments->len > 0 || memchr (target->current->data, '{', target->current->len))
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_UNSUPPORTED,
                   _("The folder name %s cannot be sent to %s"), destination, self->label);
      return FALSE;
    }
  g_byte_array_append (target->current, (const guint8 *) "", 1);
  suffix = g_strconcat (" ", (const char *) target->current->data + strlen (target->tag) + 1,
                        NULL);
  what = g_strdup_printf ("%s %s", native_move ? "MOVE" : "COPY", destination);

  if (!run_per_chunk (self, what, uids, native_move ? "UID MOVE" : "UID COPY", suffix,
                      copy_untagged, &data, cancellable, error))
    return FALSE;

  if (move && !native_move)
    {
      if (!tern_imap_client_store_flags (self, uids, TERN_IMAP_FLAG_DELETED, 0, cancellable,
                                         error))
        return FALSE;
      /* A plain EXPUNGE would also remove other messages marked deleted. */
      if (tern_imap_client_has_capability (self, "UIDPLUS") &&
          !tern_imap_client_expunge (self, uids, cancellable, error))
        return FALSE;
    }

  if (dest_uidvalidity != NULL)
    *dest_uidvalidity = data.uidvalidity;
  if (source_uids != NULL)
    *source_uids = g_steal_pointer (&source);
  if (dest_uids != NULL)
    *dest_uids = g_steal_pointer (&dest);
  return TRUE;
}

gboolean
tern_imap_client_expunge (TernImapClient     *self,
                          const TernImapSet  *uids,
                          GCancellable       *cancellable,
                          GError            **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (uids != NULL && tern_imap_client_has_capability (self, "UIDPLUS"))
    return run_per_chunk (self, "UID EXPUNGE", uids, "UID EXPUNGE", "", NULL, NULL,
                          cancellable, error);

  return run_simple (self, "EXPUNGE", cancellable, error);
}

/* INTERNALDATE wants English month names whatever the locale. */
static char *
format_internal_date (gint64 when)
{
  static const char * const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (when);

  if (date == NULL)
    return NULL;
  return g_strdup_printf ("\"%02d-%s-%04d %02d:%02d:%02d +0000\"",
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1],
                          g_date_time_get_year (date), g_date_time_get_hour (date),
                          g_date_time_get_minute (date), g_date_time_get_second (date));
}

gboolean
tern_imap_client_append (TernImapClient  *self,
                         const char      *mailbox,
                         TernImapFlags    flags,
                         gint64           internal_date,
                         GBytes          *message,
                         guint32         *uidvalidity,
                         guint32         *uid,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autofree char *what = g_strdup_printf ("APPEND %s", mailbox);
  g_autoptr(TernImapCommand) command = command_new (self, what);
  g_autoptr(TernImapResponse) tagged = NULL;
  g_autofree char *flag_text = flags_string (flags & ~TERN_IMAP_FLAG_RECENT);
  g_autofree char *date = internal_date > 0 ? format_internal_date (internal_date) : NULL;
  gsize len;
  gconstpointer data;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (mailbox != NULL && message != NULL, FALSE);

  data = g_bytes_get_data (message, &len);
  tern_imap_command_add (command, "APPEND ");
  tern_imap_command_add_mailbox (command, mailbox);
  tern_imap_command_add_printf (command, " %s ", flag_text);
  if (date != NULL)
    tern_imap_command_add_printf (command, "%s ", date);
  tern_imap_command_add_literal (command, data, len);
  tern_imap_command_end (command);

  if (uidvalidity != NULL)
    *uidvalidity = 0;
  if (uid != NULL)
    *uid = 0;
  if (!run_command (self, command, NULL, NULL, &tagged, cancellable, error))
    return FALSE;

  if (tagged->code == TERN_IMAP_CODE_APPENDUID && tagged->code_set != NULL &&
      tagged->code_set->ranges->len > 0)
    {
      if (uidvalidity != NULL)
        *uidvalidity = tagged->code_number;
      if (uid != NULL)
        *uid = g_array_index (tagged->code_set->ranges, TernImapRange, 0).first;
    }
  return TRUE;
}

/* Waiting */

static gboolean
finish_idle (TernImapClient  *self,
             TernImapCommand *command,
             GCancellable    *cancellable,
             GError         **error)
{
  g_autoptr(TernImapResponse) tagged = NULL;

  if (!send_line (self, "DONE", cancellable, error))
    return FALSE;
  tagged = wait_tagged (self, command->tag, NULL, NULL, cancellable, error);
  if (tagged == NULL)
    return FALSE;
  if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      set_response_error (self, "IDLE", tagged, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_imap_client_idle (TernImapClient  *self,
                       guint            timeout_seconds,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(TernImapCommand) command = command_new (self, "IDLE");
  gint64 deadline;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (!tern_imap_client_has_capability (self, "IDLE"))
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_UNSUPPORTED,
                   _("%s does not support IDLE"), self->label);
      return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  tern_imap_command_add (command, "IDLE");
  tern_imap_command_end (command);
  if (!send_command (self, command, NULL, cancellable, error) ||
      !tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  /* Until the go-ahead, data is handled as for any command. */
  for (;;)
    {
      g_autoptr(TernImapResponse) response = read_response (self, cancellable, error);

      if (response == NULL)
        return FALSE;
      if (response->kind == TERN_IMAP_RESPONSE_CONTINUATION)
        break;
      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        handle_untagged (self, response);
      else if (g_strcmp0 (response->tag, command->tag) == 0)
        {
          set_response_error (self, "IDLE", response, error);
          return FALSE;
        }
    }

  self->event_seen = FALSE;
  deadline = g_get_monotonic_time () + (gint64) timeout_seconds * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(TernImapResponse) response = NULL;
      g_autoptr(GError) wait_error = NULL;
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0)
        return finish_idle (self, command, cancellable, error);

      if (!tern_connection_wait_readable (self->connection, (gint) (left / 1000 + 1),
                                          cancellable, &wait_error))
        {
          if (wait_error == NULL)
            continue;  /* the deadline check ends it */
          if (g_error_matches (wait_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              /* Leave the session usable: DONE without the cancelled
               * cancellable. */
              if (!finish_idle (self, command, NULL, error))
                return FALSE;
            }
          g_propagate_error (error, g_steal_pointer (&wait_error));
          return FALSE;
        }

      response = read_response (self, cancellable, error);
      if (response == NULL)
        return FALSE;
      if (response->kind == TERN_IMAP_RESPONSE_TAGGED &&
          g_strcmp0 (response->tag, command->tag) == 0)
        {
          /* The server ended IDLE itself. */
          if (response->status == TERN_IMAP_RESPONSE_STATUS_OK)
            return TRUE;
          set_response_error (self, "IDLE", response, error);
          return FALSE;
        }
      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        handle_untagged (self, response);
      if (self->event_seen)
        return finish_idle (self, command, cancellable, error);
    }
}

gboolean
tern_imap_client_noop (TernImapClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return run_simple (self, "NOOP", cancellable, error);
}

gboolean
tern_imap_client_logout (TernImapClient  *self,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (!tern_connection_is_connected (self->connection))
    return TRUE;

  self->logging_out = TRUE;
  ok = run_simple (self, "LOGOUT", cancellable, &local_error);
  /* Closing right after the BYE, before the tagged OK, is a goodbye too. */
  if (!ok && self->bye_text != NULL &&
      g_error_matches (local_error, TERN_CONNECTION_ERROR, TERN_CONNECTION_ERROR_CLOSED))
    ok = TRUE;
  else if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));
  tern_connection_close (self->connection, NULL, NULL);
  tern_imap_parser_reset (self->parser);
  g_clear_pointer (&self->selected, g_free);
  self->authenticated = FALSE;
  return ok;
}
