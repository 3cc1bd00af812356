/* tern-imap-sync.h: bring an IMAP account's folders and headers into the
 * store.
 *
 * Blocking, for a worker thread: one connection per call, cancellable from
 * any thread.  A sync that fails or is cancelled half-way leaves the store
 * consistent (every batch is one transaction), and the next sync completes
 * it: a folder's UIDNEXT and HIGHESTMODSEQ are only recorded once all of
 * its new messages are stored.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"

G_BEGIN_DECLS

typedef enum {
  TERN_IMAP_SYNC_BODIES_NONE,   /* headers only */
  TERN_IMAP_SYNC_BODIES_WINDOW, /* bodies of the last 30 days (INTERNALDATE) */
  TERN_IMAP_SYNC_BODIES_ALL,
} TernImapSyncBodies;

gboolean tern_imap_sync_bodies_from_string (const char          *string,
                                            TernImapSyncBodies  *bodies);

/* Called on a thread of the sync (which may sync folders over two
 * connections, each on a thread of its own), one call at a time: @done of
 * @total new messages (or bodies) of @folder are stored; (folder, 0, 0)
 * when a folder starts. */
typedef void (*TernImapSyncProgress) (const char *folder,
                                      guint       done,
                                      guint       total,
                                      gpointer    user_data);

typedef struct
{
  guint   folders;          /* selectable folders synced */
  guint   new_messages;     /* rows inserted */
  guint   removed_messages; /* vanished on the server */
  guint   flag_updates;     /* flag changes applied */
  guint   bodies;           /* bodies downloaded */
  guint   uidvalidity_resets;
  guint   unselected_folders; /* of @folders: unchanged by their STATUS, not selected */
  guint   refused_folders;  /* the server would not open (answered NO) */
  gdouble seconds;
} TernImapSyncStats;

/* Syncs every folder of @account (an IMAP account of @context); the
 * password comes from the account manager (keyring or password command).
 * @stats (optional) receives what was done. */
gboolean tern_imap_sync_account    (TernContext           *context,
                                    TernAccount           *account,
                                    TernImapSyncBodies     bodies,
                                    TernImapSyncProgress   progress,
                                    gpointer               user_data,
                                    TernImapSyncStats     *stats,
                                    GCancellable          *cancellable,
                                    GError               **error);

/* The raw RFC 5322 message of the store's message @message_id: from the
 * cache, else fetched from the server (and cached). */
GBytes  *tern_imap_sync_fetch_body (TernContext           *context,
                                    gint64                 message_id,
                                    GCancellable          *cancellable,
                                    GError               **error);

G_END_DECLS
