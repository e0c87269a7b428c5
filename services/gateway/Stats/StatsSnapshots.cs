using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Persistence.Jobs;

namespace Bus.Gateway.Stats;

/// <summary>
/// The latest stats snapshot. <see cref="StatsRefresher"/> rebuilds it in the background; requests only read
/// it, so the cost of a snapshot does not grow with the number of clients polling. Until the first build has
/// finished, every caller (requests and the refresher alike) awaits one shared build: a cold start computes it once.
/// </summary>
public sealed class StatsSnapshots(LiveWorkers liveWorkers, JobQueries jobs, FinishedJobCounts finished, TimeProvider clock)
{
    readonly Lock _gate = new();
    Task<StatsSnapshot>? _firstBuild;
    volatile StatsSnapshot? _latest;

    /// <summary>The latest snapshot if one was built, without waiting: for gauges, which must never block a scrape.</summary>
    public StatsSnapshot? Latest => _latest;

    /// <summary>The latest snapshot; on a cold start, the one shared first build.</summary>
    public Task<StatsSnapshot> Current()
    {
        if (_latest is { } latest)
            return Task.FromResult(latest);
        lock (_gate)
        {
            // A failed first build is not kept: the next caller starts another, instead of every request failing
            // until the refresher's next tick.
            if (_firstBuild is null || _firstBuild.IsFaulted || _firstBuild.IsCanceled)
                _firstBuild = BuildFirst();
            return _firstBuild;
        }
    }

    /// <summary>Rebuilds the snapshot; before the first one exists, joins the shared first build instead.</summary>
    public async Task Refresh(CancellationToken cancellationToken)
    {
        if (_latest is null)
            await Current().WaitAsync(cancellationToken);
        else
            _latest = await Build(cancellationToken);
    }

    // Not cancelled by any one caller: several requests share it, and one client going away must not fail the rest.
    async Task<StatsSnapshot> BuildFirst() => _latest = await Build(CancellationToken.None);

    async Task<StatsSnapshot> Build(CancellationToken cancellationToken)
    {
        // Redis and PostgreSQL are read at the same time; the database's connection is let go before Redis is awaited,
        // so a slow Redis never holds one.
        var live = liveWorkers.List(cancellationToken);
        var (byTenant, oldestPending, completedByTenant, byReasonCode) = await ReadJobCounts(cancellationToken);

        var jobsByState = JobStates.All.ToDictionary(s => s, s => byTenant.Values.Sum(c => c[s]));
        var completedLastMinute = completedByTenant.Values.Sum();
        var tenants = byTenant.ToDictionary(
            t => t.Key, t => new TenantCounts(t.Value, completedByTenant.GetValueOrDefault(t.Key)));

        var workers = await live;
        var capacity = Sum(workers.Select(w => w.Registration.Capacity));
        var allocated = Sum(workers.Select(w => w.Used));
        var utilization = capacity.Cpus == 0 ? 0 : (double)allocated.Cpus / capacity.Cpus;
        return new StatsSnapshot(
            workers.Count, capacity, allocated, utilization, jobsByState, jobsByState[JobStates.Pending], completedLastMinute,
            oldestPending, clock.GetUtcNow(), Usage: null, tenants, byReasonCode);
    }

    /// <summary>
    /// Counted per tenant, once per snapshot, not per request: an admin sees the sum, any other key only its own
    /// tenant's (capacity and load stay cluster-wide: every tenant shares them). Unfinished jobs are read through their
    /// partial index, finished ones kept as a running count: neither reads the history. All the reads see one moment
    /// of the table, so a job that finishes between two of them counts once.
    /// </summary>
    async Task<JobCounts> ReadJobCounts(CancellationToken cancellationToken)
    {
        await using var snapshot = await jobs.BeginSnapshot(cancellationToken);
        var table = snapshot.Queries;
        DateTimeOffset? oldestPending = null;
        var byTenant = new Dictionary<string, Dictionary<string, long>>();
        Dictionary<string, long> Of(string tenant) =>
            byTenant.TryGetValue(tenant, out var counts) ? counts : byTenant[tenant] = JobStates.All.ToDictionary(s => s, _ => 0L);
        foreach (var group in await table.CountActiveByTenantAndState(cancellationToken))
        {
            Of(group.Tenant)[group.State] = group.Count;
            if (group.State == JobStates.Pending && (oldestPending is null || group.OldestSubmittedAt < oldestPending))
                oldestPending = group.OldestSubmittedAt;
        }
        var done = await finished.Read(table, cancellationToken);
        foreach (var ((tenant, state), count) in done.ByTenantAndState)
            Of(tenant)[state] = count;
        // Pending jobs only, read through the partial index on them; a code with no job counts 0.
        var byReasonCode = Enum.GetValues<PendingReasonCode>().ToDictionary(c => c, _ => 0L);
        foreach (var (code, count) in await table.PendingByReasonCode(cancellationToken))
            byReasonCode[code] = count;
        return new JobCounts(byTenant, oldestPending, done.CompletedLastMinuteByTenant, byReasonCode);
    }

    sealed record JobCounts(
        Dictionary<string, Dictionary<string, long>> ByTenant, DateTimeOffset? OldestPending,
        IReadOnlyDictionary<string, long> CompletedLastMinuteByTenant, Dictionary<PendingReasonCode, long> ByReasonCode);

    /// <summary>The counts of one tenant, every state present; zeros for a tenant with no jobs.</summary>
    public static TenantCounts CountsOf(StatsSnapshot snapshot, string tenant) =>
        snapshot.Tenants.TryGetValue(tenant, out var counts) ? counts : new TenantCounts(JobStates.All.ToDictionary(s => s, _ => 0L), 0);

    static ResourceVector Sum(IEnumerable<ResourceVector> vectors) =>
        vectors.Aggregate(new ResourceVector(0, 0, 0), (a, b) => new ResourceVector(a.Cpus + b.Cpus, a.MemoryMb + b.MemoryMb, a.Gpus + b.Gpus));
}
