/* tern-imap-types.h: what the IMAP layer hands to the engine.
 *
 * Plain structs with free functions: the parser produces them from a
 * server's bytes, the client returns them, the sync engine stores them.
 * Strings are UTF-8 (mailbox names decoded from modified UTF-7; header
 * words decoded from RFC 2047 is NOT done here: envelope strings are the
 * raw bytes the server sent, made valid UTF-8, and app/ decodes them with
 * GMime).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* System flags as bits; keywords stay strings. */
typedef enum {
  TERN_IMAP_FLAG_SEEN      = 1 << 0,
  TERN_IMAP_FLAG_ANSWERED  = 1 << 1,
  TERN_IMAP_FLAG_FLAGGED   = 1 << 2,
  TERN_IMAP_FLAG_DELETED   = 1 << 3,
  TERN_IMAP_FLAG_DRAFT     = 1 << 4,
  TERN_IMAP_FLAG_RECENT    = 1 << 5,
  TERN_IMAP_FLAG_FORWARDED = 1 << 6, /* $Forwarded */
  TERN_IMAP_FLAG_JUNK      = 1 << 7, /* $Junk */
} TernImapFlags;

/* LIST attributes, including SPECIAL-USE (RFC 6154). */
typedef enum {
  TERN_IMAP_MAILBOX_NOSELECT      = 1 << 0,
  TERN_IMAP_MAILBOX_NOINFERIORS   = 1 << 1,
  TERN_IMAP_MAILBOX_HAS_CHILDREN  = 1 << 2,
  TERN_IMAP_MAILBOX_HAS_NO_CHILDREN = 1 << 3,
  TERN_IMAP_MAILBOX_NONEXISTENT   = 1 << 4,
  TERN_IMAP_MAILBOX_SUBSCRIBED    = 1 << 5,
  TERN_IMAP_MAILBOX_MARKED        = 1 << 6,
  TERN_IMAP_MAILBOX_UNMARKED      = 1 << 7,
  TERN_IMAP_MAILBOX_ALL           = 1 << 8,
  TERN_IMAP_MAILBOX_ARCHIVE       = 1 << 9,
  TERN_IMAP_MAILBOX_DRAFTS        = 1 << 10,
  TERN_IMAP_MAILBOX_FLAGGED       = 1 << 11,
  TERN_IMAP_MAILBOX_JUNK          = 1 << 12,
  TERN_IMAP_MAILBOX_SENT          = 1 << 13,
  TERN_IMAP_MAILBOX_TRASH         = 1 << 14,
} TernImapMailboxAttributes;

/* A set of UIDs (or sequence numbers) as sorted, disjoint, inclusive
 * ranges: "1:5,9,12:*" with * as G_MAXUINT32. */
typedef struct
{
  guint32 first;
  guint32 last;
} TernImapRange;

typedef struct
{
  GArray *ranges; /* of TernImapRange */
} TernImapSet;

TernImapSet *tern_imap_set_new        (void);
TernImapSet *tern_imap_set_parse      (const char        *text); /* NULL if malformed */
void         tern_imap_set_add_range  (TernImapSet       *set,
                                       guint32            first,
                                       guint32            last);
void         tern_imap_set_add        (TernImapSet       *set,
                                       guint32            value);
gboolean     tern_imap_set_contains   (const TernImapSet *set,
                                       guint32            value);
guint64      tern_imap_set_count      (const TernImapSet *set);
gboolean     tern_imap_set_is_empty   (const TernImapSet *set);
char        *tern_imap_set_to_string  (const TernImapSet *set);
void         tern_imap_set_free       (TernImapSet       *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapSet, tern_imap_set_free)

/* An address of an ENVELOPE.  A group start has mailbox set and host NULL;
 * a group end has both NULL (RFC 3501 §7.4.2). */
typedef struct
{
  char *name;    /* display name, raw (may hold RFC 2047 words) */
  char *adl;
  char *mailbox;
  char *host;
} TernImapAddress;

void tern_imap_address_free (TernImapAddress *address);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapAddress, tern_imap_address_free)

typedef struct
{
  char      *date;        /* the Date: header as sent, raw */
  char      *subject;     /* raw */
  GPtrArray *from;        /* of TernImapAddress; never NULL, maybe empty */
  GPtrArray *sender;      /* from the parser: may be @from itself (a reference)
                           * when the server sent the same list */
  GPtrArray *reply_to;    /* likewise */
  GPtrArray *to;
  GPtrArray *cc;
  GPtrArray *bcc;
  char      *in_reply_to;
  char      *message_id;
} TernImapEnvelope;

void tern_imap_envelope_free (TernImapEnvelope *envelope);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapEnvelope, tern_imap_envelope_free)

/* One node of a BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2),
 * extension data included when the server sent it. */
typedef struct _TernImapBody TernImapBody;
struct _TernImapBody
{
  char        *type;         /* lower-case: "text", "multipart", ... */
  char        *subtype;      /* lower-case */
  char       **params;       /* lower-case name, value, name, value...,
                                NULL; NULL if none: see
                                tern_imap_params_lookup() */
  char        *id;
  char        *description;
  char        *encoding;     /* lower-case */
  guint64      size;         /* octets (0 for multipart) */
  guint64      lines;        /* text and message/rfc822 parts */
  char        *md5;
  char        *disposition;  /* lower-case, NULL if none */
  char       **disposition_params; /* likewise */
  char        *language;     /* first language, if any */
  char        *location;
  TernImapEnvelope *envelope;   /* message/rfc822 */
  GPtrArray   *children;     /* of TernImapBody: multipart parts, or the
                                single body of a message/rfc822; NULL if none */
  char        *section;      /* "1", "1.2", "TEXT" for the top of a single part: "1" */
};

void        tern_imap_body_free     (TernImapBody       *body);
const char *tern_imap_params_lookup (char * const      *params,
                                     const char         *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapBody, tern_imap_body_free)

/* One message's data from FETCH.  A field the server did not send is left
 * unset and its bit in @present clear. */
typedef enum {
  TERN_IMAP_FETCH_UID           = 1 << 0,
  TERN_IMAP_FETCH_FLAGS         = 1 << 1,
  TERN_IMAP_FETCH_INTERNALDATE  = 1 << 2,
  TERN_IMAP_FETCH_SIZE          = 1 << 3,
  TERN_IMAP_FETCH_ENVELOPE      = 1 << 4,
  TERN_IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
  TERN_IMAP_FETCH_MODSEQ        = 1 << 6,
  TERN_IMAP_FETCH_HEADERS       = 1 << 7, /* BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)] */
  TERN_IMAP_FETCH_BODY          = 1 << 8, /* BODY[] / BODY[section], see TernImapClient */
} TernImapFetchItems;

typedef struct
{
  TernImapFetchItems present;
  guint32            seq;
  guint32            uid;
  TernImapFlags      flags;
  GPtrArray         *keywords;       /* other flags, strings; never NULL */
  gint64             internal_date;  /* seconds since the epoch, UTC */
  guint64            size;
  guint64            modseq;
  TernImapEnvelope  *envelope;
  TernImapBody      *body;           /* BODYSTRUCTURE */
  GBytes            *headers;        /* the HEADER.FIELDS literal, raw */
  /* From the parser: the strings of @envelope and @body (their addresses
   * and parameters included), copied into one chunk rather than each
   * allocated (about 30 allocations a message fewer); only their structs
   * and lists are allocated one by one.  Such a string may be changed in
   * place but not freed or replaced by another allocated string.  NULL
   * for a message made by hand, whose strings are each allocated. */
  GStringChunk      *strings;
} TernImapMessage;

TernImapMessage *tern_imap_message_new  (void);
void             tern_imap_message_free (TernImapMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapMessage, tern_imap_message_free)

/* Seconds since the epoch of a date that g_date_valid_dmy() accepts, at
 * a UTC time of day (INTERNALDATE, and the Date header as the mail store
 * reads it), without a GDateTime. */
gint64 tern_imap_utc_seconds (guint year,
                              guint month,
                              guint day,
                              guint seconds_of_day);

/* A LIST (and LIST-STATUS / STATUS) result. */
typedef enum {
  TERN_IMAP_STATUS_MESSAGES      = 1 << 0,
  TERN_IMAP_STATUS_UIDNEXT       = 1 << 1,
  TERN_IMAP_STATUS_UIDVALIDITY   = 1 << 2,
  TERN_IMAP_STATUS_UNSEEN        = 1 << 3,
  TERN_IMAP_STATUS_HIGHESTMODSEQ = 1 << 4,
  TERN_IMAP_STATUS_RECENT        = 1 << 5,
  TERN_IMAP_STATUS_SIZE          = 1 << 6,
} TernImapStatusItems;

typedef struct
{
  TernImapStatusItems present;
  guint32 messages;
  guint32 uidnext;
  guint32 uidvalidity;
  guint32 unseen;
  guint32 recent;
  guint64 highestmodseq;
  guint64 size;
} TernImapStatus;

typedef struct
{
  char                      *name;       /* UTF-8, full hierarchical name */
  char                      *raw_name;   /* as on the wire (modified UTF-7 unless UTF8=ACCEPT) */
  char                       delimiter;  /* '\0' when NIL (flat) */
  TernImapMailboxAttributes  attributes;
  TernImapStatus             status;     /* from LIST-STATUS, when present */
} TernImapMailbox;

void tern_imap_mailbox_free (TernImapMailbox *mailbox);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapMailbox, tern_imap_mailbox_free)

/* Modified UTF-7 (RFC 3501 §5.1.3) both ways.  decode returns NULL for
 * malformed input. */
char *tern_imap_utf7_encode (const char *utf8);
char *tern_imap_utf7_decode (const char *mutf7);

G_END_DECLS
