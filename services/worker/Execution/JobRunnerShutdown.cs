namespace Bus.Worker.Execution;

/// <summary>On stop, ends running jobs and waits until each has released and reported (see WorkerExtensions for the order).</summary>
public sealed class JobRunnerShutdown(JobRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => runner.StopAll();
}
