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
/// The owner of Allocated: finds attempts placed but not reported started for longer than
/// <see cref="ReconcilerOptions.StartLease"/>, as when a RunJob is lost after the scheduler committed the placement,
/// and sends the worker the same RunJob again, as the same attempt, counting no failure. That is safe because a worker
/// runs an attempt at most once (it remembers every attempt it began, across restarts) and only while the attempt
/// holds its allocation; a worker that had already ended the attempt sends its final report again instead. An attempt
/// that demonstrably started (its worker's heartbeat lists it, or its process id is recorded) is left alone: only its
/// report is late. A worker that is gone is the lost-worker sweep's to handle. Sent again at most once a lease, and
/// <see cref="ReconcilerOptions.StartTries"/> times in all: a worker that is registered but takes nothing from its queue
/// then loses the attempt (<see cref="JobAttemptLost"/>), which is placed again elsewhere; should that worker still
/// take the old RunJob, it finds the allocation released and does not run it.
/// </summary>
public sealed class LeaseSweep(JobQueries jobs, IBus bus, IOptions<ReconcilerOptions> options, TimeProvider clock,
    JobLogScopes scopes, ILogger<LeaseSweep> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("lease-sweep", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    // When each attempt was last sent again, so a slow worker gets one RunJob per lease, not one per sweep. Kept to the
    // attempts still overdue, so it never grows.
    Dictionary<(Guid, int), (DateTimeOffset At, int Tries)> _sent = [];

    /// <summary>Returns the attempts whose RunJob was sent again.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var lease = options.Value.StartLease;
        var now = clock.GetUtcNow();
        var overdue = await jobs.AllocatedBefore(now - lease, cancellationToken);

        var sent = new Dictionary<(Guid, int), (DateTimeOffset At, int Tries)>();
        var resent = 0;
        foreach (var job in overdue)
        {
            using var scope = scopes.Begin(job.JobId, job.Attempt, job.WorkerId);
            var key = (job.JobId, job.Attempt);
            var (at, tries) = _sent.GetValueOrDefault(key, (DateTimeOffset.MinValue, 0));
            if (now - at < lease)
            {
                sent[key] = (at, tries);
                continue;
            }
            if (tries >= options.Value.StartTries)
            {
                await bus.Publish(new JobAttemptLost(job.JobId, job.Attempt, job.WorkerId, now,
                    $"worker {job.WorkerId} did not start attempt {job.Attempt}, sent {tries + 1} times over {(lease * (tries + 1)).TotalSeconds:0} s"),
                    cancellationToken);
                logger.LogWarning("Job {JobId} attempt {Attempt} was never started by worker {WorkerId}; placing it again", job.JobId, job.Attempt, job.WorkerId);
                continue;
            }
            var worker = await bus.GetSendEndpoint(QueueNames.WorkerAddress(job.WorkerId));
            await worker.Send(job, cancellationToken);
            sent[key] = (now, tries + 1);
            resent++;
            logger.LogWarning("Job {JobId} attempt {Attempt} was not started by worker {WorkerId} within {Lease}; sent its RunJob again",
                job.JobId, job.Attempt, job.WorkerId, lease);
        }
        _sent = sent;
        return resent;
    }
}
