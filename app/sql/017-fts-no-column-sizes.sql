-- Schema version 17: the full-text index no longer keeps each row's
-- column sizes (columnsize = 0).
--
-- FTS5 stores the number of tokens of every column of every row in
-- messages_fts_docsize, for bm25 () and xColumnSize (); Tern ranks nothing
-- by relevance (a search's results come in the message list's order,
-- tern-search.c) and asks for no sizes.  That table was a row and a statement for every message
-- indexed: 39 of the 1,034 million instructions of the writer thread in a
-- header sync of 10,800 messages (callgrind), and as much for every body
-- indexed.  Phrases, prefixes, NEAR and column filters do not need it.
--
-- An option of CREATE VIRTUAL TABLE only, so the index is written again
-- from its own content as migration 009 did (its comments say why the
-- DROP runs with secure_delete = FAST and why the triggers go first), and
-- the automerge of migration 015 is set again on the new table.
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_move;
ALTER TABLE messages_fts RENAME TO messages_fts_old;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  subject, sender, recipients, body, scope,
  tokenize = 'tern_fold unicode61 remove_diacritics 2',
  prefix = '2',
  columnsize = 0
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 16);
INSERT INTO messages_fts (rowid, subject, sender, recipients, body, scope)
  SELECT rowid, subject, sender, recipients, body, scope FROM messages_fts_old;
PRAGMA secure_delete = FAST;
DROP TABLE messages_fts_old;
PRAGMA secure_delete = ON;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts WHERE rowid = old.id;
END;
-- A message moved to another folder (tern-offline-queue.c) is found there.
CREATE TRIGGER messages_fts_move AFTER UPDATE OF folder_id ON messages
WHEN new.folder_id IS NOT old.folder_id BEGIN
  UPDATE messages_fts
    SET scope = (SELECT char (57344) || 'f' || f.id || ' ' || char (57344) || 'a' || f.account_id
                 FROM folders f WHERE f.id = new.folder_id)
    WHERE rowid = new.id;
END;
