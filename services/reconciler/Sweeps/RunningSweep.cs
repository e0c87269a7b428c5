using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Hosting.Telemetry;
using Bus.Persistence.Jobs;
using Bus.Reconciler.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;
using Quartz;

namespace Bus.Reconciler.Sweeps;

/// <summary>
/// The owner of Running, beside the worker itself. Two checks each run:
/// <list type="bullet">
/// <item>The server enforces timeoutSeconds: an attempt Running past its timeout plus
/// <see cref="ReconcilerOptions.RunningGrace"/> is first left to its worker, which is told to stop it
/// (<see cref="StopJob"/>): it kills the attempt and reports it TimedOut, or, when the attempt had ended and only its
/// report is stuck (the broker was down), sends that report again, so the job ends as it really did. Still Running
/// after another grace, it ends TimedOut (published as the worker's own timeout report would be), even if its worker
/// is silent or gone.</item>
/// <item>An attempt Running on a live worker whose heartbeats have not listed it for longer than the grace (its
/// report was lost, or never sent) is reconciled from what the worker knows: the worker is asked
/// (<see cref="ReconcileAttempt"/>) and sends its final report again, or disowns the attempt and reports it lost. The
/// sweep never declares such an attempt lost itself, so a report that is only late always wins.</item>
/// </list>
/// </summary>
public sealed class RunningSweep(JobQueries jobs, IBus bus, IOptions<ReconcilerOptions> options, TimeProvider clock,
    JobLogScopes scopes, ILogger<RunningSweep> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("running-sweep", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    // Attempts first seen unlisted, and when; kept to those still unlisted, so it never grows.
    Dictionary<(Guid JobId, int Attempt), DateTimeOffset> _unlistedSince = [];
    // Attempts past their timeout whose worker was asked, and when; kept to those still Running past it.
    Dictionary<(Guid JobId, int Attempt), DateTimeOffset> _overdueSince = [];

    /// <summary>Returns how many attempts were timed out and how many workers were asked about an attempt.</summary>
    public async Task<(int TimedOut, int Asked)> Run(CancellationToken cancellationToken)
    {
        var grace = options.Value.RunningGrace;
        var now = clock.GetUtcNow();

        var overdue = await jobs.RunningPastTimeout(grace, now, cancellationToken);
        var overdueSince = new Dictionary<(Guid, int), DateTimeOffset>();
        var timedOut = 0;
        foreach (var ((jobId, attempt, workerId), timeout) in overdue)
        {
            using var scope = scopes.Begin(jobId, attempt, workerId);
            if (!_overdueSince.TryGetValue((jobId, attempt), out var told))
            {
                overdueSince[(jobId, attempt)] = now;
                var worker = await bus.GetSendEndpoint(QueueNames.WorkerAddress(workerId));
                await worker.Send(new StopJob(jobId, attempt, workerId, StopReason.TimedOut), cancellationToken);
                logger.LogWarning("Job {JobId} attempt {Attempt} on {WorkerId} is Running past its timeout of {Timeout} s; told its worker to stop it",
                    jobId, attempt, workerId, timeout);
                continue;
            }
            if (now - told < grace)
            {
                overdueSince[(jobId, attempt)] = told;
                continue;
            }
            await bus.Publish(new JobStopped(jobId, attempt, workerId, StopReason.TimedOut,
                $"timed out: still running {timeout} s after it started plus a grace of {grace.TotalSeconds:0} s, and its worker did not settle it; ended by the server", now),
                cancellationToken);
            timedOut++;
            logger.LogWarning("Job {JobId} attempt {Attempt} on {WorkerId} ran past its timeout of {Timeout} s and its worker did not settle it; ended TimedOut", jobId, attempt, workerId, timeout);
        }
        _overdueSince = overdueSince;

        var unlisted = await jobs.RunningUnlisted(cancellationToken);

        var since = new Dictionary<(Guid, int), DateTimeOffset>();
        var asked = 0;
        foreach (var (jobId, attempt, workerId) in unlisted)
        {
            using var scope = scopes.Begin(jobId, attempt, workerId);
            var first = _unlistedSince.GetValueOrDefault((jobId, attempt), now);
            if (now - first < grace)
            {
                since[(jobId, attempt)] = first;
                continue;
            }
            // Asked again after another grace if nothing came of it.
            since[(jobId, attempt)] = now;
            var worker = await bus.GetSendEndpoint(QueueNames.WorkerAddress(workerId));
            await worker.Send(new ReconcileAttempt(jobId, attempt, workerId, now), cancellationToken);
            asked++;
            logger.LogWarning("Job {JobId} attempt {Attempt} is Running but worker {WorkerId} has not listed it for {Grace}; asking it",
                jobId, attempt, workerId, grace);
        }
        _unlistedSince = since;
        return (timedOut, asked);
    }
}
