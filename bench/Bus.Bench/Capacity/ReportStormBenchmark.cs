using System.Diagnostics;
using Bus.Contracts;
using Bus.Infrastructure.Redis;
using StackExchange.Redis;

namespace Bus.Bench.Capacity;

/// <summary>
/// Issue 5, point 3: does a storm of service-unavailable reports slow placement? Placement itself reads only the
/// in-memory snapshot and then reserves with the Lua script, so the storm can only reach it through Redis. This
/// times one caller's reserve+release on standalone Redis, first alone, then while other tasks fire reports through
/// <see cref="ServiceAvailability.MarkUnavailable"/> as fast as they can. That is the worst case: the scheduler's
/// consumer drops repeats it already knows of in memory before they ever reach Redis.
/// </summary>
public static class ReportStormBenchmark
{
    const int Pairs = 3_000;
    const int Reporters = 8;

    public static async Task<int> Run()
    {
        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(BenchEnvironment.Redis);
        var keys = new RedisKeys($"bench-{Guid.NewGuid():N}:");
        var registry = new WorkerRegistry(redis, keys, TimeProvider.System);
        var ledger = new CapacityLedger(redis, keys);
        var availability = new ServiceAvailability(redis, keys, TimeProvider.System);
        var workers = Enumerable.Range(1, 50).Select(i => $"storm-worker-{i:D2}").ToArray();
        foreach (var id in workers)
            await registry.Register(new WorkerRegistration(id, new ResourceVector(64, 0, 0), 64, ["shell", "asr"], [], WorkerStatus.Ready), TimeSpan.FromMinutes(10));
        try
        {
            await Placements(ledger, workers, Pairs); // warm-up
            var quiet = await Placements(ledger, workers, Pairs);

            using var stop = new CancellationTokenSource();
            long reports = 0;
            var storm = Enumerable.Range(0, Reporters).Select(r => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    // Many workers, each reporting the same service again and again: mostly debounced repeats.
                    await availability.MarkUnavailable(workers[(r * 7 + i) % workers.Length], "asr", "model failed to load", TimeSpan.FromSeconds(30));
                    Interlocked.Increment(ref reports);
                }
            })).ToArray();
            var started = Stopwatch.GetTimestamp();
            var stormy = await Placements(ledger, workers, Pairs);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            await stop.CancelAsync();
            await Task.WhenAll(storm);

            Console.WriteLine();
            Console.WriteLine($"reserve+release by one caller, {Pairs:N0} pairs over 50 workers (latency in ms)");
            Console.WriteLine($"{"",-40}{"p50",10}{"p99",10}{"max",10}");
            Console.WriteLine($"{"reserve, no reports",-40}{quiet.P50Ms,10:F3}{quiet.P99Ms,10:F3}{quiet.MaxMs,10:F3}");
            Console.WriteLine($"{$"reserve, {reports / seconds:N0} reports/s from {Reporters} tasks",-40}{stormy.P50Ms,10:F3}{stormy.P99Ms,10:F3}{stormy.MaxMs,10:F3}");
            return 0;
        }
        finally
        {
            var db = redis.GetDatabase();
            var ours = workers.SelectMany(w => new[] { keys.WorkerInfo(w), keys.WorkerUsed(w), keys.WorkerJobs(w), keys.WorkerReleased(w), keys.ServiceUnavailable(w, "asr") })
                .Append(keys.LiveWorkers).Append(keys.UnavailableIndex);
            await Task.WhenAll(ours.Select(k => db.KeyDeleteAsync(k)));
        }
    }

    /// <summary>Times the reserve of each of <paramref name="pairs"/> reserve+release pairs, one at a time.</summary>
    static async Task<LatencySummary> Placements(CapacityLedger ledger, string[] workers, int pairs)
    {
        var ticks = new long[pairs];
        for (var i = 0; i < pairs; i++)
        {
            var (worker, job) = (workers[i % workers.Length], Guid.NewGuid());
            var start = Stopwatch.GetTimestamp();
            await ledger.Reserve(worker, job, 1, new ResourceVector(1, 0, 0));
            ticks[i] = Stopwatch.GetTimestamp() - start;
            await ledger.Release(worker, job, 1);
        }
        return Percentiles.Summarize(ticks);
    }
}
