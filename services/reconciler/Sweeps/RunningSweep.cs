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
/// <see cref="ReconcilerOptions.RunningGrace"/> ends TimedOut (published as the worker's own timeout report would be,
/// and the worker is told to kill it), even if its worker is silent or gone.</item>
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

    /// <summary>Returns how many attempts were timed out and how many workers were asked about an attempt.</summary>
    public async Task<(int TimedOut, int Asked)> Run(CancellationToken cancellationToken)
    {
        var grace = options.Value.RunningGrace;
        var now = clock.GetUtcNow();

        var timedOut = await jobs.RunningPastTimeout(grace, now, cancellationToken);
        foreach (var ((jobId, attempt, workerId), timeout) in timedOut)
        {
            using var scope = scopes.Begin(jobId, attempt, workerId);
            var worker = await bus.GetSendEndpoint(QueueNames.WorkerAddress(workerId));
            await worker.Send(new StopJob(jobId, attempt, workerId, StopReason.TimedOut), cancellationToken);
            await bus.Publish(new JobStopped(jobId, attempt, workerId, StopReason.TimedOut,
                $"timed out: still running {timeout} s after it started plus a grace of {grace.TotalSeconds:0} s; ended by the server", now),
                cancellationToken);
            logger.LogWarning("Job {JobId} attempt {Attempt} on {WorkerId} ran past its timeout of {Timeout} s; ended TimedOut", jobId, attempt, workerId, timeout);
        }

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
        return (timedOut.Count, asked);
    }
}
