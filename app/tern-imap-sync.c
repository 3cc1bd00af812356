/* tern-imap-sync.c: one account's folders and headers into the store.
 *
 * Per folder the number of round trips does not depend on the number of
 * messages: with QRESYNC an unchanged folder costs its SELECT alone (the
 * SELECT itself reports what vanished and which flags changed); new
 * messages are fetched newest first in batches, each batch one
 * transaction.  Without QRESYNC, CONDSTORE's CHANGEDSINCE limits the flag
 * fetch to what changed, and a UID SEARCH finds what was expunged; with
 * neither, flags of the known range are fetched and compared.  Bodies
 * (sync_bodies) are fetched a hundred to a command, several commands on
 * the wire, and stored a few hundred to a transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-imap-sync"

#include "config.h"

#include "tern-imap-sync.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-batch-writer.h"
#include "tern-folder-roles.h"
#include "tern-imap-client.h"
#include "tern-imap-session.h"
#include "tern-mail-store.h"
#include "tern-mail-store-private.h"
#include "tern-offline-queue.h"
#include "tern-search.h"
#include "tern-secrets.h"

/* The first batch of a folder is small, so that its newest mail shows
 * soon; later ones are larger: each commit rewrites the pages its rows
 * touched in every index, and fewer commits touch each page fewer times
 * (108,000 headers: about 0.5 s less CPU, RSS 40 -> 46 MB, with 2,500;
 * with 5,000 wall 4.51 -> 4.31 s, CPU 4.55 -> 4.33 s, RSS 44 -> 51 MB in
 * 4 alternating pairs; 10,000 gained nothing more and took 60 MB). */
#define BATCH_SIZE 1000
#define LATER_BATCH_SIZE 5000
/* A large fill's writer builds the indexes it left out when this many of
 * the folder's messages are still to come, rather than after the last
 * one.  The writer waits for batches most of the stream (about 1 s of
 * 4 at 100,000 headers) while the connection and the server keep the
 * other core busy; after the stream nothing else runs, and the builds
 * (0.16-0.21 s there) kept a core idle.  The rows after the build go in
 * with the indexes, a little dearer each.  108,000 headers, 14
 * alternating runs: faster in 10, medians 4.66 -> 4.45 s and 4.82 ->
 * 4.73 s in two sets, CPU the same. */
#define EARLY_INDEXES_REST (3 * LATER_BATCH_SIZE)
#define BODY_WINDOW_DAYS 30
/* Bodies up to this size live in the database, larger ones in files. */
#define BODY_INLINE_MAX (256 * 1024)

/* What the connections of one account's sync share (see
 * tern_imap_sync_account()): the folders left to sync, and the fill. */
typedef struct
{
  GMutex lock;
  GPtrArray *folders;   /* of TernMailFolder, in the order to sync them */
  guint next;           /* the first not taken yet */
  GHashTable *by_name;  /* name -> its TernImapStatus; read only */
  gboolean stop;        /* a connection failed: no more folders are taken */

  /* A first sync fills the store without some indexes (fetch_new()): the
   * connections filling now; the indexes are out while any is. */
  GMutex fill_lock;
  guint filling;

  GMutex progress_lock; /* one TernImapSyncProgress call at a time */

  /* Looked up once for both connections: a password command may ask the
   * user, who should not be asked twice for one sync. */
  char *password;
} Shared;

typedef struct
{
  TernContext *context;
  TernStore *store;
  TernAccount *account;
  TernImapClient *client;
  TernImapSyncBodies bodies;
  gint64 bodies_since; /* INTERNALDATE the bodies to fetch start at; 0: all */
  TernImapSyncProgress progress;
  gpointer progress_data;
  TernImapSyncStats stats;
  GCancellable *cancellable;

  /* What the server reports unasked while a folder is selected. */
  TernImapSet *vanished;
  GPtrArray *changes; /* of TernMailFlagUpdate */

  /* The batch being fetched. */
  GPtrArray *batch; /* of TernMailNewMessage */

  gboolean charsets_pinned; /* see _tern_mail_pin_charsets() */

  Shared *shared;
  gboolean took_folder; /* under shared->lock: has taken a folder to sync */
  GError *refused;      /* the first folder the server would not open */
} Sync;

/* Pinned on the first folder with something to fetch: a sync that finds
 * nothing new does not load two dozen converters (about 1 ms) for
 * nothing. */
static void
pin_charsets (Sync *sync)
{
  if (sync->charsets_pinned)
    return;
  _tern_mail_pin_charsets ();
  sync->charsets_pinned = TRUE;
}

static void
sync_clear (Sync *sync)
{
  if (sync->charsets_pinned)
    _tern_mail_unpin_charsets ();
  sync->charsets_pinned = FALSE;
  g_clear_object (&sync->client);
  g_clear_pointer (&sync->vanished, tern_imap_set_free);
  g_clear_pointer (&sync->changes, g_ptr_array_unref);
  g_clear_pointer (&sync->batch, g_ptr_array_unref);
  g_clear_error (&sync->refused);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sync, sync_clear)

gboolean
tern_imap_sync_bodies_from_string (const char         *string,
                                   TernImapSyncBodies *bodies)
{
  static const char *names[] = { "none", "window", "all" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_strcmp0 (string, names[i]) == 0)
        {
          *bodies = i;
          return TRUE;
        }
    }
  return FALSE;
}

static void
report (Sync       *sync,
        const char *folder,
        guint       done,
        guint       total)
{
  if (sync->progress == NULL)
    return;
  g_mutex_lock (&sync->shared->progress_lock);
  sync->progress (folder, done, total, sync->progress_data);
  g_mutex_unlock (&sync->shared->progress_lock);
}

/* Events */

static void
vanished_cb (const TernImapSet *uids,
             gpointer           user_data)
{
  Sync *sync = user_data;

  for (guint i = 0; i < uids->ranges->len; i++)
    {
      const TernImapRange *range = &g_array_index (uids->ranges, TernImapRange, i);

      tern_imap_set_add_range (sync->vanished, range->first, range->last);
    }
}

static void
fetch_cb (const TernImapMessage *message,
          gpointer               user_data)
{
  Sync *sync = user_data;

  if ((message->present & TERN_IMAP_FETCH_UID) && (message->present & TERN_IMAP_FETCH_FLAGS))
    g_ptr_array_add (sync->changes, tern_mail_flag_update_new_from_imap (message));
}

static void
alert_cb (const char *text,
          gpointer    user_data)
{
  g_message ("%s", text);
}

static const TernImapClientEvents events = {
  .vanished = vanished_cb,
  .fetch = fetch_cb,
  .alert = alert_cb,
};

static void
reset_events (Sync *sync)
{
  g_clear_pointer (&sync->vanished, tern_imap_set_free);
  sync->vanished = tern_imap_set_new ();
  g_clear_pointer (&sync->changes, g_ptr_array_unref);
  sync->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_flag_update_free);
}

/* UID sets as sorted arrays, for differences. */

static GArray *
set_to_array (const TernImapSet *set)
{
  GArray *array = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint i = 0; set != NULL && i < set->ranges->len; i++)
    {
      const TernImapRange *range = &g_array_index (set->ranges, TernImapRange, i);

      for (guint64 uid = range->first; uid <= range->last && uid < G_MAXUINT32; uid++)
        {
          guint32 value = uid;

          g_array_append_val (array, value);
        }
    }
  return array;
}

/* The members of @a (sorted) not in @b, at least @min. */
static GArray *
uids_minus (GArray            *a,
            const TernImapSet *b,
            guint32            min)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint32));

  for (guint i = 0; i < a->len; i++)
    {
      guint32 uid = g_array_index (a, guint32, i);

      if (uid >= min && !tern_imap_set_contains (b, uid))
        g_array_append_val (out, uid);
    }
  return out;
}

static TernImapSet *
set_from_slice (GArray *uids,
                guint   start,
                guint   end)
{
  TernImapSet *set = tern_imap_set_new ();

  for (guint i = start; i < end; i++)
    tern_imap_set_add (set, g_array_index (uids, guint32, i));
  return set;
}

/* Folders */

/* Whether the store holds exactly @mailboxes as they are: then a sync
 * writes nothing (each write is a transaction synced to disk). */
static gboolean
folders_unchanged (Sync       *sync,
                   GPtrArray  *mailboxes)
{
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);

  stored = tern_mail_store_list_folders (sync->store, tern_account_get_id (sync->account), NULL);
  if (stored == NULL || stored->len != mailboxes->len)
    return FALSE;
  for (guint i = 0; i < stored->len; i++)
    {
      TernMailFolder *folder = g_ptr_array_index (stored, i);

      g_hash_table_insert (by_name, folder->name, folder);
    }
  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = g_ptr_array_index (mailboxes, i);
      TernMailFolder *folder = g_hash_table_lookup (by_name, mailbox->name);
      gboolean subscribed = (mailbox->attributes & TERN_IMAP_MAILBOX_SUBSCRIBED) != 0 ||
                            g_ascii_strcasecmp (mailbox->name, "INBOX") == 0;

      if (folder == NULL || folder->delimiter != mailbox->delimiter ||
          folder->attributes != mailbox->attributes || folder->subscribed != subscribed ||
          g_strcmp0 (folder->role, tern_folder_role_guess (mailbox->name, mailbox->delimiter,
                                                           mailbox->attributes)) != 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
store_folders (Sync       *sync,
               GPtrArray  *mailboxes,
               GError    **error)
{
  g_autoptr(GPtrArray) keep = g_ptr_array_new ();

  if (folders_unchanged (sync, mailboxes))
    return TRUE;

  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = g_ptr_array_index (mailboxes, i);
      TernMailFolder folder = { 0 };

      folder.account_id = tern_account_get_id (sync->account);
      folder.name = mailbox->name;
      folder.delimiter = mailbox->delimiter;
      folder.role = (char *) tern_folder_role_guess (mailbox->name, mailbox->delimiter,
                                                     mailbox->attributes);
      folder.attributes = mailbox->attributes;
      folder.subscribed = (mailbox->attributes & TERN_IMAP_MAILBOX_SUBSCRIBED) != 0 ||
                          g_ascii_strcasecmp (mailbox->name, "INBOX") == 0;
      if (tern_mail_store_upsert_folder (sync->store, &folder, error) == 0)
        return FALSE;
      g_ptr_array_add (keep, mailbox->name);
    }
  g_ptr_array_add (keep, NULL);
  return tern_mail_store_remove_folders_except (sync->store, tern_account_get_id (sync->account),
                                                (const char * const *) keep->pdata, error);
}

/* Headers */

/* New headers are stored by a writer thread (TernBatchWriter) while the
 * next ones arrive.  The fetch is one pipeline, newest first; every
 * BATCH_SIZE (then LATER_BATCH_SIZE) messages go to the writer as one
 * transaction.  At most PENDING_BATCHES wait for the writer. */
#define PENDING_BATCHES 2

typedef struct
{
  Sync *sync;
  TernBatchWriter *writer;
  const TernMailFolder *folder;
  guint total;
  guint batch_size;
} NewHeaders;

/* Hands the batch collected so far to the writer (waiting for a slot). */
static void
queue_batch (NewHeaders *headers)
{
  Sync *sync = headers->sync;

  if (sync->batch == NULL || sync->batch->len == 0)
    return;
  tern_batch_writer_push (headers->writer, g_steal_pointer (&sync->batch));
  report (sync, headers->folder->name, tern_batch_writer_get_stored (headers->writer),
          headers->total);
}

static gboolean
collect_cb (TernImapMessage  *message,
            gpointer          user_data,
            GError          **error)
{
  NewHeaders *headers = user_data;
  Sync *sync = headers->sync;

  if (!(message->present & TERN_IMAP_FETCH_UID))
    return TRUE;
  if (sync->batch == NULL)
    sync->batch = g_ptr_array_new_full (BATCH_SIZE, (GDestroyNotify) tern_mail_new_message_free);
  g_ptr_array_add (sync->batch, tern_mail_new_message_from_imap (message));
  if (sync->batch->len >= headers->batch_size)
    {
      queue_batch (headers);
      headers->batch_size = LATER_BATCH_SIZE;
      if (tern_batch_writer_failed (headers->writer))
        {
          /* The writer's error is the one reported. */
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
changes_cb (TernImapMessage  *message,
            gpointer          user_data,
            GError          **error)
{
  fetch_cb (message, user_data);
  return TRUE;
}

/* A fill is shared by the connections of a sync: a folder fetched while
 * another fills the store joins that fill (its rows go in without the
 * indexes too), and the last connection to end it builds the indexes. */
static gboolean
fill_begin (Sync                 *sync,
            const TernMailFolder *folder,
            guint                 count,
            gboolean             *filling,
            GError              **error)
{
  Shared *shared = sync->shared;
  gboolean ok = TRUE;

  g_mutex_lock (&shared->fill_lock);
  *filling = shared->filling > 0;
  if (!*filling)
    ok = tern_mail_store_begin_fill (sync->store, folder->id, count, filling, error);
  if (*filling)
    shared->filling++;
  g_mutex_unlock (&shared->fill_lock);
  return ok;
}

static gboolean
fill_end (Sync    *sync,
          GError **error)
{
  Shared *shared = sync->shared;
  gboolean ok = TRUE;

  g_mutex_lock (&shared->fill_lock);
  g_assert (shared->filling > 0);
  if (--shared->filling == 0)
    ok = tern_mail_store_end_fill (sync->store, error);
  g_mutex_unlock (&shared->fill_lock);
  return ok;
}

/* Fetches @uids (sorted ascending) highest first, a transaction per
 * batch, so that the newest mail shows first and an interrupted sync
 * keeps what it stored. */
static gboolean
fetch_new (Sync                 *sync,
           const TernMailFolder *folder,
           GArray               *uids,
           GError              **error)
{
  TernImapFetchItems items = TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS |
                             TERN_IMAP_FETCH_INTERNALDATE | TERN_IMAP_FETCH_SIZE |
                             TERN_IMAP_FETCH_ENVELOPE | TERN_IMAP_FETCH_BODYSTRUCTURE |
                             TERN_IMAP_FETCH_HEADERS;
  NewHeaders headers = { sync, NULL, folder, uids->len, BATCH_SIZE };
  g_autoptr(GError) fetch_error = NULL;
  g_autoptr(GError) fill_error = NULL;
  g_autoptr(TernImapSet) set = set_from_slice (uids, 0, uids->len);
  g_autoptr(GError) write_error = NULL;
  guint inserted = 0;
  gboolean deferred;

  if (tern_imap_client_is_enabled (sync->client, "CONDSTORE"))
    items |= TERN_IMAP_FETCH_MODSEQ;
  pin_charsets (sync);
  /* A first sync (or a folder larger than all the store holds) fills the
   * store without the indexes it does not read, and builds them once at
   * the end, whether the fetch ended well or not. */
  if (!fill_begin (sync, folder, uids->len, &deferred, error))
    return FALSE;

  headers.writer = tern_batch_writer_start (sync->store, folder->id, PENDING_BATCHES);
  if (deferred && uids->len > EARLY_INDEXES_REST)
    tern_batch_writer_build_indexes_at (headers.writer, uids->len - EARLY_INDEXES_REST);

  g_clear_pointer (&sync->batch, g_ptr_array_unref);
  if (tern_imap_client_fetch_newest_first (sync->client, set, items, 0, collect_cb, &headers,
                                           sync->cancellable, &fetch_error))
    queue_batch (&headers);
  g_clear_pointer (&sync->batch, g_ptr_array_unref);

  /* The writer finishes what was queued (whole batches), then ends. */
  tern_batch_writer_finish (headers.writer, &inserted, &write_error);
  if (deferred)
    fill_end (sync, &fill_error);
  sync->stats.new_messages += inserted;
  if (fetch_error == NULL && write_error == NULL)
    report (sync, folder->name, uids->len, uids->len);

  if (write_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&write_error));
      return FALSE;
    }
  if (fetch_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&fetch_error));
      return FALSE;
    }
  if (fill_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&fill_error));
      return FALSE;
    }
  return TRUE;
}

/* Known messages, without QRESYNC: which vanished, which changed flags. */
static gboolean
resync_known (Sync                    *sync,
              const TernMailFolder    *folder,
              const TernImapSelected  *selected,
              const TernImapSet       *known,
              TernImapSet            **server_uids,
              GError                 **error)
{
  g_autoptr(GArray) known_array = NULL;
  g_autoptr(GArray) gone = NULL;
  g_autoptr(TernImapSet) gone_set = NULL;
  gboolean condstore = folder->highestmodseq != 0 && selected->highestmodseq != 0;

  if (condstore && selected->highestmodseq == folder->highestmodseq)
    return TRUE; /* RFC 7162: any flag change or expunge raises HIGHESTMODSEQ */

  *server_uids = tern_imap_client_search_uids (sync->client, NULL, sync->cancellable, error);
  if (*server_uids == NULL)
    return FALSE;
  known_array = set_to_array (known);
  gone = uids_minus (known_array, *server_uids, 0);
  gone_set = set_from_slice (gone, 0, gone->len);
  if (!tern_mail_store_remove_uids (sync->store, folder->id, gone_set, error))
    return FALSE;
  sync->stats.removed_messages += gone->len;

  /* The flags of what is still there: all of them, or with CONDSTORE only
   * those changed since the last sync. */
  if (gone->len < known_array->len &&
      !tern_imap_client_fetch (sync->client, known,
                               TERN_IMAP_FETCH_UID | TERN_IMAP_FETCH_FLAGS |
                               (condstore ? TERN_IMAP_FETCH_MODSEQ : 0),
                               condstore ? folder->highestmodseq : 0, changes_cb, sync,
                               sync->cancellable, error))
    return FALSE;
  return TRUE;
}

static gboolean
apply_events (Sync                 *sync,
              const TernMailFolder *folder,
              GError              **error)
{
  if (!tern_mail_store_remove_uids (sync->store, folder->id, sync->vanished, error) ||
      !tern_mail_store_update_flags (sync->store, folder->id, sync->changes, error))
    return FALSE;
  sync->stats.removed_messages += tern_imap_set_count (sync->vanished);
  sync->stats.flag_updates += sync->changes->len;
  reset_events (sync);
  return TRUE;
}

static gboolean sync_bodies (Sync                 *sync,
                             const TernMailFolder *folder,
                             GError              **error);

#define UNCHANGED_STATUS (TERN_IMAP_STATUS_MESSAGES | TERN_IMAP_STATUS_UIDNEXT | \
                          TERN_IMAP_STATUS_UIDVALIDITY | TERN_IMAP_STATUS_HIGHESTMODSEQ)

/* Whether the LIST-STATUS (or STATUS) answer @status shows that nothing
 * happened in @folder since its last complete sync: then it needs no
 * SELECT at all.  RFC 7162 makes every flag change and every expunge
 * raise HIGHESTMODSEQ; new mail raises UIDNEXT; an interrupted sync left
 * the old UIDNEXT behind; the message count catches what the store lost
 * on its own. */
static gboolean
folder_unchanged (Sync                 *sync,
                  const TernMailFolder *folder,
                  const TernImapStatus *status)
{
  g_autoptr(GArray) missing = NULL;

  if (status == NULL || (status->present & UNCHANGED_STATUS) != UNCHANGED_STATUS ||
      folder->uidvalidity == 0 || folder->highestmodseq == 0 ||
      status->uidvalidity != folder->uidvalidity || status->uidnext != folder->uidnext ||
      status->highestmodseq != folder->highestmodseq || status->messages != folder->total_count)
    return FALSE;
  if (sync->bodies == TERN_IMAP_SYNC_BODIES_NONE)
    return TRUE;
  /* Bodies still to fetch need the folder selected. */
  missing = tern_mail_store_list_missing_bodies (sync->store, folder->id, sync->bodies_since, NULL);
  return missing != NULL && missing->len == 0;
}

static gboolean
sync_folder (Sync                  *sync,
             const TernMailFolder  *stored,
             const TernImapStatus  *status,
             GError               **error)
{
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(TernImapSet) known = NULL;
  g_autoptr(TernImapSet) server_uids = NULL;
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GArray) new_uids = NULL;
  TernImapSelectParams params = { 0 };
  TernImapSelected selected = { 0 };
  TernImapSyncStats before = sync->stats;
  gboolean qresync;
  gboolean changed;
  guint32 from_uid;

  folder = tern_mail_store_get_folder (sync->store, stored->id, error);
  if (folder == NULL)
    return FALSE;
  report (sync, folder->name, 0, 0);
  if (folder_unchanged (sync, folder, status))
    {
      g_debug ("%s: unchanged since the last sync, not selected", folder->name);
      sync->stats.folders++;
      sync->stats.unselected_folders++;
      return TRUE;
    }
  known = tern_mail_store_get_uids (sync->store, folder->id, error);
  if (known == NULL)
    return FALSE;

  qresync = tern_imap_client_is_enabled (sync->client, "QRESYNC") &&
            folder->uidvalidity != 0 && folder->highestmodseq != 0;
  params.uidvalidity = folder->uidvalidity;
  if (qresync)
    {
      params.highestmodseq = folder->highestmodseq;
      params.known_uids = known;
    }

  reset_events (sync);
  if (!tern_imap_client_select (sync->client, folder->name, TRUE, &params, &selected,
                                sync->cancellable, error))
    return FALSE;

  if (folder->uidvalidity != 0 && selected.uidvalidity != folder->uidvalidity)
    {
      /* The server renumbered the folder: nothing cached is valid. */
      g_debug ("UIDVALIDITY of %s changed (%u -> %u)", folder->name, folder->uidvalidity,
               selected.uidvalidity);
      if (!tern_mail_store_reset_folder (sync->store, folder->id, selected.uidvalidity, error))
        goto out;
      sync->stats.uidvalidity_resets++;
      folder->highestmodseq = 0;
      folder->uidnext = 0;
      tern_imap_set_free (known);
      known = tern_imap_set_new ();
      reset_events (sync);
      qresync = FALSE;
    }
  else if (folder->uidvalidity == 0 && tern_imap_set_is_empty (known))
    {
      /* First visit: record the UIDVALIDITY now, so that an interrupted
       * first sync is continued, not mistaken for a renumbered folder. */
      if (!tern_mail_store_reset_folder (sync->store, folder->id, selected.uidvalidity, error))
        goto out;
    }
  else if (!tern_imap_set_is_empty (known))
    {
      if (qresync && selected.vanished != NULL)
        vanished_cb (selected.vanished, sync);
      if (!qresync && !resync_known (sync, folder, &selected, known, &server_uids, error))
        goto out;
    }
  if (!apply_events (sync, folder, error))
    goto out;

  /* New messages: everything from the UIDNEXT of the last complete sync
   * that is not stored yet (an interrupted sync left some). */
  from_uid = MAX (folder->uidnext, 1);
  if (selected.exists > 0 && (folder->uidnext == 0 || selected.uidnext > folder->uidnext))
    {
      if (server_uids == NULL)
        {
          g_autofree char *criteria = g_strdup_printf ("UID %u:*", from_uid);

          server_uids = tern_imap_client_search_uids (sync->client, criteria, sync->cancellable,
                                                      error);
          if (server_uids == NULL)
            goto out;
        }
      candidates = set_to_array (server_uids);
      new_uids = uids_minus (candidates, known, from_uid);
      if (new_uids->len > 0 && !fetch_new (sync, folder, new_uids, error))
        goto out;
    }
  /* Flag changes reported while fetching. */
  if (!apply_events (sync, folder, error))
    goto out;

  /* Nothing changed: the folder's row (and its counts) are right as they
   * are, and a write would cost a disk sync per folder. */
  changed = sync->stats.new_messages != before.new_messages ||
            sync->stats.removed_messages != before.removed_messages ||
            sync->stats.flag_updates != before.flag_updates ||
            selected.uidvalidity != folder->uidvalidity || selected.uidnext != folder->uidnext ||
            selected.highestmodseq != folder->highestmodseq;
  if (changed &&
      !tern_mail_store_set_folder_synced (sync->store, folder->id, selected.uidvalidity,
                                          selected.uidnext, selected.highestmodseq, error))
    goto out;
  sync->stats.folders++;
  if (sync->bodies != TERN_IMAP_SYNC_BODIES_NONE && !sync_bodies (sync, folder, error))
    goto out;

  tern_imap_selected_clear (&selected);
  return TRUE;

out:
  tern_imap_selected_clear (&selected);
  return FALSE;
}

/* Bodies */

static char *
body_relative_path (gint64 folder_id,
                    gint64 message_id)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".eml", message_id);
  g_autofree char *folder = g_strdup_printf ("%" G_GINT64_FORMAT, folder_id);

  return g_build_filename ("bodies", folder, name, NULL);
}

/* Downloads the body of @ref into the store: into memory for small ones,
 * into a file under the profile (written aside, then renamed) for large
 * ones.  Returns the bytes when @want_bytes. */
static GBytes *
download_body (TernContext            *context,
               TernImapClient         *client,
               gint64                  folder_id,
               const TernMailBodyRef  *ref,
               gboolean                want_bytes,
               GCancellable           *cancellable,
               GError                **error)
{
  TernStore *store = tern_context_get_store (context);
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *relative = NULL;
  g_autofree char *path = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GFile) file = NULL;

  if (ref->size <= BODY_INLINE_MAX)
    {
      out = g_memory_output_stream_new_resizable ();
      if (!tern_imap_client_fetch_body (client, ref->uid, NULL, out, cancellable, error) ||
          !g_output_stream_close (out, cancellable, error))
        return NULL;
      bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
      if (!tern_mail_store_set_body (store, ref->id, bytes, NULL, g_bytes_get_size (bytes), error))
        return NULL;
      return want_bytes ? g_steal_pointer (&bytes) : g_bytes_new (NULL, 0);
    }

  relative = body_relative_path (folder_id, ref->id);
  path = g_build_filename (tern_context_get_profile_dir (context), relative, NULL);
  partial = g_strconcat (path, ".part", NULL);
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the folder %s: %s"), dir, g_strerror (saved));
      return NULL;
    }
  file = g_file_new_for_path (partial);
  out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, cancellable,
                                         error));
  if (out == NULL)
    return NULL;
  if (!tern_imap_client_fetch_body (client, ref->uid, NULL, out, cancellable, error) ||
      !g_output_stream_close (out, cancellable, error))
    {
      g_unlink (partial);
      return NULL;
    }
  if (g_rename (partial, path) != 0)
    {
      int saved = errno;

      g_unlink (partial);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  if (!tern_mail_store_set_body (store, ref->id, NULL, relative, ref->size, error))
    return NULL;
  if (!want_bytes)
    return g_bytes_new (NULL, 0);
  return tern_mail_store_get_body (store, ref->id, error);
}

/* A full sync streams bodies through tern_imap_client_fetch_bodies(),
 * newest first, BODIES_PER_CALL at a time: small ones into memory, large
 * ones into a file under the profile named by arrival (which message a
 * body is is known only when it ends), renamed when it is complete.  They
 * are stored BODIES_PER_COMMIT (or BODY_BYTES_PER_COMMIT) at a time, one
 * transaction each, instead of a round trip and a commit per message. */
#define BODIES_PER_CALL 2000
#define BODIES_PER_COMMIT 200
#define BODY_BYTES_PER_COMMIT (16 * 1024 * 1024)

typedef struct
{
  Sync *sync;
  const TernMailFolder *folder;
  char *dir;             /* where large bodies go; NULL until needed */
  GHashTable *refs;      /* UID -> const TernMailBodyRef *, those not stored yet */
  GArray *pending;       /* of TernMailBody, owning data and path */
  guint64 pending_bytes;
  GHashTable *partials;  /* GOutputStream -> its file's path (owned) */
  guint next_partial;
  guint done;
  guint total;
  GError *error;         /* from body_begin_cb, reported by body_done_cb */
} Bodies;

static void
bodies_clear (Bodies *bodies)
{
  GHashTableIter iter;
  gpointer path;

  for (guint i = 0; bodies->pending != NULL && i < bodies->pending->len; i++)
    {
      TernMailBody *body = &g_array_index (bodies->pending, TernMailBody, i);

      g_clear_pointer (&body->data, g_bytes_unref);
      g_free ((char *) body->path);
    }
  g_clear_pointer (&bodies->pending, g_array_unref);
  /* Bodies that did not end. */
  if (bodies->partials != NULL)
    {
      g_hash_table_iter_init (&iter, bodies->partials);
      while (g_hash_table_iter_next (&iter, NULL, &path))
        g_unlink (path);
    }
  g_clear_pointer (&bodies->partials, g_hash_table_unref);
  g_clear_pointer (&bodies->refs, g_hash_table_unref);
  g_clear_pointer (&bodies->dir, g_free);
  g_clear_error (&bodies->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Bodies, bodies_clear)

static gboolean
commit_pending (Bodies  *bodies,
                GError **error)
{
  Sync *sync = bodies->sync;
  guint n = bodies->pending->len;
  gboolean ok;

  ok = tern_mail_store_set_bodies (sync->store, (TernMailBody *) (gpointer) bodies->pending->data,
                                   n, error);
  for (guint i = 0; i < n; i++)
    {
      TernMailBody *body = &g_array_index (bodies->pending, TernMailBody, i);

      g_clear_pointer (&body->data, g_bytes_unref);
      g_free ((char *) body->path);
    }
  g_array_set_size (bodies->pending, 0);
  bodies->pending_bytes = 0;
  if (!ok)
    return FALSE;
  bodies->done += n;
  sync->stats.bodies += n;
  if (n > 0)
    report (sync, bodies->folder->name, bodies->done, bodies->total);
  return TRUE;
}

static gboolean
ensure_body_dir (Bodies  *bodies,
                 GError **error)
{
  g_autofree char *folder = NULL;
  g_autofree char *dir = NULL;

  if (bodies->dir != NULL)
    return TRUE;
  folder = g_strdup_printf ("%" G_GINT64_FORMAT, bodies->folder->id);
  dir = g_build_filename (tern_context_get_profile_dir (bodies->sync->context), "bodies",
                          folder, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the folder %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  bodies->dir = g_steal_pointer (&dir);
  return TRUE;
}

static GOutputStream *
body_begin_cb (guint64  size,
               gpointer user_data)
{
  Bodies *bodies = user_data;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  GFileOutputStream *out;

  if (size <= BODY_INLINE_MAX || bodies->error != NULL ||
      !ensure_body_dir (bodies, &bodies->error))
    return g_memory_output_stream_new_resizable ();

  name = g_strdup_printf ("incoming-%u.part", bodies->next_partial++);
  path = g_build_filename (bodies->dir, name, NULL);
  file = g_file_new_for_path (path);
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, &bodies->error);
  if (out == NULL)
    return g_memory_output_stream_new_resizable ();
  g_hash_table_insert (bodies->partials, g_object_ref (out), g_steal_pointer (&path));
  return G_OUTPUT_STREAM (out);
}

static gboolean
body_done_cb (guint32         uid,
              GOutputStream  *out,
              gpointer        user_data,
              GError        **error)
{
  Bodies *bodies = user_data;
  const TernMailBodyRef *ref = g_hash_table_lookup (bodies->refs, GUINT_TO_POINTER (uid));
  g_autofree char *partial = NULL;
  TernMailBody body = { 0 };

  g_hash_table_steal_extended (bodies->partials, out, NULL, (gpointer *) &partial);
  if (partial != NULL)
    g_object_unref (out); /* the table's reference */
  if (bodies->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&bodies->error));
      goto failed;
    }
  if (!g_output_stream_close (out, NULL, error))
    goto failed;
  if (ref == NULL)
    {
      /* Not asked for, or twice: nothing to store. */
      if (partial != NULL)
        g_unlink (partial);
      return TRUE;
    }

  body.message_id = ref->id;
  if (partial == NULL)
    {
      body.data = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
      body.size = g_bytes_get_size (body.data);
    }
  else
    {
      const char *profile = tern_context_get_profile_dir (bodies->sync->context);
      g_autofree char *relative = body_relative_path (bodies->folder->id, ref->id);
      g_autofree char *path = g_build_filename (profile, relative, NULL);

      if (g_rename (partial, path) != 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Cannot write %s: %s"), path, g_strerror (saved));
          goto failed;
        }
      body.path = g_steal_pointer (&relative);
      body.size = ref->size;
    }
  g_hash_table_remove (bodies->refs, GUINT_TO_POINTER (uid));
  g_array_append_val (bodies->pending, body);
  bodies->pending_bytes += partial == NULL ? body.size : 0;
  if (bodies->pending->len >= BODIES_PER_COMMIT || bodies->pending_bytes >= BODY_BYTES_PER_COMMIT)
    return commit_pending (bodies, error);
  return TRUE;

failed:
  if (partial != NULL)
    g_unlink (partial);
  return FALSE;
}

/* The account's [sync] prefetch-days (the preferences), else 30. */
static gint64
prefetch_days (Sync *sync)
{
  g_autoptr(GKeyFile) options =
    tern_account_options_load (sync->store, tern_account_get_id (sync->account), NULL);

  if (options == NULL)
    return BODY_WINDOW_DAYS;
  return MAX (0, tern_account_options_get_integer (options, TERN_ACCOUNT_OPTIONS_SYNC,
                                                   TERN_ACCOUNT_OPTIONS_PREFETCH_DAYS,
                                                   BODY_WINDOW_DAYS));
}

/* Once a sync: the window's start, from the account's prefetch-days.  0
 * days is none ahead, not "today": a window ending now would still take
 * mail delivered this second, or dated ahead by a skewed server clock. */
static void
resolve_body_window (Sync *sync)
{
  gint64 days;

  if (sync->bodies != TERN_IMAP_SYNC_BODIES_WINDOW)
    return;
  days = prefetch_days (sync);
  if (days == 0)
    sync->bodies = TERN_IMAP_SYNC_BODIES_NONE;
  else
    sync->bodies_since = g_get_real_time () / G_USEC_PER_SEC - days * 24 * 3600;
}

static gboolean
sync_bodies (Sync                 *sync,
             const TernMailFolder *folder,
             GError              **error)
{
  g_auto(Bodies) bodies = { sync, folder };
  g_autoptr(GArray) refs = NULL;
  g_autoptr(GError) local_error = NULL;

  refs = tern_mail_store_list_missing_bodies (sync->store, folder->id, sync->bodies_since, error);
  if (refs == NULL)
    return FALSE;
  if (refs->len > 0)
    pin_charsets (sync);
  bodies.refs = g_hash_table_new (NULL, NULL);
  bodies.pending = g_array_new (FALSE, FALSE, sizeof (TernMailBody));
  bodies.partials = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  bodies.total = refs->len;

  /* @refs is highest UID first: newest mail first, a slice per call. */
  for (guint start = 0; start < refs->len; start += BODIES_PER_CALL)
    {
      guint end = MIN (start + BODIES_PER_CALL, refs->len);
      g_autoptr(TernImapSet) uids = tern_imap_set_new ();

      for (guint i = end; i > start; i--)
        {
          const TernMailBodyRef *ref = &g_array_index (refs, TernMailBodyRef, i - 1);

          tern_imap_set_add (uids, ref->uid);
          g_hash_table_insert (bodies.refs, GUINT_TO_POINTER (ref->uid), (gpointer) ref);
        }
      if (!tern_imap_client_fetch_bodies (sync->client, uids, body_begin_cb, body_done_cb,
                                          &bodies, sync->cancellable, &local_error))
        break;
    }
  /* What arrived whole is kept, even when the sync stops here. */
  if (local_error == NULL)
    commit_pending (&bodies, &local_error);
  else
    commit_pending (&bodies, NULL);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/* The account */

static gboolean
is_selectable (const TernMailFolder *folder)
{
  return (folder->attributes & (TERN_IMAP_MAILBOX_NOSELECT | TERN_IMAP_MAILBOX_NONEXISTENT)) == 0;
}

/* A folder's own failure, not the session's: the server answered NO (or
 * NONEXISTENT) to a command about it, and the connection is still good. */
static gboolean
folder_refused (const GError *error)
{
  return g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NO) ||
         g_error_matches (error, TERN_IMAP_ERROR, TERN_IMAP_ERROR_NONEXISTENT);
}

/* Dovecot 2.3 answers a STATUS of a large Maildir folder from its folder
 * list index in a few milliseconds, but after a LIST in the same session
 * it opens the folder instead: 85-105 ms for a 100,000-message INBOX
 * (measured with a pipelined client; the LIST itself takes under 1 ms).
 * So the folders known from the last sync are asked first, and only
 * folders the LIST shows for the first time after it.  Either way the
 * answer is the server's current state: only the order changed. */
static GPtrArray *
status_known (Sync    *sync,
              GError **error)
{
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) known = NULL;

  folders = tern_mail_store_list_folders (sync->store, tern_account_get_id (sync->account), error);
  if (folders == NULL)
    return NULL;
  known = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_imap_mailbox_free);
  for (guint i = 0; i < folders->len; i++)
    {
      const TernMailFolder *folder = g_ptr_array_index (folders, i);
      TernImapMailbox *mailbox;

      if (!is_selectable (folder))
        continue;
      mailbox = g_new0 (TernImapMailbox, 1);
      mailbox->name = g_strdup (folder->name);
      g_ptr_array_add (known, mailbox);
    }
  if (known->len > 0 &&
      !tern_imap_client_status_many (sync->client, known, UNCHANGED_STATUS, sync->cancellable,
                                     error))
    return NULL;
  return g_steal_pointer (&known);
}

/* Gives each listed mailbox the status asked before the LIST, and asks
 * the rest (new folders) now. */
static gboolean
status_listed (Sync       *sync,
               GPtrArray  *known,
               GPtrArray  *mailboxes,
               GError    **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) missing = g_ptr_array_new ();

  for (guint i = 0; i < known->len; i++)
    {
      TernImapMailbox *mailbox = g_ptr_array_index (known, i);

      g_hash_table_insert (by_name, mailbox->name, mailbox);
    }
  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = g_ptr_array_index (mailboxes, i);
      TernImapMailbox *asked = g_hash_table_lookup (by_name, mailbox->name);

      if (asked != NULL && asked->status.present != 0)
        mailbox->status = asked->status;
      else
        g_ptr_array_add (missing, mailbox);
    }
  return missing->len == 0 ||
         tern_imap_client_status_many (sync->client, missing, UNCHANGED_STATUS,
                                       sync->cancellable, error);
}

/* Folders */

static void
shared_init (Shared *shared)
{
  g_mutex_init (&shared->lock);
  g_mutex_init (&shared->fill_lock);
  g_mutex_init (&shared->progress_lock);
}

static void
shared_clear (Shared *shared)
{
  g_mutex_clear (&shared->lock);
  g_mutex_clear (&shared->fill_lock);
  g_mutex_clear (&shared->progress_lock);
  g_clear_pointer (&shared->password, tern_password_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Shared, shared_clear)

/* The next selectable folder nobody has taken, or NULL. */
static const TernMailFolder *
take_folder (Sync *sync)
{
  Shared *shared = sync->shared;
  const TernMailFolder *folder = NULL;

  g_mutex_lock (&shared->lock);
  while (folder == NULL && !shared->stop && shared->next < shared->folders->len)
    {
      folder = g_ptr_array_index (shared->folders, shared->next++);
      if (!is_selectable (folder))
        folder = NULL;
    }
  sync->took_folder = sync->took_folder || folder != NULL;
  g_mutex_unlock (&shared->lock);
  return folder;
}

static void
stop_taking (Shared *shared)
{
  g_mutex_lock (&shared->lock);
  shared->stop = TRUE;
  g_mutex_unlock (&shared->lock);
}

/* Syncs the folders it takes over @sync's connection until none is left:
 * FALSE with the error that stopped it.  A folder the server refuses
 * alone (a name it cannot open, one deleted since the LIST) does not stop
 * the others; the first refusal is kept in @sync->refused. */
static gboolean
sync_folders (Sync    *sync,
              GError **error)
{
  const TernMailFolder *folder;

  while ((folder = take_folder (sync)) != NULL)
    {
      g_autoptr(GError) folder_error = NULL;

      if (sync_folder (sync, folder, g_hash_table_lookup (sync->shared->by_name, folder->name),
                       &folder_error))
        continue;
      if (!folder_refused (folder_error))
        {
          stop_taking (sync->shared);
          g_propagate_error (error, g_steal_pointer (&folder_error));
          return FALSE;
        }
      g_debug ("%s not synced: %s", folder->name, folder_error->message);
      sync->stats.refused_folders++;
      if (sync->refused == NULL && !g_error_matches (folder_error, TERN_IMAP_ERROR,
                                                     TERN_IMAP_ERROR_NONEXISTENT))
        sync->refused = g_error_new (TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                                     _("The folder “%s” was not synced: %s"),
                                     folder->name, folder_error->message);
    }
  return TRUE;
}

/* A second connection */

/* New mail in folders other than the one with the most, from which on a
 * second connection syncs folders beside the first (its sign-in costs
 * both sides a few milliseconds of CPU, SCRAM's key derivation mostly). */
#define SECOND_CONNECTION_MIN 500

/* A first sync of a large folder leaves the machine's cores idle at its
 * end: the last batches, the index builds, and then each small folder in
 * turn (SELECT, fetch, the writer's last batch), one after the other.
 * 108,000 headers, of which 100,000 in INBOX: after INBOX's stream, 1.2 to
 * 1.6 s ran on about one core.  Worth a second connection only when the
 * folders' STATUS (asked with CONDSTORE) shows enough new mail outside
 * the largest share. */
static gboolean
second_connection_pays (Sync *sync)
{
  Shared *shared = sync->shared;
  guint64 total = 0;
  guint64 largest = 0;
  guint busy = 0;

  for (guint i = 0; i < shared->folders->len; i++)
    {
      const TernMailFolder *folder = g_ptr_array_index (shared->folders, i);
      const TernImapStatus *status = g_hash_table_lookup (shared->by_name, folder->name);
      guint64 fresh;

      if (!is_selectable (folder) || status == NULL ||
          !(status->present & TERN_IMAP_STATUS_MESSAGES) || status->messages <= folder->total_count)
        continue;
      fresh = status->messages - folder->total_count;
      busy++;
      total += fresh;
      largest = MAX (largest, fresh);
    }
  return busy >= 2 && total - largest >= SECOND_CONNECTION_MIN;
}

typedef struct
{
  Sync sync;
  GThread *thread;
  GCancellable *cancellable;  /* the helper's: cancelled with the sync's, or to stop it */
  gulong cancelled_id;
  GCancellable *parent;
  GError *error;              /* what stopped it, after it took a folder */
} Helper;

static gpointer
helper_thread (gpointer user_data)
{
  Helper *helper = user_data;
  Sync *sync = &helper->sync;
  g_autoptr(GError) error = NULL;

  sync->client = tern_imap_session_open_with_password (sync->context, sync->account,
                                                      sync->shared->password, sync->cancellable,
                                                      &error);
  if (sync->client == NULL)
    {
      /* The first connection takes every folder then (a server may limit
       * a user's connections). */
      g_debug ("No second connection: %s", error->message);
      return NULL;
    }
  tern_imap_client_set_events (sync->client, &events, sync);
  sync_folders (sync, &helper->error);
  tern_imap_client_logout (sync->client, sync->cancellable, NULL);
  return NULL;
}

static void
cancel_helper_cb (GCancellable *parent,
                  gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

/* Starts a thread that syncs folders over a connection of its own,
 * taking them from @first's list as @first does. */
static Helper *
helper_start (Sync *first)
{
  Helper *helper = g_new0 (Helper, 1);
  Sync *sync = &helper->sync;

  helper->cancellable = g_cancellable_new ();
  if (first->cancellable != NULL)
    {
      helper->parent = g_object_ref (first->cancellable);
      helper->cancelled_id = g_cancellable_connect (first->cancellable,
                                                    G_CALLBACK (cancel_helper_cb),
                                                    helper->cancellable, NULL);
    }
  sync->context = first->context;
  sync->store = first->store;
  sync->account = first->account;
  sync->bodies = first->bodies;
  sync->bodies_since = first->bodies_since;
  sync->progress = first->progress;
  sync->progress_data = first->progress_data;
  sync->cancellable = helper->cancellable;
  sync->shared = first->shared;
  reset_events (sync);
  helper->thread = g_thread_new ("tern-sync-helper", helper_thread, helper);
  return helper;
}

static void
add_stats (TernImapSyncStats       *to,
           const TernImapSyncStats *from)
{
  to->folders += from->folders;
  to->new_messages += from->new_messages;
  to->removed_messages += from->removed_messages;
  to->flag_updates += from->flag_updates;
  to->bodies += from->bodies;
  to->uidvalidity_resets += from->uidvalidity_resets;
  to->unselected_folders += from->unselected_folders;
  to->refused_folders += from->refused_folders;
}

/* Waits for @helper (told to stop when @first failed: @ok FALSE) and
 * frees it, adding what it did to @first.  The result: @ok and @error, or else
 * the helper's failure. */
static gboolean
helper_finish (Helper   *helper,
               Sync     *first,
               gboolean  ok,
               GError  **error)
{
  gboolean idle;

  /* A helper that has no folder (still signing in, say to a server slow
   * to answer a second login) is not waited for: none is left to take. */
  g_mutex_lock (&first->shared->lock);
  first->shared->stop = TRUE;
  idle = !helper->sync.took_folder;
  g_mutex_unlock (&first->shared->lock);
  if (!ok || idle)
    g_cancellable_cancel (helper->cancellable);
  g_thread_join (helper->thread);
  if (helper->parent != NULL)
    g_cancellable_disconnect (helper->parent, helper->cancelled_id);
  add_stats (&first->stats, &helper->sync.stats);
  if (first->refused == NULL)
    first->refused = g_steal_pointer (&helper->sync.refused);
  if (ok && helper->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&helper->error));
      ok = FALSE;
    }
  g_clear_error (&helper->error);
  sync_clear (&helper->sync);
  g_clear_object (&helper->parent);
  g_clear_object (&helper->cancellable);
  g_free (helper);
  return ok;
}

gboolean
tern_imap_sync_account (TernContext           *context,
                        TernAccount           *account,
                        TernImapSyncBodies     bodies,
                        TernImapSyncProgress   progress,
                        gpointer               user_data,
                        TernImapSyncStats     *stats,
                        GCancellable          *cancellable,
                        GError               **error)
{
  g_auto(Shared) shared = { 0 };
  g_auto(Sync) sync = { 0 };
  Helper *helper = NULL;
  g_autoptr(GPtrArray) known = NULL;
  g_autoptr(GPtrArray) mailboxes = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GHashTable) by_name = NULL; /* name -> its TernImapStatus in @mailboxes */
  gboolean condstore;
  gboolean ok;
  gint64 start = g_get_monotonic_time ();

  g_return_val_if_fail (TERN_IS_CONTEXT (context), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);

  shared_init (&shared);
  sync.shared = &shared;
  sync.context = context;
  sync.store = tern_context_get_store (context);
  sync.account = account;
  sync.bodies = bodies;
  sync.progress = progress;
  sync.progress_data = user_data;
  sync.cancellable = cancellable;
  resolve_body_window (&sync);
  reset_events (&sync);

  sync.client = tern_imap_session_open_full (context, account, &shared.password, cancellable,
                                             error);
  if (sync.client == NULL)
    return FALSE;
  /* What the user did offline goes to the server first, so that the sync
   * below does not briefly bring back the old state. */
  if (!tern_offline_queue_replay (sync.store, tern_account_get_id (account), sync.client, NULL,
                                  cancellable, error))
    return FALSE;
  tern_imap_client_set_events (sync.client, &events, &sync);

  /* With CONDSTORE each folder's STATUS is asked (one pipelined round
   * trip; the known folders' before the LIST, see status_known()), and an
   * unchanged folder is not selected.  Not LIST-STATUS: Dovecot took
   * 300 ms to answer it for folders whose STATUS commands together took
   * 10 ms. */
  condstore = tern_imap_client_is_enabled (sync.client, "CONDSTORE");
  if (condstore && (known = status_known (&sync, error)) == NULL)
    return FALSE;
  mailboxes = tern_imap_client_list (sync.client, 0, cancellable, error);
  if (mailboxes == NULL ||
      (condstore && !status_listed (&sync, known, mailboxes, error)) ||
      !store_folders (&sync, mailboxes, error))
    return FALSE;
  folders = tern_mail_store_list_folders (sync.store, tern_account_get_id (account), error);
  if (folders == NULL)
    return FALSE;
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < mailboxes->len; i++)
    {
      TernImapMailbox *mailbox = g_ptr_array_index (mailboxes, i);

      g_hash_table_insert (by_name, mailbox->name, &mailbox->status);
    }
  shared.folders = folders;
  shared.by_name = by_name;
  if (second_connection_pays (&sync))
    helper = helper_start (&sync);
  ok = sync_folders (&sync, error);
  if (helper != NULL)
    ok = helper_finish (helper, &sync, ok, error);
  if (!ok)
    return FALSE;

  /* A polite goodbye; the sync is complete whatever the server answers. */
  tern_imap_client_logout (sync.client, cancellable, NULL);
  /* Bodies become searchable now; an index that fails to keep up is not
   * the sync's failure, and the next sync or search catches up. */
  if (bodies != TERN_IMAP_SYNC_BODIES_NONE)
    {
      g_autoptr(GError) index_error = NULL;

      if (!tern_search_index_bodies (sync.store, NULL, cancellable, &index_error))
        g_debug ("Bodies not indexed yet: %s", index_error->message);
    }
  sync.stats.seconds = (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC;
  if (stats != NULL)
    *stats = sync.stats;
  if (sync.refused != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&sync.refused));
      return FALSE;
    }
  return TRUE;
}

GBytes *
tern_imap_sync_fetch_body (TernContext   *context,
                           gint64         message_id,
                           GCancellable  *cancellable,
                           GError       **error)
{
  TernStore *store;
  g_autoptr(GBytes) cached = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(TernImapClient) client = NULL;
  g_autofree char *account_key = NULL;
  TernAccount *account;
  TernImapSelectParams params = { 0 };
  TernImapSelected selected = { 0 };
  TernMailBodyRef ref;
  GBytes *bytes;

  g_return_val_if_fail (TERN_IS_CONTEXT (context), NULL);

  store = tern_context_get_store (context);
  cached = tern_mail_store_get_body (store, message_id, &local_error);
  if (cached != NULL)
    return g_steal_pointer (&cached);
  if (local_error != NULL)
    {
      /* A file that went missing is fetched again. */
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_clear_error (&local_error);
    }

  message = tern_mail_store_get_message (store, message_id, error);
  folder = message ? tern_mail_store_get_folder (store, message->folder_id, error) : NULL;
  if (folder == NULL)
    return NULL;
  account_key = g_strdup_printf ("%" G_GINT64_FORMAT, folder->account_id);
  account = tern_account_manager_lookup (tern_context_get_accounts (context), account_key);
  if (account == NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("No such account"));
      return NULL;
    }

  client = tern_imap_session_open (context, account, cancellable, error);
  if (client == NULL)
    return NULL;
  params.uidvalidity = folder->uidvalidity;
  if (!tern_imap_client_select (client, folder->name, TRUE, &params, &selected, cancellable, error))
    return NULL;
  if (selected.uidvalidity != folder->uidvalidity)
    {
      tern_imap_selected_clear (&selected);
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("The folder %s changed on the server; sync it and try again"), folder->name);
      return NULL;
    }
  tern_imap_selected_clear (&selected);

  ref.id = message->id;
  ref.uid = message->uid;
  ref.size = message->size;
  bytes = download_body (context, client, folder->id, &ref, TRUE, cancellable, error);
  tern_imap_client_logout (client, cancellable, NULL);
  return bytes;
}
