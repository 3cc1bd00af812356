/* tern-window-actions.c: the window's actions (win.*).
 *
 * Changes to messages go through the offline queue: one store transaction
 * that changes the cache and records the operation, so the list and the
 * counts show the change at once, then a replay job of the account in the
 * worker pool takes it to the server (or leaves it queued for the next
 * sync when the server cannot be reached).  Accelerators with a modifier
 * are set by TernApplication, single keys here; gtk/help-overlay.ui lists
 * both.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-window"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-composer-window.h"
#include "tern-imap-session.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-window-private.h"

/* Actions that need selected messages. */
static const char *const message_actions[] = {
  "reply", "reply-all", "forward", "delete", "archive", "junk", "mark-read", "mark-unread",
  "toggle-star", "show-move-to", "move-to",
};

/* Replay */

/* A failed replay leaves the operations queued for the next sync; the
 * account's row in the sidebar shows why. */
static void
replay_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tern_offline_queue_replay_finish (TERN_CONTEXT (source), result, NULL, &error))
    g_debug ("Replay failed, the changes stay queued: %s", error->message);
}

void
_tern_window_replay (TernWindow  *self,
                     TernAccount *account)
{
  if (account != NULL)
    tern_offline_queue_replay_async (self->context, account, NULL, replay_done_cb, NULL);
}

/* The selection */

static GArray *
selected_ids (TernWindow *self)
{
  return tern_message_list_view_get_selected_ids (self->message_list_view);
}

/* The account of the first message of @ids: every action acts within one
 * account (a selection in All Inboxes may span several: each message is
 * handled by the queue, and the replay goes to each account). */
static GPtrArray *
accounts_of (TernWindow *self,
             GArray     *ids)
{
  GPtrArray *accounts = g_ptr_array_new ();

  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(TernMailMessage) message =
        tern_mail_store_get_message (tern_context_get_store (self->context),
                                     g_array_index (ids, gint64, i), NULL);
      TernAccount *account = message != NULL
                             ? _tern_window_folder_account (self, message->folder_id) : NULL;

      if (account != NULL && !g_ptr_array_find (accounts, account, NULL))
        g_ptr_array_add (accounts, account);
    }
  return accounts;
}

static void
replay_accounts (TernWindow *self,
                 GArray     *ids)
{
  g_autoptr(GPtrArray) accounts = accounts_of (self, ids);

  for (guint i = 0; i < accounts->len; i++)
    _tern_window_replay (self, accounts->pdata[i]);
}

static void
set_flags (TernWindow    *self,
           TernImapFlags  add,
           TernImapFlags  remove)
{
  g_autoptr(GArray) ids = selected_ids (self);
  g_autoptr(GError) error = NULL;

  if (ids->len == 0)
    return;
  if (!tern_offline_queue_set_flags (tern_context_get_store (self->context),
                                     (const gint64 *) ids->data, ids->len, add, remove, &error))
    _tern_window_show_error (self, error->message);
  else
    replay_accounts (self, ids);
}

static void
move_ids (TernWindow *self,
          GArray     *ids,
          gint64      folder_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = NULL;

  if (ids->len == 0)
    return;
  /* The sidebar shows folders that only hold other folders (\Noselect,
   * or \NonExistent parents); the server would refuse the move. */
  folder = tern_mail_store_get_folder (tern_context_get_store (self->context), folder_id, NULL);
  if (folder != NULL
      && (folder->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT)) != 0)
    {
      _tern_window_show_error (self, _("This folder only holds other folders, not messages."));
      return;
    }
  if (!tern_offline_queue_move (tern_context_get_store (self->context), (const gint64 *) ids->data,
                                ids->len, folder_id, &error))
    _tern_window_show_error (self, error->message);
  else
    replay_accounts (self, ids);
}

/* Moves the selection to its account's folder @role; @missing says what
 * is wrong when the account has none. */
static void
move_to_role (TernWindow *self,
              const char *role,
              const char *missing)
{
  g_autoptr(GArray) ids = selected_ids (self);
  g_autoptr(GPtrArray) accounts = accounts_of (self, ids);
  g_autoptr(TernMailFolder) folder = NULL;

  if (accounts->len == 0)
    return;
  folder = tern_mail_store_find_folder_by_role (tern_context_get_store (self->context),
                                                tern_account_get_id (accounts->pdata[0]), role,
                                                NULL);
  if (folder == NULL)
    {
      _tern_window_show_error (self, missing);
      return;
    }
  move_ids (self, ids, folder->id);
}

/* Actions */

static void
compose_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  TernWindow *self = user_data;
  TernApplication *app = TERN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

  gtk_window_present (GTK_WINDOW (tern_composer_window_new (app, self->context, NULL)));
}

/* A reply to (or forward of) the first selected message. */
static void
open_reply (TernWindow    *self,
            TernReplyMode  mode)
{
  TernApplication *app = TERN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr(GArray) ids = selected_ids (self);

  if (ids->len == 0)
    return;
  gtk_window_present (GTK_WINDOW (tern_composer_window_new_reply (
    app, self->context, g_array_index (ids, gint64, 0), mode)));
}

/* A draft (a message flagged \Draft) selected and opened (Enter, a
 * double click, "e") goes on in a composer; other messages open in the
 * view as before. */
static gboolean
open_draft (TernWindow *self)
{
  TernApplication *app = TERN_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  g_autoptr(GArray) ids = selected_ids (self);
  g_autoptr(TernMailMessage) message = NULL;

  if (ids->len != 1)
    return FALSE;
  message = tern_mail_store_get_message (tern_context_get_store (self->context),
                                         g_array_index (ids, gint64, 0), NULL);
  if (message == NULL || (message->flags & TERN_IMAP_FLAG_DRAFT) == 0)
    return FALSE;
  gtk_window_present (GTK_WINDOW (tern_composer_window_new_from_draft (app, self->context,
                                                                       message->id)));
  return TRUE;
}

static void
edit_draft_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  open_draft (user_data);
}

static void
reply_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  open_reply (user_data, TERN_REPLY_MODE_REPLY);
}

static void
reply_all_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  open_reply (user_data, TERN_REPLY_MODE_REPLY_ALL);
}

static void
forward_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  open_reply (user_data, TERN_REPLY_MODE_FORWARD_INLINE);
}

static void
delete_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GArray) ids = selected_ids (self);
  g_autoptr(GError) error = NULL;

  if (ids->len == 0)
    return;
  if (!tern_offline_queue_delete (tern_context_get_store (self->context),
                                  (const gint64 *) ids->data, ids->len, &error))
    _tern_window_show_error (self, error->message);
  else
    replay_accounts (self, ids);
}

static void
archive_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  move_to_role (user_data, "archive",
                _("This account has no Archive folder; create one on the server or move the "
                  "message to another folder."));
}

static void
junk_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  set_flags (user_data, TERN_IMAP_FLAG_JUNK, 0);
  move_to_role (user_data, "junk",
                _("This account has no Junk folder; the message is marked as junk where it is."));
}

static void
mark_read_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  set_flags (user_data, TERN_IMAP_FLAG_SEEN, 0);
}

static void
mark_unread_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernWindow *self = user_data;

  /* The open message must not be marked read again behind the user. */
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  set_flags (self, 0, TERN_IMAP_FLAG_SEEN);
}

/* Stars the selection, or unstars it when every message has a star. */
static void
toggle_star_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (self->message_list_view);
  gboolean all = items->len > 0;

  for (guint i = 0; i < items->len; i++)
    all = all && tern_message_item_get_starred (items->pdata[i]);
  if (all)
    set_flags (self, 0, TERN_IMAP_FLAG_FLAGGED);
  else
    set_flags (self, TERN_IMAP_FLAG_FLAGGED, 0);
}

static void
move_to_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GArray) ids = selected_ids (self);

  move_ids (self, ids, g_variant_get_int64 (parameter));
}

/* A drop on a sidebar folder: (folder id, message ids). */
static void
move_messages_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GVariant) array = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 folder_id;
  const gint64 *data;
  gsize n;

  g_variant_get (parameter, "(x@ax)", &folder_id, &array);
  data = g_variant_get_fixed_array (array, &n, sizeof (gint64));
  g_array_append_vals (ids, data, n);
  move_ids (self, ids, folder_id);
}

static void
append_folders (GMenu      *menu,
                GListModel *folders,
                guint       depth)
{
  for (guint i = 0; i < g_list_model_get_n_items (folders); i++)
    {
      g_autoptr(TernFolderItem) folder = g_list_model_get_item (folders, i);
      g_autofree char *indent = g_strnfill (depth * 2, ' ');
      g_autofree char *label = g_strconcat (indent, tern_folder_item_get_display_name (folder),
                                            NULL);
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

      g_menu_item_set_action_and_target_value (item, "win.move-to",
                                               g_variant_new_int64 (tern_folder_item_get_id (folder)));
      g_menu_append_item (menu, item);
      append_folders (menu, tern_folder_item_get_children (folder), depth + 1);
    }
}

/* Move To…: the folders of the selection's account, built when the menu
 * opens so that it follows the account's folders. */
static void
create_move_menu_cb (GtkMenuButton *button,
                     gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GArray) ids = selected_ids (self);
  g_autoptr(GPtrArray) accounts = accounts_of (self, ids);
  g_autoptr(GMenu) menu = g_menu_new ();
  TernFolderList *folders;

  if (accounts->len > 0)
    {
      folders = tern_sidebar_get_folder_list (self->sidebar, accounts->pdata[0]);
      if (folders != NULL)
        append_folders (menu, G_LIST_MODEL (folders), 0);
    }
  gtk_menu_button_set_menu_model (button, G_MENU_MODEL (menu));
}

static void
show_move_to_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  TernWindow *self = user_data;

  if (gtk_widget_is_drawable (GTK_WIDGET (self->move_button)))
    gtk_menu_button_popup (self->move_button);
}

static void
sync_now_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  _tern_window_sync_all (user_data);
}

static void
sync_account_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  TernWindow *self = user_data;
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (parameter));

  _tern_window_sync_account (self, tern_account_manager_lookup (
                                     tern_context_get_accounts (self->context), key));
}

static void
next_unread_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernWindow *self = user_data;

  tern_message_list_view_select_unread (self->message_list_view, TRUE);
}

static void
previous_unread_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  TernWindow *self = user_data;

  tern_message_list_view_select_unread (self->message_list_view, FALSE);
}

static void
select_all_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  TernWindow *self = user_data;

  tern_message_list_view_select_all (self->message_list_view);
}

static void
back_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  TernWindow *self = user_data;

  if (self->folded_pane == self->view_pane)
    _tern_window_show_pane (self, self->list_pane);
  else
    _tern_window_show_pane (self, self->sidebar_pane);
}

static TernMessageListSort
sort_from_string (const char *name)
{
  if (g_strcmp0 (name, "sender") == 0)
    return TERN_MESSAGE_LIST_SORT_SENDER;
  if (g_strcmp0 (name, "subject") == 0)
    return TERN_MESSAGE_LIST_SORT_SUBJECT;
  return TERN_MESSAGE_LIST_SORT_DATE;
}

/* Newest first by date; senders and subjects from A to Z. */
static void
sort_changed (GSimpleAction *action,
              GVariant      *state,
              gpointer       user_data)
{
  TernWindow *self = user_data;

  g_simple_action_set_state (action, state);
  if (self->settings != NULL)
    g_settings_set_value (self->settings, "message-list-sort", state);
  self->sort = sort_from_string (g_variant_get_string (state, NULL));
  if (self->list != NULL)
    tern_message_list_set_sort (self->list, self->sort,
                                self->sort == TERN_MESSAGE_LIST_SORT_DATE || self->threaded);
}

/* Conversations change the rows themselves: the list is made anew. */
static void
threaded_changed (GSimpleAction *action,
                  GVariant      *state,
                  gpointer       user_data)
{
  TernWindow *self = user_data;

  g_simple_action_set_state (action, state);
  if (self->settings != NULL)
    g_settings_set_value (self->settings, "message-list-conversations", state);
  self->threaded = g_variant_get_boolean (state);
  _tern_window_reload_list (self);
}

/* View → Encoding: the message view's own menu, with its items turned to
 * win.charset, since the view's widget actions cannot be reached from the
 * header bar's menu. */
static void
charset_changed (GSimpleAction *action,
                 GVariant      *state,
                 gpointer       user_data)
{
  TernWindow *self = user_data;

  g_simple_action_set_state (action, state);
  tern_message_view_set_charset (self->message_view, g_variant_get_string (state, NULL));
}

/* The view resets its charset for each message: the menu's check follows. */
static void
sync_charset (TernWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "charset");
  const char *charset = tern_message_view_get_charset (self->message_view);

  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_string (charset != NULL ? charset : ""));
}

static GMenuModel *
new_encoding_menu (void)
{
  g_autoptr(GMenuModel) source = tern_message_view_new_encoding_menu ();
  GMenu *menu = g_menu_new ();

  for (int i = 0; i < g_menu_model_get_n_items (source); i++)
    {
      g_autofree char *label = NULL;
      g_autoptr(GVariant) target = NULL;
      g_autoptr(GMenuItem) item = NULL;

      g_menu_model_get_item_attribute (source, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
      target = g_menu_model_get_item_attribute_value (source, i, G_MENU_ATTRIBUTE_TARGET,
                                                      G_VARIANT_TYPE_STRING);
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "win.charset", target);
      g_menu_append_item (menu, item);
    }
  return G_MENU_MODEL (menu);
}

static const GActionEntry window_actions[] = {
  { "compose", compose_activated },
  { "edit-draft", edit_draft_activated },
  { "reply", reply_activated },
  { "reply-all", reply_all_activated },
  { "forward", forward_activated },
  { "delete", delete_activated },
  { "archive", archive_activated },
  { "junk", junk_activated },
  { "mark-read", mark_read_activated },
  { "mark-unread", mark_unread_activated },
  { "toggle-star", toggle_star_activated },
  { "show-move-to", show_move_to_activated },
  { "move-to", move_to_activated, "x" },
  { "move-messages", move_messages_activated, "(xax)" },
  { "sync-now", sync_now_activated },
  { "sync-account", sync_account_activated, "x" },
  { "next-unread", next_unread_activated },
  { "previous-unread", previous_unread_activated },
  { "select-all", select_all_activated },
  { "back", back_activated },
  { "sort", NULL, "s", "'date'", sort_changed },
  { "threaded", NULL, NULL, "false", threaded_changed },
  { "charset", NULL, "s", "''", charset_changed },
};

/* Search */

static void
search_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  TernWindow *self = user_data;

  _tern_window_show_pane (self, self->list_pane);
  tern_search_bar_start (self->search_bar);
}

static void
search_server_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  TernWindow *self = user_data;

  tern_search_bar_search_server (self->search_bar);
}

static void
stop_search_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  TernWindow *self = user_data;

  tern_search_bar_set_search_mode (self->search_bar, FALSE);
}

static const GActionEntry search_actions[] = {
  { "search", search_activated },
  { "search-server", search_server_activated },
  { "stop-search", stop_search_activated },
};

static void
update_search_actions (TernWindow *self)
{
  GActionMap *map = G_ACTION_MAP (self);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "search-server")),
                               tern_search_bar_get_can_search_server (self->search_bar)
                               && !tern_search_bar_get_busy (self->search_bar));
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (map, "stop-search")),
                               tern_search_bar_get_search_mode (self->search_bar));
}

/* Ctrl+F before the focused widget sees it, like the application's
 * accelerators (the reading pane's views must not take it); "/" and
 * Escape after, like the single keys, so that they can be typed. */
static void
add_search_actions (TernWindow *self)
{
  GtkEventController *capture = gtk_shortcut_controller_new ();
  GtkEventController *bubble = gtk_shortcut_controller_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), search_actions,
                                   G_N_ELEMENTS (search_actions), self);
  gtk_event_controller_set_propagation_phase (capture, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut (
    GTK_SHORTCUT_CONTROLLER (capture),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("<Control>f"),
                      gtk_named_action_new ("win.search")));
  gtk_widget_add_controller (GTK_WIDGET (self), capture);
  gtk_event_controller_set_propagation_phase (bubble, GTK_PHASE_BUBBLE);
  gtk_shortcut_controller_add_shortcut (
    GTK_SHORTCUT_CONTROLLER (bubble),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("slash"),
                      gtk_named_action_new ("win.search")));
  gtk_shortcut_controller_add_shortcut (
    GTK_SHORTCUT_CONTROLLER (bubble),
    gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("Escape"),
                      gtk_named_action_new ("win.stop-search")));
  gtk_widget_add_controller (GTK_WIDGET (self), bubble);
  g_signal_connect_object (self->search_bar, "notify", G_CALLBACK (update_search_actions), self,
                           G_CONNECT_SWAPPED);
  update_search_actions (self);
}

void
_tern_window_update_actions (TernWindow *self)
{
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (self->message_list_view);

  for (guint i = 0; i < G_N_ELEMENTS (message_actions); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), message_actions[i]);

      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), items->len > 0);
    }
}

/* Geary's single keys.  Application accelerators run before the focused
 * widget sees a key; these run after it (the bubble phase), so typing in
 * a text field never deletes or moves mail. */
static const struct
{
  const char *trigger;
  const char *action;
} single_keys[] = {
  { "r", "win.reply" },
  { "<Shift>r", "win.reply-all" },
  { "e", "win.edit-draft" },
  { "f", "win.forward" },
  { "Delete", "win.delete" },
  { "a", "win.archive" },
  { "m", "win.show-move-to" },
  { "s", "win.toggle-star" },
  { "<Shift>u", "win.mark-unread" },
  { "n", "win.next-unread" },
  { "p", "win.previous-unread" },
};

static void
add_single_keys (TernWindow *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();

  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_BUBBLE);
  for (guint i = 0; i < G_N_ELEMENTS (single_keys); i++)
    gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (controller),
      gtk_shortcut_new (gtk_shortcut_trigger_parse_string (single_keys[i].trigger),
                        gtk_named_action_new (single_keys[i].action)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);
}

void
_tern_window_actions_init (TernWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), window_actions,
                                   G_N_ELEMENTS (window_actions), self);
  gtk_menu_button_set_create_popup_func (self->move_button, create_move_menu_cb, self, NULL);
  {
    g_autoptr(GMenuModel) encodings = new_encoding_menu ();

    g_menu_append_submenu (self->message_menu, _("_Encoding"), encodings);
  }
  g_signal_connect_object (self->message_view, "notify::charset", G_CALLBACK (sync_charset), self,
                           G_CONNECT_SWAPPED);
  add_single_keys (self);
  g_signal_connect_object (tern_message_list_view_get_list_view (self->message_list_view),
                           "activate", G_CALLBACK (open_draft), self, G_CONNECT_SWAPPED);
  add_search_actions (self);
  _tern_window_update_actions (self);
}
