using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.Worker.Execution;
using Bus.Worker.Journal;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Consumers;

/// <summary>Takes a RunJob from this worker's own queue and hands it to the runner; the message is acknowledged at once.</summary>
public sealed class RunJobConsumer(
    JobRunner runner, AllocationStore allocations, AttemptJournal journal, ReportSender reports, IOptions<WorkerOptions> options,
    ILogger<RunJobConsumer> logger)
    : IConsumer<RunJob>
{
    public async Task Consume(ConsumeContext<RunJob> context)
    {
        var job = context.Message;
        if (job.WorkerId != options.Value.Id)
        {
            // Cannot happen through routing; if it does, the reservation belongs to another worker.
            logger.LogError("RunJob for worker {Target} arrived at {WorkerId}; dropped", job.WorkerId, options.Value.Id);
            return;
        }
        // Exactly once per attempt: a RunJob for an attempt this worker already started, ended or disowned (a
        // redelivery, or the start lease sending it again) never runs it again, even after a restart. For one that
        // ended, the final report is sent again: the scheduler may be waiting for it.
        switch (journal.Find(job.JobId, job.Attempt))
        {
            case AttemptRecord.Reported or AttemptRecord.Confirmed:
                logger.LogInformation("Job {JobId} attempt {Attempt} already ended here; sending its report again", job.JobId, job.Attempt);
                reports.TryResendStored(job.JobId, job.Attempt);
                return;
            case { } known:
                logger.LogInformation("Job {JobId} attempt {Attempt} is {State} here; not running it again", job.JobId, job.Attempt, known);
                return;
        }
        // The fencing check: run only the attempt that holds the allocation. A RunJob that arrives after the
        // scheduler gave up on its attempt (lease expired, job cancelled) finds it released and must not run.
        // PostgreSQL answers, not Redis: the truth, and there whichever ledger the reservation was taken on.
        if (!await allocations.Holds(job.JobId, job.Attempt, job.WorkerId))
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} no longer holds a reservation here; not running it", job.JobId, job.Attempt);
            return;
        }
        if (journal.TryBegin(job.JobId, job.Attempt))
            runner.Start(job);
    }
}
