/* fuzz-html-filter.c: libFuzzer target for the HTML mail filter.
 *
 * Beyond not crashing, checks the filter's promise: its output holds no
 * markup that it would remove, read by the same scanner (every '<' it does
 * not take for markup is escaped, so WebKit reads the same tags), and the
 * policy comes before everything but a doctype.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tern-html-filter.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (const char          *html,
       TernHtmlFilterFlags  flags)
{
  g_autofree char *once = tern_html_filter_prepare (html, flags, NULL);
  g_autofree char *twice = NULL;
  g_autofree char *csp = g_strdup_printf ("<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">",
                                          tern_html_filter_get_csp (flags));
  const char *found = strstr (once, csp);
  const char *start = once;
  guint removed = 0;

  /* Only whitespace and doctypes may come before the policy. */
  while (g_ascii_isspace (*start))
    start++;
  g_assert_nonnull (found);
  g_assert_true (found == start || g_ascii_strncasecmp (start, "<!doctype", 9) == 0);
  twice = tern_html_filter_prepare (once, flags, &removed);
  g_assert_cmpuint (removed, ==, 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The filter reads NUL-terminated UTF-8 text; a NUL ends it. */
  g_autofree char *html = g_strndup ((const char *) data, size);

  check (html, TERN_HTML_FILTER_DEFAULT);
  check (html, TERN_HTML_FILTER_ALLOW_REMOTE);
  return 0;
}
