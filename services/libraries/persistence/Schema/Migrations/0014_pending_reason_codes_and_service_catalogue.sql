-- The machine-readable code next to every pending reason (a PendingReasonCode name), written by the scheduler's saga
-- with the sentence. Rows written before this column existed get theirs at their next placement try.
ALTER TABLE jobs ADD COLUMN pending_reason_code text NULL;

-- The list endpoint filters one tenant's pending jobs by code; finished jobs never carry one.
CREATE INDEX jobs_pending_by_reason_code ON jobs (tenant, pending_reason_code) WHERE current_state = 'Pending';

-- The service catalogue: the services a submission may name. Owned by the gateway (it seeds the configured defaults
-- and serves the admin endpoints that change it); gateways and schedulers read it into a cache they refresh.
CREATE TABLE service_catalogue (
    service     text        PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    added_at    timestamptz NOT NULL DEFAULT now()
);
