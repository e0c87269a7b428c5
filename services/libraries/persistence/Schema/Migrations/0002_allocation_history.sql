-- Archiving: released allocations older than Reconciler:ArchiveAfter (default 30 days) move here, so
-- resource_allocations holds only what is live or recent and stays fast however long the system runs.

-- The same columns as resource_allocations, ids kept, plus when the row moved. Not bigserial: the id is the
-- original row's, and the primary key means an allocation can be archived at most once.
-- A column added to resource_allocations belongs here too, and in AllocationStore.ArchiveReleased.
CREATE TABLE resource_allocations_history (
    id              bigint      PRIMARY KEY,
    job_id          uuid        NOT NULL,
    attempt         integer     NOT NULL,
    worker_id       text        NOT NULL,
    cpus            integer     NOT NULL,
    memory_mb       integer     NOT NULL,
    gpus            integer     NOT NULL,
    allocated_at    timestamptz NOT NULL,
    released        boolean     NOT NULL,
    released_at     timestamptz NULL,
    process_id      integer     NULL,
    archived_at     timestamptz NOT NULL
);

-- Lets each archive batch find the oldest released rows without scanning the table. Partial, so live
-- allocations never enter it.
CREATE INDEX resource_allocations_released ON resource_allocations (released_at) WHERE released;
