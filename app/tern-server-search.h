/* tern-server-search.h: "Search on server" for one folder, through IMAP
 * SEARCH, for mail whose bodies are not cached.
 *
 * The query is the one the local search parses (tern-search.h): words
 * become TEXT, from: and subject: FROM and SUBJECT, to: TO or CC, is:unread,
 * is:read and is:starred UNSEEN, SEEN and FLAGGED, before: and after:
 * SENTBEFORE and SENTSINCE (the Date header, as locally); has:attachment is
 * checked on the stored structure.  Non-ASCII words go as UTF-8 literals
 * (CHARSET UTF-8).  Messages the server finds that the store does not have
 * yet get their headers fetched (a headers-only sync of the account), so
 * the result can show them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-context.h"
#include "tern-message-list.h"

G_BEGIN_DECLS

/* Searches the IMAP folder @folder_id (a folder of the store) on its
 * server for @text (the syntax of tern_search_query_parse(), without
 * prefix matching), as a job of the folder's account in the context's
 * worker pool.  A query that does not parse fails with
 * TERN_APP_ERROR_INVALID before anything is sent; a folder of a POP3
 * account with G_IO_ERROR_NOT_SUPPORTED; a network failure is an error for
 * which tern_worker_error_is_network() is TRUE. */
void             tern_server_search_async  (TernContext          *context,
                                            gint64                folder_id,
                                            const char           *text,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
/* The messages of the folder the server found, newest first, as a live
 * list (it refreshes like any other when the store changes), or NULL with
 * @error. */
TernMessageList *tern_server_search_finish (TernContext          *context,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
