/* tern-test-store.h: a store filled by direct writes, as a sync would fill
 * it, for tests of what reads the store (lists, views) without a server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-mail-store-private.h"

G_BEGIN_DECLS

/* Runs @sql (statements separated by ';') in one write transaction of
 * @store, asserting it succeeds. */
void                tern_test_store_exec        (TernStore  *store,
                                                 const char *sql);
/* Adds an IMAP account row with id @id straight into @store (no
 * TernAccount, no keyring): what the rows of messages need. */
void                tern_test_store_add_account (TernStore  *store,
                                                 gint64      id);
/* Adds a subscribed folder @name ('/' delimiter) to account @account_id;
 * returns its id. */
gint64              tern_test_store_add_folder  (TernStore  *store,
                                                 gint64      account_id,
                                                 const char *name);
/* Stores @messages (TernMailNewMessage) in folder @folder_id as a sync
 * would; every one must be new. */
void                tern_test_store_add_messages (TernStore *store,
                                                  gint64     folder_id,
                                                  GPtrArray *messages);
/* A message as the sync would decode it: from "@from <@from@example.org>"
 * to me@example.org, dated @date, Message-ID <@uid.@date@test>;
 * @reply_to: the Message-ID it answers (threads), or NULL. */
TernMailNewMessage *tern_test_new_message       (guint32     uid,
                                                 gint64      date,
                                                 const char *from,
                                                 const char *subject,
                                                 const char *reply_to);

G_END_DECLS
