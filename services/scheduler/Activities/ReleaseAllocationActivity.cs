using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// Releases the finished attempt's allocation: in Redis now (a no-op when the worker already did), in PostgreSQL with
/// the saga's write (<see cref="JobState.NewReleases"/>), so a write that fails leaves the row held for the retry.
/// </summary>
public sealed class ReleaseAllocationActivity(IAllocationRecorder recorder) : JobActivity("release-allocation")
{
    protected override async Task Run(BehaviorContext<JobState> context)
    {
        if (context.Saga.WorkerId is { } workerId)
            context.Saga.NewReleases.Add(await recorder.Released(workerId, context.Saga.CorrelationId, context.Saga.Attempt));
    }
}
