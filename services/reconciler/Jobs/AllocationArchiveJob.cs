using Bus.Reconciler.Archive;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>Quartz runs the allocation archiver every <see cref="ReconcilerOptions.ArchiveInterval"/>, on one instance at a time.</summary>
[DisallowConcurrentExecution]
public sealed class AllocationArchiveJob(AllocationArchiver archiver, JobLock jobLock) : IJob
{
    public static readonly JobKey Key = new("allocation-archive", "reconciler");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await jobLock.RunAlone(Key, archiver.Run, cancellationToken);
}
