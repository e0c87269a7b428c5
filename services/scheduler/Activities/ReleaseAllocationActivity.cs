using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>Releases the finished attempt's allocation, in Redis (a no-op when the worker already did) and in PostgreSQL.</summary>
public sealed class ReleaseAllocationActivity(IAllocationRecorder recorder) : JobActivity("release-allocation")
{
    protected override Task Run(BehaviorContext<JobState> context) => context.Saga.WorkerId is { } workerId
        ? recorder.Released(workerId, context.Saga.CorrelationId, context.Saga.Attempt)
        : Task.CompletedTask;
}
