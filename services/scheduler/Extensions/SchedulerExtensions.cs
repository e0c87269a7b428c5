using Bus.Infrastructure.Data;
using Bus.Infrastructure.Messaging;
using Bus.Infrastructure.Observability;
using Bus.Infrastructure.Redis;
using Bus.Scheduler.Activities;
using Bus.Scheduler.Consumers;
using Bus.Scheduler.Data;
using Bus.Scheduler.Data.SagaRepository;
using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.Extensions;

public static class SchedulerExtensions
{
    public static IHostApplicationBuilder AddSchedulerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulerOptions>()
            .BindConfiguration(SchedulerOptions.Section)
            .Validate(o => o.PendingRetryInterval > TimeSpan.Zero && o.PendingBatchSize > 0 && o.SagaConcurrency > 0,
                "Scheduler: intervals, batch size and concurrency must be positive")
            .ValidateOnStart();

        builder.AddDatabase();
        builder.AddRedis();
        builder.Services.AddPooledDbContextFactory<SchedulerDbContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));

        builder.AddAllocationObservers();
        builder.Services.AddSingleton<IPlacementEngine, PlacementEngine>();
        builder.Services.AddSingleton<IAllocationRecorder, AllocationRecorder>();
        builder.Services.AddJobSagaActivities();
        builder.Services.AddSingleton<PendingJobDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PendingJobDispatcher>());

        builder.AddBus(x =>
        {
            x.AddSagaStateMachine<JobStateMachine, JobState, JobStateDefinition>()
                .Endpoint(e => e.ConcurrentMessageLimit = builder.Configuration.GetValue($"{SchedulerOptions.Section}:{nameof(SchedulerOptions.SagaConcurrency)}", 16))
                .EfCoreRepository<JobState, SchedulerDbContext>();
            x.AddConsumer<CapacityChangedConsumer>();
        });
        return builder;
    }

    /// <summary>The saga's activities; the test harness registers the same ones.</summary>
    public static IServiceCollection AddJobSagaActivities(this IServiceCollection services) => services
        .AddScoped<PlaceJobActivity>()
        .AddScoped<ReleaseAllocationActivity>()
        .AddScoped<RecordStartActivity>()
        .AddScoped<ScheduleRetryActivity>()
        .AddScoped<StopAttemptActivity>();
}
