using Bus.Infrastructure.Capacity;
using Bus.Infrastructure.Data;
using Bus.Infrastructure.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace Bus.IntegrationTests.Support;

/// <summary>
/// The capacity classes of one test, wired by hand as the services' DI wires them: over one Redis connection and key
/// prefix, and one test database.
/// </summary>
public sealed class CapacityParts
{
    public CapacityParts(IConnectionMultiplexer redis, RedisKeys keys, NpgsqlDataSource database)
    {
        Registry = new WorkerRegistry(redis, keys, TimeProvider.System);
        Ledger = new CapacityLedger(redis, keys);
        Allocations = new AllocationStore(database);
        Directory = new WorkerDirectory(database);
        Database = new DatabaseLedger(database);
        Rebuilder = new LedgerRebuilder(database, Ledger, NullLogger<LedgerRebuilder>.Instance);
        Outage = new RedisOutage(Options.Create(new RedisOptions()), TimeProvider.System, NullLogger<RedisOutage>.Instance);
        Reservations = new CapacityReservations(Ledger, Allocations, Database, Rebuilder, Outage, NullLogger<CapacityReservations>.Instance);
        Presence = new WorkerPresence(Registry, Directory, Rebuilder, NullLogger<WorkerPresence>.Instance);
    }

    public WorkerRegistry Registry { get; }
    public CapacityLedger Ledger { get; }
    public AllocationStore Allocations { get; }
    public WorkerDirectory Directory { get; }
    public DatabaseLedger Database { get; }
    public LedgerRebuilder Rebuilder { get; }
    public RedisOutage Outage { get; }
    public CapacityReservations Reservations { get; }
    public WorkerPresence Presence { get; }
}
