-- Version 2: when a worker must next look at a run, computed once by the engine's
-- records (ProcessRecord.wake_at) and indexed here, instead of re-deriving "a
-- delayed decision" from decision_failures in the queries and a partial index.

ALTER TABLE runs ADD COLUMN wake_at BIGINT;

UPDATE runs SET wake_at = CASE
    WHEN decision = 'scheduled' AND decision_failures > 0
        AND (due_at IS NULL OR decision_ready_at < due_at) THEN decision_ready_at
    ELSE due_at
END;

DROP INDEX runs_delayed_decisions;
CREATE INDEX runs_wake ON runs (wake_at) WHERE wake_at IS NOT NULL;
