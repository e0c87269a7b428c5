using Bus.Scheduler.Observability;
using Bus.Scheduler.StateMachines;
using MassTransit;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.Metrics;

/// <summary>
/// Counts jobs as the saga moves them: submitted, finished by final state, and the time from submission to the first
/// attempt running. It watches the state machine's transitions rather than sitting in its activities, so the machine
/// stays about jobs and every transition is seen, whichever event caused it. A transition whose saga write then
/// loses a concurrency race is retried and seen again, so under contention a count can run slightly high.
/// </summary>
public sealed class JobLifecycleMetrics(JobStateMachine machine, TimeProvider clock) : IStateObserver<JobState>
{
    public Task StateChanged(BehaviorContext<JobState> context, State currentState, State previousState)
    {
        var job = context.Saga;
        if (Equals(previousState, machine.Initial))
            SchedulerInstruments.JobSubmitted(job.Service);
        if (IsFinal(currentState))
            SchedulerInstruments.JobFinished(job.Service, currentState.Name);
        // A short job may report only its end, so its start is seen on the way from Allocated to its final state. The
        // machine may copy the reported start time only after this change, so the end stands in for it: such a job
        // ran for less than the worker's StartedReportDelay.
        var started = Equals(currentState, machine.Running) || (Equals(previousState, machine.Allocated) && IsFinal(currentState)
                                                                   && !Equals(currentState, machine.Cancelled));
        if (started && job.Attempt == 1)
            SchedulerInstruments.JobStarted(job.Service, (job.StartedAt ?? clock.GetUtcNow()) - job.SubmittedAt);
        return Task.CompletedTask;
    }

    bool IsFinal(State state) =>
        Equals(state, machine.Completed) || Equals(state, machine.Failed) || Equals(state, machine.TimedOut) || Equals(state, machine.Cancelled);
}
