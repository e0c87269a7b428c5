using Bus.Capacity.Workers;
using Bus.Contracts;
using Npgsql;

namespace Bus.Capacity.Ledger;

/// <summary>
/// The ledger's durable half, over <c>resource_allocations</c> and <c>workers.redis_epoch</c>: it alone inserts and
/// releases allocation rows. It records a reservation taken in Redis behind the epoch fence (<see cref="Record"/>), and
/// takes reservations on PostgreSQL alone for when Redis is down. Slower than the Lua path (a transaction with
/// a row lock, a sum and an insert: 2.3 ms at p50 alone, see docs/benchmarks.md) but never oversells: each
/// reservation locks its worker's row, so reservations on one worker take turns, and each checks the sum of that
/// worker's unreleased rows, read through the covering index, against its capacity and slot limit before inserting
/// its own row. Reservations on different workers do not wait for each other. Each one also moves the worker's
/// <c>redis_epoch</c> on, so that Redis counters that have not seen it can no longer be used until they are rebuilt
/// (see <see cref="Record"/>).
/// </summary>
public sealed class DatabaseLedger(NpgsqlDataSource dataSource)
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
    static void AddRow(NpgsqlCommand command, Guid jobId, int attempt, string workerId, ResourceVector resources, DateTimeOffset at)
    {
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(attempt);
        command.Parameters.AddWithValue(workerId);
        command.Parameters.AddWithValue(resources.Cpus);
        command.Parameters.AddWithValue(resources.MemoryMb);
        command.Parameters.AddWithValue(resources.Gpus);
        command.Parameters.AddWithValue(at);
    }

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
            AddRow(insert, jobId, attempt, workerId, resources, at);
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

    const string ReleaseSql = """
        UPDATE resource_allocations SET released = true, released_at = $3
        WHERE job_id = $1 AND attempt = $2 AND NOT released
        """;

    /// <summary>Marks an attempt's allocation released. Releasing twice changes nothing the second time.</summary>
    public async Task Release(Guid jobId, int attempt, DateTimeOffset at)
    {
        await using var command = dataSource.CreateCommand(ReleaseSql);
        AddRelease(command, new AllocationRelease(jobId, attempt, at));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Marks attempts' allocations released inside the caller's transaction, which commits or rolls them back with
    /// its own writes: the scheduler releases a finished attempt's row in the saga write that records the end, one
    /// commit for both (<c>SchedulerDbContext</c>). Releasing twice changes nothing the second time.
    /// </summary>
    public static async Task Release(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<AllocationRelease> releases, CancellationToken cancellationToken = default)
    {
        foreach (var release in releases)
        {
            await using var command = new NpgsqlCommand(ReleaseSql, connection, transaction);
            AddRelease(command, release);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    static void AddRelease(NpgsqlCommand command, AllocationRelease release)
    {
        command.Parameters.AddWithValue(release.JobId);
        command.Parameters.AddWithValue(release.Attempt);
        command.Parameters.AddWithValue(release.At);
    }

    /// <summary>
    /// Marks every unreleased allocation of the job released but those of <paramref name="except"/> (attempts a
    /// caller releases in its own transaction); returns the attempts it released, with their workers.
    /// </summary>
    public async Task<IReadOnlyList<(int Attempt, string WorkerId)>> ReleaseAll(Guid jobId, DateTimeOffset at, IReadOnlyCollection<int> except)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE resource_allocations SET released = true, released_at = $2
            WHERE job_id = $1 AND NOT released AND attempt <> ALL($3)
            RETURNING attempt, worker_id
            """);
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(at);
        command.Parameters.AddWithValue(except.ToArray());
        var released = new List<(int, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            released.Add((reader.GetInt32(0), reader.GetString(1)));
        return released;
    }
}
