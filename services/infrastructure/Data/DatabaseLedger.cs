using Bus.Contracts;
using Bus.Infrastructure.Redis;
using Npgsql;

namespace Bus.Infrastructure.Data;

/// <summary>
/// Reservations taken on PostgreSQL alone, for when Redis is down. Slower than the Lua path (a transaction with
/// a row lock, a sum and an insert: 2.3 ms at p50 alone, see docs/benchmarks.md) but never oversells: each
/// reservation locks its worker's row, so reservations on one worker take turns, and each checks the sum of that
/// worker's unreleased rows, read through the covering index, against its capacity and slot limit before inserting
/// its own row. Reservations on different workers do not wait for each other. Each one also moves the worker's
/// <c>redis_epoch</c> on, so that Redis counters that have not seen it can no longer be used until they are rebuilt
/// (see <see cref="AllocationStore.Record"/>).
/// </summary>
public sealed class DatabaseLedger(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Reserves and records one attempt on a worker, all or nothing. Returns the result and the worker the attempt
    /// holds: this one when reserved now, the one it was recorded on before when the attempt already had a row.
    /// </summary>
    public async Task<(ReservationResult Result, string? Holder)> Reserve(
        string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var recorded = new NpgsqlCommand("SELECT worker_id FROM resource_allocations WHERE job_id = $1 AND attempt = $2", connection, transaction))
        {
            recorded.Parameters.AddWithValue(jobId);
            recorded.Parameters.AddWithValue(attempt);
            if (await recorded.ExecuteScalarAsync(cancellationToken) is string holder)
                return (ReservationResult.AlreadyHeld, holder);
        }

        // The lock that makes reservations on this worker take turns; held until commit.
        await using var locked = new NpgsqlCommand("""
            SELECT cpus, memory_mb, gpus, max_jobs, status, expires_at > now() FROM workers WHERE worker_id = $1 FOR UPDATE
            """, connection, transaction);
        locked.Parameters.AddWithValue(workerId);
        int cpus, memoryMb, gpus, maxJobs;
        await using (var reader = await locked.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(5) || !reader.GetBoolean(5))
                return (ReservationResult.WorkerGone, null);
            if (reader.GetString(4) != WorkerStatus.Ready)
                return (ReservationResult.WorkerDraining, null);
            (cpus, memoryMb, gpus, maxJobs) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
        }

        await using (var used = new NpgsqlCommand("""
            SELECT COALESCE(SUM(cpus), 0)::int, COALESCE(SUM(memory_mb), 0)::int, COALESCE(SUM(gpus), 0)::int, COUNT(*)::int,
                   COUNT(*) FILTER (WHERE job_id = $2)::int
            FROM resource_allocations WHERE worker_id = $1 AND NOT released
            """, connection, transaction))
        {
            used.Parameters.AddWithValue(workerId);
            used.Parameters.AddWithValue(jobId);
            await using var reader = await used.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt32(4) > 0)
                return (ReservationResult.HeldByOtherAttempt, null);
            if (reader.GetInt32(0) + resources.Cpus > cpus || reader.GetInt32(1) + resources.MemoryMb > memoryMb
                || reader.GetInt32(2) + resources.Gpus > gpus || reader.GetInt32(3) + 1 > maxJobs)
                return (ReservationResult.NoCapacity, null);
        }

        await using (var insert = new NpgsqlCommand("""
            WITH inserted AS (
                INSERT INTO resource_allocations (job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (job_id, attempt) DO NOTHING
                RETURNING worker_id)
            UPDATE workers SET redis_epoch = nextval('redis_epoch_seq')
            WHERE worker_id = $3 AND EXISTS (SELECT FROM inserted)
            """, connection, transaction))
        {
            AllocationStore.AddRow(insert, jobId, attempt, workerId, resources, at);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Another try of the same attempt recorded it elsewhere after the first read: that one holds it.
                await transaction.RollbackAsync(cancellationToken);
                return (ReservationResult.AlreadyHeld, await new AllocationStore(dataSource).RecordedWorker(jobId, attempt));
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return (ReservationResult.Reserved, workerId);
    }
}
