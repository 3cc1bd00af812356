/* tern-account-options.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-account-options"

#include "config.h"

#include "tern-account-options.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"

typedef struct
{
  gint64 account_id;
  char *options;
} AccountOptions;

static gboolean
read_options_cb (sqlite3  *db,
                 gpointer  user_data,
                 GError  **error)
{
  AccountOptions *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db, "SELECT options FROM accounts WHERE id = ?1",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No such account"));
      return FALSE;
    }
  data->options = tern_store_dup_text (stmt, 0);
  return TRUE;
}

GKeyFile *
tern_account_options_load (TernStore  *store,
                           gint64      account_id,
                           GError    **error)
{
  AccountOptions data = { account_id, NULL };
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autofree char *text = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  if (!tern_store_read (store, read_options_cb, &data, error))
    return NULL;
  text = data.options;
  if (text != NULL && text[0] != '\0'
      && !g_key_file_load_from_data (key_file, text, -1, G_KEY_FILE_KEEP_COMMENTS, error))
    return NULL;
  return g_steal_pointer (&key_file);
}

static gboolean
write_options_cb (sqlite3  *db,
                  gpointer  user_data,
                  GError  **error)
{
  AccountOptions *data = user_data;
  g_autoptr(sqlite3_stmt) stmt = tern_store_prepare (db,
                                                     "UPDATE accounts SET options = ?2 WHERE id = ?1",
                                                     error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, data->account_id);
  tern_store_bind_text (stmt, 2, data->options);
  return tern_store_step_done (stmt, error);
}

gboolean
tern_account_options_save (TernStore  *store,
                           gint64      account_id,
                           GKeyFile   *key_file,
                           GError    **error)
{
  g_autofree char *text = NULL;
  AccountOptions data;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (key_file != NULL, FALSE);

  text = g_key_file_to_data (key_file, NULL, NULL);
  data = (AccountOptions) { account_id, text };
  return tern_store_write (store, write_options_cb, &data, error);
}

gboolean
tern_account_options_get_boolean (GKeyFile   *key_file,
                                  const char *group,
                                  const char *key,
                                  gboolean    fallback)
{
  g_autoptr(GError) error = NULL;
  gboolean value = g_key_file_get_boolean (key_file, group, key, &error);

  return error != NULL ? fallback : value;
}

int
tern_account_options_get_integer (GKeyFile   *key_file,
                                  const char *group,
                                  const char *key,
                                  int         fallback)
{
  g_autoptr(GError) error = NULL;
  int value = g_key_file_get_integer (key_file, group, key, &error);

  return error != NULL ? fallback : value;
}

#define COMPOSING_GROUP "composing"

char *
tern_account_options_get_signature (TernStore  *store,
                                    gint64      account_id,
                                    GError    **error)
{
  g_autoptr(GKeyFile) key_file = tern_account_options_load (store, account_id, error);
  g_autofree char *signature = NULL;

  if (key_file == NULL)
    return NULL;
  /* A key file value is one line: the signature's line breaks are escaped
   * as \n, which g_key_file_get_string() undoes. */
  signature = g_key_file_get_string (key_file, COMPOSING_GROUP, "signature", NULL);
  if (signature == NULL || signature[0] == '\0')
    return NULL;
  return g_steal_pointer (&signature);
}

gboolean
tern_account_options_set_signature (TernStore   *store,
                                    gint64       account_id,
                                    const char  *signature,
                                    GError     **error)
{
  g_autoptr(GKeyFile) key_file = tern_account_options_load (store, account_id, error);

  if (key_file == NULL)
    return FALSE;
  if (signature == NULL || signature[0] == '\0')
    g_key_file_remove_key (key_file, COMPOSING_GROUP, "signature", NULL);
  else
    g_key_file_set_string (key_file, COMPOSING_GROUP, "signature", signature);
  return tern_account_options_save (store, account_id, key_file, error);
}

gboolean
tern_account_options_set_integer (TernStore   *store,
                                  gint64       account_id,
                                  const char  *group,
                                  const char  *key,
                                  int          value,
                                  GError     **error)
{
  g_autoptr(GKeyFile) key_file = tern_account_options_load (store, account_id, error);

  if (key_file == NULL)
    return FALSE;
  g_key_file_set_integer (key_file, group, key, value);
  return tern_account_options_save (store, account_id, key_file, error);
}
