using Bus.Hosting.Options;
using Bus.Persistence.Jobs;

namespace Bus.Gateway.Limits;

/// <summary>
/// The per-tenant cap on jobs Pending, Allocated or Running (<see cref="LimitOptions.MaxActiveJobsPerTenant"/>),
/// checked before a new requestId is claimed.
/// </summary>
/// <remarks>
/// A soft cap: the count and the claim are two statements, so submissions racing each other may overshoot by the
/// number in flight, and a job accepted but not yet written by the scheduler is not counted yet. It bounds a runaway
/// client, not an exact budget. A requestId the tenant already used is never refused: its retry must answer the same job.
/// </remarks>
public sealed class TenantQuota(JobQueries jobs, LastKnownGood<LimitOptions> limits)
{
    /// <summary>The result of a check: over it when <see cref="Adding"/> new jobs to <see cref="Active"/> pass <see cref="Max"/>.</summary>
    public sealed record Usage(long Active, int Adding, int Max)
    {
        public bool Exceeded => Active + Adding > Max;
    }

    /// <summary>Whether one submission's new requestId would pass the quota; null when within it or already used.</summary>
    public Task<Usage?> ExceededBy(string tenant, string requestId, CancellationToken cancellationToken) =>
        ExceededBy(tenant, [requestId], cancellationToken);

    /// <summary>
    /// Whether the requestIds of a batch not used yet would, together, pass the quota: a batch is taken or refused
    /// as a whole, never cut at the limit. Null when within it, or when every requestId is already used.
    /// </summary>
    public async Task<Usage?> ExceededBy(string tenant, string[] requestIds, CancellationToken cancellationToken)
    {
        if (await jobs.ActiveUnlessRequested(tenant, requestIds, cancellationToken) is not { } usage)
            return null;
        var check = new Usage(usage.Active, usage.Unused, limits.CurrentValue.MaxActiveJobsOf(tenant));
        return check.Exceeded ? check : null;
    }
}
