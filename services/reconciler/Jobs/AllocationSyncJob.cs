using Bus.Reconciler.Sync;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>
/// Quartz runs the DB-to-Redis allocation sync every <see cref="ReconcilerOptions.SyncInterval"/>, never twice at
/// once in this process (the attribute) nor across reconciler instances (the lock).
/// </summary>
[DisallowConcurrentExecution]
public sealed class AllocationSyncJob(AllocationSync sync, JobLock jobLock) : IJob
{
    public static readonly JobKey Key = new("allocation-sync", "reconciler");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await jobLock.RunAlone(Key, sync.Run, cancellationToken);
}
