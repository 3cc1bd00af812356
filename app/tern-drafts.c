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

#include "tern-app-error.h"
#include "tern-mail-store-private.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox-private.h"
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
