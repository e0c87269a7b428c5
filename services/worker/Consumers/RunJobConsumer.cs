using Bus.Contracts;
using Bus.Infrastructure.Data;
using Bus.Worker.Execution;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Consumers;

/// <summary>Takes a RunJob from this worker's own queue and hands it to the runner; the message is acknowledged at once.</summary>
public sealed class RunJobConsumer(JobRunner runner, AllocationStore allocations, IOptions<WorkerOptions> options, ILogger<RunJobConsumer> logger)
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
        // The fencing check: run only the attempt that holds the allocation. A RunJob that arrives after the
        // scheduler gave up on its attempt (lease expired, job cancelled) finds it released and must not run.
        // PostgreSQL answers, not Redis: the truth, and there whichever ledger the reservation was taken on.
        if (!await allocations.Holds(job.JobId, job.Attempt, job.WorkerId))
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} no longer holds a reservation here; not running it", job.JobId, job.Attempt);
            return;
        }
        runner.Start(job);
    }
}
