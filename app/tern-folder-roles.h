/* tern-folder-roles.h: what a folder is for (inbox, sent, trash, ...).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "tern-imap-types.h"

G_BEGIN_DECLS

/* The role of the mailbox @name (full hierarchical name, UTF-8) with LIST
 * @attributes: SPECIAL-USE first, otherwise the usual English and localized
 * names of the top-level (or "[Gmail]/", "INBOX/") folders.  Returns one of
 * the strings the store's folders.role column allows ("inbox", "drafts",
 * "sent", "trash", "junk", "archive", "all", "flagged"), or NULL. */
const char *tern_folder_role_guess (const char                *name,
                                    char                       delimiter,
                                    TernImapMailboxAttributes  attributes);

G_END_DECLS
