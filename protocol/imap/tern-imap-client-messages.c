/* tern-imap-client-messages.c: pipelined UID FETCH, bodies streamed to a
 * stream, SEARCH/ESEARCH, STORE, COPY/MOVE with COPYUID, EXPUNGE, APPEND.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include "tern-imap-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* Fetching */

#define HEADER_FIELDS "HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)"

static char *
fetch_items_string (TernImapClient     *self,
                    TernImapFetchItems  items)
{
  g_autoptr(GString) text = g_string_new ("UID");

  if (items & TERN_IMAP_FETCH_FLAGS)
    g_string_append (text, " FLAGS");
  if (items & TERN_IMAP_FETCH_INTERNALDATE)
    g_string_append (text, " INTERNALDATE");
  if (items & TERN_IMAP_FETCH_SIZE)
    g_string_append (text, " RFC822.SIZE");
  if (items & TERN_IMAP_FETCH_ENVELOPE)
    g_string_append (text, " ENVELOPE");
  if (items & TERN_IMAP_FETCH_BODYSTRUCTURE)
    g_string_append (text, " BODYSTRUCTURE");
  if ((items & TERN_IMAP_FETCH_MODSEQ) && _tern_imap_client_condstore_on (self))
    g_string_append (text, " MODSEQ");
  if (items & TERN_IMAP_FETCH_HEADERS)
    g_string_append (text, " BODY.PEEK[" HEADER_FIELDS "]");

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Cuts @set into sets of at most @per_chunk values (or @max_ranges
 * ranges); a range that ends at "*" stays whole. */
static GPtrArray *
split_set (const TernImapSet *set,
           guint64            per_chunk,
           guint              max_ranges)
{
  GPtrArray *chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_set_free);
  TernImapSet *current = NULL;
  guint64 count = 0;
  guint ranges = 0;

  for (guint i = 0; i < set->ranges->len; i++)
    {
      TernImapRange range = g_array_index (set->ranges, TernImapRange, i);

      while (TRUE)
        {
          guint64 room, take;

          if (current == NULL || count >= per_chunk || ranges >= max_ranges)
            {
              current = tern_imap_set_new ();
              g_ptr_array_add (chunks, current);
              count = 0;
              ranges = 0;
            }

          room = per_chunk - count;
          if (range.last == G_MAXUINT32)
            take = (guint64) range.last - range.first + 1;
          else
            take = MIN (room, (guint64) range.last - range.first + 1);

          tern_imap_set_add_range (current, range.first, (guint32) (range.first + take - 1));
          count += take;
          ranges++;
          if ((guint64) range.first + take - 1 >= range.last)
            break;
          range.first += (guint32) take;
        }
    }

  return chunks;
}

typedef struct
{
  const TernImapSet *uids;
  TernImapFetchItems items;  /* what a response must carry to be ours */
  TernImapFetchFunc func;
  gpointer user_data;
  GError *error;             /* the callback's, once it stopped */
  guint count;
} FetchData;

static void
take_headers (TernImapResponse *response)
{
  TernImapMessage *message = response->message;

  if ((message->present & TERN_IMAP_FETCH_HEADERS) || response->sections == NULL)
    return;

  for (guint i = 0; i < response->sections->len; i++)
    {
      TernImapFetchSection *section = response->sections->pdata[i];

      if (section->section != NULL && g_str_has_prefix (section->section, "HEADER.FIELDS"))
        {
          g_clear_pointer (&message->headers, g_bytes_unref);
          message->headers = section->data != NULL ? g_bytes_ref (section->data)
                                                   : g_bytes_new (NULL, 0);
          message->present |= TERN_IMAP_FETCH_HEADERS;
        }
    }
}

static gboolean
fetch_untagged (TernImapClient   *self,
                TernImapResponse *response,
                gpointer          data)
{
  FetchData *fetch = data;
  TernImapMessage *message = response->message;

  if (response->data != TERN_IMAP_DATA_FETCH || message == NULL)
    return FALSE;

  take_headers (response);
  if (!(message->present & TERN_IMAP_FETCH_UID) ||
      !tern_imap_set_contains (fetch->uids, message->uid) ||
      (message->present & fetch->items) != fetch->items)
    return FALSE;  /* a change the server reports on its own */

  _tern_imap_client_note_fetch_uid (self, message);
  fetch->count++;
  if (fetch->error == NULL && !fetch->func (message, fetch->user_data, &fetch->error) &&
      fetch->error == NULL)
    g_set_error (&fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
  return TRUE;
}

static TernImapCommand *
fetch_command (TernImapClient    *self,
               const TernImapSet *uids,
               const char        *items,
               guint64            changedsince)
{
  g_autofree char *set = tern_imap_set_to_string (uids);
  TernImapCommand *command = _tern_imap_client_command_new (self, "UID FETCH");

  tern_imap_command_add_printf (command, "UID FETCH %s (%s)", set, items);
  if (changedsince != 0 && _tern_imap_client_condstore_on (self))
    tern_imap_command_add_printf (command, " (CHANGEDSINCE %" G_GUINT64_FORMAT ")", changedsince);
  tern_imap_command_end (command);
  return command;
}

static gboolean
fetch_chunks (TernImapClient      *self,
              const TernImapSet   *uids,
              GPtrArray           *chunks,
              TernImapFetchItems   items,
              guint64              changedsince,
              TernImapFetchFunc    func,
              gpointer             user_data,
              GCancellable        *cancellable,
              GError             **error)
{
  g_autoptr(GPtrArray) commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GQueue) in_flight = g_queue_new ();  /* borrowed from @commands */
  g_autofree char *item_text = NULL;
  g_autoptr(GError) first_error = NULL;
  FetchData data = { uids, 0, func, user_data, NULL, 0 };
  guint next = 0;

  if (self->selected == NULL)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                   _("No mailbox is selected on %s"), self->label);
      return FALSE;
    }

  /* MODSEQ and BODY may legitimately be missing from our own answers. */
  data.items = items & (TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                        TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                        TERN_IMAP_FETCH_HEADERS);
  item_text = fetch_items_string (self, items);

  for (;;)
    {
      g_autoptr(TernImapResponse) tagged = NULL;
      TernImapCommand *head;
      gboolean sent = FALSE;

      /* Keep the pipe full, unless we are stopping. */
      while (next < chunks->len && g_queue_get_length (in_flight) < FETCH_IN_FLIGHT &&
             data.error == NULL && first_error == NULL)
        {
          TernImapCommand *command = fetch_command (self, chunks->pdata[next++], item_text,
                                                    changedsince);

          g_ptr_array_add (commands, command);
          g_queue_push_tail (in_flight, command);
          if (!_tern_imap_client_send_command (self, command, NULL, cancellable, error))
            goto failed;
          sent = TRUE;
        }
      if (sent && !tern_connection_flush (self->connection, cancellable, error))
        goto failed;
      if (g_queue_is_empty (in_flight))
        break;

      head = g_queue_pop_head (in_flight);
      tagged = _tern_imap_client_wait_tagged (self, head->tag, fetch_untagged, &data, cancellable,
                                              error);
      if (tagged == NULL)
        goto failed;
      if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK && first_error == NULL)
        _tern_imap_client_set_response_error (self, head->what, tagged, &first_error);
    }

  if (data.error != NULL)
    {
      g_propagate_error (error, data.error);
      return FALSE;
    }
  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;

failed:
  g_clear_error (&data.error);
  return FALSE;
}

gboolean
tern_imap_client_fetch (TernImapClient      *self,
                        const TernImapSet   *uids,
                        TernImapFetchItems   items,
                        guint64              changedsince,
                        TernImapFetchFunc    func,
                        gpointer             user_data,
                        GCancellable        *cancellable,
                        GError             **error)
{
  g_autoptr(GPtrArray) chunks = NULL;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && func != NULL, FALSE);

  chunks = split_set (uids, FETCH_BATCH, SET_BATCH);
  return fetch_chunks (self, uids, chunks, items, changedsince, func, user_data, cancellable,
                       error);
}

gboolean
tern_imap_client_fetch_newest_first (TernImapClient      *self,
                                     const TernImapSet   *uids,
                                     TernImapFetchItems   items,
                                     guint64              changedsince,
                                     TernImapFetchFunc    func,
                                     gpointer             user_data,
                                     GCancellable        *cancellable,
                                     GError             **error)
{
  g_autoptr(GPtrArray) chunks = NULL;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && func != NULL, FALSE);

  chunks = split_set (uids, FETCH_BATCH, SET_BATCH);
  for (guint i = 0, j = chunks->len; i + 1 < j; i++, j--)
    {
      gpointer swap = chunks->pdata[i];

      chunks->pdata[i] = chunks->pdata[j - 1];
      chunks->pdata[j - 1] = swap;
    }
  return fetch_chunks (self, uids, chunks, items, changedsince, func, user_data, cancellable,
                       error);
}

typedef struct
{
  GOutputStream *out;
  guint32 uid;
  gboolean got;
} BodyData;

static GOutputStream *
body_sink_cb (guint32     seq,
              const char *item,
              const char *section,
              guint64     size,
              gpointer    user_data)
{
  BodyData *body = user_data;

  return g_object_ref (body->out);
}

static gboolean
body_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  BodyData *body = data;

  if (response->data != TERN_IMAP_DATA_FETCH || response->message == NULL ||
      response->sections == NULL)
    return FALSE;

  for (guint i = 0; i < response->sections->len; i++)
    {
      TernImapFetchSection *section = response->sections->pdata[i];

      if (section->streamed || section->is_nil)
        body->got = body->got || section->streamed;
    }
  /* Flags that came along still count as a change to report. */
  return FALSE;
}

gboolean
tern_imap_client_fetch_body (TernImapClient  *self,
                             guint32          uid,
                             const char      *section,
                             GOutputStream   *out,
                             GCancellable    *cancellable,
                             GError         **error)
{
  g_autoptr(TernImapCommand) command = NULL;
  BodyData data = { out, uid, FALSE };
  gboolean ok;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);

  command = _tern_imap_client_command_new (self, "UID FETCH BODY.PEEK[]");
  tern_imap_command_add_printf (command, "UID FETCH %u (UID BODY.PEEK[%s])", uid,
                                section != NULL ? section : "");
  tern_imap_command_end (command);

  tern_imap_parser_set_body_sink (self->parser, body_sink_cb, &data, NULL);
  ok = _tern_imap_client_run_command (self, command, body_untagged, &data, NULL, cancellable,
                                      error);
  tern_imap_parser_set_body_sink (self->parser, NULL, NULL, NULL);
  if (!ok)
    return FALSE;

  if (!data.got)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT,
                   _("The message with UID %u is no longer on %s"), uid, self->label);
      return FALSE;
    }
  return TRUE;
}

/* Bodies, pipelined */

typedef struct
{
  const TernImapSet *uids;
  TernImapBodyBeginFunc begin;
  TernImapBodyDoneFunc done;
  gpointer user_data;
  GHashTable *open;  /* sequence number -> GOutputStream, bodies being received */
  GError *error;     /* the first failure of a callback */
} BodiesData;

static GOutputStream *
bodies_sink_cb (guint32     seq,
                const char *item,
                const char *section,
                guint64     size,
                gpointer    user_data)
{
  BodiesData *bodies = user_data;
  GOutputStream *out;

  /* Only the whole message is ours; anything else stays in memory. */
  if (g_strcmp0 (item, "BODY") != 0 || g_strcmp0 (section, "") != 0)
    return NULL;
  out = bodies->begin (size, bodies->user_data);
  g_hash_table_replace (bodies->open, GUINT_TO_POINTER (seq), g_object_ref (out));
  return out;
}

static gboolean
bodies_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  BodiesData *bodies = data;
  TernImapMessage *message = response->message;
  g_autoptr(GOutputStream) out = NULL;

  if (response->data != TERN_IMAP_DATA_FETCH || message == NULL || response->sections == NULL)
    return FALSE;
  if (!g_hash_table_steal_extended (bodies->open, GUINT_TO_POINTER (message->seq), NULL,
                                    (gpointer *) &out))
    return FALSE;
  _tern_imap_client_note_fetch_uid (self, message);
  if (!(message->present & TERN_IMAP_FETCH_UID) ||
      !tern_imap_set_contains (bodies->uids, message->uid))
    return FALSE;  /* RFC 3501 requires the UID; without it the body is dropped */
  if (bodies->error == NULL &&
      !bodies->done (message->uid, out, bodies->user_data, &bodies->error) &&
      bodies->error == NULL)
    g_set_error (&bodies->error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
  /* Flags that came along still count as a change to report. */
  return FALSE;
}

gboolean
tern_imap_client_fetch_bodies (TernImapClient         *self,
                               const TernImapSet      *uids,
                               TernImapBodyBeginFunc   begin,
                               TernImapBodyDoneFunc    done,
                               gpointer                user_data,
                               GCancellable           *cancellable,
                               GError                **error)
{
  g_autoptr(GPtrArray) chunks = NULL;
  g_autoptr(GPtrArray) commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GQueue) in_flight = g_queue_new ();  /* borrowed from @commands */
  g_autoptr(GHashTable) open = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  g_autoptr(GError) first_error = NULL;
  BodiesData data = { uids, begin, done, user_data, open, NULL };
  gboolean ok = FALSE;
  guint next = 0;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && begin != NULL && done != NULL, FALSE);

  if (self->selected == NULL)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                   _("No mailbox is selected on %s"), self->label);
      return FALSE;
    }

  chunks = split_set (uids, BODY_BATCH, SET_BATCH);
  tern_imap_parser_set_body_sink (self->parser, bodies_sink_cb, &data, NULL);
  for (;;)
    {
      g_autoptr(TernImapResponse) tagged = NULL;
      TernImapCommand *head;
      gboolean sent = FALSE;

      while (next < chunks->len && g_queue_get_length (in_flight) < FETCH_IN_FLIGHT &&
             data.error == NULL && first_error == NULL)
        {
          TernImapCommand *command = fetch_command (self, chunks->pdata[next++],
                                                    "UID BODY.PEEK[]", 0);

          g_ptr_array_add (commands, command);
          g_queue_push_tail (in_flight, command);
          if (!_tern_imap_client_send_command (self, command, NULL, cancellable, error))
            goto out;
          sent = TRUE;
        }
      if (sent && !tern_connection_flush (self->connection, cancellable, error))
        goto out;
      if (g_queue_is_empty (in_flight))
        break;

      head = g_queue_pop_head (in_flight);
      tagged = _tern_imap_client_wait_tagged (self, head->tag, bodies_untagged, &data,
                                              cancellable, error);
      if (tagged == NULL)
        goto out;
      /* A NO for messages expunged meanwhile (RFC 2180 4.1.2) still
       * delivered the others; only a BAD is our mistake. */
      if (tagged->status == TERN_IMAP_RESPONSE_STATUS_BAD && first_error == NULL)
        _tern_imap_client_set_response_error (self, head->what, tagged, &first_error);
    }

  if (data.error != NULL)
    g_propagate_error (error, g_steal_pointer (&data.error));
  else if (first_error != NULL)
    g_propagate_error (error, g_steal_pointer (&first_error));
  else
    ok = TRUE;

out:
  tern_imap_parser_set_body_sink (self->parser, NULL, NULL, NULL);
  g_clear_error (&data.error);
  return ok;
}

typedef struct
{
  TernImapSet *result;
} SearchData;

static gboolean
search_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  SearchData *search = data;

  if (response->data != TERN_IMAP_DATA_SEARCH && response->data != TERN_IMAP_DATA_ESEARCH)
    return FALSE;

  if (response->set != NULL)
    for (guint i = 0; i < response->set->ranges->len; i++)
      {
        TernImapRange *range = &g_array_index (response->set->ranges, TernImapRange, i);

        tern_imap_set_add_range (search->result, range->first, range->last);
      }
  return TRUE;
}

static gboolean
has_8bit (const char *text)
{
  for (const guchar *p = (const guchar *) text; p != NULL && *p != '\0'; p++)
    if (*p >= 0x80)
      return TRUE;
  return FALSE;
}

TernImapSet *
tern_imap_client_uid_search (TernImapClient           *self,
                             const TernImapSearchKey  *keys,
                             guint                     n_keys,
                             GCancellable             *cancellable,
                             GError                  **error)
{
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "UID SEARCH");
  g_autoptr(TernImapSet) result = tern_imap_set_new ();
  gboolean utf8 = FALSE;
  SearchData data = { result };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);
  g_return_val_if_fail (keys != NULL || n_keys == 0, NULL);

  for (guint i = 0; i < n_keys; i++)
    utf8 = utf8 || has_8bit (keys[i].value);
  tern_imap_command_add (command, "UID SEARCH");
  if (tern_imap_client_has_capability (self, "ESEARCH"))
    tern_imap_command_add (command, " RETURN (ALL)");
  /* Under UTF8=ACCEPT strings are UTF-8 already (RFC 6855). */
  if (utf8 && !tern_imap_client_is_enabled (self, "UTF8=ACCEPT"))
    tern_imap_command_add (command, " CHARSET UTF-8");
  if (n_keys == 0)
    tern_imap_command_add (command, " ALL");
  for (guint i = 0; i < n_keys; i++)
    {
      tern_imap_command_add_printf (command, " %s", keys[i].key);
      if (keys[i].value != NULL)
        {
          tern_imap_command_add (command, " ");
          tern_imap_command_add_string (command, keys[i].value);
        }
    }
  tern_imap_command_end (command);

  if (!_tern_imap_client_run_command (self, command, search_untagged, &data, NULL, cancellable,
                                      error))
    return NULL;
  return g_steal_pointer (&result);
}

TernImapSet *
tern_imap_client_search_uids (TernImapClient  *self,
                              const char      *criteria,
                              GCancellable    *cancellable,
                              GError         **error)
{
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "UID SEARCH");
  g_autoptr(TernImapSet) result = tern_imap_set_new ();
  gboolean all = criteria == NULL || g_ascii_strcasecmp (criteria, "ALL") == 0;
  SearchData data = { result };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  tern_imap_command_add (command, "UID SEARCH ");
  if (tern_imap_client_has_capability (self, "ESEARCH"))
    tern_imap_command_add (command, "RETURN (ALL) ");
  tern_imap_command_add (command, criteria != NULL ? criteria : "ALL");
  tern_imap_command_end (command);

  if (!_tern_imap_client_run_command (self, command, search_untagged, &data, NULL, cancellable,
                                      error))
    return NULL;

  /* All UIDs in order are the sequence numbers' UIDs: from now on an
   * EXPUNGE can be reported by UID. */
  if (all && tern_imap_set_count (result) == self->exists)
    {
      g_clear_pointer (&self->seq_uids, g_array_unref);
      self->seq_uids = g_array_sized_new (FALSE, FALSE, sizeof (guint32), self->exists);
      for (guint i = 0; i < result->ranges->len; i++)
        {
          TernImapRange *range = &g_array_index (result->ranges, TernImapRange, i);

          for (guint64 uid = range->first; uid <= range->last; uid++)
            {
              guint32 value = (guint32) uid;

              g_array_append_val (self->seq_uids, value);
            }
        }
    }

  return g_steal_pointer (&result);
}

/* Changing */

static char *
flags_string (TernImapFlags flags)
{
  static const struct { TernImapFlags flag; const char *name; } names[] = {
    { TERN_IMAP_FLAG_SEEN, "\\Seen" },
    { TERN_IMAP_FLAG_ANSWERED, "\\Answered" },
    { TERN_IMAP_FLAG_FLAGGED, "\\Flagged" },
    { TERN_IMAP_FLAG_DELETED, "\\Deleted" },
    { TERN_IMAP_FLAG_DRAFT, "\\Draft" },
    { TERN_IMAP_FLAG_FORWARDED, "$Forwarded" },
    { TERN_IMAP_FLAG_JUNK, "$Junk" },
  };
  g_autoptr(GString) text = g_string_new ("(");

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      g_string_append_printf (text, "%s%s", text->len > 1 ? " " : "", names[i].name);
  g_string_append_c (text, ')');
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Sends "@prefix SET [@mailbox]@suffix" per chunk of @uids, all
 * pipelined, and waits for every answer; the first refusal is the error. */
static gboolean
run_per_chunk (TernImapClient     *self,
               const char         *what,
               const TernImapSet  *uids,
               const char         *prefix,
               const char         *mailbox,
               const char         *suffix,
               UntaggedFunc        func,
               gpointer            data,
               GCancellable       *cancellable,
               GError            **error)
{
  g_autoptr(GPtrArray) chunks = split_set (uids, G_MAXUINT64, SET_BATCH);
  g_autoptr(GPtrArray) commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GError) first_error = NULL;

  for (guint i = 0; i < chunks->len; i++)
    {
      g_autofree char *set = tern_imap_set_to_string (chunks->pdata[i]);
      TernImapCommand *command = _tern_imap_client_command_new (self, what);

      g_ptr_array_add (commands, command);
      tern_imap_command_add_printf (command, "%s %s", prefix, set);
      if (mailbox != NULL)
        {
          tern_imap_command_add (command, " ");
          tern_imap_command_add_mailbox (command, mailbox);
        }
      tern_imap_command_add (command, suffix);
      tern_imap_command_end (command);
      if (!_tern_imap_client_send_command (self, command, NULL, cancellable, error))
        return FALSE;
    }
  if (!tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  for (guint i = 0; i < commands->len; i++)
    {
      TernImapCommand *command = commands->pdata[i];
      g_autoptr(TernImapResponse) tagged = NULL;

      tagged = _tern_imap_client_wait_tagged (self, command->tag, func, data, cancellable, error);

      if (tagged == NULL)
        return FALSE;
      if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK && first_error == NULL)
        _tern_imap_client_set_response_error (self, command->what, tagged, &first_error);
      else if (func != NULL && tagged->status == TERN_IMAP_RESPONSE_STATUS_OK)
        func (self, tagged, data);
    }

  if (first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_imap_client_store_flags (TernImapClient     *self,
                              const TernImapSet  *uids,
                              TernImapFlags       add,
                              TernImapFlags       remove,
                              GCancellable       *cancellable,
                              GError            **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL, FALSE);

  if (add != 0)
    {
      g_autofree char *flags = flags_string (add);
      g_autofree char *suffix = g_strdup_printf (" +FLAGS.SILENT %s", flags);

      if (!run_per_chunk (self, "UID STORE", uids, "UID STORE", NULL, suffix, NULL, NULL,
                          cancellable, error))
        return FALSE;
    }
  if (remove != 0)
    {
      g_autofree char *flags = flags_string (remove);
      g_autofree char *suffix = g_strdup_printf (" -FLAGS.SILENT %s", flags);

      if (!run_per_chunk (self, "UID STORE", uids, "UID STORE", NULL, suffix, NULL, NULL,
                          cancellable, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  guint32 uidvalidity;
  TernImapSet *source;
  TernImapSet *dest;
} CopyData;

static void
add_set (TernImapSet       *to,
         const TernImapSet *from)
{
  for (guint i = 0; from != NULL && i < from->ranges->len; i++)
    {
      TernImapRange *range = &g_array_index (from->ranges, TernImapRange, i);

      tern_imap_set_add_range (to, range->first, range->last);
    }
}

/* COPYUID comes in the tagged OK of COPY, and in an untagged OK before the
 * expunges of MOVE (RFC 6851 §4.3). */
static gboolean
copy_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  CopyData *copy = data;

  if (response->code != TERN_IMAP_CODE_COPYUID)
    return FALSE;

  copy->uidvalidity = response->code_number;
  add_set (copy->source, response->code_source_set);
  add_set (copy->dest, response->code_set);
  return response->kind == TERN_IMAP_RESPONSE_UNTAGGED &&
         response->status == TERN_IMAP_RESPONSE_STATUS_OK;
}

gboolean
tern_imap_client_copy (TernImapClient     *self,
                       const TernImapSet  *uids,
                       const char         *destination,
                       gboolean            move,
                       guint32            *dest_uidvalidity,
                       TernImapSet       **source_uids,
                       TernImapSet       **dest_uids,
                       GCancellable       *cancellable,
                       GError            **error)
{
  g_autoptr(TernImapSet) source = tern_imap_set_new ();
  g_autoptr(TernImapSet) dest = tern_imap_set_new ();
  g_autofree char *what = NULL;
  gboolean native_move = move && tern_imap_client_has_capability (self, "MOVE");
  CopyData data = { 0, source, dest };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (uids != NULL && destination != NULL, FALSE);

  what = g_strdup_printf ("%s %s", native_move ? "MOVE" : "COPY", destination);

  if (!run_per_chunk (self, what, uids, native_move ? "UID MOVE" : "UID COPY", destination, "",
                      copy_untagged, &data, cancellable, error))
    return FALSE;

  if (move && !native_move)
    {
      if (!tern_imap_client_store_flags (self, uids, TERN_IMAP_FLAG_DELETED, 0, cancellable,
                                         error))
        return FALSE;
      /* A plain EXPUNGE would also remove other messages marked deleted. */
      if (tern_imap_client_has_capability (self, "UIDPLUS") &&
          !tern_imap_client_expunge (self, uids, cancellable, error))
        return FALSE;
    }

  if (dest_uidvalidity != NULL)
    *dest_uidvalidity = data.uidvalidity;
  if (source_uids != NULL)
    *source_uids = g_steal_pointer (&source);
  if (dest_uids != NULL)
    *dest_uids = g_steal_pointer (&dest);
  return TRUE;
}

gboolean
tern_imap_client_expunge (TernImapClient     *self,
                          const TernImapSet  *uids,
                          GCancellable       *cancellable,
                          GError            **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (uids != NULL && tern_imap_client_has_capability (self, "UIDPLUS"))
    return run_per_chunk (self, "UID EXPUNGE", uids, "UID EXPUNGE", NULL, "", NULL, NULL,
                          cancellable, error);

  return _tern_imap_client_run_simple (self, "EXPUNGE", cancellable, error);
}

/* INTERNALDATE wants English month names whatever the locale. */
static char *
format_internal_date (gint64 when)
{
  static const char * const months[] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (when);

  if (date == NULL)
    return NULL;
  return g_strdup_printf ("\"%02d-%s-%04d %02d:%02d:%02d +0000\"",
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1],
                          g_date_time_get_year (date), g_date_time_get_hour (date),
                          g_date_time_get_minute (date), g_date_time_get_second (date));
}

gboolean
tern_imap_client_append (TernImapClient  *self,
                         const char      *mailbox,
                         TernImapFlags    flags,
                         gint64           internal_date,
                         GBytes          *message,
                         guint32         *uidvalidity,
                         guint32         *uid,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autofree char *what = g_strdup_printf ("APPEND %s", mailbox);
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, what);
  g_autoptr(TernImapResponse) tagged = NULL;
  g_autofree char *flag_text = flags_string (flags & ~TERN_IMAP_FLAG_RECENT);
  g_autofree char *date = internal_date > 0 ? format_internal_date (internal_date) : NULL;
  gsize len;
  gconstpointer data;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (mailbox != NULL && message != NULL, FALSE);

  data = g_bytes_get_data (message, &len);
  tern_imap_command_add (command, "APPEND ");
  tern_imap_command_add_mailbox (command, mailbox);
  tern_imap_command_add_printf (command, " %s ", flag_text);
  if (date != NULL)
    tern_imap_command_add_printf (command, "%s ", date);
  tern_imap_command_add_literal (command, data, len);
  tern_imap_command_end (command);

  if (uidvalidity != NULL)
    *uidvalidity = 0;
  if (uid != NULL)
    *uid = 0;
  if (!_tern_imap_client_run_command (self, command, NULL, NULL, &tagged, cancellable, error))
    return FALSE;

  if (tagged->code == TERN_IMAP_CODE_APPENDUID && tagged->code_set != NULL &&
      tagged->code_set->ranges->len > 0)
    {
      if (uidvalidity != NULL)
        *uidvalidity = tagged->code_number;
      if (uid != NULL)
        *uid = g_array_index (tagged->code_set->ranges, TernImapRange, 0).first;
    }
  return TRUE;
}
