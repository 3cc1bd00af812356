-- Schema version 12: the Message-ID and In-Reply-To indexes hold only the
-- rows that have one.
--
-- They serve the thread lookups of a new message (tern-mail-store.c,
-- thread_by_id and thread_by_parent) and the outbox's search for its sent
-- copy, all by equality, which SQLite knows implies IS NOT NULL: the
-- partial indexes serve them the same.  Most messages start a thread and
-- have no In-Reply-To (six in ten of the benchmark's corpus); each was an
-- entry written for nothing.  A first header sync of 10,800 messages:
-- the writer thread's instructions 2,013 -> 1,950 million (callgrind).
DROP INDEX messages_message_id;
CREATE INDEX messages_message_id ON messages (message_id) WHERE message_id IS NOT NULL;
DROP INDEX messages_in_reply_to;
CREATE INDEX messages_in_reply_to ON messages (in_reply_to) WHERE in_reply_to IS NOT NULL;
