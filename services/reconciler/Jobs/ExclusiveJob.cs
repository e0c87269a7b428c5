using Quartz;

namespace Bus.Reconciler.Jobs;

/// <summary>A piece of periodic reconciler work. Its key names both its Quartz job and its cross-instance lock.</summary>
public interface IReconcilerTask
{
    static abstract JobKey Key { get; }

    Task Run(CancellationToken cancellationToken);
}

/// <summary>
/// Quartz runs <typeparamref name="TTask"/> on its schedule, never twice at once in this process (the attribute)
/// nor across reconciler instances (the lock: an instance that cannot take it skips that run).
/// </summary>
[DisallowConcurrentExecution]
public sealed class ExclusiveJob<TTask>(TTask task, JobLock jobLock) : IJob where TTask : IReconcilerTask
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await jobLock.RunAlone(TTask.Key, task.Run, cancellationToken);
}
