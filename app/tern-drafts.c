/* tern-drafts.c: see tern-drafts.h for what is guaranteed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-drafts"

#include "config.h"

#include "tern-drafts.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <string.h>

#include "tern-account-manager.h"
#include "tern-app-error.h"
#include "tern-mail-store-private.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox-private.h"
#include "tern-outbox.h"
#include "tern-pop3-download.h"

#define DRAFT_FLAGS (TERN_IMAP_FLAG_DRAFT | TERN_IMAP_FLAG_SEEN)

/* The account's Drafts folder: local for POP3 (made on first use), the
 * one the last sync found for IMAP. */
static gint64
drafts_folder (TernStore    *store,
               TernAccount  *account,
               GError      **error)
{
  gint64 account_id = tern_account_get_id (account);
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GError) local_error = NULL;

  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    {
      gint64 ids[TERN_POP3_N_FOLDERS];

      if (!tern_pop3_ensure_all_folders (store, account_id, ids, error))
        return 0;
      return ids[TERN_POP3_FOLDER_DRAFTS];
    }
  folder = tern_mail_store_find_folder_by_role (store, account_id, "drafts", &local_error);
  if (folder == NULL)
    {
      if (local_error != NULL
          && !g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                     _("The Drafts folder of %s is not known yet: sync the account first"),
                     tern_account_get_address (account));
      return 0;
    }
  return folder->id;
}

/* @message under a new Message-ID on the sender's domain. */
static GBytes *
new_version (TernAccount *account,
             GBytes      *message)
{
  const char *domain = strrchr (tern_account_get_address (account), '@');
  g_autofree char *message_id = NULL;

  _tern_mail_ensure_gmime ();
  message_id = g_mime_utils_generate_message_id (domain != NULL ? domain + 1 : "localhost");
  return _tern_outbox_rewrite_header (message, FALSE, message_id);
}

gint64
tern_drafts_save (TernContext  *context,
                  TernAccount  *account,
                  GBytes       *message,
                  gint64        previous_id,
                  GError      **error)
{
  TernStore *store;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GError) delete_error = NULL;
  gint64 folder_id;
  gint64 id;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), 0);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), 0);
  g_return_val_if_fail (message != NULL, 0);

  store = tern_context_get_store (context);
  folder_id = drafts_folder (store, account, error);
  if (folder_id == 0)
    return 0;
  data = new_version (account, message);
  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    id = _tern_outbox_store_local (store, folder_id, data, DRAFT_FLAGS, error);
  else
    id = tern_offline_queue_append (store, folder_id, data, DRAFT_FLAGS, error);
  if (id == 0)
    return 0;

  /* The new version is safe: the old one may go.  Should that fail, the
   * user sees two versions and keeps working on the new one. */
  if (previous_id != 0 && !tern_drafts_delete (context, account, previous_id, &delete_error))
    g_warning ("The previous version of draft %" G_GINT64_FORMAT " stays: %s", id,
               delete_error->message);
  return id;
}

/* The draft row @draft_id of @account: FALSE with *found = FALSE when it
 * is gone, FALSE with @error when it is not a draft of @account. */
static gboolean
find_draft (TernStore    *store,
            TernAccount  *account,
            gint64        draft_id,
            gboolean     *found,
            GError      **error)
{
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, draft_id);

  *found = FALSE;
  message = tern_mail_store_get_message (store, draft_id, &local_error);
  if (message == NULL)
    {
      if (g_error_matches (local_error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  folder = tern_mail_store_get_folder (store, message->folder_id, error);
  if (folder == NULL)
    return FALSE;
  if (folder->account_id != tern_account_get_id (account)
      || (message->flags & TERN_IMAP_FLAG_DRAFT) == 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("Message %s is not a draft of %s"), number,
                   tern_account_get_address (account));
      return FALSE;
    }
  *found = TRUE;
  return TRUE;
}

gboolean
tern_drafts_delete (TernContext  *context,
                    TernAccount  *account,
                    gint64        draft_id,
                    GError      **error)
{
  TernStore *store;
  gboolean found = FALSE;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  store = tern_context_get_store (context);
  if (!find_draft (store, account, draft_id, &found, error))
    return FALSE;
  if (!found)
    return TRUE;
  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    return tern_mail_store_remove_messages (store, &draft_id, 1, error);

  /* The offline queue's delete moves to Trash first; deleting in Trash
   * expunges.  An APPEND not replayed yet is dropped on the way instead. */
  if (!tern_offline_queue_delete (store, &draft_id, 1, error)
      || !find_draft (store, account, draft_id, &found, error))
    return FALSE;
  return !found || tern_offline_queue_delete (store, &draft_id, 1, error);
}

GBytes *
tern_drafts_load (TernContext  *context,
                  gint64        draft_id,
                  GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  GBytes *data;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  data = tern_mail_store_get_body (tern_context_get_store (context), draft_id, &local_error);
  if (data == NULL && local_error == NULL)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, draft_id);

      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("There is no draft %s"),
                   number);
      return NULL;
    }
  if (data == NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return data;
}

/* Outbox rows back to drafts */

static void
add_addresses (InternetAddressList *list,
               GHashTable          *seen)
{
  int n = list != NULL ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        add_addresses (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                       seen);
      else if (INTERNET_ADDRESS_IS_MAILBOX (address))
        g_hash_table_add (seen, g_ascii_strdown (internet_address_mailbox_get_addr (
                                                   INTERNET_ADDRESS_MAILBOX (address)),
                                                 -1));
    }
}

/* @data with a Bcc: field for the recipients that are in neither To: nor
 * Cc: (the outbox keeps them only in the envelope). */
static GBytes *
restore_bcc (GBytes      *data,
             char *const *recipients)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) field = g_string_new (NULL);
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  GByteArray *out;

  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (data, NULL),
                                              g_bytes_get_size (data));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    return g_bytes_ref (data);
  add_addresses (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO), seen);
  add_addresses (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC), seen);
  g_object_unref (message);
  for (guint i = 0; recipients != NULL && recipients[i] != NULL; i++)
    {
      g_autofree char *key = g_ascii_strdown (recipients[i], -1);

      if (*recipients[i] == '\0' || g_hash_table_contains (seen, key))
        continue;
      g_string_append (field, field->len == 0 ? "Bcc: " : ", ");
      g_string_append (field, recipients[i]);
    }
  if (field->len == 0)
    return g_bytes_ref (data);
  g_string_append (field, "\r\n");
  out = g_byte_array_sized_new (field->len + g_bytes_get_size (data));
  g_byte_array_append (out, (const guint8 *) field->str, field->len);
  g_byte_array_append (out, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  return g_byte_array_free_to_bytes (out);
}

gint64
tern_drafts_from_outbox (TernContext  *context,
                         gint64        outbox_id,
                         GError      **error)
{
  TernStore *store;
  g_autoptr(TernOutboxEntry) entry = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(GError) delete_error = NULL;
  g_autofree char *key = NULL;
  TernAccount *account;
  gint64 id;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), 0);

  store = tern_context_get_store (context);
  entry = tern_outbox_get (store, outbox_id, error);
  if (entry == NULL)
    return 0;
  if (entry->state == TERN_OUTBOX_STATE_SENDING || entry->state == TERN_OUTBOX_STATE_SENT)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           entry->state == TERN_OUTBOX_STATE_SENT
                             ? _("The message was sent already, so it can no longer be edited")
                             : _("The message is being sent right now, so it cannot be edited"));
      return 0;
    }
  key = g_strdup_printf ("%" G_GINT64_FORMAT, entry->account_id);
  account = tern_account_manager_lookup (tern_context_get_accounts (context), key);
  if (account == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                           _("The account of this message is gone, so it cannot be edited"));
      return 0;
    }
  data = tern_outbox_get_data (store, outbox_id, error);
  if (data == NULL)
    return 0;
  draft = restore_bcc (data, entry->recipients);
  id = tern_drafts_save (context, account, draft, 0, error);
  if (id == 0)
    return 0;
  /* A flush may have taken the row in between: then it is being sent,
   * and the draft would be a second copy. */
  if (!tern_outbox_remove (store, outbox_id, error))
    {
      if (!tern_drafts_delete (context, account, id, &delete_error))
        g_warning ("A copy of outbox message %" G_GINT64_FORMAT " stays in Drafts: %s",
                   outbox_id, delete_error->message);
      return 0;
    }
  return id;
}
