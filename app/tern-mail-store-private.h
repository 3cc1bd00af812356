/* tern-mail-store-private.h: what tern-mail-store.c and tern-mail-decode.c
 * share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-mail-store.h"

G_BEGIN_DECLS

#define SYSTEM_FLAGS_MASK (TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_ANSWERED | TERN_IMAP_FLAG_FLAGGED | \
                           TERN_IMAP_FLAG_DELETED | TERN_IMAP_FLAG_DRAFT |                        \
                           TERN_IMAP_FLAG_FORWARDED | TERN_IMAP_FLAG_JUNK)

/* How many unread messages folder @folder holds, from the index of
 * migration 018 alone: its terms are the index's WHERE. */
#define TERN_MAIL_STORE_UNREAD_SQL(folder)                                                  \
  "SELECT count(*) FROM messages WHERE folder_id = " folder                                \
  " AND (flags & 1) = 0 AND (flags & 8) = 0"

/* The thread lookups of adding messages (tern-mail-store.c), here for
 * test-store to check their plans: a message of account ?2 whose
 * Message-ID is ?1, and one that replies to ?1.  One statement for
 * several ids (message_id IN (...)) was tried: SQLite builds a table of
 * the list for each run, ten times the instructions of these. */
#define TERN_MAIL_STORE_THREAD_BY_ID_SQL                                                   \
  "SELECT m.thread_id FROM messages m JOIN folders f ON f.id = m.folder_id"                \
  " WHERE m.message_id = ?1 AND f.account_id = ?2 AND m.thread_id IS NOT NULL LIMIT 1"
#define TERN_MAIL_STORE_THREAD_BY_PARENT_SQL                                               \
  "SELECT m.thread_id FROM messages m JOIN folders f ON f.id = m.folder_id"                \
  " WHERE m.in_reply_to = ?1 AND f.account_id = ?2 AND m.thread_id IS NOT NULL LIMIT 1"

/* A message's columns in the search index, from its row (m): rowid,
 * subject, sender, recipients, and scope, the tokens of its folder and
 * account (migration 007), SQL expressions @folder and @account.  The
 * body is the caller's. */
#define TERN_MAIL_STORE_FTS_HEADERS_SQL(folder, account)                                  \
  "m.id, m.subject,"                                                                       \
  " coalesce (m.from_name, '') || ' ' || coalesce (m.from_address, ''),"                   \
  " coalesce (m.to_list, '') || ' ' || coalesce (m.cc_list, ''),"                          \
  " char (57344) || 'f' || " folder " || ' ' || char (57344) || 'a' || " account
/* A stored message's row of the search index: ?1 its id, ?2 its body's
 * text (NULL for headers alone). */
#define TERN_MAIL_STORE_FTS_ROW_SQL                                                        \
  "INSERT INTO messages_fts (rowid, subject, sender, recipients, scope, body)"             \
  " SELECT " TERN_MAIL_STORE_FTS_HEADERS_SQL ("f.id", "f.account_id") ", ?2"                \
  " FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.id = ?1"

/* What one new message row holds, decoded. */
struct _TernMailNewMessage
{
  guint32 uid;
  TernImapFlags flags;
  guint64 modseq;
  gint64 internal_date;
  guint64 size;
  gboolean has_attachments;
  char *subject;
  char *thread_subject;
  gboolean is_reply;
  char *from_name;
  char *from_address;
  char *to_list;
  char *cc_list;
  char *reply_to;
  char *message_id;
  char *in_reply_to;
  char *references;
  GPtrArray *reference_ids;
  char *list_id;
  char *keywords;
  gint64 date;
  char *pop3_uidl;  /* POP3 mail: uid 0, the UIDL instead */
  GBytes *body;     /* the raw message, stored with the row; NULL: none */
  char *body_text;  /* its text for the search index; NULL: indexed later */
};

gboolean _tern_mail_store_recount (sqlite3  *db,
                                   gint64    folder_id,
                                   GError  **error);
/* Counts message @message_id, just inserted, in its folder's
 * conversations: every INSERT into messages must (migration 013). */
gboolean _tern_mail_store_count_conversation (sqlite3  *db,
                                              gint64    message_id,
                                              GError  **error);
void  _tern_mail_ensure_gmime  (void);
/* Keep the converters of common legacy charsets loaded while pinned
 * (tern-mail-store.c says why); calls nest, from any thread. */
void  _tern_mail_pin_charsets   (void);
void  _tern_mail_unpin_charsets (void);
char *_tern_mail_join_keywords (GPtrArray *keywords);
/* @text with runs of base64 encoded words of one charset joined into one
 * word, which GMime 3.2.13 decodes whole (see tern-mail-decode.c). */
char *_tern_mail_repair_encoded_words (const char *text);
/* Message-IDs without their brackets, and a Date header in seconds since
 * the epoch, as GMime reads them (faster for the common forms). */
GPtrArray *_tern_mail_parse_message_ids (const char *text);
gboolean   _tern_mail_decode_date       (const char *text,
                                         gint64     *seconds);

G_END_DECLS
