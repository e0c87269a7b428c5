using Bus.Scheduler.Activities;
using MassTransit;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// The steps <see cref="JobStateMachine"/> takes from more than one event, written once: placing an attempt, and
/// deciding after a failed attempt whether the job gets another. They add the same activities and transitions the
/// machine would spell out in place, so MassTransit's graph of the machine shows them under every event that uses them.
/// </summary>
public static class JobSteps
{
    /// <summary>Tries to place the job's current attempt: Allocated when a worker took it, else Pending with placement's reason.</summary>
    public static EventActivityBinder<JobState, T> PlaceOrWait<T>(this EventActivityBinder<JobState, T> binder) where T : class
    {
        var job = Machine(binder);
        return binder
            .Activity(x => x.OfInstanceType<PlaceJobActivity>())
            .IfElse(x => x.Saga.WorkerId is not null,
                placed => placed.TransitionTo(job.Allocated),
                waiting => waiting.TransitionTo(job.Pending));
    }

    /// <summary>
    /// Counts the attempt as failed, then runs <paramref name="retry"/> while attempts remain, no cancel was asked for
    /// and <paramref name="retryable"/> (when given) allows it. Otherwise the job ends: Failed, or Cancelled when a
    /// cancel was asked for while the attempt ran.
    /// </summary>
    public static EventActivityBinder<JobState, T> RetryOrEnd<T>(this EventActivityBinder<JobState, T> binder,
        Func<EventActivityBinder<JobState, T>, EventActivityBinder<JobState, T>> retry,
        StateMachineCondition<JobState, T>? retryable = null) where T : class
    {
        var job = Machine(binder);
        return binder
            .Then(x => x.Saga.Failures++)
            .IfElse(x => x.Saga.Failures < x.Saga.MaxAttempts && x.Saga.CancelRequestedAt is null && (retryable?.Invoke(x) ?? true),
                retry,
                end => end.IfElse(x => x.Saga.CancelRequestedAt is null,
                    failed => failed.TransitionTo(job.Failed),
                    cancelled => cancelled.TransitionTo(job.Cancelled)));
    }

    // A binder's machine is the one whose When made it; JobState has no other machine.
    static JobStateMachine Machine<T>(EventActivityBinder<JobState, T> binder) where T : class => (JobStateMachine)binder.StateMachine;
}
