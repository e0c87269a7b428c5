using Bus.Infrastructure.Data;
using Bus.Infrastructure.Observability;
using Bus.Infrastructure.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Places one job attempt: picks workers from a fresh snapshot, takes capacity with the atomic Lua reservation,
/// and records the allocation row in PostgreSQL. The Lua script is the only synchronisation, so several
/// scheduler instances can place at once without overselling (R10, R13). Observers hear of each placement once it
/// is recorded (R18); they only log, count or queue, so placement never waits on Redis or the bus for them.
/// </summary>
public sealed class PlacementEngine(
    WorkerRegistry registry,
    CapacityLedger ledger,
    AllocationStore allocations,
    AllocationObservers observers,
    TimeProvider clock,
    ILogger<PlacementEngine> logger) : IPlacementEngine
{
    public async Task<PlacementDecision> Place(PlacementRequest request)
    {
        // A retried message may find its attempt already placed: keep that placement, take nothing twice.
        var recorded = await allocations.RecordedWorker(request.JobId, request.Attempt);
        if (recorded is not null)
            return new PlacementDecision.Placed(recorded);

        var selection = WorkerSelector.Select(await registry.ListLive(), request);
        foreach (var worker in selection.Candidates)
        {
            var result = await ledger.Reserve(worker.WorkerId, request.JobId, request.Attempt, request.Resources);
            if (result is not (ReservationResult.Reserved or ReservationResult.AlreadyHeld))
            {
                // The snapshot was stale (another scheduler got there first): try the next worker.
                logger.LogDebug("Reservation of job {JobId} on {WorkerId} refused: {Result}", request.JobId, worker.WorkerId, result);
                continue;
            }

            var at = clock.GetUtcNow();
            var holder = await allocations.Record(request.JobId, request.Attempt, worker.WorkerId, request.Resources, at);
            if (holder != worker.WorkerId)
                await ledger.Release(worker.WorkerId, request.JobId, request.Attempt); // a concurrent try won elsewhere
            else
                observers.Allocated(new AllocationEvent(request.JobId, request.Attempt, holder, request.Resources, at));
            return new PlacementDecision.Placed(holder);
        }
        return new PlacementDecision.Waiting(selection.WaitReason ?? WorkerSelector.FullReason(selection.Candidates.Count));
    }
}
