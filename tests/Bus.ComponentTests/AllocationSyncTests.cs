using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.ComponentTests.Support;
using Bus.Reconciler.Sync;
using StackExchange.Redis;

namespace Bus.ComponentTests;

/// <summary>The reconciler's DB-to-Redis sync on real PostgreSQL and real Redis, standalone and cluster.</summary>
public sealed class AllocationSyncTests(RedisTargets redis) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Drift_in_Redis_is_repaired_once_two_runs_have_seen_it(string target)
    {
        var (keys, registry, ledger, allocations, sync) = await WithOneWorker(target);

        // PostgreSQL says two jobs hold w1; Redis lost one, holds a stray, and its counter is wrong.
        var kept = Guid.NewGuid();
        var lost = Guid.NewGuid();
        var stray = Guid.NewGuid();
        foreach (var job in new[] { kept, lost })
            await allocations.Record(job, 1, "w1", new ResourceVector(2, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);
        await ledger.Reserve("w1", kept, 1, new ResourceVector(2, 0, 0));
        await ledger.Reserve("w1", stray, 1, new ResourceVector(3, 0, 0));
        await redis.Connection(target).GetDatabase().HashIncrementAsync(keys.WorkerUsed("w1"), "cpus", 10);

        var first = await sync.Run(CancellationToken.None);
        Assert.Equal((2, 0, 0), (first.Suspected, first.Restored, first.Removed));
        Assert.Equal(new[] { kept, stray }.Order(), (await ledger.Reservations("w1")).Select(r => r.JobId).Order());

        var second = await sync.Run(CancellationToken.None);
        Assert.Equal((1, 1), (second.Restored, second.Removed));
        Assert.Equal(new[] { kept, lost }.Order(), (await ledger.Reservations("w1")).Select(r => r.JobId).Order());
        var worker = await registry.Read("w1");
        Assert.Equal((4, 2), (worker!.Used.Cpus, worker.RunningJobs));

        var third = await sync.Run(CancellationToken.None);
        Assert.Equal(0, third.Drift + third.Suspected);
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_difference_that_resolves_itself_between_runs_is_left_alone(string target)
    {
        var (keys, registry, ledger, allocations, sync) = await WithOneWorker(target);

        // A placement in flight: reserved in Redis, its allocation row not written yet.
        var job = Guid.NewGuid();
        await ledger.Reserve("w1", job, 1, new ResourceVector(1, 0, 0));
        Assert.Equal(1, (await sync.Run(CancellationToken.None)).Suspected);

        await allocations.Record(job, 1, "w1", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);
        var second = await sync.Run(CancellationToken.None);

        Assert.Equal(0, second.Drift);
        Assert.Single(await ledger.Reservations("w1"));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_reservation_its_worker_released_is_not_restored_while_the_row_waits_for_the_scheduler(string target)
    {
        var (_, registry, ledger, allocations, sync) = await WithOneWorker(target);
        // The worker finished the job and released; the scheduler is behind and has not released the row yet.
        var job = Guid.NewGuid();
        await ledger.Reserve("w1", job, 1, new ResourceVector(8, 0, 0));
        await allocations.Record(job, 1, "w1", new ResourceVector(8, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);
        await ledger.Release("w1", job, 1);

        await sync.Run(CancellationToken.None);
        await sync.Run(CancellationToken.None);

        Assert.Empty(await ledger.Reservations("w1"));
        Assert.Equal(0, (await registry.Read("w1"))!.Used.Cpus);
    }

    /// <summary>A sync over a fresh key prefix and this test's database, with one registered 8-cpu worker, w1.</summary>
    /// <remarks>The ledger's two halves are returned alone, so a test can make Redis and PostgreSQL disagree.</remarks>
    async Task<(RedisKeys, WorkerRegistry, RedisCounters, DatabaseLedger, AllocationSync)> WithOneWorker(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var parts = new CapacityParts(redis.Connection(target), keys, _database.DataSource);
        await parts.Registry.Register(new WorkerRegistration("w1", new ResourceVector(8, 0, 0), 8, ["shell"], [], WorkerStatus.Ready), TimeSpan.FromMinutes(1));
        return (keys, parts.Registry, parts.Counters, parts.Database, parts.Create<AllocationSync>());
    }
}
