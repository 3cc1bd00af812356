/* tern-message-content.h: what a message view shows of a raw message.
 *
 * Parses the raw RFC 5322 bytes the store keeps once, with GMime, into
 * decoded headers, the text/plain body as UTF-8 (format=flowed unwrapped),
 * the text/html body, the attachments and the parts an HTML body refers to
 * by cid:.  Broken MIME never fails: whatever could be read is there, and
 * tern_message_content_is_broken() says that something was not.
 *
 * Immutable once made, so it may be made on a worker thread and read on the
 * main thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One attachment (or inline part that is not the body). */
typedef struct
{
  char    *filename;     /* UTF-8 (RFC 2231/2047 decoded), never NULL: a fallback name */
  char    *content_type; /* "image/png", lower case */
  char    *content_id;   /* without angle brackets, NULL if none */
  gboolean is_inline;    /* Content-Disposition: inline */
  GBytes  *data;         /* decoded (transfer encoding undone) */
} TernMessageAttachment;

#define TERN_TYPE_MESSAGE_CONTENT (tern_message_content_get_type ())
G_DECLARE_FINAL_TYPE (TernMessageContent, tern_message_content, TERN, MESSAGE_CONTENT, GObject)

/* @charset_override (NULL: none) replaces the text parts' declared charset,
 * for View → Encoding. */
TernMessageContent *tern_message_content_new              (GBytes             *raw,
                                                           const char         *charset_override);
/* Only the text and HTML bodies (for the search index, which reads every
 * message): the header getters return NULL (0 for the date), there are no
 * attachments, and the HTML body is not read when there is a text one. */
TernMessageContent *tern_message_content_new_bodies       (GBytes             *raw);
/* The same message with another charset override (NULL: the declared one). */
TernMessageContent *tern_message_content_with_charset     (TernMessageContent *self,
                                                           const char         *charset_override);
gboolean            tern_message_content_is_broken        (TernMessageContent *self);

const char         *tern_message_content_get_subject      (TernMessageContent *self);
const char         *tern_message_content_get_from_name    (TernMessageContent *self);
const char         *tern_message_content_get_from_address (TernMessageContent *self);
/* Address lists as "Name <a@b>, c@d" in UTF-8; NULL when absent. */
const char         *tern_message_content_get_to           (TernMessageContent *self);
const char         *tern_message_content_get_cc           (TernMessageContent *self);
const char         *tern_message_content_get_reply_to     (TernMessageContent *self);
const char         *tern_message_content_get_message_id   (TernMessageContent *self);
/* Seconds since the epoch of the Date: header, 0 when absent. */
gint64              tern_message_content_get_date         (TernMessageContent *self);

/* The text/plain body in UTF-8, NULL if the message has none. */
const char         *tern_message_content_get_text         (TernMessageContent *self);
/* The charset the text was read in ("windows-1251"), NULL without text. */
const char         *tern_message_content_get_text_charset (TernMessageContent *self);
/* The text/html body in UTF-8, NULL if the message has none. */
const char         *tern_message_content_get_html         (TernMessageContent *self);

/* TernMessageAttachments, in the message's order. */
GPtrArray          *tern_message_content_get_attachments  (TernMessageContent *self);
/* The part whose Content-ID is @content_id (with or without angle
 * brackets), for cid: URIs; NULL if none. */
const TernMessageAttachment *
                    tern_message_content_lookup_cid       (TernMessageContent *self,
                                                           const char         *content_id);

/* @data (any bytes) in UTF-8: @charset when given and valid for @data,
 * else UTF-8, windows-1251, KOI8-R, ISO-8859-1 in that order.  @used
 * (optional) receives the charset that was used. */
char               *tern_message_content_to_utf8          (const char         *data,
                                                           gsize               size,
                                                           const char         *charset,
                                                           const char        **used);
/* Unwraps format=flowed text (RFC 3676); @delsp for DelSp=yes. */
char               *tern_message_content_unflow           (const char         *text,
                                                           gboolean            delsp);

G_END_DECLS
