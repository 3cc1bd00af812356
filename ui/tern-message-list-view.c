/* tern-message-list-view.c: a GtkListView over a TernMessageList.
 *
 * The list is always shown through a GtkTreeListModel, so conversations
 * expand in place; without conversations no row has children and the tree
 * is flat.  The tree creates its rows lazily, so only what is on screen is
 * read from the store, and the list's precise items-changed keep the
 * selection and the scroll position while a sync adds or removes rows.
 *
 * Search results are a second model (a Slot) shown by a second GtkListView
 * with the same rows, in place of the folder's: the folder's list view,
 * tree and selection stay alive underneath, following the store, so ending
 * the search brings the folder back as it was, scrolled where it was (a
 * GtkListView given another model forgets its scroll position, and GTK 4.8
 * cannot scroll one to an exact place).
 *
 * Rows are a drag source for the sidebar's folders: what is dragged is
 * the selection when the row is part of it, else the row alone, as the
 * message ids in a GArray (G_TYPE_ARRAY).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list-view"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-message-list-view.h"
#include "tern-message-row.h"

#define ARROW_MARGIN 12

/* A list as the view shows it. */
typedef struct
{
  GtkListView *view; /* template widget */
  const char *page;  /* of the stack, that shows view */
  TernMessageList *list;
  GtkTreeListModel *tree;
  GtkMultiSelection *selection;
  /* Rows came in above the first while the view showed the top. */
  gboolean back_to_top;
} Slot;

struct _TernMessageListView
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkStack *stack;
  GtkListView *list_view;
  GtkListView *results_view;

  /* Owned references */
  Slot folder;
  Slot search;

  Slot *shown; /* &folder, or &search while a search shows */
  gboolean searching;
  gboolean search_busy;
};

G_DEFINE_FINAL_TYPE (TernMessageListView, tern_message_list_view, GTK_TYPE_WIDGET)

enum {
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static TernMessageItem *
item_at (TernMessageListView *self,
         guint                position)
{
  g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->shown->tree),
                                                         position);

  return row != NULL ? gtk_tree_list_row_get_item (row) : NULL;
}

static GListModel *
create_thread_cb (gpointer item,
                  gpointer user_data)
{
  Slot *slot = user_data;
  g_autoptr(GError) error = NULL;
  TernMessageList *thread;

  /* Only conversation rows (of the top level) have more than one. */
  if (tern_message_item_get_thread_size (item) <= 1 || slot->list == NULL)
    return NULL;
  thread = tern_message_list_get_thread (slot->list, item, &error);
  if (thread == NULL)
    g_warning ("Could not read a conversation: %s", error->message);
  return G_LIST_MODEL (thread);
}

/* Rows */

static GArray *
ids_of_row (TernMessageListView *self,
            guint                position)
{
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (self->shown->selection);
  GArray *ids;

  if (gtk_selection_model_is_selected (selection, position))
    return tern_message_list_view_get_selected_ids (self);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  {
    g_autoptr(TernMessageItem) item = item_at (self, position);

    if (item != NULL)
      {
        gint64 id = tern_message_item_get_id (item);

        g_array_append_val (ids, id);
      }
  }
  return ids;
}

static GdkContentProvider *
drag_prepare_cb (GtkDragSource *source,
                 double         x,
                 double         y,
                 GtkListItem   *list_item)
{
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (source));
  TernMessageListView *self =
    TERN_MESSAGE_LIST_VIEW (gtk_widget_get_ancestor (widget, TERN_TYPE_MESSAGE_LIST_VIEW));
  g_autoptr(GArray) ids = NULL;
  GValue value = G_VALUE_INIT;
  GdkContentProvider *content;

  if (self == NULL || gtk_list_item_get_position (list_item) == GTK_INVALID_LIST_POSITION)
    return NULL;
  ids = ids_of_row (self, gtk_list_item_get_position (list_item));
  if (ids->len == 0)
    return NULL;
  g_value_init (&value, G_TYPE_ARRAY);
  g_value_take_boxed (&value, g_steal_pointer (&ids));
  content = gdk_content_provider_new_for_value (&value);
  g_value_unset (&value);
  return content;
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  GtkWidget *expander = gtk_tree_expander_new ();
  GtkDragSource *drag = gtk_drag_source_new ();

  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), tern_message_row_new ());
  /* Clear of the pane's handle to the left: GtkPaned takes clicks up to
   * 14 px into the list (libadwaita's 8 px of padding, GTK's 6 px around
   * the handle), which covered most of a conversation's arrow. */
  gtk_widget_set_margin_start (expander, ARROW_MARGIN);
  gtk_drag_source_set_actions (drag, GDK_ACTION_MOVE);
  g_signal_connect (drag, "prepare", G_CALLBACK (drag_prepare_cb), list_item);
  gtk_widget_add_controller (expander, GTK_EVENT_CONTROLLER (drag));
  gtk_list_item_set_child (list_item, expander);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);
  GtkTreeExpander *expander = GTK_TREE_EXPANDER (gtk_list_item_get_child (list_item));
  TernMessageRow *message_row = TERN_MESSAGE_ROW (gtk_tree_expander_get_child (expander));
  g_autoptr(TernMessageItem) item = gtk_tree_list_row_get_item (row);

  gtk_tree_expander_set_list_row (expander, row);
  tern_message_row_set_item (message_row, item);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  GtkTreeExpander *expander = GTK_TREE_EXPANDER (gtk_list_item_get_child (list_item));

  gtk_tree_expander_set_list_row (expander, NULL);
  tern_message_row_set_item (TERN_MESSAGE_ROW (gtk_tree_expander_get_child (expander)), NULL);
}

/* The list */

static void
update_page (TernMessageListView *self)
{
  GListModel *tree = G_LIST_MODEL (self->shown->tree);

  if (tree != NULL && g_list_model_get_n_items (tree) > 0)
    gtk_stack_set_visible_child_name (self->stack, self->shown->page);
  else if (self->search_busy)
    gtk_stack_set_visible_child_name (self->stack, "searching");
  else if (!self->searching)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else
    /* Without results, the query did not parse: the search bar says why. */
    gtk_stack_set_visible_child_name (self->stack, tree != NULL ? "not-found" : "blank");
}

/* Whether @slot's view shows its first row at the top. */
static gboolean
slot_at_top (Slot *slot)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (slot->view));

  return vadjustment == NULL
         || gtk_adjustment_get_value (vadjustment) <= gtk_adjustment_get_lower (vadjustment) + 0.5;
}

/* The slot (folder or search) whose tree @tree is. */
static Slot *
slot_of (TernMessageListView *self,
         GListModel          *tree)
{
  return tree == G_LIST_MODEL (self->folder.tree) ? &self->folder : &self->search;
}

/* Before the view hears of a change: a GtkListView keeps the row it shows
 * at the top in place, so new mail sorted above it would arrive out of
 * sight.  At the top of the list, the top is where the reader looks: the
 * view goes back there once it has the new rows (tree_changed_after_cb).
 * Scrolled down, the rows being read stay where they are. */
static void
tree_changed_cb (GListModel *tree,
                 guint       position,
                 guint       removed,
                 guint       added,
                 gpointer    user_data)
{
  TernMessageListView *self = user_data;
  Slot *slot = slot_of (self, tree);

  if (position == 0 && added > 0 && slot_at_top (slot))
    slot->back_to_top = TRUE;
  update_page (self);
}

static void
tree_changed_after_cb (GListModel *tree,
                       guint       position,
                       guint       removed,
                       guint       added,
                       gpointer    user_data)
{
  TernMessageListView *self = user_data;
  Slot *slot = slot_of (self, tree);

  if (!slot->back_to_top)
    return;
  slot->back_to_top = FALSE;
  gtk_widget_activate_action (GTK_WIDGET (slot->view), "list.scroll-to-item", "u", 0);
}

static void
selection_changed_cb (TernMessageListView *self,
                      guint                position,
                      guint                n_items,
                      GtkSelectionModel   *selection)
{
  /* The folder's selection may change under a search (a row deleted):
   * the window hears of it when the folder shows again. */
  if (selection == GTK_SELECTION_MODEL (self->shown->selection))
    g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static void
slot_clear (TernMessageListView *self,
            Slot                *slot)
{
  if (slot->selection != NULL)
    g_signal_handlers_disconnect_by_data (slot->selection, self);
  if (slot->tree != NULL)
    g_signal_handlers_disconnect_by_data (slot->tree, self);
  g_clear_object (&slot->selection);
  g_clear_object (&slot->tree);
  g_clear_object (&slot->list);
}

static void
slot_set_list (TernMessageListView *self,
               Slot                *slot,
               TernMessageList     *list)
{
  gtk_list_view_set_model (slot->view, NULL);
  slot_clear (self, slot);
  if (list == NULL)
    return;
  slot->list = g_object_ref (list);
  slot->tree = gtk_tree_list_model_new (g_object_ref (G_LIST_MODEL (list)), FALSE, FALSE,
                                        create_thread_cb, slot, NULL);
  slot->back_to_top = FALSE;
  /* Connected before the selection wraps the tree: this runs before the
   * selection and the view see the change, the _after one after them. */
  g_signal_connect (slot->tree, "items-changed", G_CALLBACK (tree_changed_cb), self);
  slot->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (slot->tree)));
  g_signal_connect_after (slot->tree, "items-changed", G_CALLBACK (tree_changed_after_cb), self);
  g_signal_connect_swapped (slot->selection, "selection-changed",
                            G_CALLBACK (selection_changed_cb), self);
  gtk_list_view_set_model (slot->view, GTK_SELECTION_MODEL (slot->selection));
}

void
tern_message_list_view_set_list (TernMessageListView *self,
                                 TernMessageList     *list)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self));

  if (self->folder.list == list)
    return;
  slot_set_list (self, &self->folder, list);
  if (self->shown != &self->folder)
    return;
  update_page (self);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

TernMessageList *
tern_message_list_view_get_list (TernMessageListView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self), NULL);
  return self->folder.list;
}

static void
show_slot (TernMessageListView *self,
           Slot                *slot)
{
  self->shown = slot;
  update_page (self);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

void
tern_message_list_view_set_search_results (TernMessageListView *self,
                                           gboolean             searching,
                                           TernMessageList     *results)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self));
  g_return_if_fail (results == NULL || searching);

  if (self->searching == searching && self->search.list == results)
    return;
  self->searching = searching;
  if (self->search.list != results)
    slot_set_list (self, &self->search, results);
  show_slot (self, searching ? &self->search : &self->folder);
}

void
tern_message_list_view_set_search_busy (TernMessageListView *self,
                                        gboolean             busy)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self));

  self->search_busy = busy;
  update_page (self);
}

gboolean
tern_message_list_view_get_searching (TernMessageListView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self), FALSE);
  return self->searching;
}

GPtrArray *
tern_message_list_view_get_selected_items (TernMessageListView *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkBitset) selected = NULL;
  GtkBitsetIter iter;
  guint position;

  g_return_val_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self), items);

  if (self->shown->selection == NULL)
    return items;
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->shown->selection));
  for (gboolean more = gtk_bitset_iter_init_first (&iter, selected, &position); more;
       more = gtk_bitset_iter_next (&iter, &position))
    {
      TernMessageItem *item = item_at (self, position);

      if (item != NULL)
        g_ptr_array_add (items, item);
    }
  return items;
}

/* A collapsed conversation acts on all of its messages, as in Geary. */
static void
append_thread_ids (TernMessageListView *self,
                   TernMessageItem     *item,
                   GArray              *ids)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) thread = NULL;
  guint n;

  thread = tern_message_list_get_thread (self->shown->list, item, &error);
  if (thread == NULL)
    {
      g_warning ("Could not read a conversation: %s", error->message);
      return;
    }
  n = g_list_model_get_n_items (G_LIST_MODEL (thread));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernMessageItem) child = g_list_model_get_item (G_LIST_MODEL (thread), i);
      gint64 id = tern_message_item_get_id (child);

      g_array_append_val (ids, id);
    }
}

GArray *
tern_message_list_view_get_selected_ids (TernMessageListView *self)
{
  g_autoptr(GPtrArray) items = tern_message_list_view_get_selected_items (self);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  for (guint i = 0; i < items->len; i++)
    {
      TernMessageItem *item = g_ptr_array_index (items, i);
      gint64 id = tern_message_item_get_id (item);

      if (tern_message_item_get_thread_size (item) > 1)
        append_thread_ids (self, item, ids);
      else
        g_array_append_val (ids, id);
    }
  /* An expanded conversation and one of its messages may both be
   * selected: each message once. */
  for (guint i = 0; i < ids->len;)
    {
      gint64 *id = &g_array_index (ids, gint64, i);

      if (g_hash_table_contains (seen, id))
        g_array_remove_index (ids, i);
      else
        {
          g_hash_table_add (seen, id);
          i++;
        }
    }
  return ids;
}

void
tern_message_list_view_select (TernMessageListView *self,
                               guint                position)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self));

  if (self->shown->selection == NULL)
    return;
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->shown->selection), position, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (self->shown->view), "list.scroll-to-item", "u", position);
}

gboolean
tern_message_list_view_select_unread (TernMessageListView *self,
                                      gboolean             forward)
{
  g_autoptr(GtkBitset) selected = NULL;
  guint n, start;

  g_return_val_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self), FALSE);

  if (self->shown->selection == NULL)
    return FALSE;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->shown->tree));
  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->shown->selection));
  if (gtk_bitset_is_empty (selected))
    start = forward ? 0 : n;
  else
    start = forward ? gtk_bitset_get_maximum (selected) + 1 : gtk_bitset_get_minimum (selected);
  for (guint i = 0; i < n; i++)
    {
      guint position = forward ? start + i : start - 1 - i;
      g_autoptr(TernMessageItem) item = NULL;

      if ((forward && position >= n) || (!forward && i >= start))
        break;
      item = item_at (self, position);
      if (item != NULL && tern_message_item_get_unread (item))
        {
          tern_message_list_view_select (self, position);
          return TRUE;
        }
    }
  return FALSE;
}

void
tern_message_list_view_select_all (TernMessageListView *self)
{
  g_return_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self));

  if (self->shown->selection != NULL)
    gtk_selection_model_select_all (GTK_SELECTION_MODEL (self->shown->selection));
}

GtkListView *
tern_message_list_view_get_list_view (TernMessageListView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_LIST_VIEW (self), NULL);
  return self->shown->view;
}

static void
tern_message_list_view_dispose (GObject *object)
{
  TernMessageListView *self = TERN_MESSAGE_LIST_VIEW (object);

  if (self->list_view != NULL)
    {
      gtk_list_view_set_model (self->list_view, NULL);
      gtk_list_view_set_model (self->results_view, NULL);
    }
  slot_clear (self, &self->folder);
  slot_clear (self, &self->search);
  gtk_widget_dispose_template (GTK_WIDGET (self), TERN_TYPE_MESSAGE_LIST_VIEW);
  /* Children the template does not name are ours to unparent. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tern_message_list_view_parent_class)->dispose (object);
}

static void
tern_message_list_view_class_init (TernMessageListViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_message_list_view_dispose;

  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/tern-message-list-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TernMessageListView, stack);
  gtk_widget_class_bind_template_child (widget_class, TernMessageListView, list_view);
  gtk_widget_class_bind_template_child (widget_class, TernMessageListView, results_view);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
tern_message_list_view_init (TernMessageListView *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->folder.view = self->list_view;
  self->folder.page = "list";
  self->search.view = self->results_view;
  self->search.page = "results";
  self->shown = &self->folder;
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_factory (self->results_view, factory);
  g_object_unref (factory);
  update_page (self);
}

GtkWidget *
tern_message_list_view_new (void)
{
  return g_object_new (TERN_TYPE_MESSAGE_LIST_VIEW, NULL);
}
