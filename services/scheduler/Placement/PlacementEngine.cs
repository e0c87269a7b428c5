using System.Diagnostics;
using Bus.Capacity.Ledger;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Hosting.Options;
using Bus.Scheduler.Observability;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Places one job attempt: picks workers from the current snapshot, takes capacity with the atomic Lua reservation,
/// and records the allocation row in PostgreSQL (<see cref="ICapacityLedger"/>; on PostgreSQL alone while Redis
/// is down). The snapshot is read without a lock and may be a few hundred ms old; the reservation is the only
/// synchronisation, so a stale view costs at most a refused reservation and the next candidate is tried, and several
/// scheduler instances can place at once without overselling. Observers hear of each placement once it is
/// recorded; they only log, count or queue, so placement never waits on them. Affinity is a hint kept in Redis:
/// while Redis is down it is neither read nor written.
/// </summary>
public sealed class PlacementEngine : IPlacementEngine
{
    readonly IPlacementSnapshots _snapshots;
    readonly AffinityMap? _affinity;
    readonly ICapacityLedger _ledger;
    readonly AllocationStore _allocations;
    readonly AllocationObservers _observers;
    readonly LastKnownGood<PlacementOptions> _options;
    readonly TimeProvider _clock;
    readonly ILogger _logger;

    public PlacementEngine(
        IPlacementSnapshots snapshots,
        AffinityMap? affinity,
        ICapacityLedger ledger,
        AllocationStore allocations,
        AllocationObservers observers,
        LastKnownGood<PlacementOptions> options,
        TimeProvider clock,
        ILogger<PlacementEngine> logger)
    {
        (_snapshots, _affinity, _ledger, _allocations, _observers, _options, _clock, _logger) =
            (snapshots, affinity, ledger, allocations, observers, options, clock, logger);
    }

    /// <summary>
    /// An engine that reads a fresh snapshot of the registry for every placement, without pools, reports, holds or
    /// affinity: for tools and tests that drive placement directly.
    /// </summary>
    public PlacementEngine(WorkerRegistry registry, ICapacityLedger ledger, AllocationStore allocations, AllocationObservers observers,
        TimeProvider clock, ILogger<PlacementEngine> logger)
        : this(new FreshSnapshots(registry, clock), null, ledger, allocations, observers, LastKnownGood<PlacementOptions>.Of(new PlacementOptions()), clock, logger)
    {
    }

    public async Task<PlacementDecision> Place(PlacementRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        var decision = await Decide(request);
        SchedulerInstruments.Placed(Stopwatch.GetElapsedTime(started), decision is PlacementDecision.Placed);
        // The scheduler's own time per placement, without the saga around it: the scale benchmark reads these lines.
        _logger.LogDebug("Placement of job {JobId} attempt {Attempt} took {Milliseconds:F3} ms: {Outcome}", request.JobId, request.Attempt,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, decision is PlacementDecision.Placed ? "placed" : "waiting");
        return decision;
    }

    async Task<PlacementDecision> Decide(PlacementRequest request)
    {
        // A retried message may find its attempt already placed: keep that placement, take nothing twice.
        var recorded = await _allocations.RecordedWorker(request.JobId, request.Attempt);
        if (recorded is not null)
            return new PlacementDecision.Placed(recorded);

        var affinityKey = request.Constraints.AffinityKey;
        var (_, selection) = await Select(request, passedOver: null);

        var options = _options.CurrentValue;
        // Workers the snapshot shows full are tried last and few: capacity freed since it was taken shows only in the next.
        foreach (var worker in selection.Candidates.Concat(selection.LookedFull.Take(options.StaleSnapshotTries)))
        {
            var at = _clock.GetUtcNow();
            var taken = await _ledger.Take(worker.WorkerId, request.JobId, request.Attempt, request.Resources, at);
            if (taken.Holder is not { } holder)
            {
                // The snapshot was stale (another placement got there first): try the next worker.
                _logger.LogDebug("Reservation of job {JobId} on {WorkerId} refused: {Result}", request.JobId, worker.WorkerId, taken.Result);
                continue;
            }
            if (holder != worker.WorkerId)
                return new PlacementDecision.Placed(holder); // a concurrent try won elsewhere
            _observers.Allocated(new AllocationEvent(request.JobId, request.Attempt, holder, request.Resources, at));
            if (affinityKey is not null && !taken.OnDatabase)
                _affinity?.Remember(request.Tenant, affinityKey, holder, options.AffinityTtl);
            return new PlacementDecision.Placed(holder);
        }
        return new PlacementDecision.Waiting(selection.Code, selection.Reason);
    }

    /// <summary>
    /// Where the job would be placed now, or why not, with the verdict on every live worker; reserves and records
    /// nothing. It runs <see cref="Select"/>, as <see cref="Place"/> does, so the answer is what a placement made at the
    /// same moment would try first.
    /// </summary>
    public async Task<PlacementExplained> Explain(PlacementRequest request)
    {
        var passedOver = new List<(PooledWorker Worker, WorkerVerdict Verdict)>();
        var (snapshot, selection) = await Select(request, passedOver);
        return PlacementExplanation.Of(snapshot, request, selection, passedOver);
    }

    /// <summary>The one selection both placing and explaining run: the current snapshot, the affinity hint, the selector.</summary>
    async Task<(PlacementSnapshot Snapshot, WorkerSelector.Selection Selection)> Select(
        PlacementRequest request, ICollection<(PooledWorker Worker, WorkerVerdict Verdict)>? passedOver)
    {
        var snapshot = await _snapshots.Current();
        var affinityKey = request.Constraints.AffinityKey;
        var affinityWorker = affinityKey is null ? null : await LookupAffinity(request.Tenant, affinityKey);
        return (snapshot, WorkerSelector.Select(snapshot, request, affinityWorker, passedOver: passedOver));
    }

    async Task<string?> LookupAffinity(string tenant, string affinityKey)
    {
        if (_affinity is null)
            return null;
        return await _affinity.Lookup(tenant, affinityKey);
    }
}
