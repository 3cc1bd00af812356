/* tern-composer-window-drafts.c: the composer window's drafts.
 *
 * A change starts (or restarts) a timer; when the user has paused for
 * SAVE_DELAY_SECONDS the message is saved as a draft, replacing the
 * previous version (tern_drafts_save()), and the account's offline queue
 * is replayed so the server's Drafts folder follows.  Closing with
 * unsaved changes asks (tern-composer-window.c).  A draft reopens as a
 * composer with its fields and attachments (the attachments' data is in
 * the draft, so they no longer depend on the files).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-composer-window"

#include "config.h"

#include <glib/gi18n.h>
#include <gmime/gmime.h>

#include "tern-drafts.h"
#include "tern-mail-store-private.h"
#include "tern-message-content.h"
#include "tern-offline-queue.h"
#include "tern-composer-window-private.h"

#define SAVE_DELAY_SECONDS 5

/* Replay */

/* Offline or refused, the draft stays queued for the next replay (the
 * main window's sync does one). */
static void
replay_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tern_offline_queue_replay_finish (TERN_CONTEXT (source), result, NULL, &error))
    g_debug ("The draft waits for the next replay: %s", error->message);
}

void
_tern_composer_window_replay (TernComposerWindow *self,
                              TernAccount        *account)
{
  /* Not the window's cancellable: a draft saved on close still goes. */
  if (account != NULL)
    tern_offline_queue_replay_async (self->context, account, NULL, replay_done_cb, NULL);
}

/* Saving */

gboolean
tern_composer_window_save_draft (TernComposerWindow  *self,
                                 GError             **error)
{
  g_autoptr(GBytes) bytes = NULL;
  TernAccount *account;
  gint64 id;

  g_return_val_if_fail (TERN_IS_COMPOSER_WINDOW (self), FALSE);

  _tern_composer_window_cancel_save (self);
  account = self->composer != NULL ? tern_composer_get_account (self->composer) : NULL;
  if (account == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The draft was not saved: there is no account to keep it in."));
      return FALSE;
    }
  bytes = tern_composer_to_draft_bytes (self->composer, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, _("The draft was not saved: "));
      return FALSE;
    }
  id = tern_drafts_save (self->context, account, bytes, self->draft_id, error);
  if (id == 0)
    {
      g_prefix_error (error, _("The draft was not saved: "));
      return FALSE;
    }
  self->draft_id = id;
  self->changed = FALSE;
  _tern_composer_window_replay (self, account);
  _tern_composer_window_set_status (self, _("Draft saved"), FALSE);
  return TRUE;
}

static gboolean
save_timeout_cb (gpointer user_data)
{
  TernComposerWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  self->save_timeout = 0;
  /* Not in red: while the user types, an address is often half written;
   * the next change tries again, and closing asks. */
  if (!tern_composer_window_save_draft (self, &error))
    _tern_composer_window_set_status (self, error->message, FALSE);
  return G_SOURCE_REMOVE;
}

void
_tern_composer_window_changed (TernComposerWindow *self)
{
  if (self->sent || self->composer == NULL)
    return;
  self->changed = TRUE;
  _tern_composer_window_cancel_save (self);
  self->save_timeout = g_timeout_add_seconds (SAVE_DELAY_SECONDS, save_timeout_cb, self);
}

void
_tern_composer_window_cancel_save (TernComposerWindow *self)
{
  g_clear_handle_id (&self->save_timeout, g_source_remove);
}

/* Loading */

GMimeMessage *
_tern_composer_window_parse (GBytes *bytes)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;

  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (bytes, NULL),
                                              g_bytes_get_size (bytes));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  return message;
}

static char *
address_list (GMimeMessage     *message,
              GMimeAddressType  type)
{
  InternetAddressList *list = g_mime_message_get_addresses (message, type);

  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  return internet_address_list_to_string (list, NULL, FALSE);
}

/* Message-IDs as the composer keeps them: without angle brackets. */
static char *
unbracketed_ids (const char *header)
{
  GMimeReferences *references;
  GString *ids;

  if (header == NULL)
    return NULL;
  references = g_mime_references_parse (NULL, header);
  if (references == NULL)
    return NULL;
  ids = g_string_new (NULL);
  for (int i = 0; i < g_mime_references_length (references); i++)
    {
      if (ids->len > 0)
        g_string_append_c (ids, ' ');
      g_string_append (ids, g_mime_references_get_message_id (references, i));
    }
  g_mime_references_free (references);
  return g_string_free (ids, ids->len == 0);
}

static void
set_headers (TernComposer *composer,
             GMimeMessage *message)
{
  GMimeObject *object = GMIME_OBJECT (message);
  g_autofree char *from = address_list (message, GMIME_ADDRESS_TYPE_FROM);
  g_autofree char *reply_to = address_list (message, GMIME_ADDRESS_TYPE_REPLY_TO);
  g_autofree char *to = address_list (message, GMIME_ADDRESS_TYPE_TO);
  g_autofree char *cc = address_list (message, GMIME_ADDRESS_TYPE_CC);
  g_autofree char *bcc = address_list (message, GMIME_ADDRESS_TYPE_BCC);
  g_autofree char *in_reply_to =
    unbracketed_ids (g_mime_object_get_header (object, "In-Reply-To"));
  g_autofree char *references = unbracketed_ids (g_mime_object_get_header (object, "References"));

  if (from != NULL)
    tern_composer_set_from (composer, from);
  /* The window selects the identity of the From and keeps this. */
  tern_composer_set_reply_to (composer, reply_to);
  tern_composer_set_to (composer, to);
  tern_composer_set_cc (composer, cc);
  tern_composer_set_bcc (composer, bcc);
  tern_composer_set_subject (composer, g_mime_message_get_subject (message));
  tern_composer_set_in_reply_to (composer, in_reply_to);
  tern_composer_set_references (composer, references);
}

TernComposer *
_tern_composer_window_composer_from_draft (TernComposerWindow *self,
                                           TernAccount        *account,
                                           GBytes             *bytes)
{
  TernComposer *composer = account != NULL ? tern_composer_new_for_account (account)
                                           : tern_composer_new ();
  g_autoptr(TernMessageContent) content = tern_message_content_new (bytes, NULL);
  GMimeMessage *message = _tern_composer_window_parse (bytes);
  GPtrArray *attachments;

  if (message != NULL)
    {
      set_headers (composer, message);
      g_object_unref (message);
    }

  tern_composer_set_body (composer, tern_message_content_get_text (content));
  tern_composer_set_html_body (composer, tern_message_content_get_html (content));
  attachments = tern_message_content_get_attachments (content);
  for (guint i = 0; i < attachments->len; i++)
    {
      const TernMessageAttachment *attachment = attachments->pdata[i];
      guint64 size = g_bytes_get_size (attachment->data);

      tern_composer_add_attachment_bytes (composer, attachment->data, attachment->filename,
                                          attachment->content_type);
      g_array_append_val (self->attachment_sizes, size);
    }
  return composer;
}
