using Bus.Contracts;

namespace Bus.Scheduler.Placement;

/// <summary>What placement needs to know about one job attempt.</summary>
public sealed record PlacementRequest(Guid JobId, int Attempt, string Service, ResourceVector Resources, PlacementConstraints Constraints);

/// <summary>Where an attempt went, or why it waits.</summary>
public abstract record PlacementDecision
{
    public sealed record Placed(string WorkerId) : PlacementDecision;

    /// <param name="Reason">A sentence for the user, shown as the job's <c>pendingReason</c>.</param>
    public sealed record Waiting(string Reason) : PlacementDecision;
}
