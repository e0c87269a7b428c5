-- The schema every service shares. PostgreSQL is the source of truth: Redis can be rebuilt from it.

-- Idempotency keys, owned by the gateway: one row per (tenant, requestId), naming exactly one job.
-- submit_command keeps the whole command, so a submission whose publish was lost can be sent again.
CREATE TABLE job_requests (
    tenant          text        NOT NULL,
    request_id      text        NOT NULL,
    job_id          uuid        NOT NULL UNIQUE,
    request_hash    text        NOT NULL,
    submit_command  jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, request_id)
);

-- The job saga's state, one row per job, written only by the scheduler's saga repository.
-- version is the optimistic concurrency token: an update that lost a race changes no row.
CREATE TABLE jobs (
    job_id          uuid        PRIMARY KEY,
    current_state   text        NOT NULL,
    version         integer     NOT NULL,
    tenant          text        NOT NULL,
    request_id      text        NOT NULL,
    service         text        NOT NULL,
    command         text[]      NOT NULL,
    payload_json    jsonb       NULL,
    cpus            integer     NOT NULL,
    memory_mb       integer     NOT NULL,
    gpus            integer     NOT NULL,
    language        text        NULL,
    pool            text        NULL,
    exclude_worker  text        NULL,
    affinity_key    text        NULL,
    priority        integer     NOT NULL,
    timeout_seconds integer     NOT NULL,
    max_attempts    integer     NOT NULL,
    attempt         integer     NOT NULL,
    worker_id       text        NULL,
    pending_reason  text        NULL,
    exit_code       integer     NULL,
    output          text        NULL,
    error           text        NULL,
    submitted_at    timestamptz NOT NULL,
    allocated_at    timestamptz NULL,
    started_at      timestamptz NULL,
    finished_at     timestamptz NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX jobs_by_tenant ON jobs (tenant, submitted_at DESC);
-- The pending queue: small, because placed jobs leave it.
CREATE INDEX jobs_pending ON jobs (priority DESC, submitted_at) WHERE current_state = 'Pending';

-- Every reservation is a row. The partial index keeps "what is allocated now" fast however
-- long the history grows (the seeds' SUM over this table took 50-100 ms without it).
CREATE TABLE resource_allocations (
    id              bigserial   PRIMARY KEY,
    job_id          uuid        NOT NULL,
    attempt         integer     NOT NULL,
    worker_id       text        NOT NULL,
    cpus            integer     NOT NULL,
    memory_mb       integer     NOT NULL,
    gpus            integer     NOT NULL,
    allocated_at    timestamptz NOT NULL,
    released        boolean     NOT NULL DEFAULT false,
    released_at     timestamptz NULL,
    process_id      integer     NULL,
    UNIQUE (job_id, attempt)
);
CREATE INDEX resource_allocations_unreleased ON resource_allocations (worker_id) WHERE NOT released;

-- Worker history: who registered, with what, and when last.
CREATE TABLE workers (
    worker_id           text        PRIMARY KEY,
    cpus                integer     NOT NULL,
    memory_mb           integer     NOT NULL,
    gpus                integer     NOT NULL,
    max_jobs            integer     NOT NULL,
    services            text[]      NOT NULL,
    languages           text[]      NOT NULL,
    first_registered_at timestamptz NOT NULL,
    last_registered_at  timestamptz NOT NULL
);
