using Bus.Contracts;

namespace Bus.Gateway.Stats;

/// <summary>What <c>GET /api/v1/stats</c> returns: the whole cluster at <see cref="GeneratedAt"/>, for every tenant.</summary>
/// <param name="Workers">How many workers are live.</param>
/// <param name="Capacity">The sum of the live workers' capacity.</param>
/// <param name="Allocated">The sum of what is allocated on the live workers.</param>
/// <param name="Utilization">Allocated CPUs over capacity CPUs, from 0 to 1; 0 when there is no capacity.</param>
/// <param name="JobsByState">How many jobs are in each state; every state is present, 0 when none.</param>
/// <param name="PendingCount">Jobs waiting for a worker (the same number as <c>jobsByState.Pending</c>).</param>
/// <param name="CompletedLastMinute">Jobs that ended Completed in the minute before the snapshot.</param>
/// <param name="OldestPendingSubmittedAt">When the longest-waiting pending job was submitted; null when none waits.</param>
public sealed record StatsSnapshot(
    int Workers,
    ResourceVector Capacity,
    ResourceVector Allocated,
    double Utilization,
    IReadOnlyDictionary<string, long> JobsByState,
    long PendingCount,
    long CompletedLastMinute,
    DateTimeOffset? OldestPendingSubmittedAt,
    DateTimeOffset GeneratedAt);
