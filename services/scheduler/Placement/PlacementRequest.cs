using Bus.Contracts;

namespace Bus.Scheduler.Placement;

/// <summary>What placement needs to know about one job attempt.</summary>
/// <param name="Tenant">Scopes the affinity key, so two tenants' keys never meet.</param>
/// <param name="Priority">With <paramref name="SubmittedAt"/>, the job's rank against a job that holds capacity.</param>
public sealed record PlacementRequest(
    Guid JobId,
    int Attempt,
    string Service,
    ResourceVector Resources,
    PlacementConstraints Constraints,
    string Tenant = "",
    int Priority = 50,
    DateTimeOffset SubmittedAt = default);

/// <summary>Where an attempt went, or why it waits.</summary>
public abstract record PlacementDecision
{
    public sealed record Placed(string WorkerId) : PlacementDecision;

    /// <param name="Code">Shown as the job's <c>pendingReasonCode</c>.</param>
    /// <param name="Reason">A sentence for the user, shown as the job's <c>pendingReason</c>.</param>
    public sealed record Waiting(PendingReasonCode Code, string Reason) : PlacementDecision;
}
