/* tern-imap-idle.h: push notifications for one IMAP folder.
 *
 * A TernImapIdle keeps a connection of its own (never the account's
 * command connection) on one folder, in IDLE, re-issued before the
 * server's 30-minute limit; on a server without IDLE it polls with NOOP.
 * New messages have their headers fetched and stored (when the folder is
 * in the store), then are announced; expunges and flag changes are
 * announced as they come.  Signals are emitted on the main context of the
 * thread that called tern_imap_idle_start().  A lost connection is
 * reconnected after a backoff; a refused login stops the watcher with
 * TernImapIdle:last-error set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-account.h"
#include "tern-context.h"

G_BEGIN_DECLS

#define TERN_TYPE_IMAP_IDLE (tern_imap_idle_get_type ())
G_DECLARE_FINAL_TYPE (TernImapIdle, tern_imap_idle, TERN, IMAP_IDLE, GObject)

/* @folder NULL: INBOX. */
TernImapIdle *tern_imap_idle_new            (TernContext   *context,
                                             TernAccount   *account,
                                             const char    *folder);
const char   *tern_imap_idle_get_folder     (TernImapIdle  *self);
/* How long one IDLE lasts before it is re-issued (default 28 minutes),
 * how often a server without IDLE is polled (default 60 s), and the first
 * reconnect delay (default 5 s, doubling to 5 minutes).  Before start. */
void          tern_imap_idle_set_intervals  (TernImapIdle  *self,
                                             guint          idle_seconds,
                                             guint          poll_seconds,
                                             guint          reconnect_ms);
/* FALSE polls with NOOP even when the server offers IDLE (for servers
 * whose IDLE is broken).  Before start. */
void          tern_imap_idle_set_use_idle   (TernImapIdle  *self,
                                             gboolean       use_idle);
/* Whether IDLE is in use (known once connected). */
gboolean      tern_imap_idle_get_uses_idle  (TernImapIdle  *self);
gboolean      tern_imap_idle_get_connected  (TernImapIdle  *self);
const char   *tern_imap_idle_get_last_error (TernImapIdle  *self);
/* TRUE from start until stop, or until an error that retrying cannot fix
 * (a refused login): then last-error says why. */
gboolean      tern_imap_idle_get_running    (TernImapIdle  *self);
/* How many IDLE commands were issued so far. */
guint         tern_imap_idle_get_cycles     (TernImapIdle  *self);

void          tern_imap_idle_start          (TernImapIdle  *self);
/* Cancels and waits for the watcher's thread; no signal is emitted after
 * this returns. */
void          tern_imap_idle_stop           (TernImapIdle  *self);

G_END_DECLS
