using System.Security.Claims;
using Bus.Contracts;
using Bus.Gateway.Auth;
using Bus.Gateway.Limits;
using Bus.Gateway.Stats;
using Bus.Hosting.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Apis;

/// <summary>
/// <c>GET /api/v1/stats</c> and <c>GET /api/v1/stats/history</c> of docs/api.md: cluster capacity and load for any key; job counts of the whole cluster for
/// an admin key, of the caller's tenant for any other; and the caller's tenant against its quota.
/// </summary>
public static class StatsApi
{
    public static RouteGroupBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stats").RequireAuthorization();
        api.MapGet("/", GetStats);
        api.MapGet("/history", GetHistory);
        return api;
    }

    /// <summary>
    /// The last 15 minutes of snapshots, one sample per refresh, for the dashboard's charts: utilization (the
    /// cluster's, for any key), and pending, running and completions per second (the cluster's for an admin key,
    /// the caller's tenant's for any other).
    /// </summary>
    static Ok<StatsHistoryPage> GetHistory(ClaimsPrincipal user, StatsHistory history, IOptions<StatsOptions> options) =>
        TypedResults.Ok(new StatsHistoryPage(options.Value.RefreshInterval.TotalSeconds, history.Samples(user.IsAdmin() ? null : user.Tenant())));

    /// <summary>Never computed for the request: the background snapshot, or on a cold start the one shared first build.</summary>
    static async Task<Ok<StatsSnapshot>> GetStats(
        ClaimsPrincipal user, StatsSnapshots snapshots, LastKnownGood<LimitOptions> limits, CancellationToken cancellationToken)
    {
        var snapshot = await snapshots.Current().WaitAsync(cancellationToken);
        var tenant = user.Tenant();
        var own = StatsSnapshots.CountsOf(snapshot, tenant);
        var usage = new TenantUsage(tenant, JobStates.Active.Sum(s => own.JobsByState[s]),
            limits.CurrentValue.MaxActiveJobsOf(tenant));
        return TypedResults.Ok(user.IsAdmin()
            ? snapshot with { Usage = usage }
            : snapshot with
            {
                JobsByState = own.JobsByState,
                PendingCount = own.JobsByState[JobStates.Pending],
                CompletedLastMinute = own.CompletedLastMinute,
                Usage = usage,
            });
    }
}
