-- Schema version 14: when the newest message of a conversation leaves a
-- folder (deleted, expunged, moved), its next newest is found through the
-- thread's messages, not by walking the folder from its newest message.
--
-- The triggers of migration 005 ordered that lookup by the date key, so
-- SQLite read messages_folder_sort_date (folder_id, date) from the top
-- and stopped at the first row of the thread: for an old conversation in
-- a folder of 100,000 messages that walked nearly all of them, 51 ms per
-- row deleted, where (folder_id, thread_id) finds its few rows in 1 ms.
-- The unary + makes the date an expression no index orders by, so the
-- thread's rows are read from messages_folder_thread and sorted.
DROP TRIGGER folder_threads_delete;
DROP TRIGGER folder_threads_update;

CREATE TRIGGER folder_threads_delete AFTER DELETE ON messages BEGIN
  UPDATE folder_threads SET message_count = message_count - 1
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id);
  DELETE FROM folder_threads
    WHERE folder_id = old.folder_id AND thread_key = coalesce (old.thread_id, -old.id)
      AND message_count <= 0;
  UPDATE folder_threads SET (last_date, latest_id) =
      (SELECT coalesce (m.date, m.internal_date, 0), m.id FROM messages m
       WHERE m.folder_id = old.folder_id AND m.thread_id = old.thread_id
       ORDER BY +coalesce (m.date, m.internal_date, 0) DESC, m.id DESC LIMIT 1)
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
       ORDER BY +coalesce (m.date, m.internal_date, 0) DESC, m.id DESC LIMIT 1)
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
