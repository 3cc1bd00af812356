-- Schema version 16: the indexes of the sender and subject orders are
-- built when a message list first sorts by them (tern-message-list.c).
--
-- Most people read their mail by date.  Kept for every profile, these two
-- indexes put every stored message into two b-trees keyed at random, and a
-- first sync, which builds its indexes once at the end, spent most of
-- that time on one core sorting their NOCASE keys: at 108,000 messages,
-- 0.18-0.23 s and 0.23-0.27 s of the 0.67-0.75 s of builds.  A list
-- without its index reads the same rows in the same order by sorting
-- them; the index is made in the background the first time it is wanted,
-- and kept.  A first sync leaves it out and builds it again like the
-- others (tern-mail-store.c).
DROP INDEX IF EXISTS messages_folder_sort_sender;
DROP INDEX IF EXISTS messages_folder_sort_subject;
DELETE FROM deferred_indexes
  WHERE name IN ('messages_folder_sort_sender', 'messages_folder_sort_subject');
