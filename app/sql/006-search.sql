-- Schema version 6: what search needs to count its matches fast.

-- A search counts its full-text matches in a folder or account by
-- looking up each match's folder in this narrow index (tern-search.c,
-- COUNT_ROWS_SQL).  Migration 005 makes it; profiles made while 005 was
-- being written may not have it, and a search in a 100,000-message folder
-- then reads every matching row instead.
CREATE INDEX IF NOT EXISTS messages_id_folder ON messages (id, folder_id);
