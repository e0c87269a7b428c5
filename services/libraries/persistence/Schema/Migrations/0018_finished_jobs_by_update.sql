-- The stats snapshot counted jobs by state with a scan of the whole table every few seconds per gateway (200 ms at
-- 360,000 rows, and growing with the retained history). A job in a final state is written once, with that state, and
-- never again, so the gateway now keeps a running count of them: it adds the jobs that became final since its last
-- read (updated_at, stamped by the saga's write), read through this index, and counts everything only now and then.
-- Only final rows are in it, so a job's earlier writes add nothing to it.
CREATE INDEX jobs_finished_by_update ON jobs (updated_at) INCLUDE (tenant, current_state)
    WHERE current_state IN ('Completed', 'Failed', 'Cancelled', 'TimedOut');
