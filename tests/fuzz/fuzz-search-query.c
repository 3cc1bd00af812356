/* fuzz-search-query.c: libFuzzer target for the search query parser
 * (tern_search_query_parse() of app/tern-search.c), which reads what the
 * user types in the search bar or gives tern-cli search.
 *
 * Beyond not crashing, checks the parser's promise that user text reaches
 * FTS5 only inside double-quoted strings: outside them the expression
 * holds nothing but column filters, AND and the prefix star.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tern-search.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Outside quoted strings only "{column} : ", " AND " and " *" may be. */
static void
check_match (const char *match)
{
  static const char * const allowed[] = { "{sender} : ", "{recipients} : ", "{subject} : ",
                                          " AND ", " *" };
  const char *p = match;

  while (*p != '\0')
    {
      gboolean known = FALSE;

      if (*p == '"')
        {
          /* A quoted string; "" inside is a quote. */
          for (p++;; p++)
            {
              g_assert (*p != '\0');
              if (*p == '"' && p[1] == '"')
                p++;
              else if (*p == '"')
                break;
            }
          p++;
          continue;
        }
      for (guint i = 0; i < G_N_ELEMENTS (allowed) && !known; i++)
        if (g_str_has_prefix (p, allowed[i]))
          {
            p += strlen (allowed[i]);
            known = TRUE;
          }
      g_assert (known);
    }
}

static void
check (const char *text,
       gboolean    prefix)
{
  g_autoptr(TernSearchQuery) query = NULL;
  g_autoptr(GError) error = NULL;

  query = tern_search_query_parse (text, prefix, &error);
  if (query == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return;
    }
  if (tern_search_query_get_match (query) != NULL)
    check_match (tern_search_query_get_match (query));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The text is NUL-terminated: a NUL ends it.  As typed it is UTF-8,
   * but tern-cli passes its arguments on as they are. */
  g_autofree char *raw = g_strndup ((const char *) data, size);
  g_autofree char *valid = g_utf8_make_valid (raw, -1);

  check (valid, FALSE);
  check (valid, TRUE);
  check (raw, size % 2 == 0);
  return 0;
}
