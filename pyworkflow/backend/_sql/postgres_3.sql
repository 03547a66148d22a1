-- Schema version 3 for PostgreSQL: closed runs by the moment they closed, so that
-- the retention purge finds the oldest in a few index steps however many are kept.

CREATE INDEX runs_closed ON runs (closed_at) WHERE closed_at IS NOT NULL;
