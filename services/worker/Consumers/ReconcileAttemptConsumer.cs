using Bus.Contracts;
using Bus.Worker.Execution;
using Bus.Worker.Journal;
using MassTransit;

namespace Bus.Worker.Consumers;

/// <summary>
/// Answers the reconciler about an attempt the database calls Running and this worker's heartbeats do not list, from
/// what this worker knows: its final report if it has one; nothing if the attempt runs after all (the next beat lists
/// it); otherwise the attempt is disowned and reported lost. Disowning first is what makes the loss safe: a RunJob
/// for the attempt that still arrives is not run, so no late report of it can follow the loss.
/// </summary>
public sealed class ReconcileAttemptConsumer(
    JobRunner runner, AttemptJournal journal, ReportSender reports, TimeProvider clock, ILogger<ReconcileAttemptConsumer> logger)
    : IConsumer<ReconcileAttempt>
{
    public async Task Consume(ConsumeContext<ReconcileAttempt> context)
    {
        var (jobId, attempt) = (context.Message.JobId, context.Message.Attempt);
        if (runner.RunningAttempts.Contains($"{jobId}:{attempt}"))
            return;
        if (reports.TryResendStored(jobId, attempt))
        {
            logger.LogInformation("Job {JobId} attempt {Attempt}: sent its final report again, as the reconciler asked", jobId, attempt);
            return;
        }
        if (!journal.Disown(jobId, attempt))
            return; // running here after all, or its report is on its way
        logger.LogWarning("Job {JobId} attempt {Attempt} is unknown here; reported lost", jobId, attempt);
        await context.Publish(new JobAttemptLost(jobId, attempt, context.Message.WorkerId, clock.GetUtcNow(),
            $"worker {context.Message.WorkerId} has no record of running attempt {attempt}"));
    }
}
