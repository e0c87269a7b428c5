using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.ComponentTests.Support;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Bus.ComponentTests;

/// <summary>
/// Capacity when Redis is down or has lost its counters, on the real Redis (standalone and cluster) and PostgreSQL:
/// reservations on the database alone and through Redis never oversell together, counters Redis lost or that the
/// database moved past are rebuilt before they are used again. The end-to-end proof, Redis killed under a stream of
/// jobs, is the system test <c>RedisOutageTests</c>.
/// </summary>
public sealed class DatabaseFallbackTests(RedisTargets redis, ITestOutputHelper output) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    static readonly ResourceVector Capacity = new(8, 8192, 0);
    const int Slots = 4;
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    CapacityParts Parts(string target, out RedisKeys keys)
    {
        keys = RedisTargets.FreshKeys();
        return new CapacityParts(redis.Connection(target), keys, _database.DataSource);
    }

    static WorkerRegistration Worker(string id) => new(id, Capacity, Slots, ["shell"], [], WorkerStatus.Ready);

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Reservations_on_the_database_and_through_Redis_at_once_never_oversell(string target)
    {
        var parts = Parts(target, out _);
        var workers = Enumerable.Range(0, 10).Select(i => $"w{i}").ToArray();
        foreach (var id in workers)
            await parts.Presence.Join(Worker(id), TimeSpan.FromMinutes(5));

        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() => SampleTruth(stop.Token));
        Tally[] tallies;
        try
        {
            // Even reservers are schedulers that reach Redis, odd ones schedulers that do not (a partition, or the
            // moment Redis comes back): the mixed mode the epochs exist for.
            tallies = await Task.WhenAll(Enumerable.Range(0, 16).Select(seed => Task.Run(() => Reserver(seed, onDatabase: seed % 2 == 1, workers, parts))));
        }
        finally
        {
            stop.Cancel();
        }
        var (samples, violations) = await sampler;

        output.WriteLine($"{target}: {tallies.Sum(t => t.Reserved)} reserved ({tallies.Where((_, i) => i % 2 == 1).Sum(t => t.Reserved)} on the database), " +
            $"{tallies.Sum(t => t.Refused)} refused, {samples} samples of the truth");
        Assert.Empty(violations);
        Assert.True(samples >= 10, $"only {samples} samples were taken");
        Assert.True(tallies.Where((_, i) => i % 2 == 0).Sum(t => t.Reserved) > 0 && tallies.Where((_, i) => i % 2 == 1).Sum(t => t.Reserved) > 0,
            "both paths must have reserved");
        Assert.True(tallies.Sum(t => t.Refused) > 0, "no reservation was refused, so the limits were never tested");
        Assert.True(await MaxEpoch() > 1, "no worker's counters were ever rebuilt, so the mixed mode was never exercised");

        // Rebuilt, Redis holds exactly what PostgreSQL holds.
        var active = (await parts.Allocations.Active()).ToLookup(a => a.WorkerId, a => new Reservation(a.JobId, a.Attempt, a.Resources));
        foreach (var id in workers)
        {
            await parts.Ledger.Rebuild(id);
            Assert.True((await parts.Counters.Reservations(id)).ToHashSet().SetEquals(active[id]), $"{id}: Redis and PostgreSQL disagree after a rebuild");
            var used = (await parts.Registry.Read(id))!;
            Assert.Equal((active[id].Sum(r => r.Resources.Cpus), active[id].Count()), (used.Used.Cpus, used.RunningJobs));
        }
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_Redis_that_lost_a_worker_s_counters_takes_its_heartbeat_only_after_rebuilding_them(string target)
    {
        var parts = Parts(target, out var keys);
        await parts.Presence.Join(Worker("w1"), TimeSpan.FromMinutes(1));
        var held = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var job = Guid.NewGuid();
            Assert.Equal("w1", (await parts.Ledger.Take("w1", job, 1, new ResourceVector(2, 0, 0), DateTimeOffset.UtcNow)).Holder);
            held.Add(job);
        }

        // What a Redis restart without persistence does to the worker.
        var db = redis.Connection(target).GetDatabase();
        await db.KeyDeleteAsync([keys.WorkerInfo("w1"), keys.WorkerUsed("w1"), keys.WorkerJobs("w1")]);

        Assert.False(await parts.Registry.Register(Worker("w1"), TimeSpan.FromMinutes(1), requireRebuiltCounters: true));
        Assert.Equal(ReservationResult.WorkerGone, await parts.Counters.Reserve("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0)));

        await parts.Presence.Beat(Worker("w1"), TimeSpan.FromMinutes(1));

        Assert.Equal(held.Order(), (await parts.Counters.Reservations("w1")).Select(r => r.JobId).Order());
        var worker = (await parts.Registry.Read("w1"))!;
        Assert.Equal((6, 3), (worker.Used.Cpus, worker.RunningJobs));
        // Full by slots now (3 + 1 of 4), as it really is, not empty as Redis had it after the restart.
        Assert.NotNull((await parts.Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow)).Holder);
        Assert.Null((await parts.Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow)).Holder);
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Counters_the_database_moved_past_refuse_the_record_and_are_rebuilt_before_placing_through_them(string target)
    {
        var parts = Parts(target, out _);
        await parts.Presence.Join(Worker("w1"), TimeSpan.FromMinutes(1));
        var onDatabase = Guid.NewGuid();
        Assert.Equal((ReservationResult.Reserved, "w1"), await parts.Database.Reserve("w1", onDatabase, 1, new ResourceVector(6, 0, 0), DateTimeOffset.UtcNow));
        Assert.Equal(0, (await parts.Registry.Read("w1"))!.Used.Cpus); // Redis never heard of it

        // Redis alone would let 4 more cpus in; the truth has room for 2.
        var tooBig = await parts.Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(4, 0, 0), DateTimeOffset.UtcNow);
        var fits = await parts.Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(2, 0, 0), DateTimeOffset.UtcNow);

        Assert.Equal((ReservationResult.NoCapacity, null, false), (tooBig.Result, tooBig.Holder, tooBig.OnDatabase));
        Assert.Equal(("w1", false), (fits.Holder, fits.OnDatabase));
        Assert.Equal(8, (await parts.Allocations.Active()).Sum(a => a.Resources.Cpus));
        Assert.Equal(8, (await parts.Registry.Read("w1"))!.Used.Cpus);
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Two_schedulers_whose_records_the_database_refused_rebuild_the_counters_once_not_each_other_s_in_turn(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var schedulers = new[] { new CapacityParts(redis.Connection(target), keys, _database.DataSource), new CapacityParts(redis.Connection(target), keys, _database.DataSource) };
        await schedulers[0].Presence.Join(new WorkerRegistration("w1", new ResourceVector(64, 65536, 0), 64, ["shell"], [], WorkerStatus.Ready),
            TimeSpan.FromMinutes(5));
        // One reservation on the database alone (a scheduler that could not reach Redis) moves the epoch past Redis's.
        await schedulers[1].Database.Reserve("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow);
        var before = await MaxEpoch();

        var taken = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() =>
            schedulers[i % 2].Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow))));

        Assert.All(taken, t => Assert.Equal(("w1", false), (t.Holder, t.OnDatabase)));
        Assert.Equal(before + 1, await MaxEpoch()); // one rebuild brought the counters up to date; nobody redid it
        Assert.Equal(33, (await schedulers[0].Registry.Read("w1"))!.Used.Cpus);
    }

    [Fact]
    public async Task With_Redis_unreachable_capacity_is_taken_on_the_database_and_still_limited()
    {
        await using var unreachable = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { "127.0.0.1:1" }, AbortOnConnectFail = false, BacklogPolicy = BacklogPolicy.FailFast, ConnectTimeout = 200,
        });
        var parts = new CapacityParts(unreachable, RedisTargets.FreshKeys(), _database.DataSource);
        await new WorkerDirectory(_database.DataSource).Join(Worker("w1"), TimeSpan.FromMinutes(1));

        var taken = new List<CapacityTaken>();
        for (var i = 0; i < 5; i++)
            taken.Add(await parts.Ledger.Take("w1", Guid.NewGuid(), 1, new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow));

        Assert.True(parts.Outage.IsDown);
        Assert.All(taken, t => Assert.True(t.OnDatabase));
        Assert.Equal(Slots, taken.Count(t => t.Holder == "w1"));
        Assert.Equal(ReservationResult.NoCapacity, taken[^1].Result);
        Assert.Equal(Slots, (await parts.Directory.ListLive()).Single().RunningJobs);
    }

    sealed record Tally(int Reserved, int Refused);

    static async Task<Tally> Reserver(int seed, bool onDatabase, string[] workers, CapacityParts parts)
    {
        var random = new Random(seed);
        var held = new List<(string Worker, Guid Job)>();
        int reserved = 0, refused = 0;
        for (var i = 0; i < 400; i++)
        {
            if (held.Count > 0 && random.NextDouble() < 0.45)
            {
                var index = random.Next(held.Count);
                var (worker, job) = held[index];
                held.RemoveAt(index);
                // Both stores, whichever path reserved it; the row first, so the rows never hold more than the
                // counters and the sampled truth below is exact (the system releases Redis first, freeing the worker
                // sooner, and checks what really runs instead: RedisOutageTests).
                await parts.Database.Release(job, 1, DateTimeOffset.UtcNow);
                await parts.Counters.Release(worker, job, 1);
                continue;
            }
            var target = workers[random.Next(workers.Length)];
            var jobId = Guid.NewGuid();
            var resources = new ResourceVector(random.Next(1, 5), 512 * random.Next(1, 5), 0);
            var holder = onDatabase
                ? (await parts.Database.Reserve(target, jobId, 1, resources, DateTimeOffset.UtcNow)).Holder
                : (await parts.Ledger.Take(target, jobId, 1, resources, DateTimeOffset.UtcNow)).Holder;
            if (holder is null)
            {
                refused++;
                continue;
            }
            held.Add((target, jobId));
            reserved++;
        }
        return new Tally(reserved, refused);
    }

    /// <summary>Samples what PostgreSQL holds per worker until stopped; a sample over capacity or slots is a violation.</summary>
    async Task<(int Samples, List<string> Violations)> SampleTruth(CancellationToken stop)
    {
        var violations = new List<string>();
        var samples = 0;
        while (!stop.IsCancellationRequested)
        {
            await using var command = _database.DataSource.CreateCommand("""
                SELECT worker_id, SUM(cpus), SUM(memory_mb), COUNT(*) FROM resource_allocations WHERE NOT released GROUP BY worker_id
                """);
            await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
                while (await reader.ReadAsync(CancellationToken.None))
                    if (reader.GetInt64(1) > Capacity.Cpus || reader.GetInt64(2) > Capacity.MemoryMb || reader.GetInt64(3) > Slots)
                        violations.Add($"{reader.GetString(0)}: {reader.GetInt64(1)} cpus, {reader.GetInt64(2)} MB, {reader.GetInt64(3)} jobs");
            samples++;
            await Task.Delay(5, CancellationToken.None);
        }
        return (samples, violations);
    }

    async Task<long> MaxEpoch()
    {
        await using var command = _database.DataSource.CreateCommand("SELECT MAX(redis_epoch) FROM workers");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
