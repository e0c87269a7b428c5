-- Every state change of every job, written by the scheduler in the same transaction as the saga row it describes,
-- so the history can never disagree with the jobs table. Read by the gateway: saga inspection, job attempts and the
-- Server-Sent Events streams.
--
-- Streams read in (xid, id) order and only below the oldest transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())): every transaction that can still commit has an xid at or above that
-- horizon, so a reader that stops at it never delivers a later row before an earlier one commits, and a cursor
-- (xid, id) resumes without gaps. Ordering by id alone would not: ids are taken at insert, not at commit.
CREATE TABLE job_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    job_id      uuid NOT NULL,
    tenant      text NOT NULL,
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    event       text NOT NULL,
    attempt     int NOT NULL,
    worker_id   text,
    reason      text,
    exit_code   int,
    error       text,
    message_id  uuid,
    at          timestamptz NOT NULL
);

CREATE INDEX job_transitions_stream ON job_transitions (xid, id);
CREATE INDEX job_transitions_by_job ON job_transitions (job_id, xid, id);
CREATE INDEX job_transitions_by_tenant ON job_transitions (tenant, xid, id);

-- Wakes every gateway's stream reader once per committing statement (NOTIFY is delivered at commit). The payload is
-- empty on purpose: readers always read the table, so a lost or merged notification loses nothing.
CREATE FUNCTION job_transitions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('job_transitions', '');
    RETURN NULL;
END $$;

CREATE TRIGGER job_transitions_notify AFTER INSERT ON job_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION job_transitions_notify();
