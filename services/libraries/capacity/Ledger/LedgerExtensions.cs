using Microsoft.Extensions.DependencyInjection;

namespace Bus.Capacity.Ledger;

public static class LedgerExtensions
{
    /// <summary>
    /// The ledger (<see cref="ICapacityLedger"/>) and its parts. Needs the PostgreSQL data source and the Redis
    /// connection, keys and outage policy (<c>AddDatabase</c>, <c>AddRedis</c>); <c>AddCapacity</c> adds all of them.
    /// </summary>
    public static IServiceCollection AddLedger(this IServiceCollection services)
    {
        services.AddSingleton<RedisCounters>();
        services.AddSingleton<DatabaseLedger>();
        services.AddSingleton<LedgerRebuilder>();
        services.AddSingleton<ICapacityLedger, CapacityLedger>();
        return services;
    }
}
