using Bus.Infrastructure.Data;
using Bus.Infrastructure.Ledger;
using Bus.Infrastructure.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bus.Infrastructure.Capacity;

public static class CapacityExtensions
{
    /// <summary>
    /// PostgreSQL and Redis, and what keeps capacity across both: the ledger (reservations that fall back to the
    /// database when Redis is down, the rebuild and repair of a worker's counters), a worker's presence in both
    /// registries, and the live workers read from either.
    /// </summary>
    public static IHostApplicationBuilder AddCapacity(this IHostApplicationBuilder builder)
    {
        builder.AddDatabase();
        builder.AddRedis();
        builder.Services.AddLedger();
        builder.Services.AddSingleton<WorkerPresence>();
        builder.Services.AddSingleton<LiveWorkers>();
        return builder;
    }
}
