-- Schema version 18: a folder's unread messages counted from an index.
--
-- _tern_mail_store_recount () counts a folder's messages and its unread
-- ones after each sync that changed the folder.  Flags are in no other
-- index, so the unread count read every row of the folder: 35-49 ms for
-- 100,000 messages at the end of a first sync, where nothing else runs,
-- and as much after each later sync that brings one new message.  This
-- index holds the unread messages alone, keyed with their flags so that
-- the count reads nothing else (TERN_MAIL_STORE_UNREAD_SQL, whose terms
-- are this WHERE's): a few milliseconds.  A first sync leaves it out and
-- builds it with the others (tern-mail-store.c).
CREATE INDEX IF NOT EXISTS messages_folder_unread ON messages (folder_id, flags)
  WHERE (flags & 1) = 0 AND (flags & 8) = 0;
