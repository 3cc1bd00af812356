/* tern-outbox-list.c: see tern-outbox-list.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-outbox"

#include "config.h"

#include "tern-outbox-list.h"

#include <gmime/gmime.h>

#include "tern-mail-store-private.h"

struct _TernOutboxList
{
  GObject parent_instance;

  TernStore *store;
  GPtrArray *items;      /* TernOutboxItem */
  GHashTable *subjects;  /* row id (gint64 *) -> subject: the data never changes */
  guint watch_id;
};

static void tern_outbox_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TernOutboxList, tern_outbox_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tern_outbox_list_model_init))

/* The Subject of row @id, decoded; "" when it has none or cannot be read. */
static char *
read_subject (TernStore *store,
              gint64     id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = tern_outbox_get_data (store, id, &error);
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  char *subject;

  if (data == NULL)
    return g_strdup ("");
  _tern_mail_ensure_gmime ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (data, NULL),
                                              g_bytes_get_size (data));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  subject = g_strdup (message != NULL && g_mime_message_get_subject (message) != NULL
                        ? g_mime_message_get_subject (message) : "");
  g_clear_object (&message);
  g_object_unref (parser);
  g_object_unref (stream);
  return subject;
}

static const char *
subject_of (TernOutboxList *self,
            gint64          id)
{
  const char *subject = g_hash_table_lookup (self->subjects, &id);

  if (subject == NULL)
    {
      subject = read_subject (self->store, id);
      g_hash_table_insert (self->subjects, g_memdup2 (&id, sizeof id), (char *) subject);
    }
  return subject;
}

/* Subjects of rows that left the outbox are not needed again. */
static gboolean
subject_gone_cb (gpointer key,
                 gpointer value,
                 gpointer user_data)
{
  GPtrArray *items = user_data;
  gint64 id = *(gint64 *) key;

  for (guint i = 0; i < items->len; i++)
    if (tern_outbox_item_get_id (items->pdata[i]) == id)
      return FALSE;
  return TRUE;
}

/* Replaces the items, announcing only the middle stretch that differs. */
static void
splice_changes (TernOutboxList *self,
                GPtrArray      *items)
{
  guint old_n = self->items->len, new_n = items->len;
  guint prefix = 0, suffix = 0;
  g_autoptr(GPtrArray) old = NULL;

  while (prefix < old_n && prefix < new_n
         && tern_outbox_item_equal (self->items->pdata[prefix], items->pdata[prefix]))
    prefix++;
  while (suffix < old_n - prefix && suffix < new_n - prefix
         && tern_outbox_item_equal (self->items->pdata[old_n - 1 - suffix],
                                    items->pdata[new_n - 1 - suffix]))
    suffix++;
  if (prefix == old_n && prefix == new_n)
    return;
  old = g_steal_pointer (&self->items);
  self->items = g_ptr_array_ref (items);
  g_list_model_items_changed (G_LIST_MODEL (self), prefix, old_n - prefix - suffix,
                              new_n - prefix - suffix);
}

gboolean
tern_outbox_list_reload (TernOutboxList  *self,
                         GError         **error)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (TERN_IS_OUTBOX_LIST (self), FALSE);

  rows = tern_outbox_list (self->store, 0, error);
  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      TernOutboxEntry *entry = rows->pdata[i];

      if (entry->state == TERN_OUTBOX_STATE_SENT)
        continue;
      g_ptr_array_add (items, tern_outbox_item_new (g_steal_pointer (&rows->pdata[i]),
                                                    subject_of (self, entry->id)));
    }
  g_hash_table_foreach_remove (self->subjects, subject_gone_cb, items);
  splice_changes (self, items);
  return TRUE;
}

static void
outbox_changed_cb (gpointer user_data)
{
  TernOutboxList *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tern_outbox_list_reload (self, &error))
    g_warning ("Cannot read the outbox: %s", error->message);
}

TernOutboxItem *
tern_outbox_list_find (TernOutboxList *self,
                       gint64          id)
{
  g_return_val_if_fail (TERN_IS_OUTBOX_LIST (self), NULL);

  for (guint i = 0; i < self->items->len; i++)
    if (tern_outbox_item_get_id (self->items->pdata[i]) == id)
      return self->items->pdata[i];
  return NULL;
}

TernOutboxList *
tern_outbox_list_new (TernStore  *store,
                      GError    **error)
{
  g_autoptr(TernOutboxList) self = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);

  self = g_object_new (TERN_TYPE_OUTBOX_LIST, NULL);
  self->store = g_object_ref (store);
  if (!tern_outbox_list_reload (self, error))
    return NULL;
  self->watch_id = tern_outbox_watch (store, outbox_changed_cb, self);
  return g_steal_pointer (&self);
}

/* GListModel */

static GType
tern_outbox_list_get_item_type (GListModel *model)
{
  return TERN_TYPE_OUTBOX_ITEM;
}

static guint
tern_outbox_list_get_n_items (GListModel *model)
{
  return TERN_OUTBOX_LIST (model)->items->len;
}

static gpointer
tern_outbox_list_get_item (GListModel *model,
                           guint       position)
{
  TernOutboxList *self = TERN_OUTBOX_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
tern_outbox_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tern_outbox_list_get_item_type;
  iface->get_n_items = tern_outbox_list_get_n_items;
  iface->get_item = tern_outbox_list_get_item;
}

/* The type */

static void
tern_outbox_list_finalize (GObject *object)
{
  TernOutboxList *self = TERN_OUTBOX_LIST (object);

  if (self->watch_id != 0)
    tern_outbox_unwatch (self->watch_id);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->subjects, g_hash_table_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (tern_outbox_list_parent_class)->finalize (object);
}

static void
tern_outbox_list_class_init (TernOutboxListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_outbox_list_finalize;
}

static void
tern_outbox_list_init (TernOutboxList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->subjects = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}
