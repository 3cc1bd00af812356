-- Schema version 10: messages_folder_date goes.
--
-- Its only reader was the list of a folder's messages of tern-cli, which
-- now orders them as the message list does, by coalesce (date,
-- internal_date, 0), with messages_folder_sort_date (migration 005).
-- Every message stored kept it up to date, and a first sync built it
-- again: one of seven indexes of messages it left out (migration 008).
-- A sync killed while it was left out recorded it in deferred_indexes,
-- which would build it again at the next start.
DROP INDEX IF EXISTS messages_folder_date;
DELETE FROM deferred_indexes WHERE name = 'messages_folder_date';
