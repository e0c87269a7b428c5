using Bus.Contracts;
using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>Notes the started process's id on the allocation row, so recovery can find the process later.</summary>
public sealed class RecordStartActivity(IAllocationRecorder recorder) : IStateMachineActivity<JobState, JobStarted>
{
    public async Task Execute(BehaviorContext<JobState, JobStarted> context, IBehavior<JobState, JobStarted> next)
    {
        await recorder.Started(context.Message.JobId, context.Message.Attempt, context.Message.ProcessId);
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, JobStarted, TException> context, IBehavior<JobState, JobStarted> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("record-start");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
