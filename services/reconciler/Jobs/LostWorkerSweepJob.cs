using Bus.Reconciler.Sweeps;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>Quartz runs the lost-worker sweep every <see cref="ReconcilerOptions.LostWorkerSweepInterval"/>, on one instance at a time.</summary>
[DisallowConcurrentExecution]
public sealed class LostWorkerSweepJob(LostWorkerSweep sweep, JobLock jobLock) : IJob
{
    public static readonly JobKey Key = new("lost-worker-sweep", "reconciler");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await jobLock.RunAlone(Key, sweep.Run, cancellationToken);
}
