using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Contracts;
using Bus.Hosting.Resilience;
using Bus.Persistence.Jobs;
using Bus.Worker.Journal;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Recovery;

/// <summary>
/// At start, settles what the database says the previous process of this worker was running. Attempts that
/// had started are orphans: one whose final report the journal holds gets that report sent again; any other goes
/// through the strategies (see <see cref="IRecoveryStrategy"/>), its reservation is released, then its end is
/// reported (from its process's exit note when it exited by itself, else lost or timed out), and the journal records
/// that report so the attempt never runs here again. Attempts only allocated are
/// left alone: their RunJob is still in this worker's queue (unless the journal says the previous process had started
/// them: those are orphans too). Then the worker's Redis counters are rebuilt from its unreleased allocation rows with
/// a new epoch, which drops any reservation nobody holds. The epoch is the fence: a reservation placed on this worker
/// after the read (its registration may still be live from the previous process) cannot be released by mistake,
/// because a rebuild that dropped it also refuses its allocation row, and the placement tries again.
/// Waits for PostgreSQL if it is down at start.
/// </summary>
public sealed class StartupRecovery(
    JobQueries jobs,
    ICapacityLedger ledger,
    RedisOutagePolicy outage,
    IEnumerable<IRecoveryStrategy> strategies,
    AttemptJournal journal,
    ReportSender reports,
    IOptions<WorkerOptions> options,
    TimeProvider clock,
    ILogger<StartupRecovery> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        UntilReachable.Run("Startup recovery", Recover, logger, clock, cancellationToken);

    async Task Recover(CancellationToken cancellationToken)
    {
        var workerId = options.Value.Id;
        var orphans = await ReadOrphans(workerId, cancellationToken);

        foreach (var orphan in orphans)
        {
            if (journal.Report(orphan.JobId, orphan.Attempt) is { } stored)
            {
                // It ended before the previous process stopped; the scheduler may only have missed the report.
                await ledger.GiveBack(workerId, orphan.JobId, orphan.Attempt);
                await reports.Resend(orphan.JobId, orphan.Attempt, stored, cancellationToken);
                logger.LogWarning("Recovered job {JobId} attempt {Attempt}: sent its final report again", orphan.JobId, orphan.Attempt);
                continue;
            }
            RecoveryVerdict? verdict = null;
            foreach (var strategy in strategies)
                if ((verdict = await strategy.Examine(orphan, cancellationToken)) is not null)
                    break;
            verdict ??= new RecoveryVerdict.Failed("the worker restarted while the attempt ran");

            await ledger.GiveBack(workerId, orphan.JobId, orphan.Attempt); // the row is released by the saga on the report
            var now = clock.GetUtcNow();
            // Read after the strategies killed what was left: a job that exited by itself noted how, and that stands
            // whatever the strategies concluded. Its output went with the previous process.
            var report = journal.ExitNoted(orphan.JobId, orphan.Attempt) is { } exit
                ? EndedByItself(orphan, workerId, exit)
                : verdict is RecoveryVerdict.TimedOut
                    ? new JobStopped(orphan.JobId, orphan.Attempt, workerId, StopReason.TimedOut, "", now)
                    : new JobFailed(orphan.JobId, orphan.Attempt, workerId, null, "", verdict.Reason, now);
            journal.TryBegin(orphan.JobId, orphan.Attempt); // so a RunJob still queued for it is not run
            await reports.Send(orphan.JobId, orphan.Attempt, report, cancellationToken);
            logger.LogWarning("Recovered job {JobId} attempt {Attempt}: {Report}", orphan.JobId, orphan.Attempt,
                report is JobFailed failed ? failed.Error : report.GetType().Name);
        }

        // Reservations nobody can be using go with the rebuild. While Redis is down there is nothing to rebuild; the
        // worker's first registration afterwards rebuilds its counters anyway.
        await outage.Run(() => ledger.Rebuild(workerId, cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The report of an attempt whose process exited by itself before the worker journaled how.</summary>
    static object EndedByItself(OrphanedAttempt orphan, string workerId, ExitNote exit) => exit.Status == 0
        ? new JobCompleted(orphan.JobId, orphan.Attempt, workerId, 0, "", exit.At, orphan.StartedAt)
        : new JobFailed(orphan.JobId, orphan.Attempt, workerId, exit.Status, "", $"exited with code {exit.Status}", exit.At, orphan.StartedAt);

    async Task<List<OrphanedAttempt>> ReadOrphans(string workerId, CancellationToken cancellationToken) =>
        (await jobs.OnWorker(workerId, cancellationToken))
            // Allocated and never begun here: its RunJob is still queued, and runs once the worker is up.
            .Where(a => a.State != JobStates.Allocated || journal.Find(a.JobId, a.Attempt) is not null)
            .Select(a => new OrphanedAttempt(a.JobId, a.Attempt, a.ProcessId, a.AllocatedAt, a.StartedAt, a.TimeoutSeconds))
            .ToList();
}
