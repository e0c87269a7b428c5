using Bus.Contracts;
using Bus.Infrastructure.Redis;
using MassTransit;
using Npgsql;

namespace Bus.Reconciler.Sweeps;

/// <summary>
/// Finds attempts whose worker has died (R2): the job is Allocated or Running on a worker whose registration has
/// expired. A registration outlives a missed heartbeat (its TTL is twice the interval by default), and a worker
/// must also be missing on two sweeps in a row, so a worker that was only slow, or a Redis that restarted and is
/// being re-filled by heartbeats, never causes a mass reschedule. For each lost attempt it publishes
/// <see cref="JobAttemptLost"/>; the job's saga releases the reservation and retries or fails the job.
/// One instance is kept per process, so it remembers the previous sweep's suspects.
/// </summary>
public sealed class LostWorkerSweep(NpgsqlDataSource dataSource, WorkerRegistry registry, IBus bus, TimeProvider clock, ILogger<LostWorkerSweep> logger)
{
    HashSet<(Guid JobId, int Attempt, string WorkerId)> _suspects = [];

    /// <summary>Returns the attempts declared lost by this sweep.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var live = (await registry.ListLive()).Select(w => w.WorkerId).ToHashSet();
        var orphans = new HashSet<(Guid JobId, int Attempt, string WorkerId)>();
        await using (var command = dataSource.CreateCommand(
            "SELECT job_id, attempt, worker_id FROM jobs WHERE current_state IN ('Allocated', 'Running') AND worker_id IS NOT NULL"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                if (!live.Contains(reader.GetString(2)))
                    orphans.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));

        var lost = orphans.Where(_suspects.Contains).ToList();
        _suspects = orphans.Except(lost).ToHashSet();
        var now = clock.GetUtcNow();
        foreach (var (jobId, attempt, workerId) in lost)
            await bus.Publish(new JobAttemptLost(jobId, attempt, workerId, now), cancellationToken);

        if (lost.Count > 0)
            logger.LogWarning("Declared {Count} attempts lost on workers {Workers}", lost.Count, string.Join(", ", lost.Select(l => l.WorkerId).Distinct()));
        return lost.Count;
    }
}
