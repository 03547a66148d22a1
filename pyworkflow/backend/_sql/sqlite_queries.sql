-- SQLite's own statements. MIN over a UNION ALL, since SQLite's scalar min()
-- answers NULL as soon as one argument is NULL; each branch is one step of its
-- index (runs_wake, runs_due, activities_due, timers_due).

-- The earliest moment a worker must look without being told, in one statement.
-- name: earliest_due
SELECT MIN(moment) FROM (
    SELECT MIN(wake_at) AS moment FROM runs WHERE wake_at IS NOT NULL
    UNION ALL SELECT MIN(due_at) FROM activities
    UNION ALL SELECT MIN(due_at) FROM timers
)

-- The latest moment a run closed: one step of the runs_closed index. A watcher
-- waiting for processes to end looks at it on every commit, and reads the
-- process it waits for only when it moved.
-- name: latest_closing
SELECT MAX(closed_at) FROM runs WHERE closed_at IS NOT NULL
