using Bus.Capacity.Ledger;
using Bus.Reconciler.Jobs;
using Microsoft.Extensions.Options;
using Quartz;

namespace Bus.Reconciler.Archive;

/// <summary>What one archiver run moved, and in how many batches.</summary>
public sealed record ArchiveReport(int Moved, int Batches);

/// <summary>
/// Keeps <c>resource_allocations</c> small: moves allocations released longer than
/// <see cref="ReconcilerOptions.ArchiveAfter"/> ago to the history table, one batch per statement, until none is
/// left. Safe to run twice or at once: a row moves in one statement, and concurrent runs skip each other's rows.
/// </summary>
public sealed class AllocationArchiver(
    AllocationStore allocations,
    IOptions<ReconcilerOptions> options,
    TimeProvider clock,
    ILogger<AllocationArchiver> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("allocation-archive", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    public async Task<ArchiveReport> Run(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var releasedBefore = clock.GetUtcNow() - settings.ArchiveAfter;
        int moved = 0, batches = 0;
        while (true)
        {
            // Stop only at an empty batch: a short one may just mean another run holds the rest for now.
            var batch = await allocations.ArchiveReleased(releasedBefore, settings.ArchiveBatchSize, cancellationToken);
            if (batch == 0)
                break;
            moved += batch;
            batches++;
        }

        logger.LogInformation("Archived {Moved} allocations released before {ReleasedBefore:u} in {Batches} batches",
            moved, releasedBefore, batches);
        return new ArchiveReport(moved, batches);
    }
}
