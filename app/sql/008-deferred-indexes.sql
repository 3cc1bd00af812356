-- Schema version 8: indexes left out while a first sync fills the store.
--
-- A first sync of a large folder inserts every row once, keyed at random
-- in most indexes of messages (sender, subject, dates...), so each batch's
-- commit rewrote pages all over them.  tern_store_defer_indexes() drops
-- such indexes and records their definitions here in the same
-- transaction; tern_store_restore_indexes() creates them again, one sort
-- each, and deletes the rows in its transaction.  The store opens with a
-- restore: a sync killed while the indexes were out leaves them here, and
-- the next start builds them.  The indexes are only ever accelerators:
-- without them every query gives the same rows, slower.
CREATE TABLE deferred_indexes (
  name                TEXT    PRIMARY KEY,
  sql                 TEXT    NOT NULL
) WITHOUT ROWID;
