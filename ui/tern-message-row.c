/* tern-message-row.c: sender, date, subject and the message's marks.
 *
 * Rows are recycled by the list view: set_item() moves the row to another
 * message and follows that item's notifications only, so a flag changed by
 * a sync or an action shows at once without a rebind.  Dates are words
 * relative to today ("14:05", "Yesterday"): the rows showing a message
 * say them again when the day changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-row"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-message-row.h"

struct _TernMessageRow
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkLabel *sender_label;
  GtkLabel *thread_label;
  GtkLabel *date_label;
  GtkLabel *subject_label;
  GtkImage *attachment_icon;
  GtkImage *star_icon;

  /* Owned references */
  TernMessageItem *item;
  gulong notify_id;
};

G_DEFINE_FINAL_TYPE (TernMessageRow, tern_message_row, GTK_TYPE_WIDGET)

/* The rows showing a message (main thread), and the day their dates were
 * written for; one check a minute while there are any, which also sees
 * a day that changed during a suspend or with the time zone. */
#define DAY_CHECK_SECONDS 60

static GHashTable *shown_rows;
static guint day_check_id;
static int shown_day;

char *
tern_message_row_format_date (gint64     date,
                              GDateTime *now)
{
  g_autoptr(GDateTime) local_now = now != NULL ? g_date_time_to_local (now)
                                               : g_date_time_new_now_local ();
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (date);
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (local_now, -1);

  if (when == NULL)
    return g_strdup ("");
  if (g_date_time_get_year (when) == g_date_time_get_year (local_now)
      && g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (local_now))
    /* TRANSLATORS: the time of a message received today (GDateTime format). */
    return g_date_time_format (when, _("%H:%M"));
  if (g_date_time_get_year (when) == g_date_time_get_year (yesterday)
      && g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (yesterday))
    return g_strdup (_("Yesterday"));
  return g_date_time_format (when, "%x");
}

static int
day_of (GDateTime *now)
{
  g_autoptr(GDateTime) local = now != NULL ? g_date_time_to_local (now)
                                           : g_date_time_new_now_local ();

  return g_date_time_get_year (local) * 1000 + g_date_time_get_day_of_year (local);
}

static void
update_date (TernMessageRow *self,
             GDateTime      *now)
{
  g_autofree char *date = tern_message_row_format_date (tern_message_item_get_date (self->item),
                                                        now);

  gtk_label_set_text (self->date_label, date);
}

void
tern_message_row_refresh_dates (GDateTime *now)
{
  GHashTableIter iter;
  gpointer row;

  shown_day = day_of (now);
  if (shown_rows == NULL)
    return;
  g_hash_table_iter_init (&iter, shown_rows);
  while (g_hash_table_iter_next (&iter, &row, NULL))
    update_date (row, now);
}

static gboolean
day_check_cb (gpointer user_data)
{
  if (day_of (NULL) != shown_day)
    tern_message_row_refresh_dates (NULL);
  return G_SOURCE_CONTINUE;
}

/* Whether the row is told about a new day: while it shows a message. */
static void
watch_day (TernMessageRow *self,
           gboolean        watch)
{
  if (shown_rows == NULL)
    shown_rows = g_hash_table_new (NULL, NULL);
  if (watch)
    g_hash_table_add (shown_rows, self);
  else
    g_hash_table_remove (shown_rows, self);
  if (g_hash_table_size (shown_rows) > 0 && day_check_id == 0)
    {
      shown_day = day_of (NULL);
      day_check_id = g_timeout_add_seconds (DAY_CHECK_SECONDS, day_check_cb, NULL);
      g_source_set_name_by_id (day_check_id, "[tern] message dates");
    }
  else if (g_hash_table_size (shown_rows) == 0)
    g_clear_handle_id (&day_check_id, g_source_remove);
}

static void
update (TernMessageRow *self)
{
  TernMessageItem *item = self->item;
  const char *name = tern_message_item_get_sender_name (item);
  const char *subject = tern_message_item_get_subject (item);
  guint thread_size = tern_message_item_get_thread_size (item);
  g_autofree char *count = g_strdup_printf ("%u", thread_size);

  gtk_label_set_text (self->sender_label,
                      name != NULL && *name != '\0' ? name
                                                    : tern_message_item_get_sender_address (item));
  gtk_label_set_text (self->subject_label,
                      subject != NULL && *subject != '\0' ? subject : _("(No subject)"));
  update_date (self, NULL);
  gtk_label_set_text (self->thread_label, count);
  gtk_widget_set_visible (GTK_WIDGET (self->thread_label), thread_size > 1);
  gtk_widget_set_visible (GTK_WIDGET (self->attachment_icon),
                          tern_message_item_get_has_attachment (item));
  gtk_widget_set_visible (GTK_WIDGET (self->star_icon), tern_message_item_get_starred (item));
  if (tern_message_item_get_unread (item))
    gtk_widget_add_css_class (GTK_WIDGET (self), "unread");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");
}

static void
item_notify_cb (TernMessageRow *self)
{
  update (self);
}

void
tern_message_row_set_item (TernMessageRow  *self,
                           TernMessageItem *item)
{
  g_return_if_fail (TERN_IS_MESSAGE_ROW (self));

  if (self->item == item)
    return;
  if (self->item != NULL)
    g_clear_signal_handler (&self->notify_id, self->item);
  g_set_object (&self->item, item);
  watch_day (self, item != NULL);
  if (item == NULL)
    return;
  self->notify_id = g_signal_connect_swapped (item, "notify", G_CALLBACK (item_notify_cb), self);
  update (self);
}

TernMessageItem *
tern_message_row_get_item (TernMessageRow *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ROW (self), NULL);
  return self->item;
}

static void
tern_message_row_dispose (GObject *object)
{
  TernMessageRow *self = TERN_MESSAGE_ROW (object);

  tern_message_row_set_item (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), TERN_TYPE_MESSAGE_ROW);
  /* Children the template does not name are ours to unparent. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tern_message_row_parent_class)->dispose (object);
}

static void
tern_message_row_class_init (TernMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_message_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/ternmail/Tern/tern-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, thread_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, date_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, attachment_icon);
  gtk_widget_class_bind_template_child (widget_class, TernMessageRow, star_icon);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
}

static void
tern_message_row_init (TernMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The date goes to the right edge, whatever the expander around. */
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
tern_message_row_new (void)
{
  return g_object_new (TERN_TYPE_MESSAGE_ROW, NULL);
}
