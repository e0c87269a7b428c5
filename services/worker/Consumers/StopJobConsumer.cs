using Bus.Contracts;
using Bus.Worker.Execution;
using Bus.Worker.Journal;
using MassTransit;

namespace Bus.Worker.Consumers;

/// <summary>
/// Stops an attempt on this worker (a cancel, or the server's timeout): the runner kills it, releases, and reports it
/// stopped. An attempt that already ended here has its final report sent again instead: a stop that comes because the
/// report did not arrive (the server saw the attempt Running past its timeout) is answered with how it really ended.
/// </summary>
public sealed class StopJobConsumer(JobRunner runner, ReportSender reports, ILogger<StopJobConsumer> logger) : IConsumer<StopJob>
{
    public Task Consume(ConsumeContext<StopJob> context)
    {
        var (jobId, attempt) = (context.Message.JobId, context.Message.Attempt);
        if (!runner.RunningAttempts.Contains($"{jobId}:{attempt}") && reports.TryResendStored(jobId, attempt))
        {
            logger.LogInformation("Job {JobId} attempt {Attempt} already ended here; sent its final report again instead of stopping it", jobId, attempt);
            return Task.CompletedTask;
        }
        runner.Stop(jobId, attempt, context.Message.Reason);
        return Task.CompletedTask;
    }
}
