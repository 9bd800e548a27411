-- Hookflow schema, version 1. Times are INTEGER unix milliseconds.

CREATE TABLE workflows (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    title           TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    enabled         INTEGER NOT NULL,
    revision        INTEGER NOT NULL,
    execution_count INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every saved document is an immutable revision.
CREATE TABLE workflow_revisions (
    workflow_id INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL,
    document    TEXT    NOT NULL, -- JSON, without the Basic Auth password
    secret      BLOB,             -- the Basic Auth password, encrypted
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, revision)
);

-- One row per execution; the queued rows are the async work queue.
CREATE TABLE executions (
    id          INTEGER PRIMARY KEY,
    workflow_id INTEGER NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    body        BLOB    NOT NULL,
    context     TEXT    NOT NULL, -- {"headers","query","body"} as parsed
    jobs        TEXT,             -- JSON array of jobs
    response    TEXT,             -- JSON reply sent or decided
    error       TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
-- One index serves a workflow's list, newest first, with or without a status
-- filter: the status is read from the index, not the row. An index keyed by
-- (workflow_id, status, id) would find rare statuses faster, but every run
-- would move its entry across the tree (running -> resolved); with status
-- last, the entry is rewritten in place, which keeps the hot path cheap.
CREATE INDEX executions_by_workflow ON executions (workflow_id, id, status);
CREATE INDEX executions_pending ON executions (status, id) WHERE status IN ('queued', 'running');

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    signed_in_at  INTEGER           -- last successful sign-in
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY, -- sha256 of the cookie value, hex
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE, -- sha256 of the token, hex
    prefix       TEXT    NOT NULL,        -- first characters, to recognise it
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
