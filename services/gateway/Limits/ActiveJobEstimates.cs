using System.Collections.Concurrent;

namespace Bus.Gateway.Limits;

/// <summary>
/// Each tenant's active jobs as last counted, plus what this gateway accepted since: an estimate that errs only high
/// (jobs that finished since are still in it), so the quota may take it as a yes, never as a no. Reused for
/// <see cref="LimitOptions.QuotaCountMaxAge"/>, since the count reads every active job of the tenant.
/// </summary>
public sealed class ActiveJobEstimates(TimeProvider clock)
{
    sealed class Estimate(long counted, long countedAt)
    {
        long _addedSince;

        public long Counted { get; } = counted;
        public long CountedAt { get; } = countedAt;
        public long Value => Counted + Interlocked.Read(ref _addedSince);
        public void Add(int jobs) => Interlocked.Add(ref _addedSince, jobs);
    }

    readonly ConcurrentDictionary<string, Estimate> _tenants = new();

    /// <summary>The estimate of the tenant's active jobs, or null when it was not counted within <paramref name="maxAge"/>.</summary>
    public long? Fresh(string tenant, TimeSpan maxAge) =>
        _tenants.TryGetValue(tenant, out var estimate) && clock.GetElapsedTime(estimate.CountedAt) < maxAge ? estimate.Value : null;

    /// <summary>The tenant's active jobs as just counted; what was added before is in the count or finished.</summary>
    public void Counted(string tenant, long active) => _tenants[tenant] = new Estimate(active, clock.GetTimestamp());

    /// <summary>Jobs the quota let through since the count.</summary>
    public void Added(string tenant, int jobs)
    {
        if (_tenants.TryGetValue(tenant, out var estimate))
            estimate.Add(jobs);
    }
}
