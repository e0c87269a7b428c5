using Bus.Capacity.Workers;
using Bus.Contracts;

using Bus.Scheduler.Observability;
using Bus.ComponentTests.Support;
using Bus.Scheduler.Placement;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bus.ComponentTests;

/// <summary>Placement and release tell the observers, on real PostgreSQL and Redis.</summary>
public sealed class AllocationObserverTests(RedisTargets redis) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Observers_hear_of_each_allocation_and_release_and_a_throwing_one_fails_neither()
    {
        var heard = new RecordingObserver();
        var observers = new AllocationObservers([new ThrowingObserver(), heard], NullLogger<AllocationObservers>.Instance);
        var keys = RedisTargets.FreshKeys();
        var connection = redis.Connection(RedisTargets.Standalone);
        var parts = new CapacityParts(connection, keys, _database.DataSource);
        var engine = new PlacementEngine(parts.Registry, parts.Ledger, parts.Allocations, observers, TimeProvider.System, NullLogger<PlacementEngine>.Instance);
        var recorder = parts.Create<AllocationRecorder>(observers);
        await parts.Registry.Register(new WorkerRegistration("w1", new ResourceVector(4, 0, 0), 4, ["shell"], [], WorkerStatus.Ready), TimeSpan.FromMinutes(1));

        var fits = Request(cpus: 3);
        Assert.Equal(new PlacementDecision.Placed("w1"), await engine.Place(fits));
        Assert.IsType<PlacementDecision.Waiting>(await engine.Place(Request(cpus: 3))); // full: nothing to hear of
        await recorder.Released("w1", fits.JobId, 1);

        Assert.Equal([("allocated", fits.JobId, "w1", (ResourceVector?)new ResourceVector(3, 0, 0)), ("released", fits.JobId, "w1", null)],
            heard.Events);
    }

    static PlacementRequest Request(int cpus) =>
        new(Guid.NewGuid(), 1, "shell", new ResourceVector(cpus, 0, 0), new PlacementConstraints(null, null, null, null));

    sealed class RecordingObserver : IAllocationObserver
    {
        public List<(string, Guid, string, ResourceVector?)> Events { get; } = [];

        public void OnAllocated(AllocationEvent allocation) =>
            Events.Add(("allocated", allocation.JobId, allocation.WorkerId, allocation.Resources));

        public void OnReleased(AllocationEvent release) =>
            Events.Add(("released", release.JobId, release.WorkerId, release.Resources));
    }

    sealed class ThrowingObserver : IAllocationObserver
    {
        public void OnAllocated(AllocationEvent allocation) => throw new InvalidOperationException("broken observer");

        public void OnReleased(AllocationEvent release) => throw new InvalidOperationException("broken observer");
    }
}
