-- Schema version 5: what the message list and search need.

-- The message list pages through a folder by keyset: (key, id) after the
-- last row it holds.  The keys are the expressions tern-message-list.c
-- sorts by; an index entry ends in the rowid, so a scan in either
-- direction is in (key, id) order and a page costs its own rows.
CREATE INDEX messages_folder_sort_date
  ON messages (folder_id, coalesce (date, internal_date, 0));
CREATE INDEX messages_folder_sort_sender
  ON messages (folder_id, coalesce (from_name, from_address, '') COLLATE NOCASE);
CREATE INDEX messages_folder_sort_subject
  ON messages (folder_id, coalesce (subject, '') COLLATE NOCASE);
-- Several folders (All Inboxes) and searches everywhere, newest first.
CREATE INDEX messages_sort_date ON messages (coalesce (date, internal_date, 0));
-- Conversations: the threads that have messages in a folder.
CREATE INDEX messages_folder_thread ON messages (folder_id, thread_id);
-- A search in a folder checks the folder of every full-text match: from
-- this narrow index rather than from the wide rows (a third faster at 100k).
CREATE INDEX messages_id_folder ON messages (id, folder_id);

-- Conversations of a folder: per thread, its messages there, the newest
-- date and the newest message, kept by the triggers below, so that a
-- folder's conversations page by index like its messages instead of being
-- grouped from every row.  thread_key is the thread, or -id for a message
-- without one (a conversation of its own).
CREATE TABLE folder_threads (
  folder_id           INTEGER NOT NULL,
  thread_key          INTEGER NOT NULL,
  last_date           INTEGER NOT NULL,
  latest_id           INTEGER NOT NULL,
  message_count       INTEGER NOT NULL,
  PRIMARY KEY (folder_id, thread_key)
) WITHOUT ROWID;
CREATE INDEX folder_threads_date ON folder_threads (folder_id, last_date);

INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id, message_count)
  SELECT folder_id, coalesce (thread_id, -id), max (coalesce (date, internal_date, 0)), id,
         count (*)
  FROM messages GROUP BY folder_id, coalesce (thread_id, -id);

CREATE TRIGGER folder_threads_insert AFTER INSERT ON messages BEGIN
  INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id, message_count)
    VALUES (new.folder_id, coalesce (new.thread_id, -new.id),
            coalesce (new.date, new.internal_date, 0), new.id, 1)
    ON CONFLICT (folder_id, thread_key) DO UPDATE SET
      message_count = message_count + 1,
      latest_id = CASE WHEN excluded.last_date > last_date
                         OR (excluded.last_date = last_date AND excluded.latest_id > latest_id)
                       THEN excluded.latest_id ELSE latest_id END,
      last_date = max (last_date, excluded.last_date);
END;

-- A message leaving a conversation (deleted, moved, or given its thread
-- after the insert, as the mail store does): one fewer; the newest is
-- looked up again if it was this one.
CREATE TRIGGER folder_threads_delete AFTER DELETE ON messages BEGIN
  UPDATE folder_threads SET message_count = message_count - 1
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id);
  DELETE FROM folder_threads
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id)
      AND message_count <= 0;
  UPDATE folder_threads SET (last_date, latest_id) =
      (SELECT coalesce (m.date, m.internal_date, 0), m.id FROM messages m
       WHERE m.folder_id = old.folder_id AND m.thread_id = old.thread_id
       ORDER BY 1 DESC, 2 DESC LIMIT 1)
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id)
      AND latest_id = old.id;
END;

CREATE TRIGGER folder_threads_update AFTER UPDATE OF folder_id, thread_id ON messages
WHEN old.folder_id IS NOT new.folder_id OR old.thread_id IS NOT new.thread_id BEGIN
  UPDATE folder_threads SET message_count = message_count - 1
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id);
  DELETE FROM folder_threads
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id)
      AND message_count <= 0;
  UPDATE folder_threads SET (last_date, latest_id) =
      (SELECT coalesce (m.date, m.internal_date, 0), m.id FROM messages m
       WHERE m.folder_id = old.folder_id AND m.thread_id = old.thread_id
       ORDER BY 1 DESC, 2 DESC LIMIT 1)
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id)
      AND latest_id = old.id;
  INSERT INTO folder_threads (folder_id, thread_key, last_date, latest_id, message_count)
    VALUES (new.folder_id, coalesce (new.thread_id, -new.id),
            coalesce (new.date, new.internal_date, 0), new.id, 1)
    ON CONFLICT (folder_id, thread_key) DO UPDATE SET
      message_count = message_count + 1,
      latest_id = CASE WHEN excluded.last_date > last_date
                         OR (excluded.last_date = last_date AND excluded.latest_id > latest_id)
                       THEN excluded.latest_id ELSE latest_id END,
      last_date = max (last_date, excluded.last_date);
END;

-- Cached bodies whose text is in messages_fts.body (tern-search.c fills
-- it after syncs cache bodies).
CREATE TABLE search_bodies (
  message_id          INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE
);

-- unicode61 folds case and Latin diacritics but not ё to е, which Russian
-- text uses interchangeably: the index is rebuilt with tern_fold, a
-- tokenizer registered on every connection of the store that wraps
-- unicode61 and folds ё.  Prefix indexes make search-as-you-type cheap.
CREATE TEMP TABLE fts_copy AS
  SELECT rowid AS id, subject, sender, recipients, body FROM messages_fts;
DROP TRIGGER messages_fts_delete;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  subject, sender, recipients, body,
  tokenize = 'tern_fold unicode61 remove_diacritics 2',
  prefix = '2 3'
);
INSERT INTO messages_fts (rowid, subject, sender, recipients, body)
  SELECT id, subject, sender, recipients, body FROM temp.fts_copy;
DROP TABLE temp.fts_copy;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts WHERE rowid = old.id;
END;
