-- Schema version 4: an outbox row that may have been sent.
--
-- A row found `sending` when a flush starts was interrupted between writing
-- its data and recording the server's answer.  It becomes `failed` with
-- may_have_been_sent = 1: "send now" puts other failed rows back in the
-- queue, but this one only when the user insists (tern_outbox_retry_now()
-- with force), because the recipients may have it already.
ALTER TABLE outbox ADD COLUMN may_have_been_sent INTEGER NOT NULL DEFAULT 0;
