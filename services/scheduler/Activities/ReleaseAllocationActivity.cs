using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>Releases the finished attempt's allocation, in Redis (a no-op when the worker already did) and in PostgreSQL.</summary>
public sealed class ReleaseAllocationActivity(IAllocationRecorder recorder) : IStateMachineActivity<JobState>
{
    public async Task Execute(BehaviorContext<JobState> context, IBehavior<JobState> next)
    {
        await Release(context.Saga);
        await next.Execute(context);
    }

    public async Task Execute<T>(BehaviorContext<JobState, T> context, IBehavior<JobState, T> next) where T : class
    {
        await Release(context.Saga);
        await next.Execute(context);
    }

    Task Release(JobState job) =>
        job.WorkerId is null ? Task.CompletedTask : recorder.Released(job.WorkerId, job.CorrelationId, job.Attempt);

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, TException> context, IBehavior<JobState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<JobState, T, TException> context, IBehavior<JobState, T> next)
        where T : class where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("release-allocation");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
