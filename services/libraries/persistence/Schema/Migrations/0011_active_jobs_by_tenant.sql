-- The gateway counts a tenant's unfinished jobs on every submission (its quota), and the scheduler's pending passes
-- read Pending jobs tenant by tenant (fair share): both stay short reads however much history a tenant has.
CREATE INDEX jobs_active_by_tenant ON jobs (tenant, current_state) WHERE current_state IN ('Pending', 'Allocated', 'Running');
