/* tern-outbox-view.c: the sidebar's Outbox, in place of the message list
 * and the reading pane.
 *
 * A GtkListView over a TernOutboxList (live: a flush that sends, fails or
 * retries a message changes its row by itself).  Each row says who the
 * message is for, its subject and size, and where it stands: waiting,
 * being sent, waiting for its next try after a temporary failure (when,
 * and why the last one failed), refused (the reason, which the user can
 * fix before Retry), or interrupted while being sent, when only the user
 * can tell whether it arrived: "Send Again Anyway" or "Discard".
 *
 * The buttons are widget actions with the row's id as target: Retry puts
 * the message back in the queue and schedules its account's flush; Edit
 * takes it out of the outbox into a draft and opens the composer on it
 * (not while it is being sent, so nothing goes out twice); Delete and
 * Discard ask first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-outbox-view"

#include "config.h"

#include "tern-outbox-view.h"

#include <glib/gi18n.h>

#include "tern-composer-window.h"
#include "tern-drafts.h"
#include "tern-outbox.h"

struct _TernOutboxView
{
  GtkWidget parent_instance;

  /* Template widgets */
  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  GtkListView *list_view;

  /* Owned references */
  TernContext *context;
  TernOutboxList *list;
  char *error;
};

G_DEFINE_FINAL_TYPE (TernOutboxView, tern_outbox_view, GTK_TYPE_WIDGET)

static void
show_error (TernOutboxView *self,
            const char     *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

static TernAccount *
lookup_account (TernOutboxView *self,
                gint64          account_id)
{
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, account_id);

  return tern_account_manager_lookup (tern_context_get_accounts (self->context), key);
}

/* Rows */

typedef struct
{
  GtkLabel *subject;
  GtkLabel *recipients;
  GtkLabel *status;
  GtkLabel *reason;
  GtkWidget *retry;
  GtkWidget *edit;
  GtkWidget *delete;
  GtkWidget *force;
  GtkWidget *discard;
} RowWidgets;

static GtkLabel *
row_label (GtkBox     *box,
           const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), FALSE);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_box_append (box, label);
  return GTK_LABEL (label);
}

static GtkWidget *
row_button (GtkBox     *box,
            const char *label,
            const char *action,
            const char *css_class)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  /* A target of the action's type until bind sets the row's id. */
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int64 (0));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (css_class != NULL)
    gtk_widget_add_css_class (button, css_class);
  gtk_box_append (box, button);
  return button;
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  RowWidgets *row = g_new0 (RowWidgets, 1);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  row->subject = row_label (GTK_BOX (box), "heading");
  row->recipients = row_label (GTK_BOX (box), NULL);
  row->status = row_label (GTK_BOX (box), "dim-label");
  row->reason = row_label (GTK_BOX (box), "error");
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_widget_set_margin_top (buttons, 4);
  row->retry = row_button (GTK_BOX (buttons), _("_Retry"), "outbox.retry", NULL);
  row->force = row_button (GTK_BOX (buttons), _("Send _Again Anyway"), "outbox.force",
                           "destructive-action");
  row->edit = row_button (GTK_BOX (buttons), _("_Edit"), "outbox.edit", NULL);
  row->discard = row_button (GTK_BOX (buttons), _("_Discard"), "outbox.delete", NULL);
  row->delete = row_button (GTK_BOX (buttons), _("_Delete"), "outbox.delete", NULL);
  gtk_box_append (GTK_BOX (box), buttons);
  g_object_set_data_full (G_OBJECT (box), "tern-row", row, g_free);
  gtk_list_item_set_child (list_item, box);
  gtk_list_item_set_activatable (list_item, FALSE);
}

/* The envelope's addresses, Bcc included: names are not kept there. */
static char *
recipients_text (TernOutboxItem *item)
{
  /* TRANSLATORS: the recipients of a message in the outbox */
  return g_strdup_printf (_("To: %s"), tern_outbox_item_get_recipients (item));
}

static char *
time_text (gint64 seconds)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (seconds);

  return time != NULL ? g_date_time_format (time, "%H:%M") : g_strdup ("");
}

/* Where the message stands, in a sentence. */
static char *
status_text (TernOutboxItem *item)
{
  gint64 next = tern_outbox_item_get_next_attempt (item);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  switch (tern_outbox_item_get_state (item))
    {
    case TERN_OUTBOX_STATE_SENDING:
      return g_strdup (_("Sending…"));
    case TERN_OUTBOX_STATE_FAILED:
      if (tern_outbox_item_get_may_have_been_sent (item))
        return g_strdup (_("Tern was interrupted while sending this message, so it may have "
                           "arrived. Check your Sent folder or ask the recipients, then send it "
                           "again or discard it."));
      return g_strdup (_("Not sent. Fix what the reason below says, in the account's settings "
                         "or in the message (Edit), then press Retry."));
    case TERN_OUTBOX_STATE_QUEUED:
    case TERN_OUTBOX_STATE_SENT:
    default:
      if (next > now && tern_outbox_item_get_attempts (item) > 0)
        {
          g_autofree char *at = time_text (next);

          /* TRANSLATORS: %s is a time of day, "14:05" */
          return g_strdup_printf (_("Not sent yet: Tern tries again at %s."), at);
        }
      return g_strdup (_("Waiting to be sent."));
    }
}

static void
set_target (GtkWidget *button,
            gint64     id)
{
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int64 (id));
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  TernOutboxItem *item = gtk_list_item_get_item (list_item);
  RowWidgets *row = g_object_get_data (G_OBJECT (gtk_list_item_get_child (list_item)), "tern-row");
  const char *subject = tern_outbox_item_get_subject (item);
  const char *reason = tern_outbox_item_get_reason (item);
  TernOutboxState state = tern_outbox_item_get_state (item);
  gboolean uncertain = tern_outbox_item_get_may_have_been_sent (item);
  g_autofree char *recipients = recipients_text (item);
  g_autofree char *size = g_format_size ((guint64) MAX (tern_outbox_item_get_size (item), 0));
  g_autofree char *status = status_text (item);
  g_autofree char *line = NULL;
  GtkWidget *buttons[] = { row->retry, row->edit, row->delete, row->force, row->discard };

  gtk_label_set_text (row->subject, *subject != '\0' ? subject : _("(No Subject)"));
  gtk_label_set_text (row->recipients, recipients);
  /* TRANSLATORS: a message's size ("12.3 kB") and where it stands */
  line = g_strdup_printf (_("%s · %s"), size, status);
  gtk_label_set_text (row->status, line);
  gtk_label_set_text (row->reason, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (row->reason), reason != NULL && *reason != '\0');
  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    set_target (buttons[i], tern_outbox_item_get_id (item));
  /* Nothing to do with a message on its way but wait. */
  gtk_widget_set_visible (row->retry, state != TERN_OUTBOX_STATE_SENDING && !uncertain);
  gtk_widget_set_visible (row->edit, state != TERN_OUTBOX_STATE_SENDING);
  gtk_widget_set_visible (row->delete, state != TERN_OUTBOX_STATE_SENDING && !uncertain);
  gtk_widget_set_visible (row->force, uncertain);
  gtk_widget_set_visible (row->discard, uncertain);
}

static void
items_changed_cb (TernOutboxView *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->list)) == 0;

  gtk_stack_set_visible_child_name (self->stack, empty ? "empty" : "list");
}

/* Actions */

static void
retry (TernOutboxView *self,
       gint64          id,
       gboolean        force)
{
  g_autoptr(GError) error = NULL;
  TernOutboxItem *item = tern_outbox_list_find (self->list, id);
  TernAccount *account = item != NULL ? lookup_account (self, tern_outbox_item_get_account_id (item))
                                      : NULL;

  if (!tern_outbox_retry_now (tern_context_get_store (self->context), id, force, &error))
    {
      show_error (self, error->message);
      return;
    }
  if (account != NULL)
    tern_outbox_schedule (self->context, account);
}

static void
retry_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  retry (TERN_OUTBOX_VIEW (widget), g_variant_get_int64 (parameter), FALSE);
}

static void
force_activated (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  retry (TERN_OUTBOX_VIEW (widget), g_variant_get_int64 (parameter), TRUE);
}

static void
edit_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TernOutboxView *self = TERN_OUTBOX_VIEW (widget);
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkApplication *application = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root))
                                                     : NULL;
  TernComposerWindow *composer;
  gint64 draft_id;

  draft_id = tern_drafts_from_outbox (self->context, g_variant_get_int64 (parameter), &error);
  if (draft_id == 0)
    {
      show_error (self, error->message);
      return;
    }
  composer = tern_composer_window_new_from_draft (TERN_IS_APPLICATION (application)
                                                    ? TERN_APPLICATION (application) : NULL,
                                                  self->context, draft_id);
  gtk_window_present (GTK_WINDOW (composer));
}

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    TernOutboxView   *self)
{
  g_autoptr(GError) error = NULL;
  gint64 id = *(gint64 *) g_object_get_data (G_OBJECT (dialog), "tern-outbox-id");

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!tern_outbox_remove (tern_context_get_store (self->context), id, &error))
    show_error (self, error->message);
}

static void
delete_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  TernOutboxView *self = TERN_OUTBOX_VIEW (widget);
  gint64 id = g_variant_get_int64 (parameter);
  TernOutboxItem *item = tern_outbox_list_find (self->list, id);
  GtkRoot *root = gtk_widget_get_root (widget);
  const char *subject = item != NULL ? tern_outbox_item_get_subject (item) : "";
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  /* TRANSLATORS: %s is the message's subject */
  body = g_strdup_printf (_("“%s” will not be sent, and it is not kept anywhere else."),
                          *subject != '\0' ? subject : _("(No Subject)"));
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Delete the Message?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "delete", _("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "tern-outbox-id", g_memdup2 (&id, sizeof id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The type */

TernOutboxList *
tern_outbox_view_get_list (TernOutboxView *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_VIEW (self), NULL);
  return self->list;
}

const char *
tern_outbox_view_get_error (TernOutboxView *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_VIEW (self), NULL);
  return self->error;
}

static void
tern_outbox_view_dispose (GObject *object)
{
  TernOutboxView *self = TERN_OUTBOX_VIEW (object);

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  if (self->list_view != NULL)
    gtk_list_view_set_model (self->list_view, NULL);
  g_clear_object (&self->list);
  g_clear_object (&self->context);
  g_clear_pointer (&self->error, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), TERN_TYPE_OUTBOX_VIEW);

  G_OBJECT_CLASS (tern_outbox_view_parent_class)->dispose (object);
}

static void
tern_outbox_view_class_init (TernOutboxViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_outbox_view_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/tern-outbox-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TernOutboxView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TernOutboxView, stack);
  gtk_widget_class_bind_template_child (widget_class, TernOutboxView, list_view);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  gtk_widget_class_install_action (widget_class, "outbox.retry", "x", retry_activated);
  gtk_widget_class_install_action (widget_class, "outbox.force", "x", force_activated);
  gtk_widget_class_install_action (widget_class, "outbox.edit", "x", edit_activated);
  gtk_widget_class_install_action (widget_class, "outbox.delete", "x", delete_activated);
}

static void
tern_outbox_view_init (TernOutboxView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
tern_outbox_view_new (TernContext *context)
{
  TernOutboxView *self;
  g_autoptr(GError) error = NULL;
  GtkListItemFactory *factory;
  GtkNoSelection *selection;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  self = g_object_new (TERN_TYPE_OUTBOX_VIEW, NULL);
  self->context = g_object_ref (context);
  self->list = tern_outbox_list_new (tern_context_get_store (context), &error);
  if (self->list == NULL)
    {
      g_warning ("Cannot read the outbox: %s", error->message);
      return GTK_WIDGET (self);
    }
  g_signal_connect_swapped (self->list, "items-changed", G_CALLBACK (items_changed_cb), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->list)));
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  items_changed_cb (self);
  return GTK_WIDGET (self);
}
