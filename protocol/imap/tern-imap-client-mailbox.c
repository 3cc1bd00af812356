/* tern-imap-client-mailbox.c: LIST, STATUS, CREATE/DELETE/RENAME, SELECT
 * with CONDSTORE/QRESYNC, and IDLE.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap"

#include "config.h"

#include "tern-imap-client-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

/* Mailboxes */

static void
add_status_items (TernImapClient      *self,
                  TernImapCommand     *command,
                  TernImapStatusItems  items)
{
  static const struct { TernImapStatusItems item; const char *name; const char *needs; } names[] = {
    { TERN_IMAP_STATUS_MESSAGES, "MESSAGES", NULL },
    { TERN_IMAP_STATUS_UIDNEXT, "UIDNEXT", NULL },
    { TERN_IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY", NULL },
    { TERN_IMAP_STATUS_UNSEEN, "UNSEEN", NULL },
    { TERN_IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ", "CONDSTORE" },
    { TERN_IMAP_STATUS_RECENT, "RECENT", NULL },
    { TERN_IMAP_STATUS_SIZE, "SIZE", "STATUS=SIZE" },
  };
  gboolean first = TRUE;

  tern_imap_command_add (command, "(");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if ((items & names[i].item) &&
        (names[i].needs == NULL || tern_imap_client_has_capability (self, names[i].needs)))
      {
        tern_imap_command_add_printf (command, "%s%s", first ? "" : " ", names[i].name);
        first = FALSE;
      }
  tern_imap_command_add (command, ")");
}

/* Far more than the folders of any account take (counting what each
 * costs to keep): a server that lists without end is cut off there
 * instead of filling the memory. */
#define LIST_BYTES_MAX (128 * 1024 * 1024)

typedef struct
{
  GPtrArray *mailboxes;  /* of TernImapMailbox */
  GHashTable *by_name;   /* UTF-8 name -> TernImapMailbox, borrowed */
  gboolean lsub;
  gsize kept;            /* bytes, roughly */
  gboolean too_many;     /* the connection was closed at LIST_BYTES_MAX */
} ListData;

static gboolean
list_untagged (TernImapClient   *self,
               TernImapResponse *response,
               gpointer          data)
{
  ListData *list = data;
  TernImapMailbox *mailbox;

  if (response->mailbox == NULL)
    return FALSE;

  switch (response->data)
    {
    case TERN_IMAP_DATA_LIST:
      if (list->lsub || list->too_many)
        return TRUE;
      mailbox = g_steal_pointer (&response->mailbox);
      list->kept += sizeof *mailbox + strlen (mailbox->name) + strlen (mailbox->raw_name) + 96;
      if (list->kept > LIST_BYTES_MAX)
        {
          list->too_many = TRUE;
          tern_imap_mailbox_free (mailbox);
          tern_connection_close (self->connection, NULL, NULL);
          return TRUE;
        }
      g_ptr_array_add (list->mailboxes, mailbox);
      g_hash_table_replace (list->by_name, mailbox->name, mailbox);
      return TRUE;
    case TERN_IMAP_DATA_LSUB:
      mailbox = g_hash_table_lookup (list->by_name, response->mailbox->name);
      if (mailbox != NULL)
        mailbox->attributes |= TERN_IMAP_MAILBOX_SUBSCRIBED;
      return TRUE;
    case TERN_IMAP_DATA_STATUS:
      mailbox = g_hash_table_lookup (list->by_name, response->mailbox->name);
      if (mailbox != NULL)
        mailbox->status = response->mailbox->status;
      return TRUE;
    default:
      return FALSE;
    }
}

GPtrArray *
tern_imap_client_list (TernImapClient       *self,
                       TernImapStatusItems   status_items,
                       GCancellable         *cancellable,
                       GError              **error)
{
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GHashTable) by_name = NULL;
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "LIST");
  gboolean extended = tern_imap_client_has_capability (self, "LIST-EXTENDED");
  g_autoptr(GError) local_error = NULL;
  ListData data;
  gboolean ok;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), NULL);

  mailboxes = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_mailbox_free);
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  data = (ListData) { mailboxes, by_name, FALSE, 0, FALSE };

  tern_imap_command_add (command, "LIST \"\" \"*\"");
  if (extended || tern_imap_client_has_capability (self, "SPECIAL-USE") ||
      (status_items != 0 && tern_imap_client_has_capability (self, "LIST-STATUS")))
    {
      g_autoptr(GStrvBuilder) options = g_strv_builder_new ();
      g_auto(GStrv) joined = NULL;
      g_autofree char *text = NULL;

      if (extended)
        {
          g_strv_builder_add (options, "SUBSCRIBED");
          g_strv_builder_add (options, "CHILDREN");
        }
      if (tern_imap_client_has_capability (self, "SPECIAL-USE"))
        g_strv_builder_add (options, "SPECIAL-USE");
      joined = g_strv_builder_end (options);
      text = g_strjoinv (" ", joined);
      tern_imap_command_add_printf (command, " RETURN (%s", text);
      if (status_items != 0 && tern_imap_client_has_capability (self, "LIST-STATUS"))
        {
          tern_imap_command_add (command, *text != '\0' ? " STATUS " : "STATUS ");
          add_status_items (self, command, status_items);
        }
      tern_imap_command_add (command, ")");
    }
  tern_imap_command_end (command);

  ok = _tern_imap_client_run_command (self, command, list_untagged, &data, NULL, cancellable,
                                       &local_error);
  if (data.too_many)
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_PROTOCOL,
                   _("%s listed more folders than any account has; the connection was "
                     "closed"),
                   self->label);
      return NULL;
    }
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (!extended)
    {
      g_autoptr(TernImapCommand) lsub = _tern_imap_client_command_new (self, "LSUB");

      tern_imap_command_add (lsub, "LSUB \"\" \"*\"");
      tern_imap_command_end (lsub);
      data.lsub = TRUE;
      if (!_tern_imap_client_run_command (self, lsub, list_untagged, &data, NULL, cancellable,
                                          error))
        return NULL;
    }

  /* Without LIST-STATUS, one STATUS per mailbox. */
  if (status_items != 0 && !tern_imap_client_has_capability (self, "LIST-STATUS"))
    for (guint i = 0; i < mailboxes->len; i++)
      {
        TernImapMailbox *mailbox = mailboxes->pdata[i];

        if (mailbox->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT))
          continue;
        if (!tern_imap_client_status (self, mailbox->name, status_items, &mailbox->status,
                                      cancellable, error))
          return NULL;
      }

  return g_steal_pointer (&mailboxes);
}

typedef struct
{
  TernImapStatus *status;
} StatusData;

static gboolean
status_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  StatusData *status = data;

  if (response->data != TERN_IMAP_DATA_STATUS || response->mailbox == NULL)
    return FALSE;

  *status->status = response->mailbox->status;
  return TRUE;
}

gboolean
tern_imap_client_status (TernImapClient       *self,
                         const char           *mailbox,
                         TernImapStatusItems   items,
                         TernImapStatus       *status,
                         GCancellable         *cancellable,
                         GError              **error)
{
  g_autofree char *what = g_strdup_printf ("STATUS %s", mailbox);
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, what);
  StatusData data = { status };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (status != NULL, FALSE);

  memset (status, 0, sizeof *status);
  tern_imap_command_add (command, "STATUS ");
  tern_imap_command_add_mailbox (command, mailbox);
  tern_imap_command_add (command, " ");
  add_status_items (self, command, items);
  tern_imap_command_end (command);
  return _tern_imap_client_run_command (self, command, status_untagged, &data, NULL, cancellable,
                                        error);
}

/* STATUS of many mailboxes */

#define STATUS_IN_FLIGHT 64

static gboolean
status_many_untagged (TernImapClient   *self,
                      TernImapResponse *response,
                      gpointer          data)
{
  GHashTable *by_name = data;
  TernImapMailbox *mailbox;

  if (response->data != TERN_IMAP_DATA_STATUS || response->mailbox == NULL)
    return FALSE;
  mailbox = g_hash_table_lookup (by_name, response->mailbox->name);
  if (mailbox != NULL)
    mailbox->status = response->mailbox->status;
  return TRUE;
}

static TernImapCommand *
status_command (TernImapClient      *self,
                const char          *mailbox,
                TernImapStatusItems  items)
{
  g_autofree char *what = g_strdup_printf ("STATUS %s", mailbox);
  TernImapCommand *command = _tern_imap_client_command_new (self, what);

  tern_imap_command_add (command, "STATUS ");
  tern_imap_command_add_mailbox (command, mailbox);
  tern_imap_command_add (command, " ");
  add_status_items (self, command, items);
  tern_imap_command_end (command);
  return command;
}

gboolean
tern_imap_client_status_many (TernImapClient       *self,
                              GPtrArray            *mailboxes,
                              TernImapStatusItems   items,
                              GCancellable         *cancellable,
                              GError              **error)
{
  g_autoptr(GPtrArray) commands =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_command_free);
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean pipelined = TRUE;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (mailboxes != NULL, FALSE);

  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = mailboxes->pdata[i];
      TernImapCommand *command;

      memset (&mailbox->status, 0, sizeof mailbox->status);
      if (mailbox->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT))
        continue;
      command = status_command (self, mailbox->name, items);
      /* A name sent as a synchronizing literal waits for the server's
       * go-ahead, which cannot be told from the answers before it. */
      pipelined = pipelined && command->segments->len == 1;
      g_ptr_array_add (commands, command);
      g_hash_table_insert (by_name, mailbox->name, mailbox);
    }

  if (!pipelined)
    {
      for (guint i = 0; i < commands->len; i++)
        if (!_tern_imap_client_run_command (self, commands->pdata[i], status_many_untagged,
                                            by_name, NULL, cancellable, error))
          return FALSE;
      return TRUE;
    }

  /* At most STATUS_IN_FLIGHT commands ahead of the answers, so that
   * neither side's buffers fill up with thousands of folders. */
  for (guint sent = 0, done = 0; done < commands->len; done++)
    {
      TernImapCommand *command = commands->pdata[done];
      g_autoptr(TernImapResponse) tagged = NULL;
      gboolean wrote = FALSE;

      for (; sent < commands->len && sent < done + STATUS_IN_FLIGHT; sent++, wrote = TRUE)
        if (!_tern_imap_client_send_command (self, commands->pdata[sent], NULL, cancellable,
                                             error))
          return FALSE;
      if (wrote && !tern_connection_flush (self->connection, cancellable, error))
        return FALSE;
      /* A folder that cannot be asked (NO) keeps an empty status. */
      tagged = _tern_imap_client_wait_tagged (self, command->tag, status_many_untagged, by_name,
                                              cancellable, error);
      if (tagged == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
mailbox_command (TernImapClient  *self,
                 const char      *verb,
                 const char      *mailbox,
                 const char      *second,
                 GCancellable    *cancellable,
                 GError         **error)
{
  g_autofree char *what = second != NULL ? g_strdup_printf ("%s %s %s", verb, mailbox, second)
                                         : g_strdup_printf ("%s %s", verb, mailbox);
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, what);

  tern_imap_command_add_printf (command, "%s ", verb);
  tern_imap_command_add_mailbox (command, mailbox);
  if (second != NULL)
    {
      tern_imap_command_add (command, " ");
      tern_imap_command_add_mailbox (command, second);
    }
  tern_imap_command_end (command);
  return _tern_imap_client_run_command (self, command, NULL, NULL, NULL, cancellable, error);
}

gboolean
tern_imap_client_create (TernImapClient  *self,
                         const char      *mailbox,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "CREATE", mailbox, NULL, cancellable, error);
}

gboolean
tern_imap_client_delete (TernImapClient  *self,
                         const char      *mailbox,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "DELETE", mailbox, NULL, cancellable, error);
}

gboolean
tern_imap_client_rename (TernImapClient  *self,
                         const char      *from,
                         const char      *to,
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  return mailbox_command (self, "RENAME", from, to, cancellable, error);
}

/* Selecting */

typedef struct
{
  TernImapSelected *selected;
} SelectData;

static gboolean
select_untagged (TernImapClient   *self,
                 TernImapResponse *response,
                 gpointer          data)
{
  TernImapSelected *selected = ((SelectData *) data)->selected;

  switch (response->code)
    {
    case TERN_IMAP_CODE_UIDVALIDITY:
      selected->uidvalidity = response->code_number;
      break;
    case TERN_IMAP_CODE_UIDNEXT:
      selected->uidnext = response->code_number;
      break;
    case TERN_IMAP_CODE_HIGHESTMODSEQ:
      selected->highestmodseq = response->code_modseq;
      break;
    case TERN_IMAP_CODE_NOMODSEQ:
      selected->highestmodseq = 0;
      break;
    case TERN_IMAP_CODE_PERMANENTFLAGS:
      selected->permanent_flags = response->flags;
      break;
    default:
      break;
    }

  switch (response->data)
    {
    case TERN_IMAP_DATA_EXISTS:
      selected->exists = self->exists = response->number;
      return TRUE;
    case TERN_IMAP_DATA_VANISHED:
      if (response->earlier && response->set != NULL)
        {
          for (guint i = 0; i < response->set->ranges->len; i++)
            {
              TernImapRange *range = &g_array_index (response->set->ranges, TernImapRange, i);

              tern_imap_set_add_range (selected->vanished, range->first, range->last);
            }
          return TRUE;
        }
      return FALSE;
    default:
      return response->code != TERN_IMAP_CODE_NONE && response->code != TERN_IMAP_CODE_ALERT &&
             response->data == TERN_IMAP_DATA_NONE;
    }
}

gboolean
tern_imap_client_select (TernImapClient              *self,
                         const char                  *mailbox,
                         gboolean                     read_only,
                         const TernImapSelectParams  *params,
                         TernImapSelected            *selected,
                         GCancellable                *cancellable,
                         GError                     **error)
{
  const char *verb = read_only ? "EXAMINE" : "SELECT";
  g_autofree char *what = g_strdup_printf ("%s %s", verb, mailbox);
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, what);
  g_autoptr(TernImapResponse) tagged = NULL;
  SelectData data = { selected };

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (mailbox != NULL && selected != NULL, FALSE);

  memset (selected, 0, sizeof *selected);
  selected->vanished = tern_imap_set_new ();

  tern_imap_command_add_printf (command, "%s ", verb);
  tern_imap_command_add_mailbox (command, mailbox);
  if (tern_imap_client_is_enabled (self, "QRESYNC") && params != NULL &&
      params->uidvalidity != 0 && params->highestmodseq != 0)
    {
      tern_imap_command_add_printf (command, " (QRESYNC (%u %" G_GUINT64_FORMAT,
                                    params->uidvalidity, params->highestmodseq);
      if (params->known_uids != NULL && !tern_imap_set_is_empty (params->known_uids))
        {
          g_autofree char *known = tern_imap_set_to_string (params->known_uids);

          tern_imap_command_add_printf (command, " %s", known);
        }
      tern_imap_command_add (command, "))");
    }
  else if (!_tern_imap_client_condstore_on (self) &&
           tern_imap_client_has_capability (self, "CONDSTORE"))
    tern_imap_command_add (command, " (CONDSTORE)");
  tern_imap_command_end (command);

  /* The server leaves the old mailbox as soon as it reads the command. */
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->seq_uids, g_array_unref);
  self->exists = 0;
  /* Changes reported during the select concern the new mailbox. */
  self->selected = g_strdup (mailbox);

  if (!_tern_imap_client_run_command (self, command, select_untagged, &data, &tagged, cancellable,
                                      error))
    {
      g_clear_pointer (&self->selected, g_free);
      tern_imap_selected_clear (selected);
      return FALSE;
    }

  selected->read_only = tagged->code == TERN_IMAP_CODE_READ_ONLY;
  if (!_tern_imap_client_condstore_on (self) &&
      !tern_imap_client_has_capability (self, "CONDSTORE"))
    selected->highestmodseq = 0;
  return TRUE;
}

/* Waiting */

static gboolean
finish_idle (TernImapClient  *self,
             TernImapCommand *command,
             GCancellable    *cancellable,
             GError         **error)
{
  g_autoptr(TernImapResponse) tagged = NULL;

  if (!_tern_imap_client_send_line (self, "DONE", cancellable, error))
    return FALSE;
  tagged = _tern_imap_client_wait_tagged (self, command->tag, NULL, NULL, cancellable, error);
  if (tagged == NULL)
    return FALSE;
  if (tagged->status != TERN_IMAP_RESPONSE_STATUS_OK)
    {
      _tern_imap_client_set_response_error (self, "IDLE", tagged, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_imap_client_idle (TernImapClient  *self,
                       guint            timeout_seconds,
                       GCancellable    *cancellable,
                       GError         **error)
{
  g_autoptr(TernImapCommand) command = _tern_imap_client_command_new (self, "IDLE");
  gint64 deadline;

  g_return_val_if_fail (TERN_IS_IMAP_CLIENT (self), FALSE);

  if (!tern_imap_client_has_capability (self, "IDLE"))
    {
      g_set_error (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_UNSUPPORTED,
                   _("%s does not support IDLE"), self->label);
      return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  tern_imap_command_add (command, "IDLE");
  tern_imap_command_end (command);
  if (!_tern_imap_client_send_command (self, command, NULL, cancellable, error) ||
      !tern_connection_flush (self->connection, cancellable, error))
    return FALSE;

  /* Until the go-ahead, data is handled as for any command. */
  for (;;)
    {
      g_autoptr(TernImapResponse) response = NULL;

      response = _tern_imap_client_read_response (self, cancellable, error);
      if (response == NULL)
        return FALSE;
      if (response->kind == TERN_IMAP_RESPONSE_CONTINUATION)
        break;
      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        _tern_imap_client_handle_untagged (self, response);
      else if (g_strcmp0 (response->tag, command->tag) == 0)
        {
          _tern_imap_client_set_response_error (self, "IDLE", response, error);
          return FALSE;
        }
    }

  self->event_seen = FALSE;
  deadline = g_get_monotonic_time () + (gint64) timeout_seconds * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(TernImapResponse) response = NULL;
      g_autoptr(GError) wait_error = NULL;
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0)
        return finish_idle (self, command, cancellable, error);

      if (!tern_connection_wait_readable (self->connection, (gint) (left / 1000 + 1),
                                          cancellable, &wait_error))
        {
          if (wait_error == NULL)
            continue;  /* the deadline check ends it */
          if (g_error_matches (wait_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              /* Leave the session usable: DONE without the cancelled
               * cancellable. */
              if (!finish_idle (self, command, NULL, error))
                return FALSE;
            }
          g_propagate_error (error, g_steal_pointer (&wait_error));
          return FALSE;
        }

      response = _tern_imap_client_read_response (self, cancellable, error);
      if (response == NULL)
        return FALSE;
      if (response->kind == TERN_IMAP_RESPONSE_TAGGED &&
          g_strcmp0 (response->tag, command->tag) == 0)
        {
          /* The server ended IDLE itself. */
          if (response->status == TERN_IMAP_RESPONSE_STATUS_OK)
            return TRUE;
          _tern_imap_client_set_response_error (self, "IDLE", response, error);
          return FALSE;
        }
      if (response->kind == TERN_IMAP_RESPONSE_UNTAGGED)
        _tern_imap_client_handle_untagged (self, response);
      if (self->event_seen)
        return finish_idle (self, command, cancellable, error);
    }
}
