/* tern-pop3-download.h: bring a POP3 account's new mail into the store.
 *
 * A POP3 account has local folders only: Inbox, Sent, Drafts and Trash,
 * created with their roles on first use.  New mail goes to Inbox.
 *
 * Exactly once: messages are told apart by UIDL.  The account keeps every
 * UIDL it has stored (the pop3_seen table, like Thunderbird's
 * popstate.dat), with the time it was first stored; a UIDL is new only
 * when it is not there, so mail moved to Trash or deleted for good is
 * not downloaded again.  New UIDLs are retrieved (pipelined).  Each
 * message is stored as one messages row (pop3_uidl, parsed headers,
 * internal_date = download time) together with its raw bytes in bodies
 * and its pop3_seen row, in the same transaction; batches of messages are
 * committed together.  The UNIQUE (folder_id, pop3_uidl) index makes
 * storing a UIDL twice a no-op, so a download interrupted by a crash, a
 * cut connection or a cancellation is simply run again: what was
 * committed is skipped, the rest is fetched.  Nothing is deleted on the
 * server before its message is committed locally, and DELE only takes
 * effect at QUIT, so a failure before that deletes nothing.  After a
 * session that ended with QUIT, the UIDLs the server no longer has are
 * forgotten.
 *
 * Deleting on the server: delete-after-days counts from when the UIDL was
 * first stored; delete-when-deleted-locally deletes what is in Trash or
 * was deleted for good.
 *
 * A server without UIDL (CAPA without it, or UIDL answered -ERR): the
 * fallback tells messages apart by their header.  Each session asks for
 * the header of every message (TOP n 0, pipelined) and uses
 * "tern-sha256:" and the SHA-256 of its bytes as the UIDL, leaving out the
 * fields mbox-based servers rewrite once a message is read (Status,
 * X-Status, X-UID, X-Keywords, ...).  Headers carry Received, Message-ID
 * and Date, so two different messages practically never share one; when
 * several messages do (the same message delivered twice, byte for byte),
 * the second gets ":2" after the digest, the third ":3", in message
 * order, so each is downloaded once and kept.  A digest only identifies a
 * message within its session: in this mode nothing is deleted on the
 * server unless delete-after-download is set, and then only messages
 * committed locally.  A server with neither UIDL nor TOP is refused with
 * an error that suggests IMAP: without either, messages left on the
 * server cannot be told apart from new ones.
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
  gboolean delete_when_deleted_locally; /* delete-when-deleted-locally: in Trash or gone; default false */
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
  gboolean header_digests; /* no UIDL: messages told apart by header digests */
} TernPop3DownloadStats;

/* Downloads @account's new messages into its Inbox, then deletes on the
 * server what the options ask for (only messages stored locally; never in
 * headers-only mode, where the bodies are not stored).  [IN-USE] and
 * [LOGIN-DELAY] come back as TERN_POP3_ERROR_IN_USE and
 * TERN_POP3_ERROR_LOGIN_DELAY with the server's text.  @stats (optional)
 * receives what was done.  The bodies stored are put into the search
 * index by a thread of the call's own as each batch is committed, and are
 * all indexed when it returns, also when it failed (unless cancelled or
 * the index failed: the next download or search catches up). */
gboolean tern_pop3_download_account (TernContext               *context,
                                     TernAccount               *account,
                                     TernPop3DownloadProgress   progress,
                                     gpointer                   user_data,
                                     TernPop3DownloadStats     *stats,
                                     GCancellable              *cancellable,
                                     GError                   **error);

/* tern_pop3_download_account() as a job of @account in @context's worker
 * pool: after the account's other jobs, with its progress on the
 * account's TernAccountWorker.  @callback runs on the thread-default main
 * context of this call. */
void     tern_pop3_download_account_async  (TernContext            *context,
                                            TernAccount            *account,
                                            GCancellable           *cancellable,
                                            GAsyncReadyCallback     callback,
                                            gpointer                user_data);
/* @stats (optional) receives what was done, also when it failed (what was
 * stored before the failure stays stored). */
gboolean tern_pop3_download_account_finish (TernContext            *context,
                                            GAsyncResult           *result,
                                            TernPop3DownloadStats  *stats,
                                            GError                **error);

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
