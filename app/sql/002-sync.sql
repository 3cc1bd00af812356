-- Schema version 2: what the IMAP sync needs to thread and clean up fast.

-- A message whose parent arrives later (syncs fetch newest first) is found
-- by the parent's Message-ID.
CREATE INDEX messages_in_reply_to ON messages (in_reply_to);

-- Subject fallback for replies without References/In-Reply-To; the subject
-- is stored without Re:/Fwd: prefixes.
CREATE INDEX threads_account_subject ON threads (account_id, subject);

-- Threads count their messages; an empty thread goes away.
CREATE TRIGGER messages_thread_delete AFTER DELETE ON messages
WHEN old.thread_id IS NOT NULL BEGIN
  UPDATE threads SET message_count = message_count - 1 WHERE id = old.thread_id;
  DELETE FROM threads WHERE id = old.thread_id AND message_count <= 0;
END;
