using Bus.Contracts;
using Bus.Worker.Execution;
using MassTransit;

namespace Bus.Worker.Consumers;

/// <summary>Stops an attempt on this worker (a cancel): the runner kills it, releases, and reports it stopped.</summary>
public sealed class StopJobConsumer(JobRunner runner) : IConsumer<StopJob>
{
    public Task Consume(ConsumeContext<StopJob> context)
    {
        runner.Stop(context.Message.JobId, context.Message.Attempt, context.Message.Reason);
        return Task.CompletedTask;
    }
}
