using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;
using Microsoft.Extensions.Logging;

namespace Bus.Infrastructure.Capacity;

/// <summary>
/// A worker's presence in both registries: its Redis registration, which placement reads, and its row in
/// <c>workers</c>, which placement reads when Redis is down. Each heartbeat writes both, each on its own, so a worker
/// stays visible through either one's outage. Before registering in Redis, it rebuilds counters Redis has lost (the
/// registration script refuses until then), so a Redis that restarted empty never sees a worker as emptier than it is.
/// </summary>
public sealed class WorkerPresence(
    WorkerRegistry registry,
    WorkerDirectory directory,
    LedgerRebuilder rebuilder,
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
        if (!await rebuilder.Rebuild(worker.WorkerId))
            throw new InvalidOperationException($"worker {worker.WorkerId} has no row in workers to rebuild its counters from");
        await registry.Register(worker, ttl, requireRebuiltCounters: true);
    }

    async Task Both(string workerId, Func<Task> database, Func<Task> redis)
    {
        var failures = new List<Exception>();
        // The database first: a Redis rebuild needs the worker's row.
        foreach (var (store, write) in new[] { ("PostgreSQL", database), ("Redis", redis) })
        {
            try
            {
                await write();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Worker {WorkerId}: writing its presence to {Store} failed: {Error}", workerId, store, e.Message);
                failures.Add(e);
            }
        }
        if (failures.Count == 2)
            throw new AggregateException($"worker {workerId} could reach neither PostgreSQL nor Redis", failures);
    }
}
