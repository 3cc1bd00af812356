-- Schema version 13: a new message's conversation row (folder_threads)
-- and its POP3 UIDL (pop3_seen) are written by the code that inserts it,
-- not by AFTER INSERT triggers on messages.
--
-- A trigger makes every INSERT into messages run a sub-program, and makes
-- SQLite open a statement journal for it: each page the INSERT changes is
-- first copied into that journal.  A first header sync of 10,800 messages
-- with the two triggers dropped and their work done by the store: 3,558 ->
-- 3,170 million instructions (callgrind, all threads), -11 %.
--
-- Every INSERT into messages must therefore count the row in
-- folder_threads itself: tern-mail-store.c (add_one_message) and
-- tern-offline-queue.c (copies and appends) do, through
-- _tern_mail_store_count_conversation () and its SQL.  Deletes and moves
-- keep their triggers: they are rare and row by row.
DROP TRIGGER IF EXISTS folder_threads_insert;
DROP TRIGGER IF EXISTS messages_pop3_seen;
