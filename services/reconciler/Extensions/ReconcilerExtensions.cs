using Bus.Capacity;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Hosting.Messaging;
using Bus.Persistence.Schema;
using Bus.Reconciler.Archive;
using Bus.Reconciler.Jobs;
using Bus.Reconciler.Sweeps;
using Bus.Reconciler.Sync;
using Quartz;

namespace Bus.Reconciler.Extensions;

public static class ReconcilerExtensions
{
    public static IHostApplicationBuilder AddReconcilerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReconcilerOptions>()
            .BindConfiguration(ReconcilerOptions.Section)
            .Validate(o => o.SyncInterval > TimeSpan.Zero, "Reconciler:SyncInterval must be positive")
            .Validate(o => o.LostWorkerSweepInterval > TimeSpan.Zero, "Reconciler:LostWorkerSweepInterval must be positive")
            .Validate(o => o.StartLease > TimeSpan.Zero, "Reconciler:StartLease must be positive")
            .Validate(o => o.ArchiveAfter > TimeSpan.Zero, "Reconciler:ArchiveAfter must be positive")
            .Validate(o => o.ArchiveInterval > TimeSpan.Zero, "Reconciler:ArchiveInterval must be positive")
            .Validate(o => o.ArchiveBatchSize > 0, "Reconciler:ArchiveBatchSize must be positive")
            .Validate(o => o.JobRetention > TimeSpan.Zero, "Reconciler:JobRetention must be positive")
            .Validate(o => o.RunningGrace > TimeSpan.Zero, "Reconciler:RunningGrace must be positive")
            .Validate(o => o.StartTries >= 0, "Reconciler:StartTries must be 0 or more")
            .Validate(o => o.RelayAfter > TimeSpan.Zero && o.RelayWindow > o.RelayAfter && o.RelayInterval > TimeSpan.Zero && o.RelayBatchSize > 0,
                "Reconciler: the relay's delay, interval and batch size must be positive, and its window longer than its delay")
            .Validate(o => o.RelayScanBatch > 0, "Reconciler:RelayScanBatch must be positive")
            .Validate(o => o.RelayWaitingLimit > 0, "Reconciler:RelayWaitingLimit must be positive")
            .ValidateOnStart();
        builder.AddCapacity(); // the sweeps read the workers, and the allocation sync repairs through the ledger
        builder.AddBus(); // sends and publishes only: RunJob again, SubmitJob again, ReconcileAttempt, JobStopped, JobAttemptLost, WorkerLost
        builder.Services.AddSingleton<JobLock>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<SyncMetrics>();
        builder.Services.AddSingleton<AllocationSync>();
        builder.Services.AddSingleton<AllocationArchiver>();
        builder.Services.AddSingleton<JobRetention>();
        builder.Services.AddSingleton<LostWorkerSweep>();
        builder.Services.AddSingleton<LeaseSweep>();
        builder.Services.AddSingleton<RunningSweep>();
        builder.Services.AddSingleton<OutboxRelay>();

        var options = builder.Configuration.GetSection(ReconcilerOptions.Section).Get<ReconcilerOptions>() ?? new();
        builder.Services.AddQuartz(q =>
        {
            void Every<TTask>(TimeSpan interval) where TTask : IReconcilerTask
            {
                q.AddJob<ExclusiveJob<TTask>>(j => j.WithIdentity(TTask.Key));
                q.AddTrigger(t => t.ForJob(TTask.Key).StartNow().WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever()));
            }

            Every<AllocationSync>(options.SyncInterval);
            Every<LostWorkerSweep>(options.LostWorkerSweepInterval);
            Every<LeaseSweep>(options.LostWorkerSweepInterval);
            Every<RunningSweep>(options.LostWorkerSweepInterval);
            Every<OutboxRelay>(options.RelayInterval);
            Every<AllocationArchiver>(options.ArchiveInterval);
            Every<JobRetention>(options.ArchiveInterval);
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
