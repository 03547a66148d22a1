-- Statements shared by the SQL stores. Parameters are named (:name); a store
-- whose driver wants another style rewrites them once, on load. Each statement
-- starts with a "-- name:" line. Literal 'scheduled' and 'open' stay literal so
-- that the partial indexes they match can be used. A claim's :names is NULL
-- (any task) or the names a worker can run as ",A,B,"; the test for membership
-- uses replace() and length(), which both dialects have, and no wildcards.
-- {runs} and {activities} stand for the columns of a run and of an activity, as
-- pyworkflow.backend._sql.rows names them once ({activities:a} with a table alias).
-- {lock_update}, {lock_share} and {lock_skip} are where a dialect with row locks
-- locks what it read (PostgreSQL: FOR UPDATE, FOR SHARE, FOR UPDATE SKIP LOCKED;
-- SQLite holds the whole database for the transaction and says nothing): rows
-- about to be changed by the engine are locked; claims and sweeps skip rows
-- another transaction holds, reads of one named row wait for it. A history is
-- only appended to under its run's lock, so sharing that lock while reading
-- gives a run and a history that belong together.

-- name: schema_version
SELECT version FROM pyworkflow_schema

-- name: insert_schema_version
INSERT INTO pyworkflow_schema (version) VALUES (:version)

-- name: update_schema_version
UPDATE pyworkflow_schema SET version = :version

-- name: insert_run
INSERT INTO runs ({runs}, due_at, wake_at) VALUES ({:runs}, :due_at, :wake_at)

-- name: get_run
SELECT {runs}
FROM runs WHERE run_id = :run_id
{lock_update}

-- name: get_open_run
SELECT {runs}
FROM runs WHERE process_id = :process_id AND status = 'open'
{lock_update}

-- name: get_latest_run
SELECT {runs}
FROM runs WHERE process_id = :process_id ORDER BY seq DESC LIMIT 1
{lock_share}

-- name: process_runs
SELECT {runs}
FROM runs WHERE process_id = :process_id ORDER BY seq

-- name: list_runs
SELECT {runs}
FROM runs
WHERE length(replace(:statuses, ',' || status || ',', '')) < length(:statuses)
    AND (:workflow IS NULL OR workflow = :workflow)
ORDER BY seq

-- name: open_children
SELECT {runs}
FROM runs WHERE parent_run = :parent_run AND status = 'open'
ORDER BY seq
{lock_update}

-- name: next_decision
SELECT {runs}
FROM runs
WHERE category = :category AND decision = 'scheduled' AND decision_ready_at <= :now
    AND (CAST(:names AS TEXT) IS NULL
         OR length(replace(:names, ',' || workflow || ',', '')) < length(:names))
    AND (CAST(:root_id AS TEXT) IS NULL OR root_id = :root_id)
ORDER BY decision_ready_at, seq LIMIT 1
{lock_skip}

-- name: due_runs
SELECT {runs}
FROM runs WHERE due_at IS NOT NULL AND due_at <= :now
ORDER BY due_at LIMIT :limit
{lock_skip}

-- The first event a transaction appends to a run numbers itself after the run's
-- last: one statement instead of a read of the last number and an insert (the
-- run's writer holds the run, so nobody appends in between).
-- name: insert_next_event
INSERT INTO events (run_id, seq, body)
SELECT :run_id, COALESCE(MAX(seq), 0) + 1, :body FROM events WHERE run_id = :run_id
RETURNING seq

-- name: insert_event
INSERT INTO events (run_id, seq, body) VALUES (:run_id, :seq, :body)

-- name: history
SELECT body FROM events WHERE run_id = :run_id AND seq > :after ORDER BY seq

-- name: insert_activity
INSERT INTO activities ({activities}, due_at) VALUES ({:activities}, :due_at)

-- name: delete_activity
DELETE FROM activities WHERE run_id = :run_id AND activity_id = :activity_id

-- name: delete_activities_of
DELETE FROM activities WHERE run_id = :run_id

-- name: get_activity
SELECT {activities}
FROM activities WHERE run_id = :run_id AND activity_id = :activity_id

-- name: next_activity
SELECT {activities}
FROM activities WHERE category = :category AND state = 'scheduled'
    AND (CAST(:names AS TEXT) IS NULL
         OR length(replace(:names, ',' || activity || ',', '')) < length(:names))
    AND (CAST(:root_id AS TEXT) IS NULL OR root_id = :root_id)
ORDER BY seq LIMIT 1

-- A task claimed with a token its worker chose (Poll.claim_token), found again
-- after the answer that carried it was lost: a rare path, so no index of its own.
-- name: decision_claimed_with
SELECT {runs}
FROM runs WHERE status = 'open' AND decision = 'started' AND decision_token = :token

-- name: activity_claimed_with
SELECT {activities}
FROM activities WHERE state = 'started' AND token = :token

-- name: due_activities
SELECT {activities}
FROM activities WHERE due_at <= :now
ORDER BY due_at LIMIT :limit

-- name: insert_timer
INSERT INTO timers (run_id, timer_id, timer, due_at) VALUES (:run_id, :timer_id, :timer, :due_at)

-- name: delete_timer
DELETE FROM timers WHERE run_id = :run_id AND timer_id = :timer_id

-- name: has_timer
SELECT 1 FROM timers WHERE run_id = :run_id AND timer_id = :timer_id

-- name: delete_timers_of
DELETE FROM timers WHERE run_id = :run_id

-- name: due_timers
SELECT run_id, timer_id, timer, due_at FROM timers WHERE due_at <= :now
ORDER BY due_at LIMIT :limit

-- name: earliest_run_wake
SELECT MIN(wake_at) FROM runs WHERE wake_at IS NOT NULL

-- name: earliest_activity_due
SELECT MIN(due_at) FROM activities

-- name: earliest_timer_due
SELECT MIN(due_at) FROM timers

-- Retention: closed runs by the moment they closed (index runs_closed), and the
-- deletes that forget one. A run's activities and timers are gone once it closes;
-- deleting them again costs an index probe and keeps the purge whole regardless.
-- Two purgers never take the same closed run, and a run another transaction
-- holds is left for the next batch.
-- name: purgeable_runs
SELECT {runs}
FROM runs
WHERE closed_at IS NOT NULL AND closed_at < :cutoff AND status <> 'open'
    AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)
ORDER BY closed_at LIMIT :limit
{lock_skip}

-- name: count_purgeable
SELECT COUNT(*) FROM runs
WHERE closed_at IS NOT NULL AND closed_at < :cutoff AND status <> 'open'
    AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)

-- name: count_runs
SELECT COUNT(*) FROM runs
WHERE status = :status AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)

-- name: delete_events_of
DELETE FROM events WHERE run_id = :run_id

-- name: delete_run
DELETE FROM runs WHERE run_id = :run_id

-- The earliest deadline the sweep applies: when it lies ahead, a unit of work
-- skips the sweep's three queries. MIN over a UNION ALL, which every dialect
-- reads as three index steps (PostgreSQL's file has its own).
-- name: earliest_sweep
SELECT MIN(moment) FROM (
    SELECT MIN(due_at) AS moment FROM runs WHERE due_at IS NOT NULL
    UNION ALL SELECT MIN(due_at) FROM activities
    UNION ALL SELECT MIN(due_at) FROM timers
) AS deadlines
