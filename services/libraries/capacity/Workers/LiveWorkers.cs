
using Bus.Capacity.Redis;

namespace Bus.Capacity.Workers;

/// <summary>
/// The live workers for readers that are not placement (the workers list, a drain, the stats snapshot): from Redis, or from
/// their heartbeats in PostgreSQL while Redis is down, so those pages keep answering through an outage.
/// </summary>
public sealed class LiveWorkers(WorkerRegistry registry, WorkerDirectory directory, RedisOutagePolicy outage)
{
    public Task<IReadOnlyList<WorkerSnapshot>> List(CancellationToken cancellationToken = default) =>
        outage.Run(registry.ListLive, fallback: () => directory.ListLive(cancellationToken));

    /// <summary>One live worker, or null when it is not live.</summary>
    public Task<WorkerSnapshot?> Find(string workerId, CancellationToken cancellationToken = default) =>
        outage.Run(() => registry.Read(workerId),
            fallback: async () => (await directory.ListLive(cancellationToken)).FirstOrDefault(w => w.WorkerId == workerId));
}
