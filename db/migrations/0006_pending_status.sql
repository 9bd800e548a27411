-- Hookflow schema, version 6: the queue gauges of /metrics (product.md §15)
-- count the pending executions by status at every scrape. With the status
-- in the partial index executions_due, they are counted from the index
-- alone: about 20 ms for 100,000 waiting rows, against 125 ms when every
-- row is read for its status. The claim and the next-due lookup still walk
-- it by due time, and a row's entry was rewritten at every change of
-- status anyway (its due time changes with it, or it leaves the index).
DROP INDEX executions_due;
CREATE INDEX executions_due ON executions (due_at, status) WHERE status IN ('queued', 'running', 'waiting');
