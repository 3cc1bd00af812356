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

#include "tern-imap-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-sasl.h"

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

  g_return_val_if_fail (TERN_IS_CONNECTION (connection), NULL);

  self = g_object_new (TERN_TYPE_IMAP_CLIENT, NULL);
  self->connection = g_object_ref (connection);
  self->label = g_strdup (tern_connection_get_label (connection));
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

gboolean
_tern_imap_client_condstore_on (TernImapClient *self)
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

TernImapCommand *
_tern_imap_client_command_new (TernImapClient *self,
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

void
_tern_imap_client_set_response_error (TernImapClient    *self,
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

void
_tern_imap_client_note_fetch_uid (TernImapClient  *self,
                                  TernImapMessage *message)
{
  if (self->seq_uids != NULL && (message->present & TERN_IMAP_FETCH_UID) &&
      message->seq >= 1 && message->seq <= self->seq_uids->len)
    g_array_index (self->seq_uids, guint32, message->seq - 1) = message->uid;
}

/* What every command does with untagged data it did not take itself. */
void
_tern_imap_client_handle_untagged (TernImapClient   *self,
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
          _tern_imap_client_note_fetch_uid (self, response->message);
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

TernImapResponse *
_tern_imap_client_read_response (TernImapClient  *self,
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

/* A tag this client gave out ("T" and its number) whose answer is not
 * already kept: self->done then holds at most one per command sent. */
static gboolean
tag_pending (TernImapClient *self,
             const char     *tag)
{
  guint64 number;

  if (self->next_tag <= 1 || tag[0] != 'T' || !g_ascii_isdigit (tag[1]) ||
      !g_ascii_string_to_unsigned (tag + 1, 10, 1, self->next_tag - 1, &number, NULL))
    return FALSE;
  return !g_hash_table_contains (self->done, tag);
}

/* Reads until the tagged answer to @tag and returns it; untagged data goes
 * to @func, then the common handler; other tags' answers are kept. */
TernImapResponse *
_tern_imap_client_wait_tagged (TernImapClient  *self,
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
      g_autoptr(TernImapResponse) response = NULL;

      response = _tern_imap_client_read_response (self, cancellable, error);
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
          /* Kept for later only when it answers a command of ours still
           * waiting: answers to nothing would fill the memory. */
          if (!tag_pending (self, response->tag))
            {
              fail_protocol (self, tag, error);
              return NULL;
            }
          g_hash_table_replace (self->done, g_strdup (response->tag),
                                g_steal_pointer (&response));
          break;
        case TERN_IMAP_RESPONSE_UNTAGGED:
          if (func == NULL || !func (self, response, data))
            _tern_imap_client_handle_untagged (self, response);
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
 * commands can be pipelined.  FALSE when the connection failed, or when
 * the server refused a literal and @refusal is given (it then holds the
 * answer; without @refusal, wait_tagged() returns it). */
gboolean
_tern_imap_client_send_command (TernImapClient    *self,
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
              g_autoptr(TernImapResponse) response = NULL;

              response = _tern_imap_client_read_response (self, cancellable, error);
              if (response == NULL)
                return FALSE;
              if (response->kind == TERN_IMAP_RESPONSE_CONTINUATION)
                break;
              if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
                _tern_imap_client_handle_untagged (self, response);
              else if (g_strcmp0 (response->tag, command->tag) == 0)
                {
                  /* Refused before the literal: the rest is not sent.  The
                   * answer goes to @refusal, or waits for wait_tagged(). */
                  if (refusal == NULL)
                    {
                      g_hash_table_replace (self->done, g_strdup (response->tag),
                                            g_steal_pointer (&response));
                      return TRUE;
                    }
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
gboolean
_tern_imap_client_run_command (TernImapClient    *self,
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

  if (!_tern_imap_client_send_command (self, command, &response, cancellable, error))
    {
      if (response != NULL)
        _tern_imap_client_set_response_error (self, command->what, response, error);
      return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  response = _tern_imap_client_wait_tagged (self, command->tag, func, data, cancellable, error);
  if (response == NULL)
    return FALSE;

  if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      _tern_imap_client_set_response_error (self, command->what, response, error);
      return FALSE;
    }

  if (tagged != NULL)
    *tagged = g_steal_pointer (&response);
  return TRUE;
}

/* The common case: a command of fixed text. */
gboolean
_tern_imap_client_run_simple (TernImapClient  *self,
                              const char      *text,
                              GCancellable    *cancellable,
                              GError         **error)
{
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, text);

  tern_imap_command_add (command, text);
  tern_imap_command_end (command);
  return _tern_imap_client_run_command (self, command, NULL, NULL, NULL, cancellable, error);
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

/* Before STARTTLS, what the server answers is unauthenticated: an IMAP
 * failure (NO, BAD, BYE, garbage) is reported without the server's words
 * and closes the connection; transport errors pass through. */
static gboolean
refuse_untrusted (TernImapClient  *self,
                  GError          *local_error,
                  GError         **error)
{
  if (local_error->domain != TERN_IMAP_ERROR)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  g_error_free (local_error);
  return refuse_starttls (self, error,
                          _("%s did not answer as expected before encryption (STARTTLS) "
                            "could start; the connection was closed without signing in"),
                          self->label);
}

static gboolean
ask_capability (TernImapClient  *self,
                GCancellable    *cancellable,
                GError         **error)
{
  return _tern_imap_client_run_simple (self, "CAPABILITY", cancellable, error);
}

static gboolean
starttls (TernImapClient  *self,
          GCancellable    *cancellable,
          GError         **error)
{
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "STARTTLS");
  g_autoptr(TernImapResponse) response = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!tern_imap_client_has_capability (self, "STARTTLS"))
    return refuse_starttls (self, error,
                            _("%s does not offer STARTTLS, so the connection cannot be "
                              "encrypted; it was closed without signing in"),
                            self->label);

  tern_imap_command_add (command, "STARTTLS");
  tern_imap_command_end (command);
  if (!_tern_imap_client_send_command (self, command, NULL, cancellable, error) ||
      !tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  response = _tern_imap_client_wait_tagged (self, command->tag, NULL, NULL, cancellable,
                                            &local_error);
  if (response == NULL)
    return refuse_untrusted (self, g_steal_pointer (&local_error), error);
  /* Without the text: it came in clear and may be an attacker's. */
  if (response->status != TERN_IMAP_RESPONSE_STATUS_OK)
    return refuse_starttls (self, error,
                            _("%s refused to start encryption (STARTTLS); the connection "
                              "was closed without signing in"),
                            self->label);

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
  g_autoptr(GError) local_error = NULL;
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

  greeting = _tern_imap_client_read_response (self, cancellable, error);
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
      /* Text in clear on a connection that must be encrypted is not shown. */
      if (mode == TERN_TLS_MODE_STARTTLS)
        g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_BYE,
                     _("%s refused the connection before it could be encrypted"),
                     self->label);
      else
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
  else if (!ask_capability (self, cancellable, &local_error))
    {
      if (mode == TERN_TLS_MODE_STARTTLS)
        return refuse_untrusted (self, g_steal_pointer (&local_error), error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

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

  /* Not the credentials: the server cannot now (UNAVAILABLE), or takes
   * no more connections of this user (LIMIT, RFC 5530), say while a sync
   * or another client holds them. */
  if (response->code == TERN_IMAP_CODE_UNAVAILABLE || response->code == TERN_IMAP_CODE_LIMIT)
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
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "LOGIN");
  g_autoptr(TernImapResponse) response = NULL;
  gboolean ok;

  tern_imap_command_add (command, "LOGIN ");
  tern_imap_command_add_string (command, username);
  tern_imap_command_add (command, " ");
  tern_imap_command_add_string (command, password);
  tern_imap_command_end (command);

  ok = _tern_imap_client_send_command (self, command, &response, cancellable, error) &&
       tern_connection_flush (self->connection, cancellable, error);
  tern_imap_command_wipe (command);
  if (!ok && response == NULL)
    return FALSE;

  if (response == NULL)
    response = _tern_imap_client_wait_tagged (self, command->tag, NULL, NULL, cancellable, error);
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

gboolean
_tern_imap_client_send_line (TernImapClient  *self,
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

  command = _tern_imap_client_command_new (self, what);
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

  ok = _tern_imap_client_send_command (self, command, NULL, cancellable, error) &&
       tern_connection_flush (self->connection, cancellable, error);
  tern_imap_command_wipe (command);
  if (!ok)
    return FALSE;

  for (;;)
    {
      g_autoptr(TernImapResponse) response = NULL;
      g_autoptr(TernSaslResponse) answer = NULL;

      response = _tern_imap_client_read_response (self, cancellable, error);
      if (response == NULL)
        return FALSE;

      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        {
          _tern_imap_client_handle_untagged (self, response);
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
       * and the server's answer awaited; a server that asks again after
       * that would never stop. */
      if (sasl_error != NULL)
        {
          tern_connection_close (self->connection, NULL, NULL);
          g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_AUTH_FAILED, "%s",
                       sasl_error->message);
          return FALSE;
        }
      answer = tern_sasl_step (sasl, response->text, &sasl_error);
      if (!_tern_imap_client_send_line (self, answer != NULL ? answer : "*", cancellable, error))
        return FALSE;
    }
}

/* The ENABLE command for what the server offers of QRESYNC, CONDSTORE
 * and UTF8=ACCEPT; NULL when there is nothing to enable. */
static TernImapCommand *
enable_command (TernImapClient *self)
{
  static const char * const wanted[] = { "QRESYNC", "CONDSTORE", "UTF8=ACCEPT", NULL };
  g_autoptr(GString) text = g_string_new ("ENABLE");
  TernImapCommand *command;

  if (!tern_imap_client_has_capability (self, "ENABLE"))
    return NULL;

  for (guint i = 0; wanted[i] != NULL; i++)
    if (tern_imap_client_has_capability (self, wanted[i]))
      g_string_append_printf (text, " %s", wanted[i]);

  if (g_str_equal (text->str, "ENABLE"))
    return NULL;
  command = _tern_imap_client_command_new (self, text->str);
  tern_imap_command_add (command, text->str);
  tern_imap_command_end (command);
  return command;
}

static gboolean
start_compression (TernImapClient  *self,
                   GCancellable    *cancellable,
                   GError         **error)
{
  if (tern_connection_is_compressed (self->connection) ||
      !tern_imap_client_has_capability (self, "COMPRESS=DEFLATE"))
    return TRUE;

  if (!_tern_imap_client_run_simple (self, "COMPRESS DEFLATE", cancellable, error))
    return FALSE;

  /* The parser reads line by line, so whatever the server sent after the
   * OK is still in the connection, which inflates it. */
  return tern_connection_start_compression (self->connection, error);
}

/* ENABLE, ID and NAMESPACE together: one round trip.  None depends on
 * another's answer (RFC 9051 §5.5); the ENABLED answer, which switches
 * the parser to UTF-8 names, arrives before the NAMESPACE answer that may
 * hold one.  Only after the sign-in: nothing is pipelined before it. */
static gboolean
set_up_session (TernImapClient  *self,
                GCancellable    *cancellable,
                GError         **error)
{
  g_autoptr(TernImapCommand) enable = enable_command (self);
  g_autoptr(TernImapCommand) id = NULL;
  g_autoptr(TernImapCommand) ns = NULL;
  g_autoptr(TernImapResponse) enabled = NULL;
  g_autoptr(TernImapResponse) response = NULL;

  if (enable != NULL && !_tern_imap_client_send_command (self, enable, NULL, cancellable, error))
    return FALSE;
  if (tern_imap_client_has_capability (self, "ID"))
    {
      id = _tern_imap_client_command_new (self, "ID");
      tern_imap_command_add (id, "ID (\"name\" \"Tern\" \"version\" \"" PACKAGE_VERSION "\")");
      tern_imap_command_end (id);
      if (!_tern_imap_client_send_command (self, id, NULL, cancellable, error))
        return FALSE;
    }
  if (tern_imap_client_has_capability (self, "NAMESPACE"))
    {
      ns = _tern_imap_client_command_new (self, "NAMESPACE");
      tern_imap_command_add (ns, "NAMESPACE");
      tern_imap_command_end (ns);
      if (!_tern_imap_client_send_command (self, ns, NULL, cancellable, error))
        return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  if (enable != NULL)
    {
      enabled = _tern_imap_client_wait_tagged (self, enable->tag, NULL, NULL, cancellable, error);
      if (enabled == NULL)
        return FALSE;
    }
  /* Neither answer matters enough to fail the login over a NO. */
  if (id != NULL)
    {
      response = _tern_imap_client_wait_tagged (self, id->tag, NULL, NULL, cancellable, error);
      if (response == NULL)
        return FALSE;
      g_clear_pointer (&response, tern_imap_response_free);
    }
  if (ns != NULL)
    {
      response = _tern_imap_client_wait_tagged (self, ns->tag, NULL, NULL, cancellable, error);
      if (response == NULL)
        return FALSE;
    }

  if (enabled != NULL && enabled->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      _tern_imap_client_set_response_error (self, enable->what, enabled, error);
      return FALSE;
    }
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

  return set_up_session (self, cancellable, error);
}

gboolean
tern_imap_client_noop (TernImapClient  *self,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return _tern_imap_client_run_simple (self, "NOOP", cancellable, error);
}

gboolean
tern_imap_client_logout (TernImapClient  *self,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(TernImapCommand) command = NULL;
  gboolean ok;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (!tern_connection_is_connected (self->connection))
    return TRUE;

  /* Sent, not waited for: every command before it was answered (each
   * caller waits for its answers), and the server's BYE and OK change
   * nothing here; waiting for them cost the sync a round trip. */
  self->logging_out = TRUE;
  command = _tern_imap_client_command_new (self, "LOGOUT");
  tern_imap_command_add (command, "LOGOUT");
  tern_imap_command_end (command);
  ok = _tern_imap_client_send_command (self, command, NULL, cancellable, error) &&
       tern_connection_flush (self->connection, cancellable, error);
  tern_connection_close (self->connection, NULL, NULL);
  tern_imap_parser_reset (self->parser);
  g_clear_pointer (&self->selected, g_free);
  self->authenticated = FALSE;
  return ok;
}
