using Bus.Scheduler.Data;
using MassTransit;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// Notes each state change on the saga instance (<see cref="JobState.NewTransitions"/>); the saga's own write then
/// stores them in the same transaction. Watching the machine's transitions, rather than recording in each activity,
/// covers every path through the machine, present and future, with no step able to forget it.
/// </summary>
public sealed class JobTransitionRecorder(JobStateMachine machine, TimeProvider clock) : IStateObserver<JobState>
{
    bool IsFinal(State state) =>
        Equals(state, machine.Completed) || Equals(state, machine.Failed) || Equals(state, machine.TimedOut) || Equals(state, machine.Cancelled);

    public Task StateChanged(BehaviorContext<JobState> context, State currentState, State previousState)
    {
        // A new instance is first put in Initial, from no state at all: that is its creation, not a transition.
        if (previousState is null)
            return Task.CompletedTask;
        var job = context.Saga;
        // The row keeps the last attempt's exit code and error, and a reason only while the job waits: each
        // transition carries them only where they describe it.
        var transition = new JobTransition
        {
            JobId = job.CorrelationId,
            Tenant = job.Tenant,
            FromState = previousState.Name,
            ToState = currentState.Name,
            Event = context.Event.Name,
            MessageId = context.MessageId,
            At = clock.GetUtcNow(),
            // A final state carries the job's result whichever way the machine got there; a move back to Pending
            // carries the result of the attempt that just ended.
            EndsAttempt = IsFinal(currentState)
                          || ((Equals(previousState, machine.Allocated) || Equals(previousState, machine.Running))
                              && Equals(currentState, machine.Pending)),
            ToPending = Equals(currentState, machine.Pending),
        };
        transition.Describe(job);
        job.NewTransitions.Add(transition);
        return Task.CompletedTask;
    }
}
