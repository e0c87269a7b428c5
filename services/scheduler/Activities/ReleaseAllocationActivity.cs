using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// Marks the finished attempt's allocation released in PostgreSQL. The worker has already given the Redis
/// reservation back before reporting (R7); releasing it here again is a no-op that covers a worker whose
/// own release failed.
/// </summary>
public sealed class ReleaseAllocationActivity(CapacityLedger ledger, AllocationStore allocations, TimeProvider clock)
    : IStateMachineActivity<JobState>
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

    async Task Release(JobState job)
    {
        if (job.WorkerId is null)
            return;
        await ledger.Release(job.WorkerId, job.CorrelationId, job.Attempt);
        await allocations.Release(job.CorrelationId, job.Attempt, clock.GetUtcNow());
    }

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, TException> context, IBehavior<JobState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<JobState, T, TException> context, IBehavior<JobState, T> next)
        where T : class where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("release-allocation");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
