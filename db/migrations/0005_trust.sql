-- Hookflow schema, version 5: trusting the sender (product.md §11, §12).

-- Every secret of a revision's document (the Basic Auth password, the
-- verify secrets), as the encrypted JSON of engine.Secrets. Revisions
-- written before this version keep their Basic Auth password alone in
-- secret (encrypted, so it cannot be converted here, without the key);
-- new revisions set secrets and leave secret NULL.
ALTER TABLE workflow_revisions ADD COLUMN secrets BLOB;

-- How many requests were recognised as duplicates of this execution (§12).
ALTER TABLE executions ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
-- The dedupe key the execution holds (the first 16 bytes of the SHA-256 of
-- the rendered key) and until when (unix ms), NULL when none: written with
-- the execution, so that the key is as durable as its request.
ALTER TABLE executions ADD COLUMN dedupe_key BLOB;
ALTER TABLE executions ADD COLUMN dedupe_expires INTEGER;

-- The index of dedupe keys received within their window (§12): one row per
-- key per workflow, pointing at the execution that received it first.
-- Every fresh key lands at a random place of it, so keys are merged into it
-- in bulk, in key order, a moment after their executions are stored; the
-- store keeps the newest ones in memory meanwhile (db/dedupe.go).
CREATE TABLE dedupe_keys (
    workflow_id  INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    key_hash     BLOB    NOT NULL,
    execution_id INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, key_hash)
) WITHOUT ROWID;
-- Retention deletes expired keys oldest first.
CREATE INDEX dedupe_keys_expiry ON dedupe_keys (expires_at);
-- When keys were last merged: a start-up after a crash reads back the keys
-- of the executions stored since shortly before (merged_at, unix ms).
CREATE TABLE dedupe_state (merged_at INTEGER NOT NULL);
INSERT INTO dedupe_state (merged_at) VALUES (0);

-- The last rejections of each workflow's public endpoint (§11): 401, 403,
-- 400 and 413 replies, without body or credentials. Each workflow keeps
-- its newest 100. A burst is recorded in part: count is how many refusals
-- a row stands for (itself and those left out since the row before).
CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY,
    workflow_id INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    client      TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    count       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX rejections_by_workflow ON rejections (workflow_id, id);
