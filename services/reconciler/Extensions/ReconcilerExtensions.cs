using Bus.Infrastructure.Data;
using Bus.Infrastructure.Messaging;
using Bus.Infrastructure.Redis;
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
            .ValidateOnStart();
        builder.AddDatabase();
        builder.AddRedis();
        builder.AddBus(); // publishes only: JobAttemptLost, WorkerLost
        builder.Services.AddSingleton<JobLock>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<SyncMetrics>();
        builder.Services.AddSingleton<AllocationSync>();
        builder.Services.AddSingleton<AllocationArchiver>();
        builder.Services.AddSingleton<LostWorkerSweep>();
        builder.Services.AddSingleton<LeaseSweep>();

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
            Every<AllocationArchiver>(options.ArchiveInterval);
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
