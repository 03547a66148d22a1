-- PostgreSQL's own versions of statements in queries.sql, by the same names, and
-- the few statements only it needs: claims and sweeps that lock a run together
-- with its activity or timer (see the locking notes in pyworkflow.backend.postgres),
-- and statements where PostgreSQL must be told a parameter's type.

-- An event numbered after its run's last by the server: a write the transaction
-- holds back and sends with its next statement, no answer awaited.
-- name: insert_event_after_last
INSERT INTO events (run_id, seq, body)
SELECT :run_id, COALESCE(MAX(seq), 0) + 1, :body FROM events WHERE run_id = :run_id

-- name: lock_run
SELECT 1 FROM runs WHERE run_id = :run_id FOR UPDATE

-- An activity read with its run's lock in one statement: both rows are locked,
-- so a wait for either re-reads both once granted (a row only joined, not
-- locked, would be the version from before the wait). The run comes along: the
-- engine reads it next.
-- name: lock_run_get_activity
SELECT {activities:a}, {runs:r}
FROM runs r JOIN activities a ON a.run_id = r.run_id
WHERE r.run_id = :run_id AND a.activity_id = :activity_id
FOR UPDATE OF r, a

-- An activity is claimed with its run (the claim appends to the run's history);
-- the run comes first, so a row whose run is busy is skipped before its
-- activity is touched, and comes back with it.
-- name: next_activity
SELECT {activities:a}, {runs:r}
FROM runs r JOIN activities a ON a.run_id = r.run_id
WHERE a.category = :category AND a.state = 'scheduled'
    AND (CAST(:names AS TEXT) IS NULL
         OR length(replace(:names, ',' || a.activity || ',', '')) < length(:names))
    AND (CAST(:root_id AS TEXT) IS NULL OR a.root_id = :root_id)
ORDER BY a.seq LIMIT 1
FOR UPDATE OF r, a SKIP LOCKED

-- name: due_activities
SELECT {activities:a}
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
    (SELECT MIN(wake_at) FROM runs WHERE wake_at IS NOT NULL),
    (SELECT MIN(due_at) FROM activities),
    (SELECT MIN(due_at) FROM timers)
)

-- PostgreSQL must be told the type of a parameter that may be NULL.
-- name: list_runs
SELECT {runs}
FROM runs
WHERE length(replace(:statuses, ',' || status || ',', '')) < length(:statuses)
    AND (CAST(:workflow AS TEXT) IS NULL OR workflow = :workflow)
ORDER BY seq

-- Most calls find nothing due: one round trip tells, instead of one per kind.
-- name: earliest_sweep
SELECT LEAST(
    (SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL),
    (SELECT MIN(due_at) FROM activities),
    (SELECT MIN(due_at) FROM timers)
)

-- The server's time in microseconds since the epoch, as the rows keep times,
-- with the earliest deadline: a unit of work starts with both in one round trip.
-- name: server_time
SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000000) AS BIGINT), LEAST(
    (SELECT MIN(due_at) FROM runs WHERE due_at IS NOT NULL),
    (SELECT MIN(due_at) FROM activities),
    (SELECT MIN(due_at) FROM timers)
)

-- name: try_purge_lock
SELECT pg_try_advisory_lock(:key)

-- name: purge_unlock
SELECT pg_advisory_unlock(:key)
