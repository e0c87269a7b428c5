using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Persistence.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bus.Capacity;

public static class CapacityExtensions
{
    /// <summary>
    /// PostgreSQL and Redis, and what keeps capacity across both: the ledger (reservations that fall back to the
    /// database when Redis is down, the rebuild and repair of a worker's counters, the allocation rows), the workers'
    /// registry in Redis and directory in PostgreSQL, and the live workers read from either.
    /// </summary>
    public static IHostApplicationBuilder AddCapacity(this IHostApplicationBuilder builder)
    {
        builder.AddDatabase();
        builder.AddRedis();
        builder.Services.AddLedger();
        builder.Services.AddSingleton<AllocationStore>();
        builder.Services.AddSingleton<WorkerDirectory>();
        builder.Services.AddSingleton<LiveWorkers>();
        return builder;
    }
}
