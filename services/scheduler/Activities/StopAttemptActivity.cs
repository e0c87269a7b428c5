using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// A user cancelled a job a worker holds: remember the request and tell the worker to kill the attempt. The job
/// becomes Cancelled when the worker reports the attempt stopped and its resources released.
/// </summary>
public sealed class StopAttemptActivity(TimeProvider clock) : JobActivity("stop-attempt")
{
    protected override async Task Run(BehaviorContext<JobState> context)
    {
        var job = context.Saga;
        job.CancelRequestedAt ??= clock.GetUtcNow();
        var worker = await context.GetSendEndpoint(QueueNames.WorkerAddress(job.WorkerId!));
        await worker.Send(new StopJob(job.CorrelationId, job.Attempt, job.WorkerId!, StopReason.Cancelled));
    }
}
