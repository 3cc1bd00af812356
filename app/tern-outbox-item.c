/* tern-outbox-item.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-outbox"

#include "config.h"

#include "tern-outbox-item.h"

struct _TernOutboxItem
{
  GObject parent_instance;

  TernOutboxEntry *entry;
  char *recipients;
  char *subject;
};

G_DEFINE_FINAL_TYPE (TernOutboxItem, tern_outbox_item, G_TYPE_OBJECT)

static void
tern_outbox_item_finalize (GObject *object)
{
  TernOutboxItem *self = TERN_OUTBOX_ITEM (object);

  g_clear_pointer (&self->entry, tern_outbox_entry_free);
  g_clear_pointer (&self->recipients, g_free);
  g_clear_pointer (&self->subject, g_free);

  G_OBJECT_CLASS (tern_outbox_item_parent_class)->finalize (object);
}

static void
tern_outbox_item_class_init (TernOutboxItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_outbox_item_finalize;
}

static void
tern_outbox_item_init (TernOutboxItem *self)
{
}

TernOutboxItem *
tern_outbox_item_new (TernOutboxEntry *entry,
                      const char      *subject)
{
  TernOutboxItem *self;

  g_return_val_if_fail (entry != NULL, NULL);

  self = g_object_new (TERN_TYPE_OUTBOX_ITEM, NULL);
  self->entry = entry;
  self->recipients = g_strjoinv (", ", entry->recipients);
  self->subject = g_strdup (subject != NULL ? subject : "");
  return self;
}

gint64
tern_outbox_item_get_id (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), 0);
  return self->entry->id;
}

gint64
tern_outbox_item_get_account_id (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), 0);
  return self->entry->account_id;
}

TernOutboxState
tern_outbox_item_get_state (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), TERN_OUTBOX_STATE_QUEUED);
  return self->entry->state;
}

const char *
tern_outbox_item_get_recipients (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), NULL);
  return self->recipients;
}

const char *
tern_outbox_item_get_subject (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), NULL);
  return self->subject;
}

gint64
tern_outbox_item_get_size (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), 0);
  return self->entry->size;
}

const char *
tern_outbox_item_get_reason (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), NULL);
  return self->entry->last_error;
}

gboolean
tern_outbox_item_get_may_have_been_sent (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), FALSE);
  return self->entry->may_have_been_sent;
}

gint64
tern_outbox_item_get_next_attempt (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), 0);
  return self->entry->next_attempt;
}

guint
tern_outbox_item_get_attempts (TernOutboxItem *self)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), 0);
  return self->entry->attempts;
}

gboolean
tern_outbox_item_equal (TernOutboxItem *self,
                        TernOutboxItem *other)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (self), FALSE);
  g_return_val_if_fail (TERN_IS_OUTBOX_ITEM (other), FALSE);

  return self->entry->id == other->entry->id && self->entry->state == other->entry->state
         && self->entry->attempts == other->entry->attempts
         && self->entry->next_attempt == other->entry->next_attempt
         && self->entry->may_have_been_sent == other->entry->may_have_been_sent
         && g_strcmp0 (self->entry->last_error, other->entry->last_error) == 0;
}
