/* tern-imap-client.h: one IMAP session over one TernConnection.
 *
 * Blocking, for one worker thread at a time, like TernConnection; every
 * call takes a GCancellable that may be cancelled from any thread.  Commands
 * are pipelined where the protocol allows (fetches by UID ranges, APPENDs
 * with LITERAL+, STOREs): no round trip per message.
 *
 * Untagged data that arrives during any command (EXISTS, EXPUNGE, VANISHED,
 * FETCH of flags, ALERT) is reported through the TernImapClientEvents
 * callbacks, on the calling thread, in the order received.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-connection.h"
#include "tern-imap-types.h"

G_BEGIN_DECLS

#define TERN_IMAP_ERROR (tern_imap_error_quark ())

typedef enum {
  TERN_IMAP_ERROR_PROTOCOL,        /* unparsable or impossible server data */
  TERN_IMAP_ERROR_BYE,             /* the server said BYE */
  TERN_IMAP_ERROR_NO,              /* a command got NO; message = server text */
  TERN_IMAP_ERROR_BAD,             /* a command got BAD */
  TERN_IMAP_ERROR_AUTH_FAILED,     /* wrong user name or password */
  TERN_IMAP_ERROR_AUTH_UNAVAILABLE,/* no mechanism both sides support, or
                                      LOGINDISABLED without TLS */
  TERN_IMAP_ERROR_STARTTLS_REFUSED,/* STARTTLS missing, refused, or PREAUTH on a
                                      connection that must be upgraded */
  TERN_IMAP_ERROR_UNSUPPORTED,     /* the server lacks an extension this call needs */
  TERN_IMAP_ERROR_NONEXISTENT,     /* [NONEXISTENT] mailbox */
  TERN_IMAP_ERROR_UIDVALIDITY,     /* UIDVALIDITY changed under a QRESYNC select */
} TernImapError;

GQuark tern_imap_error_quark (void);

typedef struct
{
  /* The mailbox's message count changed (EXISTS). */
  void (*exists)   (guint32 count, gpointer user_data);
  /* Messages went away: by UID (VANISHED, or EXPUNGE mapped to a UID when
   * known), never by bare sequence number. */
  void (*vanished) (const TernImapSet *uids, gpointer user_data);
  /* Unsolicited FETCH: flag/modseq changes of a message. */
  void (*fetch)    (const TernImapMessage *message, gpointer user_data);
  /* [ALERT] text: the server's words, to show as such.  Never called for
   * text received before TLS on a connection that uses TLS. */
  void (*alert)    (const char *text, gpointer user_data);
} TernImapClientEvents;

#define TERN_TYPE_IMAP_CLIENT (tern_imap_client_get_type ())
G_DECLARE_FINAL_TYPE (TernImapClient, tern_imap_client, TERN, IMAP_CLIENT, GObject)

/* Takes a connection that is set up but not yet connected. */
TernImapClient *tern_imap_client_new               (TernConnection              *connection);
TernConnection *tern_imap_client_get_connection    (TernImapClient              *self);
void            tern_imap_client_set_events        (TernImapClient              *self,
                                                    const TernImapClientEvents  *events,
                                                    gpointer                     user_data);

/* Connects, reads the greeting, asks CAPABILITY, and for STARTTLS mode
 * upgrades (refusing PREAUTH and missing STARTTLS) and asks again. */
gboolean        tern_imap_client_open              (TernImapClient  *self,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
/* LOGIN or AUTHENTICATE via libgsasl: @mechanism NULL picks the best offered
 * (SCRAM-SHA-256, then PLAIN, then LOGIN); SASL-IR when offered.  Asks
 * CAPABILITY again afterwards (unless the OK carried it), then ENABLEs
 * CONDSTORE, QRESYNC and UTF8=ACCEPT where offered, sends ID, and turns on
 * COMPRESS=DEFLATE when offered and @compress. */
gboolean        tern_imap_client_login             (TernImapClient  *self,
                                                    const char      *username,
                                                    const char      *password,
                                                    const char      *mechanism,
                                                    gboolean         compress,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_has_capability    (TernImapClient  *self,
                                                    const char      *capability);
/* The personal namespace (NAMESPACE, asked at login when offered): its
 * prefix ("" or "INBOX." ...; NULL when unknown) and @delimiter. */
const char     *tern_imap_client_get_namespace     (TernImapClient  *self,
                                                    char            *delimiter);
/* Whether QRESYNC (resp. CONDSTORE) was enabled for this session. */
gboolean        tern_imap_client_is_enabled        (TernImapClient  *self,
                                                    const char      *extension);

/* LIST "" "*" with RETURN (SUBSCRIBED SPECIAL-USE CHILDREN STATUS (...))
 * where offered; LSUB is folded into the SUBSCRIBED attribute otherwise.
 * Returns TernImapMailbox items. */
GPtrArray      *tern_imap_client_list              (TernImapClient  *self,
                                                    TernImapStatusItems status_items,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_status            (TernImapClient  *self,
                                                    const char      *mailbox,
                                                    TernImapStatusItems items,
                                                    TernImapStatus  *status,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
/* STATUS of every selectable mailbox of @mailboxes (TernImapMailbox from
 * tern_imap_client_list()) into its status, the commands pipelined: one
 * round trip.  A mailbox the server refuses to report keeps an empty
 * status (nothing present).  Dovecot 2.3 answers this in a few
 * milliseconds where LIST-STATUS took 300 ms for the same folders. */
gboolean        tern_imap_client_status_many       (TernImapClient  *self,
                                                    GPtrArray       *mailboxes,
                                                    TernImapStatusItems items,
                                                    GCancellable    *cancellable,
                                                    GError         **error);

/* What the client knows of a mailbox before selecting it, for QRESYNC
 * (RFC 7162): all zero for a first visit. */
typedef struct
{
  guint32            uidvalidity;
  guint64            highestmodseq;
  const TernImapSet *known_uids;    /* optional */
} TernImapSelectParams;

typedef struct
{
  guint32        exists;
  guint32        uidvalidity;
  guint32        uidnext;
  guint64        highestmodseq;  /* 0: NOMODSEQ or no CONDSTORE */
  TernImapFlags  permanent_flags;
  gboolean       read_only;
  /* With QRESYNC: UIDs expunged since params->highestmodseq (VANISHED
   * (EARLIER)); changed messages come through events->fetch.  Empty
   * otherwise. */
  TernImapSet   *vanished;
} TernImapSelected;

void            tern_imap_selected_clear           (TernImapSelected *selected);

/* SELECT (or EXAMINE when @read_only), with (QRESYNC (...)) when enabled
 * and @params has a uidvalidity, or (CONDSTORE) when only that is.  If the
 * UIDVALIDITY differs from params->uidvalidity, succeeds and reports the
 * new one: the caller drops its cache of the folder. */
gboolean        tern_imap_client_select            (TernImapClient              *self,
                                                    const char                  *mailbox,
                                                    gboolean                     read_only,
                                                    const TernImapSelectParams  *params,
                                                    TernImapSelected            *selected,
                                                    GCancellable                *cancellable,
                                                    GError                     **error);
const char     *tern_imap_client_get_selected      (TernImapClient  *self);

/* Called once per message of a FETCH, in the order received; return FALSE
 * (and set @error) to stop: the client then drains the command.  @message
 * belongs to the client and is freed after the call; a callback may steal
 * its fields (leaving NULL behind). */
typedef gboolean (*TernImapFetchFunc) (TernImapMessage  *message,
                                       gpointer          user_data,
                                       GError          **error);

/* UID FETCH @uids (@items) [CHANGEDSINCE @changedsince when non-zero].
 * Large sets are split into pipelined commands by UID range (1000 UIDs
 * each, 4 in flight; a range ending in "*" stays one command).
 * TERN_IMAP_FETCH_BODY is ignored here: see fetch_body().  A FETCH the
 * server sends on its own (another UID, or without the asked items) goes
 * to events->fetch instead.  Needs a selected mailbox. */
gboolean        tern_imap_client_fetch             (TernImapClient      *self,
                                                    const TernImapSet   *uids,
                                                    TernImapFetchItems   items,
                                                    guint64              changedsince,
                                                    TernImapFetchFunc    func,
                                                    gpointer             user_data,
                                                    GCancellable        *cancellable,
                                                    GError             **error);
/* As tern_imap_client_fetch(), but the commands go highest UIDs first
 * (each command's UIDs still ascending): newest mail arrives first, and
 * the whole set is one pipeline, with no round trip between batches. */
gboolean        tern_imap_client_fetch_newest_first (TernImapClient      *self,
                                                     const TernImapSet   *uids,
                                                     TernImapFetchItems   items,
                                                     guint64              changedsince,
                                                     TernImapFetchFunc    func,
                                                     gpointer             user_data,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
/* UID FETCH @uid BODY.PEEK[@section] (NULL: the whole message), streamed
 * into @out as it arrives; never held in memory.  Returns FALSE with
 * TERN_IMAP_ERROR_NONEXISTENT-like NO when the message is gone. */
gboolean        tern_imap_client_fetch_body        (TernImapClient  *self,
                                                    guint32          uid,
                                                    const char      *section,
                                                    GOutputStream   *out,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
/* Returns the stream (transfer full) a message body of @size octets goes
 * to; which message it is is known only when it ends. */
typedef GOutputStream *(*TernImapBodyBeginFunc) (guint64   size,
                                                 gpointer  user_data);
/* Called when the body that went to @out is complete: it is message @uid's.
 * Return FALSE to stop (no further commands are sent). */
typedef gboolean       (*TernImapBodyDoneFunc)  (guint32         uid,
                                                 GOutputStream  *out,
                                                 gpointer        user_data,
                                                 GError        **error);
/* UID FETCH @uids (UID BODY.PEEK[]), BODY_BATCH UIDs per command and
 * several commands on the wire, so that a full sync does not wait a round
 * trip per message.  Messages no longer on the server are skipped: they
 * never reach @done.  Streams whose body did not end (an error, a cut
 * connection) are dropped unclosed; the caller cleans up what they wrote. */
gboolean        tern_imap_client_fetch_bodies      (TernImapClient         *self,
                                                    const TernImapSet      *uids,
                                                    TernImapBodyBeginFunc   begin,
                                                    TernImapBodyDoneFunc    done,
                                                    gpointer                user_data,
                                                    GCancellable           *cancellable,
                                                    GError                **error);
/* UID SEARCH / ESEARCH for the UIDs of the selected mailbox (ALL by
 * default); used for the no-CONDSTORE resync. */
TernImapSet    *tern_imap_client_search_uids       (TernImapClient  *self,
                                                    const char      *criteria,
                                                    GCancellable    *cancellable,
                                                    GError         **error);

/* One search key of RFC 3501 (FROM, TEXT, UNSEEN, SENTSINCE...) and its
 * argument, NULL for keys without one.  The argument goes as an astring:
 * atom, quoted, or literal (8-bit text without UTF8=ACCEPT). */
typedef struct
{
  const char *key;
  const char *value;
} TernImapSearchKey;

/* UID SEARCH (ESEARCH when offered) for the UIDs of the selected mailbox
 * that match all of @keys; CHARSET UTF-8 is sent when a value is not ASCII
 * and UTF8=ACCEPT is not enabled. */
TernImapSet    *tern_imap_client_uid_search        (TernImapClient           *self,
                                                    const TernImapSearchKey  *keys,
                                                    guint                     n_keys,
                                                    GCancellable             *cancellable,
                                                    GError                  **error);

/* UID STORE @uids +FLAGS.SILENT / -FLAGS.SILENT (@add, @remove). */
gboolean        tern_imap_client_store_flags       (TernImapClient     *self,
                                                    const TernImapSet  *uids,
                                                    TernImapFlags       add,
                                                    TernImapFlags       remove,
                                                    GCancellable       *cancellable,
                                                    GError            **error);
/* UID COPY / UID MOVE (MOVE, else COPY + STORE \Deleted + UID EXPUNGE).
 * With UIDPLUS, @dest_uids (optional) receives the COPYUID mapping:
 * source set and destination set in the same order, and @dest_uidvalidity. */
gboolean        tern_imap_client_copy              (TernImapClient     *self,
                                                    const TernImapSet  *uids,
                                                    const char         *destination,
                                                    gboolean            move,
                                                    guint32            *dest_uidvalidity,
                                                    TernImapSet       **source_uids,
                                                    TernImapSet       **dest_uids,
                                                    GCancellable       *cancellable,
                                                    GError            **error);
/* UID EXPUNGE @uids (UIDPLUS), else EXPUNGE. */
gboolean        tern_imap_client_expunge           (TernImapClient     *self,
                                                    const TernImapSet  *uids,
                                                    GCancellable       *cancellable,
                                                    GError            **error);
/* APPEND with LITERAL+ when offered; returns the new UID (APPENDUID) or 0. */
gboolean        tern_imap_client_append            (TernImapClient  *self,
                                                    const char      *mailbox,
                                                    TernImapFlags    flags,
                                                    gint64           internal_date,
                                                    GBytes          *message,
                                                    guint32         *uidvalidity,
                                                    guint32         *uid,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_create            (TernImapClient  *self,
                                                    const char      *mailbox,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_delete            (TernImapClient  *self,
                                                    const char      *mailbox,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_rename            (TernImapClient  *self,
                                                    const char      *from,
                                                    const char      *to,
                                                    GCancellable    *cancellable,
                                                    GError         **error);

/* IDLE on the selected mailbox until @timeout_seconds pass, an event
 * arrives (after which the client sends DONE and returns TRUE), or
 * @cancellable is cancelled (DONE is sent, returns FALSE with
 * G_IO_ERROR_CANCELLED).  The caller re-issues it; keep @timeout_seconds
 * under 29 minutes. */
gboolean        tern_imap_client_idle              (TernImapClient  *self,
                                                    guint            timeout_seconds,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_noop              (TernImapClient  *self,
                                                    GCancellable    *cancellable,
                                                    GError         **error);
gboolean        tern_imap_client_logout            (TernImapClient  *self,
                                                    GCancellable    *cancellable,
                                                    GError         **error);

G_END_DECLS
