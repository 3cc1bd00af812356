/* tern-imap-types.c: sets, envelopes, body structures, messages and
 * mailboxes of tern-imap-types.h, and the IMAP error domain.
 *
 * Modified UTF-7 is in tern-imap-utf7.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tern-imap-types.h"
#include "tern-imap-client.h"
#include "tern-imap-parser-private.h"

G_DEFINE_QUARK (tern-imap-error-quark, tern_imap_error)

/* Sets */

TernImapSet *
tern_imap_set_new (void)
{
  TernImapSet *set = g_new0 (TernImapSet, 1);

  set->ranges = g_array_new (FALSE, FALSE, sizeof (TernImapRange));
  return set;
}

void
tern_imap_set_free (TernImapSet *set)
{
  if (set == NULL)
    return;
  g_array_unref (set->ranges);
  g_free (set);
}

/* Index of the first range whose last >= @value (may be len). */
static guint
lower_bound (const TernImapSet *set,
             guint32            value)
{
  guint lo = 0, hi = set->ranges->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (set->ranges, TernImapRange, mid).last < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

void
tern_imap_set_add_range (TernImapSet *set,
                         guint32      first,
                         guint32      last)
{
  TernImapRange merged;
  guint start, end;

  g_return_if_fail (set != NULL);

  if (first > last)
    {
      guint32 tmp = first;
      first = last;
      last = tmp;
    }

  /* Ascending input (SEARCH results) appends in constant time. */
  if (set->ranges->len > 0)
    {
      TernImapRange *tail = &g_array_index (set->ranges, TernImapRange, set->ranges->len - 1);

      if (first > tail->last && first - 1 > tail->last)
        {
          TernImapRange r = { first, last };
          g_array_append_val (set->ranges, r);
          return;
        }
      if (first > tail->last)
        {
          tail->last = last;
          return;
        }
    }

  /* Ranges that overlap or touch [first, last] are [start, end). */
  start = lower_bound (set, first > 0 ? first - 1 : 0);
  merged.first = first;
  merged.last = last;
  end = start;
  while (end < set->ranges->len)
    {
      TernImapRange *r = &g_array_index (set->ranges, TernImapRange, end);

      if (last != G_MAXUINT32 && r->first > last + 1)
        break;
      merged.first = MIN (merged.first, r->first);
      merged.last = MAX (merged.last, r->last);
      end++;
    }
  if (end > start)
    g_array_remove_range (set->ranges, start, end - start);
  g_array_insert_val (set->ranges, start, merged);
}

void
tern_imap_set_add (TernImapSet *set,
                   guint32      value)
{
  tern_imap_set_add_range (set, value, value);
}

gboolean
tern_imap_set_contains (const TernImapSet *set,
                        guint32            value)
{
  guint i;

  g_return_val_if_fail (set != NULL, FALSE);

  i = lower_bound (set, value);
  return i < set->ranges->len && g_array_index (set->ranges, TernImapRange, i).first <= value;
}

guint64
tern_imap_set_count (const TernImapSet *set)
{
  guint64 count = 0;

  g_return_val_if_fail (set != NULL, 0);

  for (guint i = 0; i < set->ranges->len; i++)
    {
      const TernImapRange *r = &g_array_index (set->ranges, TernImapRange, i);
      count += (guint64) r->last - r->first + 1;
    }
  return count;
}

gboolean
tern_imap_set_is_empty (const TernImapSet *set)
{
  g_return_val_if_fail (set != NULL, TRUE);

  return set->ranges->len == 0;
}

static void
append_number (GString *out,
               guint32  n)
{
  if (n == G_MAXUINT32)
    g_string_append_c (out, '*');
  else
    g_string_append_printf (out, "%u", n);
}

char *
tern_imap_set_to_string (const TernImapSet *set)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (set != NULL, NULL);

  for (guint i = 0; i < set->ranges->len; i++)
    {
      const TernImapRange *r = &g_array_index (set->ranges, TernImapRange, i);

      if (i > 0)
        g_string_append_c (out, ',');
      append_number (out, r->first);
      if (r->last != r->first)
        {
          g_string_append_c (out, ':');
          append_number (out, r->last);
        }
    }
  return g_string_free (out, FALSE);
}

/* A nz-number or "*"; advances *p. */
static gboolean
parse_set_number (const char **p,
                  guint32     *out)
{
  guint64 n = 0;
  const char *s = *p;

  if (*s == '*')
    {
      *out = G_MAXUINT32;
      *p = s + 1;
      return TRUE;
    }
  if (*s < '1' || *s > '9')
    return FALSE;
  while (*s >= '0' && *s <= '9')
    {
      n = n * 10 + (guint64) (*s - '0');
      if (n > G_MAXUINT32)
        return FALSE;
      s++;
    }
  *out = (guint32) n;
  *p = s;
  return TRUE;
}

TernImapSet *
tern_imap_set_parse (const char *text)
{
  g_autoptr(TernImapSet) set = NULL;
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);

  set = tern_imap_set_new ();
  for (;;)
    {
      guint32 first, last;

      if (!parse_set_number (&p, &first))
        return NULL;
      last = first;
      if (*p == ':')
        {
          p++;
          if (!parse_set_number (&p, &last))
            return NULL;
        }
      tern_imap_set_add_range (set, first, last);
      if (*p == '\0')
        break;
      if (*p != ',')
        return NULL;
      p++;
    }
  return g_steal_pointer (&set);
}

/* Envelopes, bodies, messages, mailboxes */

/* Those of a parsed message (see TernImapMessage.strings): the structs
 * and lists, not the strings.  (The parser makes the lists of addresses
 * and of parts free their items likewise, and its parameter tables free
 * nothing but themselves.)  The public ones free the strings first. */
void
_tern_imap_envelope_free_kept (TernImapEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_clear_pointer (&envelope->from, g_ptr_array_unref);
  g_clear_pointer (&envelope->sender, g_ptr_array_unref);
  g_clear_pointer (&envelope->reply_to, g_ptr_array_unref);
  g_clear_pointer (&envelope->to, g_ptr_array_unref);
  g_clear_pointer (&envelope->cc, g_ptr_array_unref);
  g_clear_pointer (&envelope->bcc, g_ptr_array_unref);
  g_free (envelope);
}

void
_tern_imap_body_free_kept (TernImapBody *body)
{
  if (body == NULL)
    return;
  g_free (body->params);
  g_free (body->disposition_params);
  _tern_imap_envelope_free_kept (body->envelope);
  g_clear_pointer (&body->children, g_ptr_array_unref);
  g_free (body);
}

/* The names and values of a body made by hand; the vector itself goes
 * with the body. */
static void
free_param_strings (char **params)
{
  for (gsize i = 0; params != NULL && params[i] != NULL; i++)
    g_free (params[i]);
}

void
tern_imap_envelope_free (TernImapEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free (envelope->date);
  g_free (envelope->subject);
  g_free (envelope->in_reply_to);
  g_free (envelope->message_id);
  _tern_imap_envelope_free_kept (envelope);
}

void
tern_imap_body_free (TernImapBody *body)
{
  if (body == NULL)
    return;
  g_free (body->type);
  g_free (body->subtype);
  g_free (body->id);
  g_free (body->description);
  g_free (body->encoding);
  g_free (body->md5);
  g_free (body->disposition);
  g_free (body->language);
  g_free (body->location);
  g_free (body->section);
  free_param_strings (body->params);
  free_param_strings (body->disposition_params);
  g_clear_pointer (&body->envelope, tern_imap_envelope_free);
  _tern_imap_body_free_kept (body);
}

/**
 * tern_imap_params_lookup:
 * @params: (nullable) (array zero-terminated=1): a body part's parameters
 * @name: a lower-case name
 *
 * Returns: (nullable): the value of @name among @params.
 */
const char *
tern_imap_params_lookup (char * const *params,
                         const char   *name)
{
  for (gsize i = 0; params != NULL && params[i] != NULL; i += 2)
    if (strcmp (params[i], name) == 0)
      return params[i + 1];
  return NULL;
}

TernImapMessage *
tern_imap_message_new (void)
{
  TernImapMessage *message = g_new0 (TernImapMessage, 1);

  message->keywords = g_ptr_array_new_with_free_func (g_free);
  return message;
}

void
tern_imap_message_free (TernImapMessage *message)
{
  if (message == NULL)
    return;
  g_clear_pointer (&message->keywords, g_ptr_array_unref);
  if (message->strings != NULL)
    {
      _tern_imap_envelope_free_kept (message->envelope);
      _tern_imap_body_free_kept (message->body);
      g_string_chunk_free (message->strings);
    }
  else
    {
      tern_imap_envelope_free (message->envelope);
      tern_imap_body_free (message->body);
    }
  g_clear_pointer (&message->headers, g_bytes_unref);
  g_free (message);
}

void
tern_imap_mailbox_free (TernImapMailbox *mailbox)
{
  if (mailbox == NULL)
    return;
  g_free (mailbox->name);
  g_free (mailbox->raw_name);
  g_free (mailbox);
}

void
tern_imap_address_free (TernImapAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->name);
  g_free (address->adl);
  g_free (address->mailbox);
  g_free (address->host);
  g_free (address);
}

gint64
tern_imap_utc_seconds (guint year,
                       guint month,
                       guint day,
                       guint seconds_of_day)
{
  /* g_date_get_julian () of 1 January 1970: GDate counts from 1 January
   * of year 1. */
  const gint64 epoch = 719163;
  GDate date;

  g_return_val_if_fail (g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year), 0);

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) day, (GDateMonth) month, (GDateYear) year);
  return ((gint64) g_date_get_julian (&date) - epoch) * 86400 + seconds_of_day;
}
