/* tern-batch-writer.h: new messages stored by a thread of their own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tern-mail-store.h"

G_BEGIN_DECLS

typedef struct _TernBatchWriter TernBatchWriter;

TernBatchWriter *tern_batch_writer_start       (TernStore        *store,
                                                gint64            folder_id,
                                                guint             pending);
void             tern_batch_writer_push        (TernBatchWriter  *writer,
                                                GPtrArray        *batch);
void             tern_batch_writer_build_indexes_at (TernBatchWriter *writer,
                                                     guint            stored);
gboolean         tern_batch_writer_failed      (TernBatchWriter  *writer);
guint            tern_batch_writer_get_stored  (TernBatchWriter  *writer);
gboolean         tern_batch_writer_finish      (TernBatchWriter  *writer,
                                                guint            *inserted,
                                                GError          **error);

G_END_DECLS
