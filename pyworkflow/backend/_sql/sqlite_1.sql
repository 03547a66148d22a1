-- Schema version 1 for SQLite. Times are integer microseconds since the Unix
-- epoch (UTC): exact, cheap to compare, and BIGINT in PostgreSQL. Payloads,
-- tags, results and events are JSON text (see pyworkflow.codec).
--
-- Each queue and deadline has its own index, so that claiming a task and
-- finding what is due cost the same with ten or a hundred thousand open
-- processes. Partial indexes keep them holding only the rows they serve.

CREATE TABLE pyworkflow_schema (
    version INTEGER NOT NULL
);

-- One row per run of a process; seq orders runs, and decisions of equal ready time.
CREATE TABLE runs (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    process_id TEXT NOT NULL,
    workflow TEXT NOT NULL,
    category TEXT NOT NULL,
    decision_timeout REAL NOT NULL,
    started_at INTEGER NOT NULL,
    input TEXT,
    tags TEXT NOT NULL,
    parent_id TEXT,
    parent_run TEXT,
    child_policy TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    closed_at INTEGER,
    timeout_at INTEGER,
    decision TEXT NOT NULL,
    decision_ready_at INTEGER,
    decision_token TEXT,
    decision_deadline INTEGER,
    decision_again INTEGER NOT NULL,
    decision_failures INTEGER NOT NULL,
    decision_attempts INTEGER NOT NULL,
    due_at INTEGER
);
CREATE UNIQUE INDEX runs_open_process ON runs (process_id) WHERE status = 'open';
CREATE INDEX runs_by_process ON runs (process_id, seq);
CREATE INDEX runs_decision_queue ON runs (category, decision_ready_at, seq)
    WHERE decision = 'scheduled';
CREATE INDEX runs_delayed_decisions ON runs (decision_ready_at)
    WHERE decision = 'scheduled' AND decision_failures > 0;
CREATE INDEX runs_due ON runs (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX runs_open_children ON runs (parent_run) WHERE status = 'open';
CREATE INDEX runs_by_status ON runs (status, workflow);

-- A run's history, in order.
CREATE TABLE events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- Open activity executions; seq is the order they were scheduled in.
CREATE TABLE activities (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    process_id TEXT NOT NULL,
    activity TEXT NOT NULL,
    category TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    schedule_deadline INTEGER NOT NULL,
    execution_timeout REAL NOT NULL,
    heartbeat_timeout REAL NOT NULL,
    input TEXT,
    state TEXT NOT NULL,
    token TEXT,
    attempt INTEGER NOT NULL,
    started_at INTEGER,
    execution_deadline INTEGER,
    heartbeat_deadline INTEGER,
    cancel_requested INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    UNIQUE (run_id, activity_id)
);
CREATE INDEX activities_queue ON activities (category, seq) WHERE state = 'scheduled';
CREATE INDEX activities_due ON activities (due_at);

CREATE TABLE timers (
    run_id TEXT NOT NULL,
    timer_id TEXT NOT NULL,
    timer TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, timer_id)
);
CREATE INDEX timers_due ON timers (due_at);
