-- Hookflow schema, version 4: activity counters for the charts of the
-- executions page, the workflows list and the editor's header. They are
-- kept by the writes themselves (one upsert per workflow and bucket per
-- group commit), so that a page never counts executions.
CREATE TABLE activity (
    workflow_id INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    span        INTEGER NOT NULL, -- bucket length in seconds: 60 or 3600
    start       INTEGER NOT NULL, -- bucket start, unix milliseconds
    requests    INTEGER NOT NULL DEFAULT 0, -- executions created (requests accepted)
    resolved    INTEGER NOT NULL DEFAULT 0, -- finished resolved
    failed      INTEGER NOT NULL DEFAULT 0, -- finished failed, error or aborted
    rejected    INTEGER NOT NULL DEFAULT 0, -- refused requests (401, 403, 400, 413)
    -- Flow durations of the finished ones, hour buckets only: counts per
    -- duration class (engine.DurationBounds), for p50/p99.
    durations   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (workflow_id, span, start)
) WITHOUT ROWID;
-- Retention and the workflows list read one span over a time range.
CREATE INDEX activity_by_time ON activity (span, start);
