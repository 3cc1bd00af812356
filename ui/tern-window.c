/* tern-window.c: the main window: sidebar, message list, message view.
 *
 * Wide, the three panes sit in two GtkPaneds whose positions are kept in
 * GSettings.  Below NARROW_WIDTH the window shows one pane at a time with
 * back buttons, so it stays usable at 360 px; the panes are the same
 * widgets either way, so the selection and the scroll position survive a
 * resize.
 *
 * On open the window syncs every account through the worker pool (the
 * sidebar shows each one's state) and then watches each IMAP Inbox with
 * IDLE; actions live in tern-window-actions.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-window"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-imap-idle.h"
#include "tern-imap-sync.h"
#include "tern-mail-store.h"
#include "tern-offline-queue.h"
#include "tern-outbox.h"
#include "tern-pop3-download.h"
#include "tern-window-private.h"

#define NARROW_WIDTH 720
/* Below this the three panes fit only when the reading pane's header bar
 * gives up Reply All, Forward, Archive and Move (all in its More menu):
 * with them it is wider than what is left of the window, and GtkPaned
 * would cut it off on the right. */
#define COMPACT_WIDTH 1100

G_DEFINE_FINAL_TYPE (TernWindow, tern_window, ADW_TYPE_APPLICATION_WINDOW)

void
_tern_window_show_error (TernWindow *self,
                         const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

TernAccount *
_tern_window_folder_account (TernWindow *self,
                             gint64      folder_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autofree char *key = NULL;

  folder = tern_mail_store_get_folder (tern_context_get_store (self->context), folder_id, &error);
  if (folder == NULL)
    return NULL;
  key = g_strdup_printf ("%" G_GINT64_FORMAT, folder->account_id);
  return tern_account_manager_lookup (tern_context_get_accounts (self->context), key);
}

/* Layout */

/* Shows the panes: all of them in a wide window, only @self->folded_pane
 * in a narrow one.  A GtkPaned gives a hidden child's room to the other,
 * so folding needs no second layout and no widget changes parents. */
static void
update_panes (TernWindow *self)
{
  GtkWidget *panes[] = { self->sidebar_pane, self->list_pane, self->view_pane };

  for (guint i = 0; i < G_N_ELEMENTS (panes); i++)
    gtk_widget_set_visible (panes[i], (!self->narrow || panes[i] == self->folded_pane)
                                        && !(panes[i] == self->view_pane && self->outbox_shown));
  gtk_widget_set_visible (GTK_WIDGET (self->inner_paned),
                          !self->narrow || self->folded_pane != self->sidebar_pane);
}

static void
set_layout (TernWindow *self,
            int         width)
{
  gboolean narrow = width < NARROW_WIDTH;
  gboolean crowded = width < COMPACT_WIDTH;

  self->narrow = narrow;
  self->compact = crowded;
  update_panes (self);

  /* Folded, every pane is the whole window and needs its own controls. */
  adw_header_bar_set_show_end_title_buttons (self->sidebar_header, narrow);
  adw_header_bar_set_show_end_title_buttons (self->list_header, narrow);
  adw_header_bar_set_show_start_title_buttons (self->list_header, narrow);
  adw_header_bar_set_show_start_title_buttons (self->view_header, narrow);
  gtk_widget_set_visible (self->list_back_button, narrow);
  gtk_widget_set_visible (self->view_back_button, narrow);
  /* Room for the back button, or for three panes: these stay in the More
   * menu. */
  gtk_widget_set_visible (self->reply_all_button, !crowded);
  gtk_widget_set_visible (self->forward_button, !crowded);
  gtk_widget_set_visible (self->archive_button, !crowded);
  gtk_widget_set_visible (GTK_WIDGET (self->move_button), !crowded);
}

void
_tern_window_show_pane (TernWindow *self,
                        GtkWidget  *pane)
{
  self->folded_pane = pane;
  update_panes (self);
}

static gboolean
update_layout_cb (gpointer user_data)
{
  TernWindow *self = user_data;

  self->layout_idle_id = 0;
  set_layout (self, gtk_widget_get_width (GTK_WIDGET (self)));
  gtk_widget_queue_resize (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* A sidebar dragged (or remembered) wider than the window allows leaves
 * the message list and the reading pane less than their minimum, and
 * GtkPaned cuts them off on the right.  shrink-end-child=false would
 * prevent that, but it adds their minimum to the window's, which could
 * then never become narrow enough to fold: the sidebar gives the room
 * back instead, once the panes have been allocated. */
static gboolean
fit_panes_cb (gpointer user_data)
{
  TernWindow *self = user_data;
  graphene_rect_t bounds;
  int minimum, missing;

  self->fit_panes_id = 0;
  if (self->narrow || !gtk_widget_get_visible (GTK_WIDGET (self->inner_paned)) ||
      !gtk_widget_compute_bounds (GTK_WIDGET (self->inner_paned), GTK_WIDGET (self->outer_paned),
                                  &bounds))
    return G_SOURCE_REMOVE;
  /* GTK allocates a child its minimum even where it does not fit: what
   * runs past the paned's right edge is what is cut off. */
  gtk_widget_measure (GTK_WIDGET (self->inner_paned), GTK_ORIENTATION_HORIZONTAL, -1, &minimum,
                      NULL, NULL, NULL);
  missing = (int) bounds.origin.x + MAX (minimum, gtk_widget_get_width (GTK_WIDGET (self->inner_paned)))
            - gtk_widget_get_width (GTK_WIDGET (self->outer_paned));
  if (missing > 0)
    gtk_paned_set_position (self->outer_paned,
                            MAX (0, gtk_paned_get_position (self->outer_paned) - missing));
  return G_SOURCE_REMOVE;
}

/* After the layout of the frame (GDK_PRIORITY_REDRAW), which allocates the
 * panes at the new position. */
static void
queue_fit_panes (TernWindow *self)
{
  if (self->fit_panes_id == 0)
    self->fit_panes_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, fit_panes_cb, self, NULL);
}

/* Visibility cannot change during an allocation: folding waits for an
 * idle. */
static void
tern_window_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  TernWindow *self = TERN_WINDOW (widget);

  GTK_WIDGET_CLASS (tern_window_parent_class)->size_allocate (widget, width, height, baseline);
  if (((width < NARROW_WIDTH) != self->narrow || (width < COMPACT_WIDTH) != self->compact) &&
      self->layout_idle_id == 0)
    self->layout_idle_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, update_layout_cb, self, NULL);
  queue_fit_panes (self);
}

static void
update_visible_page (TernWindow *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  gboolean empty = g_list_model_get_n_items (accounts) == 0;

  gtk_stack_set_visible_child_name (self->layout_stack, empty ? "empty" : "wide");
}

/* The message list */

void
_tern_window_reload_list (TernWindow *self)
{
  g_autoptr(GArray) folders = tern_sidebar_get_selected_folders (self->sidebar);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) list = NULL;

  adw_window_title_set_title (self->list_title, tern_sidebar_get_selected_title (self->sidebar));
  if (folders->len > 0)
    {
      list = tern_message_list_new_for_folders (tern_context_get_store (self->context),
                                                (const gint64 *) folders->data, folders->len,
                                                &error);
      if (list == NULL)
        _tern_window_show_error (self, error->message);
    }
  if (list != NULL)
    {
      /* Conversations go by their newest message whatever the sort:
       * newest first, like the date. */
      tern_message_list_set_sort (list, self->sort,
                                  self->sort == TERN_MESSAGE_LIST_SORT_DATE || self->threaded);
      tern_message_list_set_threaded (list, self->threaded);
    }
  g_set_object (&self->list, list);
  tern_message_list_view_set_list (self->message_list_view, list);
}

/* The sidebar's Outbox is the row without folders that bears its name
 * (a folder called Outbox has a folder). */
static gboolean
outbox_selected (TernWindow *self)
{
  g_autoptr(GArray) folders = tern_sidebar_get_selected_folders (self->sidebar);

  return folders->len == 0
         && g_strcmp0 (tern_sidebar_get_selected_title (self->sidebar),
                       tern_folder_role_display_name ("outbox")) == 0;
}

static void
sidebar_selection_changed_cb (TernWindow *self)
{
  /* The outbox view replaces the message list and the reading pane. */
  self->outbox_shown = outbox_selected (self);
  gtk_stack_set_visible_child (self->list_stack, self->outbox_shown
                                                   ? GTK_WIDGET (self->outbox_view)
                                                   : GTK_WIDGET (self->message_list_view));
  _tern_window_reload_list (self);
  _tern_window_show_pane (self, self->list_pane);
}

/* Opening a message marks it read once the view shows it: through the
 * offline queue, so the list and the counts change at once and the server
 * hears of it on the replay that follows. */
static gboolean
mark_read_cb (gpointer user_data)
{
  TernWindow *self = user_data;
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (self->message_list_view);
  g_autoptr(GError) error = NULL;
  TernMessageItem *item;
  gint64 id;

  self->mark_read_id = 0;
  if (items->len != 1)
    return G_SOURCE_REMOVE;
  item = g_ptr_array_index (items, 0);
  id = tern_message_item_get_id (item);
  if (!tern_message_item_get_unread (item) || tern_message_view_get_message (self->message_view) != id)
    return G_SOURCE_REMOVE;
  if (!tern_offline_queue_set_flags (tern_context_get_store (self->context), &id, 1,
                                     TERN_IMAP_FLAG_SEEN, 0, &error))
    _tern_window_show_error (self, error->message);
  else
    _tern_window_replay (self, _tern_window_folder_account (self,
                                                           tern_message_item_get_folder_id (item)));
  return G_SOURCE_REMOVE;
}

static void
list_selection_changed_cb (TernWindow *self)
{
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (self->message_list_view);
  gint64 id = items->len == 1 ? tern_message_item_get_id (g_ptr_array_index (items, 0)) : 0;
  int delay;

  _tern_window_update_actions (self);
  if (id == 0 || tern_message_view_get_message (self->message_view) == id)
    {
      if (items->len == 0)
        tern_message_view_set_message (self->message_view, 0);
      return;
    }
  tern_message_view_set_message (self->message_view, id);
  _tern_window_show_pane (self, self->view_pane);
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  delay = self->settings != NULL ? g_settings_get_int (self->settings, "mark-read-seconds") : 0;
  /* Not a default idle: a busy frame clock (the view's spinner) would
   * starve it.  -1 (the preferences' "never"): only by hand. */
  if (delay == 0)
    self->mark_read_id = g_idle_add_full (G_PRIORITY_DEFAULT, mark_read_cb, self, NULL);
  else if (delay > 0)
    self->mark_read_id = g_timeout_add_seconds (delay, mark_read_cb, self);
}

/* Search: while the bar has a query, the message list shows what it
 * found; the folder's list waits underneath with its selection. */

static void
search_folder_changed_cb (TernWindow *self)
{
  g_autoptr(GArray) folders = tern_sidebar_get_selected_folders (self->sidebar);
  gint64 folder_id = folders->len == 1 ? g_array_index (folders, gint64, 0) : 0;

  tern_search_bar_set_folder (self->search_bar, folder_id,
                              folder_id != 0 ? _tern_window_folder_account (self, folder_id) : NULL);
}

static void
search_results_cb (TernWindow *self)
{
  tern_message_list_view_set_search_results (self->message_list_view,
                                             tern_search_bar_get_searching (self->search_bar),
                                             tern_search_bar_get_results (self->search_bar));
}

static void
search_busy_cb (TernWindow *self)
{
  tern_message_list_view_set_search_busy (self->message_list_view,
                                          tern_search_bar_get_busy (self->search_bar));
}

static void
setup_search (TernWindow *self)
{
  self->search_bar = TERN_SEARCH_BAR (tern_search_bar_new (self->context));
  gtk_box_insert_child_after (GTK_BOX (self->list_pane), GTK_WIDGET (self->search_bar),
                              GTK_WIDGET (self->list_header));
  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->sidebar, "selection-changed",
                            G_CALLBACK (search_folder_changed_cb), self);
  g_signal_connect_swapped (self->search_bar, "notify::searching", G_CALLBACK (search_results_cb),
                            self);
  g_signal_connect_swapped (self->search_bar, "notify::results", G_CALLBACK (search_results_cb),
                            self);
  g_signal_connect_swapped (self->search_bar, "notify::busy", G_CALLBACK (search_busy_cb), self);
}

/* Sync */

typedef struct
{
  GWeakRef window;
  TernContext *context;
  TernAccount *account;
} SyncJob;

static void
sync_job_free (SyncJob *job)
{
  g_weak_ref_clear (&job->window);
  g_object_unref (job->context);
  g_object_unref (job->account);
  g_free (job);
}

static void
sync_progress_cb (const char *folder,
                  guint       done,
                  guint       total,
                  gpointer    user_data)
{
  tern_worker_job_set_folder (user_data, folder);
  tern_worker_job_set_progress (user_data, done, total);
}

static gboolean
sync_job (TernWorkerJob  *job,
          gpointer        data,
          GCancellable   *cancellable,
          GError        **error)
{
  SyncJob *sync = data;
  TernAccount *account = tern_worker_job_get_account (job);

  tern_worker_job_set_state (job, TERN_WORKER_STATE_SYNCING);
  if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
    {
      if (!tern_pop3_download_account (sync->context, account, NULL, NULL, NULL, cancellable,
                                       error))
        return FALSE;
    }
  else if (!tern_imap_sync_account (sync->context, account, TERN_IMAP_SYNC_BODIES_WINDOW,
                                    sync_progress_cb, job, NULL, cancellable, error))
    return FALSE;
  tern_worker_job_mark_synced (job);
  return TRUE;
}

static void
start_idle (TernWindow  *self,
            TernAccount *account)
{
  TernImapIdle *idle;

  if (tern_account_get_protocol (account) != TERN_ACCOUNT_PROTOCOL_IMAP)
    return;
  for (guint i = 0; i < self->idles->len; i++)
    if (g_object_get_data (self->idles->pdata[i], "tern-account") == account)
      return;
  idle = tern_imap_idle_new (self->context, account, NULL);
  g_object_set_data_full (G_OBJECT (idle), "tern-account", g_object_ref (account), g_object_unref);
  g_ptr_array_add (self->idles, idle);
  tern_imap_idle_start (idle);
}

static void
sync_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  SyncJob *sync = user_data;
  g_autoptr(TernWindow) self = g_weak_ref_get (&sync->window);
  TernAccount *account = sync->account;
  gboolean ok = tern_worker_pool_run_finish (TERN_WORKER_POOL (source), result, &error);

  if (self != NULL && !g_cancellable_is_cancelled (self->cancellable))
    {
      /* The sidebar shows a failure on the account's row, with Retry. */
      tern_sidebar_reload (self->sidebar);
      if (ok)
        {
          /* On the first run the Inbox only exists once synced. */
          if (self->select_inbox_pending)
            self->select_inbox_pending = !tern_sidebar_select_inbox (self->sidebar);
          start_idle (self, account);
          tern_outbox_schedule (self->context, account);
        }
    }
  sync_job_free (sync);
}

void
_tern_window_sync_account (TernWindow  *self,
                           TernAccount *account)
{
  SyncJob *sync;

  if (account == NULL)
    return;
  sync = g_new0 (SyncJob, 1);
  g_weak_ref_init (&sync->window, self);
  sync->context = g_object_ref (self->context);
  sync->account = g_object_ref (account);
  tern_worker_pool_run_async (tern_context_get_worker_pool (self->context), account, sync_job, sync,
                              self->cancellable, sync_done_cb, sync);
}

void
_tern_window_sync_all (TernWindow *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));

  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      _tern_window_sync_account (self, account);
    }
}

static void
reconnect_cb (TernWorkerPool *pool,
              TernAccount    *account,
              TernWindow     *self)
{
  _tern_window_sync_account (self, account);
}

static void
accounts_changed_cb (TernWindow *self,
                     guint       position,
                     guint       removed,
                     guint       added)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  gboolean had_none = g_list_model_get_n_items (accounts) == added;

  update_visible_page (self);
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);

      _tern_window_sync_account (self, account);
    }
  if (had_none && added > 0)
    self->select_inbox_pending = !tern_sidebar_select_inbox (self->sidebar);
}

/* Lifecycle */

static void
bind_window_state (TernWindow *self)
{
  g_autoptr(GVariant) sort = NULL;
  g_autoptr(GVariant) threaded = NULL;

  if (self->settings == NULL)
    return;
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "sidebar-width", self->outer_paned, "position",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "message-list-width", self->inner_paned, "position",
                   G_SETTINGS_BIND_DEFAULT);
  /* The order and grouping chosen last time (before a folder is shown);
   * the actions write them back when they change. */
  sort = g_settings_get_value (self->settings, "message-list-sort");
  threaded = g_settings_get_value (self->settings, "message-list-conversations");
  g_action_group_change_action_state (G_ACTION_GROUP (self), "sort", sort);
  g_action_group_change_action_state (G_ACTION_GROUP (self), "threaded", threaded);
}

static void
stop_idles (TernWindow *self)
{
  for (guint i = 0; i < self->idles->len; i++)
    tern_imap_idle_stop (self->idles->pdata[i]);
  g_ptr_array_set_size (self->idles, 0);
}

/* Keeping up while the window is open: IDLE pushes an IMAP Inbox's new
 * mail; every check-interval-minutes everything is synced, for POP3,
 * servers without IDLE and the other folders. */

static void schedule_check (TernWindow *self);

static gboolean
check_cb (gpointer user_data)
{
  TernWindow *self = user_data;

  self->check_id = 0;
  if (!tern_context_get_offline (self->context))
    _tern_window_sync_all (self);
  schedule_check (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_check (TernWindow *self)
{
  int minutes = 5;

  if (self->settings != NULL)
    minutes = g_settings_get_int (self->settings, "check-interval-minutes");
  g_clear_handle_id (&self->check_id, g_source_remove);
  self->check_id = g_timeout_add_seconds (MAX (minutes, 1) * 60, check_cb, self);
}

/* Work Offline: going offline closes the IDLE connections (jobs fail at
 * once by themselves, and the sidebar says so); coming back syncs, which
 * also flushes the outbox and starts IDLE again. */
static void
offline_changed_cb (TernWindow *self)
{
  if (tern_context_get_offline (self->context))
    stop_idles (self);
  else
    _tern_window_sync_all (self);
}

/* The network came back (after a suspend, a new Wi-Fi): no need to wait
 * for the reconnect backoff. */
static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    TernWindow      *self)
{
  gboolean was_available = self->network_available;

  self->network_available = available;
  if (available && !was_available && !tern_context_get_offline (self->context))
    _tern_window_sync_all (self);
}

/* Selects the folder of @message_id and the message in it. */
void
tern_window_show_message (TernWindow *self,
                          gint64      message_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  GListModel *rows;

  g_return_if_fail (TERN_IS_WINDOW (self));

  message = tern_mail_store_get_message (tern_context_get_store (self->context), message_id,
                                         &error);
  if (message == NULL)
    {
      _tern_window_show_error (self, error->message);
      return;
    }
  /* The message shows in its folder's list, which a search hides. */
  if (tern_search_bar_get_search_mode (self->search_bar))
    tern_search_bar_set_search_mode (self->search_bar, FALSE);
  if (!tern_sidebar_select_folder (self->sidebar, message->folder_id))
    return;
  /* New mail is near the top: the rows are read lazily from there. */
  rows = G_LIST_MODEL (gtk_list_view_get_model (
    tern_message_list_view_get_list_view (self->message_list_view)));
  for (guint i = 0; rows != NULL && i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, i);
      g_autoptr(TernMessageItem) item = gtk_tree_list_row_get_item (row);

      if (tern_message_item_get_id (item) == message_id)
        {
          tern_message_list_view_select (self->message_list_view, i);
          return;
        }
    }
}

static void
tern_window_dispose (GObject *object)
{
  TernWindow *self = TERN_WINDOW (object);

  /* Late replies of jobs must not touch a window being destroyed. */
  g_cancellable_cancel (self->cancellable);
  if (self->idles != NULL)
    stop_idles (self);
  if (self->context != NULL)
    {
      g_signal_handlers_disconnect_by_data (tern_context_get_accounts (self->context), self);
      g_signal_handlers_disconnect_by_data (tern_context_get_worker_pool (self->context), self);
      g_signal_handlers_disconnect_by_data (self->context, self);
      g_signal_handlers_disconnect_by_data (g_network_monitor_get_default (), self);
    }
  g_clear_handle_id (&self->layout_idle_id, g_source_remove);
  g_clear_handle_id (&self->fit_panes_id, g_source_remove);
  g_clear_handle_id (&self->check_id, g_source_remove);
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  g_clear_object (&self->list);
  g_clear_object (&self->context);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->idles, g_ptr_array_unref);

  G_OBJECT_CLASS (tern_window_parent_class)->dispose (object);
}

static void
tern_window_finalize (GObject *object)
{
  TernWindow *self = TERN_WINDOW (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tern_window_parent_class)->finalize (object);
}

static void
tern_window_class_init (TernWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_window_dispose;
  object_class->finalize = tern_window_finalize;
  widget_class->size_allocate = tern_window_size_allocate;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TernWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, layout_stack);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, outer_paned);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, inner_paned);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, sidebar_pane);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, list_pane);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, view_pane);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, sidebar_header);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, list_header);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, view_header);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, list_title);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, list_back_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, view_back_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, move_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, reply_all_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, forward_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, archive_button);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, message_menu);
  gtk_widget_class_bind_template_child (widget_class, TernWindow, search_button);
}

static void
tern_window_init (TernWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->idles = g_ptr_array_new_with_free_func (g_object_unref);
  self->sort = TERN_MESSAGE_LIST_SORT_DATE;
  gtk_paned_set_start_child (self->outer_paned, self->sidebar_pane);
  gtk_paned_set_start_child (self->inner_paned, self->list_pane);
  gtk_paned_set_end_child (self->inner_paned, self->view_pane);
  g_signal_connect_swapped (self->outer_paned, "notify::position", G_CALLBACK (queue_fit_panes),
                            self);
  /* Starts wide; the first allocation folds a narrow window. */
  self->folded_pane = self->list_pane;
  set_layout (self, COMPACT_WIDTH);
}

/* The reading pane asks for about 500 px; in a narrow window it scrolls
 * sideways rather than widening the window past the screen.  It scrolls
 * its body itself, so only the horizontal direction is ours. */
static GtkWidget *
wrap_message_view (TernMessageView *view)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (view));
  gtk_widget_set_vexpand (scrolled, TRUE);
  return scrolled;
}

TernWindow *
tern_window_new (TernApplication *application,
                 TernContext     *context,
                 GSettings       *settings)
{
  TernWindow *self;
  TernAccountManager *accounts;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_WINDOW, "application", application, NULL);
  self->context = g_object_ref (context);
  self->settings = settings ? g_object_ref (settings) : NULL;

  self->sidebar = TERN_SIDEBAR (tern_sidebar_new (context));
  gtk_widget_set_vexpand (GTK_WIDGET (self->sidebar), TRUE);
  gtk_box_append (GTK_BOX (self->sidebar_pane), GTK_WIDGET (self->sidebar));
  self->message_list_view = TERN_MESSAGE_LIST_VIEW (tern_message_list_view_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->message_list_view), TRUE);
  self->outbox_view = TERN_OUTBOX_VIEW (tern_outbox_view_new (context));
  self->list_stack = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->list_stack), TRUE);
  gtk_stack_add_child (self->list_stack, GTK_WIDGET (self->message_list_view));
  gtk_stack_add_child (self->list_stack, GTK_WIDGET (self->outbox_view));
  gtk_box_append (GTK_BOX (self->list_pane), GTK_WIDGET (self->list_stack));
  self->message_view = TERN_MESSAGE_VIEW (tern_message_view_new (context));
  gtk_box_append (GTK_BOX (self->view_pane), wrap_message_view (self->message_view));

  g_signal_connect_swapped (self->sidebar, "selection-changed",
                            G_CALLBACK (sidebar_selection_changed_cb), self);
  g_signal_connect_swapped (self->message_list_view, "selection-changed",
                            G_CALLBACK (list_selection_changed_cb), self);
  setup_search (self);
  _tern_window_actions_init (self);

  accounts = tern_context_get_accounts (context);
  g_signal_connect_swapped (accounts, "items-changed", G_CALLBACK (accounts_changed_cb), self);
  g_signal_connect (tern_context_get_worker_pool (context), "reconnect", G_CALLBACK (reconnect_cb),
                    self);
  update_visible_page (self);
  bind_window_state (self);
  self->select_inbox_pending = !tern_sidebar_select_inbox (self->sidebar);
  _tern_window_sync_all (self);
  g_signal_connect_swapped (context, "notify::offline", G_CALLBACK (offline_changed_cb), self);
  self->network_available = g_network_monitor_get_network_available (g_network_monitor_get_default ());
  g_signal_connect (g_network_monitor_get_default (), "network-changed",
                    G_CALLBACK (network_changed_cb), self);
  if (self->settings != NULL)
    g_signal_connect_swapped (self->settings, "changed::check-interval-minutes",
                              G_CALLBACK (schedule_check), self);
  schedule_check (self);
  return self;
}

TernSidebar *
tern_window_get_sidebar (TernWindow *self)
{
  g_return_val_if_fail (TERN_IS_WINDOW (self), NULL);
  return self->sidebar;
}

TernMessageListView *
tern_window_get_message_list_view (TernWindow *self)
{
  g_return_val_if_fail (TERN_IS_WINDOW (self), NULL);
  return self->message_list_view;
}

TernMessageView *
tern_window_get_message_view (TernWindow *self)
{
  g_return_val_if_fail (TERN_IS_WINDOW (self), NULL);
  return self->message_view;
}

gboolean
tern_window_get_folded (TernWindow *self)
{
  g_return_val_if_fail (TERN_IS_WINDOW (self), FALSE);
  return self->narrow;
}

TernOutboxView *
tern_window_get_outbox_view (TernWindow *self)
{
  g_return_val_if_fail (TERN_IS_WINDOW (self), NULL);
  return self->outbox_view;
}
