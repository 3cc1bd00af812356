/* test-imap-parser.c: the IMAP response parser, the set and modified UTF-7
 * helpers: every grammar element with exact fields, byte-at-a-time
 * feeding, literal streaming, limits, and random input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include <string.h>

#include "tern-imap-client.h"
#include "tern-imap-parser.h"
#include "tern-imap-print.h"
#include "test-fake-server.h"

/* Helpers */

static void
bytes_insert (GByteArray   *array,
              guint         pos,
              const guint8 *data,
              guint         len)
{
  guint old = array->len;

  g_byte_array_set_size (array, old + len);
  memmove (array->data + pos + len, array->data + pos, old - pos);
  memcpy (array->data + pos, data, len);
}

static GPtrArray *
parse_all (TernImapParser *parser,
           const char     *text,
           gsize           len,
           gsize           chunk,
           GError        **error)
{
  GPtrArray *responses = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_response_free);

  for (gsize pos = 0; pos < len; pos += chunk)
    {
      TernImapResponse *r;
      gboolean ok = tern_imap_parser_feed (parser, text + pos, MIN (chunk, len - pos), error);

      while ((r = tern_imap_parser_pop (parser)) != NULL)
        g_ptr_array_add (responses, r);
      if (!ok)
        break;
    }
  return responses;
}

static TernImapResponse *
parse_one (const char *text)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) responses = parse_all (parser, text, strlen (text), 4096, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (responses->len, ==, 1);
  g_assert_cmpuint (tern_imap_parser_get_buffered (parser), ==, 0);
  return g_ptr_array_steal_index (responses, 0);
}

/* Feeds @text and returns the error's offset (the test fails without one). */
static guint64
parse_error_offset (TernImapParser *parser,
                    const char     *text,
                    gsize           len,
                    gsize           chunk)
{
  g_autoptr(GError) error = NULL;

  g_ptr_array_unref (parse_all (parser, text, len, chunk, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "byte"));
  return tern_imap_parser_get_error_offset (parser);
}

static char *
print_all (const char *text,
           gsize       len,
           gsize       chunk)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) responses = parse_all (parser, text, len, chunk, &error);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < responses->len; i++)
    {
      g_autofree char *line = tern_imap_print_response (g_ptr_array_index (responses, i));
      g_string_append_printf (out, "%s\n", line);
    }
  if (error != NULL)
    g_string_append_printf (out, "error at %" G_GUINT64_FORMAT ": %s\n",
                            tern_imap_parser_get_error_offset (parser), error->message);
  return g_string_free (out, FALSE);
}

/* Sets */

static void
test_set_parse (void)
{
  g_autoptr(TernImapSet) set = tern_imap_set_parse ("1:5,9,12:*");
  g_autofree char *text = NULL;
  const char *bad[] = { "", "0", "1:", ":1", "a", "1,,2", "1,", "4294967296", "1:5x", " 1", "1 2" };

  g_assert_nonnull (set);
  g_assert_cmpuint (set->ranges->len, ==, 3);
  g_assert_cmpuint (g_array_index (set->ranges, TernImapRange, 0).first, ==, 1);
  g_assert_cmpuint (g_array_index (set->ranges, TernImapRange, 0).last, ==, 5);
  g_assert_cmpuint (g_array_index (set->ranges, TernImapRange, 1).first, ==, 9);
  g_assert_cmpuint (g_array_index (set->ranges, TernImapRange, 2).first, ==, 12);
  g_assert_cmpuint (g_array_index (set->ranges, TernImapRange, 2).last, ==, G_MAXUINT32);
  g_assert_true (tern_imap_set_contains (set, 3));
  g_assert_false (tern_imap_set_contains (set, 6));
  g_assert_true (tern_imap_set_contains (set, 9));
  g_assert_false (tern_imap_set_contains (set, 11));
  g_assert_true (tern_imap_set_contains (set, 4000000000u));
  g_assert_cmpuint (tern_imap_set_count (set), ==, 5 + 1 + ((guint64) G_MAXUINT32 - 12 + 1));
  text = tern_imap_set_to_string (set);
  g_assert_cmpstr (text, ==, "1:5,9,12:*");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_null (tern_imap_set_parse (bad[i]));
}

static void
test_set_merge (void)
{
  g_autoptr(TernImapSet) set = tern_imap_set_new ();
  g_autoptr(TernImapSet) reversed = tern_imap_set_parse ("7:3,2,20,1");
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;

  g_assert_true (tern_imap_set_is_empty (set));
  tern_imap_set_add (set, 10);
  tern_imap_set_add (set, 12);
  tern_imap_set_add (set, 11);
  tern_imap_set_add_range (set, 1, 3);
  tern_imap_set_add (set, 4);
  tern_imap_set_add_range (set, 20, 15);
  tern_imap_set_add (set, 30);
  tern_imap_set_add_range (set, 2, 11);
  text = tern_imap_set_to_string (set);
  g_assert_cmpstr (text, ==, "1:12,15:20,30");
  g_assert_cmpuint (tern_imap_set_count (set), ==, 12 + 6 + 1);
  text2 = tern_imap_set_to_string (reversed);
  g_assert_cmpstr (text2, ==, "1:7,20");
}

/* Modified UTF-7 */

static void
test_utf7 (void)
{
  const struct
  {
    const char *utf8;
    const char *mutf7;
  } cases[] = {
    { "INBOX", "INBOX" },
    { "&", "&-" },
    { "Входящие", "&BBIERQQ+BDQETwRJBDgENQ-" },
    { "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
    { "A&B ä ö", "A&-B &AOQ- &APY-" },
    { "😀 emoji", "&2D3eAA- emoji" },
    { "", "" },
  };
  const char *bad[] = {
    "&",            /* unterminated */
    "Work & Play",  /* "&" written directly */
    "&AGE",         /* unterminated */
    "&AGE-&AGE-",   /* two runs where one belongs */
    "&AEE-",        /* encoded ASCII "A" */
    "&AOQ",         /* no "-" */
    "&AOQA-",       /* leftover bits not zero / too many */
    "&AO-",         /* a partial UTF-16 unit */
    "&2D0-",        /* a lone high surrogate */
    "&3gA-",        /* a lone low surrogate */
    "&A!Q-",        /* not base64 */
    "caf\xc3\xa9",  /* 8-bit directly */
    "tab\there",    /* control character */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *enc = tern_imap_utf7_encode (cases[i].utf8);
      g_autofree char *dec = tern_imap_utf7_decode (cases[i].mutf7);

      g_assert_cmpstr (enc, ==, cases[i].mutf7);
      g_assert_cmpstr (dec, ==, cases[i].utf8);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *dec = tern_imap_utf7_decode (bad[i]);

      if (dec != NULL)
        g_error ("\"%s\" decoded to \"%s\"", bad[i], dec);
    }
}

static void
test_utf7_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  /* Random strings of BMP and astral characters survive a round trip. */
  for (int i = 0; i < 2000; i++)
    {
      GString *s = g_string_new (NULL);
      g_autofree char *utf8 = NULL;
      g_autofree char *enc = NULL;
      g_autofree char *dec = NULL;
      int n = g_rand_int_range (rand, 0, 12);

      for (int j = 0; j < n; j++)
        {
          gunichar c;

          do
            c = (gunichar) g_rand_int_range (rand, 1, g_rand_boolean (rand) ? 0x80 : 0x20000);
          while (!g_unichar_validate (c));
          g_string_append_unichar (s, c);
        }
      utf8 = g_string_free (s, FALSE);
      enc = tern_imap_utf7_encode (utf8);
      dec = tern_imap_utf7_decode (enc);
      g_assert_cmpstr (dec, ==, utf8);
    }
}

/* Responses */

static void
test_greeting (void)
{
  g_autoptr(TernImapResponse) r =
    parse_one ("* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN idle] Dovecot ready.\r\n");

  g_assert_cmpint (r->kind, ==, TERN_IMAP_RESPONSE_UNTAGGED);
  g_assert_cmpint (r->status, ==, TERN_IMAP_RESPONSE_STATUS_OK);
  g_assert_cmpint (r->code, ==, TERN_IMAP_CODE_CAPABILITY);
  g_assert_cmpstr (r->code_name, ==, "CAPABILITY");
  g_assert_cmpuint (r->capabilities->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (r->capabilities, 3), ==, "IDLE");
  g_assert_true (tern_imap_response_has_capability (r, "auth=plain"));
  g_assert_false (tern_imap_response_has_capability (r, "STARTTLS"));
  g_assert_cmpstr (r->text, ==, "Dovecot ready.");
}

static void
test_tagged_and_continuation (void)
{
  g_autoptr(TernImapResponse) t = parse_one ("a001 NO [TRYCREATE] No such mailbox\r\n");
  g_autoptr(TernImapResponse) c = parse_one ("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n");
  g_autoptr(TernImapResponse) c2 = parse_one ("+\r\n");
  g_autoptr(TernImapResponse) bye = parse_one ("* BYE\r\n");
  g_autoptr(TernImapResponse) other = parse_one ("* 3 XFOO (a {3}\r\nb c) d\r\n");

  g_assert_cmpint (t->kind, ==, TERN_IMAP_RESPONSE_TAGGED);
  g_assert_cmpstr (t->tag, ==, "a001");
  g_assert_cmpint (t->status, ==, TERN_IMAP_RESPONSE_STATUS_NO);
  g_assert_cmpint (t->code, ==, TERN_IMAP_CODE_TRYCREATE);
  g_assert_cmpstr (t->text, ==, "No such mailbox");

  g_assert_cmpint (c->kind, ==, TERN_IMAP_RESPONSE_CONTINUATION);
  g_assert_true (g_str_has_prefix (c->text, "YGgGCSqG"));
  g_assert_cmpint (c2->kind, ==, TERN_IMAP_RESPONSE_CONTINUATION);
  g_assert_cmpstr (c2->text, ==, "");
  g_assert_cmpint (bye->status, ==, TERN_IMAP_RESPONSE_STATUS_BYE);

  g_assert_cmpint (other->data, ==, TERN_IMAP_DATA_OTHER);
  g_assert_cmpstr (other->name, ==, "XFOO");
  g_assert_cmpuint (other->number, ==, 3);
}

static void
test_codes (void)
{
  g_autoptr(TernImapResponse) copy = parse_one ("a2 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
  g_autoptr(TernImapResponse) append = parse_one ("a3 OK [APPENDUID 38505 3955] APPEND completed\r\n");
  g_autoptr(TernImapResponse) perm = parse_one ("* OK [PERMANENTFLAGS (\\Deleted \\Seen $Junk Work \\*)] Limited\r\n");
  g_autoptr(TernImapResponse) modified = parse_one ("a4 OK [MODIFIED 7,9:10] Conditional STORE failed\r\n");
  g_autoptr(TernImapResponse) hms = parse_one ("* OK [HIGHESTMODSEQ 715194045007] Highest\r\n");
  g_autoptr(TernImapResponse) referral = parse_one ("a5 NO [REFERRAL imap://x.example/INBOX] Go away\r\n");
  g_autoptr(TernImapResponse) unknown = parse_one ("* NO [XFOO bar baz] Unknown\r\n");
  g_autoptr(TernImapResponse) badcs = parse_one ("a6 NO [BADCHARSET (UTF-8 \"KOI8-R\")] No\r\n");
  g_autoptr(TernImapResponse) rfc5530 = parse_one ("a7 NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  g_autoptr(TernImapResponse) notext = parse_one ("a8 OK [READ-WRITE]\r\n");
  g_autofree char *src = tern_imap_set_to_string (copy->code_source_set);
  g_autofree char *dst = tern_imap_set_to_string (copy->code_set);
  g_autofree char *mod = tern_imap_set_to_string (modified->code_set);

  g_assert_cmpint (copy->code, ==, TERN_IMAP_CODE_COPYUID);
  g_assert_cmpuint (copy->code_number, ==, 38505);
  g_assert_cmpstr (src, ==, "304,319:320");
  g_assert_cmpstr (dst, ==, "3956:3958");
  g_assert_cmpstr (copy->code_text, ==, "38505 304,319:320 3956:3958");

  g_assert_cmpint (append->code, ==, TERN_IMAP_CODE_APPENDUID);
  g_assert_cmpuint (append->code_number, ==, 38505);
  g_assert_true (tern_imap_set_contains (append->code_set, 3955));
  g_assert_cmpuint (tern_imap_set_count (append->code_set), ==, 1);

  g_assert_cmpint (perm->code, ==, TERN_IMAP_CODE_PERMANENTFLAGS);
  g_assert_cmpuint (perm->flags, ==, TERN_IMAP_FLAG_DELETED | TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_JUNK);
  g_assert_cmpuint (perm->keywords->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (perm->keywords, 0), ==, "Work");
  g_assert_true (perm->permanent_any);

  g_assert_cmpstr (mod, ==, "7,9:10");
  g_assert_cmpuint (hms->code_modseq, ==, 715194045007);
  g_assert_cmpint (referral->code, ==, TERN_IMAP_CODE_REFERRAL);
  g_assert_cmpstr (referral->code_text, ==, "imap://x.example/INBOX");
  g_assert_cmpint (unknown->code, ==, TERN_IMAP_CODE_UNKNOWN);
  g_assert_cmpstr (unknown->code_name, ==, "XFOO");
  g_assert_cmpstr (unknown->code_text, ==, "bar baz");
  g_assert_cmpstr (unknown->text, ==, "Unknown");
  g_assert_cmpuint (badcs->code_strings->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (badcs->code_strings, 1), ==, "KOI8-R");
  g_assert_cmpint (rfc5530->code, ==, TERN_IMAP_CODE_AUTHENTICATIONFAILED);
  g_assert_cmpint (notext->code, ==, TERN_IMAP_CODE_READ_WRITE);
  g_assert_cmpstr (notext->text, ==, "");
}

static void
test_envelope (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 12 FETCH (UID 99 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
    "\"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
    "((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) "
    "NIL \"<B27397-0100000@cac.washington.edu>\"))\r\n");
  TernImapEnvelope *e;
  TernImapAddress *a;

  g_assert_cmpint (r->data, ==, TERN_IMAP_DATA_FETCH);
  g_assert_cmpuint (r->message->seq, ==, 12);
  g_assert_cmpuint (r->message->uid, ==, 99);
  g_assert_cmpuint (r->message->present, ==, TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_ENVELOPE);
  e = r->message->envelope;
  g_assert_cmpstr (e->date, ==, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
  g_assert_cmpstr (e->subject, ==, "IMAP4rev1 WG mtg summary and minutes");
  g_assert_cmpuint (e->from->len, ==, 1);
  a = g_ptr_array_index (e->from, 0);
  g_assert_cmpstr (a->name, ==, "Terry Gray");
  g_assert_null (a->adl);
  g_assert_cmpstr (a->mailbox, ==, "gray");
  g_assert_cmpstr (a->host, ==, "cac.washington.edu");
  g_assert_cmpuint (e->cc->len, ==, 2);
  a = g_ptr_array_index (e->cc, 1);
  g_assert_cmpstr (a->name, ==, "John Klensin");
  g_assert_cmpstr (a->mailbox, ==, "KLENSIN");
  /* A group: start has mailbox and no host, end has neither. */
  g_assert_cmpuint (e->bcc->len, ==, 2);
  a = g_ptr_array_index (e->bcc, 0);
  g_assert_cmpstr (a->mailbox, ==, "undisclosed");
  g_assert_null (a->host);
  a = g_ptr_array_index (e->bcc, 1);
  g_assert_null (a->mailbox);
  g_assert_null (a->host);
  g_assert_null (e->in_reply_to);
  g_assert_cmpstr (e->message_id, ==, "<B27397-0100000@cac.washington.edu>");
}

/* Sender and Reply-To repeating From are the same list (a reference);
 * others, and lists with literals, are read on their own. */
static void
test_envelope_shared_lists (void)
{
  g_autoptr(TernImapResponse) same = parse_one (
    "* 1 FETCH (ENVELOPE (NIL \"s\" ((\"A\" NIL \"a\" \"x.org\")) ((\"A\" NIL \"a\" \"x.org\")) "
    "((\"A\" NIL \"a\" \"x.org\")) ((\"A\" NIL \"a\" \"x.org\")) NIL NIL NIL NIL))\r\n");
  g_autoptr(TernImapResponse) longer = parse_one (
    "* 2 FETCH (ENVELOPE (NIL \"s\" ((\"A\" NIL \"a\" \"x.org\")) "
    "((\"A\" NIL \"a\" \"x.org\")(\"B\" NIL \"b\" \"x.org\")) "
    "((\"A\" NIL \"a\" \"x.orgy\")) NIL NIL NIL NIL NIL))\r\n");
  g_autoptr(TernImapResponse) literal = parse_one (
    "* 3 FETCH (ENVELOPE (NIL \"s\" (({1}\r\nA NIL \"a\" \"x.org\")) (({1}\r\nA NIL \"a\" \"x.org\")) "
    "NIL NIL NIL NIL NIL NIL))\r\n");
  TernImapEnvelope *e = same->message->envelope;
  TernImapAddress *a;

  g_assert_true (e->sender == e->from);
  g_assert_true (e->reply_to == e->from);
  /* To is never shared, even when it is the same. */
  g_assert_false (e->to == e->from);
  g_assert_cmpuint (e->to->len, ==, 1);
  a = g_ptr_array_index (e->from, 0);
  g_assert_cmpstr (a->name, ==, "A");
  g_assert_cmpstr (a->host, ==, "x.org");

  /* The same start is not the same list. */
  e = longer->message->envelope;
  g_assert_false (e->sender == e->from);
  g_assert_cmpuint (e->sender->len, ==, 2);
  a = g_ptr_array_index (e->sender, 1);
  g_assert_cmpstr (a->name, ==, "B");
  g_assert_false (e->reply_to == e->from);
  g_assert_cmpuint (e->reply_to->len, ==, 1);
  a = g_ptr_array_index (e->reply_to, 0);
  g_assert_cmpstr (a->host, ==, "x.orgy");
  g_assert_cmpuint (e->to->len, ==, 0);

  e = literal->message->envelope;
  g_assert_false (e->sender == e->from);
  g_assert_cmpuint (e->sender->len, ==, 1);
  a = g_ptr_array_index (e->sender, 0);
  g_assert_cmpstr (a->name, ==, "A");
  g_assert_cmpuint (e->reply_to->len, ==, 0);
}

static void
test_envelope_nil_and_literal (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 1 FETCH (ENVELOPE (NIL {12}\r\nA \"quoted\" \\ NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
  TernImapEnvelope *e = r->message->envelope;

  g_assert_null (e->date);
  g_assert_cmpstr (e->subject, ==, "A \"quoted\" \\");
  g_assert_nonnull (e->from);
  g_assert_cmpuint (e->from->len, ==, 0);
  g_assert_cmpuint (e->bcc->len, ==, 0);
  g_assert_null (e->message_id);
}

static void
test_bodystructure (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 1 FETCH (BODYSTRUCTURE ("
    "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 402 12 NIL NIL NIL NIL)"
    "(\"message\" \"rfc822\" (\"name\" \"fwd.eml\") NIL \"Forwarded\" \"7bit\" 1900 "
    "(\"date\" \"Inner subject\" NIL NIL NIL NIL NIL NIL NIL NIL) "
    "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)"
    "(\"application\" \"pdf\" (\"NAME\" \"Отчёт.pdf\") \"<id1>\" NIL \"base64\" 1500 \"md5sum\" "
    "(\"ATTACHMENT\" (\"filename\" \"Отчёт.pdf\")) (\"ru\" \"en\") \"loc\" 42 (1 (2 \"x\"))) "
    "\"mixed\" (\"boundary\" \"inner\") NIL NIL NIL) 40 NIL (\"inline\" NIL) \"de\" NIL) "
    "\"MIXED\" (\"boundary\" \"outer\") (\"inline\" NIL) (\"en\") \"http://x\" \"future\"))\r\n");
  TernImapBody *top = r->message->body, *p1, *p2, *inner, *p21, *p22;

  g_assert_cmpstr (top->type, ==, "multipart");
  g_assert_cmpstr (top->subtype, ==, "mixed");
  g_assert_cmpstr (top->section, ==, "");
  g_assert_cmpstr (tern_imap_params_lookup (top->params, "boundary"), ==, "outer");
  g_assert_cmpstr (top->disposition, ==, "inline");
  g_assert_cmpstr (top->language, ==, "en");
  g_assert_cmpstr (top->location, ==, "http://x");
  g_assert_cmpuint (top->children->len, ==, 2);

  p1 = g_ptr_array_index (top->children, 0);
  g_assert_cmpstr (p1->section, ==, "1");
  g_assert_cmpstr (p1->type, ==, "text");
  g_assert_cmpstr (p1->encoding, ==, "quoted-printable");
  g_assert_cmpuint (p1->size, ==, 402);
  g_assert_cmpuint (p1->lines, ==, 12);
  g_assert_cmpstr (tern_imap_params_lookup (p1->params, "charset"), ==, "utf-8");

  p2 = g_ptr_array_index (top->children, 1);
  g_assert_cmpstr (p2->section, ==, "2");
  g_assert_cmpstr (p2->type, ==, "message");
  g_assert_cmpstr (p2->subtype, ==, "rfc822");
  g_assert_cmpstr (p2->description, ==, "Forwarded");
  g_assert_cmpuint (p2->lines, ==, 40);
  g_assert_cmpstr (p2->envelope->subject, ==, "Inner subject");
  g_assert_cmpstr (p2->disposition, ==, "inline");
  g_assert_null (p2->disposition_params);
  g_assert_cmpstr (p2->language, ==, "de");
  g_assert_cmpuint (p2->children->len, ==, 1);

  inner = g_ptr_array_index (p2->children, 0);
  g_assert_cmpstr (inner->type, ==, "multipart");
  g_assert_cmpstr (inner->section, ==, "2");
  p21 = g_ptr_array_index (inner->children, 0);
  p22 = g_ptr_array_index (inner->children, 1);
  g_assert_cmpstr (p21->section, ==, "2.1");
  g_assert_cmpstr (p22->section, ==, "2.2");
  g_assert_cmpstr (p22->subtype, ==, "pdf");
  g_assert_cmpstr (p22->id, ==, "<id1>");
  g_assert_cmpstr (tern_imap_params_lookup (p22->params, "name"), ==, "Отчёт.pdf");
  g_assert_cmpstr (p22->md5, ==, "md5sum");
  g_assert_cmpstr (p22->disposition, ==, "attachment");
  g_assert_cmpstr (tern_imap_params_lookup (p22->disposition_params, "filename"), ==, "Отчёт.pdf");
  g_assert_cmpstr (p22->language, ==, "ru");
  g_assert_cmpstr (p22->location, ==, "loc");
}

/* Parameters in the order sent, names lower-cased, a name sent twice
 * with its last value (as the table before them), NIL values empty, and
 * more pairs than the first vector holds; a list cut half way is an
 * error that leaks nothing (the ASan run checks). */
static void
test_bodystructure_params (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 1 FETCH (BODYSTRUCTURE (\"application\" \"pdf\" (\"NAME\" \"a.pdf\" \"Charset\" \"x\" "
    "\"name\" \"b.pdf\" \"x-a\" NIL \"x-b\" \"2\" \"x-c\" {1}\r\n3) NIL NIL \"base64\" 10 NIL "
    "(\"ATTACHMENT\" (\"filename\" \"b.pdf\")) NIL NIL))\r\n");
  TernImapBody *b = r->message->body;
  const char *expected[] = { "name", "b.pdf", "charset", "x", "x-a", "", "x-b", "2", "x-c", "3" };
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  const char *cut = "* 2 FETCH (BODYSTRUCTURE (\"text\" \"plain\" (\"a\" \"1\" \"b\" \"2\" \"c\" "
                    "\"3\" \"d\") NIL NIL \"7bit\" 1 1))\r\n";

  g_assert_nonnull (b->params);
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (b->params[i], ==, expected[i]);
  g_assert_null (b->params[G_N_ELEMENTS (expected)]);
  g_assert_cmpstr (tern_imap_params_lookup (b->params, "name"), ==, "b.pdf");
  g_assert_cmpstr (tern_imap_params_lookup (b->params, "x-c"), ==, "3");
  g_assert_null (tern_imap_params_lookup (b->params, "NAME"));
  g_assert_null (tern_imap_params_lookup (NULL, "name"));
  g_assert_cmpstr (b->disposition, ==, "attachment");
  g_assert_cmpstr (tern_imap_params_lookup (b->disposition_params, "filename"), ==, "b.pdf");
  g_assert_null (b->disposition_params[2]);

  /* The value of "d" missing: the error is at the list's end. */
  g_assert_cmpuint (parse_error_offset (parser, cut, strlen (cut), 4096), ==,
                    strstr (cut, "\"d\")") - cut + 3);
}

static void
test_bodystructure_single (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n");
  g_autoptr(TernImapResponse) msg = parse_one (
    "* 2 FETCH (BODYSTRUCTURE (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 100 "
    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1) 8))\r\n");
  TernImapBody *b = r->message->body;

  g_assert_cmpstr (b->section, ==, "1");
  g_assert_cmpstr (b->type, ==, "text");
  g_assert_cmpstr (b->subtype, ==, "plain");
  g_assert_cmpstr (tern_imap_params_lookup (b->params, "charset"), ==, "US-ASCII");
  g_assert_cmpstr (b->encoding, ==, "7bit");
  g_assert_cmpuint (b->lines, ==, 92);
  g_assert_null (b->md5);
  g_assert_null (b->disposition);
  g_assert_null (b->disposition_params);
  g_assert_null (b->children);

  /* A message/rfc822 message: its body is part 1.1. */
  b = msg->message->body;
  g_assert_cmpstr (b->section, ==, "1");
  g_assert_cmpstr (((TernImapBody *) g_ptr_array_index (b->children, 0))->section, ==, "1.1");
}

static void
test_internaldate (void)
{
  const struct
  {
    const char *date;
    gint64      epoch;
  } cases[] = {
    { "01-Jan-1970 00:00:00 +0000", 0 },
    { "17-Jul-1996 02:44:25 -0700", 837596665 },
    { " 1-Jan-2000 05:30:00 +0530", 946684800 },
    { "29-Feb-2024 23:59:59 -1200", 1709294399 },
    { "26-nov-2026 10:15:02 +0100", 1795684502 },
    { "1-Jan-2000 05:30:00 +0530", 946684800 },
  };
  const char *bad[] = { "30-Feb-2024 00:00:00 +0000", "01-Foo-2024 00:00:00 +0000",
                        "01-Jan-2024 24:00:00 +0000", "01-Jan-2024 00:00:00 0000",
                        "01-Jan-2024 00:00:00 +0099", "01-Jan-2024", "01-Ja",
                        "01-Jan-2024 00:00:00 +", "01-Jan-2024 00:00:00 +00000",
                        "-1-Jan-2024 00:00:00 +0000", "01-Jan-2024 00:00 +0000",
                        "01-Jan-2024  00:00:00 +0000", "" };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *line = g_strdup_printf ("* 1 FETCH (INTERNALDATE \"%s\")\r\n", cases[i].date);
      g_autoptr(TernImapResponse) r = parse_one (line);

      g_assert_true (r->message->present & TERN_IMAP_FETCH_INTERNALDATE);
      g_assert_cmpint (r->message->internal_date, ==, cases[i].epoch);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
      g_autofree char *line = g_strdup_printf ("* 1 FETCH (INTERNALDATE \"%s\")\r\n", bad[i]);

      g_assert_cmpuint (parse_error_offset (parser, line, strlen (line), 4096), ==, 11);
    }
}

static void
test_fetch_items (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* 7 FETCH (UID 42 FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft \\Recent $Forwarded "
    "$junk NonJunk) rfc822.size 4286 MODSEQ (12121231000) X-GM-LABELS (\\Inbox \"a b\") "
    "X-A-VENDOR-ITEM-LONGER-THAN-ANY-WE-READ (1 \"2\") "
    "BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO)] {21}\r\nReferences: <a@b>\r\n\r\n "
    "BODY[1.2]<1024> \"partial\" BINARY.SIZE[1] 99 BODY[2] NIL)\r\n");
  TernImapMessage *m = r->message;
  TernImapFetchSection *s;
  gsize len;

  g_assert_cmpuint (m->seq, ==, 7);
  g_assert_cmpuint (m->uid, ==, 42);
  g_assert_cmpuint (m->flags, ==, TERN_IMAP_FLAG_SEEN | TERN_IMAP_FLAG_ANSWERED |
                                    TERN_IMAP_FLAG_FLAGGED | TERN_IMAP_FLAG_DELETED |
                                    TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_RECENT |
                                    TERN_IMAP_FLAG_FORWARDED | TERN_IMAP_FLAG_JUNK);
  g_assert_cmpuint (m->keywords->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (m->keywords, 0), ==, "NonJunk");
  g_assert_cmpuint (m->size, ==, 4286);
  g_assert_cmpuint (m->modseq, ==, 12121231000);
  g_assert_true (m->present & TERN_IMAP_FETCH_HEADERS);
  g_assert_true (m->present & TERN_IMAP_FETCH_BODY);
  g_assert_cmpmem (g_bytes_get_data (m->headers, &len), len, "References: <a@b>\r\n\r\n", 21);

  g_assert_cmpuint (r->sections->len, ==, 3);
  s = g_ptr_array_index (r->sections, 0);
  g_assert_cmpstr (s->item, ==, "BODY");
  g_assert_cmpstr (s->section, ==, "HEADER.FIELDS (REFERENCES IN-REPLY-TO)");
  g_assert_false (s->has_origin);
  s = g_ptr_array_index (r->sections, 1);
  g_assert_cmpstr (s->section, ==, "1.2");
  g_assert_true (s->has_origin);
  g_assert_cmpuint (s->origin, ==, 1024);
  g_assert_cmpmem (g_bytes_get_data (s->data, &len), len, "partial", 7);
  s = g_ptr_array_index (r->sections, 2);
  g_assert_true (s->is_nil);
  g_assert_null (s->data);
}

static void
test_quoted_and_literals (void)
{
  g_autoptr(TernImapResponse) q = parse_one ("* LIST () \"/\" \"a \\\"b\\\" \\\\c\"\r\n");
  g_autoptr(TernImapResponse) plus = parse_one ("* LIST () \"/\" {3+}\r\nabc\r\n");
  g_autoptr(TernImapResponse) lit8 = parse_one ("* 1 FETCH (BINARY[1] ~{4}\r\n\x01\x02\xff\x03)\r\n");
  TernImapFetchSection *s = g_ptr_array_index (lit8->sections, 0);

  g_assert_cmpstr (q->mailbox->name, ==, "a \"b\" \\c");
  g_assert_cmpstr (plus->mailbox->name, ==, "abc");
  g_assert_cmpstr (s->item, ==, "BINARY");
  g_assert_cmpuint (g_bytes_get_size (s->data), ==, 4);
}

static void
test_list (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* LIST (\\Subscribed \\NonExistent \\HasChildren) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
  g_autoptr(TernImapResponse) su = parse_one ("* LIST (\\HasNoChildren \\Sent \\Marked) \".\" \"&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-\"\r\n");
  g_autoptr(TernImapResponse) old = parse_one ("* LIST () \"/\" NewName (\"OLDNAME\" (\"OldName\"))\r\n");
  g_autoptr(TernImapResponse) flat = parse_one ("* LSUB (\\NoInferiors) NIL inbox\r\n");
  g_autoptr(TernImapResponse) esc = parse_one ("* LIST () \"\\\\\" a\\b\r\n");

  g_assert_cmpint (r->data, ==, TERN_IMAP_DATA_LIST);
  g_assert_cmpstr (r->mailbox->name, ==, "Foo");
  g_assert_cmpint (r->mailbox->delimiter, ==, '/');
  g_assert_cmpuint (r->mailbox->attributes, ==, TERN_IMAP_MAILBOX_SUBSCRIBED | TERN_IMAP_MAILBOX_NONEXISTENT |
                                                TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_HAS_CHILDREN);
  g_assert_cmpuint (r->childinfo->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (r->childinfo, 0), ==, "SUBSCRIBED");

  g_assert_cmpstr (su->mailbox->name, ==, "Отправленные");
  g_assert_cmpstr (su->mailbox->raw_name, ==, "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-");
  g_assert_cmpuint (su->mailbox->attributes, ==, TERN_IMAP_MAILBOX_HAS_NO_CHILDREN | TERN_IMAP_MAILBOX_SENT |
                                                 TERN_IMAP_MAILBOX_MARKED);
  g_assert_cmpstr (old->oldname, ==, "OldName");
  g_assert_cmpint (flat->data, ==, TERN_IMAP_DATA_LSUB);
  g_assert_cmpint (flat->mailbox->delimiter, ==, '\0');
  g_assert_cmpstr (flat->mailbox->name, ==, "INBOX");
  g_assert_cmpint (esc->mailbox->delimiter, ==, '\\');
}

static void
test_status (void)
{
  g_autoptr(TernImapResponse) r = parse_one (
    "* STATUS \"&BBIERQQ+BDQETwRJBDgENQ-\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 5 "
    "HIGHESTMODSEQ 7011231777 RECENT 0 SIZE 12345 XUNKNOWN 3)\r\n");
  TernImapStatus *st = &r->mailbox->status;

  g_assert_cmpint (r->data, ==, TERN_IMAP_DATA_STATUS);
  g_assert_cmpstr (r->mailbox->name, ==, "Входящие");
  g_assert_cmpuint (st->present, ==, TERN_IMAP_STATUS_MESSAGES | TERN_IMAP_STATUS_UIDNEXT |
                                       TERN_IMAP_STATUS_UIDVALIDITY | TERN_IMAP_STATUS_UNSEEN |
                                       TERN_IMAP_STATUS_HIGHESTMODSEQ | TERN_IMAP_STATUS_RECENT |
                                       TERN_IMAP_STATUS_SIZE);
  g_assert_cmpuint (st->messages, ==, 231);
  g_assert_cmpuint (st->uidnext, ==, 44292);
  g_assert_cmpuint (st->uidvalidity, ==, 1);
  g_assert_cmpuint (st->unseen, ==, 5);
  g_assert_cmpuint (st->highestmodseq, ==, 7011231777);
  g_assert_cmpuint (st->size, ==, 12345);
}

static void
test_search (void)
{
  g_autoptr(TernImapResponse) s = parse_one ("* SEARCH 2 3 6 4 (MODSEQ 917162500)\r\n");
  g_autoptr(TernImapResponse) empty = parse_one ("* SEARCH\r\n");
  g_autoptr(TernImapResponse) es = parse_one ("* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 COUNT 15 ALL 7,9:11,3800\r\n");
  g_autoptr(TernImapResponse) es2 = parse_one ("* ESEARCH (TAG \"a\") COUNT 0\r\n");
  g_autoptr(TernImapResponse) v = parse_one ("* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n");
  g_autoptr(TernImapResponse) v2 = parse_one ("* VANISHED 405,407,410,425\r\n");
  g_autofree char *set = tern_imap_set_to_string (s->set);
  g_autofree char *all = tern_imap_set_to_string (es->set);
  g_autofree char *vs = tern_imap_set_to_string (v->set);

  g_assert_cmpstr (set, ==, "2:4,6");
  g_assert_cmpuint (s->modseq, ==, 917162500);
  g_assert_true (tern_imap_set_is_empty (empty->set));

  g_assert_cmpint (es->data, ==, TERN_IMAP_DATA_ESEARCH);
  g_assert_cmpstr (es->esearch->tag, ==, "A285");
  g_assert_true (es->esearch->uid);
  g_assert_cmpuint (es->esearch->present, ==, TERN_IMAP_ESEARCH_MIN | TERN_IMAP_ESEARCH_MAX |
                                                TERN_IMAP_ESEARCH_COUNT | TERN_IMAP_ESEARCH_ALL);
  g_assert_cmpuint (es->esearch->min, ==, 7);
  g_assert_cmpuint (es->esearch->max, ==, 3800);
  g_assert_cmpuint (es->esearch->count, ==, 15);
  g_assert_cmpstr (all, ==, "7,9:11,3800");
  g_assert_false (es2->esearch->uid);
  g_assert_cmpuint (es2->esearch->count, ==, 0);
  g_assert_true (tern_imap_set_is_empty (es2->set));

  g_assert_true (v->earlier);
  g_assert_cmpstr (vs, ==, "41,43:116,118,120:211,214:540");
  g_assert_false (v2->earlier);
  g_assert_cmpuint (tern_imap_set_count (v2->set), ==, 4);
}

static void
test_misc_data (void)
{
  g_autoptr(TernImapResponse) caps = parse_one ("* CAPABILITY IMAP4rev1 IMAP4rev2 ENABLE\r\n");
  g_autoptr(TernImapResponse) en = parse_one ("* ENABLED CONDSTORE QRESYNC\r\n");
  g_autoptr(TernImapResponse) id = parse_one ("* ID (\"name\" \"Cyrus\" \"version\" NIL)\r\n");
  g_autoptr(TernImapResponse) idnil = parse_one ("* ID NIL\r\n");
  g_autoptr(TernImapResponse) ns = parse_one (
    "* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL ((\"#shared/\" \"/\")(\"#news.\" \".\"))\r\n");
  g_autoptr(TernImapResponse) flags = parse_one ("* FLAGS (\\Answered \\Seen $MDNSent)\r\n");
  g_autoptr(TernImapResponse) exists = parse_one ("* 23 EXISTS\r\n");
  g_autoptr(TernImapResponse) recent = parse_one ("* 5 RECENT\r\n");
  g_autoptr(TernImapResponse) expunge = parse_one ("* 44 EXPUNGE\r\n");
  TernImapNamespace *n;

  g_assert_cmpint (caps->data, ==, TERN_IMAP_DATA_CAPABILITY);
  g_assert_cmpuint (caps->capabilities->len, ==, 3);
  g_assert_cmpint (en->data, ==, TERN_IMAP_DATA_ENABLED);
  g_assert_true (tern_imap_response_has_capability (en, "QRESYNC"));
  g_assert_cmpstr (g_hash_table_lookup (id->id_params, "name"), ==, "Cyrus");
  g_assert_true (g_hash_table_contains (id->id_params, "version"));
  g_assert_null (g_hash_table_lookup (id->id_params, "version"));
  g_assert_null (idnil->id_params);

  g_assert_cmpuint (ns->namespaces[0]->len, ==, 2);
  n = g_ptr_array_index (ns->namespaces[0], 1);
  g_assert_cmpstr (n->prefix, ==, "#mh/");
  g_assert_cmpint (n->delimiter, ==, '/');
  g_assert_null (ns->namespaces[1]);
  n = g_ptr_array_index (ns->namespaces[2], 1);
  g_assert_cmpstr (n->prefix, ==, "#news.");
  g_assert_cmpint (n->delimiter, ==, '.');

  g_assert_cmpuint (flags->flags, ==, TERN_IMAP_FLAG_ANSWERED | TERN_IMAP_FLAG_SEEN);
  g_assert_cmpstr (g_ptr_array_index (flags->keywords, 0), ==, "$MDNSent");
  g_assert_cmpint (exists->data, ==, TERN_IMAP_DATA_EXISTS);
  g_assert_cmpuint (exists->number, ==, 23);
  g_assert_cmpint (recent->data, ==, TERN_IMAP_DATA_RECENT);
  g_assert_cmpuint (recent->number, ==, 5);
  g_assert_cmpint (expunge->data, ==, TERN_IMAP_DATA_EXPUNGE);
  g_assert_cmpuint (expunge->number, ==, 44);
}

static void
test_utf8 (void)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  const char *text = "* LIST () \"/\" \"Входящие/&BBA-\"\r\n* LIST () \"/\" \"bad \xff name\"\r\n"
                     "* 1 FETCH (ENVELOPE (NIL \"\xc3\x28 subject\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) responses = NULL;
  TernImapResponse *r;

  tern_imap_parser_set_utf8_accept (parser, TRUE);
  g_assert_true (tern_imap_parser_get_utf8_accept (parser));
  responses = parse_all (parser, text, strlen (text), 4096, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (responses->len, ==, 3);
  r = g_ptr_array_index (responses, 0);
  /* Under UTF8=ACCEPT "&" is not special. */
  g_assert_cmpstr (r->mailbox->name, ==, "Входящие/&BBA-");
  r = g_ptr_array_index (responses, 1);
  g_assert_true (g_utf8_validate (r->mailbox->name, -1, NULL));
  g_assert_cmpstr (r->mailbox->name, ==, "bad \xef\xbf\xbd name");
  r = g_ptr_array_index (responses, 2);
  g_assert_true (g_utf8_validate (r->message->envelope->subject, -1, NULL));
}

/* ENVELOPE strings are kept as read when they are valid UTF-8 without
 * escapes, and repaired otherwise: escapes, invalid bytes, NULs. */
static void
test_envelope_strings (void)
{
  static const char text[] =
    "* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\" \"plain \xd0\x9f\xd1\x80\xd0\xb8\" "
    "((\"a \\\"b\\\" \\\\ c\" NIL \"bad\xff\" \"x\\y\")) NIL NIL "
    "(({3}\r\nn\0m NIL \"\" \"h\")) NIL NIL \"\" {4}\r\n<\0>\xff))\r\n";
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) responses = parse_all (parser, text, sizeof text - 1, 7, &error);
  TernImapEnvelope *e;
  TernImapAddress *a;

  g_assert_no_error (error);
  g_assert_cmpuint (responses->len, ==, 1);
  e = ((TernImapResponse *) g_ptr_array_index (responses, 0))->message->envelope;
  g_assert_cmpstr (e->date, ==, "Mon, 1 Jan 2024");
  g_assert_cmpstr (e->subject, ==, "plain При");
  a = g_ptr_array_index (e->from, 0);
  g_assert_cmpstr (a->name, ==, "a \"b\" \\ c");
  g_assert_cmpstr (a->mailbox, ==, "bad\xef\xbf\xbd");
  g_assert_cmpstr (a->host, ==, "xy");
  a = g_ptr_array_index (e->to, 0);
  g_assert_cmpstr (a->name, ==, "n\xef\xbf\xbdm");
  g_assert_cmpstr (a->mailbox, ==, "");
  g_assert_cmpstr (a->host, ==, "h");
  g_assert_cmpstr (e->in_reply_to, ==, "");
  g_assert_cmpstr (e->message_id, ==, "<\xef\xbf\xbd>\xef\xbf\xbd");
}

/* An ENVELOPE string of 1 to 24 bytes, one of them a NUL, a byte of
 * 0x80 or above, or DEL, at every place (the parser checks plain ASCII
 * eight bytes at a time, then byte by byte): repaired as UTF-8 but for
 * DEL, which is ASCII; and a long valid UTF-8 string kept as sent. */
static void
test_envelope_plain_ascii (void)
{
  static const char odd[] = { '\0', '\x80', '\xff', '\x7f' };

  for (gsize len = 1; len <= 24; len++)
    for (gsize pos = 0; pos < len; pos++)
      for (gsize k = 0; k < G_N_ELEMENTS (odd); k++)
        {
          g_autoptr(GString) sent = g_string_new (NULL);
          g_autoptr(GString) expected = g_string_new (NULL);
          g_autoptr(GString) text = NULL;
          g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) responses = NULL;

          for (gsize i = 0; i < len; i++)
            {
              char ch = i == pos ? odd[k] : (char) ('a' + i % 26);

              g_string_append_c (sent, ch);
              if (i == pos && odd[k] != '\x7f')
                g_string_append (expected, "\xef\xbf\xbd");
              else
                g_string_append_c (expected, ch);
            }
          text = g_string_new (NULL);
          g_string_append_printf (text, "* 1 FETCH (ENVELOPE (NIL {%" G_GSIZE_FORMAT "}\r\n", len);
          g_string_append_len (text, sent->str, (gssize) sent->len);
          g_string_append (text, " NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
          responses = parse_all (parser, text->str, text->len, 4096, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (responses->len, ==, 1);
          g_assert_cmpstr (((TernImapResponse *) responses->pdata[0])->message->envelope->subject,
                           ==, expected->str);
        }
  {
    g_autoptr(TernImapResponse) r =
      parse_one ("* 1 FETCH (ENVELOPE (NIL \"\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 "
                 "\xd0\xb7\xd0\xb0 \xd0\xbd\xd0\xbe\xd1\x8f\xd0\xb1\xd1\x80\xd1\x8c\" "
                 "NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");

    g_assert_cmpstr (r->message->envelope->subject, ==, "Отчёт за ноябрь");
  }
}

/* The strings of a parsed ENVELOPE and BODYSTRUCTURE are kept in one
 * chunk of their message (TernImapMessage.strings): made only for them,
 * right when an item comes twice, and freed whole when a response fails
 * half way (the sanitizers' runs would see a leak or a double free). */
static void
test_message_strings (void)
{
  static const char envelope[] =
    "(\"d\" \"s\" ((\"N\" NIL \"m\" \"h\")) ((\"N\" NIL \"m\" \"h\")) NIL "
    "((\"T\" NIL \"t\" \"h\")) NIL NIL NIL \"<i@h>\")";
  static const char * const broken[] = {
    "* 1 FETCH (ENVELOPE (\"d\" \"s\" ((\"N\" NIL \"m\" x\r\n",
    "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\" \"NAME\" x\r\n",
    "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"TEXT\" x\r\n",
    "* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 9 "
    "(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" x\r\n",
  };
  g_autoptr(TernImapResponse) flags = parse_one ("* 1 FETCH (UID 7 FLAGS (\\Seen $Work))\r\n");
  g_autofree char *twice_text =
    g_strdup_printf ("* 2 FETCH (ENVELOPE %s BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL "
                     "\"7BIT\" 1 1) ENVELOPE %s BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" "
                     "(\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 1 1 NIL (\"INLINE\" "
                     "(\"FILENAME\" \"a.txt\")) \"EN\")(\"MESSAGE\" \"RFC822\" NIL NIL NIL "
                     "\"7BIT\" 9 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
                     "(\"TEXT\" \"HTML\" NIL NIL NIL \"8BIT\" 2 1) 1) \"MIXED\"))\r\n",
                     envelope, envelope);
  g_autoptr(TernImapResponse) twice = parse_one (twice_text);
  TernImapMessage *m = twice->message;
  TernImapBody *inner;

  g_assert_null (flags->message->strings);
  g_assert_cmpuint (flags->message->keywords->len, ==, 1);

  g_assert_nonnull (m->strings);
  g_assert_cmpstr (m->envelope->subject, ==, "s");
  g_assert_true (m->envelope->sender == m->envelope->from);
  g_assert_cmpstr (((TernImapAddress *) g_ptr_array_index (m->envelope->to, 0))->mailbox, ==, "t");
  g_assert_cmpstr (m->body->type, ==, "multipart");
  g_assert_cmpstr (m->body->subtype, ==, "mixed");
  g_assert_cmpstr (m->body->section, ==, "");
  g_assert_cmpuint (m->body->children->len, ==, 2);
  inner = g_ptr_array_index (m->body->children, 0);
  g_assert_cmpstr (tern_imap_params_lookup (inner->params, "charset"), ==, "UTF-8");
  g_assert_cmpstr (tern_imap_params_lookup (inner->disposition_params, "filename"), ==, "a.txt");
  g_assert_cmpstr (inner->disposition, ==, "inline");
  g_assert_cmpstr (inner->language, ==, "EN");
  g_assert_cmpstr (inner->section, ==, "1");
  inner = g_ptr_array_index (m->body->children, 1);
  g_assert_cmpstr (inner->envelope->subject, ==, "inner");
  g_assert_cmpstr (inner->section, ==, "2");
  inner = g_ptr_array_index (inner->children, 0);
  g_assert_cmpstr (inner->subtype, ==, "html");
  g_assert_cmpstr (inner->section, ==, "2.1");

  for (gsize i = 0; i < G_N_ELEMENTS (broken); i++)
    {
      g_autoptr(TernImapParser) parser = tern_imap_parser_new ();

      g_test_message ("%s", broken[i]);
      parse_error_offset (parser, broken[i], strlen (broken[i]), 4096);
    }
}

/* Byte at a time */

static void
test_bytewise (void)
{
  const char *names[] = { "dovecot-real", "dovecot-session", "gmail-session", "exchange-session",
                          "cyrus-session", "bodystructures", "odd-literals", "codes",
                          "garbage-after-greeting" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strconcat (names[i], ".txt", NULL);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "protocol", "imap", "transcripts", file, NULL);
      g_autofree char *contents = NULL;
      g_autofree char *whole = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      whole = print_all (contents, len, len);
      g_assert_cmpuint (strlen (whole), >, 0);
      for (gsize chunk = 1; chunk <= 13; chunk += 3)
        {
          g_autofree char *split = print_all (contents, len, chunk);
          g_assert_cmpstr (split, ==, whole);
        }
    }
}

/* Streaming literals */

typedef struct
{
  GOutputStream parent_instance;
  guint64       bytes;
  guint         chunks;
  guint64       max_buffered;
  TernImapParser *parser;
} CountingStream;

typedef GOutputStreamClass CountingStreamClass;
GType counting_stream_get_type (void);
G_DEFINE_TYPE (CountingStream, counting_stream, G_TYPE_OUTPUT_STREAM)

static gssize
counting_stream_write (GOutputStream *stream,
                       const void    *buffer,
                       gsize          count,
                       GCancellable  *cancellable,
                       GError       **error)
{
  CountingStream *self = (CountingStream *) stream;
  const guint8 *p = buffer;

  /* The pattern of the literal is byte i = i % 251. */
  for (gsize i = 0; i < count; i++)
    g_assert_cmpuint (p[i], ==, (self->bytes + i) % 251);
  self->bytes += count;
  self->chunks++;
  self->max_buffered = MAX (self->max_buffered, tern_imap_parser_get_buffered (self->parser));
  return (gssize) count;
}

static void
counting_stream_class_init (CountingStreamClass *klass)
{
  klass->write_fn = counting_stream_write;
}

static void
counting_stream_init (CountingStream *self)
{
}

typedef struct
{
  CountingStream *stream;
  guint           calls;
  char           *section;
  guint32         seq;
  guint64         size;
} SinkData;

static GOutputStream *
sink_cb (guint32     seq,
         const char *item,
         const char *section,
         guint64     size,
         gpointer    user_data)
{
  SinkData *data = user_data;

  data->calls++;
  data->seq = seq;
  data->size = size;
  g_free (data->section);
  data->section = g_strdup (section);
  if (g_str_has_prefix (section, "HEADER"))
    return NULL;
  return g_object_ref (G_OUTPUT_STREAM (data->stream));
}

static void
test_sink_large_literal (void)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TernImapResponse) r = NULL;
  SinkData data = { 0 };
  const guint64 size = 5 * 1000 * 1000;
  const char *head = "* 3 FETCH (UID 77 BODY[HEADER] {6}\r\nA: b\r\n BODY[] {5000000}\r\n";
  const char *tail = " FLAGS (\\Seen))\r\na1 OK done\r\n";
  guint8 chunk[65536];
  TernImapFetchSection *s;
  g_autoptr(TernImapResponse) ok = NULL;

  data.stream = g_object_new (counting_stream_get_type (), NULL);
  data.stream->parser = parser;
  tern_imap_parser_set_body_sink (parser, sink_cb, &data, NULL);

  g_assert_true (tern_imap_parser_feed (parser, head, strlen (head), &error));
  g_assert_cmpuint (tern_imap_parser_get_literal_remaining (parser), ==, size);
  for (guint64 sent = 0; sent < size;)
    {
      gsize n = (gsize) MIN (sizeof chunk, size - sent);

      for (gsize i = 0; i < n; i++)
        chunk[i] = (guint8) ((sent + i) % 251);
      g_assert_true (tern_imap_parser_feed (parser, chunk, n, &error));
      sent += n;
    }
  g_assert_true (tern_imap_parser_feed (parser, tail, strlen (tail), &error));
  g_assert_no_error (error);

  g_assert_cmpuint (data.calls, ==, 2);
  g_assert_cmpuint (data.seq, ==, 3);
  g_assert_cmpstr (data.section, ==, "");
  g_assert_cmpuint (data.size, ==, size);
  g_assert_cmpuint (data.stream->bytes, ==, size);
  g_assert_cmpuint (data.stream->chunks, >, 50);
  /* The parser never held the literal. */
  g_assert_cmpuint (data.stream->max_buffered, <, 4096);

  r = tern_imap_parser_pop (parser);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->message->uid, ==, 77);
  g_assert_cmpuint (r->message->flags, ==, TERN_IMAP_FLAG_SEEN);
  g_assert_cmpuint (g_bytes_get_size (r->message->headers), ==, 6);
  s = g_ptr_array_index (r->sections, 1);
  g_assert_true (s->streamed);
  g_assert_null (s->data);
  g_assert_cmpuint (s->size, ==, size);
  ok = tern_imap_parser_pop (parser);
  g_assert_cmpstr (ok->tag, ==, "a1");
  g_assert_cmpuint (tern_imap_parser_get_offset (parser), ==, strlen (head) + size + strlen (tail));

  g_free (data.section);
  g_assert_finalize_object (data.stream);
}

static void
test_body_stream (void)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  const char *text = "* 1 FETCH (BODY[1.MIME] {4}\r\nmime BODY[1] {5}\r\nhello RFC822.TEXT {3}\r\nabc)\r\n";
  g_autoptr(GPtrArray) responses = NULL;
  TernImapResponse *r;

  tern_imap_parser_set_body_stream (parser, out);
  responses = parse_all (parser, text, strlen (text), 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (responses->len, ==, 1);
  r = g_ptr_array_index (responses, 0);
  g_assert_false (((TernImapFetchSection *) g_ptr_array_index (r->sections, 0))->streamed);
  g_assert_true (((TernImapFetchSection *) g_ptr_array_index (r->sections, 1))->streamed);
  g_assert_true (((TernImapFetchSection *) g_ptr_array_index (r->sections, 2))->streamed);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, 8);
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)), 8, "helloabc", 8);
}

/* Limits */

static void
test_limits (void)
{
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GString) text = g_string_new ("a1 OK fine\r\n* OK ");
  g_autoptr(GError) error = NULL;
  guint64 offset;

  /* An overlong line: the error is where the limit was passed. */
  tern_imap_parser_set_limits (parser, 1000, 8, 2000, 100000);
  for (int i = 0; i < 2000; i++)
    g_string_append_c (text, 'x');
  offset = parse_error_offset (parser, text->str, text->len, 1);
  g_assert_cmpuint (offset, ==, 12 + 1000);
  /* Sticky until reset. */
  g_assert_false (tern_imap_parser_feed (parser, "\r\n", 2, &error));
  g_assert_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL);
  g_clear_error (&error);
  tern_imap_parser_reset (parser);
  g_assert_true (tern_imap_parser_feed (parser, "* 1 EXISTS\r\n", 12, &error));

  /* Endless continuation: a "+" line without end. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "+ ");
  for (int i = 0; i < 5000; i++)
    g_string_append (text, "ab");
  offset = parse_error_offset (parser, text->str, text->len, 333);
  g_assert_cmpuint (offset, ==, 1000);
  g_assert_cmpuint (tern_imap_parser_get_buffered (parser), <=, 1002);

  /* Deep nesting: the 9th parenthesis. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "* 1 FETCH (X-FOO ((((((((((1))))))))))\r\n");
  offset = parse_error_offset (parser, text->str, text->len, 4096);
  g_assert_cmpuint (offset, ==, strlen ("* 1 FETCH (X-FOO (((((((("));

  /* A literal bigger than what may be kept, with no sink. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "* 1 FETCH (BODY[] {2001}\r\n");
  offset = parse_error_offset (parser, text->str, text->len, 4096);
  g_assert_cmpuint (offset, ==, strlen ("* 1 FETCH (BODY[] "));

  /* An absurd literal size. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "a1 OK x\r\n* LIST () \"/\" {99999999999999999999999}\r\n");
  offset = parse_error_offset (parser, text->str, text->len, 4096);
  g_assert_cmpuint (offset, ==, strlen ("a1 OK x\r\n* LIST () \"/\" "));

  /* Many literals adding up to more than one response may hold. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "* 1 FETCH (X (");
  for (int i = 0; i < 60; i++)
    {
      g_string_append (text, "{1999}\r\n");
      for (int j = 0; j < 1999; j++)
        g_string_append_c (text, 'z');
    }
  parse_error_offset (parser, text->str, text->len, 4096);
  g_assert_cmpuint (tern_imap_parser_get_buffered (parser), <=, 100000);

  /* SEARCH results may use the whole response limit. */
  tern_imap_parser_reset (parser);
  g_string_assign (text, "* SEARCH");
  for (int i = 1; i < 5000; i++)
    g_string_append_printf (text, " %d", i);
  g_string_append (text, "\r\n");
  {
    g_autoptr(GPtrArray) responses = parse_all (parser, text->str, text->len, 4096, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (tern_imap_set_count (((TernImapResponse *) g_ptr_array_index (responses, 0))->set), ==, 4999);
  }
}

static void
test_errors (void)
{
  const struct
  {
    const char *text;
    const char *at; /* the error is at the start of this substring */
  } cases[] = {
    { "a1 OK x\r\n* 1 FETCH (UID x)\r\n", "x)" },
    { "* 1 FETCH (UID 1\r\n", "\r\n" },
    { "* LIST (\\Foo) \"/\"\r\n", "\r\n" },
    { "a1 MAYBE\r\n", "MAYBE" },
    { "* 1 FETCH (FLAGS (\\Seen)) extra\r\n", "extra" },
    { "* SEARCH 1 2 x\r\n", "x" },
    { "* VANISHED 1:x\r\n", "1:x" },
    { "* OK [UIDNEXT abc] x\r\n", "abc" },
    { "* OK [UIDNEXT 5 x\r\n", "x\r\n" },
    { "* 1 FETCH (UID 1 BODY[1 NIL)\r\n", "\r\n" },
    { "* LIST () \"/\" \"unterminated\r\n", "\r\n" },
    { "\r\n", "\r\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
      guint64 whole = parse_error_offset (parser, cases[i].text, strlen (cases[i].text), 4096);
      g_autoptr(TernImapParser) parser2 = tern_imap_parser_new ();
      guint64 bytewise = parse_error_offset (parser2, cases[i].text, strlen (cases[i].text), 1);
      const char *at = strstr (cases[i].text, cases[i].at);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpuint (whole, ==, (guint64) (at - cases[i].text));
      g_assert_cmpuint (bytewise, ==, whole);
    }
}

/* Random input */

static void
test_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261126);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "protocol", "imap", "transcripts", "dovecot-session.txt", NULL);
  g_autofree char *base = NULL;
  gsize base_len;
  static const char *tokens[] = { "{", "}", "(", ")", "\r\n", " ", "\"", "\\", "NIL", "{5}\r\n",
                                  "~{3}\r\n", "[", "]", "*", "+", "BODY[", "((((", "\xff", "&" };

  g_assert_true (g_file_get_contents (path, &base, &base_len, NULL));
  for (int i = 0; i < 3000; i++)
    {
      g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) responses = NULL;

      tern_imap_parser_set_limits (parser, 512, 8, 4096, 65536);
      if (i % 2 == 0)
        {
          /* Pure noise, biased to IMAP's special characters. */
          int n = g_rand_int_range (rand, 0, 400);

          for (int j = 0; j < n; j++)
            {
              if (g_rand_int_range (rand, 0, 3) == 0)
                {
                  const char *t = tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))];
                  g_byte_array_append (input, (const guint8 *) t, (guint) strlen (t));
                }
              else
                {
                  guint8 b = (guint8) g_rand_int_range (rand, 0, 256);
                  g_byte_array_append (input, &b, 1);
                }
            }
        }
      else
        {
          /* A real session with a few mutations. */
          g_byte_array_append (input, (const guint8 *) base, (guint) base_len);
          for (int j = g_rand_int_range (rand, 1, 6); j > 0; j--)
            {
              guint pos = (guint) g_rand_int_range (rand, 0, (gint32) input->len);

              if (g_rand_boolean (rand))
                input->data[pos] = (guint8) g_rand_int_range (rand, 0, 256);
              else
                {
                  const char *t = tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))];
                  bytes_insert (input, pos, (const guint8 *) t, (guint) strlen (t));
                }
            }
        }
      responses = parse_all (parser, (const char *) input->data, input->len,
                             (gsize) g_rand_int_range (rand, 1, 64), &error);
      for (guint j = 0; j < responses->len; j++)
        g_free (tern_imap_print_response (g_ptr_array_index (responses, j)));
      if (error != NULL)
        g_assert_cmpuint (tern_imap_parser_get_error_offset (parser), <=, input->len);
    }
}

/* read_response() over a TernConnection */

#define BIG_LITERAL 300000

static void
connection_script (FakeServer *server,
                   int         fd)
{
  g_autofree char *literal = g_malloc (BIG_LITERAL + 1);

  memset (literal, 'q', BIG_LITERAL);
  literal[BIG_LITERAL] = '\0';
  fake_write (fd, "* OK [CAPABILITY IMAP4rev1] hello\r\n* 1 FETCH (UID 5 BODY[] {300000}\r\n");
  fake_write (fd, literal);
  fake_write (fd, " FLAGS (\\Seen))\n* LIST () \"/\" {4}\r\nname\r\na1 OK done\r\n");
}

static void
test_read_response (void)
{
  g_autoptr(FakeServer) server = fake_server_start (connection_script, NULL);
  g_autoptr(TernConnection) connection = tern_connection_new ("127.0.0.1", server->port, TERN_TLS_MODE_PLAIN);
  g_autoptr(TernImapParser) parser = tern_imap_parser_new ();
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  TernImapResponse *r;

  tern_connection_set_io_timeout (connection, 5);
  g_assert_true (tern_connection_connect (connection, NULL, &error));
  g_assert_no_error (error);
  tern_imap_parser_set_body_stream (parser, out);

  r = tern_imap_parser_read_response (parser, connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->code, ==, TERN_IMAP_CODE_CAPABILITY);
  tern_imap_response_free (r);

  r = tern_imap_parser_read_response (parser, connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->message->uid, ==, 5);
  g_assert_cmpuint (r->message->flags, ==, TERN_IMAP_FLAG_SEEN);
  g_assert_true (((TernImapFetchSection *) g_ptr_array_index (r->sections, 0))->streamed);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, BIG_LITERAL);
  tern_imap_response_free (r);

  r = tern_imap_parser_read_response (parser, connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->mailbox->name, ==, "name");
  tern_imap_response_free (r);

  r = tern_imap_parser_read_response (parser, connection, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r->tag, ==, "a1");
  tern_imap_response_free (r);

  /* The server closed: an error, not a hang. */
  r = tern_imap_parser_read_response (parser, connection, NULL, &error);
  g_assert_null (r);
  g_assert_nonnull (error);
  fake_server_join (server);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/imap/set/parse", test_set_parse);
  g_test_add_func ("/tern/imap/parser/envelope-strings", test_envelope_strings);
  g_test_add_func ("/tern/imap/parser/message-strings", test_message_strings);
  g_test_add_func ("/tern/imap/parser/envelope-plain-ascii", test_envelope_plain_ascii);
  g_test_add_func ("/tern/imap/set/merge", test_set_merge);
  g_test_add_func ("/tern/imap/utf7/examples", test_utf7);
  g_test_add_func ("/tern/imap/utf7/random", test_utf7_random);
  g_test_add_func ("/tern/imap/parser/greeting", test_greeting);
  g_test_add_func ("/tern/imap/parser/tagged-continuation", test_tagged_and_continuation);
  g_test_add_func ("/tern/imap/parser/codes", test_codes);
  g_test_add_func ("/tern/imap/parser/envelope", test_envelope);
  g_test_add_func ("/tern/imap/parser/envelope-nil-literal", test_envelope_nil_and_literal);
  g_test_add_func ("/tern/imap/parser/envelope-shared-lists", test_envelope_shared_lists);
  g_test_add_func ("/tern/imap/parser/bodystructure", test_bodystructure);
  g_test_add_func ("/tern/imap/parser/bodystructure-single", test_bodystructure_single);
  g_test_add_func ("/tern/imap/parser/bodystructure-params", test_bodystructure_params);
  g_test_add_func ("/tern/imap/parser/internaldate", test_internaldate);
  g_test_add_func ("/tern/imap/parser/fetch-items", test_fetch_items);
  g_test_add_func ("/tern/imap/parser/quoted-literals", test_quoted_and_literals);
  g_test_add_func ("/tern/imap/parser/list", test_list);
  g_test_add_func ("/tern/imap/parser/status", test_status);
  g_test_add_func ("/tern/imap/parser/search", test_search);
  g_test_add_func ("/tern/imap/parser/misc-data", test_misc_data);
  g_test_add_func ("/tern/imap/parser/utf8", test_utf8);
  g_test_add_func ("/tern/imap/parser/bytewise", test_bytewise);
  g_test_add_func ("/tern/imap/parser/sink-large-literal", test_sink_large_literal);
  g_test_add_func ("/tern/imap/parser/body-stream", test_body_stream);
  g_test_add_func ("/tern/imap/parser/limits", test_limits);
  g_test_add_func ("/tern/imap/parser/errors", test_errors);
  g_test_add_func ("/tern/imap/parser/garbage", test_garbage);
  g_test_add_func ("/tern/imap/parser/read-response", test_read_response);

  return g_test_run ();
}
