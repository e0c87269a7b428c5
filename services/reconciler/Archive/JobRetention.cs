using Bus.Persistence.Jobs;
using Bus.Reconciler.Jobs;
using Microsoft.Extensions.Options;
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
    JobQueries jobs,
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
            batch = await jobs.DeleteFinishedBefore(finishedBefore, settings.ArchiveBatchSize, cancellationToken);
            deleted += batch;
        } while (batch > 0);
        if (deleted > 0)
            logger.LogInformation("Deleted {Count} jobs that finished before {FinishedBefore:u}", deleted, finishedBefore);
        return deleted;
    }
}
