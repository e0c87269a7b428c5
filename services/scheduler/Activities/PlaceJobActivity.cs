using System.Text.Json;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// Tries to place the job's current attempt. Placed: the saga records the worker and sends it <see cref="RunJob"/>
/// (held by the in-memory outbox until the saga row is saved). Not placed: the saga records why it waits.
/// </summary>
public sealed class PlaceJobActivity(IPlacementEngine engine, TimeProvider clock) : JobActivity("place-job")
{
    protected override async Task Run(BehaviorContext<JobState> context)
    {
        var job = context.Saga;
        if (job.NotBefore > clock.GetUtcNow())
            return; // a retry still in its backoff; its pending reason says until when
        var request = new PlacementRequest(
            job.CorrelationId, job.Attempt, job.Service,
            new ResourceVector(job.Cpus, job.MemoryMb, job.Gpus),
            new PlacementConstraints(job.Language, job.Pool, job.ExcludeWorker, job.AffinityKey),
            job.Tenant, job.Priority, job.SubmittedAt);

        switch (await engine.Place(request))
        {
            case PlacementDecision.Placed placed:
                job.WorkerId = placed.WorkerId;
                job.AllocatedAt = clock.GetUtcNow();
                job.PendingReason = null;
                job.PendingReasonCode = null;
                job.NotBefore = null;
                var worker = await context.GetSendEndpoint(QueueNames.WorkerAddress(placed.WorkerId));
                await worker.Send(new RunJob(
                    job.CorrelationId, job.Attempt, placed.WorkerId, job.Service, job.Command, job.PayloadJson,
                    request.Resources, job.TimeoutSeconds,
                    job.EnvironmentJson is null ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(job.EnvironmentJson),
                    job.Language));
                break;
            case PlacementDecision.Waiting waiting:
                job.PendingReason = waiting.Reason;
                job.PendingReasonCode = waiting.Code;
                break;
        }
    }
}
