using Bus.Capacity.Ledger;

namespace Bus.Scheduler.Placement;

/// <summary>Places job attempts on workers. The saga's activities depend on this, so state machine tests can stand in for it.</summary>
public interface IPlacementEngine
{
    Task<PlacementDecision> Place(PlacementRequest request);
}

/// <summary>Keeps the allocation record (Redis and PostgreSQL) in step with what the saga learns.</summary>
public interface IAllocationRecorder
{
    /// <summary>The attempt's process started on its worker.</summary>
    Task Started(Guid jobId, int attempt, int? processId);

    /// <summary>
    /// The attempt ended: its Redis reservation is given back now, and its row's release is returned, for the saga's
    /// write to mark in its own transaction. Idempotent.
    /// </summary>
    Task<AllocationRelease> Released(string workerId, Guid jobId, int attempt);

    /// <summary>
    /// The job is over: every allocation of any of its attempts still unreleased is released everywhere, such as one
    /// placed by an earlier try of a message whose saga write then lost a race to a cancel. The attempts of
    /// <paramref name="releasedWithTheWrite"/> are left to the saga's write, which releases them. Idempotent.
    /// </summary>
    Task ReleasedAll(Guid jobId, IReadOnlyCollection<int> releasedWithTheWrite);
}
