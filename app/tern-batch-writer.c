/* tern-batch-writer.c: new messages stored by a thread of their own.
 *
 * A sync or a download hands its new messages over in batches (one
 * transaction each, so that an interruption leaves whole batches) and
 * goes on reading and decoding the next ones while this thread writes:
 * the network, the parsing and the database work at the same time.  At
 * most @pending batches wait: when the writer falls behind, the reader
 * waits too, and memory stays bounded.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-batch-writer"

#include "config.h"

#include "tern-batch-writer.h"

struct _TernBatchWriter
{
  TernStore *store;
  gint64 folder_id;
  GThread *thread;
  GAsyncQueue *batches; /* of GPtrArray of TernMailNewMessage; an empty one ends */
  GAsyncQueue *slots;   /* tokens: a batch may be queued when one is taken */
  gint inserted;        /* atomic */
  gint stored;          /* atomic: messages of the batches written */
  guint build_at;       /* see tern_batch_writer_build_indexes_at() */
  GMutex lock;
  GError *error;        /* the first failure, under @lock */
};

gboolean
tern_batch_writer_failed (TernBatchWriter *writer)
{
  gboolean failed;

  g_mutex_lock (&writer->lock);
  failed = writer->error != NULL;
  g_mutex_unlock (&writer->lock);
  return failed;
}

static void
maybe_build_indexes (TernBatchWriter *writer)
{
  g_autoptr(GError) error = NULL;

  if (writer->build_at == 0 || (guint) g_atomic_int_get (&writer->stored) < writer->build_at)
    return;
  writer->build_at = 0;
  if (!tern_store_restore_indexes (writer->store, NULL, &error))
    g_debug ("The indexes wait for the end of the fill: %s", error->message);
}

static gpointer
writer_thread (gpointer user_data)
{
  TernBatchWriter *writer = user_data;

  for (;;)
    {
      g_autoptr(GPtrArray) batch = g_async_queue_pop (writer->batches);
      g_autoptr(GError) error = NULL;
      guint inserted = 0;

      if (batch->len == 0)
        break;
      /* After a failure the rest is dropped, not written out of order. */
      if (!tern_batch_writer_failed (writer) &&
          tern_mail_store_add_new_messages (writer->store, writer->folder_id, batch, &inserted,
                                            &error))
        {
          g_atomic_int_add (&writer->inserted, inserted);
          g_atomic_int_add (&writer->stored, batch->len);
          maybe_build_indexes (writer);
        }
      else if (error != NULL)
        {
          g_mutex_lock (&writer->lock);
          if (writer->error == NULL)
            writer->error = g_steal_pointer (&error);
          g_mutex_unlock (&writer->lock);
        }
      g_async_queue_push (writer->slots, GINT_TO_POINTER (1));
    }
  return NULL;
}

/* Starts the thread that writes the batches pushed for @folder_id. */
TernBatchWriter *
tern_batch_writer_start (TernStore *store,
                         gint64     folder_id,
                         guint      pending)
{
  TernBatchWriter *writer;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (pending > 0, NULL);

  writer = g_new0 (TernBatchWriter, 1);
  writer->store = g_object_ref (store);
  writer->folder_id = folder_id;
  writer->batches = g_async_queue_new_full ((GDestroyNotify) g_ptr_array_unref);
  writer->slots = g_async_queue_new ();
  g_mutex_init (&writer->lock);
  for (guint i = 0; i < pending; i++)
    g_async_queue_push (writer->slots, GINT_TO_POINTER (1));
  writer->thread = g_thread_new ("tern-batch-writer", writer_thread, writer);
  return writer;
}

/* Has the writer build the indexes a fill left out
 * (tern_store_restore_indexes()) once @stored messages are written,
 * between two batches; 0: never.  Set before the first push.  A build
 * that fails leaves them for the fill's end. */
void
tern_batch_writer_build_indexes_at (TernBatchWriter *writer,
                                    guint            stored)
{
  g_return_if_fail (writer != NULL);

  writer->build_at = stored;
}

/* Hands @batch (of TernMailNewMessage, taken) to the writer, waiting while
 * as many batches as it was started with wait for it. */
void
tern_batch_writer_push (TernBatchWriter *writer,
                        GPtrArray       *batch)
{
  g_return_if_fail (writer != NULL);
  g_return_if_fail (batch != NULL);

  if (batch->len == 0)
    {
      g_ptr_array_unref (batch);
      return;
    }
  g_async_queue_pop (writer->slots);
  g_async_queue_push (writer->batches, batch);
}

/* Messages of the batches written so far (new or already stored). */
guint
tern_batch_writer_get_stored (TernBatchWriter *writer)
{
  return (guint) g_atomic_int_get (&writer->stored);
}

/* Writes what was pushed, ends the thread and frees @writer: FALSE with
 * the first batch's error when one failed (the batches before it are
 * stored).  *@inserted: the messages that were new. */
gboolean
tern_batch_writer_finish (TernBatchWriter  *writer,
                          guint            *inserted,
                          GError          **error)
{
  gboolean ok;

  g_return_val_if_fail (writer != NULL, FALSE);

  g_async_queue_push (writer->batches, g_ptr_array_new ());
  g_thread_join (writer->thread);
  if (inserted != NULL)
    *inserted = (guint) g_atomic_int_get (&writer->inserted);
  ok = writer->error == NULL;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&writer->error));
  g_async_queue_unref (writer->batches);
  g_async_queue_unref (writer->slots);
  g_mutex_clear (&writer->lock);
  g_object_unref (writer->store);
  g_free (writer);
  return ok;
}
