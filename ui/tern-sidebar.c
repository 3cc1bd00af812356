/* tern-sidebar.c: a GtkListView over a GtkTreeListModel of entries.
 *
 * The top level is a list of entries: "All Inboxes", one per account, and
 * "Outbox" while something waits to be sent.  An account's children are
 * its TernFolderList, a folder's children its subfolders; both are live,
 * so counts change in place and an expanded row stays expanded.
 *
 * Rows are built once and rebound to whatever they show next; the
 * signals a row listens to are kept in its RowWidgets and dropped on
 * unbind, so a recycled row never follows its previous item.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-sidebar"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-mail-store.h"
#include "tern-outbox.h"
#include "tern-sidebar.h"

/* Entries of the top level */

typedef enum {
  ENTRY_ALL_INBOXES,
  ENTRY_ACCOUNT,
  ENTRY_OUTBOX,
} EntryKind;

#define TERN_TYPE_SIDEBAR_ENTRY (tern_sidebar_entry_get_type ())
G_DECLARE_FINAL_TYPE (TernSidebarEntry, tern_sidebar_entry, TERN, SIDEBAR_ENTRY, GObject)

struct _TernSidebarEntry
{
  GObject parent_instance;

  EntryKind kind;
  TernAccount *account;
  TernFolderList *folders;
  TernAccountWorker *worker;
  guint count;
};

G_DEFINE_FINAL_TYPE (TernSidebarEntry, tern_sidebar_entry, G_TYPE_OBJECT)

static GParamSpec *entry_count_pspec;

static void
tern_sidebar_entry_finalize (GObject *object)
{
  TernSidebarEntry *self = TERN_SIDEBAR_ENTRY (object);

  g_clear_object (&self->account);
  g_clear_object (&self->folders);
  g_clear_object (&self->worker);

  G_OBJECT_CLASS (tern_sidebar_entry_parent_class)->finalize (object);
}

static void
tern_sidebar_entry_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  g_value_set_uint (value, TERN_SIDEBAR_ENTRY (object)->count);
}

static void
tern_sidebar_entry_class_init (TernSidebarEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_sidebar_entry_finalize;
  object_class->get_property = tern_sidebar_entry_get_property;
  entry_count_pspec = g_param_spec_uint ("count", NULL, NULL, 0, G_MAXUINT, 0,
                                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                                         | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property (object_class, 1, entry_count_pspec);
}

static void
tern_sidebar_entry_init (TernSidebarEntry *self)
{
}

static TernSidebarEntry *
entry_new (EntryKind kind)
{
  TernSidebarEntry *entry = g_object_new (TERN_TYPE_SIDEBAR_ENTRY, NULL);

  entry->kind = kind;
  return entry;
}

static void
entry_set_count (TernSidebarEntry *entry,
                 guint             count)
{
  if (entry->count == count)
    return;
  entry->count = count;
  g_object_notify_by_pspec (G_OBJECT (entry), entry_count_pspec);
}

/* The sidebar */

struct _TernSidebar
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkListView *list_view;
  GtkLabel *status_label;

  /* Owned references */
  TernContext *context;
  GListStore *roots;
  GtkTreeListModel *tree;
  GtkSingleSelection *selection;
  TernSidebarEntry *all_inboxes;
  TernSidebarEntry *outbox;
  char *selected_title;
  guint status_timeout; /* keeps "Synced 2 minutes ago" current */
};

G_DEFINE_FINAL_TYPE (TernSidebar, tern_sidebar, GTK_TYPE_WIDGET)

enum {
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The widgets of one row and what they listen to. */
typedef struct
{
  GtkTreeExpander *expander;
  GtkImage *icon;
  GtkLabel *title;
  GtkLabel *subtitle;
  GtkSpinner *spinner;
  GtkMenuButton *error_button;
  GtkLabel *error_label;
  GtkButton *retry_button;
  GtkLabel *count;
  GtkWidget *labels;
  TernContext *context; /* the sidebar's */
  GObject *item;
  GPtrArray *sources; /* objects whose "notify" the row follows */
} RowWidgets;

static void
row_widgets_free (RowWidgets *row)
{
  g_clear_object (&row->item);
  g_ptr_array_unref (row->sources);
  g_free (row);
}

static void
set_count (GtkLabel *label,
           guint     count)
{
  g_autofree char *text = g_strdup_printf ("%u", count);

  gtk_label_set_text (label, text);
  gtk_widget_set_visible (GTK_WIDGET (label), count > 0);
}

/* Last sync */

char *
tern_sidebar_describe_last_sync (gint64 last_sync,
                                 gint64 now)
{
  gint64 ago = now - last_sync;

  if (last_sync <= 0)
    return g_strdup (_("Never synced"));
  if (ago < 60)
    return g_strdup (_("Synced just now"));
  if (ago < 3600)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d minute ago",
                                         "Synced %d minutes ago", (int) (ago / 60)),
                            (int) (ago / 60));
  if (ago < 86400)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d hour ago",
                                         "Synced %d hours ago", (int) (ago / 3600)),
                            (int) (ago / 3600));
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Synced %d day ago", "Synced %d days ago",
                                       (int) (ago / 86400)),
                          (int) (ago / 86400));
}

/* This run's last sync, else the last one a folder of the account
 * recorded (an earlier run's). */
static gint64
account_last_sync (TernContext      *context,
                   TernSidebarEntry *entry)
{
  gint64 last_sync = tern_account_worker_get_last_sync (entry->worker);
  g_autoptr(GPtrArray) folders = NULL;

  if (last_sync != 0 || context == NULL)
    return last_sync;
  folders = tern_mail_store_list_folders (tern_context_get_store (context),
                                          tern_account_get_id (entry->account), NULL);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    last_sync = MAX (last_sync, ((TernMailFolder *) folders->pdata[i])->last_sync);
  return last_sync;
}

static char *
describe_account (TernContext      *context,
                  TernSidebarEntry *entry)
{
  g_autofree char *synced = tern_sidebar_describe_last_sync (
    account_last_sync (context, entry), g_get_real_time () / G_USEC_PER_SEC);

  if (context != NULL && tern_context_get_offline (context))
    return g_strdup_printf ("%s\n%s", _("Working offline"), synced);
  return g_steal_pointer (&synced);
}

/* The line below the folders: when mail was last checked (the newest
 * sync of any account; working offline, the accounts' rows say so).
 * Nothing without accounts. */
static void
update_status (TernSidebar *self)
{
  GListModel *roots = G_LIST_MODEL (self->roots);
  gint64 last_sync = 0;
  gboolean accounts = FALSE;
  g_autofree char *text = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (roots); i++)
    {
      g_autoptr(TernSidebarEntry) entry = g_list_model_get_item (roots, i);

      if (entry->kind != ENTRY_ACCOUNT)
        continue;
      accounts = TRUE;
      last_sync = MAX (last_sync, account_last_sync (self->context, entry));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), accounts);
  if (!accounts)
    return;
  text = tern_sidebar_describe_last_sync (last_sync, g_get_real_time () / G_USEC_PER_SEC);
  gtk_label_set_text (self->status_label, text);
}

static gboolean
status_timeout_cb (gpointer user_data)
{
  update_status (user_data);
  return G_SOURCE_CONTINUE;
}

/* Computed when shown, so that "2 minutes ago" is never stale. */
static gboolean
query_tooltip_cb (GtkWidget  *widget,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  RowWidgets *row)
{
  g_autofree char *text = NULL;

  if (!TERN_IS_SIDEBAR_ENTRY (row->item) || TERN_SIDEBAR_ENTRY (row->item)->kind != ENTRY_ACCOUNT)
    return FALSE;
  text = describe_account (row->context, TERN_SIDEBAR_ENTRY (row->item));
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
update_account_row (RowWidgets       *row,
                    TernSidebarEntry *entry)
{
  TernWorkerState state = tern_account_worker_get_state (entry->worker);
  gboolean busy = state == TERN_WORKER_STATE_CONNECTING || state == TERN_WORKER_STATE_SYNCING;
  gboolean failed = state == TERN_WORKER_STATE_ERROR || state == TERN_WORKER_STATE_OFFLINE;
  const char *reason = tern_account_worker_get_last_error (entry->worker);
  gboolean offline = row->context != NULL && tern_context_get_offline (row->context);

  gtk_image_set_from_icon_name (row->icon, "avatar-default-symbolic");
  gtk_label_set_text (row->title, tern_account_get_display_name (entry->account));
  gtk_label_set_text (row->subtitle, tern_account_get_address (entry->account));
  gtk_widget_set_has_tooltip (row->labels, TRUE);
  /* Work Offline is the user's choice, not a failure to show. */
  if (offline)
    {
      gtk_label_set_text (row->subtitle, _("Working offline"));
      busy = failed = FALSE;
    }
  gtk_widget_set_visible (GTK_WIDGET (row->subtitle), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (row->spinner), busy);
  gtk_spinner_set_spinning (row->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (row->error_button), failed);
  if (reason == NULL)
    reason = state == TERN_WORKER_STATE_OFFLINE ? _("The server cannot be reached.") : "";
  gtk_label_set_text (row->error_label, reason);
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->error_button), reason);
  /* The target first: the action takes an account id, never nothing. */
  gtk_actionable_set_action_target (GTK_ACTIONABLE (row->retry_button), "x",
                                    tern_account_get_id (entry->account));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row->retry_button), "win.sync-account");
}

static void
update_row (RowWidgets *row)
{
  gtk_widget_set_has_tooltip (row->labels, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (row->subtitle), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (row->spinner), FALSE);
  gtk_spinner_set_spinning (row->spinner, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (row->error_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (row->count), FALSE);

  if (TERN_IS_FOLDER_ITEM (row->item))
    {
      TernFolderItem *folder = TERN_FOLDER_ITEM (row->item);

      gtk_image_set_from_icon_name (row->icon, tern_folder_item_get_icon_name (folder));
      gtk_label_set_text (row->title, tern_folder_item_get_display_name (folder));
      set_count (row->count, tern_folder_item_get_unread_count (folder));
      return;
    }
  switch (TERN_SIDEBAR_ENTRY (row->item)->kind)
    {
    case ENTRY_ALL_INBOXES:
      gtk_image_set_from_icon_name (row->icon, "mail-unread-symbolic");
      gtk_label_set_text (row->title, _("All Inboxes"));
      break;
    case ENTRY_ACCOUNT:
      update_account_row (row, TERN_SIDEBAR_ENTRY (row->item));
      break;
    case ENTRY_OUTBOX:
      gtk_image_set_from_icon_name (row->icon, tern_folder_role_icon_name ("outbox"));
      gtk_label_set_text (row->title, tern_folder_role_display_name ("outbox"));
      set_count (row->count, TERN_SIDEBAR_ENTRY (row->item)->count);
      break;
    }
}

static void
source_notify_cb (GObject    *source,
                  GParamSpec *pspec,
                  RowWidgets *row)
{
  update_row (row);
}

static void
follow (RowWidgets *row,
        gpointer    source)
{
  g_signal_connect (source, "notify", G_CALLBACK (source_notify_cb), row);
  g_ptr_array_add (row->sources, g_object_ref (source));
}

static void
unfollow (RowWidgets *row)
{
  for (guint i = 0; i < row->sources->len; i++)
    g_signal_handlers_disconnect_by_data (row->sources->pdata[i], row);
  g_ptr_array_set_size (row->sources, 0);
  g_clear_object (&row->item);
}

/* Dropping messages on a folder moves them there. */
static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         RowWidgets    *row)
{
  GArray *ids = g_value_get_boxed (value);
  GtkWidget *widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (target));

  if (!TERN_IS_FOLDER_ITEM (row->item) || ids == NULL || ids->len == 0)
    return FALSE;
  return gtk_widget_activate_action_variant (
    widget, "win.move-messages",
    g_variant_new ("(x@ax)", tern_folder_item_get_id (TERN_FOLDER_ITEM (row->item)),
                   g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ids->data, ids->len,
                                              sizeof (gint64))));
}

static GtkWidget *
build_error_button (RowWidgets *row)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *popover = gtk_popover_new ();

  row->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (row->error_label, TRUE);
  gtk_label_set_max_width_chars (row->error_label, 36);
  gtk_label_set_xalign (row->error_label, 0);
  row->retry_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Retry")));
  gtk_widget_set_halign (GTK_WIDGET (row->retry_button), GTK_ALIGN_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->retry_button), "suggested-action");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->error_label));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->retry_button));
  gtk_popover_set_child (GTK_POPOVER (popover), box);

  row->error_button = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_icon_name (row->error_button, "dialog-error-symbolic");
  gtk_menu_button_set_popover (row->error_button, popover);
  gtk_widget_add_css_class (GTK_WIDGET (row->error_button), "flat");
  gtk_widget_add_css_class (GTK_WIDGET (row->error_button), "error");
  return GTK_WIDGET (row->error_button);
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  RowWidgets *row = g_new0 (RowWidgets, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_ARRAY, GDK_ACTION_MOVE);

  row->sources = g_ptr_array_new_with_free_func (g_object_unref);
  row->expander = GTK_TREE_EXPANDER (gtk_tree_expander_new ());
  row->icon = GTK_IMAGE (gtk_image_new ());
  row->title = GTK_LABEL (gtk_label_new (NULL));
  row->subtitle = GTK_LABEL (gtk_label_new (NULL));
  row->spinner = GTK_SPINNER (gtk_spinner_new ());
  row->count = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->title, 0);
  gtk_label_set_ellipsize (row->title, PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (row->subtitle, 0);
  gtk_label_set_ellipsize (row->subtitle, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->subtitle), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (row->subtitle), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (row->count), "unread-count");
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_widget_set_valign (labels, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (row->title));
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (row->subtitle));
  row->labels = labels;
  g_signal_connect (labels, "query-tooltip", G_CALLBACK (query_tooltip_cb), row);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->icon));
  gtk_box_append (GTK_BOX (box), labels);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->spinner));
  gtk_box_append (GTK_BOX (box), build_error_button (row));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->count));
  gtk_tree_expander_set_child (row->expander, box);

  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), row);
  gtk_widget_add_controller (box, GTK_EVENT_CONTROLLER (drop));
  g_object_set_data_full (G_OBJECT (list_item), "tern-sidebar-row", row,
                          (GDestroyNotify) row_widgets_free);
  gtk_list_item_set_child (list_item, GTK_WIDGET (row->expander));
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  RowWidgets *row = g_object_get_data (G_OBJECT (list_item), "tern-sidebar-row");
  GtkTreeListRow *tree_row = gtk_list_item_get_item (list_item);
  gpointer item = gtk_tree_list_row_get_item (tree_row);

  gtk_tree_expander_set_list_row (row->expander, tree_row);
  row->item = item;
  row->context = TERN_SIDEBAR (user_data)->context;
  follow (row, item);
  if (TERN_IS_SIDEBAR_ENTRY (item) && TERN_SIDEBAR_ENTRY (item)->kind == ENTRY_ACCOUNT)
    {
      follow (row, row->context);
      follow (row, TERN_SIDEBAR_ENTRY (item)->worker);
      follow (row, TERN_SIDEBAR_ENTRY (item)->account);
      gtk_list_item_set_selectable (list_item, FALSE);
    }
  else
    gtk_list_item_set_selectable (list_item, TRUE);
  update_row (row);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  RowWidgets *row = g_object_get_data (G_OBJECT (list_item), "tern-sidebar-row");

  gtk_tree_expander_set_list_row (row->expander, NULL);
  unfollow (row);
}

static void
teardown_row_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 gpointer                  user_data)
{
  RowWidgets *row = g_object_get_data (G_OBJECT (list_item), "tern-sidebar-row");

  if (row != NULL)
    unfollow (row);
  g_object_set_data (G_OBJECT (list_item), "tern-sidebar-row", NULL);
}

static GListModel *
create_children_cb (gpointer item,
                    gpointer user_data)
{
  GListModel *children;

  if (TERN_IS_SIDEBAR_ENTRY (item))
    return TERN_SIDEBAR_ENTRY (item)->folders != NULL
           ? g_object_ref (G_LIST_MODEL (TERN_SIDEBAR_ENTRY (item)->folders)) : NULL;
  children = tern_folder_item_get_children (item);
  return g_list_model_get_n_items (children) > 0 ? g_object_ref (children) : NULL;
}

/* Entries */

static gboolean all_inboxes_selected (TernSidebar *self);
static void     update_outbox        (TernSidebar *self);

/* "All Inboxes" is the Inboxes there are: when an account's Inbox comes
 * (its first sync) or goes, the selection's folders changed. */
static void
folders_changed_cb (TernSidebar *self)
{
  if (all_inboxes_selected (self))
    g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static TernSidebarEntry *
account_entry_new (TernSidebar *self,
                   TernAccount *account)
{
  g_autoptr(GError) error = NULL;
  TernSidebarEntry *entry = entry_new (ENTRY_ACCOUNT);

  entry->account = g_object_ref (account);
  entry->worker = g_object_ref (tern_worker_pool_get_worker (
    tern_context_get_worker_pool (self->context), account));
  entry->folders = tern_folder_list_new (tern_context_get_store (self->context), account, &error);
  if (entry->folders == NULL)
    g_warning ("Could not read the folders of %s: %s", tern_account_get_address (account),
               error->message);
  else
    g_signal_connect_object (entry->folders, "items-changed", G_CALLBACK (folders_changed_cb), self,
                             G_CONNECT_SWAPPED);
  /* The outbox changes without a message row changing: a flush, which is
   * a job of the account, sends or fails its rows. */
  g_signal_connect_object (entry->worker, "notify::state", G_CALLBACK (update_outbox), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (entry->worker, "notify::state", G_CALLBACK (update_status), self,
                           G_CONNECT_SWAPPED);
  return entry;
}

static TernSidebarEntry *
find_account_entry (TernSidebar *self,
                    TernAccount *account)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->roots));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernSidebarEntry) entry = g_list_model_get_item (G_LIST_MODEL (self->roots), i);

      if (entry->account == account)
        return entry;
    }
  return NULL;
}

/* Rebuilds the account entries, keeping those of accounts that stay (and
 * so their expanded rows). */
static void
accounts_changed_cb (TernSidebar *self)
{
  GListModel *accounts = G_LIST_MODEL (tern_context_get_accounts (self->context));
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = g_list_model_get_n_items (accounts);
  gboolean outbox = self->outbox->count > 0;

  g_ptr_array_add (entries, g_object_ref (self->all_inboxes));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernAccount) account = g_list_model_get_item (accounts, i);
      TernSidebarEntry *entry = find_account_entry (self, account);

      g_ptr_array_add (entries, entry != NULL ? g_object_ref (entry)
                                              : account_entry_new (self, account));
    }
  if (outbox)
    g_ptr_array_add (entries, g_object_ref (self->outbox));
  g_list_store_splice (self->roots, 0, g_list_model_get_n_items (G_LIST_MODEL (self->roots)),
                       entries->pdata, entries->len);
  update_status (self);
}

static void
update_outbox (TernSidebar *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = tern_outbox_list (tern_context_get_store (self->context), 0, &error);
  guint waiting = 0, position;
  gboolean shown;

  if (rows == NULL)
    {
      g_warning ("Could not read the outbox: %s", error->message);
      return;
    }
  for (guint i = 0; i < rows->len; i++)
    if (((TernOutboxEntry *) g_ptr_array_index (rows, i))->state != TERN_OUTBOX_STATE_SENT)
      waiting++;
  entry_set_count (self->outbox, waiting);
  shown = g_list_store_find (self->roots, self->outbox, &position);
  if (waiting > 0 && !shown)
    g_list_store_append (self->roots, self->outbox);
  else if (waiting == 0 && shown)
    g_list_store_remove (self->roots, position);
}

static void
messages_changed_cb (TernSidebar *self)
{
  update_outbox (self);
}

/* Selection */

static gpointer
selected_item (TernSidebar *self)
{
  GtkTreeListRow *row = gtk_single_selection_get_selected_item (self->selection);

  return row != NULL ? gtk_tree_list_row_get_item (row) : NULL;
}

static gboolean
all_inboxes_selected (TernSidebar *self)
{
  g_autoptr(GObject) item = selected_item (self);

  return TERN_IS_SIDEBAR_ENTRY (item) && TERN_SIDEBAR_ENTRY (item)->kind == ENTRY_ALL_INBOXES;
}

static void
selection_changed_cb (TernSidebar *self)
{
  g_autoptr(GObject) item = selected_item (self);

  g_clear_pointer (&self->selected_title, g_free);
  if (TERN_IS_FOLDER_ITEM (item))
    self->selected_title = g_strdup (tern_folder_item_get_display_name (TERN_FOLDER_ITEM (item)));
  else if (item != NULL && TERN_SIDEBAR_ENTRY (item)->kind == ENTRY_ALL_INBOXES)
    self->selected_title = g_strdup (_("All Inboxes"));
  else if (item != NULL && TERN_SIDEBAR_ENTRY (item)->kind == ENTRY_OUTBOX)
    self->selected_title = g_strdup (tern_folder_role_display_name ("outbox"));
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

GArray *
tern_sidebar_get_selected_folders (TernSidebar *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GObject) item = NULL;
  guint n;

  g_return_val_if_fail (TERN_IS_SIDEBAR (self), ids);

  item = selected_item (self);
  if (TERN_IS_FOLDER_ITEM (item))
    {
      gint64 id = tern_folder_item_get_id (TERN_FOLDER_ITEM (item));

      g_array_append_val (ids, id);
    }
  if (!TERN_IS_SIDEBAR_ENTRY (item) || TERN_SIDEBAR_ENTRY (item)->kind != ENTRY_ALL_INBOXES)
    return ids;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->roots));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernSidebarEntry) entry = g_list_model_get_item (G_LIST_MODEL (self->roots), i);
      TernFolderItem *inbox = entry->folders != NULL
                              ? tern_folder_list_find_role (entry->folders, "inbox") : NULL;
      gint64 id;

      if (inbox == NULL)
        continue;
      id = tern_folder_item_get_id (inbox);
      g_array_append_val (ids, id);
    }
  return ids;
}

const char *
tern_sidebar_get_selected_title (TernSidebar *self)
{
  g_return_val_if_fail (TERN_IS_SIDEBAR (self), NULL);
  return self->selected_title;
}

gboolean
tern_sidebar_select_folder (TernSidebar *self,
                            gint64       folder_id)
{
  GListModel *rows = G_LIST_MODEL (self->tree);

  g_return_val_if_fail (TERN_IS_SIDEBAR (self), FALSE);

  /* The tree is small (folders, not messages): a walk is fine. */
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, i);
      g_autoptr(GObject) item = gtk_tree_list_row_get_item (row);

      if (TERN_IS_FOLDER_ITEM (item)
          && tern_folder_item_get_id (TERN_FOLDER_ITEM (item)) == folder_id)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
tern_sidebar_select_inbox (TernSidebar *self)
{
  guint n;

  g_return_val_if_fail (TERN_IS_SIDEBAR (self), FALSE);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->roots));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernSidebarEntry) entry = g_list_model_get_item (G_LIST_MODEL (self->roots), i);
      TernFolderItem *inbox = entry->folders != NULL
                              ? tern_folder_list_find_role (entry->folders, "inbox") : NULL;

      if (inbox != NULL && tern_sidebar_select_folder (self, tern_folder_item_get_id (inbox)))
        return TRUE;
    }
  gtk_single_selection_set_selected (self->selection, 0);
  return FALSE;
}

TernFolderList *
tern_sidebar_get_folder_list (TernSidebar *self,
                              TernAccount *account)
{
  TernSidebarEntry *entry;

  g_return_val_if_fail (TERN_IS_SIDEBAR (self), NULL);

  entry = find_account_entry (self, account);
  return entry != NULL ? entry->folders : NULL;
}

void
tern_sidebar_reload (TernSidebar *self)
{
  guint n;

  g_return_if_fail (TERN_IS_SIDEBAR (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->roots));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TernSidebarEntry) entry = g_list_model_get_item (G_LIST_MODEL (self->roots), i);
      g_autoptr(GError) error = NULL;

      if (entry->folders != NULL && !tern_folder_list_reload (entry->folders, &error))
        g_warning ("Could not read the folders of %s: %s", tern_account_get_address (entry->account),
                   error->message);
    }
  update_outbox (self);
}

GtkListView *
tern_sidebar_get_list_view (TernSidebar *self)
{
  g_return_val_if_fail (TERN_IS_SIDEBAR (self), NULL);
  return self->list_view;
}

static void
tern_sidebar_dispose (GObject *object)
{
  TernSidebar *self = TERN_SIDEBAR (object);

  g_clear_handle_id (&self->status_timeout, g_source_remove);
  if (self->context != NULL)
    {
      g_signal_handlers_disconnect_by_data (tern_context_get_accounts (self->context), self);
      g_signal_handlers_disconnect_by_data (tern_context_get_store (self->context), self);
    }
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  gtk_list_view_set_model (self->list_view, NULL);
  g_clear_object (&self->selection);
  g_clear_object (&self->tree);
  g_clear_object (&self->roots);
  g_clear_object (&self->all_inboxes);
  g_clear_object (&self->outbox);
  g_clear_object (&self->context);
  g_clear_pointer (&self->selected_title, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), TERN_TYPE_SIDEBAR);
  /* Children the template does not name are ours to unparent. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tern_sidebar_parent_class)->dispose (object);
}

static void
tern_sidebar_class_init (TernSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_sidebar_dispose;

  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, TernSidebar, list_view);
  gtk_widget_class_bind_template_child (widget_class, TernSidebar, status_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
tern_sidebar_init (TernSidebar *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->roots = g_list_store_new (TERN_TYPE_SIDEBAR_ENTRY);
  self->all_inboxes = entry_new (ENTRY_ALL_INBOXES);
  self->outbox = entry_new (ENTRY_OUTBOX);
  self->tree = gtk_tree_list_model_new (g_object_ref (G_LIST_MODEL (self->roots)), FALSE, TRUE,
                                        create_children_cb, NULL, NULL);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->tree)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  g_signal_connect_swapped (self->selection, "notify::selected",
                            G_CALLBACK (selection_changed_cb), self);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  g_signal_connect (factory, "teardown", G_CALLBACK (teardown_row_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_object_unref (factory);
}

GtkWidget *
tern_sidebar_new (TernContext *context)
{
  TernSidebar *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_SIDEBAR, NULL);
  self->context = g_object_ref (context);
  g_signal_connect_swapped (tern_context_get_accounts (context), "items-changed",
                            G_CALLBACK (accounts_changed_cb), self);
  g_signal_connect_swapped (tern_context_get_store (context), "messages-changed",
                            G_CALLBACK (messages_changed_cb), self);
  accounts_changed_cb (self);
  update_outbox (self);
  self->status_timeout = g_timeout_add_seconds (30, status_timeout_cb, self);
  return GTK_WIDGET (self);
}
