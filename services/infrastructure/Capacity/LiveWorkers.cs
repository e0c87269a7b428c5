using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;

namespace Bus.Infrastructure.Capacity;

/// <summary>
/// The live workers for readers that are not placement (the workers list, the stats snapshot): from Redis, or from
/// their heartbeats in PostgreSQL while Redis is down, so those pages keep answering through an outage.
/// </summary>
public sealed class LiveWorkers(WorkerRegistry registry, WorkerDirectory directory, RedisOutage outage)
{
    public async Task<IReadOnlyList<WorkerSnapshot>> List(CancellationToken cancellationToken = default)
    {
        if (outage.ShouldTry)
        {
            try
            {
                var workers = await registry.ListLive();
                outage.Succeeded();
                return workers;
            }
            catch (Exception e) when (RedisOutage.IsOutage(e))
            {
                outage.Failed(e);
            }
        }
        return await directory.ListLive(cancellationToken);
    }
}
