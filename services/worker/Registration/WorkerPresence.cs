using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Microsoft.Extensions.Logging;

namespace Bus.Worker.Registration;

/// <summary>
/// A worker's presence in both registries: its Redis registration, which placement reads, and its row in
/// <c>workers</c>, which placement reads when Redis is down. Each heartbeat writes both, each on its own, so a worker
/// stays visible through either one's outage. Before registering in Redis, it rebuilds counters Redis has lost (the
/// registration script refuses until then), so a Redis that restarted empty never sees a worker as emptier than it is.
/// </summary>
public sealed class WorkerPresence(
    WorkerRegistry registry,
    WorkerDirectory directory,
    ICapacityLedger ledger,
    RedisOutagePolicy outage,
    ILogger<WorkerPresence> logger)
{
    /// <summary>The worker starts: recorded in the history, then registered. Throws only if neither store took it.</summary>
    public Task Join(WorkerRegistration worker, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        Both(worker.WorkerId,
            () => directory.Join(worker, ttl, cancellationToken),
            () => Register(worker, ttl));

    /// <summary>
    /// One heartbeat. Throws only if neither store took it. <paramref name="running"/> (<c>jobId:attempt</c>), when
    /// given, is recorded with the beat in PostgreSQL: the reconciler reconciles a Running job its worker does not list.
    /// </summary>
    public Task Beat(WorkerRegistration worker, TimeSpan ttl, CancellationToken cancellationToken = default, IReadOnlyList<string>? running = null) =>
        Both(worker.WorkerId,
            () => directory.Beat(worker, ttl, cancellationToken, running),
            () => Register(worker, ttl));

    /// <summary>A clean stop: gone from both. Its reservations stay until released.</summary>
    public Task Leave(string workerId, CancellationToken cancellationToken = default) =>
        Both(workerId, () => directory.Leave(workerId, cancellationToken), () => registry.Unregister(workerId));

    async Task Register(WorkerRegistration worker, TimeSpan ttl)
    {
        if (await registry.Register(worker, ttl, requireRebuiltCounters: true))
            return;
        if (!await ledger.Rebuild(worker.WorkerId))
            throw new InvalidOperationException($"worker {worker.WorkerId} has no row in workers to rebuild its counters from");
        await registry.Register(worker, ttl, requireRebuiltCounters: true);
    }

    async Task Both(string workerId, Func<Task> database, Func<Task> redis)
    {
        // The database first: a Redis rebuild needs the worker's row.
        var databaseFailure = await Failure(workerId, "PostgreSQL", database);
        // Redis under the outage policy: while it is down the write is skipped and the outage reported once, not at
        // every beat; the first beat after the policy's back-off tries again.
        var redisSkipped = false;
        var redisFailure = await Failure(workerId, "Redis", async () => redisSkipped = !await outage.Run(redis));
        if (databaseFailure is not null && (redisFailure is not null || redisSkipped))
            throw new AggregateException($"worker {workerId} could reach neither PostgreSQL nor Redis",
                redisFailure is null ? [databaseFailure] : [databaseFailure, redisFailure]);
    }

    async Task<Exception?> Failure(string workerId, string store, Func<Task> write)
    {
        try
        {
            await write();
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Worker {WorkerId}: writing its presence to {Store} failed: {Error}", workerId, store, e.Message);
            return e;
        }
    }
}
