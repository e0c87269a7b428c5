using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Persistence.Jobs;
using Bus.Reconciler.Jobs;
using MassTransit;
using Npgsql;
using Quartz;

namespace Bus.Reconciler.Sweeps;

/// <summary>
/// Finds attempts whose worker has died: the job is Allocated or Running on a worker whose registration has
/// expired both in Redis and in the <c>workers</c> table (each heartbeat renews both, so a Redis outage alone never
/// makes a worker look dead). A registration outlives a missed heartbeat (its TTL is twice the interval by default), and a worker
/// must also be missing on two sweeps in a row, so a worker that was only slow, or a Redis that restarted and is
/// being re-filled by heartbeats, never causes a mass reschedule. For each lost attempt it publishes
/// <see cref="JobAttemptLost"/>; the job's saga releases the reservation and retries or fails the job. Each worker
/// whose attempts it declares lost is also published as <see cref="WorkerLost"/> and marked in the <c>workers</c>
/// table. A worker that dies holding no job is not noticed here.
/// One instance is kept per process, so it remembers the previous sweep's suspects.
/// </summary>
public sealed class LostWorkerSweep(NpgsqlDataSource dataSource, JobQueries jobs, WorkerRegistry registry, WorkerDirectory directory, RedisOutagePolicy outage, IBus bus, TimeProvider clock, ILogger<LostWorkerSweep> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("lost-worker-sweep", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    HashSet<JobAttemptOnWorker> _suspects = [];

    // The last heartbeat seen of each live or suspected worker: a lost worker's registration is gone from Redis,
    // so this is the only place its last heartbeat is still known. Kept to those workers, so it never grows.
    Dictionary<string, DateTimeOffset> _lastSeen = [];

    /// <summary>Returns the attempts declared lost by this sweep.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var liveWorkers = (await directory.ListLive(cancellationToken)).ToList();
        // While Redis is down, workers are judged by their heartbeats in PostgreSQL alone.
        liveWorkers.AddRange(await outage.Run(registry.ListLive, onOutage: []));
        var live = liveWorkers.Select(w => w.WorkerId).ToHashSet();
        var orphans = (await jobs.OnAnyWorker(cancellationToken)).Where(a => !live.Contains(a.WorkerId)).ToHashSet();

        var lost = orphans.Where(_suspects.Contains).ToList();
        _suspects = orphans.Except(lost).ToHashSet();
        var now = clock.GetUtcNow();
        foreach (var (jobId, attempt, workerId) in lost)
            await bus.Publish(new JobAttemptLost(jobId, attempt, workerId, now, $"worker {workerId} stopped heartbeating"), cancellationToken);

        var lostWorkers = lost.Select(l => l.WorkerId).Distinct().ToList();
        if (lost.Count > 0)
            logger.LogWarning("Declared {Count} attempts lost on workers {Workers}", lost.Count, string.Join(", ", lostWorkers));
        // Recorded after the attempts are published, so a failure here never holds up the jobs' recovery.
        foreach (var workerId in lostWorkers)
            await RecordLoss(workerId, _lastSeen.TryGetValue(workerId, out var seen) ? seen : null, now, cancellationToken);

        var suspected = _suspects.Select(s => s.WorkerId).ToHashSet();
        _lastSeen = _lastSeen.Where(e => suspected.Contains(e.Key))
            .Concat(liveWorkers.GroupBy(w => w.WorkerId).Select(g => KeyValuePair.Create(g.Key, g.Max(w => w.LastHeartbeat))))
            .GroupBy(e => e.Key)
            .ToDictionary(g => g.Key, g => g.Max(e => e.Value));
        return lost.Count;
    }

    /// <summary>
    /// Marks the worker lost in the history and publishes <see cref="WorkerLost"/>, once per registration: sweeps
    /// that find more of its jobs later change nothing. A worker with no row in <c>workers</c> cannot be marked,
    /// so it is published each time its attempts are declared lost.
    /// </summary>
    async Task RecordLoss(string workerId, DateTimeOffset? lastSeen, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH marked AS (
                UPDATE workers SET lost_at = $2
                WHERE worker_id = $1 AND (lost_at IS NULL OR lost_at < last_registered_at)
                RETURNING worker_id)
            SELECT EXISTS (SELECT FROM marked) OR NOT EXISTS (SELECT FROM workers WHERE worker_id = $1)
            """);
        command.Parameters.AddWithValue(workerId);
        command.Parameters.AddWithValue(now);
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
            return;

        logger.LogWarning("Worker {WorkerId} declared lost; last heartbeat seen {LastSeen}", workerId, lastSeen?.ToString("O") ?? "never");
        await bus.Publish(new WorkerLost(workerId, lastSeen, now), cancellationToken);
    }
}
