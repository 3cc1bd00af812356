/* tern-imap-parser.h: incremental parser of IMAP server responses
 * (IMAP4rev1, RFC 3501, and IMAP4rev2, RFC 9051, with the extensions Tern
 * uses: CONDSTORE/QRESYNC, ESEARCH, LIST-EXTENDED, SPECIAL-USE, UIDPLUS,
 * ID, NAMESPACE, ENABLE, UTF8=ACCEPT, LITERAL+, BINARY).
 *
 * How a client drives it
 * ======================
 *
 * The parser never touches a socket.  The client reads bytes however it
 * likes and hands them over in chunks of any size, down to one byte:
 *
 *   g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
 *   ...
 *   if (!tern_imap_parser_feed (parser, buf, n, &error))
 *     -> TERN_IMAP_ERROR_PROTOCOL (the message names the byte offset in the
 *        stream), or the error of a body sink; disconnect
 *   while ((response = tern_imap_parser_pop (parser)) != NULL)
 *     -> handle it, tern_imap_response_free() it
 *
 * feed() consumes everything it is given and queues every response it
 * completes, so the queue never holds more than one chunk's worth.  A
 * client that reads through TernConnection can instead call
 * tern_imap_parser_read_response(), which reads lines and literals from
 * the connection (literals in bounded chunks) until one response is
 * complete.
 *
 * Large literals: the body sections of a FETCH (BODY[...], BINARY[...],
 * RFC822, RFC822.TEXT) may be streamed instead of kept.  When such a
 * literal starts, the parser calls the TernImapBodySinkFunc set with
 * tern_imap_parser_set_body_sink() with the message's sequence number, the
 * item ("BODY", "BINARY", "RFC822", ...), the section as sent ("" for
 * BODY[], "HEADER.FIELDS (REFERENCES)", "1.2", ...) and the size; the
 * function returns a GOutputStream (transfer full) to write the literal
 * to, in chunks as they are fed, or NULL to keep it in memory.  The UID is
 * not known yet at that point when the server sends it after the body.
 * tern_imap_parser_set_body_stream() is the simple case: every
 * body-section literal except HEADER, HEADER.FIELDS, MIME and
 * RFC822.HEADER ones goes to one stream.  A failing write fails feed()
 * with the stream's error.  A streamed section shows up in the response's @sections with
 * `streamed = TRUE` and no data.  Literals not streamed may be at most
 * max_literal bytes (1 MiB by default): a bigger one is a protocol error.
 *
 * Limits (tern_imap_parser_set_limits()): a line outside literals may be at
 * most max_line bytes (64 KiB; SEARCH, ESEARCH, SORT and VANISHED lines,
 * which grow with the mailbox, may use the whole max_response), lists may
 * nest max_depth deep (64; the grammar recurses once per level, so keep
 * it in the hundreds at most), and one response, literals kept in memory
 * included, may be at most max_response bytes (16 MiB).
 *
 * After ENABLE UTF8=ACCEPT succeeds, call tern_imap_parser_set_utf8_accept():
 * mailbox names are then UTF-8 on the wire and not decoded from modified
 * UTF-7.  Invalid UTF-8 in any string is repaired, never an error.
 *
 * Errors: TERN_IMAP_ERROR_PROTOCOL, with a translated message that names
 * the byte offset in the stream (also from
 * tern_imap_parser_get_error_offset()).  Responses completed before the
 * bad one are still queued.  After an error, every feed() fails the same
 * way until tern_imap_parser_reset(), which forgets all buffered input
 * (use it when reconnecting).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-connection.h"
#include "tern-imap-types.h"

G_BEGIN_DECLS

typedef enum {
  TERN_IMAP_RESPONSE_UNTAGGED,      /* "* ..." */
  TERN_IMAP_RESPONSE_TAGGED,        /* "a1 OK ..." */
  TERN_IMAP_RESPONSE_CONTINUATION,  /* "+ ..." */
} TernImapResponseKind;

/* The condition of a status response; NONE for data and continuations. */
typedef enum {
  TERN_IMAP_RESPONSE_STATUS_NONE,
  TERN_IMAP_RESPONSE_STATUS_OK,
  TERN_IMAP_RESPONSE_STATUS_NO,
  TERN_IMAP_RESPONSE_STATUS_BAD,
  TERN_IMAP_RESPONSE_STATUS_PREAUTH,
  TERN_IMAP_RESPONSE_STATUS_BYE,
} TernImapResponseStatus;

/* What an untagged data response carries. */
typedef enum {
  TERN_IMAP_DATA_NONE,        /* a status response or a continuation */
  TERN_IMAP_DATA_CAPABILITY,  /* capabilities */
  TERN_IMAP_DATA_FLAGS,       /* flags, keywords */
  TERN_IMAP_DATA_LIST,        /* mailbox, childinfo, oldname */
  TERN_IMAP_DATA_LSUB,        /* mailbox */
  TERN_IMAP_DATA_STATUS,      /* mailbox (name and status) */
  TERN_IMAP_DATA_SEARCH,      /* set, modseq */
  TERN_IMAP_DATA_ESEARCH,     /* esearch */
  TERN_IMAP_DATA_EXISTS,      /* number */
  TERN_IMAP_DATA_RECENT,      /* number */
  TERN_IMAP_DATA_EXPUNGE,     /* number (a sequence number) */
  TERN_IMAP_DATA_FETCH,       /* message (message->seq), sections */
  TERN_IMAP_DATA_VANISHED,    /* set, earlier */
  TERN_IMAP_DATA_ENABLED,     /* capabilities */
  TERN_IMAP_DATA_ID,          /* id_params (NULL for NIL) */
  TERN_IMAP_DATA_NAMESPACE,   /* namespaces[3] */
  TERN_IMAP_DATA_OTHER,       /* unknown: name, number, text = the rest, raw */
} TernImapDataKind;

/* Response codes (RFC 3501 §7.1, RFC 9051 §7.1, RFC 5530, RFC 4315,
 * RFC 7162).  UNKNOWN keeps the atom in code_name and its argument in
 * code_text. */
typedef enum {
  TERN_IMAP_CODE_NONE,
  TERN_IMAP_CODE_UNKNOWN,
  TERN_IMAP_CODE_ALERT,
  TERN_IMAP_CODE_BADCHARSET,      /* code_strings: the charsets, maybe empty */
  TERN_IMAP_CODE_CAPABILITY,      /* capabilities */
  TERN_IMAP_CODE_PARSE,
  TERN_IMAP_CODE_PERMANENTFLAGS,  /* flags, keywords, permanent_any */
  TERN_IMAP_CODE_READ_ONLY,
  TERN_IMAP_CODE_READ_WRITE,
  TERN_IMAP_CODE_TRYCREATE,
  TERN_IMAP_CODE_UIDNEXT,         /* code_number */
  TERN_IMAP_CODE_UIDVALIDITY,     /* code_number */
  TERN_IMAP_CODE_UNSEEN,          /* code_number */
  TERN_IMAP_CODE_HIGHESTMODSEQ,   /* code_modseq */
  TERN_IMAP_CODE_NOMODSEQ,
  TERN_IMAP_CODE_MODIFIED,        /* code_set */
  TERN_IMAP_CODE_APPENDUID,       /* code_number = uidvalidity, code_set = uids */
  TERN_IMAP_CODE_COPYUID,         /* code_number = uidvalidity, code_source_set, code_set;
                                     code_text keeps the wire order */
  TERN_IMAP_CODE_UIDNOTSTICKY,
  TERN_IMAP_CODE_CLOSED,
  TERN_IMAP_CODE_NONEXISTENT,
  TERN_IMAP_CODE_ALREADYEXISTS,
  TERN_IMAP_CODE_REFERRAL,        /* code_text = the URL; never to be followed */
  TERN_IMAP_CODE_COMPRESSIONACTIVE,
  /* RFC 5530 */
  TERN_IMAP_CODE_UNAVAILABLE,
  TERN_IMAP_CODE_AUTHENTICATIONFAILED,
  TERN_IMAP_CODE_AUTHORIZATIONFAILED,
  TERN_IMAP_CODE_EXPIRED,
  TERN_IMAP_CODE_PRIVACYREQUIRED,
  TERN_IMAP_CODE_CONTACTADMIN,
  TERN_IMAP_CODE_NOPERM,
  TERN_IMAP_CODE_INUSE,
  TERN_IMAP_CODE_EXPUNGEISSUED,
  TERN_IMAP_CODE_CORRUPTION,
  TERN_IMAP_CODE_SERVERBUG,
  TERN_IMAP_CODE_CLIENTBUG,
  TERN_IMAP_CODE_CANNOT,
  TERN_IMAP_CODE_LIMIT,
  TERN_IMAP_CODE_OVERQUOTA,
  /* RFC 9051 */
  TERN_IMAP_CODE_HASCHILDREN,
  TERN_IMAP_CODE_UNKNOWN_CTE,
} TernImapCode;

/* ESEARCH return data present (RFC 4731, RFC 7162 MODSEQ). */
typedef enum {
  TERN_IMAP_ESEARCH_MIN    = 1 << 0,
  TERN_IMAP_ESEARCH_MAX    = 1 << 1,
  TERN_IMAP_ESEARCH_COUNT  = 1 << 2,
  TERN_IMAP_ESEARCH_ALL    = 1 << 3,
  TERN_IMAP_ESEARCH_MODSEQ = 1 << 4,
} TernImapEsearchItems;

typedef struct
{
  char                 *tag;     /* the command's tag, or NULL */
  gboolean              uid;     /* results are UIDs */
  TernImapEsearchItems  present;
  guint32               min;
  guint32               max;
  guint32               count;
  guint64               modseq;
  /* ALL is in the response's set. */
} TernImapEsearch;

/* One BODY[section]<origin>, BINARY[section]<origin>, RFC822, RFC822.HEADER
 * or RFC822.TEXT item of a FETCH. */
typedef struct
{
  char     *item;      /* "BODY", "BINARY", "RFC822", "RFC822.HEADER", "RFC822.TEXT" */
  char     *section;   /* as sent, upper-case keywords: "", "1.2.MIME",
                          "HEADER.FIELDS (REFERENCES IN-REPLY-TO)"; NULL for RFC822* */
  gboolean  has_origin;
  guint32   origin;    /* <origin> of a partial fetch */
  gboolean  is_nil;    /* the server sent NIL */
  gboolean  streamed;  /* the literal went to a body sink */
  guint64   size;      /* octets, streamed or not */
  GBytes   *data;      /* NULL when NIL or streamed */
} TernImapFetchSection;

void tern_imap_fetch_section_free (TernImapFetchSection *section);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapFetchSection, tern_imap_fetch_section_free)

typedef struct
{
  char *prefix;     /* UTF-8 */
  char  delimiter;  /* '\0' for NIL */
} TernImapNamespace;

void tern_imap_namespace_free (TernImapNamespace *ns);

/* One complete server response.  Every pointer is NULL unless the kind of
 * response (see TernImapDataKind and TernImapCode) fills it. */
typedef struct
{
  TernImapResponseKind    kind;
  char                   *tag;        /* TAGGED only */
  TernImapResponseStatus  status;     /* status responses only */
  TernImapDataKind        data;       /* untagged data only */
  char                   *name;       /* upper-case response name: "OK", "FETCH", "XFOO" */

  /* resp-text of status responses; the continuation's text (may be
   * base64); the raw rest of an OTHER line.  Always valid UTF-8, never NULL. */
  char                   *text;
  TernImapCode            code;
  char                   *code_name;  /* upper-case atom, as for UNKNOWN codes */
  char                   *code_text;  /* the code's argument as sent, or NULL */
  guint32                 code_number;
  guint64                 code_modseq;
  TernImapSet            *code_set;
  TernImapSet            *code_source_set;
  GPtrArray              *code_strings;   /* BADCHARSET */

  /* Untagged data. */
  guint32                 number;         /* EXISTS, RECENT, EXPUNGE, OTHER "* n XYZ" */
  GPtrArray              *capabilities;   /* upper-case; CAPABILITY, ENABLED, [CAPABILITY] */
  TernImapFlags           flags;          /* FLAGS, [PERMANENTFLAGS] */
  GPtrArray              *keywords;
  gboolean                permanent_any;  /* "\*" in PERMANENTFLAGS */
  TernImapMessage        *message;        /* FETCH */
  GPtrArray              *sections;       /* FETCH: of TernImapFetchSection */
  TernImapMailbox        *mailbox;        /* LIST, LSUB, STATUS */
  GPtrArray              *childinfo;      /* LIST CHILDINFO, upper-case */
  char                   *oldname;        /* LIST OLDNAME, UTF-8 */
  TernImapSet            *set;            /* SEARCH, VANISHED, ESEARCH ALL */
  guint64                 modseq;         /* SEARCH (MODSEQ n) */
  gboolean                earlier;        /* VANISHED (EARLIER) */
  TernImapEsearch        *esearch;
  GHashTable             *id_params;      /* ID: name -> value (value may be NULL) */
  GPtrArray              *namespaces[3];  /* personal, other users, shared; NULL for NIL */
} TernImapResponse;

void     tern_imap_response_free             (TernImapResponse *response);
/* Whether @response lists @capability (case-insensitive). */
gboolean tern_imap_response_has_capability   (const TernImapResponse *response,
                                              const char             *capability);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapResponse, tern_imap_response_free)

typedef struct _TernImapParser TernImapParser;

#define TERN_IMAP_PARSER_DEFAULT_MAX_LINE     (64 * 1024)
#define TERN_IMAP_PARSER_DEFAULT_MAX_DEPTH    64
#define TERN_IMAP_PARSER_DEFAULT_MAX_LITERAL  (1024 * 1024)
#define TERN_IMAP_PARSER_DEFAULT_MAX_RESPONSE (16 * 1024 * 1024)
/* A literal that could go to a body sink (BODY[], RFC822 ...) may be at
 * most this large: a message bigger than any mail system sends is refused
 * as soon as its size is announced, before any of it is read or stored. */
#define TERN_IMAP_MAX_MESSAGE_SIZE            (256 * 1024 * 1024)

/* Called when a body-section literal of @size octets starts in the FETCH of
 * message @seq.  Returns a stream to write it to (transfer full), or NULL
 * to keep it in memory. */
typedef GOutputStream *(*TernImapBodySinkFunc) (guint32     seq,
                                                const char *item,
                                                const char *section,
                                                guint64     size,
                                                gpointer    user_data);

TernImapParser   *tern_imap_parser_new              (void);
void              tern_imap_parser_free             (TernImapParser  *self);
void              tern_imap_parser_reset            (TernImapParser  *self);
void              tern_imap_parser_set_limits       (TernImapParser  *self,
                                                     gsize            max_line,
                                                     guint            max_depth,
                                                     gsize            max_literal,
                                                     gsize            max_response);
void              tern_imap_parser_set_utf8_accept  (TernImapParser  *self,
                                                     gboolean         utf8_accept);
gboolean          tern_imap_parser_get_utf8_accept  (TernImapParser  *self);
void              tern_imap_parser_set_body_sink    (TernImapParser       *self,
                                                     TernImapBodySinkFunc  func,
                                                     gpointer              user_data,
                                                     GDestroyNotify        destroy);
/* Every body-section literal but HEADER, HEADER.FIELDS and RFC822.HEADER
 * goes to @stream (NULL: none). */
void              tern_imap_parser_set_body_stream  (TernImapParser  *self,
                                                     GOutputStream   *stream);

gboolean          tern_imap_parser_feed             (TernImapParser  *self,
                                                     const void      *data,
                                                     gsize            len,
                                                     GError         **error);
/* The next complete response, or NULL. */
TernImapResponse *tern_imap_parser_pop              (TernImapParser  *self);

/* Bytes of the stream consumed so far. */
guint64           tern_imap_parser_get_offset       (TernImapParser  *self);
/* Bytes buffered for the response in progress (literals that went to a
 * sink are not buffered). */
gsize             tern_imap_parser_get_buffered     (TernImapParser  *self);
/* The stream offset of the byte where the last error was found. */
guint64           tern_imap_parser_get_error_offset (TernImapParser *self);
/* Octets of the literal being read still to come, or 0 outside literals. */
guint64           tern_imap_parser_get_literal_remaining (TernImapParser *self);

/* Reads from @connection until a response is complete and returns it
 * (a queued one first, without reading). */
TernImapResponse *tern_imap_parser_read_response    (TernImapParser  *self,
                                                     TernConnection  *connection,
                                                     GCancellable    *cancellable,
                                                     GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TernImapParser, tern_imap_parser_free)

G_END_DECLS
