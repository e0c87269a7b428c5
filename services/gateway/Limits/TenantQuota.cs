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
    /// <summary>The result of a check: over it when <see cref="Active"/> has reached <see cref="Max"/>.</summary>
    public sealed record Usage(long Active, int Max)
    {
        public bool Exceeded => Active >= Max;
    }

    public async Task<Usage?> ExceededBy(string tenant, string requestId, CancellationToken cancellationToken)
    {
        if (await jobs.ActiveUnlessRequested(tenant, requestId, cancellationToken) is not { } active)
            return null;
        var usage = new Usage(active, limits.CurrentValue.MaxActiveJobsOf(tenant));
        return usage.Exceeded ? usage : null;
    }
}
