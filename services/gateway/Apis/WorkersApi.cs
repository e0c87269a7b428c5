using Bus.Capacity.Pools;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Gateway.Workers;
using Bus.Hosting.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary>
/// A live worker as <c>GET /api/v1/workers</c> shows it. <see cref="Pools"/> are the pools it belongs to under the
/// gateway's <c>Placement:Pools</c> (<c>default</c> when no pool admits it), the same rules the scheduler places by.
/// <see cref="Enforcement"/> says how it contains its jobs (<c>cgroup-v2</c>, <c>cgroup-v1</c>, <c>process-group</c>;
/// null when it runs no shell jobs, or while Redis is down); <see cref="GpuDevices"/> are the GPU ids it hands out.
/// </summary>
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
    DateTimeOffset LastHeartbeat,
    string? Enforcement,
    string[] GpuDevices);

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
        string workerId, LiveWorkers liveWorkers, ConfiguredPools pools, ISendEndpointProvider send, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (await liveWorkers.Find(workerId, cancellationToken) is not { } worker)
            return TypedResults.NotFound();
        var endpoint = await send.GetSendEndpoint(QueueNames.WorkerAddress(workerId));
        await endpoint.Send(new DrainWorker(workerId, clock.GetUtcNow()), cancellationToken);
        return TypedResults.Accepted($"/api/v1/workers", View(worker, pools.Current) with { Status = WorkerStatus.Draining });
    }

    /// <summary>From Redis, or from the workers' heartbeats in PostgreSQL while Redis is down.</summary>
    static async Task<Ok<IReadOnlyList<WorkerView>>> ListWorkers(LiveWorkers liveWorkers, ConfiguredPools pools, CancellationToken cancellationToken)
    {
        var workers = await liveWorkers.List(cancellationToken);
        var current = pools.Current;
        return TypedResults.Ok<IReadOnlyList<WorkerView>>(workers
            .OrderBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select(w => View(w, current))
            .ToList());
    }

    static WorkerView View(WorkerSnapshot w, PoolSet pools) => new(
        w.WorkerId, w.Registration.Capacity, w.Used, w.Registration.MaxConcurrentJobs, w.RunningJobs,
        w.Registration.Services, w.Registration.Languages, pools.Membership(w.Registration), w.Registration.Status, w.LastHeartbeat,
        w.Registration.Enforcement, w.Registration.GpuDevices ?? []);
}
