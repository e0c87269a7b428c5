-- Retries and cancellation.
-- not_before: a retried attempt waits until then (backoff without delayed message delivery, which our
--   RabbitMQ lacks); the pending-job dispatcher and placement both honour it.
-- failures: attempts that failed, counted against max_attempts. An attempt handed back by a stopping
--   worker is not a failure, so a rolling restart of workers never uses up a job's attempts.
-- cancel_requested_at: a user asked to cancel a job that was already on a worker; it becomes Cancelled
--   once the worker reports the process killed.
ALTER TABLE jobs
    ADD COLUMN not_before          timestamptz NULL,
    ADD COLUMN failures            integer     NOT NULL DEFAULT 0,
    ADD COLUMN cancel_requested_at timestamptz NULL;

DROP INDEX jobs_pending;
CREATE INDEX jobs_pending ON jobs (priority DESC, submitted_at) INCLUDE (not_before) WHERE current_state = 'Pending';
