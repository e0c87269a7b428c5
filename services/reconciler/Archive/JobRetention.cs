using Bus.Reconciler.Jobs;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace Bus.Reconciler.Archive;

/// <summary>
/// Deletes jobs that finished longer than <see cref="ReconcilerOptions.JobRetention"/> ago, with everything kept for
/// them: the row (its output and its structured result), its transitions and its request id, one batch per
/// statement, until none is left. Only final states: nothing more happens to those jobs, so the saga has no further
/// write to lose. Their allocations go to history with the archiver, on their own clock. Safe to run twice or at once:
/// concurrent runs skip each other's rows.
/// </summary>
public sealed class JobRetention(
    NpgsqlDataSource dataSource,
    IOptions<ReconcilerOptions> options,
    TimeProvider clock,
    ILogger<JobRetention> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("job-retention", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    /// <summary>Deletes what is past the retention; returns how many jobs went.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var finishedBefore = clock.GetUtcNow() - settings.JobRetention;
        var deleted = 0;
        int batch;
        do
        {
            batch = await DeleteBatch(finishedBefore, settings.ArchiveBatchSize, cancellationToken);
            deleted += batch;
        } while (batch > 0);
        if (deleted > 0)
            logger.LogInformation("Deleted {Count} jobs that finished before {FinishedBefore:u}", deleted, finishedBefore);
        return deleted;
    }

    async Task<int> DeleteBatch(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken)
    {
        // A job cancelled before it ran may have no finished_at of its own; its submission time stands in.
        await using var command = dataSource.CreateCommand("""
            WITH gone AS (
                DELETE FROM jobs
                WHERE job_id IN (
                    SELECT job_id FROM jobs
                    WHERE current_state IN ('Completed', 'Failed', 'Cancelled', 'TimedOut')
                      AND coalesce(finished_at, submitted_at) < $1
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                RETURNING job_id),
            transitions AS (DELETE FROM job_transitions WHERE job_id IN (SELECT job_id FROM gone)),
            requests AS (DELETE FROM job_requests WHERE job_id IN (SELECT job_id FROM gone))
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.AddWithValue(finishedBefore);
        command.Parameters.AddWithValue(batchSize);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
