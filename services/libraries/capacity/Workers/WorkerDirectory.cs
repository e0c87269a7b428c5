using Bus.Contracts;

using Npgsql;

namespace Bus.Capacity.Workers;

/// <summary>
/// The <c>workers</c> table: each worker's history (first and last registration, loss) and, since workers heartbeat
/// here as well as in Redis, who is alive when Redis is not there to say. A worker is live until its
/// <c>expires_at</c>, its last heartbeat plus its registration TTL, the same rule as its Redis registration.
/// </summary>
public sealed class WorkerDirectory(NpgsqlDataSource dataSource)
{
    /// <summary>A worker (re)starts: records its registration and counts as its first heartbeat.</summary>
    public async Task Join(WorkerRegistration worker, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO workers (worker_id, cpus, memory_mb, gpus, max_jobs, services, languages, status,
                                 first_registered_at, last_registered_at, last_heartbeat_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), now(), now() + $9)
            ON CONFLICT (worker_id) DO UPDATE SET cpus = $2, memory_mb = $3, gpus = $4, max_jobs = $5, services = $6,
                languages = $7, status = $8, last_registered_at = now(), last_heartbeat_at = now(), expires_at = now() + $9
            """);
        AddRegistration(command, worker, ttl);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A heartbeat: the worker stays live for another <paramref name="ttl"/>, with its current status, and, when given,
    /// the attempts it runs (<c>jobId:attempt</c>) as of this beat.
    /// </summary>
    public async Task Beat(WorkerRegistration worker, TimeSpan ttl, CancellationToken cancellationToken = default,
        IReadOnlyList<string>? running = null)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE workers SET cpus = $2, memory_mb = $3, gpus = $4, max_jobs = $5, services = $6, languages = $7,
                status = $8, last_heartbeat_at = now(), expires_at = now() + $9,
                running_attempts = coalesce($10, running_attempts), running_reported_at = CASE WHEN $10 IS NULL THEN running_reported_at ELSE now() END
            WHERE worker_id = $1
            """);
        AddRegistration(command, worker, ttl);
        command.Parameters.Add(new NpgsqlParameter<string[]?> { TypedValue = running?.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            await Join(worker, ttl, cancellationToken); // the row was never written (the database was away at start)
    }

    /// <summary>A clean stop: the worker is no longer live.</summary>
    public async Task Leave(string workerId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("UPDATE workers SET expires_at = now() WHERE worker_id = $1");
        command.Parameters.AddWithValue(workerId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Every live worker with what its unreleased allocation rows add up to: the placement snapshot when Redis is down.
    /// One grouped read over the covering index of unreleased rows.
    /// </summary>
    public async Task<IReadOnlyList<WorkerSnapshot>> ListLive(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT w.worker_id, w.cpus, w.memory_mb, w.gpus, w.max_jobs, w.services, w.languages, w.status, w.last_heartbeat_at,
                   COALESCE(SUM(a.cpus), 0)::int, COALESCE(SUM(a.memory_mb), 0)::int, COALESCE(SUM(a.gpus), 0)::int, COUNT(a.job_id)::int
            FROM workers w
            LEFT JOIN resource_allocations a ON a.worker_id = w.worker_id AND NOT a.released
            WHERE w.expires_at > now()
            GROUP BY w.worker_id
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var workers = new List<WorkerSnapshot>();
        while (await reader.ReadAsync(cancellationToken))
            workers.Add(new WorkerSnapshot(
                new WorkerRegistration(
                    reader.GetString(0),
                    new ResourceVector(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)),
                    reader.GetInt32(4),
                    reader.GetFieldValue<string[]>(5),
                    reader.GetFieldValue<string[]>(6),
                    reader.GetString(7)),
                new ResourceVector(reader.GetInt32(9), reader.GetInt32(10), reader.GetInt32(11)),
                reader.GetInt32(12),
                reader.GetFieldValue<DateTimeOffset>(8)));
        return workers;
    }

    static void AddRegistration(NpgsqlCommand command, WorkerRegistration worker, TimeSpan ttl)
    {
        command.Parameters.AddWithValue(worker.WorkerId);
        command.Parameters.AddWithValue(worker.Capacity.Cpus);
        command.Parameters.AddWithValue(worker.Capacity.MemoryMb);
        command.Parameters.AddWithValue(worker.Capacity.Gpus);
        command.Parameters.AddWithValue(worker.MaxConcurrentJobs);
        command.Parameters.AddWithValue(worker.Services);
        command.Parameters.AddWithValue(worker.Languages);
        command.Parameters.AddWithValue(worker.Status);
        command.Parameters.AddWithValue(ttl);
    }
}
