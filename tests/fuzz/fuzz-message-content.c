/* fuzz-message-content.c: libFuzzer target for the MIME front: GMime's
 * parser and what app/tern-message-content.c extracts from a raw message
 * for the message view (decoded headers, the text and HTML bodies with
 * charset fallbacks and format=flowed, attachments, cid: parts), and the
 * bodies alone as the search index reads them.
 *
 * The first byte of the input picks a charset override (View → Encoding);
 * the rest is the message.  Beyond not crashing, checks that everything
 * the view shows is valid UTF-8 and that every Content-ID finds its part.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>

#include "tern-message-content.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
assert_utf8 (const char *text)
{
  g_assert_true (text == NULL || g_utf8_validate (text, -1, NULL));
}

static void
check (TernMessageContent *content)
{
  GPtrArray *attachments = tern_message_content_get_attachments (content);
  const char *text = tern_message_content_get_text (content);

  tern_message_content_is_broken (content);
  assert_utf8 (tern_message_content_get_subject (content));
  assert_utf8 (tern_message_content_get_from_name (content));
  assert_utf8 (tern_message_content_get_from_address (content));
  assert_utf8 (tern_message_content_get_to (content));
  assert_utf8 (tern_message_content_get_cc (content));
  assert_utf8 (tern_message_content_get_reply_to (content));
  assert_utf8 (tern_message_content_get_message_id (content));
  tern_message_content_get_date (content);
  assert_utf8 (text);
  g_assert_true ((text == NULL) == (tern_message_content_get_text_charset (content) == NULL));
  assert_utf8 (tern_message_content_get_html (content));
  if (text != NULL)
    {
      g_autofree char *flowed = tern_message_content_unflow (text, FALSE);
      g_autofree char *delsp = tern_message_content_unflow (text, TRUE);

      assert_utf8 (flowed);
      assert_utf8 (delsp);
    }

  for (guint i = 0; i < attachments->len; i++)
    {
      const TernMessageAttachment *attachment = attachments->pdata[i];

      g_assert_nonnull (attachment->filename);
      assert_utf8 (attachment->filename);
      g_assert_nonnull (attachment->content_type);
      g_assert_nonnull (attachment->data);
      if (attachment->content_id != NULL)
        g_assert_nonnull (tern_message_content_lookup_cid (content, attachment->content_id));
    }
  tern_message_content_lookup_cid (content, "<nothing@here>");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char *overrides[] = { NULL, "windows-1251", "KOI8-R", "UTF-8", "x-unknown",
                                     "ISO-2022-JP", "UTF-16", "" };
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  g_autoptr(TernMessageContent) other = NULL;
  g_autoptr(TernMessageContent) bodies = NULL;
  g_autofree char *converted = NULL;
  const char *used = NULL;

  if (size < 1)
    return 0;
  raw = g_bytes_new (data + 1, size - 1);
  content = tern_message_content_new (raw, overrides[data[0] % G_N_ELEMENTS (overrides)]);
  check (content);
  if (data[0] & 0x80)
    {
      other = tern_message_content_with_charset (content, overrides[(data[0] >> 3) % 8]);
      check (other);
    }
  /* What the search index reads: the bodies alone, the same text. */
  bodies = tern_message_content_new_bodies (raw);
  check (bodies);
  if (data[0] % G_N_ELEMENTS (overrides) == 0)
    g_assert_cmpstr (tern_message_content_get_text (bodies), ==,
                     tern_message_content_get_text (content));
  converted = tern_message_content_to_utf8 ((const char *) data + 1, size - 1,
                                            overrides[(data[0] >> 3) % 8], &used);
  assert_utf8 (converted);
  g_assert_nonnull (used);
  return 0;
}
