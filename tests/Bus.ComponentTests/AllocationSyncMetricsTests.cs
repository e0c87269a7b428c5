using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Bus.Capacity.Workers;
using Bus.Contracts;

using Bus.ComponentTests.Support;
using Bus.Reconciler.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bus.ComponentTests;

/// <summary>The drift the sync repairs is counted on the <c>Bus.Reconciler</c> meter, on real PostgreSQL and Redis.</summary>
public sealed class AllocationSyncMetricsTests(RedisTargets redis) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Repaired_drift_is_counted_by_kind()
    {
        // This test's own meter factory, so measurements from other tests never reach the listener.
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var counted = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == SyncMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counted.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        listener.Start();

        var keys = RedisTargets.FreshKeys();
        var connection = redis.Connection(RedisTargets.Standalone);
        var parts = new CapacityParts(connection, keys, _database.DataSource);
        var (registry, ledger, allocations) = (parts.Registry, parts.Counters, parts.Database);
        var sync = parts.Create<AllocationSync>(new SyncMetrics(meters));
        await registry.Register(new WorkerRegistration("w1", new ResourceVector(8, 0, 0), 8, ["shell"], [], WorkerStatus.Ready), TimeSpan.FromMinutes(1));

        // PostgreSQL holds one allocation Redis lost; Redis holds one stray PostgreSQL never had.
        await allocations.Record(Guid.NewGuid(), 1, "w1", new ResourceVector(2, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);
        await ledger.Reserve("w1", Guid.NewGuid(), 1, new ResourceVector(3, 0, 0));
        await sync.Run(CancellationToken.None); // seen once: suspected, not repaired
        Assert.Equal(0, counted.Values.Sum());

        var report = await sync.Run(CancellationToken.None);

        Assert.Equal(report.Restored, counted.GetValueOrDefault("bus.reconciler.sync.restored"));
        Assert.Equal(report.Removed, counted.GetValueOrDefault("bus.reconciler.sync.removed"));
        Assert.Equal(report.CountersCorrected, counted.GetValueOrDefault("bus.reconciler.sync.counters_corrected"));
        Assert.Equal((1, 1), (report.Restored, report.Removed));
    }
}
