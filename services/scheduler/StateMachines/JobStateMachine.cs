using System.Text.Json;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Scheduler.Activities;
using MassTransit;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// A job's life: Pending until placed, Allocated once a worker holds its reservation, Running once the worker
/// started it, then Completed, Failed, Cancelled or TimedOut. A failed attempt is retried as a new attempt while
/// attempts remain. Reports carry the attempt number, the fencing token: a report for any attempt but the
/// current one is stale and changes nothing.
/// </summary>
public sealed class JobStateMachine : MassTransitStateMachine<JobState>
{
    public State Pending { get; private set; } = null!;
    public State Allocated { get; private set; } = null!;
    public State Running { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;
    public State TimedOut { get; private set; } = null!;

    public Event<SubmitJob> Submit { get; private set; } = null!;
    public Event<PlaceJob> Place { get; private set; } = null!;
    public Event<CancelJob> Cancel { get; private set; } = null!;
    public Event<JobStarted> Started { get; private set; } = null!;
    public Event<JobCompleted> AttemptCompleted { get; private set; } = null!;
    public Event<JobFailed> AttemptFailed { get; private set; } = null!;
    public Event<JobStopped> AttemptStopped { get; private set; } = null!;
    public Event<JobAttemptLost> AttemptLost { get; private set; } = null!;

    public JobStateMachine()
    {
        InstanceState(x => x.CurrentState);

        Event(() => Submit, e => e.CorrelateById(m => m.Message.JobId));
        // A cancel can overtake the submission it cancels by a moment: failing makes the endpoint retry it.
        Event(() => Cancel, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Fault()); });
        // Only Submit creates a job; anything else about an unknown job is dropped.
        Event(() => Place, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => Started, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => AttemptCompleted, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => AttemptFailed, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => AttemptStopped, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => AttemptLost, e => { e.CorrelateById(m => m.Message.JobId); e.OnMissingInstance(m => m.Discard()); });

        // A duplicate Submit, a Place for a job already placed, a stale report: ignored, never an error.
        OnUnhandledEvent(x => x.Ignore());

        Initially(
            When(Submit)
                .Then(x => Accept(x.Saga, x.Message))
                .PlaceOrWait());

        During(Pending,
            When(Place)
                .Activity(x => x.OfInstanceType<PlaceJobActivity>())
                .If(x => x.Saga.WorkerId is not null, placed => placed.TransitionTo(Allocated)),
            When(Cancel)
                .Then(x => x.Saga.FinishedAt = x.Message.RequestedAt)
                .TransitionTo(Cancelled));

        During(Allocated,
            When(Started, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.StartedAt = x.Message.StartedAt)
                .Activity(x => x.OfType<RecordStartActivity>())
                .TransitionTo(Running));

        // A fast job's end may overtake its start, so Allocated accepts the end of an attempt too.
        During(Allocated, Running,
            When(Cancel)
                .Activity(x => x.OfInstanceType<StopAttemptActivity>()),
            When(AttemptCompleted, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.StartedAt ??= x.Message.StartedAt)
                .Then(x => Finish(x.Saga, x.Message.ExitCode, x.Message.Output, null, x.Message.FinishedAt))
                .Then(x => x.Saga.ResultJson = x.Message.ResultJson)
                .Activity(x => x.OfInstanceType<ReleaseAllocationActivity>())
                .TransitionTo(Completed),
            // A failed attempt's retry waits out its backoff in Pending; the pending passes offer it once that is over.
            When(AttemptFailed, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.StartedAt ??= x.Message.StartedAt)
                .Then(x => Finish(x.Saga, x.Message.ExitCode, x.Message.Output, x.Message.Error, x.Message.FinishedAt))
                .Activity(x => x.OfInstanceType<ReleaseAllocationActivity>())
                .RetryOrEnd(retry => retry.Activity(a => a.OfType<ScheduleRetryActivity>()).TransitionTo(Pending),
                    retryable: x => x.Message.Retryable),
            // A lost attempt counts as a failure, but its retry needs no backoff. Should the attempt still run after
            // all (a worker too slow, not dead), StopJob ends it; its late reports are stale anyway.
            When(AttemptLost, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => Finish(x.Saga, null, "", x.Message.Reason, x.Message.DetectedAt))
                .Send(x => QueueNames.WorkerAddress(x.Message.WorkerId),
                    x => new StopJob(x.Message.JobId, x.Message.Attempt, x.Message.WorkerId, StopReason.HandedBack))
                .Activity(x => x.OfInstanceType<ReleaseAllocationActivity>())
                .RetryOrEnd(retry => retry.Activity(a => a.OfType<ScheduleRetryActivity>()).PlaceOrWait()),
            // Stopped: cancelled or timed out as asked, or handed back by a stopping worker and placed again at once,
            // not counted as a failure.
            When(AttemptStopped, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => Finish(x.Saga, null, x.Message.Output, StopError(x.Message.Reason), x.Message.FinishedAt))
                .Activity(x => x.OfInstanceType<ReleaseAllocationActivity>())
                .IfElse(x => x.Saga.CancelRequestedAt is not null || x.Message.Reason == StopReason.Cancelled,
                    cancelled => cancelled.TransitionTo(Cancelled),
                    other => other.IfElse(x => x.Message.Reason == StopReason.TimedOut,
                        timedOut => timedOut.TransitionTo(TimedOut),
                        handedBack => handedBack.Activity(a => a.OfType<ScheduleRetryActivity>()).PlaceOrWait())));

        ReleaseLeftovers();
        AnnounceFinish();
    }

    /// <summary>Tells bus clients that a job is over. The saga's outbox holds the event until the row is saved.</summary>
    void AnnounceFinish()
    {
        foreach (var final in new[] { Completed, Failed, Cancelled, TimedOut })
            WhenEnter(final, x => x.Publish(c => new JobFinished(c.Saga.CorrelationId, c.Saga.Tenant, c.Saga.RequestId,
                final.Name, c.Saga.Attempt, c.Saga.ExitCode, c.Saga.Output, c.Saga.Error, c.Saga.FinishedAt)));
    }

    /// <summary>
    /// A finished job holds no allocation. A message that places (Place, a lost or handed-back attempt) may have placed
    /// on an earlier try whose saga write then lost a race, to a cancel say; retried, it finds the job finished, or
    /// finishes it by another branch. Either way what that try placed is released here.
    /// </summary>
    void ReleaseLeftovers()
    {
        WhenEnter(Cancelled, x => x.Activity(a => a.OfType<ReleaseLeftoversActivity>()));
        WhenEnter(Failed, x => x.Activity(a => a.OfType<ReleaseLeftoversActivity>()));
        WhenEnter(TimedOut, x => x.Activity(a => a.OfType<ReleaseLeftoversActivity>()));
        During(Completed, Failed, Cancelled, TimedOut,
            When(Place).Activity(x => x.OfInstanceType<ReleaseLeftoversActivity>()),
            When(AttemptLost).Activity(x => x.OfInstanceType<ReleaseLeftoversActivity>()),
            When(AttemptStopped).Activity(x => x.OfInstanceType<ReleaseLeftoversActivity>()));
    }

    static void Accept(JobState job, SubmitJob message)
    {
        job.Tenant = message.Tenant;
        job.RequestId = message.RequestId;
        job.Service = message.Service;
        job.Command = message.Command;
        job.PayloadJson = message.PayloadJson;
        job.EnvironmentJson = message.Environment is { Count: > 0 } environment ? JsonSerializer.Serialize(environment) : null;
        job.Cpus = message.Resources.Cpus;
        job.MemoryMb = message.Resources.MemoryMb;
        job.Gpus = message.Resources.Gpus;
        job.Language = message.Constraints.Language;
        job.Pool = message.Constraints.Pool;
        job.ExcludeWorker = message.Constraints.ExcludeWorker;
        job.AffinityKey = message.Constraints.AffinityKey;
        job.Priority = message.Priority;
        job.TimeoutSeconds = message.TimeoutSeconds;
        job.MaxAttempts = message.MaxAttempts;
        job.Attempt = 1;
        job.SubmittedAt = message.SubmittedAt;
    }

    static void Finish(JobState job, int? exitCode, string output, string? error, DateTimeOffset finishedAt)
    {
        job.ExitCode = exitCode;
        job.Output = output;
        job.Error = error;
        job.FinishedAt = finishedAt;
    }

    static string StopError(StopReason reason) => reason switch
    {
        StopReason.Cancelled => "cancelled",
        StopReason.TimedOut => "timed out: killed after its timeoutSeconds",
        _ => "handed back: the worker was stopping, or its service was unavailable there",
    };
}
