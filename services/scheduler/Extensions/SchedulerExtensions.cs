using Bus.Capacity;
using Bus.Capacity.Ledger;
using Bus.Hosting.Messaging;
using Bus.Hosting.Options;
using Bus.Persistence.Catalogue;
using Bus.Persistence.Schema;
using Bus.Persistence.Submissions;
using Bus.Scheduler.Activities;
using Bus.Scheduler.Consumers;
using Bus.Scheduler.Data;
using Bus.Scheduler.Data.SagaRepository;
using Bus.Scheduler.Metrics;
using Bus.Scheduler.Observability;
using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
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
        builder.Services.AddPlacementOptions();

        builder.AddCapacity();
        builder.AppliesSchemaMigrations(); // the saga owns the jobs table, so the scheduler owns the schema
        builder.Services.AddPooledDbContextFactory<SchedulerDbContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddSingleton<TransitionsNotifier>();
        builder.Services.AddSingleton<ISagaWriteObserver>(sp => sp.GetRequiredService<TransitionsNotifier>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TransitionsNotifier>());

        builder.AddAllocationObservers();
        builder.Services.AddSingleton<WorkerGauges>();
        // Made when the meter provider starts, so its gauges exist from the first scrape.
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInstrumentation(sp => sp.GetRequiredService<WorkerGauges>()));
        // MassTransit connects every registered state observer to the machine when it builds the saga.
        builder.Services.AddStateObserver<JobState, JobTransitionRecorder>();
        builder.Services.AddStateObserver<JobState, JobLifecycleMetrics>();
        builder.Services.AddSingleton<ServiceAvailability>();
        // Known services for submissions that reach the scheduler without passing a gateway (the bus path).
        builder.Services.AddServiceCatalogue();
        builder.Services.AddSingleton<AffinityMap>();
        builder.Services.AddSingleton<PendingPassCoordinator>();
        builder.Services.AddSingleton<PlacementSnapshots>();
        builder.Services.AddSingleton<IPlacementSnapshots>(sp => sp.GetRequiredService<PlacementSnapshots>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PlacementSnapshots>());
        builder.Services.AddSingleton(sp => new PlacementEngine(
            sp.GetRequiredService<IPlacementSnapshots>(), sp.GetRequiredService<AffinityMap>(), sp.GetRequiredService<ICapacityLedger>(),
            sp.GetRequiredService<AllocationStore>(), sp.GetRequiredService<AllocationObservers>(),
            sp.GetRequiredService<LastKnownGood<PlacementOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<PlacementEngine>>()));
        builder.Services.AddSingleton<IPlacementEngine>(sp => sp.GetRequiredService<PlacementEngine>());
        builder.Services.AddSingleton<IAllocationRecorder, AllocationRecorder>();
        builder.Services.AddJobSagaActivities();
        builder.Services.AddSingleton<PendingJobDispatcher>();
        builder.Services.AddSingleton<JobRequestClaims>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PendingJobDispatcher>());
        builder.Services.AddSingleton<IAllocationObserver>(sp => new ReleasePokesDispatcher(sp.GetRequiredService<PendingJobDispatcher>()));
        // Earlier versions had every job's end reach the scheduler twice, the second copy on this queue only to poke
        // the dispatcher; the saga's release pokes it now, without a message (ReleasePokesDispatcher).
        builder.Services.AddRetiredEndpoints("capacity-changed");

        builder.AddBus(x =>
        {
            x.AddSagaStateMachine<JobStateMachine, JobState, JobStateDefinition>()
                .EfCoreRepository<JobState, SchedulerDbContext>();
            x.AddConsumer<WorkerRegisteredConsumer>();
            // Its own queue, so a storm of reports never queues ahead of the saga's messages.
            x.AddConsumer<ServiceUnavailableConsumer>();
            x.AddConsumer<SubmitJobConsumer, SubmitJobConsumerDefinition>();
            // Its own queue too: an explanation is a read, and must never wait behind placements.
            x.AddConsumer<ExplainPlacementConsumer>().Endpoint(e => e.Name = QueueNames.ExplainPlacement);
        });
        return builder;
    }

    /// <summary>
    /// <see cref="PlacementOptions"/> from the <c>Placement</c> section, validated at start and at every reload, read
    /// through <see cref="LastKnownGood{TOptions}"/> (an invalid reload is refused and the previous options stay in force).
    /// </summary>
    public static IServiceCollection AddPlacementOptions(this IServiceCollection services)
    {
        services.AddOptions<PlacementOptions>()
            .BindConfiguration(PlacementOptions.Section)
            .Validate(o => o.SnapshotInterval > TimeSpan.Zero && o.AgingInterval > TimeSpan.Zero && o.UnavailableTtl > TimeSpan.Zero
                    && o.AffinityTtl > TimeSpan.Zero && o.HoldCapacityAfter > TimeSpan.Zero && o.MinPassInterval >= TimeSpan.Zero
                    && o.OfferCooldown > TimeSpan.Zero && o.EventPassLease > TimeSpan.Zero,
                "Placement: intervals and TTLs must be positive")
            .Validate(o => o.StaleSnapshotTries >= 0, "Placement:StaleSnapshotTries must be 0 or more")
            .Validate(o => o.TenantShares.Values.All(share => share > 0 && double.IsFinite(share)), "Placement:TenantShares must be positive")
            .ValidateOnStart()
            .KeepLastKnownGood();
        services.AddSingleton<IValidateOptions<PlacementOptions>, PoolsValidation<PlacementOptions>>();
        return services;
    }

    /// <summary>The saga's activities; the test harness registers the same ones.</summary>
    public static IServiceCollection AddJobSagaActivities(this IServiceCollection services) => services
        .AddScoped<PlaceJobActivity>()
        .AddScoped<ReleaseAllocationActivity>()
        .AddScoped<ReleaseLeftoversActivity>()
        .AddScoped<RecordStartActivity>()
        .AddScoped<ScheduleRetryActivity>()
        .AddScoped<StopAttemptActivity>();
}
