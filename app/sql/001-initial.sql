-- Tern's profile database, schema version 1.
--
-- The server is the truth for IMAP accounts: what is here is a cache that a
-- sync can rebuild.  What only exists here (POP3 mail, the outbox, offline
-- operations not yet replayed, accepted certificates) must survive crashes:
-- the store runs with WAL and synchronous=FULL.

CREATE TABLE accounts (
  id                  INTEGER PRIMARY KEY,
  uuid                TEXT    NOT NULL UNIQUE,
  display_name        TEXT    NOT NULL,
  address             TEXT    NOT NULL,
  incoming_protocol   TEXT    NOT NULL CHECK (incoming_protocol IN ('imap', 'pop3')),
  incoming_host       TEXT    NOT NULL,
  incoming_port       INTEGER NOT NULL CHECK (incoming_port BETWEEN 1 AND 65535),
  incoming_security   TEXT    NOT NULL CHECK (incoming_security IN ('tls', 'starttls', 'plain')),
  incoming_username   TEXT    NOT NULL,
  incoming_auth       TEXT,            -- SASL mechanism, NULL: best offered
  smtp_host           TEXT,            -- NULL: the account cannot send
  smtp_port           INTEGER CHECK (smtp_port BETWEEN 1 AND 65535),
  smtp_security       TEXT    CHECK (smtp_security IN ('tls', 'starttls', 'plain')),
  smtp_username       TEXT,
  smtp_auth           TEXT,
  password_command    TEXT,            -- NULL: the password is in the Secret Service
  options             TEXT    NOT NULL DEFAULT '', -- GKeyFile text, per-protocol options
  position            INTEGER NOT NULL DEFAULT 0,
  created             INTEGER NOT NULL
);

CREATE TABLE folders (
  id                  INTEGER PRIMARY KEY,
  account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name                TEXT    NOT NULL, -- full name, UTF-8 (decoded from modified UTF-7)
  delimiter           TEXT,
  role                TEXT    CHECK (role IN ('inbox', 'drafts', 'sent', 'trash', 'junk',
                                              'archive', 'all', 'flagged', 'outbox')),
  attributes          INTEGER NOT NULL DEFAULT 0, -- \Noselect, \HasChildren, ... as bits
  subscribed          INTEGER NOT NULL DEFAULT 1,
  uidvalidity         INTEGER,
  uidnext             INTEGER,
  highestmodseq       INTEGER,
  total_count         INTEGER NOT NULL DEFAULT 0,
  unread_count        INTEGER NOT NULL DEFAULT 0,
  last_sync           INTEGER,
  UNIQUE (account_id, name)
);

CREATE TABLE threads (
  id                  INTEGER PRIMARY KEY,
  account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  subject             TEXT,
  last_date           INTEGER,
  message_count       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
  id                  INTEGER PRIMARY KEY,
  folder_id           INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
  uid                 INTEGER,          -- IMAP UID; NULL for local (POP3) mail
  pop3_uidl           TEXT,             -- POP3 UIDL; stored exactly once per folder
  flags               INTEGER NOT NULL DEFAULT 0, -- \Seen \Answered \Flagged \Deleted \Draft bits
  keywords            TEXT,             -- other flags, space separated
  modseq              INTEGER,
  internal_date       INTEGER,
  date                INTEGER,          -- Date: header, seconds since the epoch (UTC)
  size                INTEGER,
  subject             TEXT,
  from_name           TEXT,
  from_address        TEXT,
  to_list             TEXT,             -- RFC 5322 address list, UTF-8
  cc_list             TEXT,
  reply_to            TEXT,
  message_id          TEXT,
  in_reply_to         TEXT,
  references_list     TEXT,
  list_id             TEXT,
  thread_id           INTEGER REFERENCES threads (id) ON DELETE SET NULL,
  has_attachments     INTEGER NOT NULL DEFAULT 0,
  bodystructure       BLOB,
  preview             TEXT
);
CREATE UNIQUE INDEX messages_folder_uid ON messages (folder_id, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX messages_folder_uidl ON messages (folder_id, pop3_uidl) WHERE pop3_uidl IS NOT NULL;
CREATE INDEX messages_folder_date ON messages (folder_id, date DESC);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_thread ON messages (thread_id);

-- The raw message, when it has been downloaded.  Large ones live in files
-- under the profile directory (path) rather than in the database.
CREATE TABLE bodies (
  message_id          INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  data                BLOB,
  path                TEXT,
  size                INTEGER NOT NULL,
  fetched             INTEGER NOT NULL,
  CHECK ((data IS NULL) != (path IS NULL))
);

-- MIME parts as the server or GMime described them; data when cached.
CREATE TABLE parts (
  id                  INTEGER PRIMARY KEY,
  message_id          INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  section             TEXT    NOT NULL, -- IMAP section number, "1.2"
  content_type        TEXT    NOT NULL,
  charset             TEXT,
  encoding            TEXT,
  disposition         TEXT,
  filename            TEXT,
  content_id          TEXT,
  size                INTEGER,
  data                BLOB,
  UNIQUE (message_id, section)
);

-- Messages waiting to be submitted.  A row moves queued -> sending -> sent
-- (or failed); a row found in 'sending' at start-up is checked against the
-- server before it is tried again, so nothing is sent twice.
CREATE TABLE outbox (
  id                  INTEGER PRIMARY KEY,
  account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  state               TEXT    NOT NULL DEFAULT 'queued'
                              CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  message_id_header   TEXT    NOT NULL UNIQUE,
  envelope_from       TEXT    NOT NULL,
  recipients          TEXT    NOT NULL, -- one address per line
  data                BLOB    NOT NULL,
  attempts            INTEGER NOT NULL DEFAULT 0,
  last_error          TEXT,
  next_attempt        INTEGER,
  created             INTEGER NOT NULL
);

-- Changes made while offline, replayed in id order when the server is back.
CREATE TABLE pending_operations (
  id                  INTEGER PRIMARY KEY,
  account_id          INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  folder_id           INTEGER REFERENCES folders (id) ON DELETE CASCADE,
  kind                TEXT    NOT NULL CHECK (kind IN ('flags', 'move', 'copy', 'expunge',
                                                       'append', 'create-folder',
                                                       'delete-folder', 'rename-folder')),
  payload             TEXT    NOT NULL DEFAULT '',
  attempts            INTEGER NOT NULL DEFAULT 0,
  last_error          TEXT,
  created             INTEGER NOT NULL
);
CREATE INDEX pending_operations_account ON pending_operations (account_id, id);

-- Certificates the user accepted although they did not verify: exactly one
-- certificate (its SHA-256) for exactly one host and port.
CREATE TABLE certificate_pins (
  host                TEXT    NOT NULL,
  port                INTEGER NOT NULL,
  sha256              TEXT    NOT NULL,
  accepted            INTEGER NOT NULL,
  PRIMARY KEY (host, port)
);

-- Full-text index over what a user searches; rowid = messages.id.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  subject, sender, recipients, body,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts WHERE rowid = old.id;
END;
