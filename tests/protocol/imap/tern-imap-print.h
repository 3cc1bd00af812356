/* tern-imap-print.h: one line of text per parsed response, for the
 * tern-imap-parse tool, the transcript tests and the parser tests.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-imap-parser.h"

G_BEGIN_DECLS

char *tern_imap_print_response (const TernImapResponse *response);
char *tern_imap_print_body     (const TernImapBody     *body);

G_END_DECLS
