using Bus.Contracts;
using Bus.Scheduler.StateMachines;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Scheduler.Activities;

/// <summary>
/// Turns the job into a fresh attempt that waits to be placed: a new attempt number (so any late report from the
/// old attempt is stale) and no worker. After a failure the next attempt waits a backoff, recorded in
/// <see cref="JobState.NotBefore"/> rather than in a delayed message; an attempt handed back by a stopping worker
/// is placed again at once. The last attempt's exit code, output and error stay visible.
/// </summary>
public sealed class ScheduleRetryActivity(IOptions<SchedulerOptions> options, TimeProvider clock) :
    IStateMachineActivity<JobState, JobFailed>,
    IStateMachineActivity<JobState, JobStopped>,
    IStateMachineActivity<JobState, JobAttemptLost>
{
    public async Task Execute(BehaviorContext<JobState, JobFailed> context, IBehavior<JobState, JobFailed> next)
    {
        var job = context.Saga;
        job.NotBefore = clock.GetUtcNow() + options.Value.RetryDelay(job.Failures);
        NextAttempt(job, PendingReasonCode.Backoff, $"attempt {job.Attempt} failed ({context.Message.Error}); attempt {job.Attempt + 1} of at most " +
            $"{job.MaxAttempts} waits until {job.NotBefore:HH:mm:ss} UTC");
        await next.Execute(context);
    }

    public async Task Execute(BehaviorContext<JobState, JobStopped> context, IBehavior<JobState, JobStopped> next)
    {
        var job = context.Saga;
        job.NotBefore = null;
        // Placed again at once by the machine's next step, which writes the code and sentence placement gives.
        NextAttempt(job, null, $"attempt {job.Attempt} was handed back by worker {job.WorkerId}, which is stopping or lacks the service now");
        await next.Execute(context);
    }

    public async Task Execute(BehaviorContext<JobState, JobAttemptLost> context, IBehavior<JobState, JobAttemptLost> next)
    {
        // Not the job's fault, so no backoff: the next attempt is placed at once, on a live worker.
        var job = context.Saga;
        job.NotBefore = null;
        NextAttempt(job, null, $"attempt {job.Attempt} was lost with worker {job.WorkerId}, which stopped heartbeating");
        await next.Execute(context);
    }

    static void NextAttempt(JobState job, PendingReasonCode? code, string reason)
    {
        job.PendingReason = reason;
        job.PendingReasonCode = code;
        job.Attempt++;
        job.WorkerId = null;
        job.AllocatedAt = null;
        job.StartedAt = null;
        job.FinishedAt = null;
    }

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, JobFailed, TException> context, IBehavior<JobState, JobFailed> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, JobStopped, TException> context, IBehavior<JobState, JobStopped> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<TException>(BehaviorExceptionContext<JobState, JobAttemptLost, TException> context, IBehavior<JobState, JobAttemptLost> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("schedule-retry");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
