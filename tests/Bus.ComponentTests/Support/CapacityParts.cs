using Bus.Capacity;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Persistence.Schema;
using Bus.Worker.Registration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using StackExchange.Redis;

namespace Bus.ComponentTests.Support;

/// <summary>
/// The capacity classes of one test, from the services' own registration (<see cref="CapacityExtensions.AddCapacity"/>)
/// over one Redis connection and key prefix, and one test database. Nothing is started: no hosted service runs, so the
/// test applies the schema itself as before.
/// </summary>
public sealed class CapacityParts
{
    readonly IServiceProvider _services;

    public CapacityParts(IConnectionMultiplexer redis, RedisKeys keys, NpgsqlDataSource database)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // AddDatabase requires a connection string; the test's own data source below replaces the one built from it.
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:Postgres", TestEnvironment.Postgres)]);
        builder.AddCapacity();
        builder.Services.AddSingleton<WorkerPresence>(); // the worker's own, registered as the worker registers it
        builder.Services.AddLogging();
        builder.Services.AddSingleton(redis).AddSingleton(keys).AddSingleton(database);
        _services = builder.Services.BuildServiceProvider();
    }

    public WorkerRegistry Registry => Get<WorkerRegistry>();
    public ICapacityLedger Ledger => Get<ICapacityLedger>();
    /// <summary>The ledger's Redis half alone, for tests that take or inspect reservations behind the ledger's back.</summary>
    public RedisCounters Counters => Get<RedisCounters>();
    public AllocationStore Allocations => Get<AllocationStore>();
    public WorkerDirectory Directory => Get<WorkerDirectory>();
    /// <summary>The ledger's PostgreSQL half alone, for tests that reserve on the database as an outage would.</summary>
    public DatabaseLedger Database => Get<DatabaseLedger>();
    public RedisOutagePolicy Outage => Get<RedisOutagePolicy>();
    public WorkerPresence Presence => Get<WorkerPresence>();

    /// <summary>A class these parts can build (one of a service's own, such as a scheduler's), its dependencies resolved from them.</summary>
    public T Create<T>(params object[] extra) => ActivatorUtilities.CreateInstance<T>(_services, extra);

    T Get<T>() where T : notnull => _services.GetRequiredService<T>();
}
