using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using StackExchange.Redis;

namespace Bus.Bench.Capacity;

/// <summary>One reserve+release run: each call's latency, and pairs per second over the whole run.</summary>
public sealed record PairRun(int Tasks, LatencySummary Reserve, LatencySummary Release, double PairsPerSecond);

/// <summary>Everything measured on one Redis deployment.</summary>
public sealed record LuaResults(string Target, string ServerVersion, PairRun Loaded, PairRun Single, LatencySummary ListLive);

/// <summary>
/// Reserve and release through the project's own classes and Lua scripts (<see cref="RedisCounters"/>,
/// <see cref="WorkerRegistry"/>, <see cref="RedisKeys"/>), and the cluster-wide "how much is allocated" answer
/// as the services compute it: <see cref="WorkerRegistry.ListLive"/> summing <c>Used</c>.
/// </summary>
public sealed class LuaReservationBenchmark(string target, string connectionString, BenchOptions options)
{
    // Small enough that Tasks concurrent jobs never fill a worker: a refusal would be measuring the wrong path.
    static readonly ResourceVector OneJob = new(1, 256, 0);
    static readonly ResourceVector WorkerCapacity = new(64, 262_144, 0);
    const int WorkerSlots = 64;

    public async Task<LuaResults> Run()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        // A prefix of our own per run: we read nothing the services or tests wrote, and delete only our keys.
        var keys = new RedisKeys($"bench-{Guid.NewGuid():N}:");
        var registry = new WorkerRegistry(redis, keys, TimeProvider.System);
        var ledger = new RedisCounters(redis, keys);
        var workers = Enumerable.Range(1, options.Workers).Select(i => $"bench-worker-{i:D3}").ToArray();
        try
        {
            foreach (var id in workers)
                await registry.Register(
                    new WorkerRegistration(id, WorkerCapacity, WorkerSlots, ["shell"], [], WorkerStatus.Ready),
                    TimeSpan.FromMinutes(10));

            // Warm-up: tiered JIT, the connection's buffers, and each script's SHA on every master.
            await RunPairs(ledger, workers, options.Tasks, options.WarmupOps);
            var loaded = await RunPairs(ledger, workers, options.Tasks, options.Ops);
            // One caller alone: the latency without queueing behind 31 others, comparable to the sequential SQL runs.
            var single = await RunPairs(ledger, workers, 1, Math.Max(1_000, options.Ops / 10));
            var listLive = await TimeListLive(registry, ledger, workers);
            var version = redis.GetServers().First().Version.ToString();
            return new LuaResults(target, version, loaded, single, listLive);
        }
        finally
        {
            // Key by key: in a cluster the keys live in different slots, so one multi-key DEL would be refused.
            var db = redis.GetDatabase();
            var ours = workers.SelectMany(w => new[] { keys.WorkerInfo(w), keys.WorkerUsed(w), keys.WorkerJobs(w), keys.WorkerReleased(w) })
                .Append(keys.LiveWorkers);
            await Task.WhenAll(ours.Select(k => db.KeyDeleteAsync(k)));
        }
    }

    static Task<PairRun> RunPairs(RedisCounters ledger, string[] workers, int tasks, int ops) =>
        PairRuns.Measure(workers, tasks, ops,
            async (worker, job) => await ledger.Reserve(worker, job, 1, OneJob) == ReservationResult.Reserved,
            async (worker, job) => await ledger.Release(worker, job, 1) == ReleaseResult.Released);

    /// <summary>
    /// Times the cluster-wide total while every worker holds a 2-CPU reservation, so the answer is not trivially
    /// zero and can be checked.
    /// </summary>
    async Task<LatencySummary> TimeListLive(WorkerRegistry registry, RedisCounters ledger, string[] workers)
    {
        var held = workers.Select(w => (Worker: w, Job: Guid.NewGuid())).ToArray();
        foreach (var (worker, job) in held)
            await ledger.Reserve(worker, job, 1, new ResourceVector(2, 512, 0));
        var expected = 2 * workers.Length;

        async Task AllocatedCpus()
        {
            var total = (await registry.ListLive()).Sum(w => w.Used.Cpus);
            if (total != expected)
                throw new InvalidOperationException($"ListLive summed {total} allocated CPUs, expected {expected}");
        }

        for (var i = 0; i < Math.Max(20, options.Runs / 5); i++)
            await AllocatedCpus();
        var latency = await Percentiles.Time(options.Runs, AllocatedCpus);

        foreach (var (worker, job) in held)
            await ledger.Release(worker, job, 1);
        return latency;
    }
}
