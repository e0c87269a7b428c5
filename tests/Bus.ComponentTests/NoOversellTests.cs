using System.Diagnostics;
using Bus.Capacity.Ledger;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.ComponentTests.Support;
using Xunit.Abstractions;

namespace Bus.ComponentTests;

/// <summary>
/// The concurrency proof of the ledger: many reservers race over many workers the way schedulers do,
/// reserving in Redis then recording the row, releasing in Redis then marking the row released. A sampler watches
/// every worker throughout; at the end Redis and PostgreSQL must agree exactly.
/// </summary>
public sealed class NoOversellTests(RedisTargets redis, ITestOutputHelper output) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    const int Workers = 50;
    const int Reservers = 32;
    const int OperationsPerReserver = 640; // 20,480 in all
    static readonly ResourceVector Capacity = new(Cpus: 8, MemoryMb: 4096, Gpus: 0);
    const int Slots = 4;

    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Concurrent_reservers_never_oversell_and_Redis_ends_agreeing_with_PostgreSQL(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var connection = redis.Connection(target);
        var registry = new WorkerRegistry(connection, keys, TimeProvider.System);
        var ledger = new RedisCounters(connection, keys);
        var allocations = new DatabaseLedger(_database.DataSource);
        var workers = Enumerable.Range(0, Workers).Select(i => $"w{i:00}").ToArray();
        foreach (var id in workers)
            await registry.Register(new WorkerRegistration(id, Capacity, Slots, ["shell"], [], WorkerStatus.Ready), TimeSpan.FromMinutes(5));

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() => Sample(registry, stop.Token));
        Tally[] tallies;
        try
        {
            tallies = await Task.WhenAll(Enumerable.Range(0, Reservers).Select(seed => Task.Run(() => Reserver(seed, workers, ledger, allocations))));
        }
        finally
        {
            stop.Cancel();
        }
        var (samples, violations) = await sampler;
        var seconds = clock.Elapsed.TotalSeconds;

        var operations = tallies.Sum(t => t.Operations);
        output.WriteLine($"{target}: {operations} operations ({tallies.Sum(t => t.Reserved)} reserved, {tallies.Sum(t => t.Refused)} refused, " +
            $"{tallies.Sum(t => t.Released)} released, {tallies.Sum(t => t.Replays)} replays besides) by {Reservers} reservers over {Workers} workers " +
            $"in {seconds:F1} s: {operations / seconds:F0} ops/s; {samples} samples of every worker");
        Assert.True(operations >= 20_000);
        Assert.True(samples >= 10, $"only {samples} samples were taken");
        Assert.True(tallies.Sum(t => t.Refused) > 0, "no reservation was refused, so the limits were never tested");
        Assert.Empty(violations);

        // Redis and PostgreSQL agree exactly, per worker, and both agree with what the reservers think they hold.
        var active = (await new AllocationStore(_database.DataSource).Active()).ToLookup(a => a.WorkerId, a => new Reservation(a.JobId, a.Attempt, a.Resources));
        Assert.Equal(tallies.SelectMany(t => t.Held).Order(), active.SelectMany(g => g).Select(r => r.JobId).Order());
        Assert.NotEmpty(active);
        foreach (var id in workers)
        {
            var inPostgres = active[id].ToHashSet();
            var inRedis = (await ledger.Reservations(id)).ToHashSet();
            Assert.True(inRedis.SetEquals(inPostgres),
                $"{id}: Redis holds {inRedis.Except(inPostgres).Count()} reservations PostgreSQL lacks and lacks {inPostgres.Except(inRedis).Count()}");
            var worker = (await registry.Read(id))!;
            var sum = new ResourceVector(inPostgres.Sum(r => r.Resources.Cpus), inPostgres.Sum(r => r.Resources.MemoryMb), inPostgres.Sum(r => r.Resources.Gpus));
            Assert.Equal((sum, inPostgres.Count), (worker.Used, worker.RunningJobs));
        }
    }

    sealed record Tally(int Operations, int Reserved, int Refused, int Released, int Replays, List<Guid> Held);

    /// <summary>One scheduler-like client: random reserves and releases, each in Redis first and then in PostgreSQL.</summary>
    static async Task<Tally> Reserver(int seed, string[] workers, RedisCounters ledger, DatabaseLedger allocations)
    {
        var random = new Random(seed);
        var held = new List<(string Worker, Guid Job)>();
        int reserved = 0, refused = 0, released = 0, replays = 0;
        for (var i = 0; i < OperationsPerReserver; i++)
        {
            // Slightly more reserves than releases, so workers run full and every limit is hit.
            if (held.Count > 0 && random.NextDouble() < 0.45)
            {
                var index = random.Next(held.Count);
                var (worker, job) = held[index];
                held[index] = held[^1];
                held.RemoveAt(held.Count - 1);
                Assert.Equal(ReleaseResult.Released, await ledger.Release(worker, job, 1));
                await allocations.Release(job, 1, DateTimeOffset.UtcNow);
                released++;
                if (random.Next(20) == 0)
                {
                    // A redelivered release message: nothing left to give back, in either store.
                    Assert.Equal(ReleaseResult.NothingHeld, await ledger.Release(worker, job, 1));
                    await allocations.Release(job, 1, DateTimeOffset.UtcNow);
                    replays++;
                }
            }
            else
            {
                var worker = workers[random.Next(workers.Length)];
                var job = Guid.NewGuid();
                var resources = new ResourceVector(random.Next(1, 5), 256 * random.Next(1, 9), 0);
                var reservation = await ledger.ReserveWithEpoch(worker, job, 1, resources);
                if (reservation.Result != ReservationResult.Reserved)
                {
                    Assert.Equal(ReservationResult.NoCapacity, reservation.Result);
                    refused++;
                    continue;
                }
                Assert.Equal(worker, await allocations.Record(job, 1, worker, resources, DateTimeOffset.UtcNow, reservation.Epoch));
                held.Add((worker, job));
                reserved++;
                if (random.Next(20) == 0)
                {
                    // A redelivered placement: the attempt already holds its reservation and its row.
                    var replay = await ledger.ReserveWithEpoch(worker, job, 1, resources);
                    Assert.Equal(ReservationResult.AlreadyHeld, replay.Result);
                    Assert.Equal(worker, await allocations.Record(job, 1, worker, resources, DateTimeOffset.UtcNow, replay.Epoch));
                    replays++;
                }
            }
        }
        return new Tally(OperationsPerReserver, reserved, refused, released, replays, held.Select(h => h.Job).ToList());
    }

    /// <summary>Reads every worker over and over while the reservers run, noting any moment one is over a limit.</summary>
    static async Task<(int Samples, List<string> Violations)> Sample(WorkerRegistry registry, CancellationToken stop)
    {
        var samples = 0;
        var violations = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            var live = await registry.ListLive();
            if (live.Count != Workers)
                violations.Add($"saw {live.Count} live workers, not {Workers}");
            foreach (var w in live)
            {
                var (used, capacity) = (w.Used, w.Registration.Capacity);
                if (used.Cpus > capacity.Cpus || used.MemoryMb > capacity.MemoryMb || w.RunningJobs > w.Registration.MaxConcurrentJobs
                    || used.Cpus < 0 || used.MemoryMb < 0 || w.RunningJobs < 0)
                    violations.Add($"{w.WorkerId}: {used} and {w.RunningJobs} jobs, capacity {capacity} and {w.Registration.MaxConcurrentJobs} jobs");
            }
            samples++;
        }
        return (samples, violations);
    }
}
