using System.Text.Json.Serialization;
using Bus.Contracts;

namespace Bus.Gateway.Stats;

/// <summary>
/// What <c>GET /api/v1/stats</c> returns at <see cref="GeneratedAt"/>: the whole cluster's capacity and load, and job
/// counts that are the whole cluster's for an admin key and the caller's own tenant's for any other key.
/// </summary>
/// <param name="Workers">How many workers are live.</param>
/// <param name="Capacity">The sum of the live workers' capacity.</param>
/// <param name="Allocated">The sum of what is allocated on the live workers.</param>
/// <param name="Utilization">Allocated CPUs over capacity CPUs, from 0 to 1; 0 when there is no capacity.</param>
/// <param name="JobsByState">How many jobs are in each state; every state is present, 0 when none.</param>
/// <param name="PendingCount">Jobs waiting for a worker (the same number as <c>jobsByState.Pending</c>).</param>
/// <param name="CompletedLastMinute">Jobs that ended Completed in the minute before the snapshot.</param>
/// <param name="OldestPendingSubmittedAt">When the longest-waiting pending job was submitted; null when none waits.</param>
/// <param name="Usage">The caller's tenant against its quota; null in the stored snapshot, filled in per request.</param>
/// <param name="Tenants">Each tenant's own counts, from which a non-admin's answer is made; never sent.</param>
/// <param name="PendingByReasonCode">Pending jobs of every tenant by pending reason code, every code present; for the
/// metric, never sent.</param>
public sealed record StatsSnapshot(
    int Workers,
    ResourceVector Capacity,
    ResourceVector Allocated,
    double Utilization,
    IReadOnlyDictionary<string, long> JobsByState,
    long PendingCount,
    long CompletedLastMinute,
    DateTimeOffset? OldestPendingSubmittedAt,
    DateTimeOffset GeneratedAt,
    TenantUsage? Usage,
    [property: JsonIgnore] IReadOnlyDictionary<string, TenantCounts> Tenants,
    [property: JsonIgnore] IReadOnlyDictionary<PendingReasonCode, long>? PendingByReasonCode = null);

/// <summary>One tenant's job counts in a snapshot.</summary>
public sealed record TenantCounts(IReadOnlyDictionary<string, long> JobsByState, long CompletedLastMinute);

/// <summary>A tenant's use of its quota.</summary>
/// <param name="Tenant">The caller's tenant.</param>
/// <param name="ActiveJobs">Its jobs Pending, Allocated or Running at the snapshot.</param>
/// <param name="MaxActiveJobs">Its quota (<c>Limits:MaxActiveJobsPerTenant</c>); a submission past it answers 429.</param>
public sealed record TenantUsage(string Tenant, long ActiveJobs, int MaxActiveJobs);
