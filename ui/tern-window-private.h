/* tern-window-private.h: what tern-window.c and tern-window-actions.c
 * share.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-message-list-view.h"
#include "tern-message-view.h"
#include "tern-outbox-view.h"
#include "tern-search-bar.h"
#include "tern-sidebar.h"
#include "tern-window.h"

G_BEGIN_DECLS

struct _TernWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  AdwToastOverlay *toast_overlay;
  GtkStack *layout_stack;
  GtkPaned *outer_paned;
  GtkPaned *inner_paned;
  GtkWidget *sidebar_pane;
  GtkWidget *list_pane;
  GtkWidget *view_pane;
  AdwHeaderBar *sidebar_header;
  AdwHeaderBar *list_header;
  AdwHeaderBar *view_header;
  AdwWindowTitle *list_title;
  GtkWidget *list_back_button;
  GtkWidget *view_back_button;
  GtkMenuButton *move_button;
  GtkWidget *reply_all_button;
  GtkWidget *forward_button;
  GtkWidget *archive_button;
  GMenu *message_menu;

  /* Panes built in code */
  TernSidebar *sidebar;
  TernMessageListView *message_list_view;
  TernMessageView *message_view;
  GtkStack *list_stack;       /* the message list, or the outbox in its place */
  TernOutboxView *outbox_view;
  gboolean outbox_shown;      /* without the reading pane then */

  /* Search: the bar over the message list and its header bar button */
  TernSearchBar *search_bar;
  GtkToggleButton *search_button;

  /* Owned references */
  TernContext *context;
  GSettings *settings;
  GCancellable *cancellable;
  TernMessageList *list;
  GPtrArray *idles; /* TernImapIdle, one per IMAP account */

  TernMessageListSort sort;
  gboolean threaded;
  gboolean narrow;
  gboolean compact; /* three panes, but the reading pane's less used buttons in its menu */
  GtkWidget *folded_pane; /* the one pane a narrow window shows */
  gboolean select_inbox_pending;
  guint layout_idle_id;
  guint fit_panes_id;        /* keeping the sidebar from cutting the others off */
  guint mark_read_id;
  guint check_id;            /* the next check for new mail */
  gboolean network_available;
};

void         _tern_window_actions_init    (TernWindow  *self);
/* Enables the message actions when messages are selected. */
void         _tern_window_update_actions  (TernWindow  *self);
/* Sync jobs through the worker pool; the sidebar shows their state. */
void         _tern_window_sync_account    (TernWindow  *self,
                                           TernAccount *account);
void         _tern_window_sync_all        (TernWindow  *self);
/* Sends what the offline queue holds for @account now. */
void         _tern_window_replay          (TernWindow  *self,
                                           TernAccount *account);
void         _tern_window_show_error      (TernWindow  *self,
                                           const char  *message);
/* The account of the store's folder @folder_id, or NULL.  Transfer none. */
TernAccount *_tern_window_folder_account  (TernWindow  *self,
                                           gint64       folder_id);
/* In a narrow window, shows @pane (one of the three) alone. */
void         _tern_window_show_pane       (TernWindow  *self,
                                           GtkWidget   *pane);
/* Shows the sidebar's selection in the message list. */
void         _tern_window_reload_list     (TernWindow  *self);

G_END_DECLS
