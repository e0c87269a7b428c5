using System.Collections.Concurrent;
using Bus.Contracts;
using Bus.Infrastructure.Redis;
using MassTransit;

namespace Bus.Worker.Execution;

/// <summary>
/// Runs accepted jobs in the background, so the RunJob message is acknowledged at once instead of being held
/// for hours (RabbitMQ closes a channel whose delivery stays unacknowledged past its consumer timeout).
/// Each job: report Started, run, release the reservation, then report the end (R7: release before report).
/// </summary>
public sealed class JobRunner(
    IEnumerable<IJobExecutor> executors,
    CapacityLedger ledger,
    IBus bus,
    TimeProvider clock,
    ILogger<JobRunner> logger)
{
    readonly Dictionary<string, IJobExecutor> _executors = executors.ToDictionary(e => e.Service);
    readonly ConcurrentDictionary<Guid, Task> _running = new();
    readonly CancellationTokenSource _stopping = new();

    /// <summary>The jobs running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Starts the job unless this attempt already runs here (a redelivered RunJob).</summary>
    public void Start(RunJob job)
    {
        if (_running.ContainsKey(job.JobId))
        {
            logger.LogInformation("Job {JobId} attempt {Attempt} already runs here; ignoring the duplicate", job.JobId, job.Attempt);
            return;
        }
        var run = new TaskCompletionSource();
        if (!_running.TryAdd(job.JobId, run.Task))
            return;
        _ = Task.Run(async () =>
        {
            try { await Run(job); }
            finally
            {
                _running.TryRemove(job.JobId, out _);
                run.SetResult();
            }
        });
    }

    /// <summary>Stops every running job and waits until each has released and reported.</summary>
    public async Task StopAll()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values);
    }

    async Task Run(RunJob job)
    {
        ExecutionResult result;
        try
        {
            if (!_executors.TryGetValue(job.Service, out var executor))
                result = new ExecutionResult(null, "", $"this worker has no executor for service '{job.Service}'");
            else
                result = await executor.Run(job, processId => bus.Publish(
                    new JobStarted(job.JobId, job.Attempt, job.WorkerId, processId, clock.GetUtcNow())), _stopping.Token);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {JobId} attempt {Attempt} crashed in its executor", job.JobId, job.Attempt);
            result = new ExecutionResult(null, "", $"the worker failed to run the job: {e.Message}");
        }

        await ReleaseReservation(job);
        var finishedAt = clock.GetUtcNow();
        if (result.Succeeded)
            await bus.Publish(new JobCompleted(job.JobId, job.Attempt, job.WorkerId, 0, result.Output, finishedAt));
        else
            await bus.Publish(new JobFailed(job.JobId, job.Attempt, job.WorkerId, result.ExitCode, result.Output, result.Error!, finishedAt));
        logger.LogInformation("Job {JobId} attempt {Attempt} ended: {Outcome}", job.JobId, job.Attempt, result.Error ?? "completed");
    }

    async Task ReleaseReservation(RunJob job)
    {
        try
        {
            await ledger.Release(job.WorkerId, job.JobId, job.Attempt);
        }
        catch (Exception e)
        {
            // The scheduler releases again when it records the end, so the report still goes out.
            logger.LogWarning(e, "Releasing job {JobId} attempt {Attempt} in Redis failed", job.JobId, job.Attempt);
        }
    }
}
