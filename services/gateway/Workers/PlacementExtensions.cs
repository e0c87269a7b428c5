using Bus.Capacity.Pools;
using Bus.Hosting.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Workers;

public static class PlacementExtensions
{
    /// <summary>
    /// <see cref="WorkerPoolsOptions"/> from the <c>Placement</c> section, validated at start and at every reload, and
    /// <see cref="ConfiguredPools"/> over them: for a service that shows each worker's pools.
    /// </summary>
    public static IServiceCollection AddWorkerPools(this IServiceCollection services)
    {
        services.AddOptions<WorkerPoolsOptions>()
            .BindConfiguration(WorkerPoolsOptions.Section)
            .ValidateOnStart()
            .KeepLastKnownGood();
        services.AddSingleton<IValidateOptions<WorkerPoolsOptions>, PoolsValidation<WorkerPoolsOptions>>();
        services.AddSingleton<ConfiguredPools>();
        return services;
    }
}
