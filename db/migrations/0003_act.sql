-- Hookflow schema, version 3: acting workflows (product.md §13, §14).
--
-- The executions table stays the queue, now with due times and leases: a
-- queued, waiting or running row is due at due_at (queued: when it was
-- queued; waiting: when its delay or retry ends; running: when its lease
-- expires), and whoever claims it when due leases it (lease_owner) until
-- its new due_at, renewed while it runs. An expired lease makes the row due
-- again, so work of a dead process is taken over.
ALTER TABLE executions ADD COLUMN due_at INTEGER;
ALTER TABLE executions ADD COLUMN lease_owner TEXT;
-- The execution this one replays (§14), or NULL.
ALTER TABLE executions ADD COLUMN replay_of INTEGER;

UPDATE executions SET due_at = created_at WHERE status IN ('queued', 'running');

DROP INDEX executions_pending;
-- The claim and the next-due lookup walk this partial index: it holds only
-- the pending rows, however many finished ones are stored.
CREATE INDEX executions_due ON executions (due_at) WHERE status IN ('queued', 'running', 'waiting');
CREATE INDEX executions_replays ON executions (replay_of) WHERE replay_of IS NOT NULL;
