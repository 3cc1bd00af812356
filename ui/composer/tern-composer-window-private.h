/* tern-composer-window-private.h: what the composer window's files share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gmime/gmime.h>

#include "tern-address-book.h"
#include "tern-composer-window.h"

G_BEGIN_DECLS

struct _TernComposerWindow
{
  AdwApplicationWindow parent_instance;

  TernContext *context;
  TernComposer *composer;     /* NULL while a reply's message loads */
  GBindingGroup *bindings;    /* the fields <-> the composer */
  TernAddressBook *address_book;
  GListStore *identities;     /* of TernIdentity: the From list */
  gboolean loading_identities; /* the From list changes, not the user's choice */
  GArray *attachment_sizes;   /* guint64 per attachment of the composer */
  GCancellable *cancellable;

  gint64 draft_id;            /* the draft saved last, 0: none */
  gint64 opened_draft_id;     /* the draft this window was opened on */
  gboolean changed;           /* since the draft was saved last */
  gboolean sent;              /* queued: never again, never a draft */
  gboolean close_confirmed;
  guint save_timeout;

  GtkButton *send_button;
  GtkWidget *fields;
  GtkDropDown *from_dropdown;
  TernAddressEntry *to_entry;
  TernAddressEntry *cc_entry;
  TernAddressEntry *bcc_entry;
  GtkEntry *subject_entry;
  GtkTextView *body_view;
  GtkRevealer *attachments_revealer;
  GtkLabel *attachments_label;
  GtkListBox *attachment_list;
  GtkLabel *status_label;
  GtkRevealer *size_revealer; /* the message is larger than the server's SIZE */
  GtkLabel *size_label;
  guint64 size_limit;         /* of the From account's server, 0: unknown */
};

/* tern-composer-window.c */

/* Shows @composer in the fields; the window keeps a reference. */
void     _tern_composer_window_set_composer (TernComposerWindow *self,
                                             TernComposer       *composer);
void     _tern_composer_window_set_status   (TernComposerWindow *self,
                                             const char         *text,
                                             gboolean            is_error);
/* An attachment added to the composer by someone else (a draft). */
void     _tern_composer_window_track_attachment (TernComposerWindow *self,
                                                 guint64             size);
TernAccount *_tern_composer_window_lookup_account (TernComposerWindow *self,
                                                   gint64              account_id);

/* tern-composer-window-drafts.c */

/* The composer changed: saves a draft a few seconds after the last change. */
void     _tern_composer_window_changed       (TernComposerWindow *self);
void     _tern_composer_window_cancel_save   (TernComposerWindow *self);
/* A composer with the fields and attachments of the draft @bytes. */
TernComposer *_tern_composer_window_composer_from_draft (TernComposerWindow *self,
                                                         TernAccount        *account,
                                                         GBytes             *bytes);
/* @bytes parsed as a message (GMime), NULL when they are not one. */
GMimeMessage *_tern_composer_window_parse (GBytes *bytes);
/* Takes what the offline queue holds for @account to its server. */
void     _tern_composer_window_replay        (TernComposerWindow *self,
                                              TernAccount        *account);

/* tern-composer-window-signature.c */

/* The format and quote position of the preferences, for a composer the
 * window did not open from a draft. */
void     _tern_composer_window_apply_preferences (TernComposerWindow *self,
                                                  TernComposer       *composer);
/* The From identity's signature into the body (replacing the previous
 * identity's). */
void     _tern_composer_window_update_signature  (TernComposerWindow *self);

G_END_DECLS
