-- Schema version 3: the UIDLs a POP3 account has downloaded, kept after
-- their messages are gone, the way Thunderbird keeps popstate.dat.
--
-- Without this, a message deleted for good (expunged from Trash) while it
-- is left on the server is downloaded again on the next run.  A UIDL is new
-- only when it is not here.  first_seen (seconds since the epoch) is when
-- it was first stored: delete-after-N-days counts from it.  The download
-- removes the UIDLs the server no longer lists after a session that ended
-- with QUIT.  For servers without UIDL, uidl holds a digest of the header
-- ("tern-sha256:...", see tern-pop3-download.h).
CREATE TABLE pop3_seen (
  account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  uidl                TEXT    NOT NULL,
  first_seen          INTEGER NOT NULL,
  PRIMARY KEY (account_id, uidl)
) WITHOUT ROWID;

-- Filled in the transaction that stores the message: a message row with a
-- UIDL and its record here are committed together or not at all.  A copy
-- of the row in another folder keeps the first record.
CREATE TRIGGER messages_pop3_seen AFTER INSERT ON messages
WHEN new.pop3_uidl IS NOT NULL BEGIN
  INSERT OR IGNORE INTO pop3_seen (account_id, uidl, first_seen)
    SELECT account_id, new.pop3_uidl,
           coalesce (new.internal_date, CAST (strftime ('%s', 'now') AS INTEGER))
    FROM folders WHERE id = new.folder_id;
END;

-- Profiles from before: what their folders hold has been seen, first at
-- its download time (internal_date).
INSERT OR IGNORE INTO pop3_seen (account_id, uidl, first_seen)
  SELECT folders.account_id, messages.pop3_uidl,
         min (coalesce (messages.internal_date, CAST (strftime ('%s', 'now') AS INTEGER)))
  FROM messages JOIN folders ON folders.id = messages.folder_id
  WHERE messages.pop3_uidl IS NOT NULL
  GROUP BY folders.account_id, messages.pop3_uidl;
