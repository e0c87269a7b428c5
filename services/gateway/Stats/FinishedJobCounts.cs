using Bus.Persistence.Jobs;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Stats;

/// <summary>
/// A running count of the jobs in final states, by tenant and state, for the stats snapshot, so a snapshot does not
/// scan the whole history. A final job is written once, with its final state, and never again (only retention
/// removes it), so the count grows by the jobs whose final write came since the last read: each read adds those,
/// through an index on the write time, and the whole table is counted only every
/// <see cref="StatsOptions.FullCountInterval"/>, which also takes out the jobs retention removed.
/// </summary>
/// <remarks>
/// A write is stamped by its saga before it commits, so a job written just before a read may become visible only
/// after it. Jobs written within the last <see cref="Settling"/> are therefore counted afresh by every read, and only
/// older ones are added to the running count for good.
/// </remarks>
public sealed class FinishedJobCounts(JobQueries jobs, IOptions<StatsOptions> options, TimeProvider clock)
{
    /// <summary>
    /// How long after its stamp a final write is surely visible: far longer than a saga's transaction lasts, and
    /// longer than a minute, since the completions of the last minute are counted among the writes not settled yet.
    /// </summary>
    public static readonly TimeSpan Settling = TimeSpan.FromSeconds(90);

    readonly SemaphoreSlim _gate = new(1, 1);
    Dictionary<(string Tenant, string State), long> _settled = [];
    DateTimeOffset? _settledBefore;
    DateTimeOffset _countedAllAt;

    /// <summary>The jobs in each final state by tenant, and those that became Completed within the last minute by tenant.</summary>
    public Task<FinishedJobs> Read(CancellationToken cancellationToken) => Read(jobs, cancellationToken);

    /// <summary>As <see cref="Read(CancellationToken)"/>, through <paramref name="within"/>: the queries of a
    /// <see cref="JobSnapshot"/>, so the count sees the same moment as the snapshot's other reads.</summary>
    public async Task<FinishedJobs> Read(JobQueries within, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_settledBefore is null || clock.GetUtcNow() - _countedAllAt >= options.Value.FullCountInterval)
            {
                var all = await within.CountFinished(Settling, cancellationToken);
                _settled = all.Groups.ToDictionary(g => (g.Tenant, g.State), g => g.Settled);
                _settledBefore = all.SettledBefore;
                _countedAllAt = clock.GetUtcNow();
            }
            var recent = await within.CountFinishedAfter(_settledBefore.Value, Settling, cancellationToken);
            var counts = new Dictionary<(string Tenant, string State), long>(_settled);
            var completedLastMinute = new Dictionary<string, long>();
            foreach (var group in recent.Groups)
            {
                var key = (group.Tenant, group.State);
                counts[key] = counts.GetValueOrDefault(key) + group.All;
                _settled[key] = _settled.GetValueOrDefault(key) + group.Settled;
                completedLastMinute[group.Tenant] = completedLastMinute.GetValueOrDefault(group.Tenant) + group.CompletedLastMinute;
            }
            _settledBefore = recent.SettledBefore;
            return new FinishedJobs(counts, completedLastMinute);
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>What <see cref="FinishedJobCounts.Read(CancellationToken)"/> found.</summary>
public sealed record FinishedJobs(IReadOnlyDictionary<(string Tenant, string State), long> ByTenantAndState,
    IReadOnlyDictionary<string, long> CompletedLastMinuteByTenant);
