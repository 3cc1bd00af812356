/* tern-identity.h: the addresses an account sends from.
 *
 * An account's first identity is its own: the account's display name and
 * address, the account's signature ([composing] signature) and an
 * optional Reply-To ([composing] reply-to).  Then come the aliases the
 * user added, in that order, each a group of accounts.options named
 * "identity ADDRESS" with the keys name, reply-to and signature (no
 * signature: the account's).  No migration: the options column is the
 * account's, removed with it.
 *
 * A message written from an identity is sent through its account's
 * outgoing server with the identity's From and Reply-To; the outbox takes
 * the envelope sender (MAIL FROM) from the From, and the Sent copy and a
 * draft are those bytes, so both keep the identity.
 *
 * The store functions run a transaction or two each; options are only
 * changed from the main thread (see tern-account-options.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "tern-account.h"
#include "tern-store.h"

G_BEGIN_DECLS

#define TERN_TYPE_IDENTITY (tern_identity_get_type ())
G_DECLARE_FINAL_TYPE (TernIdentity, tern_identity, TERN, IDENTITY, GObject)

/* An alias of @account (not stored until tern_identities_save()). */
TernIdentity *tern_identity_new                 (TernAccount   *account,
                                                 const char    *display_name,
                                                 const char    *address);
TernAccount  *tern_identity_get_account         (TernIdentity  *self);
/* TRUE for the account's own address (the first identity). */
gboolean      tern_identity_is_primary          (TernIdentity  *self);
const char   *tern_identity_get_display_name    (TernIdentity  *self);
void          tern_identity_set_display_name    (TernIdentity  *self,
                                                 const char    *display_name);
const char   *tern_identity_get_address         (TernIdentity  *self);
void          tern_identity_set_address         (TernIdentity  *self,
                                                 const char    *address);
/* An address list as text ("Name <a@b>"); NULL: no Reply-To. */
const char   *tern_identity_get_reply_to        (TernIdentity  *self);
void          tern_identity_set_reply_to        (TernIdentity  *self,
                                                 const char    *reply_to);
/* The identity's own signature; NULL: the account's. */
const char   *tern_identity_get_signature       (TernIdentity  *self);
void          tern_identity_set_signature       (TernIdentity  *self,
                                                 const char    *signature);
/* What messages from the identity end with: its own signature, else the
 * account's as it was when the identity was loaded; NULL: none. */
const char   *tern_identity_get_message_signature (TernIdentity *self);
/* The From: "Name <address>", or the address alone. */
char         *tern_identity_dup_from            (TernIdentity  *self);
/* "Name <address>" as people read it, without the quotes and encoding
 * of a header. */
char         *tern_identity_dup_mailbox         (TernIdentity  *self);
/* "Name <address> — Account", for a list of every account's identities. */
char         *tern_identity_dup_label           (TernIdentity  *self);
/* TERN_APP_ERROR_INVALID naming what is wrong: no address, or one (or a
 * Reply-To) that does not parse. */
gboolean      tern_identity_validate            (TernIdentity  *self,
                                                 GError       **error);

/* The identities of @account, a GListModel of TernIdentity: its own
 * first, then its aliases. */
GListModel   *tern_identities_load   (TernStore     *store,
                                      TernAccount   *account,
                                      GError       **error);
/* Adds @identity to its account, or replaces the alias @old_address
 * (NULL: a new one).  An alias with the address of another identity of
 * the account is TERN_APP_ERROR_INVALID.  For the primary identity, its
 * Reply-To and signature are saved (its name and address are the
 * account's, edited with the account). */
gboolean      tern_identities_save   (TernStore     *store,
                                      TernIdentity  *identity,
                                      const char    *old_address,
                                      GError       **error);
/* Removes the alias @address of @account; the account's own address is
 * TERN_APP_ERROR_INVALID, an unknown one TERN_APP_ERROR_NOT_FOUND. */
gboolean      tern_identities_remove (TernStore     *store,
                                      TernAccount   *account,
                                      const char    *address,
                                      GError       **error);
/* The identity of @identities with @address (any case), or NULL. */
TernIdentity *tern_identities_find   (GListModel    *identities,
                                      const char    *address);
/* The identity a reply to (or forward of) @original goes out from: the
 * first one @original was sent to (To, then Cc, then Delivered-To and
 * X-Original-To), else the one that sent it (the user's own message),
 * else the first of @identities.  NULL only when @identities is empty. */
TernIdentity *tern_identities_for_message (GListModel   *identities,
                                           GMimeMessage *original);

G_END_DECLS
