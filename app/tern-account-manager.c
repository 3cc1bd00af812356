/* tern-account-manager.c
 *
 * Accounts live in the store; their passwords do not.  Adding an account
 * writes the row and the keyring entry, and undoes the row when the keyring
 * refuses, so an account never exists without a way to get its password.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-accounts"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tern-account-manager.h"
#include "tern-account-private.h"
#include "tern-app-error.h"

struct _TernAccountManager
{
  GObject parent_instance;

  TernStore *store;
  GPtrArray *accounts;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TernAccountManager, tern_account_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

#define ACCOUNT_COLUMNS                                                          \
  "id, uuid, display_name, address, incoming_protocol, "                         \
  "incoming_host, incoming_port, incoming_security, incoming_username, incoming_auth, " \
  "smtp_host, smtp_port, smtp_security, smtp_username, smtp_auth, password_command"

static GType
get_item_type (GListModel *model)
{
  return TERN_TYPE_ACCOUNT;
}

static guint
get_n_items (GListModel *model)
{
  return TERN_ACCOUNT_MANAGER (model)->accounts->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  TernAccountManager *self = TERN_ACCOUNT_MANAGER (model);

  if (position >= self->accounts->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->accounts, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* Reads a server from five columns starting at @first; NULL when the host
 * column is NULL (an account without SMTP). */
static TernServer *
server_from_row (sqlite3_stmt *stmt,
                 int           first)
{
  TernServer *server;
  TernTlsMode mode = TERN_TLS_MODE_IMPLICIT;

  if (sqlite3_column_type (stmt, first) == SQLITE_NULL)
    return NULL;

  /* The schema's CHECK constraint only admits known names. */
  tern_tls_mode_from_string ((const char *) sqlite3_column_text (stmt, first + 2), &mode);
  server = tern_server_new ((const char *) sqlite3_column_text (stmt, first),
                            sqlite3_column_int (stmt, first + 1), mode);
  server->username = tern_store_dup_text (stmt, first + 3);
  server->auth = tern_store_dup_text (stmt, first + 4);
  return server;
}

static TernAccount *
account_from_row (sqlite3_stmt *stmt)
{
  g_autoptr(TernServer) incoming = server_from_row (stmt, 5);
  g_autoptr(TernServer) outgoing = server_from_row (stmt, 10);
  const char *protocol = (const char *) sqlite3_column_text (stmt, 4);
  TernAccount *account;

  account = g_object_new (TERN_TYPE_ACCOUNT,
                          "uuid", sqlite3_column_text (stmt, 1),
                          "display-name", sqlite3_column_text (stmt, 2),
                          "address", sqlite3_column_text (stmt, 3),
                          "protocol", g_str_equal (protocol, "pop3") ? TERN_ACCOUNT_PROTOCOL_POP3
                                                                     : TERN_ACCOUNT_PROTOCOL_IMAP,
                          "incoming", incoming,
                          "outgoing", outgoing,
                          "password-command", sqlite3_column_text (stmt, 15),
                          NULL);
  _tern_account_set_id (account, sqlite3_column_int64 (stmt, 0));
  return account;
}

static gboolean
load_accounts (sqlite3  *db,
               gpointer  user_data,
               GError  **error)
{
  GPtrArray *accounts = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db, "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY position, id",
                             error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (accounts, account_from_row (stmt));

  return rc == SQLITE_DONE || tern_store_set_error (db, error);
}

static void
bind_server (sqlite3_stmt     *stmt,
             int               first,
             const TernServer *server)
{
  if (server == NULL)
    return; /* unbound parameters are NULL */

  tern_store_bind_text (stmt, first, server->host);
  sqlite3_bind_int (stmt, first + 1, server->port);
  tern_store_bind_text (stmt, first + 2, tern_tls_mode_to_string (server->security));
  tern_store_bind_text (stmt, first + 3, server->username);
  tern_store_bind_text (stmt, first + 4, server->auth);
}

static gboolean
insert_account (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  TernAccount *account = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "INSERT INTO accounts (uuid, display_name, address, incoming_protocol, "
                             "incoming_host, incoming_port, incoming_security, incoming_username, "
                             "incoming_auth, smtp_host, smtp_port, smtp_security, smtp_username, "
                             "smtp_auth, password_command, position, created) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                             "?15, (SELECT IFNULL(MAX(position) + 1, 0) FROM accounts), ?16)",
                             error);
  if (stmt == NULL)
    return FALSE;

  tern_store_bind_text (stmt, 1, tern_account_get_uuid (account));
  tern_store_bind_text (stmt, 2, tern_account_get_display_name (account));
  tern_store_bind_text (stmt, 3, tern_account_get_address (account));
  tern_store_bind_text (stmt, 4, tern_account_protocol_to_string (tern_account_get_protocol (account)));
  bind_server (stmt, 5, tern_account_get_incoming (account));
  bind_server (stmt, 10, tern_account_get_outgoing (account));
  tern_store_bind_text (stmt, 15, tern_account_get_password_command (account));
  sqlite3_bind_int64 (stmt, 16, g_get_real_time () / G_USEC_PER_SEC);

  if (!tern_store_step_done (stmt, error))
    return FALSE;

  _tern_account_set_id (account, sqlite3_last_insert_rowid (db));
  return TRUE;
}

static gboolean
delete_account (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  TernAccount *account = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db, "DELETE FROM accounts WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tern_account_get_id (account));
  return tern_store_step_done (stmt, error);
}

typedef struct
{
  TernAccount *account;
  GPtrArray *paths; /* of the body files, relative to the profile */
} RemoveData;

/* The rows go by ON DELETE CASCADE (folders, messages, bodies, outbox,
 * pending operations); the files of large bodies are collected first, to
 * be removed once the rows are gone for good. */
static gboolean
remove_account_rows (sqlite3  *db,
                     gpointer  user_data,
                     GError  **error)
{
  RemoveData *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT b.path FROM bodies b JOIN messages m ON m.id = b.message_id "
                             "JOIN folders f ON f.id = m.folder_id "
                             "WHERE f.account_id = ?1 AND b.path IS NOT NULL",
                             error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tern_account_get_id (data->account));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (data->paths, tern_store_dup_text (stmt, 0));
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return delete_account (db, data->account, error);
}

static void
unlink_body_files (TernStore *store,
                   GPtrArray *paths)
{
  g_autofree char *dir = g_path_get_dirname (tern_store_get_path (store));

  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (paths, i), NULL);

      if (g_unlink (path) != 0)
        g_debug ("Cannot remove %s: %s", path, g_strerror (errno));
    }
}

typedef struct
{
  gint64 id;
  TernAccount *values;
} UpdateData;

static gboolean
update_account (sqlite3  *db,
                gpointer  user_data,
                GError  **error)
{
  UpdateData *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = tern_store_prepare (db,
                             "UPDATE accounts SET display_name = ?2, address = ?3, "
                             "incoming_host = ?4, incoming_port = ?5, incoming_security = ?6, "
                             "incoming_username = ?7, incoming_auth = ?8, smtp_host = ?9, "
                             "smtp_port = ?10, smtp_security = ?11, smtp_username = ?12, "
                             "smtp_auth = ?13, password_command = ?14 WHERE id = ?1",
                             error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, data->id);
  tern_store_bind_text (stmt, 2, tern_account_get_display_name (data->values));
  tern_store_bind_text (stmt, 3, tern_account_get_address (data->values));
  bind_server (stmt, 4, tern_account_get_incoming (data->values));
  bind_server (stmt, 9, tern_account_get_outgoing (data->values));
  tern_store_bind_text (stmt, 14, tern_account_get_password_command (data->values));
  if (!tern_store_step_done (stmt, error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("No account %s"), tern_account_get_address (data->values));
      return FALSE;
    }
  return TRUE;
}

static void
tern_account_manager_finalize (GObject *object)
{
  TernAccountManager *self = TERN_ACCOUNT_MANAGER (object);

  g_clear_pointer (&self->accounts, g_ptr_array_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (tern_account_manager_parent_class)->finalize (object);
}

static void
tern_account_manager_class_init (TernAccountManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_account_manager_finalize;
}

static void
tern_account_manager_init (TernAccountManager *self)
{
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
}

TernAccountManager *
tern_account_manager_new (TernStore  *store,
                          GError    **error)
{
  g_autoptr(TernAccountManager) self = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  self = g_object_new (TERN_TYPE_ACCOUNT_MANAGER, NULL);
  self->store = g_object_ref (store);
  if (!tern_store_read (store, load_accounts, self->accounts, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* Finds an account by its id, its UUID or its address. */
TernAccount *
tern_account_manager_lookup (TernAccountManager *self,
                             const char         *key)
{
  guint64 id = 0;
  gboolean numeric;

  g_return_val_if_fail (TERN_IS_ACCOUNT_MANAGER (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  numeric = g_ascii_string_to_unsigned (key, 10, 1, G_MAXINT64, &id, NULL);
  for (guint i = 0; i < self->accounts->len; i++)
    {
      TernAccount *account = g_ptr_array_index (self->accounts, i);

      if ((numeric && (guint64) tern_account_get_id (account) == id) ||
          g_str_equal (key, tern_account_get_uuid (account)) ||
          g_ascii_strcasecmp (key, tern_account_get_address (account)) == 0)
        return account;
    }
  return NULL;
}

static char *
secret_label (TernAccount *account)
{
  /* TRANSLATORS: the label of the keyring entry; %s is an email address. */
  return g_strdup_printf (_("Tern password for %s"), tern_account_get_address (account));
}

/* Adds @account, whose password is @password (kept in the Secret Service)
 * or comes from its password command when @password is NULL. */
gboolean
tern_account_manager_add (TernAccountManager  *self,
                          TernAccount         *account,
                          const char          *password,
                          GCancellable        *cancellable,
                          GError             **error)
{
  g_autofree char *label = NULL;

  g_return_val_if_fail (TERN_IS_ACCOUNT_MANAGER (self), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (tern_account_get_id (account) == 0, FALSE);

  if (!tern_account_validate (account, error))
    return FALSE;
  if (password == NULL && tern_account_get_password_command (account) == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_NO_PASSWORD,
                           _("The account needs a password or a password command"));
      return FALSE;
    }

  if (!tern_store_write (self->store, insert_account, account, error))
    return FALSE;

  label = secret_label (account);
  if (password != NULL &&
      !tern_secrets_store (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING, label,
                           password, cancellable, error))
    {
      /* Without its password the account is useless: take the row back. */
      tern_store_write (self->store, delete_account, account, NULL);
      _tern_account_set_id (account, 0);
      return FALSE;
    }

  g_ptr_array_add (self->accounts, g_object_ref (account));
  g_list_model_items_changed (G_LIST_MODEL (self), self->accounts->len - 1, 0, 1);
  return TRUE;
}

/* What is kept of @account: blocking (the keyring, the store, files). */
static gboolean
remove_stored (TernAccountManager  *self,
               TernAccount         *account,
               GCancellable        *cancellable,
               GError             **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  RemoveData data = { account, paths };

  /* The keyring first: an account row left behind without its password is
   * visible and can be removed again; a password left behind is not. */
  if (!tern_secrets_clear (tern_account_get_uuid (account), cancellable, error) ||
      !tern_store_write (self->store, remove_account_rows, &data, error))
    return FALSE;
  unlink_body_files (self->store, data.paths);
  return TRUE;
}

static gboolean
check_listed (TernAccountManager  *self,
              TernAccount         *account,
              GError             **error)
{
  if (g_ptr_array_find (self->accounts, account, NULL))
    return TRUE;
  g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
               _("No account %s"), tern_account_get_address (account));
  return FALSE;
}

static void
unlist (TernAccountManager *self,
        TernAccount        *account)
{
  guint position;

  if (!g_ptr_array_find (self->accounts, account, &position))
    return;
  g_ptr_array_remove_index (self->accounts, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

gboolean
tern_account_manager_remove (TernAccountManager  *self,
                             TernAccount         *account,
                             GCancellable        *cancellable,
                             GError             **error)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT_MANAGER (self), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  if (!check_listed (self, account, error) ||
      !remove_stored (self, account, cancellable, error))
    return FALSE;
  unlist (self, account);
  return TRUE;
}

static void
remove_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GError *error = NULL;

  if (remove_stored (source_object, task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* Back in the caller's context: the list changes there, as models must. */
static void
removed_cb (GObject      *source_object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  unlist (TERN_ACCOUNT_MANAGER (source_object), g_task_get_task_data (task));
  g_task_return_boolean (task, TRUE);
}

void
tern_account_manager_remove_async (TernAccountManager  *self,
                                   TernAccount         *account,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  GError *error = NULL;

  g_return_if_fail (TERN_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (TERN_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tern_account_manager_remove_async);
  g_task_set_task_data (task, g_object_ref (account), g_object_unref);
  if (!check_listed (self, account, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  worker = g_task_new (self, cancellable, removed_cb, g_object_ref (task));
  g_task_set_task_data (worker, g_object_ref (account), g_object_unref);
  g_task_run_in_thread (worker, remove_thread);
}

gboolean
tern_account_manager_remove_finish (TernAccountManager  *self,
                                    GAsyncResult        *result,
                                    GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tern_account_manager_remove_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
tern_account_manager_update (TernAccountManager  *self,
                             TernAccount         *account,
                             TernAccount         *edited,
                             GError             **error)
{
  UpdateData data;

  g_return_val_if_fail (TERN_IS_ACCOUNT_MANAGER (self), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (edited), FALSE);

  if (!g_ptr_array_find (self->accounts, account, NULL))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("No account %s"), tern_account_get_address (account));
      return FALSE;
    }
  if (!tern_account_validate (edited, error))
    return FALSE;

  /* The password command is the account's own: edits do not touch it. */
  tern_account_set_password_command (edited, tern_account_get_password_command (account));
  data = (UpdateData) { tern_account_get_id (account), edited };
  if (!tern_store_write (self->store, update_account, &data, error))
    return FALSE;

  tern_account_set_display_name (account, tern_account_get_display_name (edited));
  _tern_account_set_address (account, tern_account_get_address (edited));
  _tern_account_set_servers (account, tern_account_get_incoming (edited),
                             tern_account_get_outgoing (edited));
  return TRUE;
}

gboolean
tern_account_manager_set_password (TernAccountManager  *self,
                                   TernAccount         *account,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  g_autofree char *label = NULL;

  g_return_val_if_fail (TERN_IS_ACCOUNT_MANAGER (self), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  if (password[0] == '\0')
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The password is empty: type the new password."));
      return FALSE;
    }
  label = secret_label (account);
  if (!tern_secrets_store (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING, label,
                           password, cancellable, error))
    return FALSE;

  if (tern_account_get_password_command (account) != NULL)
    {
      g_autoptr(TernAccount) edited = tern_account_new (tern_account_get_display_name (account),
                                                        tern_account_get_address (account),
                                                        tern_account_get_protocol (account),
                                                        tern_account_get_incoming (account),
                                                        tern_account_get_outgoing (account));
      UpdateData data = { tern_account_get_id (account), edited };

      /* edited has no password command: the row loses it. */
      if (!tern_store_write (self->store, update_account, &data, error))
        return FALSE;
      tern_account_set_password_command (account, NULL);
    }
  return TRUE;
}

/* Blocking: call from a worker thread (or tern-cli). */
char *
tern_account_manager_get_password (TernAccountManager  *self,
                                   TernAccount         *account,
                                   TernSecretRole       role,
                                   GCancellable        *cancellable,
                                   GError             **error)
{
  const char *command = tern_account_get_password_command (account);
  g_autoptr(GError) local_error = NULL;
  char *password;

  if (command != NULL)
    return tern_password_command_run (command, cancellable, error);

  password = tern_secrets_lookup (tern_account_get_uuid (account), role, cancellable, &local_error);
  if (password == NULL && local_error == NULL && role == TERN_SECRET_ROLE_OUTGOING)
    password = tern_secrets_lookup (tern_account_get_uuid (account), TERN_SECRET_ROLE_INCOMING,
                                    cancellable, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (password == NULL)
    g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NO_PASSWORD,
                 _("The keyring has no password for %s"), tern_account_get_address (account));
  return password;
}
