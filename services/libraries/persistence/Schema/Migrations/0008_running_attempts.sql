-- Each heartbeat carries the attempts its worker runs, so the reconciler can tell a Running job whose worker no
-- longer runs it (its report lost or never sent) from one that only runs long. running_reported_at is the time of
-- the beat that wrote the list; null until a worker reports one.
ALTER TABLE workers ADD COLUMN running_attempts text[] NULL;
ALTER TABLE workers ADD COLUMN running_reported_at timestamptz NULL;

-- The outbox relay reads recent requests only; without this index it would scan every request ever made.
CREATE INDEX job_requests_by_created_at ON job_requests (created_at);

-- The sweeps that own Allocated and Running read only those jobs, every few seconds.
CREATE INDEX jobs_on_workers ON jobs (worker_id) WHERE current_state IN ('Allocated', 'Running');
