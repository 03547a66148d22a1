-- Version 2: when a worker must next look at a run, computed once by the engine's
-- records (ProcessRecord.wake_at) and indexed here, instead of re-deriving "a
-- delayed decision" from decision_failures in the queries and a partial index;
-- and each run's and activity's root process, so a claim can keep to one tree.

ALTER TABLE runs ADD COLUMN wake_at INTEGER;

UPDATE runs SET wake_at = CASE
    WHEN decision = 'scheduled' AND decision_failures > 0
        AND (due_at IS NULL OR decision_ready_at < due_at) THEN decision_ready_at
    ELSE due_at
END;

DROP INDEX runs_delayed_decisions;
CREATE INDEX runs_wake ON runs (wake_at) WHERE wake_at IS NOT NULL;

ALTER TABLE runs ADD COLUMN root_id TEXT;
ALTER TABLE activities ADD COLUMN root_id TEXT;

WITH RECURSIVE lineage (run_id, root_id) AS (
    SELECT run_id, process_id FROM runs WHERE parent_run IS NULL
    UNION ALL
    SELECT runs.run_id, lineage.root_id FROM runs JOIN lineage ON runs.parent_run = lineage.run_id
)
UPDATE runs SET root_id = (SELECT lineage.root_id FROM lineage WHERE lineage.run_id = runs.run_id);

UPDATE activities SET root_id = (SELECT runs.root_id FROM runs WHERE runs.run_id = activities.run_id);
