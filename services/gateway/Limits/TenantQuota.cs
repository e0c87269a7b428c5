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
/// The count is reused for <see cref="LimitOptions.QuotaCountMaxAge"/> (<see cref="ActiveJobEstimates"/>) while the
/// estimate leaves room; a submission the estimate would refuse is counted exactly first.
/// </remarks>
public sealed class TenantQuota(JobQueries jobs, ActiveJobEstimates estimates, LastKnownGood<LimitOptions> limits)
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
        var options = limits.CurrentValue;
        var max = options.MaxActiveJobsOf(tenant);
        // Counting every requestId as new errs high too, so a yes from the estimate is a yes.
        if (estimates.Fresh(tenant, options.QuotaCountMaxAge) is { } estimate && estimate + requestIds.Length <= max)
        {
            estimates.Added(tenant, requestIds.Length);
            return null;
        }

        var (active, unused) = await jobs.ActiveAndUnused(tenant, requestIds, cancellationToken);
        estimates.Counted(tenant, active);
        var check = new Usage(active, unused, max);
        if (unused == 0 || !check.Exceeded)
        {
            estimates.Added(tenant, unused);
            return null;
        }
        return check;
    }
}
