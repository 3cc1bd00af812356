/* tern-composer-private.h: what tern-composer.c and tern-composer-reply.c
 * share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-composer.h"

G_BEGIN_DECLS

/* GMime 3.2 declares no cleanup functions of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddress, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)

/* @message (RFC 5322 bytes) parsed; NULL when it is not a message. */
GMimeMessage *_tern_composer_parse_message (GBytes *data);

/* tern-composer-headers.c */

gboolean      _tern_composer_is_blank        (const char           *text);
/* The addresses of @text as the user typed them ("Name <a@b>, c@d"),
 * appended to @list; @n_mailboxes counts them.  An address that does not
 * parse is TERN_APP_ERROR_INVALID naming it. */
gboolean      _tern_composer_parse_addresses (const char           *text,
                                              InternetAddressList  *list,
                                              guint                *n_mailboxes,
                                              GError              **error);
/* Writes Subject, From, To, Cc and Bcc of @message (all set) encoded the
 * way every decoder reads them back (see the file). */
void          _tern_composer_encode_headers  (GMimeMessage         *message,
                                              const char           *subject);

/* tern-composer.c */

/* @text as valid UTF-8 with LF line endings (CRLF and CR converted),
 * ending in a line break unless empty. */
char         *_tern_composer_normalize_text (const char *text);

/* tern-composer-signature.c */

/* @body with @old_signature's block replaced by @new_signature's (either
 * NULL: none), or NULL when the body stays as it is. */
char         *_tern_composer_replace_signature (const char *body,
                                                const char *old_signature,
                                                const char *new_signature,
                                                gboolean    above);
/* Whether @body has @signature's block on lines of its own. */
gboolean      _tern_composer_has_signature     (const char *body,
                                                const char *signature);
/* The plain text as an HTML document: quotes as blockquotes. */
char         *_tern_composer_text_to_html      (const char *text);

G_END_DECLS
