-- The requests no send has confirmed yet (sent_at null): the outbox relay reads only these among the requests of the
-- last Reconciler:RelayConfirmedAfter, every Reconciler:RelayInterval. The gateway marks a confirmed send within about
-- 100 ms, so this index holds the last instants' requests and those an outage or a crash left unsent.
CREATE INDEX job_requests_unsent ON job_requests (created_at) WHERE sent_at IS NULL;
