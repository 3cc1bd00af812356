/* tern-message-item.c: one row of a TernMessageList.
 *
 * Items are read-only to their users: the list fills them from the store
 * and updates them in place when a row changes (a flag set elsewhere), so
 * a bound row widget follows through notify.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list"

#include "config.h"

#include "tern-imap-types.h"
#include "tern-message-item-private.h"

struct _TernMessageItem
{
  GObject parent_instance;

  gint64 id;
  gint64 folder_id;
  gint64 thread_id;
  char *sender_name;
  char *sender_address;
  char *subject;
  gint64 date;
  TernImapFlags flags;
  gboolean has_attachment;
  guint thread_size;
};

G_DEFINE_FINAL_TYPE (TernMessageItem, tern_message_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_FOLDER_ID,
  PROP_THREAD_ID,
  PROP_SENDER_NAME,
  PROP_SENDER_ADDRESS,
  PROP_SUBJECT,
  PROP_DATE,
  PROP_UNREAD,
  PROP_STARRED,
  PROP_HAS_ATTACHMENT,
  PROP_THREAD_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
tern_message_item_finalize (GObject *object)
{
  TernMessageItem *self = TERN_MESSAGE_ITEM (object);

  g_free (self->sender_name);
  g_free (self->sender_address);
  g_free (self->subject);

  G_OBJECT_CLASS (tern_message_item_parent_class)->finalize (object);
}

static void
tern_message_item_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  TernMessageItem *self = TERN_MESSAGE_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_FOLDER_ID:
      g_value_set_int64 (value, self->folder_id);
      break;
    case PROP_THREAD_ID:
      g_value_set_int64 (value, self->thread_id);
      break;
    case PROP_SENDER_NAME:
      g_value_set_string (value, self->sender_name);
      break;
    case PROP_SENDER_ADDRESS:
      g_value_set_string (value, self->sender_address);
      break;
    case PROP_SUBJECT:
      g_value_set_string (value, self->subject);
      break;
    case PROP_DATE:
      g_value_set_int64 (value, self->date);
      break;
    case PROP_UNREAD:
      g_value_set_boolean (value, tern_message_item_get_unread (self));
      break;
    case PROP_STARRED:
      g_value_set_boolean (value, tern_message_item_get_starred (self));
      break;
    case PROP_HAS_ATTACHMENT:
      g_value_set_boolean (value, self->has_attachment);
      break;
    case PROP_THREAD_SIZE:
      g_value_set_uint (value, self->thread_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
int64_property (const char *name)
{
  return g_param_spec_int64 (name, NULL, NULL, G_MININT64, G_MAXINT64, 0,
                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static GParamSpec *
boolean_property (const char *name)
{
  return g_param_spec_boolean (name, NULL, NULL, FALSE,
                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static void
tern_message_item_class_init (TernMessageItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_message_item_finalize;
  object_class->get_property = tern_message_item_get_property;

  /* The message's row id in the store; in a list of conversations, the
   * thread's newest message there. */
  properties[PROP_ID] = int64_property ("id");
  properties[PROP_FOLDER_ID] = int64_property ("folder-id");
  properties[PROP_THREAD_ID] = int64_property ("thread-id");
  properties[PROP_SENDER_NAME] = string_property ("sender-name");
  properties[PROP_SENDER_ADDRESS] = string_property ("sender-address");
  properties[PROP_SUBJECT] = string_property ("subject");
  /* Seconds since the epoch (UTC). */
  properties[PROP_DATE] = int64_property ("date");
  properties[PROP_UNREAD] = boolean_property ("unread");
  properties[PROP_STARRED] = boolean_property ("starred");
  properties[PROP_HAS_ATTACHMENT] = boolean_property ("has-attachment");
  /* Messages of the conversation in the list's folders; 1 for a list of
   * messages. */
  properties[PROP_THREAD_SIZE] =
    g_param_spec_uint ("thread-size", NULL, NULL, 0, G_MAXUINT, 1,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_message_item_init (TernMessageItem *self)
{
  self->thread_size = 1;
}

static void
set_int64 (TernMessageItem *self,
           gint64          *field,
           gint64           value,
           guint            prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_text (TernMessageItem *self,
          char           **field,
          sqlite3_stmt    *stmt,
          int              column,
          guint            prop)
{
  const char *value = (const char *) sqlite3_column_text (stmt, column);

  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_flags (TernMessageItem *self,
           TernImapFlags    flags)
{
  TernImapFlags changed = self->flags ^ flags;

  self->flags = flags;
  if (changed & TERN_IMAP_FLAG_SEEN)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
  if (changed & TERN_IMAP_FLAG_FLAGGED)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARRED]);
}

void
_tern_message_item_update (TernMessageItem *self,
                           sqlite3_stmt    *stmt)
{
  gboolean has_attachment = sqlite3_column_int (stmt, TERN_MESSAGE_COLUMN_HAS_ATTACHMENTS) != 0;
  guint thread_size = sqlite3_column_int (stmt, TERN_MESSAGE_COLUMN_THREAD_SIZE);

  g_object_freeze_notify (G_OBJECT (self));
  set_int64 (self, &self->id, sqlite3_column_int64 (stmt, TERN_MESSAGE_COLUMN_ID), PROP_ID);
  set_int64 (self, &self->folder_id, sqlite3_column_int64 (stmt, TERN_MESSAGE_COLUMN_FOLDER_ID),
             PROP_FOLDER_ID);
  set_int64 (self, &self->thread_id, sqlite3_column_int64 (stmt, TERN_MESSAGE_COLUMN_THREAD_ID),
             PROP_THREAD_ID);
  set_int64 (self, &self->date, sqlite3_column_int64 (stmt, TERN_MESSAGE_COLUMN_DATE), PROP_DATE);
  set_text (self, &self->sender_name, stmt, TERN_MESSAGE_COLUMN_FROM_NAME, PROP_SENDER_NAME);
  set_text (self, &self->sender_address, stmt, TERN_MESSAGE_COLUMN_FROM_ADDRESS,
            PROP_SENDER_ADDRESS);
  set_text (self, &self->subject, stmt, TERN_MESSAGE_COLUMN_SUBJECT, PROP_SUBJECT);
  set_flags (self, sqlite3_column_int64 (stmt, TERN_MESSAGE_COLUMN_FLAGS));
  if (self->has_attachment != has_attachment)
    {
      self->has_attachment = has_attachment;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_ATTACHMENT]);
    }
  if (self->thread_size != thread_size)
    {
      self->thread_size = thread_size;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREAD_SIZE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

TernMessageItem *
_tern_message_item_new_from_row (sqlite3_stmt *stmt)
{
  TernMessageItem *self = g_object_new (TERN_TYPE_MESSAGE_ITEM, NULL);

  /* Nobody listens yet, so filling through the update costs nothing. */
  _tern_message_item_update (self, stmt);
  return self;
}

gint64
tern_message_item_get_id (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), 0);
  return self->id;
}

gint64
tern_message_item_get_folder_id (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), 0);
  return self->folder_id;
}

gint64
tern_message_item_get_thread_id (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), 0);
  return self->thread_id;
}

const char *
tern_message_item_get_sender_name (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), NULL);
  return self->sender_name;
}

const char *
tern_message_item_get_sender_address (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), NULL);
  return self->sender_address;
}

const char *
tern_message_item_get_subject (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), NULL);
  return self->subject;
}

gint64
tern_message_item_get_date (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), 0);
  return self->date;
}

gboolean
tern_message_item_get_unread (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), FALSE);
  return (self->flags & TERN_IMAP_FLAG_SEEN) == 0;
}

gboolean
tern_message_item_get_starred (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), FALSE);
  return (self->flags & TERN_IMAP_FLAG_FLAGGED) != 0;
}

gboolean
tern_message_item_get_has_attachment (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), FALSE);
  return self->has_attachment;
}

guint
tern_message_item_get_thread_size (TernMessageItem *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_ITEM (self), 0);
  return self->thread_size;
}
