-- What a job asked for in its environment (validated by the gateway; names to values), carried to every attempt.
ALTER TABLE jobs ADD COLUMN environment_json jsonb NULL;

-- The GPU device ids an attempt was bound to (chosen with its reservation), written by the worker when it starts
-- the attempt, shown in the job's detail.
ALTER TABLE resource_allocations ADD COLUMN gpu_devices text[] NULL;
ALTER TABLE resource_allocations_history ADD COLUMN gpu_devices text[] NULL;
