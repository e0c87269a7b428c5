using Bus.Contracts;
using Npgsql;

namespace Bus.Capacity.Ledger;

/// <summary>A row of <c>resource_allocations</c> that is not released yet.</summary>
public sealed record ActiveAllocation(Guid JobId, int Attempt, string WorkerId, ResourceVector Resources, DateTimeOffset AllocatedAt);

/// <summary>
/// Reads of <c>resource_allocations</c>, the truth about allocations (one row per reserved job attempt), and the writes
/// that move no capacity: a started attempt's process id, the archiving of released rows. Rows are inserted and released
/// only by the ledger (<see cref="DatabaseLedger"/>). Every write is idempotent, so a retried message can repeat it safely.
/// </summary>
public sealed class AllocationStore(NpgsqlDataSource dataSource)
{
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
