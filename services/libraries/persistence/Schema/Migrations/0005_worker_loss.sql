-- Worker loss in the history: when the lost-worker sweep last declared the worker dead. A worker is
-- published lost (WorkerLost) only while lost_at is older than its last registration, so once per registration
-- however many sweeps find its jobs; registering again re-arms it.
ALTER TABLE workers ADD COLUMN lost_at timestamptz NULL;
