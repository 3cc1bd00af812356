/* tern-offline-queue-private.h: what the offline queue's enqueue side
 * (tern-offline-queue.c) and replay side (tern-offline-replay.c) share, and
 * a test hook.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "tern-imap-types.h"

G_BEGIN_DECLS

/* A message row with its folder. */
typedef struct
{
  gint64 id;
  gint64 folder_id;
  gint64 account_id;
  guint32 uid;          /* 0: NULL, not known yet */
  TernImapFlags flags;
  char *message_id;
  char *folder;
  guint32 uidvalidity;
  char *role;
} Row;

void     _tern_offline_row_clear (Row         *row);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Row, _tern_offline_row_clear)

/* FALSE with TERN_APP_ERROR_NOT_FOUND when there is no row @id. */
gboolean _tern_offline_load_row  (sqlite3     *db,
                                  gint64       id,
                                  Row         *row,
                                  GError     **error);
/* Runs @sql with up to three integer parameters ?1 ?2 ?3. */
gboolean _tern_offline_exec      (sqlite3     *db,
                                  const char  *sql,
                                  gint64       a,
                                  gint64       b,
                                  gint64       c,
                                  GError     **error);
/* Recounts a folder's total and unread messages (as
 * tern_mail_store_update_counts() does) inside the caller's transaction. */

/* When non-zero, each replay stops with an error right after the server
 * confirmed its @nth operation and before that operation is removed from
 * the store: what a crash at that moment leaves behind.  Process-wide; for
 * tests. */
void     _tern_offline_queue_set_crash_after_server (guint nth);

G_END_DECLS
