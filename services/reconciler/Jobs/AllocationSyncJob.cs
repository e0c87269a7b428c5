using Bus.Reconciler.Sync;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>Quartz runs the DB-to-Redis allocation sync every <see cref="ReconcilerOptions.SyncInterval"/>, never twice at once.</summary>
[DisallowConcurrentExecution]
public sealed class AllocationSyncJob(AllocationSync sync) : IJob
{
    public static readonly JobKey Key = new("allocation-sync", "reconciler");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await sync.Run(cancellationToken);
}
