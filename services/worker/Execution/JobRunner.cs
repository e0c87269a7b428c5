using System.Collections.Concurrent;
using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.Worker.Journal;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// Runs accepted jobs in the background, so the RunJob message is acknowledged at once instead of being held
/// for hours (RabbitMQ closes a channel whose delivery stays unacknowledged past its consumer timeout).
/// Each attempt: report Started (unless it ends within <see cref="WorkerOptions.StartedReportDelay"/>), run until it
/// ends or is stopped (cancel, timeout, shutdown), release the reservation, then report how it ended (release
/// before report).
/// </summary>
public sealed class JobRunner(
    IEnumerable<IJobExecutor> executors,
    ICapacityLedger ledger,
    IBus bus,
    ReportSender reports,
    IOptions<WorkerOptions> options,
    WorkerLifecycle lifecycle,
    TimeProvider clock,
    ILogger<JobRunner> logger)
{
    readonly Dictionary<string, IJobExecutor> _executors = executors.ToDictionary(e => e.Service);
    readonly ConcurrentDictionary<Guid, RunningAttempt> _running = new();
    // A StopJob can overtake its RunJob on the worker's queue; remember it so the RunJob then does not run. Kept for
    // StoppedEarlyMemory only: a RunJob that is that late was given up by the scheduler anyway.
    readonly ConcurrentDictionary<(Guid JobId, int Attempt), (StopReason Reason, DateTimeOffset At)> _stoppedEarly = new();
    static readonly TimeSpan StoppedEarlyMemory = TimeSpan.FromMinutes(10);

    /// <summary>The jobs running now.</summary>
    public int RunningCount => _running.Count;

    /// <summary>The attempts running now, as <c>jobId:attempt</c>; the heartbeat carries them.</summary>
    public IReadOnlyList<string> RunningAttempts => _running.Values.Select(r => $"{r.Job.JobId}:{r.Job.Attempt}").ToList();

    /// <summary>Starts the attempt unless it already runs here (a redelivered RunJob), was stopped, or the worker is draining.</summary>
    public void Start(RunJob job)
    {
        var attempt = new RunningAttempt(job);
        if (_stoppedEarly.TryRemove((job.JobId, job.Attempt), out var early))
            attempt.RequestStop(early.Reason);
        else if (lifecycle.IsDraining)
            attempt.RequestStop(StopReason.HandedBack);

        if (!_running.TryAdd(job.JobId, attempt))
        {
            logger.LogInformation("Job {JobId} already runs here; ignoring attempt {Attempt}", job.JobId, job.Attempt);
            return;
        }
        attempt.StopAfter(TimeSpan.FromSeconds(job.TimeoutSeconds));
        attempt.Completion = Task.Run(async () =>
        {
            try { await Run(attempt); }
            finally
            {
                _running.TryRemove(job.JobId, out _);
                attempt.Dispose();
            }
        });
    }

    /// <summary>Stops one attempt: kills it if it runs here, or makes sure it never starts.</summary>
    public void Stop(Guid jobId, int attempt, StopReason reason)
    {
        if (_running.TryGetValue(jobId, out var running) && running.Job.Attempt == attempt)
            running.RequestStop(reason);
        else
        {
            var now = clock.GetUtcNow();
            foreach (var (key, early) in _stoppedEarly)
                if (now - early.At > StoppedEarlyMemory)
                    _stoppedEarly.TryRemove(key, out _);
            _stoppedEarly[(jobId, attempt)] = (reason, now);
        }
    }

    /// <summary>
    /// On shutdown: takes no new jobs, gives running ones <see cref="WorkerOptions.ShutdownGracePeriod"/> to end by
    /// themselves, then hands the rest back. Returns once every attempt has released and reported.
    /// </summary>
    public async Task StopAll()
    {
        lifecycle.StartDraining();
        var all = Task.WhenAll(_running.Values.Select(r => r.Completion));
        if (_running.IsEmpty || await Task.WhenAny(all, Task.Delay(options.Value.ShutdownGracePeriod, clock)) == all)
            return;
        logger.LogInformation("Handing back {Count} jobs still running after the grace period", _running.Count);
        foreach (var running in _running.Values)
            running.RequestStop(StopReason.HandedBack);
        await Task.WhenAll(_running.Values.Select(r => r.Completion));
    }

    async Task Run(RunningAttempt attempt)
    {
        var job = attempt.Job;
        ExecutionResult result;
        DateTimeOffset? startedAt = null;
        var startedReport = Task.CompletedTask;
        var ended = new CancellationTokenSource();
        try
        {
            if (attempt.Reason is not null)
                result = ExecutionResult.Stopped("");
            else if (!_executors.TryGetValue(job.Service, out var executor))
                throw new ServiceUnavailableException($"this worker has no executor for service '{job.Service}'");
            else
                result = await executor.Run(job, processId =>
                {
                    startedAt = clock.GetUtcNow();
                    startedReport = ReportStartedUnlessEnded(job, processId, startedAt.Value, ended.Token);
                    return Task.CompletedTask;
                }, attempt.Token);
        }
        catch (ServiceUnavailableException e)
        {
            logger.LogWarning("Service {Service} unavailable here: {Reason}; handing job {JobId} back", job.Service, e.Message, job.JobId);
            await bus.Publish(new ServiceUnavailable(job.WorkerId, job.Service, e.Message, clock.GetUtcNow()));
            attempt.RequestStop(StopReason.HandedBack);
            result = ExecutionResult.Stopped("");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {JobId} attempt {Attempt} crashed in its executor", job.JobId, job.Attempt);
            result = new ExecutionResult(null, "", $"the worker failed to run the job: {e.Message}");
        }

        await ended.CancelAsync();
        var finishedAt = clock.GetUtcNow();
        object report = result switch
        {
            { Killed: true } => new JobStopped(job.JobId, job.Attempt, job.WorkerId, attempt.Reason ?? StopReason.HandedBack, result.Output, finishedAt),
            { Succeeded: true } => new JobCompleted(job.JobId, job.Attempt, job.WorkerId, 0, result.Output, finishedAt, startedAt, result.ResultJson),
            _ => new JobFailed(job.JobId, job.Attempt, job.WorkerId, result.ExitCode, result.Output, result.Error ?? "failed", finishedAt, startedAt, result.Retryable),
        };
        // The outcome goes to the journal first, before anything slow: a worker that dies after this line is
        // restarted into sending this report, not into counting the attempt lost and running it again.
        reports.Record(job.JobId, job.Attempt, report);
        await CleanUp(job, result);
        await startedReport; // published first if at all, so the saga hears of the start before the end; never throws
        ended.Dispose();
        await ReleaseReservation(job);
        await reports.Resend(job.JobId, job.Attempt, report); // until the broker confirms it
        logger.LogDebug("Job {JobId} attempt {Attempt} ended: {Report}", job.JobId, job.Attempt, report.GetType().Name);
    }

    /// <summary>Tidies what the executor left (its processes are gone already); a failure here must not hold the report back.</summary>
    async Task CleanUp(RunJob job, ExecutionResult result)
    {
        if (result.CleanUp is not { } cleanUp)
            return;
        try
        {
            await cleanUp();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Tidying up after job {JobId} attempt {Attempt} failed", job.JobId, job.Attempt);
        }
    }

    /// <summary>
    /// Publishes <see cref="JobStarted"/> once the attempt has run for <see cref="WorkerOptions.StartedReportDelay"/>.
    /// A job that ends sooner reports only its end, which carries the start time: one message and one saga write
    /// fewer per short job, and no start and end racing each other into the saga.
    /// </summary>
    async Task ReportStartedUnlessEnded(RunJob job, int? processId, DateTimeOffset startedAt, CancellationToken ended)
    {
        try
        {
            await Task.Delay(options.Value.StartedReportDelay, clock, ended);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            await bus.Publish(new JobStarted(job.JobId, job.Attempt, job.WorkerId, processId, startedAt), CancellationToken.None);
        }
        catch (Exception e)
        {
            // The end report carries the start time, so the job's record is whole without this one; it must not stop
            // the release and the end report.
            logger.LogWarning(e, "Reporting job {JobId} attempt {Attempt} started failed", job.JobId, job.Attempt);
        }
    }

    async Task ReleaseReservation(RunJob job)
    {
        try
        {
            await ledger.GiveBack(job.WorkerId, job.JobId, job.Attempt);
        }
        catch (Exception e)
        {
            // The scheduler releases again when it records the end, so the report still goes out.
            logger.LogWarning(e, "Releasing job {JobId} attempt {Attempt} in Redis failed", job.JobId, job.Attempt);
        }
    }

    /// <summary>One attempt running here, and why it is being stopped, if it is.</summary>
    sealed class RunningAttempt(RunJob job) : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        readonly Lock _lock = new();
        Timer? _timeout;

        public RunJob Job { get; } = job;
        public Task Completion { get; set; } = Task.CompletedTask;
        public StopReason? Reason { get; private set; }
        public CancellationToken Token => _stop.Token;

        /// <summary>The first reason wins: a job cancelled and then timed out was cancelled.</summary>
        public void RequestStop(StopReason reason)
        {
            lock (_lock)
            {
                if (Reason is not null)
                    return;
                Reason = reason;
            }
            _stop.Cancel();
        }

        public void StopAfter(TimeSpan timeout) =>
            _timeout = new Timer(_ => RequestStop(StopReason.TimedOut), null, timeout, Timeout.InfiniteTimeSpan);

        public void Dispose()
        {
            _timeout?.Dispose();
            _stop.Dispose();
        }
    }
}
