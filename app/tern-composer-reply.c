/* tern-composer-reply.c: replies and forwards: recipients, subject,
 * threading headers and the quoted or forwarded text.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-composer-private.h"
#include "tern-composer.h"
#include "tern-mail-store-private.h"
#include "tern-message-content.h"

/* RFC 5322 3.6.4 lets References be trimmed; like most clients, the first
 * (the thread's root) and the most recent ones are kept. */
#define MAX_REFERENCES 20

/* Prefixes a subject already carries when it is a reply or a forward, in
 * the languages mail clients commonly write them in. */
static const char *const reply_prefixes[] = { "re", "aw", "sv", "vs", "ответ", "отв", NULL };
static const char *const forward_prefixes[] = { "fwd", "fw", "wg", "tr", "пересл", NULL };

/* Recipients */

/* @own: the user's addresses, each identity's of the account. */
static gboolean
is_own_address (const char *const *own,
                const char        *addr)
{
  for (guint i = 0; addr != NULL && own[i] != NULL; i++)
    if (g_ascii_strcasecmp (addr, own[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Appends the mailboxes of @list (groups flattened) to @out, without the
 * user's own addresses and without any address in @seen (any case). */
static void
append_mailboxes (InternetAddressList *list,
                  InternetAddressList *out,
                  GHashTable          *seen,
                  const char *const   *account)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);
      const char *addr;

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          append_mailboxes (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                            out, seen, account);
          continue;
        }
      addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
      if (addr == NULL || *addr == '\0' || is_own_address (account, addr)
          || !g_hash_table_add (seen, g_ascii_strdown (addr, -1)))
        continue;
      internet_address_list_add (out, address);
    }
}

static char *
list_text (InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  return internet_address_list_to_string (list, NULL, FALSE);
}

static gboolean
has_others (InternetAddressList *list,
            const char *const   *account)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(InternetAddressList) others = internet_address_list_new ();

  append_mailboxes (list, others, seen, account);
  return internet_address_list_length (others) > 0;
}

static void
set_reply_recipients (TernComposer      *composer,
                      const char *const *account,
                      GMimeMessage *original,
                      gboolean      all)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(InternetAddressList) to = internet_address_list_new ();
  g_autoptr(InternetAddressList) cc = internet_address_list_new ();
  InternetAddressList *reply_to = g_mime_message_get_reply_to (original);
  InternetAddressList *original_to = g_mime_message_get_to (original);
  g_autofree char *to_text = NULL;
  g_autofree char *cc_text = NULL;

  if (reply_to == NULL || internet_address_list_length (reply_to) == 0)
    reply_to = g_mime_message_get_from (original);
  /* A reply to a message the user sent goes to its recipients again. */
  if (!has_others (reply_to, account))
    reply_to = original_to;
  append_mailboxes (reply_to, to, seen, account);
  if (all)
    {
      append_mailboxes (original_to, to, seen, account);
      append_mailboxes (g_mime_message_get_cc (original), cc, seen, account);
      if (internet_address_list_length (to) == 0)
        {
          internet_address_list_append (to, cc);
          internet_address_list_clear (cc);
        }
    }
  to_text = list_text (to);
  cc_text = list_text (cc);
  tern_composer_set_to (composer, to_text);
  tern_composer_set_cc (composer, cc_text);
}

/* Subject */

/* @subject after any leading @prefixes ("Re:", "RE[2]:", "Ответ :"). */
static const char *
skip_prefixes (const char        *subject,
               const char *const *prefixes)
{
  const char *p = subject;
  gboolean stripped = TRUE;

  while (stripped)
    {
      stripped = FALSE;
      while (*p == ' ' || *p == '\t')
        p++;
      for (guint i = 0; prefixes[i] != NULL && !stripped; i++)
        {
          glong n_chars = g_utf8_strlen (prefixes[i], -1);
          const char *after = p;
          g_autofree char *head = NULL;

          for (glong c = 0; c < n_chars && *after != '\0'; c++)
            after = g_utf8_next_char (after);
          head = g_utf8_casefold (p, after - p);
          if (strcmp (head, prefixes[i]) != 0)
            continue;
          if (*after == '[')
            {
              const char *digits_end = after + 1 + strspn (after + 1, "0123456789");

              if (*digits_end == ']')
                after = digits_end + 1;
            }
          while (*after == ' ')
            after++;
          if (*after != ':')
            continue;
          p = after + 1;
          stripped = TRUE;
        }
    }
  return p;
}

static char *
prefixed_subject (const char        *prefix,
                  const char        *subject,
                  const char *const *prefixes)
{
  const char *rest = skip_prefixes (subject ? subject : "", prefixes);

  while (*rest == ' ' || *rest == '\t')
    rest++;
  return g_strconcat (prefix, rest, NULL);
}

/* Threading */

static GMimeReferences *
header_references (GMimeMessage *message,
                   const char   *name)
{
  const char *value = g_mime_object_get_header (GMIME_OBJECT (message), name);

  return value != NULL ? g_mime_references_parse (NULL, value) : NULL;
}

static char *
reply_references (GMimeMessage *original)
{
  const char *message_id = g_mime_message_get_message_id (original);
  GMimeReferences *references = header_references (original, "References");
  GMimeReferences *in_reply_to = header_references (original, "In-Reply-To");
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  GString *out = g_string_new (NULL);
  guint first_kept;

  for (int i = 0; references != NULL && i < g_mime_references_length (references); i++)
    g_ptr_array_add (ids, (gpointer) g_mime_references_get_message_id (references, i));
  /* Without References, a lone In-Reply-To is the parent (RFC 5322 3.6.4). */
  if (ids->len == 0 && in_reply_to != NULL && g_mime_references_length (in_reply_to) == 1)
    g_ptr_array_add (ids, (gpointer) g_mime_references_get_message_id (in_reply_to, 0));
  if (message_id != NULL)
    g_ptr_array_add (ids, (gpointer) message_id);
  first_kept = ids->len > MAX_REFERENCES ? ids->len - (MAX_REFERENCES - 1) : 1;
  for (guint i = 0; i < ids->len; i++)
    {
      if (i > 0 && i < first_kept)
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, g_ptr_array_index (ids, i));
    }
  g_clear_pointer (&references, g_mime_references_free);
  g_clear_pointer (&in_reply_to, g_mime_references_free);
  return g_string_free (out, out->len == 0);
}

/* The original's text */

static const struct
{
  const char *name;
  const char *text;
} entities[] = {
  { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
  { "nbsp", " " },
};

/* Appends the entity at @p ("&amp;", "&#1055;") and returns what follows
 * it, or appends '&' alone when it is not one. */
static const char *
append_entity (GString    *out,
               const char *p)
{
  const char *end = strchr (p, ';');

  if (end != NULL && end - p <= 10)
    {
      if (p[1] == '#')
        {
          gboolean hex = p[2] == 'x' || p[2] == 'X';
          gunichar c = (gunichar) g_ascii_strtoull (p + (hex ? 3 : 2), NULL, hex ? 16 : 10);

          if (g_unichar_validate (c) && c != 0)
            {
              g_string_append_unichar (out, c);
              return end + 1;
            }
        }
      for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
        if (strncmp (p + 1, entities[i].name, end - p - 1) == 0
            && entities[i].name[end - p - 1] == '\0')
          {
            g_string_append (out, entities[i].text);
            return end + 1;
          }
    }
  g_string_append_c (out, '&');
  return p + 1;
}

static gboolean
tag_is (const char *tag,
        const char *name)
{
  gsize len = strlen (name);

  return g_ascii_strncasecmp (tag, name, len) == 0 && !g_ascii_isalnum (tag[len]);
}

/* HTML reduced to its text: tags dropped, blocks and <br> as line breaks,
 * entities decoded, scripts and styles skipped.  Crude, for quoting. */
static char *
html_to_text (const char *html)
{
  static const char *const breaks[] = { "br", "p", "/p", "div", "/div", "tr", "li", "/h1", "/h2",
                                        "/h3", "/h4", "/h5", "/h6", "/ul", "/ol", "/table", NULL };
  GString *out = g_string_new (NULL);
  const char *p = html;

  while (*p != '\0')
    {
      if (*p == '<')
        {
          const char *tag = p + 1;
          const char *end = strchr (p, '>');

          if (end == NULL)
            break;
          if (tag_is (tag, "script") || tag_is (tag, "style"))
            {
              const char *close = strstr (end, tag_is (tag, "script") ? "</script" : "</style");

              if (close == NULL)
                close = strstr (end, tag_is (tag, "script") ? "</SCRIPT" : "</STYLE");
              end = close ? strchr (close, '>') : NULL;
              if (end == NULL)
                break;
            }
          for (guint i = 0; breaks[i] != NULL; i++)
            if (tag_is (tag, breaks[i]))
              {
                g_string_append_c (out, '\n');
                break;
              }
          p = end + 1;
        }
      else if (*p == '&')
        p = append_entity (out, p);
      else if (g_ascii_isspace (*p))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
            g_string_append_c (out, ' ');
          p++;
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* The original's text, for quoting: its text/plain part (charset and
 * format=flowed handled by TernMessageContent), else its HTML as text. */
static char *
original_text (TernMessageContent *content)
{
  if (tern_message_content_get_text (content) != NULL)
    return _tern_composer_normalize_text (tern_message_content_get_text (content));
  if (tern_message_content_get_html (content) != NULL)
    {
      g_autofree char *text = html_to_text (tern_message_content_get_html (content));

      return _tern_composer_normalize_text (text);
    }
  return g_strdup ("");
}

static char *
sender_name (GMimeMessage *original)
{
  InternetAddressList *from = g_mime_message_get_from (original);
  InternetAddress *first;
  const char *name;

  if (from == NULL || internet_address_list_length (from) == 0)
    return g_strdup (_("Unknown sender"));
  first = internet_address_list_get_address (from, 0);
  name = internet_address_get_name (first);
  if (name != NULL && *name != '\0')
    return g_strdup (name);
  if (INTERNET_ADDRESS_IS_MAILBOX (first))
    return g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (first)));
  return internet_address_to_string (first, NULL, FALSE);
}

/* The original's date in the user's locale and time zone, or NULL. */
static char *
original_date (GMimeMessage *original)
{
  GDateTime *date = g_mime_message_get_date (original);
  g_autoptr(GDateTime) local = NULL;

  if (date == NULL)
    return NULL;
  local = g_date_time_to_local (date);
  return g_date_time_format (local, "%x %X");
}

static char *
quoted_reply (GMimeMessage       *original,
              TernMessageContent *content)
{
  g_autofree char *text = original_text (content);
  g_autofree char *who = sender_name (original);
  g_autofree char *when = original_date (original);
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  gsize n;

  if (when != NULL)
    /* Translators: the line above a quoted message: the date and time, then
     * the sender's name ("On 26/11/2026 12:00:00, Alice wrote:"). */
    g_string_append_printf (out, _("On %s, %s wrote:"), when, who);
  else
    g_string_append_printf (out, _("%s wrote:"), who);
  g_string_append_c (out, '\n');

  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  /* No quoted empty lines for the text's trailing line breaks. */
  while (n > 0 && *g_strstrip (lines[n - 1]) == '\0')
    n--;
  for (gsize i = 0; i < n; i++)
    {
      const char *line = lines[i];

      g_string_append (out, line[0] == '>' ? ">" : line[0] == '\0' ? ">" : "> ");
      g_string_append (out, line);
      g_string_append_c (out, '\n');
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

static char *
forwarded_body (GMimeMessage       *original,
                TernMessageContent *content)
{
  g_autofree char *text = original_text (content);
  g_autofree char *when = original_date (original);
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  const char *subject = g_mime_message_get_subject (original);
  GString *out = g_string_new ("\n\n-------- ");

  from = list_text (g_mime_message_get_from (original));
  to = list_text (g_mime_message_get_to (original));
  g_string_append (out, _("Forwarded Message"));
  g_string_append (out, " --------\n");
  if (subject != NULL)
    g_string_append_printf (out, _("Subject: %s\n"), subject);
  if (when != NULL)
    g_string_append_printf (out, _("Date: %s\n"), when);
  if (from != NULL)
    g_string_append_printf (out, _("From: %s\n"), from);
  if (to != NULL)
    g_string_append_printf (out, _("To: %s\n"), to);
  g_string_append_c (out, '\n');
  g_string_append (out, text);
  return g_string_free (out, FALSE);
}

/* Forwards */

static GBytes *
message_bytes (GMimeMessage *message)
{
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;
  GBytes *bytes;

  g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = g_bytes_new (array->data, array->len);
  g_object_unref (stream);
  return bytes;
}

/* The original's attachments go along with an inline forward. */
static void
add_original_attachments (TernComposer       *composer,
                          TernMessageContent *content)
{
  GPtrArray *attachments = tern_message_content_get_attachments (content);

  for (guint i = 0; i < attachments->len; i++)
    {
      const TernMessageAttachment *attachment = g_ptr_array_index (attachments, i);

      tern_composer_add_attachment_bytes (composer, attachment->data, attachment->filename,
                                          attachment->content_type);
    }
}

static char *
message_filename (GMimeMessage *original)
{
  const char *subject = g_mime_message_get_subject (original);
  g_autofree char *name = g_strdup (subject != NULL && *subject != '\0' ? subject : "message");

  /* Not a path, whatever the subject says. */
  g_strdelimit (name, "/\\:", '_');
  return g_strconcat (name, ".eml", NULL);
}

/* Fills @composer (from the sender already) as a reply to or forward of
 * @original; @own are the user's addresses, left out of a reply to all. */
static TernComposer *
fill_reply (TernComposer      *new_composer,
            const char *const *own,
            GMimeMessage      *original,
            TernReplyMode      mode)
{
  g_autoptr(TernComposer) composer = new_composer;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(TernMessageContent) content = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;

  raw = message_bytes (original);
  content = tern_message_content_new (raw, NULL);
  switch (mode)
    {
    case TERN_REPLY_MODE_REPLY:
    case TERN_REPLY_MODE_REPLY_ALL:
      {
        g_autofree char *references = reply_references (original);

        set_reply_recipients (composer, own, original, mode == TERN_REPLY_MODE_REPLY_ALL);
        subject = prefixed_subject ("Re: ", g_mime_message_get_subject (original), reply_prefixes);
        tern_composer_set_in_reply_to (composer, g_mime_message_get_message_id (original));
        tern_composer_set_references (composer, references);
        body = quoted_reply (original, content);
        break;
      }
    case TERN_REPLY_MODE_FORWARD_INLINE:
      subject = prefixed_subject ("Fwd: ", g_mime_message_get_subject (original),
                                  forward_prefixes);
      body = forwarded_body (original, content);
      tern_composer_set_text_above_quote (composer, TRUE);
      add_original_attachments (composer, content);
      break;
    case TERN_REPLY_MODE_FORWARD_ATTACHMENT:
      {
        g_autofree char *filename = message_filename (original);

        subject = prefixed_subject ("Fwd: ", g_mime_message_get_subject (original),
                                    forward_prefixes);
        tern_composer_add_attachment_bytes (composer, raw, filename, "message/rfc822");
        break;
      }
    default:
      g_return_val_if_reached (NULL);
    }
  tern_composer_set_subject (composer, subject);
  tern_composer_set_body (composer, body);
  return g_steal_pointer (&composer);
}

TernComposer *
tern_composer_new_reply (TernAccount   *account,
                         GMimeMessage  *original,
                         TernReplyMode  mode)
{
  const char *own[] = { NULL, NULL };

  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (GMIME_IS_MESSAGE (original), NULL);

  _tern_mail_ensure_gmime ();
  own[0] = tern_account_get_address (account);
  return fill_reply (tern_composer_new_for_account (account), own, original, mode);
}

TernComposer *
tern_composer_new_reply_from (GListModel    *identities,
                              GMimeMessage  *original,
                              TernReplyMode  mode)
{
  g_autoptr(TernIdentity) identity = NULL;
  g_autoptr(GPtrArray) own = g_ptr_array_new ();

  g_return_val_if_fail (G_IS_LIST_MODEL (identities), NULL);
  g_return_val_if_fail (g_list_model_get_n_items (identities) > 0, NULL);
  g_return_val_if_fail (GMIME_IS_MESSAGE (original), NULL);

  _tern_mail_ensure_gmime ();
  identity = tern_identities_for_message (identities, original);
  for (guint i = 0; i < g_list_model_get_n_items (identities); i++)
    {
      g_autoptr(TernIdentity) item = g_list_model_get_item (identities, i);

      /* The list holds its identities, and so their addresses. */
      g_ptr_array_add (own, (gpointer) tern_identity_get_address (item));
    }
  g_ptr_array_add (own, NULL);
  return fill_reply (tern_composer_new_for_identity (identity),
                     (const char *const *) own->pdata, original, mode);
}
