-- PostgreSQL's own versions of statements in queries.sql, by the same names, and
-- the few statements only it needs. Each differs for one reason: the rows it
-- reads are about to be changed by the engine, so it locks them (see the
-- locking notes in pyworkflow.backend.postgres). Claims and sweeps skip rows
-- another transaction holds; reads of one named row wait for it.

-- name: lock_run
SELECT 1 FROM runs WHERE run_id = :run_id FOR UPDATE

-- name: get_run
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs WHERE run_id = :run_id
FOR UPDATE

-- name: get_open_run
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs WHERE process_id = :process_id AND status = 'open'
FOR UPDATE

-- A history is only appended to under its run's lock: sharing that lock while
-- reading gives a run and a history that belong together.
-- name: get_latest_run
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs WHERE process_id = :process_id ORDER BY seq DESC LIMIT 1
FOR SHARE

-- name: open_children
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs WHERE parent_run = :parent_run AND status = 'open'
ORDER BY seq
FOR UPDATE

-- name: next_decision
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs
WHERE category = :category AND decision = 'scheduled' AND decision_ready_at <= :now
    AND (CAST(:names AS TEXT) IS NULL
         OR length(replace(:names, ',' || workflow || ',', '')) < length(:names))
ORDER BY decision_ready_at, seq LIMIT 1
FOR UPDATE SKIP LOCKED

-- name: due_runs
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs WHERE due_at IS NOT NULL AND due_at <= :now
ORDER BY due_at LIMIT :limit
FOR UPDATE SKIP LOCKED

-- An activity is claimed with its run (the claim appends to the run's history);
-- the run comes first, so a row whose run is busy is skipped before its
-- activity is touched.
-- name: next_activity
SELECT a.run_id, a.process_id, a.activity_id, a.activity, a.category, a.scheduled_at,
    a.schedule_deadline, a.execution_timeout, a.heartbeat_timeout, a.input, a.state, a.token,
    a.attempt, a.started_at, a.execution_deadline, a.heartbeat_deadline, a.cancel_requested
FROM runs r JOIN activities a ON a.run_id = r.run_id
WHERE a.category = :category AND a.state = 'scheduled'
    AND (CAST(:names AS TEXT) IS NULL
         OR length(replace(:names, ',' || a.activity || ',', '')) < length(:names))
ORDER BY a.seq LIMIT 1
FOR UPDATE OF r, a SKIP LOCKED

-- name: due_activities
SELECT a.run_id, a.process_id, a.activity_id, a.activity, a.category, a.scheduled_at,
    a.schedule_deadline, a.execution_timeout, a.heartbeat_timeout, a.input, a.state, a.token,
    a.attempt, a.started_at, a.execution_deadline, a.heartbeat_deadline, a.cancel_requested
FROM runs r JOIN activities a ON a.run_id = r.run_id
WHERE a.due_at <= :now
ORDER BY a.due_at LIMIT :limit
FOR UPDATE OF r, a SKIP LOCKED

-- name: due_timers
SELECT t.run_id, t.timer_id, t.timer, t.due_at
FROM runs r JOIN timers t ON t.run_id = r.run_id
WHERE t.due_at <= :now
ORDER BY t.due_at LIMIT :limit
FOR UPDATE OF r, t SKIP LOCKED

-- One round trip for what next_due_at needs; LEAST ignores NULLs.
-- name: earliest_due
SELECT LEAST(
    (SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL),
    (SELECT MIN(due_at) FROM activities),
    (SELECT MIN(due_at) FROM timers),
    (SELECT MIN(decision_ready_at) FROM runs
        WHERE decision = 'scheduled' AND decision_failures > 0)
)

-- PostgreSQL must be told the type of a parameter that may be NULL.
-- name: list_runs
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts, seq
FROM runs WHERE status = :status AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)
ORDER BY seq

-- Most calls find nothing due: one round trip tells, instead of one per kind.
-- name: earliest_sweep
SELECT LEAST(
    (SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL),
    (SELECT MIN(due_at) FROM activities),
    (SELECT MIN(due_at) FROM timers)
)

-- Two purgers never take the same closed run, and a run another transaction is
-- reading under its lock is left for the next batch.
-- name: purgeable_runs
SELECT run_id, process_id, workflow, category, decision_timeout, started_at, input, tags,
    parent_id, parent_run, child_policy, status, result, closed_at, timeout_at,
    decision, decision_ready_at, decision_token, decision_deadline, decision_again,
    decision_failures, decision_attempts
FROM runs
WHERE closed_at IS NOT NULL AND closed_at < :cutoff AND status <> 'open'
    AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)
ORDER BY closed_at LIMIT :limit
FOR UPDATE SKIP LOCKED

-- name: try_purge_lock
SELECT pg_try_advisory_lock(:key)

-- name: purge_unlock
SELECT pg_advisory_unlock(:key)
