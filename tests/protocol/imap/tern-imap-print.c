/* tern-imap-print.c: responses as one line of text.
 *
 * "untagged - OK CAPABILITY", "tagged a1 OK -", "continuation",
 * "untagged - FETCH uid=5 ...": kind, tag, status or data, code, then the
 * payload, with every string quoted and escaped so that a line never
 * breaks.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tern-imap-print.h"

static void
put_str (GString    *out,
         const char *s)
{
  if (s == NULL)
    {
      g_string_append (out, "NIL");
      return;
    }
  /* Non-ASCII stays readable; quotes, backslashes and controls escaped. */
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    if (*p == '"' || *p == '\\')
      g_string_append_printf (out, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      g_string_append_printf (out, "\\x%02x", *p);
    else
      g_string_append_c (out, (char) *p);
  g_string_append_c (out, '"');
}

static void
put_set (GString           *out,
         const TernImapSet *set)
{
  g_autofree char *text = NULL;

  if (set == NULL)
    {
      g_string_append (out, "NIL");
      return;
    }
  text = tern_imap_set_to_string (set);
  g_string_append (out, text[0] != '\0' ? text : "()");
}

static void
put_flags (GString       *out,
           TernImapFlags  flags,
           GPtrArray     *keywords)
{
  static const char *names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                 "\\Draft", "\\Recent", "$Forwarded", "$Junk" };
  gboolean first = TRUE;

  g_string_append_c (out, '(');
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & (1u << i))
      {
        g_string_append_printf (out, "%s%s", first ? "" : " ", names[i]);
        first = FALSE;
      }
  for (guint i = 0; keywords != NULL && i < keywords->len; i++)
    {
      g_string_append_printf (out, "%s%s", first ? "" : " ",
                              (const char *) g_ptr_array_index (keywords, i));
      first = FALSE;
    }
  g_string_append_c (out, ')');
}

static void
put_strings (GString   *out,
             GPtrArray *strings)
{
  g_string_append_c (out, '(');
  for (guint i = 0; strings != NULL && i < strings->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? " " : "",
                            (const char *) g_ptr_array_index (strings, i));
  g_string_append_c (out, ')');
}

static gint
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
put_table (GString    *out,
           GHashTable *table)
{
  g_autofree gpointer *keys = NULL;
  guint n = 0;

  if (table == NULL)
    {
      g_string_append (out, "NIL");
      return;
    }
  keys = g_hash_table_get_keys_as_array (table, &n);
  qsort (keys, n, sizeof (gpointer), compare_strings);
  g_string_append_c (out, '(');
  for (guint i = 0; i < n; i++)
    {
      g_string_append_printf (out, "%s%s=", i > 0 ? " " : "", (const char *) keys[i]);
      put_str (out, g_hash_table_lookup (table, keys[i]));
    }
  g_string_append_c (out, ')');
}

/* A body part's parameters as put_table() puts a table: by name. */
static void
put_params (GString *out,
            char   **params)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  if (params == NULL)
    {
      g_string_append (out, "NIL");
      return;
    }
  for (gsize i = 0; params[i] != NULL; i += 2)
    g_ptr_array_add (names, params[i]);
  g_ptr_array_sort (names, compare_strings);
  g_string_append_c (out, '(');
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append_printf (out, "%s%s=", i > 0 ? " " : "", (const char *) names->pdata[i]);
      put_str (out, tern_imap_params_lookup (params, names->pdata[i]));
    }
  g_string_append_c (out, ')');
}

static void
put_addresses (GString   *out,
               GPtrArray *addresses)
{
  g_string_append_c (out, '(');
  for (guint i = 0; addresses != NULL && i < addresses->len; i++)
    {
      const TernImapAddress *a = g_ptr_array_index (addresses, i);

      if (i > 0)
        g_string_append_c (out, ' ');
      if (a->host == NULL && a->mailbox != NULL)
        g_string_append_printf (out, "group:%s", a->mailbox);
      else if (a->host == NULL)
        g_string_append (out, "end-group");
      else
        {
          put_str (out, a->name);
          g_string_append_printf (out, "<%s@%s>", a->mailbox != NULL ? a->mailbox : "",
                                  a->host);
        }
    }
  g_string_append_c (out, ')');
}

static void
put_envelope (GString                *out,
              const TernImapEnvelope *e)
{
  g_string_append (out, " envelope=(date=");
  put_str (out, e->date);
  g_string_append (out, " subject=");
  put_str (out, e->subject);
  g_string_append (out, " from=");
  put_addresses (out, e->from);
  g_string_append (out, " sender=");
  put_addresses (out, e->sender);
  g_string_append (out, " reply-to=");
  put_addresses (out, e->reply_to);
  g_string_append (out, " to=");
  put_addresses (out, e->to);
  g_string_append (out, " cc=");
  put_addresses (out, e->cc);
  g_string_append (out, " bcc=");
  put_addresses (out, e->bcc);
  g_string_append (out, " in-reply-to=");
  put_str (out, e->in_reply_to);
  g_string_append (out, " message-id=");
  put_str (out, e->message_id);
  g_string_append_c (out, ')');
}

static void
put_body (GString            *out,
          const TernImapBody *b)
{
  g_string_append_printf (out, "(%s %s/%s", b->section[0] != '\0' ? b->section : "-", b->type,
                          b->subtype != NULL ? b->subtype : "NIL");
  if (b->params != NULL)
    {
      g_string_append (out, " params=");
      put_params (out, b->params);
    }
  if (b->id != NULL)
    g_string_append_printf (out, " id=%s", b->id);
  if (b->description != NULL)
    {
      g_string_append (out, " description=");
      put_str (out, b->description);
    }
  if (b->encoding != NULL)
    g_string_append_printf (out, " encoding=%s", b->encoding);
  if (strcmp (b->type, "multipart") != 0)
    g_string_append_printf (out, " size=%" G_GUINT64_FORMAT, b->size);
  if (b->lines > 0)
    g_string_append_printf (out, " lines=%" G_GUINT64_FORMAT, b->lines);
  if (b->md5 != NULL)
    g_string_append_printf (out, " md5=%s", b->md5);
  if (b->disposition != NULL)
    {
      g_string_append_printf (out, " disposition=%s", b->disposition);
      if (b->disposition_params != NULL)
        put_params (out, b->disposition_params);
      else
        g_string_append (out, "()");
    }
  if (b->language != NULL)
    g_string_append_printf (out, " language=%s", b->language);
  if (b->location != NULL)
    {
      g_string_append (out, " location=");
      put_str (out, b->location);
    }
  if (b->envelope != NULL)
    put_envelope (out, b->envelope);
  for (guint i = 0; b->children != NULL && i < b->children->len; i++)
    {
      g_string_append_c (out, ' ');
      put_body (out, g_ptr_array_index (b->children, i));
    }
  g_string_append_c (out, ')');
}

char *
tern_imap_print_body (const TernImapBody *body)
{
  GString *out = g_string_new (NULL);

  put_body (out, body);
  return g_string_free (out, FALSE);
}

static void
put_message (GString                *out,
             const TernImapResponse *r)
{
  const TernImapMessage *m = r->message;

  if (m->present & TERN_IMAP_FETCH_UID)
    g_string_append_printf (out, " uid=%u", m->uid);
  g_string_append_printf (out, " seq=%u", m->seq);
  if (m->present & TERN_IMAP_FETCH_FLAGS)
    {
      g_string_append (out, " flags=");
      put_flags (out, m->flags, m->keywords);
    }
  if (m->present & TERN_IMAP_FETCH_INTERNALDATE)
    g_string_append_printf (out, " internaldate=%" G_GINT64_FORMAT, m->internal_date);
  if (m->present & TERN_IMAP_FETCH_SIZE)
    g_string_append_printf (out, " size=%" G_GUINT64_FORMAT, m->size);
  if (m->present & TERN_IMAP_FETCH_MODSEQ)
    g_string_append_printf (out, " modseq=%" G_GUINT64_FORMAT, m->modseq);
  if (m->present & TERN_IMAP_FETCH_ENVELOPE)
    put_envelope (out, m->envelope);
  if (m->present & TERN_IMAP_FETCH_BODYSTRUCTURE)
    {
      g_string_append (out, " body=");
      put_body (out, m->body);
    }
  for (guint i = 0; i < r->sections->len; i++)
    {
      const TernImapFetchSection *s = g_ptr_array_index (r->sections, i);

      g_string_append_printf (out, " %s", s->item);
      if (s->section != NULL)
        g_string_append_printf (out, "[%s]", s->section);
      if (s->has_origin)
        g_string_append_printf (out, "<%u>", s->origin);
      if (s->is_nil)
        g_string_append (out, "=NIL");
      else
        g_string_append_printf (out, "=%s%" G_GUINT64_FORMAT, s->streamed ? "streamed:" : "",
                                s->size);
    }
}

static void
put_mailbox (GString                *out,
             const TernImapResponse *r)
{
  static const char *attrs[] = { "\\Noselect", "\\NoInferiors", "\\HasChildren",
                                 "\\HasNoChildren", "\\NonExistent", "\\Subscribed",
                                 "\\Marked", "\\Unmarked", "\\All", "\\Archive",
                                 "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash" };
  const TernImapMailbox *mb = r->mailbox;
  const TernImapStatus *st = &mb->status;

  g_string_append (out, " name=");
  put_str (out, mb->name);
  if (g_strcmp0 (mb->name, mb->raw_name) != 0)
    {
      g_string_append (out, " raw=");
      put_str (out, mb->raw_name);
    }
  if (r->data != TERN_IMAP_DATA_STATUS)
    {
      if (mb->delimiter != '\0')
        g_string_append_printf (out, " delimiter=%c", mb->delimiter);
      else
        g_string_append (out, " delimiter=NIL");
      g_string_append (out, " attributes=(");
      for (guint i = 0, n = 0; i < G_N_ELEMENTS (attrs); i++)
        if (mb->attributes & (1u << i))
          g_string_append_printf (out, "%s%s", n++ > 0 ? " " : "", attrs[i]);
      g_string_append_c (out, ')');
    }
  if (r->childinfo != NULL)
    {
      g_string_append (out, " childinfo=");
      put_strings (out, r->childinfo);
    }
  if (r->oldname != NULL)
    {
      g_string_append (out, " oldname=");
      put_str (out, r->oldname);
    }
  if (st->present & TERN_IMAP_STATUS_MESSAGES)
    g_string_append_printf (out, " messages=%u", st->messages);
  if (st->present & TERN_IMAP_STATUS_RECENT)
    g_string_append_printf (out, " recent=%u", st->recent);
  if (st->present & TERN_IMAP_STATUS_UIDNEXT)
    g_string_append_printf (out, " uidnext=%u", st->uidnext);
  if (st->present & TERN_IMAP_STATUS_UIDVALIDITY)
    g_string_append_printf (out, " uidvalidity=%u", st->uidvalidity);
  if (st->present & TERN_IMAP_STATUS_UNSEEN)
    g_string_append_printf (out, " unseen=%u", st->unseen);
  if (st->present & TERN_IMAP_STATUS_HIGHESTMODSEQ)
    g_string_append_printf (out, " highestmodseq=%" G_GUINT64_FORMAT, st->highestmodseq);
  if (st->present & TERN_IMAP_STATUS_SIZE)
    g_string_append_printf (out, " size=%" G_GUINT64_FORMAT, st->size);
}

static void
put_namespace (GString   *out,
               GPtrArray *list)
{
  if (list == NULL)
    {
      g_string_append (out, " NIL");
      return;
    }
  g_string_append (out, " (");
  for (guint i = 0; i < list->len; i++)
    {
      const TernImapNamespace *ns = g_ptr_array_index (list, i);

      if (i > 0)
        g_string_append_c (out, ' ');
      put_str (out, ns->prefix);
      if (ns->delimiter != '\0')
        g_string_append_printf (out, ":%c", ns->delimiter);
    }
  g_string_append_c (out, ')');
}

static void
put_code (GString                *out,
          const TernImapResponse *r)
{
  if (r->code == TERN_IMAP_CODE_NONE)
    {
      g_string_append (out, " -");
      return;
    }
  g_string_append_printf (out, " %s", r->code_name);
  switch (r->code)
    {
    case TERN_IMAP_CODE_CAPABILITY:
      g_string_append_c (out, ' ');
      put_strings (out, r->capabilities);
      break;
    case TERN_IMAP_CODE_PERMANENTFLAGS:
      g_string_append_c (out, ' ');
      put_flags (out, r->flags, r->keywords);
      if (r->permanent_any)
        g_string_append (out, " any");
      break;
    case TERN_IMAP_CODE_BADCHARSET:
      g_string_append_c (out, ' ');
      put_strings (out, r->code_strings);
      break;
    case TERN_IMAP_CODE_UIDNEXT:
    case TERN_IMAP_CODE_UIDVALIDITY:
    case TERN_IMAP_CODE_UNSEEN:
      g_string_append_printf (out, " %u", r->code_number);
      break;
    case TERN_IMAP_CODE_HIGHESTMODSEQ:
      g_string_append_printf (out, " %" G_GUINT64_FORMAT, r->code_modseq);
      break;
    case TERN_IMAP_CODE_MODIFIED:
      g_string_append_c (out, ' ');
      put_set (out, r->code_set);
      break;
    case TERN_IMAP_CODE_APPENDUID:
      g_string_append_printf (out, " %u ", r->code_number);
      put_set (out, r->code_set);
      break;
    case TERN_IMAP_CODE_COPYUID:
      g_string_append_printf (out, " %u ", r->code_number);
      put_set (out, r->code_source_set);
      g_string_append_c (out, ' ');
      put_set (out, r->code_set);
      break;
    default:
      if (r->code_text != NULL)
        {
          g_string_append_c (out, ' ');
          put_str (out, r->code_text);
        }
      break;
    }
}

char *
tern_imap_print_response (const TernImapResponse *r)
{
  static const char *statuses[] = { "-", "OK", "NO", "BAD", "PREAUTH", "BYE" };
  GString *out = g_string_new (NULL);

  if (r->kind == TERN_IMAP_RESPONSE_CONTINUATION)
    {
      g_string_append (out, "continuation ");
      put_str (out, r->text);
      return g_string_free (out, FALSE);
    }
  g_string_append_printf (out, "%s %s ", r->kind == TERN_IMAP_RESPONSE_TAGGED ? "tagged" : "untagged",
                          r->tag != NULL ? r->tag : "-");
  if (r->status != TERN_IMAP_RESPONSE_STATUS_NONE)
    {
      g_string_append (out, statuses[r->status]);
      put_code (out, r);
      g_string_append_c (out, ' ');
      put_str (out, r->text);
      return g_string_free (out, FALSE);
    }

  g_string_append (out, r->name);
  switch (r->data)
    {
    case TERN_IMAP_DATA_CAPABILITY:
    case TERN_IMAP_DATA_ENABLED:
      g_string_append_c (out, ' ');
      put_strings (out, r->capabilities);
      break;
    case TERN_IMAP_DATA_FLAGS:
      g_string_append_c (out, ' ');
      put_flags (out, r->flags, r->keywords);
      break;
    case TERN_IMAP_DATA_LIST:
    case TERN_IMAP_DATA_LSUB:
    case TERN_IMAP_DATA_STATUS:
      put_mailbox (out, r);
      break;
    case TERN_IMAP_DATA_SEARCH:
      g_string_append_c (out, ' ');
      put_set (out, r->set);
      if (r->modseq > 0)
        g_string_append_printf (out, " modseq=%" G_GUINT64_FORMAT, r->modseq);
      break;
    case TERN_IMAP_DATA_ESEARCH:
      if (r->esearch->tag != NULL)
        g_string_append_printf (out, " tag=%s", r->esearch->tag);
      if (r->esearch->uid)
        g_string_append (out, " uid");
      if (r->esearch->present & TERN_IMAP_ESEARCH_MIN)
        g_string_append_printf (out, " min=%u", r->esearch->min);
      if (r->esearch->present & TERN_IMAP_ESEARCH_MAX)
        g_string_append_printf (out, " max=%u", r->esearch->max);
      if (r->esearch->present & TERN_IMAP_ESEARCH_COUNT)
        g_string_append_printf (out, " count=%u", r->esearch->count);
      if (r->esearch->present & TERN_IMAP_ESEARCH_ALL)
        {
          g_string_append (out, " all=");
          put_set (out, r->set);
        }
      if (r->esearch->present & TERN_IMAP_ESEARCH_MODSEQ)
        g_string_append_printf (out, " modseq=%" G_GUINT64_FORMAT, r->esearch->modseq);
      break;
    case TERN_IMAP_DATA_EXISTS:
    case TERN_IMAP_DATA_RECENT:
    case TERN_IMAP_DATA_EXPUNGE:
      g_string_append_printf (out, " %u", r->number);
      break;
    case TERN_IMAP_DATA_FETCH:
      put_message (out, r);
      break;
    case TERN_IMAP_DATA_VANISHED:
      g_string_append (out, r->earlier ? " earlier " : " ");
      put_set (out, r->set);
      break;
    case TERN_IMAP_DATA_ID:
      g_string_append_c (out, ' ');
      put_table (out, r->id_params);
      break;
    case TERN_IMAP_DATA_NAMESPACE:
      for (int i = 0; i < 3; i++)
        put_namespace (out, r->namespaces[i]);
      break;
    case TERN_IMAP_DATA_OTHER:
      if (r->number > 0)
        g_string_append_printf (out, " %u", r->number);
      g_string_append_c (out, ' ');
      put_str (out, r->text);
      break;
    case TERN_IMAP_DATA_NONE:
    default:
      break;
    }
  return g_string_free (out, FALSE);
}
