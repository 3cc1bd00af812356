/* tern-html-filter.h: an HTML mail body made safe to hand to WebKit.
 *
 * Removes what fetches or navigates before any policy can refuse it:
 * <link rel=preconnect|prefetch|dns-prefetch|prerender|preload> (WebKit
 * opens those connections without asking the content blockers,
 * CVE-2025-66286) and <meta http-equiv=refresh>; and puts a strict
 * Content-Security-Policy <meta> before everything else.
 *
 * The scanner follows the HTML tokenizer's rules for tags, attributes,
 * quotes, comments and raw text, and errs on the side of removing: every
 * '<' it does not read as markup is written as "&lt;", so what WebKit
 * parses out of the result is exactly the markup the scanner has seen.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  TERN_HTML_FILTER_DEFAULT      = 0,
  /* The user allowed remote content: images, styles and fonts from
   * http(s) pass the policy (the removed elements stay removed). */
  TERN_HTML_FILTER_ALLOW_REMOTE = 1 << 0,
} TernHtmlFilterFlags;

/* The Content-Security-Policy that tern_html_filter_prepare() injects. */
const char *tern_html_filter_get_csp (TernHtmlFilterFlags  flags);

/* @html (UTF-8, NUL-terminated) prepared for WebKit.  @n_removed
 * (optional) receives how many elements were removed. */
char       *tern_html_filter_prepare (const char          *html,
                                      TernHtmlFilterFlags  flags,
                                      guint               *n_removed);

G_END_DECLS
