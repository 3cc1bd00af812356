/* tern-store.h: the SQLite profile database.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define TERN_TYPE_STORE (tern_store_get_type ())
G_DECLARE_FINAL_TYPE (TernStore, tern_store, TERN, STORE, GObject)

/* Work done inside one transaction, on whichever thread called
 * tern_store_read() or tern_store_write().  Return FALSE and set @error to
 * roll the transaction back. */
typedef gboolean (*TernStoreFunc) (sqlite3  *db,
                                   gpointer  user_data,
                                   GError  **error);

TernStore  *tern_store_open               (const char     *path,
                                           GError        **error);
const char *tern_store_get_path           (TernStore      *self);
int         tern_store_get_schema_version (TernStore      *self);
int         tern_store_get_latest_version (void);

gboolean    tern_store_write              (TernStore      *self,
                                           TernStoreFunc   func,
                                           gpointer        user_data,
                                           GError        **error);
void        tern_store_writes_in_folder   (TernStore      *self,
                                           gint64          folder_id);
guint64     tern_store_get_messages_added (TernStore      *self);
gboolean    tern_store_read               (TernStore      *self,
                                           TernStoreFunc   func,
                                           gpointer        user_data,
                                           GError        **error);

/* Helpers for TernStoreFuncs. */
sqlite3_stmt *tern_store_prepare          (sqlite3        *db,
                                           const char     *sql,
                                           GError        **error);
gboolean    tern_store_exec               (sqlite3        *db,
                                           const char     *sql,
                                           GError        **error);
gboolean    tern_store_step_done          (sqlite3_stmt   *stmt,
                                           GError        **error);
gboolean    tern_store_set_error          (sqlite3        *db,
                                           GError        **error);
void        tern_store_bind_text          (sqlite3_stmt   *stmt,
                                           int             index,
                                           const char     *text);
char       *tern_store_dup_text           (sqlite3_stmt   *stmt,
                                           int             column);

/* The read-only connection of the thread that opened the store, for
 * readers that keep prepared statements there, such as the list models of
 * the main thread.  Owned by the store, opened on first use; only ever
 * used on that thread, and statements are reset after each use so that
 * no snapshot stays open. */
gboolean    tern_store_defer_indexes      (TernStore          *self,
                                           const char * const *names,
                                           guint              *deferred,
                                           GError            **error);
gboolean    tern_store_restore_indexes    (TernStore          *self,
                                           guint              *restored,
                                           GError            **error);

sqlite3    *tern_store_get_main_reader    (TernStore      *self,
                                           GError        **error);

/* TernStore::messages-changed (TernStore *store, GArray *folder_ids)
 *
 * Emitted on the main context of the thread that opened the store after
 * writes that added, changed or removed rows of messages committed.
 * @folder_ids (gint64, ascending) are the folders those rows were in
 * before or after the write; writes that commit in quick succession are
 * reported once.  An array holding only 0 means the store could not tell
 * which folders (SQLite without the pre-update hook). */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
