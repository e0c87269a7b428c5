-- The pending queue, grouped into classes: jobs of one tenant with the same priority, service, language and size.
-- Inside a class every job has the same priority, so queue order (priority plus aging, then oldest) is simply oldest
-- first, whatever the aging interval: the pending pass walks each class's head in this index and ranks only those
-- heads. Whether a worker could take a job depends only on its class, so a class no worker can take is skipped in
-- one index descent, however many jobs it holds. Language is coalesced to '' so that a row comparison over the key
-- can step from one class to the next (a NULL in a row comparison compares as unknown); the submission rules store a
-- blank language as NULL, so '' always means none.
-- Replaces jobs_pending (priority DESC, submitted_at), which no statement can use once the pass reads by class.
DROP INDEX jobs_pending;
CREATE INDEX jobs_pending_by_class ON jobs
    (tenant, priority, service, (coalesce(language, '')), cpus, memory_mb, gpus, submitted_at, job_id)
    INCLUDE (not_before)
    WHERE current_state = 'Pending';
