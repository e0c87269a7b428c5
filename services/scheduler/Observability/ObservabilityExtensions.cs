using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bus.Scheduler.Observability;

public static class ObservabilityExtensions
{
    /// <summary>
    /// Adds the allocation observers: a log line, counters on the <c>Bus.Scheduler</c> meter, and the
    /// utilization alert with its background loop. Needs the bus and Redis registered.
    /// </summary>
    public static IHostApplicationBuilder AddAllocationObservers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObserverOptions>()
            .BindConfiguration(ObserverOptions.Section)
            .Validate(o => o.UtilizationAlertThreshold is > 0 and <= 1, "Observers:UtilizationAlertThreshold must be above 0 and at most 1")
            .Validate(o => o.UtilizationAlertHysteresis >= 0 && o.UtilizationAlertHysteresis < o.UtilizationAlertThreshold,
                "Observers:UtilizationAlertHysteresis must be at least 0 and below the threshold")
            .Validate(o => o.ClusterCheckInterval > TimeSpan.Zero, "Observers:ClusterCheckInterval must be positive")
            .Validate(o => o.UtilizationAlertClearAfter >= TimeSpan.Zero, "Observers:UtilizationAlertClearAfter must not be negative")
            .ValidateOnStart();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<AllocationObservers>();
        builder.Services.AddSingleton<IAllocationObserver, LoggingObserver>();
        builder.Services.AddSingleton<IAllocationObserver, MetricsObserver>();
        builder.Services.AddSingleton<IUtilizationSource, RegistryUtilizationSource>();
        // One instance is both an observer (placement queues into it) and the hosted loop that drains the queue.
        builder.Services.AddSingleton<UtilizationAlertObserver>();
        builder.Services.AddSingleton<IAllocationObserver>(sp => sp.GetRequiredService<UtilizationAlertObserver>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UtilizationAlertObserver>());
        return builder;
    }
}
