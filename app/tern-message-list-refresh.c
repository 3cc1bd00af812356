/* tern-message-list-refresh.c: what a write changed in a TernMessageList.
 *
 * Sort keys never change for a message, so after a write the list finds
 * its window again by the first and last keys it held:
 *
 *   prefix | window | suffix
 *
 * The window is read again and diffed by identity; of the prefix and the
 * suffix only a count and a sum of identities are known, and one whose
 * fingerprint changed is replaced as a whole (rows nobody has looked at
 * recently).  The changes are emitted from the last to the first, and
 * while each is emitted the list answers with the old rows before it and
 * the new ones from it on, as a listener that applied the changes so far
 * expects (GtkSingleSelection reads the added rows in its handler).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-list"

#include "config.h"

#include "tern-message-list-private.h"

/* One change, in the positions of the list before the refresh (old) and
 * after it (new). */
typedef struct
{
  guint old_pos;
  guint removed;
  guint new_pos;
  guint added;
} Change;

static void
add_change (GArray *changes,
            guint   old_pos,
            guint   removed,
            guint   new_pos,
            guint   added)
{
  Change change = { old_pos, removed, new_pos, added };

  if (removed > 0 || added > 0)
    g_array_append_val (changes, change);
}

/* Whether the rows both windows hold are in the same order (a
 * conversation moves when a message joins it). */
static gboolean
same_order (TernMessageWindow *old_window,
            TernMessageWindow *new_window,
            GHashTable        *in_old,
            GHashTable        *in_new)
{
  guint j = 0;

  for (guint i = 0; i < old_window->idents->len; i++)
    {
      gint64 ident = _tern_message_window_ident (old_window, i);

      if (!g_hash_table_contains (in_new, &ident))
        continue;
      while (j < new_window->idents->len &&
             !g_hash_table_contains (in_old, &g_array_index (new_window->idents, gint64, j)))
        j++;
      if (j == new_window->idents->len || _tern_message_window_ident (new_window, j) != ident)
        return FALSE;
      j++;
    }
  return TRUE;
}

/* The changes between two windows of the same key range: runs of removed
 * and added rows between the rows both hold. */
static void
diff_windows (TernMessageWindow *old_window,
              TernMessageWindow *new_window,
              GArray            *changes)
{
  g_autoptr(GHashTable) in_old = _tern_message_window_index (old_window);
  g_autoptr(GHashTable) in_new = _tern_message_window_index (new_window);
  guint i = 0, j = 0;

  if (!same_order (old_window, new_window, in_old, in_new))
    {
      add_change (changes, old_window->start, old_window->idents->len, new_window->start,
                  new_window->idents->len);
      return;
    }
  while (i < old_window->idents->len || j < new_window->idents->len)
    {
      guint i0 = i, j0 = j;

      while (i < old_window->idents->len &&
             !g_hash_table_contains (in_new, &g_array_index (old_window->idents, gint64, i)))
        i++;
      while (j < new_window->idents->len &&
             !g_hash_table_contains (in_old, &g_array_index (new_window->idents, gint64, j)))
        j++;
      add_change (changes, old_window->start + i0, i - i0, new_window->start + j0, j - j0);
      if (i < old_window->idents->len && j < new_window->idents->len)
        {
          i++;
          j++;
        }
    }
}

/* The window's key range read again, with the count and sum of what
 * comes before it. */
static TernMessageWindow *
reread_window (TernMessageList   *self,
               TernMessageWindow *old_window)
{
  g_autoptr(GHashTable) reuse = _tern_message_window_index (old_window);
  TernMessageWindow *window = _tern_message_window_new (0);
  sqlite3_stmt *stmt;

  stmt = _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT_BEFORE);
  if (stmt != NULL)
    _tern_message_list_bind_key (stmt, ":k", ":i", old_window, 0);
  _tern_message_list_count (self, stmt, &window->start, &window->prefix_sum);

  stmt = _tern_message_list_statement (self, TERN_MESSAGE_STMT_RANGE);
  if (stmt != NULL)
    {
      _tern_message_list_bind_key (stmt, ":k", ":i", old_window, 0);
      _tern_message_list_bind_key (stmt, ":k2", ":i2", old_window, old_window->items->len - 1);
    }
  _tern_message_list_read_rows (self, stmt, reuse, window);
  return window;
}

static void
emit_changes (TernMessageList   *self,
              GArray            *changes,
              TernMessageWindow *old_window)
{
  self->old_window = old_window;
  self->emitting = TRUE;
  /* From the last change to the first, so that the positions of the ones
   * still to come stay those of the old rows. */
  for (guint k = changes->len; k > 0; k--)
    {
      const Change *change = &g_array_index (changes, Change, k - 1);

      /* Listeners see the old rows up to the change, then the new ones
       * from its start: the added rows are at the change's position. */
      self->split_old = change->old_pos;
      self->split_new = change->new_pos;
      g_list_model_items_changed (G_LIST_MODEL (self), change->old_pos, change->removed,
                                  change->added);
    }
  self->emitting = FALSE;
  self->old_window = NULL;
}

void
_tern_message_list_refresh (TernMessageList *self)
{
  g_autoptr(TernMessageWindow) old_window = g_steal_pointer (&self->window);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  guint old_n = self->n_items;
  gint64 old_sum = self->total_sum;
  TernMessageWindow *window;
  guint old_end, new_end;
  gint64 old_suffix_sum, new_suffix_sum;

  _tern_message_list_count (self, _tern_message_list_statement (self, TERN_MESSAGE_STMT_COUNT),
                            &self->n_items, &self->total_sum);
  if (old_window == NULL || old_window->items->len == 0)
    {
      if (old_n != self->n_items || old_sum != self->total_sum)
        add_change (changes, 0, old_n, 0, self->n_items);
      emit_changes (self, changes, NULL);
      return;
    }

  window = self->window = reread_window (self, old_window);
  old_end = old_window->start + old_window->items->len;
  new_end = window->start + window->items->len;
  if (old_window->start != window->start || old_window->prefix_sum != window->prefix_sum)
    add_change (changes, 0, old_window->start, 0, window->start);
  diff_windows (old_window, window, changes);
  old_suffix_sum = old_sum - old_window->prefix_sum - _tern_message_window_sum (old_window);
  new_suffix_sum = self->total_sum - window->prefix_sum - _tern_message_window_sum (window);
  if (old_n - old_end != self->n_items - new_end || old_suffix_sum != new_suffix_sum)
    add_change (changes, old_end, old_n - old_end, new_end, self->n_items - new_end);
  emit_changes (self, changes, old_window);
}
