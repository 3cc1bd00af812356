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
