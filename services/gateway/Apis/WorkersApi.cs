using Bus.Contracts;
using Bus.Infrastructure.Messaging;
using Bus.Infrastructure.Redis;
using MassTransit;
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
        api.MapPost("/{workerId}/drain", DrainWorker).RequireAuthorization("admin");
        return api;
    }

    /// <summary>The worker takes no new jobs and unregisters once its running jobs have ended; its process stays up.</summary>
    static async Task<Results<Accepted<WorkerView>, NotFound>> DrainWorker(
        string workerId, WorkerRegistry registry, ISendEndpointProvider send, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await registry.Read(workerId) is not { } worker)
            return TypedResults.NotFound();
        var endpoint = await send.GetSendEndpoint(QueueNames.WorkerAddress(workerId));
        await endpoint.Send(new DrainWorker(workerId, clock.GetUtcNow()), cancellationToken);
        return TypedResults.Accepted($"/api/v1/workers", View(worker) with { Status = WorkerStatus.Draining });
    }

    static async Task<Ok<IReadOnlyList<WorkerView>>> ListWorkers(WorkerRegistry registry)
    {
        var workers = await registry.ListLive();
        return TypedResults.Ok<IReadOnlyList<WorkerView>>(workers
            .OrderBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select(View)
            .ToList());
    }

    static WorkerView View(WorkerSnapshot w) => new(
        w.WorkerId, w.Registration.Capacity, w.Used, w.Registration.MaxConcurrentJobs, w.RunningJobs,
        w.Registration.Services, w.Registration.Languages, [], w.Registration.Status, w.LastHeartbeat);
}
