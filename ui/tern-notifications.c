/* tern-notifications.c
 *
 * The grouped notification has one id, so a second burst replaces the
 * first rather than stacking; it goes once every message it counted has
 * been read.  Notification ids are stable per message, so withdrawing
 * one never needs to remember what was sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-notifications"

#include "config.h"

#include <glib/gi18n.h>

#include "tern-mail-store.h"
#include "tern-notifications.h"

#define GROUP_ID "new-mail"

struct _TernNotifications
{
  GObject parent_instance;

  GtkApplication *application; /* weak: it owns us */
  TernNewMail *new_mail;
  GHashTable *group;           /* message ids (gint64 *) the grouped one counts */
};

G_DEFINE_FINAL_TYPE (TernNotifications, tern_notifications, G_TYPE_OBJECT)

char *
tern_notifications_id_for_message (gint64 id)
{
  return g_strdup_printf ("message-%" G_GINT64_FORMAT, id);
}

/* Whether the user is looking at Tern now: then the new rows are news
 * enough (as Geary does). */
static gboolean
window_active (TernNotifications *self)
{
  GtkWindow *window = gtk_application_get_active_window (self->application);

  return window != NULL && gtk_window_is_active (window);
}

static const char *
sender (TernMailMessage *message)
{
  if (message->from_name != NULL && *message->from_name != '\0')
    return message->from_name;
  if (message->from_address != NULL && *message->from_address != '\0')
    return message->from_address;
  return _("Unknown sender");
}

static void
send_one (TernNotifications *self,
          TernMailMessage   *message)
{
  g_autoptr(GNotification) notification = g_notification_new (sender (message));
  g_autofree char *id = tern_notifications_id_for_message (message->id);
  const char *subject = message->subject;

  if (subject == NULL || *subject == '\0')
    subject = _("(No subject)");
  g_notification_set_body (notification, subject);
  g_notification_set_default_action_and_target (notification, "app.show-message", "x",
                                                message->id);
  g_notification_set_category (notification, "email.arrived");
  g_application_send_notification (G_APPLICATION (self->application), id, notification);
}

/* "5 new messages", "From Ann, Bob, Carol and others". */
static void
send_group (TernNotifications *self,
            GPtrArray         *messages)
{
  g_autoptr(GNotification) notification = NULL;
  g_autoptr(GString) senders = g_string_new (NULL);
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  guint n = messages->len;

  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new message", "%u new messages", n),
                           n);
  for (guint i = 0; i < messages->len && i < TERN_NOTIFICATIONS_MAX_SINGLE; i++)
    {
      if (senders->len > 0)
        /* Translators: between sender names in "From Ann, Bob and others". */
        g_string_append (senders, _(", "));
      g_string_append (senders, sender (messages->pdata[i]));
    }
  if (messages->len > TERN_NOTIFICATIONS_MAX_SINGLE)
    /* Translators: %s is a list of sender names. */
    body = g_strdup_printf (_("From %s and others"), senders->str);
  else
    /* Translators: %s is a list of sender names. */
    body = g_strdup_printf (_("From %s"), senders->str);

  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  /* The newest of them; the list shows the others around it. */
  g_notification_set_default_action_and_target (notification, "app.show-message", "x",
                                                ((TernMailMessage *) messages->pdata[0])->id);
  g_notification_set_category (notification, "email.arrived");
  g_application_send_notification (G_APPLICATION (self->application), GROUP_ID, notification);
}

static void
new_messages_cb (TernNewMail       *new_mail,
                 GPtrArray         *messages,
                 TernNotifications *self)
{
  if (self->application == NULL || window_active (self))
    return;
  if (messages->len <= TERN_NOTIFICATIONS_MAX_SINGLE)
    {
      for (guint i = 0; i < messages->len; i++)
        send_one (self, messages->pdata[i]);
      return;
    }
  g_hash_table_remove_all (self->group);
  for (guint i = 0; i < messages->len; i++)
    {
      gint64 id = ((TernMailMessage *) messages->pdata[i])->id;

      g_hash_table_add (self->group, g_memdup2 (&id, sizeof id));
    }
  send_group (self, messages);
}

static void
withdrawn_cb (TernNewMail       *new_mail,
              GArray            *ids,
              TernNotifications *self)
{
  gboolean had_group = g_hash_table_size (self->group) > 0;

  if (self->application == NULL)
    return;
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      g_autofree char *notification_id = tern_notifications_id_for_message (id);

      g_application_withdraw_notification (G_APPLICATION (self->application), notification_id);
      g_hash_table_remove (self->group, &id);
    }
  if (had_group && g_hash_table_size (self->group) == 0)
    g_application_withdraw_notification (G_APPLICATION (self->application), GROUP_ID);
}

static void
tern_notifications_dispose (GObject *object)
{
  TernNotifications *self = TERN_NOTIFICATIONS (object);

  if (self->new_mail != NULL)
    g_signal_handlers_disconnect_by_data (self->new_mail, self);
  g_clear_object (&self->new_mail);
  g_clear_weak_pointer (&self->application);

  G_OBJECT_CLASS (tern_notifications_parent_class)->dispose (object);
}

static void
tern_notifications_finalize (GObject *object)
{
  TernNotifications *self = TERN_NOTIFICATIONS (object);

  g_hash_table_unref (self->group);

  G_OBJECT_CLASS (tern_notifications_parent_class)->finalize (object);
}

static void
tern_notifications_class_init (TernNotificationsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tern_notifications_dispose;
  object_class->finalize = tern_notifications_finalize;
}

static void
tern_notifications_init (TernNotifications *self)
{
  self->group = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

TernNotifications *
tern_notifications_new (GtkApplication *application,
                        TernNewMail    *new_mail)
{
  TernNotifications *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (TERN_IS_NEW_MAIL (new_mail), NULL);

  self = g_object_new (TERN_TYPE_NOTIFICATIONS, NULL);
  g_set_weak_pointer (&self->application, application);
  self->new_mail = g_object_ref (new_mail);
  g_signal_connect (new_mail, "new-messages", G_CALLBACK (new_messages_cb), self);
  g_signal_connect (new_mail, "withdrawn", G_CALLBACK (withdrawn_cb), self);
  return self;
}
