using Bus.Contracts;
using Bus.Worker.Execution;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Consumers;

/// <summary>Takes a RunJob from this worker's own queue and hands it to the runner; the message is acknowledged at once.</summary>
public sealed class RunJobConsumer(JobRunner runner, IOptions<WorkerOptions> options, ILogger<RunJobConsumer> logger) : IConsumer<RunJob>
{
    public Task Consume(ConsumeContext<RunJob> context)
    {
        var job = context.Message;
        if (job.WorkerId != options.Value.Id)
        {
            // Cannot happen through routing; if it does, the reservation belongs to another worker.
            logger.LogError("RunJob for worker {Target} arrived at {WorkerId}; dropped", job.WorkerId, options.Value.Id);
            return Task.CompletedTask;
        }
        runner.Start(job);
        return Task.CompletedTask;
    }
}
