using Bus.Capacity.Ledger;
using Bus.Scheduler.Observability;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Writes what the saga learns about an allocation: the releases through the ledger (<see cref="ICapacityLedger"/>),
/// the process id on the row. On release the worker has already given the Redis reservation back before reporting;
/// giving it back again is a no-op that covers a worker whose own give-back failed. The row's release is written by
/// the saga's write, in its transaction; observers hear of it before that commits.
/// </summary>
public sealed class AllocationRecorder(ICapacityLedger ledger, AllocationStore allocations, AllocationObservers observers, TimeProvider clock)
    : IAllocationRecorder
{
    public async Task Started(Guid jobId, int attempt, int? processId)
    {
        if (processId is { } pid)
            await allocations.SetProcessId(jobId, attempt, pid);
    }

    public async Task<AllocationRelease> Released(string workerId, Guid jobId, int attempt)
    {
        var at = clock.GetUtcNow();
        await ledger.GiveBack(workerId, jobId, attempt);
        // A retried or redelivered saga message can release twice; observers may then hear of it twice (counts are
        // approximate, the alert re-reads real utilization). The resources are not known here: the recorder is told
        // only the attempt.
        observers.Released(new AllocationEvent(jobId, attempt, workerId, null, at));
        return new AllocationRelease(jobId, attempt, at);
    }

    public async Task ReleasedAll(Guid jobId, IReadOnlyCollection<int> releasedWithTheWrite)
    {
        var at = clock.GetUtcNow();
        foreach (var (attempt, workerId) in await ledger.ReleaseAll(jobId, at, releasedWithTheWrite))
            observers.Released(new AllocationEvent(jobId, attempt, workerId, null, at));
    }
}
