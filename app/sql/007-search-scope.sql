-- Schema version 7: the full-text index knows each message's folder and
-- account, so that a search in one of them is counted by FTS5 alone.

-- A search in a folder used to look up the folder of every full-text
-- match (38,000 for a common word in a folder of 100,000: most of its
-- time).  The new column scope holds two tokens, U+E000 'f' folder id and
-- U+E000 'a' account id; tern-search.c adds the one of its scope to the
-- query, and FTS5 intersects the two doclists.  U+E000 is a private-use
-- character, a token character for unicode61, which the search parser
-- takes out of what the user types: no word matches a scope token.
-- Writers of messages_fts set scope with the same expression
-- (tern-mail-store.c, tern-search-index.c).
--
-- FTS5 cannot add a column: the index is written again from its own
-- content, in one statement (100,000 messages with bodies: about 22 s of
-- CPU).  The old index's pages become free pages, which the file reuses;
-- with secure_delete (Debian's SQLite has it on) the DROP would write
-- every one of them with zeros and keep its old content in the statement
-- journal, in memory: 900 MB for 100,000 bodies.  The same text is in the
-- new index, so nothing is left readable that was not already.  Not
-- followed by 'optimize' either: in the same transaction, it rewrites as
-- many pages again.
DROP TRIGGER messages_fts_delete;
ALTER TABLE messages_fts RENAME TO messages_fts_old;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  subject, sender, recipients, body, scope,
  tokenize = 'tern_fold unicode61 remove_diacritics 2',
  prefix = '2 3'
);
INSERT INTO messages_fts (rowid, subject, sender, recipients, body, scope)
  SELECT o.rowid, o.subject, o.sender, o.recipients, o.body,
         char (57344) || 'f' || m.folder_id || ' ' || char (57344) || 'a' || f.account_id
  FROM messages_fts_old o JOIN messages m ON m.id = o.rowid JOIN folders f ON f.id = m.folder_id;
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

-- Only the search's count used it (migrations 005 and 006).
DROP INDEX IF EXISTS messages_id_folder;
