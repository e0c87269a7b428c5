-- The requests no send has confirmed yet (sent_at null): the outbox relay reads only these among the requests of the
-- last Reconciler:RelayConfirmedAfter, every Reconciler:RelayInterval. The gateway marks a confirmed send within about
-- 100 ms, so the part of this index the relay reads holds the last instants' requests and those an outage or a crash
-- left unsent.
CREATE INDEX job_requests_unsent ON job_requests (created_at) WHERE sent_at IS NULL;

-- The relay reads older requests once each, in (created_at, job_id) order from where it stopped: requests created by
-- one statement share created_at. This index serves that order, and every read by created_at the old one served.
CREATE INDEX job_requests_by_created_at_and_job ON job_requests (created_at, job_id);
DROP INDEX job_requests_by_created_at;
