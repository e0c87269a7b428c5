using Bus.Contracts;
using Bus.Infrastructure.Data;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>Notes the started process's id on the allocation row, so recovery can find the process later (R4, R17).</summary>
public sealed class RecordStartActivity(AllocationStore allocations) : IStateMachineActivity<JobState, JobStarted>
{
    public async Task Execute(BehaviorContext<JobState, JobStarted> context, IBehavior<JobState, JobStarted> next)
    {
        if (context.Message.ProcessId is { } processId)
            await allocations.SetProcessId(context.Message.JobId, context.Message.Attempt, processId);
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, JobStarted, TException> context, IBehavior<JobState, JobStarted> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("record-start");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
