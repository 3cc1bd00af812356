/* tern-mail-store.h: folders and messages of IMAP accounts in the store.
 *
 * Functions taking a TernStore run one transaction each (a write for the
 * ones that change something) and may be called from any thread.  Batches
 * are written with statements prepared once per batch: a sync of 10,000
 * headers is ten transactions, not ten thousand.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-imap-types.h"
#include "tern-store.h"

G_BEGIN_DECLS

/* One row of folders. */
typedef struct
{
  gint64                     id;
  gint64                     account_id;
  char                      *name;        /* full name, UTF-8 */
  char                       delimiter;   /* '\0': flat */
  char                      *role;        /* NULL or "inbox", "sent", ... */
  TernImapMailboxAttributes  attributes;
  gboolean                   subscribed;
  guint32                    uidvalidity; /* 0: never synced */
  guint32                    uidnext;     /* of the last complete sync */
  guint64                    highestmodseq;
  guint                      total_count;
  guint                      unread_count;
  gint64                     last_sync;   /* seconds since the epoch, 0: never */
} TernMailFolder;

TernMailFolder *tern_mail_folder_new  (void);
void            tern_mail_folder_free (TernMailFolder *folder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernMailFolder, tern_mail_folder_free)

/* One row of messages, as the CLI and the views show it. */
typedef struct
{
  gint64         id;
  gint64         folder_id;
  gint64         account_id;
  guint32        uid;
  TernImapFlags  flags;
  char          *keywords;      /* space separated, NULL if none */
  gint64         internal_date;
  gint64         date;          /* Date: header, falls back to internal_date */
  guint64        size;
  char          *subject;       /* decoded, UTF-8 */
  char          *from_name;
  char          *from_address;
  char          *to_list;
  char          *cc_list;
  char          *message_id;
  char          *in_reply_to;
  char          *references_list;
  char          *list_id;
  gint64         thread_id;
  gboolean       has_attachments;
  gboolean       has_body;      /* the raw message is cached */
} TernMailMessage;

TernMailMessage *tern_mail_message_new  (void);
void             tern_mail_message_free (TernMailMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernMailMessage, tern_mail_message_free)

/* A flag change of one message (from a FETCH FLAGS or a local change). */
typedef struct
{
  guint32        uid;
  TernImapFlags  flags;
  char          *keywords;  /* space separated, NULL if none */
  guint64        modseq;    /* 0: unknown */
} TernMailFlagUpdate;

void tern_mail_flag_update_free (TernMailFlagUpdate *update);
/* From a FETCH result (uid, flags, keywords, modseq). */
TernMailFlagUpdate *tern_mail_flag_update_new_from_imap (const TernImapMessage *message);

/* Folders. */

/* Creates or updates the folder @folder->name of @folder->account_id:
 * delimiter, role, attributes and subscription only (not the sync state).
 * Returns the folder's id, or 0 with @error set. */
gint64          tern_mail_store_upsert_folder       (TernStore             *store,
                                                     const TernMailFolder  *folder,
                                                     GError               **error);
/* Removes the folders of @account_id whose names are not in @keep
 * (NULL-terminated), with their messages. */
gboolean        tern_mail_store_remove_folders_except (TernStore           *store,
                                                     gint64                 account_id,
                                                     const char * const    *keep,
                                                     GError               **error);
gboolean        tern_mail_store_remove_folder       (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GError               **error);
/* The account's folders (TernMailFolder), INBOX first, then by name. */
GPtrArray      *tern_mail_store_list_folders        (TernStore             *store,
                                                     gint64                 account_id,
                                                     GError               **error);
/* NULL with TERN_APP_ERROR_NOT_FOUND when there is no such folder. */
TernMailFolder *tern_mail_store_get_folder          (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GError               **error);
TernMailFolder *tern_mail_store_find_folder         (TernStore             *store,
                                                     gint64                 account_id,
                                                     const char            *name,
                                                     GError               **error);
TernMailFolder *tern_mail_store_find_folder_by_role (TernStore             *store,
                                                     gint64                 account_id,
                                                     const char            *role,
                                                     GError               **error);
/* Records a completed sync: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, last_sync
 * = now, and recounts total and unread. */
gboolean        tern_mail_store_set_folder_synced   (TernStore             *store,
                                                     gint64                 folder_id,
                                                     guint32                uidvalidity,
                                                     guint32                uidnext,
                                                     guint64                highestmodseq,
                                                     GError               **error);
/* Recounts total and unread (after local flag changes, moves, deletes). */
gboolean        tern_mail_store_update_counts       (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GError               **error);
/* UIDVALIDITY changed: drops every message of the folder and its sync
 * state, and records @uidvalidity. */
gboolean        tern_mail_store_reset_folder        (TernStore             *store,
                                                     gint64                 folder_id,
                                                     guint32                uidvalidity,
                                                     GError               **error);

/* Messages. */

/* The UIDs of the folder's messages. */
TernImapSet    *tern_mail_store_get_uids            (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GError               **error);
/* Inserts @messages (TernImapMessage with at least UID; ENVELOPE etc. when
 * present) into the folder in one transaction: decodes the envelope to
 * UTF-8, assigns threads, adds full-text rows.  A UID already stored only
 * has its flags updated, so a batch may be repeated after a failure.
 * @inserted (optional) receives how many rows were new. */
gboolean        tern_mail_store_add_messages        (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GPtrArray             *messages,
                                                     guint                 *inserted,
                                                     GError               **error);
/* A new message decoded from FETCH data (envelope to UTF-8, References,
 * attachments), ready to insert: decode outside the store's write lock,
 * e.g. in a TernImapFetchFunc, then insert a batch. */
typedef struct _TernMailNewMessage TernMailNewMessage;

TernMailNewMessage *tern_mail_new_message_from_imap (const TernImapMessage *message);
void                tern_mail_new_message_free      (TernMailNewMessage    *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernMailNewMessage, tern_mail_new_message_free)

/* A POP3 message: @raw (the whole message, or its header from TOP) parsed
 * with GMime and keyed by @uidl; @raw is stored as the body when
 * @store_body.  @downloaded (seconds since the epoch) becomes
 * internal_date. */
TernMailNewMessage *tern_mail_new_message_from_pop3 (const char *uidl,
                                                     GBytes     *raw,
                                                     gboolean    store_body,
                                                     gint64      downloaded);

/* As tern_mail_store_add_messages(), for TernMailNewMessages.  A POP3
 * message whose UIDL the folder holds already is skipped (the UNIQUE
 * (folder_id, pop3_uidl) index): repeating a batch stores nothing twice. */
gboolean        tern_mail_store_add_new_messages    (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GPtrArray             *messages,
                                                     guint                 *inserted,
                                                     GError               **error);
/* Before adding @count new messages to @folder_id: when they are at least
 * as many as the store holds, the indexes that adding does not read are
 * left out (tern_store_defer_indexes()) and *@deferred is set; then
 * tern_mail_store_end_fill() must follow, whether the adding succeeded or
 * not (tern_store_open() builds them if the process ends first).  Until
 * then, adding to the folder's account finds most threads without SQL. */
gboolean        tern_mail_store_begin_fill          (TernStore             *store,
                                                     gint64                 folder_id,
                                                     guint                  count,
                                                     gboolean              *deferred,
                                                     GError               **error);
gboolean        tern_mail_store_end_fill            (TernStore             *store,
                                                     GError               **error);
/* Applies TernMailFlagUpdates by UID in one transaction; unknown UIDs are
 * ignored. */
gboolean        tern_mail_store_update_flags        (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GPtrArray             *updates,
                                                     GError               **error);
/* Sets (@add) and clears (@remove) flags of messages by row id, for
 * changes made locally before the server has them. */
gboolean        tern_mail_store_change_flags        (TernStore             *store,
                                                     const gint64          *message_ids,
                                                     guint                  n_message_ids,
                                                     TernImapFlags          add,
                                                     TernImapFlags          remove,
                                                     GError               **error);
/* Removes the folder's messages whose UIDs are in @uids. */
gboolean        tern_mail_store_remove_uids         (TernStore             *store,
                                                     gint64                 folder_id,
                                                     const TernImapSet     *uids,
                                                     GError               **error);
/* Removes messages by row id. */
gboolean        tern_mail_store_remove_messages     (TernStore             *store,
                                                     const gint64          *message_ids,
                                                     guint                  n_message_ids,
                                                     GError               **error);
/* The folder's messages (TernMailMessage), newest first by date; @limit 0
 * for all. */
GPtrArray      *tern_mail_store_list_messages       (TernStore             *store,
                                                     gint64                 folder_id,
                                                     guint                  limit,
                                                     GError               **error);
/* NULL with TERN_APP_ERROR_NOT_FOUND when there is no such message. */
TernMailMessage *tern_mail_store_get_message        (TernStore             *store,
                                                     gint64                 message_id,
                                                     GError               **error);
TernMailMessage *tern_mail_store_find_message       (TernStore             *store,
                                                     gint64                 folder_id,
                                                     guint32                uid,
                                                     GError               **error);
/* A message whose body is not cached yet. */
typedef struct
{
  gint64  id;
  guint32 uid;
  guint64 size;
} TernMailBodyRef;

/* The folder's messages without a cached body (TernMailBodyRef), highest
 * UID first, INTERNALDATE at or after @since (0: all). */
GArray         *tern_mail_store_list_missing_bodies (TernStore             *store,
                                                     gint64                 folder_id,
                                                     gint64                 since,
                                                     GError               **error);

/* Bodies: the raw RFC 5322 message.  Exactly one of @data and @path (a
 * file under the profile that the store now owns). */
gboolean        tern_mail_store_set_body            (TernStore             *store,
                                                     gint64                 message_id,
                                                     GBytes                *data,
                                                     const char            *path,
                                                     guint64                size,
                                                     GError               **error);
/* One body of tern_mail_store_set_bodies(), as for tern_mail_store_set_body(). */
typedef struct
{
  gint64      message_id;
  GBytes     *data;
  const char *path;
  guint64     size;
} TernMailBody;

/* Stores @n_bodies bodies in one transaction: a full sync commits (and
 * syncs to disk) once per batch, not once per message. */
gboolean        tern_mail_store_set_bodies          (TernStore             *store,
                                                     const TernMailBody    *bodies,
                                                     guint                  n_bodies,
                                                     GError               **error);
/* POP3: the folder's UIDLs, each mapped to its internal_date (a gint64 *:
 * the download time). */
GHashTable     *tern_mail_store_get_pop3_uidls      (TernStore             *store,
                                                     gint64                 folder_id,
                                                     GError               **error);

/* The cached raw message, or NULL without an error when not cached. */
GBytes         *tern_mail_store_get_body            (TernStore             *store,
                                                     gint64                 message_id,
                                                     GError               **error);

G_END_DECLS
