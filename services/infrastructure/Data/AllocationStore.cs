using Bus.Contracts;
using Npgsql;

namespace Bus.Infrastructure.Data;

/// <summary>A row of <c>resource_allocations</c> that is not released yet.</summary>
public sealed record ActiveAllocation(Guid JobId, int Attempt, string WorkerId, ResourceVector Resources, DateTimeOffset AllocatedAt);

/// <summary>
/// The truth about allocations: one row per reserved job attempt in <c>resource_allocations</c>.
/// Every write is idempotent, so a retried message can repeat it safely.
/// </summary>
public sealed class AllocationStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Records that an attempt was placed on a worker. The first record of an attempt wins: the worker
    /// returned is the one the attempt really holds, which differs from <paramref name="workerId"/> only
    /// when an earlier try of the same message already placed it elsewhere.
    /// <para>
    /// <paramref name="redisEpoch"/> is the epoch of the Redis counters the reservation was checked against. The row
    /// is written only while that is still the worker's <c>redis_epoch</c> (a worker with no row in <c>workers</c> has
    /// only Redis counters, and passes); otherwise null is returned and nothing is written: since those counters were
    /// read, a reservation was taken on the database alone or the counters were rebuilt, so they may undercount.
    /// The worker row is share-locked until the insert commits, so a database reservation or a rebuild, which lock it
    /// for update, sees this row or runs wholly before it. MATERIALIZED keeps the lock ahead of the epoch check: an
    /// inlined CTE would let the planner filter on the snapshot's epoch first and skip the lock when it matched.
    /// </para>
    /// </summary>
    public async Task<string?> Record(Guid jobId, int attempt, string workerId, ResourceVector resources, DateTimeOffset at, long? redisEpoch)
    {
        await using var command = dataSource.CreateCommand("""
            WITH worker AS MATERIALIZED (
                SELECT redis_epoch FROM workers WHERE worker_id = $3 FOR KEY SHARE),
            inserted AS (
                INSERT INTO resource_allocations (job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at)
                SELECT $1, $2, $3, $4, $5, $6, $7
                WHERE NOT EXISTS (SELECT FROM worker WHERE redis_epoch IS DISTINCT FROM $8)
                ON CONFLICT (job_id, attempt) DO NOTHING
                RETURNING worker_id)
            SELECT worker_id FROM inserted
            UNION ALL
            SELECT worker_id FROM resource_allocations WHERE job_id = $1 AND attempt = $2
            LIMIT 1
            """);
        AddRow(command, jobId, attempt, workerId, resources, at);
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = redisEpoch, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>Parameters $1 to $7 of an allocation row's insert: job, attempt, worker, cpus, memory, gpus, allocated_at.</summary>
    internal static void AddRow(NpgsqlCommand command, Guid jobId, int attempt, string workerId, ResourceVector resources, DateTimeOffset at)
    {
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(workerId);
        command.Parameters.AddWithValue(resources.Cpus);
        command.Parameters.AddWithValue(resources.MemoryMb);
        command.Parameters.AddWithValue(resources.Gpus);
        command.Parameters.AddWithValue(at);
    }

    /// <summary>The worker an attempt was recorded on, or null when it has no allocation row.</summary>
    public async Task<string?> RecordedWorker(Guid jobId, int attempt)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT worker_id FROM resource_allocations WHERE job_id = $1 AND attempt = $2");
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>
    /// Whether the attempt holds an unreleased allocation on the worker. A worker checks it before starting an attempt,
    /// so a RunJob for an attempt the scheduler has since given up (its allocation released) never runs. It reads the
    /// truth, not Redis, so it answers the same whichever ledger the reservation was taken on.
    /// </summary>
    public async Task<bool> Holds(Guid jobId, int attempt, string workerId)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (SELECT FROM resource_allocations WHERE job_id = $1 AND attempt = $2 AND worker_id = $3 AND NOT released)
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(workerId);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Notes the process id of a started attempt.</summary>
    public async Task SetProcessId(Guid jobId, int attempt, int processId)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE resource_allocations SET process_id = $3 WHERE job_id = $1 AND attempt = $2");
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(processId);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Marks an attempt's allocation released. Releasing twice changes nothing the second time.</summary>
    public async Task Release(Guid jobId, int attempt, DateTimeOffset at)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE resource_allocations SET released = true, released_at = $3
            WHERE job_id = $1 AND attempt = $2 AND NOT released
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(at);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Marks every unreleased allocation of the job released; returns the attempts it released, with their workers.</summary>
    public async Task<IReadOnlyList<(int Attempt, string WorkerId)>> ReleaseAll(Guid jobId, DateTimeOffset at)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE resource_allocations SET released = true, released_at = $2
            WHERE job_id = $1 AND NOT released
            RETURNING attempt, worker_id
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(at);
        var released = new List<(int, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            released.Add((reader.GetInt32(0), reader.GetString(1)));
        return released;
    }

    /// <summary>Every allocation not yet released, read through the partial index.</summary>
    public async Task<IReadOnlyList<ActiveAllocation>> Active(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at
            FROM resource_allocations WHERE NOT released
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ActiveAllocation>();
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new ActiveAllocation(
                reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2),
                new ResourceVector(reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5)),
                reader.GetFieldValue<DateTimeOffset>(6)));
        return rows;
    }

    /// <summary>
    /// Moves up to <paramref name="batchSize"/> allocations released before <paramref name="releasedBefore"/>, oldest
    /// first, to <c>resource_allocations_history</c> and returns how many moved. One statement, so each row is
    /// in exactly one of the two tables at every moment. Rows another archiver is moving are skipped, not waited
    /// for, so archivers running at once share the work and never move a row twice.
    /// </summary>
    public async Task<int> ArchiveReleased(DateTimeOffset releasedBefore, int batchSize, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH moved AS (
                DELETE FROM resource_allocations
                WHERE id IN (
                    SELECT id FROM resource_allocations
                    WHERE released AND released_at < $1
                    ORDER BY released_at
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at, process_id, gpu_devices)
            INSERT INTO resource_allocations_history
                (id, job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at, process_id, gpu_devices, archived_at)
            SELECT id, job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at, process_id, gpu_devices, now()
            FROM moved
            """);
        command.Parameters.AddWithValue(releasedBefore);
        command.Parameters.AddWithValue(batchSize);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
