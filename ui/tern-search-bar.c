/* tern-search-bar.c: a GtkSearchBar with the query, its scope and Search
 * on Server.
 *
 * The entry searches as the user types, with the last word as a prefix.
 * tern_search_run_async() counts the matches and reads the first rows on a
 * worker, so the window stays responsive however large the store; each
 * keystroke cancels the search before it, whose results are then never
 * shown, and the last results stay on screen until the new ones arrive.
 * The entry's delay (100 ms, GTK's default is 150) is no longer there to
 * keep typing fluid, only to save the worker a search per key in a burst
 * of typing (about 13 ms of CPU each in a folder of 100,000); shorter, the
 * results of the last key would come sooner but most keys would start a
 * search only to cancel it.  The list reads further rows lazily
 * like a folder's.  The bar publishes what it found as properties; the
 * window shows them in the message list.  A query that does not parse is
 * said below the entry, never in a dialog.
 *
 * Search on Server asks the IMAP server of the current folder
 * (tern-server-search.h), for mail whose bodies are not cached; its
 * answer replaces the local results until the query changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-search-bar"

#include "config.h"

#include "tern-search-bar.h"

#include <glib/gi18n.h>

#include "tern-app-error.h"
#include "tern-search.h"
#include "tern-server-search.h"
#include "tern-worker-pool.h"

/* The scope drop-down's items, in order. */
static const TernSearchScope scopes[] = {
  TERN_SEARCH_SCOPE_FOLDER,
  TERN_SEARCH_SCOPE_ACCOUNT,
  TERN_SEARCH_SCOPE_EVERYWHERE,
};

struct _TernSearchBar
{
  AdwBin parent_instance;

  /* Template widgets */
  GtkSearchBar *search_bar;
  GtkSearchEntry *entry;
  GtkDropDown *scope_dropdown;
  GtkLabel *error_label;

  /* Owned references */
  TernContext *context;
  TernAccount *account;
  TernMessageList *results;
  GCancellable *server_cancellable;
  GCancellable *cancellable; /* the local search running */
  char *error;

  gint64 folder_id;
  guint chosen_scope; /* the drop-down's item the user chose */
  gboolean searching;
  gboolean busy;
  gboolean can_search_server;
};

G_DEFINE_FINAL_TYPE (TernSearchBar, tern_search_bar, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SEARCH_MODE_ENABLED,
  PROP_SEARCHING,
  PROP_RESULTS,
  PROP_BUSY,
  PROP_CAN_SEARCH_SERVER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* State */

static void
set_error (TernSearchBar *self,
           const char    *error)
{
  g_free (self->error);
  self->error = g_strdup (error);
  gtk_label_set_text (self->error_label, error != NULL ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), error != NULL);
}

static void
set_busy (TernSearchBar *self,
          gboolean       busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* Both before either is notified: whoever listens sees the results that
 * go with searching. */
static void
set_results (TernSearchBar   *self,
             gboolean         searching,
             TernMessageList *results)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (g_set_object (&self->results, results))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULTS]);
  if (self->searching != searching)
    {
      self->searching = searching;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCHING]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static TernSearchScope current_scope (TernSearchBar *self,
                                      gint64        *scope_id);

/* The server searches one folder: only with "This Folder". */
static void
update_can_search_server (TernSearchBar *self,
                          gboolean       query_parses)
{
  gint64 scope_id;
  gboolean can = query_parses && current_scope (self, &scope_id) == TERN_SEARCH_SCOPE_FOLDER
                 && tern_account_get_protocol (self->account) == TERN_ACCOUNT_PROTOCOL_IMAP;

  if (self->can_search_server == can)
    return;
  self->can_search_server = can;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_SEARCH_SERVER]);
}

static void
cancel_server_search (TernSearchBar *self)
{
  g_cancellable_cancel (self->server_cancellable);
  g_clear_object (&self->server_cancellable);
  set_busy (self, FALSE);
}

/* Searching */

static TernSearchScope
current_scope (TernSearchBar *self,
               gint64        *scope_id)
{
  TernSearchScope scope = scopes[gtk_drop_down_get_selected (self->scope_dropdown)];

  if (scope == TERN_SEARCH_SCOPE_FOLDER && self->folder_id != 0)
    {
      *scope_id = self->folder_id;
      return scope;
    }
  if (scope == TERN_SEARCH_SCOPE_ACCOUNT && self->account != NULL)
    {
      *scope_id = tern_account_get_id (self->account);
      return scope;
    }
  *scope_id = 0;
  return TERN_SEARCH_SCOPE_EVERYWHERE;
}

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

static void
cancel_search (TernSearchBar *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
}

static void
search_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TernSearchBar) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) results = NULL;

  results = tern_search_run_finish (TERN_STORE (source), result, &error);
  /* A newer search replaced this one, or the bar went. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  set_error (self, error != NULL ? error->message : NULL);
  update_can_search_server (self, results != NULL);
  set_results (self, TRUE, results);
}

static void
run_search (TernSearchBar *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  TernSearchScope scope;
  gint64 scope_id;

  cancel_server_search (self);
  cancel_search (self);
  if (!gtk_search_bar_get_search_mode (self->search_bar) || is_blank (text))
    {
      set_error (self, NULL);
      update_can_search_server (self, FALSE);
      set_results (self, FALSE, NULL);
      return;
    }
  scope = current_scope (self, &scope_id);
  self->cancellable = g_cancellable_new ();
  tern_search_run_async (tern_context_get_store (self->context), text, TRUE, scope, scope_id,
                         self->cancellable, search_done_cb, g_object_ref (self));
}

static void
search_changed_cb (TernSearchBar *self)
{
  run_search (self);
}

/* Enter searches at once, without waiting for the delay. */
static void
activate_cb (TernSearchBar *self)
{
  run_search (self);
}

static void
scope_changed_cb (TernSearchBar *self)
{
  /* A choice the bar made itself (no folder) is not the user's. */
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->scope_dropdown)))
    self->chosen_scope = gtk_drop_down_get_selected (self->scope_dropdown);
  if (self->searching || self->error != NULL || self->cancellable != NULL)
    run_search (self);
}

static void
search_mode_cb (TernSearchBar *self)
{
  if (!gtk_search_bar_get_search_mode (self->search_bar))
    gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  run_search (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH_MODE_ENABLED]);
}

void
tern_search_bar_set_folder (TernSearchBar *self,
                            gint64         folder_id,
                            TernAccount   *account)
{
  gboolean single = folder_id != 0 && account != NULL;

  g_return_if_fail (TERN_IS_SEARCH_BAR (self));

  /* The sidebar tells of its selection again when its rows change: that
   * must not start the search again (or stop one on the server). */
  if (self->folder_id == (single ? folder_id : 0) && self->account == (single ? account : NULL))
    return;
  self->folder_id = single ? folder_id : 0;
  if (single)
    g_set_object (&self->account, account);
  else
    g_clear_object (&self->account);
  /* Without one folder, only "All Accounts" means anything. */
  g_signal_handlers_block_by_func (self->scope_dropdown, scope_changed_cb, self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->scope_dropdown), single);
  gtk_drop_down_set_selected (self->scope_dropdown,
                              single ? self->chosen_scope : G_N_ELEMENTS (scopes) - 1);
  g_signal_handlers_unblock_by_func (self->scope_dropdown, scope_changed_cb, self);
  run_search (self);
}

/* Search on Server */

static void
server_search_done_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TernSearchBar) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageList) results = NULL;

  results = tern_server_search_finish (TERN_CONTEXT (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->server_cancellable);
  set_busy (self, FALSE);
  if (results != NULL)
    set_results (self, TRUE, results);
  /* Work Offline's own error says how to connect again. */
  else if (tern_worker_error_is_network (error)
           && !g_error_matches (error, TERN_APP_ERROR, TERN_APP_ERROR_OFFLINE))
    set_error (self, _("The server cannot be reached, so it cannot search: check the network "
                       "connection and try again."));
  else
    set_error (self, error->message);
}

void
tern_search_bar_search_server (TernSearchBar *self)
{
  g_return_if_fail (TERN_IS_SEARCH_BAR (self));

  if (!self->can_search_server)
    return;
  cancel_search (self);
  cancel_server_search (self);
  set_error (self, NULL);
  self->server_cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  tern_server_search_async (self->context, self->folder_id,
                            gtk_editable_get_text (GTK_EDITABLE (self->entry)),
                            self->server_cancellable, server_search_done_cb, g_object_ref (self));
}

/* Accessors */

void
tern_search_bar_start (TernSearchBar *self)
{
  g_return_if_fail (TERN_IS_SEARCH_BAR (self));

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

gboolean
tern_search_bar_get_search_mode (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), FALSE);
  return gtk_search_bar_get_search_mode (self->search_bar);
}

void
tern_search_bar_set_search_mode (TernSearchBar *self,
                                 gboolean       search_mode)
{
  g_return_if_fail (TERN_IS_SEARCH_BAR (self));
  gtk_search_bar_set_search_mode (self->search_bar, search_mode);
}

gboolean
tern_search_bar_get_searching (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), FALSE);
  return self->searching;
}

TernMessageList *
tern_search_bar_get_results (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), NULL);
  return self->results;
}

const char *
tern_search_bar_get_error (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), NULL);
  return self->error;
}

gboolean
tern_search_bar_get_can_search_server (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), FALSE);
  return self->can_search_server;
}

gboolean
tern_search_bar_get_busy (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), FALSE);
  return self->busy;
}

GtkEditable *
tern_search_bar_get_entry (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), NULL);
  return GTK_EDITABLE (self->entry);
}

GtkDropDown *
tern_search_bar_get_scope_dropdown (TernSearchBar *self)
{
  g_return_val_if_fail (TERN_IS_SEARCH_BAR (self), NULL);
  return self->scope_dropdown;
}

/* GObject */

static void
tern_search_bar_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TernSearchBar *self = TERN_SEARCH_BAR (object);

  switch (prop_id)
    {
    case PROP_SEARCH_MODE_ENABLED:
      g_value_set_boolean (value, tern_search_bar_get_search_mode (self));
      break;
    case PROP_SEARCHING:
      g_value_set_boolean (value, self->searching);
      break;
    case PROP_RESULTS:
      g_value_set_object (value, self->results);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_CAN_SEARCH_SERVER:
      g_value_set_boolean (value, self->can_search_server);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_search_bar_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TernSearchBar *self = TERN_SEARCH_BAR (object);

  switch (prop_id)
    {
    case PROP_SEARCH_MODE_ENABLED:
      tern_search_bar_set_search_mode (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_search_bar_dispose (GObject *object)
{
  TernSearchBar *self = TERN_SEARCH_BAR (object);

  if (self->server_cancellable != NULL)
    g_cancellable_cancel (self->server_cancellable);
  g_clear_object (&self->server_cancellable);
  cancel_search (self);
  g_clear_object (&self->results);
  g_clear_object (&self->account);
  g_clear_object (&self->context);
  if (self->search_bar != NULL)
    g_signal_handlers_disconnect_by_data (self->search_bar, self);

  G_OBJECT_CLASS (tern_search_bar_parent_class)->dispose (object);
}

static void
tern_search_bar_finalize (GObject *object)
{
  TernSearchBar *self = TERN_SEARCH_BAR (object);

  g_free (self->error);

  G_OBJECT_CLASS (tern_search_bar_parent_class)->finalize (object);
}

static void
tern_search_bar_class_init (TernSearchBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = tern_search_bar_get_property;
  object_class->set_property = tern_search_bar_set_property;
  object_class->dispose = tern_search_bar_dispose;
  object_class->finalize = tern_search_bar_finalize;

  properties[PROP_SEARCH_MODE_ENABLED] =
    g_param_spec_boolean ("search-mode-enabled", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SEARCHING] =
    g_param_spec_boolean ("searching", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_RESULTS] =
    g_param_spec_object ("results", NULL, NULL, TERN_TYPE_MESSAGE_LIST,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_SEARCH_SERVER] =
    g_param_spec_boolean ("can-search-server", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-search-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, TernSearchBar, search_bar);
  gtk_widget_class_bind_template_child (widget_class, TernSearchBar, entry);
  gtk_widget_class_bind_template_child (widget_class, TernSearchBar, scope_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TernSearchBar, error_label);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, scope_changed_cb);
}

static void
tern_search_bar_init (TernSearchBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->entry));
  g_signal_connect_swapped (self->search_bar, "notify::search-mode-enabled",
                            G_CALLBACK (search_mode_cb), self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->scope_dropdown), FALSE);
  gtk_drop_down_set_selected (self->scope_dropdown, G_N_ELEMENTS (scopes) - 1);
}

GtkWidget *
tern_search_bar_new (TernContext *context)
{
  TernSearchBar *self;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_SEARCH_BAR, NULL);
  self->context = g_object_ref (context);
  return GTK_WIDGET (self);
}
