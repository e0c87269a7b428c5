-- Redis down. Workers heartbeat here as well as in Redis, so the scheduler can still see who is alive
-- and place on the database alone; redis_epoch fences Redis counters against reservations taken without them.

-- 'ready' or 'draining', as in the worker's Redis registration.
ALTER TABLE workers ADD COLUMN status text NOT NULL DEFAULT 'ready';
ALTER TABLE workers ADD COLUMN last_heartbeat_at timestamptz NULL;
-- The worker counts as live until then: its last heartbeat plus its registration TTL.
ALTER TABLE workers ADD COLUMN expires_at timestamptz NULL;
-- Which rebuild of the worker's Redis counters is current. A rebuild from this table sets the same number in Redis
-- and here; a reservation taken on the database alone adds one here, so the Redis counters no longer match and a
-- reservation recorded through them is refused until they are rebuilt. See docs/architecture.md, "When Redis is down".
ALTER TABLE workers ADD COLUMN redis_epoch bigint NOT NULL DEFAULT 0;
