/* tern-imap-client-private.h: what the files of TernImapClient share.
 *
 * tern-imap-client.c holds the session (commands, responses, events,
 * greeting, STARTTLS, sign-in); tern-imap-client-mailbox.c the mailbox
 * commands, SELECT and IDLE; tern-imap-client-messages.c FETCH, SEARCH,
 * STORE, COPY/MOVE, EXPUNGE and APPEND.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-imap-client.h"
#include "tern-imap-command.h"
#include "tern-imap-parser.h"

G_BEGIN_DECLS

/* UIDs per UID FETCH, and commands in flight: a header sync of 100,000
 * messages is 100 commands, 4 on the wire at any time. */
#define FETCH_BATCH 1000
#define FETCH_IN_FLIGHT 4
/* Whole messages per UID FETCH of tern_imap_client_fetch_bodies(): small
 * enough that a stop is quick, large enough that commands are few. */
#define BODY_BATCH 100
/* Ranges per STORE/COPY/EXPUNGE command, to keep lines short. */
#define SET_BATCH 500

struct _TernImapClient
{
  GObject parent_instance;

  /* Owned references */
  TernConnection *connection;
  TernImapParser *parser;
  char *label;                  /* "host:port" for messages */

  TernImapClientEvents events;
  gpointer events_data;

  /* Session state */
  guint next_tag;
  GHashTable *capabilities;     /* upper-case names */
  GHashTable *enabled;          /* upper-case names */
  GHashTable *done;             /* tag -> TernImapResponse, answered early */
  gboolean authenticated;
  gboolean logging_out;
  char *bye_text;               /* the server said BYE */
  char *namespace_prefix;
  char namespace_delimiter;

  /* The selected mailbox; the sequence number -> UID map is kept only
   * when it is known (0 = unknown UID), else EXPUNGEs become EXISTS. */
  char *selected;
  guint32 exists;
  GArray *seq_uids;

  /* Set by the common handler when it reported an event (for IDLE). */
  gboolean event_seen;
};

/* Takes untagged data first; returns TRUE when it used the response. */
typedef gboolean (*UntaggedFunc) (TernImapClient   *self,
                                  TernImapResponse *response,
                                  gpointer          data);

gboolean          _tern_imap_client_condstore_on       (TernImapClient     *self);
TernImapCommand  *_tern_imap_client_command_new        (TernImapClient     *self,
                                                        const char         *what);
void              _tern_imap_client_set_response_error (TernImapClient     *self,
                                                        const char         *what,
                                                        TernImapResponse   *response,
                                                        GError            **error);
void              _tern_imap_client_note_fetch_uid     (TernImapClient     *self,
                                                        TernImapMessage    *message);
void              _tern_imap_client_handle_untagged    (TernImapClient     *self,
                                                        TernImapResponse   *response);
TernImapResponse *_tern_imap_client_read_response      (TernImapClient     *self,
                                                        GCancellable       *cancellable,
                                                        GError            **error);
TernImapResponse *_tern_imap_client_wait_tagged        (TernImapClient     *self,
                                                        const char         *tag,
                                                        UntaggedFunc        func,
                                                        gpointer            data,
                                                        GCancellable       *cancellable,
                                                        GError            **error);
gboolean          _tern_imap_client_send_command       (TernImapClient     *self,
                                                        TernImapCommand    *command,
                                                        TernImapResponse  **refusal,
                                                        GCancellable       *cancellable,
                                                        GError            **error);
gboolean          _tern_imap_client_run_command        (TernImapClient     *self,
                                                        TernImapCommand    *command,
                                                        UntaggedFunc        func,
                                                        gpointer            data,
                                                        TernImapResponse  **tagged,
                                                        GCancellable       *cancellable,
                                                        GError            **error);
gboolean          _tern_imap_client_run_simple         (TernImapClient     *self,
                                                        const char         *text,
                                                        GCancellable       *cancellable,
                                                        GError            **error);
gboolean          _tern_imap_client_send_line          (TernImapClient     *self,
                                                        const char         *line,
                                                        GCancellable       *cancellable,
                                                        GError            **error);

G_END_DECLS
