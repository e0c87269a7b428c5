using Bus.Gateway.Stats;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary><c>GET /api/v1/stats</c> of API.md: the cluster-wide snapshot, for any authenticated key.</summary>
public static class StatsApi
{
    public static RouteGroupBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/stats").RequireAuthorization();
        api.MapGet("/", GetStats);
        return api;
    }

    /// <summary>Never computed for the request: the background snapshot, or on a cold start the one shared first build.</summary>
    static async Task<Ok<StatsSnapshot>> GetStats(StatsSnapshots snapshots, CancellationToken cancellationToken) =>
        TypedResults.Ok(await snapshots.Current().WaitAsync(cancellationToken));
}
