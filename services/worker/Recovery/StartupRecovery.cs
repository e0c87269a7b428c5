using Bus.Contracts;
using Bus.Infrastructure.Redis;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Worker.Recovery;

/// <summary>
/// At start (R17), settles what the database says the previous process of this worker was running. Attempts that
/// had started are orphans: each goes through the strategies (see <see cref="IRecoveryStrategy"/>), its
/// reservation is released, then its end is reported. Attempts only allocated are left alone: their RunJob is
/// still in this worker's queue. Reservations held in Redis for anything else are released.
/// </summary>
public sealed class StartupRecovery(
    NpgsqlDataSource dataSource,
    CapacityLedger ledger,
    IEnumerable<IRecoveryStrategy> strategies,
    IBus bus,
    IOptions<WorkerOptions> options,
    TimeProvider clock,
    ILogger<StartupRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var workerId = options.Value.Id;
        var (orphans, allocated) = await ReadAttempts(workerId, cancellationToken);

        foreach (var orphan in orphans)
        {
            RecoveryVerdict? verdict = null;
            foreach (var strategy in strategies)
                if ((verdict = await strategy.Examine(orphan, cancellationToken)) is not null)
                    break;
            verdict ??= new RecoveryVerdict.Failed("the worker restarted while the attempt ran");

            await ReleaseInRedis(workerId, orphan.JobId, orphan.Attempt); // the row is released by the saga on the report
            var now = clock.GetUtcNow();
            if (verdict is RecoveryVerdict.TimedOut)
                await bus.Publish(new JobStopped(orphan.JobId, orphan.Attempt, workerId, StopReason.TimedOut, "", now), cancellationToken);
            else
                await bus.Publish(new JobFailed(orphan.JobId, orphan.Attempt, workerId, null, "", verdict.Reason, now), cancellationToken);
            logger.LogWarning("Recovered job {JobId} attempt {Attempt}: {Reason}", orphan.JobId, orphan.Attempt, verdict.Reason);
        }

        // Reservations nobody can be using: not an attempt waiting in the queue, and not an orphan (released above).
        // While Redis is down there is nothing to read; the worker's counters are rebuilt from the rows when it returns.
        try
        {
            foreach (var reservation in await ledger.Reservations(workerId))
                if (!allocated.Contains((reservation.JobId, reservation.Attempt)) && await ledger.Release(workerId, reservation.JobId, reservation.Attempt))
                    logger.LogWarning("Released stale reservation of job {JobId} attempt {Attempt}", reservation.JobId, reservation.Attempt);
        }
        catch (Exception e) when (RedisOutage.IsOutage(e))
        {
            logger.LogWarning("Redis is unreachable; stale reservations of this worker, if any, go when its counters are rebuilt");
        }
    }

    async Task ReleaseInRedis(string workerId, Guid jobId, int attempt)
    {
        try
        {
            await ledger.Release(workerId, jobId, attempt);
        }
        catch (Exception e) when (RedisOutage.IsOutage(e))
        {
            // Counted until the worker's counters are rebuilt or synced: too much, never too little.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    async Task<(List<OrphanedAttempt> Orphans, HashSet<(Guid, int)> Allocated)> ReadAttempts(string workerId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT j.job_id, j.attempt, j.current_state, a.process_id, coalesce(a.allocated_at, j.allocated_at, j.submitted_at),
                   j.started_at, j.timeout_seconds
            FROM jobs j LEFT JOIN resource_allocations a ON a.job_id = j.job_id AND a.attempt = j.attempt
            WHERE j.worker_id = $1 AND j.current_state IN ('Allocated', 'Running')
            """);
        command.Parameters.AddWithValue(workerId);
        var orphans = new List<OrphanedAttempt>();
        var allocated = new HashSet<(Guid, int)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (jobId, attempt) = (reader.GetGuid(0), reader.GetInt32(1));
            if (reader.GetString(2) == "Allocated")
                allocated.Add((jobId, attempt));
            else
                orphans.Add(new OrphanedAttempt(jobId, attempt,
                    reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.GetInt32(6)));
        }
        return (orphans, allocated);
    }
}
