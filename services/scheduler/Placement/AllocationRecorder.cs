using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Writes what the saga learns about an allocation. On release the worker has already given the Redis reservation
/// back before reporting (R7); releasing it here again is a no-op that covers a worker whose own release failed.
/// </summary>
public sealed class AllocationRecorder(CapacityLedger ledger, AllocationStore allocations, TimeProvider clock) : IAllocationRecorder
{
    public async Task Started(Guid jobId, int attempt, int? processId)
    {
        if (processId is { } pid)
            await allocations.SetProcessId(jobId, attempt, pid);
    }

    public async Task Released(string workerId, Guid jobId, int attempt)
    {
        await ledger.Release(workerId, jobId, attempt);
        await allocations.Release(jobId, attempt, clock.GetUtcNow());
    }
}
