using Bus.Reconciler.Sweeps;
using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>Quartz runs the start-lease sweep with the lost-worker sweep's interval, on one instance at a time.</summary>
[DisallowConcurrentExecution]
public sealed class LeaseSweepJob(LeaseSweep sweep, JobLock jobLock) : IJob
{
    public static readonly JobKey Key = new("lease-sweep", "reconciler");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await jobLock.RunAlone(Key, sweep.Run, cancellationToken);
}
