using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;
using Bus.Reconciler.Jobs;
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
            .ValidateOnStart();
        builder.AddDatabase();
        builder.AddRedis();
        builder.Services.AddSingleton<AllocationSync>();

        var options = builder.Configuration.GetSection(ReconcilerOptions.Section).Get<ReconcilerOptions>() ?? new();
        builder.Services.AddQuartz(q =>
        {
            q.AddJob<AllocationSyncJob>(j => j.WithIdentity(AllocationSyncJob.Key));
            q.AddTrigger(t => t.ForJob(AllocationSyncJob.Key).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(options.SyncInterval).RepeatForever()));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }
}
