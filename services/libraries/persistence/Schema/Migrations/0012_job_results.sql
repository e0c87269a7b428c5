-- A job's structured result: the JSON a model server answered for the attempt that completed it (the http executor),
-- at most Worker:Http:MaxResultBytes. Written by the scheduler's saga with the final state; null for shell jobs and for
-- jobs that did not complete. It lives in the job's row, so whatever removes the row removes the result with it.
ALTER TABLE jobs ADD COLUMN result_json jsonb NULL;
