using Bus.Contracts;
using Bus.Infrastructure.Redis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary>A live worker as <c>GET /api/v1/workers</c> shows it.</summary>
public sealed record WorkerView(
    string WorkerId,
    ResourceVector Capacity,
    ResourceVector Used,
    int MaxConcurrentJobs,
    int RunningJobs,
    string[] Services,
    string[] Languages,
    string[] Pools,
    string Status,
    DateTimeOffset LastHeartbeat);

public static class WorkersApi
{
    public static RouteGroupBuilder MapWorkersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/workers").RequireAuthorization();
        api.MapGet("/", ListWorkers);
        return api;
    }

    static async Task<Ok<IReadOnlyList<WorkerView>>> ListWorkers(WorkerRegistry registry)
    {
        var workers = await registry.ListLive();
        return TypedResults.Ok<IReadOnlyList<WorkerView>>(workers
            .OrderBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select(w => new WorkerView(
                w.WorkerId, w.Registration.Capacity, w.Used, w.Registration.MaxConcurrentJobs, w.RunningJobs,
                w.Registration.Services, w.Registration.Languages, [], w.Registration.Status, w.LastHeartbeat))
            .ToList());
    }
}
