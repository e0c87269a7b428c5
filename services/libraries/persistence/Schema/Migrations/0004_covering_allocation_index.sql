-- "How much is allocated" straight from PostgreSQL (the truth, and the fallback when Redis is away) must
-- stay well under a millisecond. The partial index of 0001 finds the unreleased rows but must still
-- visit the table for their sizes: 1.8 ms at p50 over 500,000 rows in docs/benchmarks.md. Carrying the sizes
-- in the index makes the sum an index-only scan.
CREATE INDEX resource_allocations_unreleased_sizes ON resource_allocations (worker_id) INCLUDE (cpus, memory_mb, gpus)
    WHERE NOT released;
DROP INDEX resource_allocations_unreleased;
