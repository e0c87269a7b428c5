using Bus.Scheduler.StateMachines;
using MassTransit;

namespace Bus.Scheduler.Activities;

/// <summary>
/// Base of the activities that act on the job alone, whichever event triggered them: a subclass writes only
/// <see cref="Run"/>; passing control on, faults, probing and visiting are the same for all.
/// </summary>
public abstract class JobActivity(string name) : IStateMachineActivity<JobState>
{
    protected abstract Task Run(BehaviorContext<JobState> context);

    public async Task Execute(BehaviorContext<JobState> context, IBehavior<JobState> next)
    {
        await Run(context);
        await next.Execute(context);
    }

    public async Task Execute<T>(BehaviorContext<JobState, T> context, IBehavior<JobState, T> next) where T : class
    {
        await Run(context);
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, TException> context, IBehavior<JobState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<JobState, T, TException> context, IBehavior<JobState, T> next)
        where T : class where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope(name);

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
