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
            q.AddJob<AllocationSyncJob>(j => j.WithIdentity(AllocationSyncJob.Key));
            q.AddTrigger(t => t.ForJob(AllocationSyncJob.Key).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.SyncInterval).RepeatForever()));
            q.AddJob<LostWorkerSweepJob>(j => j.WithIdentity(LostWorkerSweepJob.Key));
            q.AddTrigger(t => t.ForJob(LostWorkerSweepJob.Key).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.LostWorkerSweepInterval).RepeatForever()));
            q.AddJob<LeaseSweepJob>(j => j.WithIdentity(LeaseSweepJob.Key));
            q.AddTrigger(t => t.ForJob(LeaseSweepJob.Key).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.LostWorkerSweepInterval).RepeatForever()));
            q.AddJob<AllocationArchiveJob>(j => j.WithIdentity(AllocationArchiveJob.Key));
            q.AddTrigger(t => t.ForJob(AllocationArchiveJob.Key).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.ArchiveInterval).RepeatForever()));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
