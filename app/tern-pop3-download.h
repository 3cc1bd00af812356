/* tern-pop3-download.h: bring a POP3 account's new mail into the store.
 *
 * A POP3 account has local folders only: Inbox, Sent, Drafts and Trash,
 * created with their roles on first use.  New mail goes to Inbox.
 *
 * Exactly once: messages are told apart by UIDL.  Only UIDLs that Inbox
 * does not hold are retrieved (pipelined).  Each message is stored as one
 * messages row (pop3_uidl, parsed headers, internal_date = download time)
 * together with its raw bytes in bodies, in the same transaction; batches
 * of messages are committed together.  The UNIQUE (folder_id, pop3_uidl)
 * index makes storing a UIDL twice a no-op, so a download interrupted by a
 * crash, a cut connection or a cancellation is simply run again: what was
 * committed is skipped, the rest is fetched.  Nothing is deleted on the
 * server before its message is committed locally, and DELE only takes
 * effect at QUIT, so a failure before that deletes nothing.
 *
 * A UIDL is new when no folder of the account holds it, so mail moved to
 * Trash is not downloaded again.  Mail deleted for good is: the store
 * keeps no record of UIDLs it no longer holds (with leave-on-server, empty
 * Trash re-downloads what is still on the server).
 *
 * A server without UIDL is refused with an error that suggests IMAP:
 * without UIDL, messages left on the server cannot be told apart from new
 * ones, and deleting everything after download is not something to do
 * behind the user's back.
 *
 * Blocking, for a worker thread; cancellable from any thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"
#include "tern-pop3-client.h"
#include "tern-store.h"

G_BEGIN_DECLS

/* The [pop3] group of accounts.options. */
typedef struct
{
  gboolean delete_after_download;       /* delete-after-download, default false */
  guint    delete_after_days;           /* delete-after-days, 0 (the default): never */
  gboolean delete_when_deleted_locally; /* delete-when-deleted-locally: in Trash; default false */
  gboolean headers_only;                /* headers-only (TOP n 0), default false */
} TernPop3Options;

/* Fills @options from the account's row; missing keys keep defaults. */
gboolean tern_pop3_options_load (TernStore              *store,
                                 gint64                  account_id,
                                 TernPop3Options        *options,
                                 GError                **error);
/* Writes the [pop3] group, keeping the account's other options. */
gboolean tern_pop3_options_save (TernStore              *store,
                                 gint64                  account_id,
                                 const TernPop3Options  *options,
                                 GError                **error);

/* A signed-in TernPop3Client for @account (a POP3 account of @context);
 * the password comes from the account manager. */
TernPop3Client *tern_pop3_session_open (TernContext   *context,
                                        TernAccount   *account,
                                        GCancellable  *cancellable,
                                        GError       **error);

/* Called on the downloading thread: @done of @total new messages are
 * retrieved (stored in batches shortly after). */
typedef void (*TernPop3DownloadProgress) (guint    done,
                                          guint    total,
                                          gpointer user_data);

typedef struct
{
  guint   on_server;    /* messages in the maildrop */
  guint   new_messages; /* rows inserted */
  guint64 bytes;        /* bytes of the new messages as retrieved */
  guint   deleted;      /* DELEted on the server (committed at QUIT) */
  gdouble seconds;
} TernPop3DownloadStats;

/* Downloads @account's new messages into its Inbox, then deletes on the
 * server what the options ask for (only messages stored locally; never in
 * headers-only mode, where the bodies are not stored).  [IN-USE] and
 * [LOGIN-DELAY] come back as TERN_POP3_ERROR_IN_USE and
 * TERN_POP3_ERROR_LOGIN_DELAY with the server's text.  @stats (optional)
 * receives what was done. */
gboolean tern_pop3_download_account (TernContext               *context,
                                     TernAccount               *account,
                                     TernPop3DownloadProgress   progress,
                                     gpointer                   user_data,
                                     TernPop3DownloadStats     *stats,
                                     GCancellable              *cancellable,
                                     GError                   **error);

typedef enum {
  TERN_POP3_FOLDER_INBOX,
  TERN_POP3_FOLDER_SENT,
  TERN_POP3_FOLDER_DRAFTS,
  TERN_POP3_FOLDER_TRASH,
  TERN_POP3_N_FOLDERS,
} TernPop3Folder;

/* Inbox, Sent, Drafts and Trash of a POP3 account; returns Inbox's id,
 * or 0 with @error set. */
gint64   tern_pop3_ensure_folders     (TernStore               *store,
                                       gint64                   account_id,
                                       GError                 **error);
/* The same, all four ids into @ids (TERN_POP3_N_FOLDERS of them, in
 * TernPop3Folder order). */
gboolean tern_pop3_ensure_all_folders (TernStore               *store,
                                       gint64                   account_id,
                                       gint64                  *ids,
                                       GError                 **error);

G_END_DECLS
