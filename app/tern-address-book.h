/* tern-address-book.h: the people in the cache, for address completion.
 *
 * The senders and recipients (From, To, Cc) of the cached messages, each
 * address once under the name it was seen with most recently written,
 * ranked by how often it appears.  Loaded once from the store (one read
 * over the messages' header columns); completion then runs in memory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tern-store.h"

G_BEGIN_DECLS

#define TERN_TYPE_ADDRESS_BOOK (tern_address_book_get_type ())
G_DECLARE_FINAL_TYPE (TernAddressBook, tern_address_book, TERN, ADDRESS_BOOK, GObject)

TernAddressBook *tern_address_book_new      (void);
/* Reads the people from @store, replacing what was loaded. */
gboolean         tern_address_book_load     (TernAddressBook  *self,
                                             TernStore        *store,
                                             GError          **error);
/* Counts one appearance of "Name <address>" or "address". */
void             tern_address_book_add      (TernAddressBook  *self,
                                             const char       *name,
                                             const char       *address);
/* Up to @limit people whose address, name or a word of the name starts
 * with @prefix (case-insensitive, Cyrillic too), most frequent first, as
 * "Name <address>" (or the address alone), ready for a To field. */
GStrv            tern_address_book_complete (TernAddressBook  *self,
                                             const char       *prefix,
                                             guint             limit);

G_END_DECLS
