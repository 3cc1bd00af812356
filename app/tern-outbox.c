/* tern-outbox.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-outbox"

#include "config.h"

#include "tern-outbox.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "tern-account-manager.h"
#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-imap-session.h"
#include "tern-mail-store-private.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox-private.h"
#include "tern-pop3-download.h"
#include "tern-smtp-client.h"
#include "tern-worker-pool.h"

#define CONNECT_TIMEOUT_SECONDS 20
/* The first retry after a 4xx or an outage, doubled each time up to an hour. */
#define BACKOFF_FIRST_SECONDS 30
#define BACKOFF_MAX_SECONDS 3600
#define OPTIONS_GROUP "outbox"
#define SMTP_OPTIONS_GROUP "smtp"

static void announce_change (TernStore *store);

/* tern_store_write() on outbox rows, announced to the watchers. */
static gboolean
write_rows (TernStore      *store,
            TernStoreFunc   func,
            gpointer        user_data,
            GError        **error)
{
  gboolean ok = tern_store_write (store, func, user_data, error);

  announce_change (store);
  return ok;
}

static const char *const state_names[] = { "queued", "sending", "sent", "failed" };

const char *
tern_outbox_state_to_string (TernOutboxState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);

  return state_names[state];
}

static TernOutboxState
state_from_string (const char *text)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      return (TernOutboxState) i;
  return TERN_OUTBOX_STATE_FAILED;
}

void
tern_outbox_entry_free (TernOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->message_id);
  g_free (entry->envelope_from);
  g_strfreev (entry->recipients);
  g_free (entry->last_error);
  g_free (entry);
}

/* Parsing */

static void
collect_addresses (InternetAddressList *list,
                   GHashTable          *seen,
                   GPtrArray           *out)
{
  int n = list ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        collect_addresses (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                           seen, out);
      else if (INTERNET_ADDRESS_IS_MAILBOX (address))
        {
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
          g_autofree char *key = NULL;

          if (addr == NULL || *addr == '\0' || strchr (addr, '@') == NULL)
            continue;
          key = g_ascii_strdown (addr, -1);
          if (g_hash_table_add (seen, g_steal_pointer (&key)))
            g_ptr_array_add (out, g_strdup (addr));
        }
    }
}

/* Where the header ends: the offset of the empty line's first byte. */
static gsize
header_length (const char *data,
               gsize       size)
{
  for (gsize i = 0; i < size; i++)
    {
      if (data[i] != '\n')
        continue;
      if (i + 1 < size && data[i + 1] == '\n')
        return i + 1;
      if (i + 2 < size && data[i + 1] == '\r' && data[i + 2] == '\n')
        return i + 1;
    }
  return size;
}

static gboolean
is_field (const char *line,
          gsize       length,
          const char *name)
{
  gsize name_length = strlen (name);

  return length > name_length && g_ascii_strncasecmp (line, name, name_length) == 0
         && line[name_length] == ':';
}

GBytes *
_tern_outbox_rewrite_header (GBytes     *message,
                             gboolean    drop_bcc,
                             const char *new_message_id)
{
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  gsize end = header_length (data, size);
  GByteArray *out = g_byte_array_sized_new (size + 128);
  gboolean skipping = FALSE;
  gsize pos = 0;

  if (new_message_id != NULL)
    {
      gboolean crlf = memchr (data, '\r', end) != NULL;
      g_autofree char *field = g_strdup_printf ("Message-ID: <%s>%s", new_message_id,
                                                crlf ? "\r\n" : "\n");

      g_byte_array_append (out, (const guint8 *) field, strlen (field));
    }
  while (pos < end)
    {
      const char *nl = memchr (data + pos, '\n', end - pos);
      gsize line_end = nl ? (gsize) (nl - data) + 1 : end;
      gboolean continuation = data[pos] == ' ' || data[pos] == '\t';

      if (!continuation)
        skipping = (drop_bcc && is_field (data + pos, line_end - pos, "bcc"))
                   || (new_message_id != NULL
                       && is_field (data + pos, line_end - pos, "message-id"));
      if (!skipping)
        g_byte_array_append (out, (const guint8 *) data + pos, line_end - pos);
      pos = line_end;
    }
  g_byte_array_append (out, (const guint8 *) data + end, size - end);
  return g_byte_array_free_to_bytes (out);
}

typedef struct
{
  gint64 account_id;
  char *message_id;
  char *envelope_from;
  char *recipients;
  GBytes *data;
  gint64 id;
} Insert;

static gboolean
insert_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Insert *insert = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gsize size;
  const void *data = g_bytes_get_data (insert->data, &size);
  int rc;

  stmt = tern_store_prepare (db,
                             "INSERT INTO outbox (account_id, state, message_id_header, "
                             "envelope_from, recipients, data, created) "
                             "VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, insert->account_id);
  tern_store_bind_text (stmt, 2, insert->message_id);
  tern_store_bind_text (stmt, 3, insert->envelope_from);
  tern_store_bind_text (stmt, 4, insert->recipients);
  sqlite3_bind_blob64 (stmt, 5, data, size, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time () / G_USEC_PER_SEC);
  rc = sqlite3_step (stmt);
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("A message with the Message-ID <%s> is in the outbox already"),
                   insert->message_id);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  insert->id = sqlite3_last_insert_rowid (db);
  return TRUE;
}

gint64
tern_outbox_enqueue (TernStore    *store,
                     TernAccount  *account,
                     GBytes       *message,
                     GError      **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) recipients = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) from_list = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) from_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *new_id = NULL;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *parsed;
  const char *domain;
  Insert insert = { 0 };
  gsize size;
  const char *data;

  g_return_val_if_fail (TERN_IS_STORE (store), 0);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), 0);
  g_return_val_if_fail (message != NULL, 0);

  _tern_mail_ensure_gmime ();
  data = g_bytes_get_data (message, &size);
  stream = g_mime_stream_mem_new_with_buffer (data, size);
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (parsed == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The message cannot be read as an email message"));
      return 0;
    }
  collect_addresses (g_mime_message_get_from (parsed), from_seen, from_list);
  for (GMimeAddressType type = GMIME_ADDRESS_TYPE_TO; type <= GMIME_ADDRESS_TYPE_BCC; type++)
    collect_addresses (g_mime_message_get_addresses (parsed, type), seen, recipients);
  insert.message_id = g_strdup (g_mime_message_get_message_id (parsed));
  g_object_unref (parsed);

  if (recipients->len == 0)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The message has no recipient in To, Cc or Bcc"));
      g_free (insert.message_id);
      return 0;
    }
  insert.envelope_from = g_strdup (from_list->len > 0 ? g_ptr_array_index (from_list, 0)
                                                      : tern_account_get_address (account));
  if (insert.message_id == NULL || *insert.message_id == '\0')
    {
      domain = strrchr (insert.envelope_from, '@');
      new_id = g_mime_utils_generate_message_id (domain ? domain + 1 : "localhost");
      g_free (insert.message_id);
      insert.message_id = g_strdup (new_id);
    }
  g_ptr_array_add (recipients, NULL);
  insert.recipients = g_strjoinv ("\n", (char **) recipients->pdata);
  insert.account_id = tern_account_get_id (account);
  insert.data = _tern_outbox_rewrite_header (message, TRUE, new_id);

  write_rows (store, insert_cb, &insert, error);
  g_free (insert.message_id);
  g_free (insert.envelope_from);
  g_free (insert.recipients);
  g_bytes_unref (insert.data);
  return insert.id;
}

/* Reading rows */

#define ENTRY_COLUMNS \
  "id, account_id, state, message_id_header, envelope_from, recipients, attempts, " \
  "last_error, next_attempt, created, may_have_been_sent, length (data)"

static TernOutboxEntry *
entry_from_row (sqlite3_stmt *stmt)
{
  TernOutboxEntry *entry = g_new0 (TernOutboxEntry, 1);
  g_autofree char *state = tern_store_dup_text (stmt, 2);
  g_autofree char *recipients = tern_store_dup_text (stmt, 5);

  entry->id = sqlite3_column_int64 (stmt, 0);
  entry->account_id = sqlite3_column_int64 (stmt, 1);
  entry->state = state_from_string (state);
  entry->message_id = tern_store_dup_text (stmt, 3);
  entry->envelope_from = tern_store_dup_text (stmt, 4);
  entry->recipients = g_strsplit (recipients ? recipients : "", "\n", -1);
  entry->attempts = (guint) sqlite3_column_int64 (stmt, 6);
  entry->last_error = tern_store_dup_text (stmt, 7);
  entry->next_attempt = sqlite3_column_int64 (stmt, 8);
  entry->created = sqlite3_column_int64 (stmt, 9);
  entry->may_have_been_sent = sqlite3_column_int (stmt, 10) != 0;
  entry->size = sqlite3_column_int64 (stmt, 11);
  return entry;
}

typedef struct
{
  const char *sql;
  gint64 arg;
  gint64 arg2;
  GPtrArray *entries;
} Query;

static gboolean
query_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Query *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, query->sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, query->arg);
  if (sqlite3_bind_parameter_count (stmt) >= 2)
    sqlite3_bind_int64 (stmt, 2, query->arg2);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (query->entries, entry_from_row (stmt));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

static GPtrArray *
run_query (TernStore   *store,
           const char  *sql,
           gint64       arg,
           gint64       arg2,
           GError     **error)
{
  Query query = { sql, arg, arg2, NULL };

  query.entries = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_outbox_entry_free);
  if (!tern_store_read (store, query_cb, &query, error))
    g_clear_pointer (&query.entries, g_ptr_array_unref);
  return query.entries;
}

GPtrArray *
tern_outbox_list (TernStore  *store,
                  gint64      account_id,
                  GError    **error)
{
  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  return run_query (store,
                    "SELECT " ENTRY_COLUMNS " FROM outbox WHERE ?1 = 0 OR account_id = ?1 "
                    "ORDER BY id",
                    account_id, 0, error);
}

TernOutboxEntry *
tern_outbox_get (TernStore  *store,
                 gint64      id,
                 GError    **error)
{
  g_autoptr(GPtrArray) entries = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  entries = run_query (store, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE id = ?1", id, 0, error);
  if (entries == NULL)
    return NULL;
  if (entries->len == 0)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, id);

      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("There is no message %s in the outbox"), number);
      return NULL;
    }
  return g_ptr_array_steal_index (entries, 0);
}

typedef struct
{
  gint64 id;
  GBytes *data;
} DataQuery;

static gboolean
data_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  DataQuery *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT data FROM outbox WHERE id = ?",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, query->id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, query->id);

      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("There is no message %s in the outbox"), number);
      return FALSE;
    }
  query->data = g_bytes_new (sqlite3_column_blob (stmt, 0),
                             (gsize) sqlite3_column_bytes (stmt, 0));
  return TRUE;
}

GBytes *
tern_outbox_get_data (TernStore  *store,
                      gint64      id,
                      GError    **error)
{
  DataQuery query = { id, NULL };

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  tern_store_read (store, data_cb, &query, error);
  return query.data;
}

/* Changing rows */

typedef struct
{
  gint64 id;
  TernOutboxState state;
  const char *last_error;
  gboolean retry; /* attempts + 1 and a later next_attempt */
  gboolean may_have_been_sent;
} Update;

static gboolean
update_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Update *update = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  stmt = tern_store_prepare (db,
                             "UPDATE outbox SET state = ?2, last_error = ?3, "
                             "attempts = attempts + ?4, may_have_been_sent = ?8, "
                             "next_attempt = CASE WHEN ?4 THEN ?5 + min(?6 << min(attempts, 16), ?7) "
                             "                    ELSE next_attempt END "
                             "WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, update->id);
  tern_store_bind_text (stmt, 2, state_names[update->state]);
  tern_store_bind_text (stmt, 3, update->last_error);
  sqlite3_bind_int (stmt, 4, update->retry ? 1 : 0);
  sqlite3_bind_int64 (stmt, 5, now);
  sqlite3_bind_int64 (stmt, 6, BACKOFF_FIRST_SECONDS);
  sqlite3_bind_int64 (stmt, 7, BACKOFF_MAX_SECONDS);
  sqlite3_bind_int (stmt, 8, update->may_have_been_sent ? 1 : 0);
  return tern_store_step_done (stmt, error);
}

static gboolean
set_state (TernStore        *store,
           gint64            id,
           TernOutboxState   state,
           const char       *last_error,
           gboolean          retry,
           GError          **error)
{
  Update update = { id, state, last_error, retry, FALSE };

  return write_rows (store, update_cb, &update, error);
}

typedef struct
{
  gint64 id;
  gboolean claimed;
} Claim;

static gboolean
claim_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Claim *claim = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db, "UPDATE outbox SET state = 'sending' "
                                 "WHERE id = ?1 AND state = 'queued'", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, claim->id);
  if (!tern_store_step_done (stmt, error))
    return FALSE;
  claim->claimed = sqlite3_changes (db) > 0;
  return TRUE;
}

/* Marks @entry `sending` if it is still `queued`. */
static gboolean
claim (TernStore        *store,
       TernOutboxEntry  *entry,
       gboolean         *claimed,
       GError          **error)
{
  Claim data = { entry->id, FALSE };

  if (!write_rows (store, claim_cb, &data, error))
    return FALSE;
  *claimed = data.claimed;
  return TRUE;
}

/* Sending */

/* For the composer's warning before a message that would be refused. */
static void
remember_size_limit (TernStore   *store,
                     TernAccount *account,
                     guint64      size_limit)
{
  g_autoptr(GError) error = NULL;
  gint64 account_id = tern_account_get_id (account);

  if (tern_outbox_get_size_limit (store, account_id) != size_limit
      && !tern_outbox_set_size_limit (store, account_id, size_limit, &error))
    g_debug ("Cannot remember the SIZE of %s: %s", tern_account_get_address (account),
             error->message);
}

static TernSmtpClient *
smtp_session_open (TernContext   *context,
                   TernAccount   *account,
                   GCancellable  *cancellable,
                   GError       **error)
{
  const TernServer *server = tern_account_get_outgoing (account);
  const char *address = tern_account_get_address (account);
  const char *domain = strrchr (address, '@');
  g_autoptr(TernConnection) connection = NULL;
  g_autoptr(TernSmtpClient) client = NULL;
  g_autofree char *password = NULL;

  if (server == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The account %s has no outgoing server"), address);
      return NULL;
    }
  password = tern_account_manager_get_password (tern_context_get_accounts (context), account,
                                                TERN_SECRET_ROLE_OUTGOING, cancellable, error);
  if (password == NULL)
    return NULL;
  connection = tern_context_new_connection (context, server, error);
  if (connection == NULL)
    return NULL;
  tern_connection_set_connect_timeout (connection, CONNECT_TIMEOUT_SECONDS);
  client = tern_smtp_client_new (connection);
  if (!tern_smtp_client_open (client, domain ? domain + 1 : NULL, cancellable, error)
      || !tern_smtp_client_login (client, server->username ? server->username : address,
                                  password, server->auth, cancellable, error))
    return NULL;
  remember_size_limit (tern_context_get_store (context), account,
                       tern_smtp_client_get_size_limit (client));
  return g_steal_pointer (&client);
}

/* Whether trying again later may help. */
static gboolean
is_temporary (const GError *error)
{
  return tern_worker_error_is_network (error)
         || g_error_matches (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_TEMPORARY)
         || g_error_matches (error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_PROTOCOL)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
         || g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_PASSWORD_COMMAND)
         || g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_SECRET_SERVICE);
}

/* "nobody@example.org: 550 5.1.1 User unknown", one refusal a line. */
static char *
describe_refusals (GPtrArray *results)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      TernSmtpRecipientResult *result = g_ptr_array_index (results, i);

      if (tern_smtp_recipient_result_is_accepted (result))
        continue;
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text, _("%s was refused: %u %s%s%s"), result->address, result->code,
                              result->enhanced_code ? result->enhanced_code : "",
                              result->enhanced_code ? " " : "", result->text ? result->text : "");
    }
  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

typedef struct
{
  gint64 folder_id;
  const char *message_id;
  gint64 id;
} FindLocal;

static gboolean
find_local_cb (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  FindLocal *find = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT id FROM messages WHERE folder_id = ?1 AND message_id = ?2 "
                             "ORDER BY id DESC LIMIT 1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, find->folder_id);
  tern_store_bind_text (stmt, 2, find->message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    find->id = sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

gint64
_tern_outbox_store_local (TernStore      *store,
                          gint64          folder_id,
                          GBytes         *message,
                          TernImapFlags   flags,
                          GError        **error)
{
  g_autoptr(GPtrArray) rows = NULL;
  TernMailNewMessage *row;
  g_autofree char *message_id = NULL;
  FindLocal find = { folder_id, NULL, 0 };

  /* Local mail is stored the way POP3 mail is, without a UIDL. */
  row = tern_mail_new_message_from_pop3 (NULL, message, TRUE, g_get_real_time () / G_USEC_PER_SEC);
  row->flags = flags;
  message_id = g_strdup (row->message_id);
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_ptr_array_add (rows, row);
  if (message_id == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The message has no Message-ID header."));
      return 0;
    }
  if (!tern_mail_store_add_new_messages (store, folder_id, rows, NULL, error))
    return 0;
  find.message_id = message_id;
  if (!tern_store_read (store, find_local_cb, &find, error))
    return 0;
  if (find.id == 0)
    g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                         _("The message was not stored; try again."));
  return find.id;
}

/* The \Seen copy in the Sent folder.  IMAP accounts queue it in the
 * offline queue, which appends it once (by Message-ID) and retries on its
 * own; POP3 accounts store it in their local Sent folder.  Never the
 * send's failure: the message went out.  Returns whether an IMAP append
 * was queued. */
static gboolean
file_sent_copy (TernStore   *store,
                TernAccount *account,
                GBytes      *data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) sent = NULL;
  TernOutboxOptions options;

  if (!tern_outbox_options_load (store, tern_account_get_id (account), &options, &error))
    {
      g_debug ("Outbox options unreadable, using the defaults: %s", error->message);
      g_clear_error (&error);
    }
  if (!tern_outbox_wants_sent_copy (account, options.save_sent_copy))
    return FALSE;
  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    {
      gint64 ids[TERN_POP3_N_FOLDERS];

      if (!tern_pop3_ensure_all_folders (store, tern_account_get_id (account), ids, &error)
          || _tern_outbox_store_local (store, ids[TERN_POP3_FOLDER_SENT], data,
                                       TERN_IMAP_FLAG_SEEN, &error) == 0)
        g_warning ("Cannot store the Sent copy of %s: %s", tern_account_get_address (account),
                   error->message);
      return FALSE;
    }
  sent = tern_mail_store_find_folder_by_role (store, tern_account_get_id (account), "sent", &error);
  if (sent == NULL)
    {
      g_debug ("No Sent folder known for %s: %s", tern_account_get_address (account),
               error ? error->message : "not synced yet");
      return FALSE;
    }
  if (tern_offline_queue_append (store, sent->id, data, TERN_IMAP_FLAG_SEEN, &error) == 0)
    {
      g_debug ("Cannot queue the Sent copy: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

static void
replay_sent_copies (TernContext  *context,
                    TernAccount  *account,
                    GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = NULL;

  client = tern_imap_session_open (context, account, cancellable, &error);
  if (client != NULL)
    {
      tern_offline_queue_replay (tern_context_get_store (context), tern_account_get_id (account),
                                 client, NULL, cancellable, &error);
      tern_imap_client_logout (client, cancellable, NULL);
    }
  /* Not the send's failure: the queue tries again with the next replay. */
  if (error != NULL)
    g_debug ("Sent copies wait for the next replay: %s", error->message);
}

/* Whether the account's Sent folder on the server holds @message_id. */
static gboolean
sent_folder_has (TernContext  *context,
                 TernAccount  *account,
                 const char   *message_id,
                 GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autoptr(TernMailFolder) sent = NULL;
  g_autoptr(TernImapSet) uids = NULL;
  g_autofree char *criteria = NULL;
  TernImapSelected selected = { 0 };
  gboolean found = FALSE;

  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP
      || strpbrk (message_id, "\"\\\r\n") != NULL)
    return FALSE;
  sent = tern_mail_store_find_folder_by_role (tern_context_get_store (context),
                                              tern_account_get_id (account), "sent", NULL);
  if (sent == NULL)
    return FALSE;
  client = tern_imap_session_open (context, account, cancellable, &error);
  if (client == NULL || !tern_imap_client_select (client, sent->name, TRUE, NULL, &selected,
                                                  cancellable, &error))
    {
      g_debug ("Cannot look into the Sent folder: %s", error->message);
      tern_imap_selected_clear (&selected);
      return FALSE;
    }
  criteria = g_strdup_printf ("HEADER Message-ID \"%s\"", message_id);
  uids = tern_imap_client_search_uids (client, criteria, cancellable, &error);
  found = uids != NULL && !tern_imap_set_is_empty (uids);
  tern_imap_client_logout (client, cancellable, NULL);
  tern_imap_selected_clear (&selected);
  return found;
}

/* Rows left `sending` by a flush that did not finish: never resent. */
static gboolean
settle_interrupted (TernContext   *context,
                    TernAccount   *account,
                    GCancellable  *cancellable,
                    GError       **error)
{
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GPtrArray) rows = NULL;

  rows = run_query (store,
                    "SELECT " ENTRY_COLUMNS " FROM outbox "
                    "WHERE account_id = ?1 AND state = 'sending' AND ?2 = 0 ORDER BY id",
                    tern_account_get_id (account), 0, error);
  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      TernOutboxEntry *entry = g_ptr_array_index (rows, i);
      Update update = { entry->id, TERN_OUTBOX_STATE_FAILED,
                        _("Tern stopped while sending this message, so it may have been sent; "
                          "check your Sent folder or ask the recipients before sending it again"),
                        FALSE, TRUE };

      if (sent_folder_has (context, account, entry->message_id, cancellable))
        update = (Update) { entry->id, TERN_OUTBOX_STATE_SENT, NULL, FALSE, FALSE };
      if (!write_rows (store, update_cb, &update, error))
        return FALSE;
    }
  return TRUE;
}

/* Records a failure that concerns the whole session on every due row. */
static gboolean
fail_all (TernStore        *store,
          GPtrArray        *rows,
          const GError     *reason,
          GError          **error)
{
  gboolean temporary = is_temporary (reason);

  for (guint i = 0; i < rows->len; i++)
    {
      TernOutboxEntry *entry = g_ptr_array_index (rows, i);

      if (!set_state (store, entry->id,
                      temporary ? TERN_OUTBOX_STATE_QUEUED : TERN_OUTBOX_STATE_FAILED,
                      reason->message, temporary, error))
        return FALSE;
    }
  return TRUE;
}

/* Sends one row.  Returns FALSE with @error only when the session is
 * unusable (the row is back in the queue then) or the store failed. */
static gboolean
send_one (TernContext     *context,
          TernAccount     *account,
          TernSmtpClient  *client,
          TernOutboxEntry *entry,
          gboolean        *sent,
          gboolean        *copy_queued,
          GCancellable    *cancellable,
          GError         **error)
{
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) send_error = NULL;
  g_autofree char *refusals = NULL;
  gboolean claimed = FALSE;

  *sent = FALSE;
  *copy_queued = FALSE;
  data = tern_outbox_get_data (store, entry->id, &send_error);
  /* Removed (or taken back to edit) since the flush read the rows. */
  if (g_error_matches (send_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
    return TRUE;
  if (data == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&send_error));
      return FALSE;
    }
  /* Durable before a byte of DATA leaves: see the guarantee in the header.
   * Only a row still `queued`: one the user removed meanwhile stays gone. */
  if (!claim (store, entry, &claimed, error))
    return FALSE;
  if (!claimed)
    return TRUE;
  if (tern_smtp_client_send_bytes (client, entry->envelope_from,
                                   (const char *const *) entry->recipients, data, &results,
                                   cancellable, &send_error))
    {
      refusals = describe_refusals (results);
      if (!set_state (store, entry->id, TERN_OUTBOX_STATE_SENT, refusals, FALSE, error))
        return FALSE;
      *sent = TRUE;
      *copy_queued = file_sent_copy (store, account, data);
      return TRUE;
    }
  /* Never back to the queue: at most once (see the header). */
  if (g_error_matches (send_error, TERN_SMTP_ERROR, TERN_SMTP_ERROR_NO_FINAL_REPLY))
    {
      Update update = { entry->id, TERN_OUTBOX_STATE_FAILED, send_error->message, FALSE, TRUE };

      if (write_rows (store, update_cb, &update, error))
        g_propagate_error (error, g_steal_pointer (&send_error));
      return FALSE;
    }
  refusals = describe_refusals (results);
  if (refusals != NULL)
    {
      g_autofree char *reason = g_strdup_printf ("%s\n%s", send_error->message, refusals);

      if (!set_state (store, entry->id,
                      is_temporary (send_error) ? TERN_OUTBOX_STATE_QUEUED
                                                : TERN_OUTBOX_STATE_FAILED,
                      reason, is_temporary (send_error), error))
        return FALSE;
    }
  else if (!set_state (store, entry->id,
                       is_temporary (send_error) ? TERN_OUTBOX_STATE_QUEUED
                                                 : TERN_OUTBOX_STATE_FAILED,
                       send_error->message, is_temporary (send_error), error))
    return FALSE;
  if (tern_worker_error_is_network (send_error)
      || g_error_matches (send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&send_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_outbox_flush (TernContext   *context,
                   TernAccount   *account,
                   guint         *n_sent,
                   GCancellable  *cancellable,
                   GError       **error)
{
  TernStore *store;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(TernSmtpClient) client = NULL;
  g_autoptr(GError) session_error = NULL;
  guint count = 0;
  gboolean copies = FALSE;
  gboolean ok = TRUE;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  store = tern_context_get_store (context);
  if (n_sent != NULL)
    *n_sent = 0;
  if (!settle_interrupted (context, account, cancellable, error))
    return FALSE;
  rows = run_query (store,
                    "SELECT " ENTRY_COLUMNS " FROM outbox WHERE account_id = ?1 "
                    "AND state = 'queued' AND (next_attempt IS NULL OR next_attempt <= ?2) "
                    "ORDER BY id",
                    tern_account_get_id (account), g_get_real_time () / G_USEC_PER_SEC, error);
  if (rows == NULL)
    return FALSE;
  if (rows->len == 0)
    return TRUE;

  client = smtp_session_open (context, account, cancellable, &session_error);
  if (client == NULL)
    {
      if (!fail_all (store, rows, session_error, error))
        return FALSE;
      g_propagate_error (error, g_steal_pointer (&session_error));
      return FALSE;
    }
  for (guint i = 0; ok && i < rows->len; i++)
    {
      gboolean sent = FALSE;
      gboolean copy_queued = FALSE;

      ok = send_one (context, account, client, g_ptr_array_index (rows, i), &sent, &copy_queued,
                     cancellable, error);
      count += sent;
      copies |= copy_queued;
    }
  if (ok)
    tern_smtp_client_quit (client, cancellable, NULL);
  if (copies)
    replay_sent_copies (context, account, cancellable);
  if (n_sent != NULL)
    *n_sent = count;
  return ok;
}

/* In the worker pool */

typedef struct
{
  TernContext *context;
  guint n_sent;
} FlushJob;

static void
flush_job_free (gpointer data)
{
  FlushJob *job = data;

  g_object_unref (job->context);
  g_free (job);
}

static gboolean
flush_job (TernWorkerJob  *job,
           gpointer        data,
           GCancellable   *cancellable,
           GError        **error)
{
  FlushJob *flush = data;

  return tern_outbox_flush (flush->context, tern_worker_job_get_account (job), &flush->n_sent,
                            cancellable, error);
}

static void
flush_job_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
tern_outbox_flush_async (TernContext         *context,
                         TernAccount         *account,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FlushJob *job;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  task = g_task_new (context, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_outbox_flush_async);
  job = g_new0 (FlushJob, 1);
  job->context = g_object_ref (context);
  g_task_set_task_data (task, job, flush_job_free);
  tern_worker_pool_run_async (tern_context_get_worker_pool (context), account, flush_job, job,
                              cancellable, flush_job_done_cb, g_object_ref (task));
}

gboolean
tern_outbox_flush_finish (TernContext   *context,
                          GAsyncResult  *result,
                          guint         *n_sent,
                          GError       **error)
{
  FlushJob *job;

  g_return_val_if_fail (g_task_is_valid (result, context), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tern_outbox_flush_async, FALSE);

  job = g_task_get_task_data (G_TASK (result));
  if (n_sent != NULL)
    *n_sent = job->n_sent;
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Scheduling: one Schedule per account, in a table that the context holds
 * (as object data, so the timeouts go away with it). */

#define SCHEDULES_KEY "tern-outbox-schedules"

typedef struct
{
  TernContext *context; /* not a reference: the context owns the table */
  TernAccount *account;
  gboolean running;
  gboolean again;
  GSource *timeout;
  gint64 timeout_at; /* next_attempt the timeout is for, 0: none */
} Schedule;

static void
schedule_free (gpointer data)
{
  Schedule *schedule = data;

  if (schedule->timeout != NULL)
    g_source_destroy (schedule->timeout);
  g_clear_pointer (&schedule->timeout, g_source_unref);
  g_object_unref (schedule->account);
  g_free (schedule);
}

static void schedule_run (Schedule *schedule);

/* The first next_attempt of a `queued` row of @account_id, or 0. */
static gint64
first_retry (TernStore *store,
             gint64     account_id)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;

  rows = run_query (store,
                    "SELECT " ENTRY_COLUMNS " FROM outbox WHERE account_id = ?1 "
                    "AND state = 'queued' AND ?2 = 0 ORDER BY coalesce (next_attempt, 0) LIMIT 1",
                    account_id, 0, &error);
  if (rows == NULL)
    {
      g_warning ("Cannot read the outbox: %s", error->message);
      return 0;
    }
  if (rows->len == 0)
    return 0;
  return MAX (((TernOutboxEntry *) g_ptr_array_index (rows, 0))->next_attempt, 1);
}

static gboolean
schedule_timeout_cb (gpointer data)
{
  Schedule *schedule = data;

  g_clear_pointer (&schedule->timeout, g_source_unref);
  schedule->timeout_at = 0;
  schedule_run (schedule);
  return G_SOURCE_REMOVE;
}

/* Arms the timeout for the first row that waits for its backoff. */
static void
schedule_arm (Schedule *schedule)
{
  gint64 at = first_retry (tern_context_get_store (schedule->context),
                           tern_account_get_id (schedule->account));
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (at == schedule->timeout_at)
    return;
  if (schedule->timeout != NULL)
    g_source_destroy (schedule->timeout);
  g_clear_pointer (&schedule->timeout, g_source_unref);
  schedule->timeout_at = at;
  if (at == 0)
    return;
  /* next_attempt is in whole seconds and due when <= now: one more second
   * makes sure it is due when the timeout fires. */
  schedule->timeout = g_timeout_source_new_seconds ((guint) CLAMP (at - now + 1, 1, G_MAXUINT));
  g_source_set_static_name (schedule->timeout, "[tern] outbox retry");
  g_source_set_callback (schedule->timeout, schedule_timeout_cb, schedule, NULL);
  g_source_attach (schedule->timeout, g_main_context_get_thread_default ());
}

static void
schedule_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TernContext *context = TERN_CONTEXT (source);
  g_autoptr(TernAccount) account = user_data;
  g_autoptr(GError) error = NULL;
  GHashTable *schedules;
  Schedule *schedule;
  guint n_sent = 0;

  if (!tern_outbox_flush_finish (context, result, &n_sent, &error))
    g_debug ("Outbox flush of %s: %s", tern_account_get_address (account), error->message);
  else if (n_sent > 0)
    g_debug ("Outbox flush of %s: %u sent", tern_account_get_address (account), n_sent);

  schedules = g_object_get_data (G_OBJECT (context), SCHEDULES_KEY);
  schedule = schedules ? g_hash_table_lookup (schedules, account) : NULL;
  if (schedule == NULL)
    return;
  schedule->running = FALSE;
  if (schedule->again)
    schedule_run (schedule);
  else
    schedule_arm (schedule);
}

static void
schedule_run (Schedule *schedule)
{
  if (schedule->running)
    {
      schedule->again = TRUE;
      return;
    }
  schedule->running = TRUE;
  schedule->again = FALSE;
  tern_outbox_flush_async (schedule->context, schedule->account, NULL, schedule_done_cb,
                           g_object_ref (schedule->account));
}

void
tern_outbox_schedule (TernContext *context,
                      TernAccount *account)
{
  GHashTable *schedules;
  Schedule *schedule;

  g_return_if_fail (TERN_IS_CONTEXT (context));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  schedules = g_object_get_data (G_OBJECT (context), SCHEDULES_KEY);
  if (schedules == NULL)
    {
      schedules = g_hash_table_new_full (NULL, NULL, NULL, schedule_free);
      g_object_set_data_full (G_OBJECT (context), SCHEDULES_KEY, schedules,
                              (GDestroyNotify) g_hash_table_unref);
    }
  schedule = g_hash_table_lookup (schedules, account);
  if (schedule == NULL)
    {
      schedule = g_new0 (Schedule, 1);
      schedule->context = context;
      schedule->account = g_object_ref (account);
      g_hash_table_insert (schedules, account, schedule);
    }
  schedule_run (schedule);
}

/* Send now */

typedef struct
{
  gint64 id;
  gboolean force;
} Retry;

static gboolean
retry_cb (sqlite3  *db,
          gpointer  user_data,
          GError  **error)
{
  Retry *retry = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, retry->id);

  stmt = tern_store_prepare (db, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, retry->id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("There is no message %s in the outbox"), number);
      return FALSE;
    }
  entry = entry_from_row (stmt);
  g_clear_pointer (&stmt, sqlite3_finalize);
  switch (entry->state)
    {
    case TERN_OUTBOX_STATE_SENT:
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("Message %s was sent already"), number);
      return FALSE;
    case TERN_OUTBOX_STATE_SENDING:
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("Message %s is being sent right now"), number);
      return FALSE;
    case TERN_OUTBOX_STATE_FAILED:
      if (entry->may_have_been_sent && !retry->force)
        {
          g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                       _("Message %s may have been sent already: check the Sent folder or ask "
                         "the recipients, and send it again only if it did not arrive"),
                       number);
          return FALSE;
        }
      break;
    case TERN_OUTBOX_STATE_QUEUED:
    default:
      break;
    }
  stmt = tern_store_prepare (db,
                             "UPDATE outbox SET state = 'queued', next_attempt = 0, "
                             "may_have_been_sent = 0, "
                             "last_error = CASE WHEN state = 'queued' THEN last_error END "
                             "WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, retry->id);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_outbox_retry_now (TernStore  *store,
                       gint64      id,
                       gboolean    force,
                       GError    **error)
{
  Retry retry = { id, force };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  return write_rows (store, retry_cb, &retry, error);
}

/* Options */

static const char *const sent_copy_names[] = { "auto", "always", "never" };

gboolean
tern_outbox_options_load (TernStore          *store,
                          gint64              account_id,
                          TernOutboxOptions  *options,
                          GError            **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *sent_copy = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);

  *options = (TernOutboxOptions) { TERN_OUTBOX_SENT_COPY_AUTO };
  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  sent_copy = g_key_file_get_string (key_file, OPTIONS_GROUP, "save-sent-copy", NULL);
  for (guint i = 0; sent_copy != NULL && i < G_N_ELEMENTS (sent_copy_names); i++)
    if (g_ascii_strcasecmp (g_strstrip (sent_copy), sent_copy_names[i]) == 0)
      options->save_sent_copy = (TernOutboxSentCopy) i;
  return TRUE;
}

gboolean
tern_outbox_options_save (TernStore                *store,
                          gint64                    account_id,
                          const TernOutboxOptions  *options,
                          GError                  **error)
{
  g_autoptr(GKeyFile) key_file = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail ((guint) options->save_sent_copy < G_N_ELEMENTS (sent_copy_names), FALSE);

  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  g_key_file_set_string (key_file, OPTIONS_GROUP, "save-sent-copy",
                         sent_copy_names[options->save_sent_copy]);
  return tern_account_options_save (store, account_id, key_file, error);
}

/* Whether @host is @domain or one of its subdomains. */
static gboolean
host_in_domain (const char *host,
                const char *domain)
{
  gsize host_length = strlen (host);
  gsize domain_length = strlen (domain);

  if (g_ascii_strcasecmp (host, domain) == 0)
    return TRUE;
  return host_length > domain_length && host[host_length - domain_length - 1] == '.'
         && g_ascii_strcasecmp (host + host_length - domain_length, domain) == 0;
}

gboolean
tern_outbox_wants_sent_copy (TernAccount        *account,
                             TernOutboxSentCopy  setting)
{
  /* Their SMTP servers put what they relay into the Sent folder: a copy
   * from Tern would be a second one. */
  static const char *const files_sent_mail[] = { "gmail.com", "googlemail.com", "office365.com" };
  const TernServer *outgoing;

  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  if (setting != TERN_OUTBOX_SENT_COPY_AUTO)
    return setting == TERN_OUTBOX_SENT_COPY_ALWAYS;
  outgoing = tern_account_get_outgoing (account);
  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP || outgoing == NULL
      || outgoing->host == NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (files_sent_mail); i++)
    if (host_in_domain (outgoing->host, files_sent_mail[i]))
      return FALSE;
  return TRUE;
}

/* Removing */

typedef struct
{
  gint64 id;
} Remove;

static gboolean
remove_cb (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  Remove *remove = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *state = NULL;
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, remove->id);

  stmt = tern_store_prepare (db, "SELECT state FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, remove->id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("There is no message %s in the outbox"), number);
      return FALSE;
    }
  state = tern_store_dup_text (stmt, 0);
  if (state_from_string (state) == TERN_OUTBOX_STATE_SENDING)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("Message %s is being sent right now: wait until it is sent or fails"),
                   number);
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  stmt = tern_store_prepare (db, "DELETE FROM outbox WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, remove->id);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_outbox_remove (TernStore  *store,
                    gint64      id,
                    GError    **error)
{
  Remove remove = { id };

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  return write_rows (store, remove_cb, &remove, error);
}

/* Watching: a list of watchers, any store, behind one lock, since writes
 * announce from worker threads. */

typedef struct
{
  guint id;
  TernStore *store; /* not a reference: only compared */
  TernOutboxWatchFunc func;
  gpointer user_data;
  GMainContext *main_context;
  gboolean pending;
} Watch;

static GMutex watch_lock;
static GList *watches;
static guint last_watch_id;

static Watch *
find_watch_locked (guint id)
{
  for (GList *l = watches; l != NULL; l = l->next)
    if (((Watch *) l->data)->id == id)
      return l->data;
  return NULL;
}

static gboolean
watch_dispatch_cb (gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  TernOutboxWatchFunc func = NULL;
  gpointer user_data = NULL;
  Watch *watch;

  g_mutex_lock (&watch_lock);
  watch = find_watch_locked (id);
  if (watch != NULL)
    {
      watch->pending = FALSE;
      func = watch->func;
      user_data = watch->user_data;
    }
  g_mutex_unlock (&watch_lock);
  /* Outside the lock: the callback reads the outbox, which may announce. */
  if (func != NULL)
    func (user_data);
  return G_SOURCE_REMOVE;
}

static void
announce_change (TernStore *store)
{
  g_mutex_lock (&watch_lock);
  for (GList *l = watches; l != NULL; l = l->next)
    {
      Watch *watch = l->data;
      GSource *source;

      if (watch->store != store || watch->pending)
        continue;
      watch->pending = TRUE;
      source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[tern] outbox changed");
      g_source_set_callback (source, watch_dispatch_cb, GUINT_TO_POINTER (watch->id), NULL);
      g_source_attach (source, watch->main_context);
      g_source_unref (source);
    }
  g_mutex_unlock (&watch_lock);
}

guint
tern_outbox_watch (TernStore           *store,
                   TernOutboxWatchFunc  func,
                   gpointer             user_data)
{
  Watch *watch;
  guint id;

  g_return_val_if_fail (TERN_IS_STORE (store), 0);
  g_return_val_if_fail (func != NULL, 0);

  watch = g_new0 (Watch, 1);
  watch->store = store;
  watch->func = func;
  watch->user_data = user_data;
  watch->main_context = g_main_context_ref_thread_default ();
  g_mutex_lock (&watch_lock);
  id = watch->id = ++last_watch_id;
  watches = g_list_prepend (watches, watch);
  g_mutex_unlock (&watch_lock);
  return id;
}

void
tern_outbox_unwatch (guint watch_id)
{
  Watch *watch;

  g_mutex_lock (&watch_lock);
  watch = find_watch_locked (watch_id);
  if (watch != NULL)
    watches = g_list_remove (watches, watch);
  g_mutex_unlock (&watch_lock);
  if (watch == NULL)
    return;
  g_main_context_unref (watch->main_context);
  g_free (watch);
}

/* The SIZE of the outgoing server */

guint64
tern_outbox_get_size_limit (TernStore *store,
                            gint64     account_id)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), 0);

  key_file = tern_account_options_load (store, account_id, &error);
  if (key_file == NULL)
    {
      g_debug ("Cannot read the options of account %" G_GINT64_FORMAT ": %s", account_id,
               error->message);
      return 0;
    }
  return g_key_file_get_uint64 (key_file, SMTP_OPTIONS_GROUP, "size-limit", NULL);
}

gboolean
tern_outbox_set_size_limit (TernStore  *store,
                            gint64      account_id,
                            guint64     size_limit,
                            GError    **error)
{
  g_autoptr(GKeyFile) key_file = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  g_key_file_set_uint64 (key_file, SMTP_OPTIONS_GROUP, "size-limit", size_limit);
  return tern_account_options_save (store, account_id, key_file, error);
}
