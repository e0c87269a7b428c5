using Bus.Contracts;
using Bus.Infrastructure.Ledger;
using Bus.Infrastructure.Redis;
using Bus.Infrastructure.Resilience;
using Bus.Worker.Journal;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Worker.Recovery;

/// <summary>
/// At start, settles what the database says the previous process of this worker was running. Attempts that
/// had started are orphans: one whose final report the journal holds gets that report sent again; any other goes
/// through the strategies (see <see cref="IRecoveryStrategy"/>), its reservation is released, then its end is
/// reported, and the journal records that report so the attempt never runs here again. Attempts only allocated are
/// left alone: their RunJob is still in this worker's queue (unless the journal says the previous process had started
/// them: those are orphans too). Then the worker's Redis counters are rebuilt from its unreleased allocation rows with
/// a new epoch, which drops any reservation nobody holds. The epoch is the fence: a reservation placed on this worker
/// after the read (its registration may still be live from the previous process) cannot be released by mistake,
/// because a rebuild that dropped it also refuses its allocation row, and the placement tries again.
/// Waits for PostgreSQL if it is down at start.
/// </summary>
public sealed class StartupRecovery(
    NpgsqlDataSource dataSource,
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
            object report = verdict is RecoveryVerdict.TimedOut
                ? new JobStopped(orphan.JobId, orphan.Attempt, workerId, StopReason.TimedOut, "", now)
                : new JobFailed(orphan.JobId, orphan.Attempt, workerId, null, "", verdict.Reason, now);
            journal.TryBegin(orphan.JobId, orphan.Attempt); // so a RunJob still queued for it is not run
            await reports.Send(orphan.JobId, orphan.Attempt, report, cancellationToken);
            logger.LogWarning("Recovered job {JobId} attempt {Attempt}: {Reason}", orphan.JobId, orphan.Attempt, verdict.Reason);
        }

        // Reservations nobody can be using go with the rebuild. While Redis is down there is nothing to rebuild; the
        // worker's first registration afterwards rebuilds its counters anyway.
        await outage.Run(() => ledger.Rebuild(workerId, cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    async Task<List<OrphanedAttempt>> ReadOrphans(string workerId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT j.job_id, j.attempt, j.current_state, a.process_id, coalesce(a.allocated_at, j.allocated_at, j.submitted_at),
                   j.started_at, j.timeout_seconds
            FROM jobs j LEFT JOIN resource_allocations a ON a.job_id = j.job_id AND a.attempt = j.attempt
            WHERE j.worker_id = $1 AND j.current_state IN ('Allocated', 'Running')
            """);
        command.Parameters.AddWithValue(workerId);
        var orphans = new List<OrphanedAttempt>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (jobId, attempt) = (reader.GetGuid(0), reader.GetInt32(1));
            // Allocated and never begun here: its RunJob is still queued, and runs once the worker is up.
            if (reader.GetString(2) == "Allocated" && journal.Find(jobId, attempt) is null)
                continue;
            orphans.Add(new OrphanedAttempt(jobId, attempt,
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetInt32(6)));
        }
        return orphans;
    }
}
