/* tern-composer.h: a message being written, and the RFC 5322 message it
 * becomes.
 *
 * TernComposer holds what the user typed: the sender, the To, Cc and Bcc
 * fields as text (kept as typed; parsed with GMime only when the message is
 * built), the subject, the plain text body and an optional HTML
 * alternative, attachments, inline images referenced by Content-ID from the
 * HTML, and In-Reply-To/References for replies.  Every field is a property
 * with notify, for a window to bind to.
 *
 * tern_composer_build() makes the GMimeMessage:
 *
 *   text/plain; charset=utf-8                   (body only)
 *   multipart/alternative (plain, html)         (with an HTML body)
 *   ... (plain, multipart/related (html, images))  (with inline images)
 *   multipart/mixed (the above, attachments...) (with attachments)
 *
 * with Date (now), a Message-ID on the sender's domain and User-Agent.
 * Inline images without an HTML body are attached instead.  The Bcc field
 * stays in the message (a draft keeps it); tern_outbox_enqueue() removes it
 * from what is transmitted.  Problems with what the user gave (no sender,
 * no recipient, an address that does not parse, an attachment that cannot
 * be read) are TERN_APP_ERROR_INVALID with a sentence naming the input.
 *
 * tern_composer_new_reply() starts a reply, reply to all or forward of a
 * message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "tern-account.h"
#include "tern-identity.h"

G_BEGIN_DECLS

typedef enum {
  TERN_REPLY_MODE_REPLY,              /* to Reply-To, else From                     */
  TERN_REPLY_MODE_REPLY_ALL,          /* and To and Cc, without the account's own   */
  TERN_REPLY_MODE_FORWARD_INLINE,     /* the text below a header block, attachments */
  TERN_REPLY_MODE_FORWARD_ATTACHMENT, /* the original as a message/rfc822 part      */
} TernReplyMode;

#define TERN_TYPE_COMPOSER (tern_composer_get_type ())
G_DECLARE_FINAL_TYPE (TernComposer, tern_composer, TERN, COMPOSER, GObject)

TernComposer *tern_composer_new                (void);
/* A message from @account (its display name and address). */
TernComposer *tern_composer_new_for_account    (TernAccount    *account);
/* A reply to, or a forward of, @original, from @account: recipients,
 * subject ("Re: ", "Fwd: " not repeated), In-Reply-To, References and the
 * quoted or forwarded text. */
TernComposer *tern_composer_new_reply          (TernAccount    *account,
                                                GMimeMessage   *original,
                                                TernReplyMode   mode);
/* A message from @identity: its account, From and Reply-To. */
TernComposer *tern_composer_new_for_identity   (TernIdentity   *identity);
/* The same reply or forward from the identity of @identities (one
 * account's, tern_identities_load()) the original was sent to (see
 * tern_identities_for_message()); a reply to all leaves out every one of
 * @identities' addresses. */
TernComposer *tern_composer_new_reply_from     (GListModel     *identities,
                                                GMimeMessage   *original,
                                                TernReplyMode   mode);

TernAccount  *tern_composer_get_account        (TernComposer   *self);
/* Also sets From to the account's name and address; the identity, if
 * any, and its Reply-To go. */
void          tern_composer_set_account        (TernComposer   *self,
                                                TernAccount    *account);
/* NULL when From is the account's own (tern_composer_set_account()) or
 * was typed. */
TernIdentity *tern_composer_get_identity       (TernComposer   *self);
/* Sets the account, From and Reply-To to @identity's; the signature is
 * the caller's (tern_identity_get_message_signature()). */
void          tern_composer_set_identity       (TernComposer   *self,
                                                TernIdentity   *identity);
/* "Name <address>" or "address", as the user wrote it. */
const char   *tern_composer_get_from           (TernComposer   *self);
void          tern_composer_set_from           (TernComposer   *self,
                                                const char     *from);
/* Addresses replies should go to, as text; NULL: none (replies go to
 * From). */
const char   *tern_composer_get_reply_to       (TernComposer   *self);
void          tern_composer_set_reply_to       (TernComposer   *self,
                                                const char     *reply_to);
/* Address lists as text: "Name <a@b>, c@d". */
const char   *tern_composer_get_to             (TernComposer   *self);
void          tern_composer_set_to             (TernComposer   *self,
                                                const char     *to);
const char   *tern_composer_get_cc             (TernComposer   *self);
void          tern_composer_set_cc             (TernComposer   *self,
                                                const char     *cc);
const char   *tern_composer_get_bcc            (TernComposer   *self);
void          tern_composer_set_bcc            (TernComposer   *self,
                                                const char     *bcc);
const char   *tern_composer_get_subject        (TernComposer   *self);
void          tern_composer_set_subject        (TernComposer   *self,
                                                const char     *subject);
/* The plain text, UTF-8, any line endings. */
const char   *tern_composer_get_body           (TernComposer   *self);
void          tern_composer_set_body           (TernComposer   *self,
                                                const char     *body);
/* NULL: no HTML alternative. */
const char   *tern_composer_get_html_body      (TernComposer   *self);
void          tern_composer_set_html_body      (TernComposer   *self,
                                                const char     *html_body);
/* Message-IDs without angle brackets; References separated by spaces. */
const char   *tern_composer_get_in_reply_to    (TernComposer   *self);
void          tern_composer_set_in_reply_to    (TernComposer   *self,
                                                const char     *message_id);
const char   *tern_composer_get_references     (TernComposer   *self);
void          tern_composer_set_references     (TernComposer   *self,
                                                const char     *references);

/* The account's signature, below "-- " in the body: setting another one
 * replaces the block the previous one put in, unless the user edited it;
 * a body that already ends in the block (a draft) is left alone.  NULL:
 * none. */
const char   *tern_composer_get_signature      (TernComposer   *self);
void          tern_composer_set_signature      (TernComposer   *self,
                                                const char     *signature);
/* For a draft reopened: records @signature as the body's when the body
 * has its block, without changing the body (so that a new sender replaces
 * it); FALSE, and nothing recorded, when it does not. */
gboolean      tern_composer_adopt_signature    (TernComposer   *self,
                                                const char     *signature);
/* TRUE: the user writes above the quoted or forwarded text (forwards, and
 * replies when the user top-posts; setting it on a reply moves the quote
 * down).  The signature goes below the user's text either way. */
gboolean      tern_composer_get_text_above_quote (TernComposer *self);
void          tern_composer_set_text_above_quote (TernComposer *self,
                                                  gboolean      above);
/* TRUE: without an HTML body of its own, the message carries an HTML
 * alternative made from the plain text (the user's "HTML" preference). */
gboolean      tern_composer_get_html_from_text (TernComposer   *self);
void          tern_composer_set_html_from_text (TernComposer   *self,
                                                gboolean        html);

/* Attachments, in order.  A file is read when the message is built; its
 * content type is guessed then when @content_type is NULL.  Returns the
 * attachment's index. */
guint         tern_composer_add_attachment       (TernComposer *self,
                                                  GFile        *file,
                                                  const char   *content_type);
/* @content_type NULL: guessed from @filename and the data.
 * "message/rfc822" attaches @data as a message. */
guint         tern_composer_add_attachment_bytes (TernComposer *self,
                                                  GBytes       *data,
                                                  const char   *filename,
                                                  const char   *content_type);
/* An image the HTML body shows as <img src="cid:...">.  Returns its
 * Content-ID (without "cid:" or angle brackets), owned by @self. */
const char   *tern_composer_add_inline_image     (TernComposer *self,
                                                  GBytes       *data,
                                                  const char   *filename,
                                                  const char   *content_type);
guint         tern_composer_get_n_attachments    (TernComposer *self);
/* The file name an attachment will have. */
const char   *tern_composer_get_attachment_name  (TernComposer *self,
                                                  guint         index);
void          tern_composer_remove_attachment    (TernComposer *self,
                                                  guint         index);

GMimeMessage *tern_composer_build    (TernComposer  *self,
                                      GError       **error);
/* The built message as RFC 5322 bytes with CRLF line endings, Bcc
 * included: what tern_outbox_enqueue() takes. */
GBytes       *tern_composer_to_bytes (TernComposer  *self,
                                      GError       **error);
/* The same for a draft, which may have no recipient yet (nor a subject):
 * tern_outbox_enqueue() still refuses it. */
GBytes       *tern_composer_to_draft_bytes (TernComposer  *self,
                                            GError       **error);

G_END_DECLS
