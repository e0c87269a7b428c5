using Bus.Infrastructure.Data;
using Bus.Infrastructure.Observability;
using Bus.Infrastructure.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Writes what the saga learns about an allocation. On release the worker has already given the Redis reservation
/// back before reporting; releasing it here again is a no-op that covers a worker whose own release failed.
/// While Redis is down only the row is released: the worker's Redis counters then count too much, which is safe, and
/// are set right when they are rebuilt or synced. Observers hear of the release once it is recorded.
/// </summary>
public sealed class AllocationRecorder(
    CapacityLedger ledger, RedisOutage outage, AllocationStore allocations, AllocationObservers observers, TimeProvider clock)
    : IAllocationRecorder
{
    public async Task Started(Guid jobId, int attempt, int? processId)
    {
        if (processId is { } pid)
            await allocations.SetProcessId(jobId, attempt, pid);
    }

    public async Task Released(string workerId, Guid jobId, int attempt)
    {
        await ReleaseInRedis(workerId, jobId, attempt);
        var at = clock.GetUtcNow();
        await allocations.Release(jobId, attempt, at);
        // A redelivered saga message can release twice; observers may then hear of it twice (counts are approximate,
        // the alert re-reads real utilization). The resources are not known here: the recorder is told only the attempt.
        observers.Released(new AllocationEvent(jobId, attempt, workerId, null, at));
    }

    public async Task ReleasedAll(Guid jobId)
    {
        var at = clock.GetUtcNow();
        // The rows first, then Redis: in between Redis counts too much, which is safe.
        foreach (var (attempt, workerId) in await allocations.ReleaseAll(jobId, at))
        {
            await ReleaseInRedis(workerId, jobId, attempt);
            observers.Released(new AllocationEvent(jobId, attempt, workerId, null, at));
        }
    }

    async Task ReleaseInRedis(string workerId, Guid jobId, int attempt)
    {
        if (outage.ShouldTry)
        {
            try
            {
                await ledger.Release(workerId, jobId, attempt);
            }
            catch (Exception e) when (RedisOutage.IsOutage(e))
            {
                outage.Failed(e);
            }
        }
    }
}
