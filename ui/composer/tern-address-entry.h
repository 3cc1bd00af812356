/* tern-address-entry.h: an entry for a list of addresses, completing the
 * one being typed from a TernAddressBook in a popover below it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tern-address-book.h"

G_BEGIN_DECLS

#define TERN_TYPE_ADDRESS_ENTRY (tern_address_entry_get_type ())
G_DECLARE_FINAL_TYPE (TernAddressEntry, tern_address_entry, TERN, ADDRESS_ENTRY, GtkWidget)

GtkWidget *tern_address_entry_new              (void);
/* The entry itself, whose "text" holds the addresses. */
GtkEntry  *tern_address_entry_get_entry        (TernAddressEntry *self);
void       tern_address_entry_set_address_book (TernAddressEntry *self,
                                                TernAddressBook  *address_book);
/* The completions shown for what is being typed (empty: none), for tests. */
GListModel *tern_address_entry_get_completions (TernAddressEntry *self);
/* Takes completion @position: the address being typed becomes it. */
void       tern_address_entry_complete         (TernAddressEntry *self,
                                                guint             position);

G_END_DECLS
