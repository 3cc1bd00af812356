/* test-html-filter.c: HTML mail prepared for WebKit, hostile input included.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tern-html-filter.h"

static char *
csp_meta (TernHtmlFilterFlags flags)
{
  return g_strdup_printf ("<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">",
                          tern_html_filter_get_csp (flags));
}

/* Filters @html and checks that the result is @expected after the policy,
 * that @n_removed elements went, and that the scanner finds nothing more to
 * remove in its own output. */
static void
assert_filtered (const char *html,
                 const char *expected,
                 guint       n_removed)
{
  g_autofree char *csp = csp_meta (TERN_HTML_FILTER_DEFAULT);
  g_autofree char *want = g_strconcat (csp, expected, NULL);
  g_autofree char *out = NULL;
  g_autofree char *again = NULL;
  guint removed = G_MAXUINT;
  guint removed_again = G_MAXUINT;

  g_test_message ("input: %s", html);
  out = tern_html_filter_prepare (html, TERN_HTML_FILTER_DEFAULT, &removed);
  g_assert_cmpstr (out, ==, want);
  g_assert_cmpuint (removed, ==, n_removed);
  again = tern_html_filter_prepare (out, TERN_HTML_FILTER_DEFAULT, &removed_again);
  g_assert_cmpuint (removed_again, ==, 0);
}

static void
test_policy (void)
{
  const char *local = tern_html_filter_get_csp (TERN_HTML_FILTER_DEFAULT);
  const char *remote = tern_html_filter_get_csp (TERN_HTML_FILTER_ALLOW_REMOTE);
  g_autofree char *out = tern_html_filter_prepare ("<p>x</p>", TERN_HTML_FILTER_ALLOW_REMOTE, NULL);
  g_autofree char *remote_meta = csp_meta (TERN_HTML_FILTER_ALLOW_REMOTE);

  g_assert_true (g_str_has_prefix (local, "default-src 'none'; script-src 'none';"));
  g_assert_nonnull (strstr (local, "img-src cid: data:;"));
  g_assert_nonnull (strstr (local, "style-src 'unsafe-inline' cid: data:;"));
  g_assert_null (strstr (local, "http"));
  g_assert_nonnull (strstr (remote, "img-src cid: data: http: https:;"));
  g_assert_nonnull (strstr (remote, "script-src 'none'"));
  g_assert_true (g_str_has_prefix (out, remote_meta));
}

static void
test_removes (void)
{
  assert_filtered ("<html><head><link rel=\"preconnect\" href=\"https://t.example\">"
                   "<link rel=stylesheet href=s.css></head><body>Hi</body></html>",
                   "<html><head><link rel=stylesheet href=s.css></head><body>Hi</body></html>", 1);
  assert_filtered ("<link rel=dns-prefetch href=//a><link rel=prefetch href=//b>"
                   "<link rel=prerender href=//c><link rel=preload as=image href=//d>"
                   "<link rel=modulepreload href=//e><link rel=\"icon preconnect\" href=//f>",
                   "", 6);
  assert_filtered ("<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">"
                   "<meta http-equiv=Content-Type content=\"text/html; charset=utf-8\">"
                   "<meta http-equiv=x-dns-prefetch-control content=on><meta name=viewport>",
                   "<meta http-equiv=Content-Type content=\"text/html; charset=utf-8\">"
                   "<meta name=viewport>",
                   2);
}

static void
test_doctype_first (void)
{
  g_autofree char *csp = csp_meta (TERN_HTML_FILTER_DEFAULT);
  g_autofree char *out = tern_html_filter_prepare ("\n<!DOCTYPE html><p>x", 0, NULL);
  g_autofree char *want = g_strconcat ("\n<!DOCTYPE html>", csp, "<p>x", NULL);
  g_autofree char *empty = tern_html_filter_prepare ("", 0, NULL);

  g_assert_cmpstr (out, ==, want);
  g_assert_cmpstr (empty, ==, csp);
}

static void
test_case_and_quoting (void)
{
  assert_filtered ("<LINK REL=PreConnect HREF=//a>", "", 1);
  assert_filtered ("<link\trel\n=\r'dns-prefetch'\fhref=//a>", "", 1);
  assert_filtered ("<link/rel=prefetch/href=//a>", "", 1);
  assert_filtered ("<link href=//a rel = \"x preload\" />", "", 1);
  /* A character reference could spell "preconnect". */
  assert_filtered ("<link rel=\"pre&#99;onnect\" href=//a>", "", 1);
  /* The second rel is ignored by browsers, but nothing is lost. */
  assert_filtered ("<link rel=icon rel=preconnect href=//a>", "", 1);
  /* Not a link: an attribute of another tag, or another tag name. */
  assert_filtered ("<a title='<link rel=preconnect href=//a>'>x</a>",
                   "<a title='<link rel=preconnect href=//a>'>x</a>", 0);
  assert_filtered ("<a<link rel=preconnect href=//a>x", "<a<link rel=preconnect href=//a>x", 0);
  assert_filtered ("<linked rel=preconnect>", "<linked rel=preconnect>", 0);
  /* A quote inside an unquoted value does not open a string. */
  assert_filtered ("<a title=x\"y><link rel=preconnect href=//a>\">", "<a title=x\"y>\">", 1);
  /* A tag the input ends inside is dropped, as the browser does. */
  assert_filtered ("<p>x<link rel=\"stylesheet href=//a>", "<p>x", 0);
}

static void
test_comments (void)
{
  /* A dropped comment must not join a '<' and a word into a tag. */
  assert_filtered ("<<!---->link rel=preconnect href=//a>", "&lt;link rel=preconnect href=//a>", 0);
  assert_filtered ("<!--><link rel=preconnect href=//a>", "", 1);
  assert_filtered ("<!---><link rel=preconnect href=//a>", "", 1);
  assert_filtered ("<!-- x --!><link rel=preconnect href=//a>", "", 1);
  assert_filtered ("<!-- <link rel=preconnect href=//a> -->ok", "ok", 0);
  assert_filtered ("<!-- never closed <link rel=preconnect href=//a>", "", 0);
  assert_filtered ("<![CDATA[ > <a title=\"]]><p><link rel=preconnect href=//a>\">",
                   "<p>\">", 1);
  assert_filtered ("<?xml version=\"1.0\"?><p>x", "<p>x", 0);
  assert_filtered ("</ x><link rel=preconnect href=//a>", "", 1);
  assert_filtered ("a < b </", "a &lt; b &lt;/", 0);
}

static void
test_raw_text (void)
{
  /* The browser's style ends at "</style>" inside the "attribute": the
   * link after it is real. */
  assert_filtered ("<style><a title=\"</style><link rel=preconnect href=//a>\"></style>",
                   "<style>&lt;a title=\"</style>\"></style>", 1);
  /* In SVG a style is markup that <p> breaks out of; no '<' survives in
   * raw text, so whichever way it is read there is no link. */
  assert_filtered ("<svg><style><p><link rel=preconnect href=//a></style></svg>",
                   "<svg><style>&lt;p>&lt;link rel=preconnect href=//a></style></svg>", 0);
  assert_filtered ("<title><meta http-equiv=refresh content=0></title>",
                   "<title>&lt;meta http-equiv=refresh content=0></title>", 0);
  assert_filtered ("<STYLE>p{}</Style\n><link rel=preconnect href=//a>",
                   "<STYLE>p{}</Style\n>", 1);
  assert_filtered ("<script>document.write('<link rel=preconnect href=//a>')</script>",
                   "<script>document.write('&lt;link rel=preconnect href=//a>')</script>", 0);
  assert_filtered ("<style>never closed <link rel=preconnect href=//a>",
                   "<style>never closed &lt;link rel=preconnect href=//a>", 0);
  /* noscript loses its tags so that its content is markup either way. */
  assert_filtered ("<noscript><link rel=prefetch href=//a><p>x</p></noscript>", "<p>x</p>", 1);
}

/* Random bytes and random markup never crash and keep the promise. */
static void
test_random (void)
{
  static const char *const pieces[] = {
    "<", ">", "</", "<!--", "-->", "<!", "<?", "\"", "'", "=", " ", "/", "link", "rel",
    "preconnect", "style", "</style>", "<![CDATA[", "]]>", "meta", "http-equiv", "refresh",
    "&#99;", "\n", "x", "<svg>", "<noscript>",
  };
  GRand *rand = g_rand_new_with_seed (7);

  for (guint round = 0; round < 2000; round++)
    {
      GString *html = g_string_new (NULL);
      g_autofree char *out = NULL;
      g_autofree char *again = NULL;
      guint removed = 0;

      for (guint i = g_rand_int_range (rand, 0, 40); i > 0; i--)
        g_string_append (html, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      out = tern_html_filter_prepare (html->str, 0, NULL);
      again = tern_html_filter_prepare (out, 0, &removed);
      if (removed != 0)
        g_test_message ("input: %s", html->str);
      g_assert_cmpuint (removed, ==, 0);
      g_string_free (html, TRUE);
    }
  g_rand_free (rand);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/app/html-filter/policy", test_policy);
  g_test_add_func ("/tern/app/html-filter/removes", test_removes);
  g_test_add_func ("/tern/app/html-filter/doctype-first", test_doctype_first);
  g_test_add_func ("/tern/app/html-filter/case-and-quoting", test_case_and_quoting);
  g_test_add_func ("/tern/app/html-filter/comments", test_comments);
  g_test_add_func ("/tern/app/html-filter/raw-text", test_raw_text);
  g_test_add_func ("/tern/app/html-filter/random", test_random);

  return g_test_run ();
}
