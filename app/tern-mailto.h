/* tern-mailto.h: mailto: URIs (RFC 6068) into a message being written.
 *
 * "mailto:a@b,c@d?cc=e@f&subject=Hi%20there&body=..." fills To (the
 * addresses of the path and of every to=), Cc, Bcc, Subject and the body;
 * keys are case-insensitive, values percent-decoded and made valid UTF-8.
 * In-Reply-To is kept too, for "reply to this list post" links.
 *
 * A link comes from anywhere (a web page, another program), so it is
 * trusted with nothing: attach= and attachment= are ignored (a link must
 * not make Tern read /etc/passwd and send it), and so is any value that
 * is a file: or imap: URI; other headers are ignored; line breaks and
 * control characters in header fields become spaces, so "%0D%0ABcc:..."
 * in a subject cannot add a header; links longer than
 * TERN_MAILTO_MAX_LENGTH are refused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-composer.h"

G_BEGIN_DECLS

/* Far beyond what a person's link holds; a message body as long comes
 * from a program and is refused whole rather than cut. */
#define TERN_MAILTO_MAX_LENGTH (64 * 1024)

gboolean tern_mailto_is_mailto (const char    *uri);
/* Sets the fields of @composer that @uri gives (others are kept).
 * FALSE with TERN_APP_ERROR_INVALID when @uri is not a mailto: URI or is
 * too long; @composer is unchanged then. */
gboolean tern_mailto_apply     (TernComposer  *composer,
                                const char    *uri,
                                GError       **error);

G_END_DECLS
