/* tern-certificate-pins.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-certificates"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-app-error.h"
#include "tern-certificate-pins.h"
#include "tern-connection.h"

typedef struct
{
  const char *host;
  guint16 port;
  char *fingerprint;
  GPtrArray *pins;
} PinQuery;

void
tern_certificate_pin_free (TernCertificatePin *pin)
{
  if (pin == NULL)
    return;
  g_free (pin->host);
  g_free (pin->fingerprint);
  g_free (pin);
}

/* Host names compare without case; the table keeps them lower-case. */
static char *
normalize_host (const char *host)
{
  return g_ascii_strdown (host, -1);
}

static sqlite3_stmt *
prepare_for_host (sqlite3         *db,
                  const char      *sql,
                  const PinQuery  *query,
                  GError         **error)
{
  g_autofree char *host = normalize_host (query->host);
  sqlite3_stmt *stmt = tern_store_prepare (db, sql, error);

  if (stmt != NULL)
    {
      tern_store_bind_text (stmt, 1, host);
      sqlite3_bind_int (stmt, 2, query->port);
    }
  return stmt;
}

static gboolean
lookup_pin (sqlite3  *db,
            gpointer  user_data,
            GError  **error)
{
  PinQuery *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = prepare_for_host (db, "SELECT sha256 FROM certificate_pins WHERE host = ?1 AND port = ?2",
                           query, error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    query->fingerprint = tern_store_dup_text (stmt, 0);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || tern_store_set_error (db, error);
}

static gboolean
store_pin (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  PinQuery *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare_for_host (db,
                           "INSERT OR REPLACE INTO certificate_pins (host, port, sha256, accepted) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           query, error);
  if (stmt == NULL)
    return FALSE;
  tern_store_bind_text (stmt, 3, query->fingerprint);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time () / G_USEC_PER_SEC);
  return tern_store_step_done (stmt, error);
}

static gboolean
delete_pin (sqlite3  *db,
            gpointer  user_data,
            GError  **error)
{
  PinQuery *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare_for_host (db, "DELETE FROM certificate_pins WHERE host = ?1 AND port = ?2",
                           query, error);
  return stmt != NULL && tern_store_step_done (stmt, error);
}

static gboolean
list_pins (sqlite3  *db,
           gpointer  user_data,
           GError  **error)
{
  PinQuery *query = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db,
                             "SELECT host, port, sha256, accepted FROM certificate_pins "
                             "ORDER BY host, port",
                             error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TernCertificatePin *pin = g_new0 (TernCertificatePin, 1);

      pin->host = tern_store_dup_text (stmt, 0);
      pin->port = sqlite3_column_int (stmt, 1);
      pin->fingerprint = tern_store_dup_text (stmt, 2);
      pin->accepted = sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (query->pins, pin);
    }
  return rc == SQLITE_DONE || tern_store_set_error (db, error);
}

char *
tern_certificate_pins_lookup (TernStore   *store,
                              const char  *host,
                              guint16      port,
                              GError     **error)
{
  PinQuery query = { host, port, NULL, NULL };

  if (!tern_store_read (store, lookup_pin, &query, error))
    return NULL;
  return query.fingerprint;
}

gboolean
tern_certificate_pins_accept (TernStore   *store,
                              const char  *host,
                              guint16      port,
                              const char  *fingerprint,
                              GError     **error)
{
  g_autofree char *normalized = tern_fingerprint_normalize (fingerprint);
  PinQuery query = { host, port, normalized, NULL };

  if (normalized == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not a SHA-256 certificate fingerprint"), fingerprint);
      return FALSE;
    }
  return tern_store_write (store, store_pin, &query, error);
}

gboolean
tern_certificate_pins_forget (TernStore   *store,
                              const char  *host,
                              guint16      port,
                              GError     **error)
{
  PinQuery query = { host, port, NULL, NULL };

  return tern_store_write (store, delete_pin, &query, error);
}

GPtrArray *
tern_certificate_pins_list (TernStore  *store,
                            GError    **error)
{
  g_autoptr(GPtrArray) pins = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_certificate_pin_free);
  PinQuery query = { NULL, 0, NULL, pins };

  if (!tern_store_read (store, list_pins, &query, error))
    return NULL;
  return g_steal_pointer (&pins);
}
