-- When the broker confirmed a request's SubmitJob, set by the gateway after an array submission's send (a single
-- submit leaves it null: one statement less per job). The outbox relay resends a request without a saga while this
-- is null, and once set only after Reconciler:RelayConfirmedAfter: a confirmed SubmitJob waits in the scheduler's
-- queue, and resending every one of a backlog of thousands of them only doubles the backlog.
ALTER TABLE job_requests ADD COLUMN sent_at timestamptz;
