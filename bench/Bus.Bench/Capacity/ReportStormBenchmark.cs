using System.Diagnostics;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Scheduler.Placement;
using StackExchange.Redis;

namespace Bus.Bench.Capacity;

/// <summary>
/// Does a storm of service-unavailable reports slow placement? Placement itself reads only the
/// in-memory snapshot and then reserves with the Lua script, so the storm can only reach it through Redis and the
/// process's CPUs. This times one caller's reserve (of a reserve+release pair) on standalone Redis with no reports,
/// and during three storms over 200 (worker, service) pairs sent by tasks in the same process:
/// <list type="bullet">
/// <item>raw, unpaced: every report straight to Redis (<see cref="ServiceAvailability.MarkUnavailable"/>) as fast as
/// the tasks can, the worst case;</item>
/// <item>raw, paced: the same path at <see cref="Rate"/> reports a second;</item>
/// <item>debounced, paced: through <see cref="ServiceAvailability.Report"/>, the call the scheduler's consumer makes,
/// which drops a report inside a window the process knows of before any Redis call. Each round starts it cold (no
/// window open, a fresh instance that knows of none), with the default 30 s window.</item>
/// </list>
/// The four conditions take turns over several rounds, so a drift of the machine (it is shared, and has 2 cores)
/// spreads over all of them instead of favouring one. Not included: RabbitMQ delivery and deserialization, which in
/// the running system come before the consumer.
/// </summary>
public static class ReportStormBenchmark
{
    const int Rounds = 5;
    const int SamplesPerRound = 4_000;
    const int UnpacedReporters = 8;
    const int PacedReporters = 4;
    const double Rate = 10_000; // reports per second, all paced reporters together
    static readonly TimeSpan Window = TimeSpan.FromSeconds(30); // Placement:UnavailableTtl's default
    static readonly string[] Services = ["shell", "asr", "tts", "mt"];

    sealed class Condition(string name)
    {
        public string Name => name;
        public List<long> Ticks { get; } = [];
        public List<double> RoundP50s { get; } = [];
        public long Reports { get; set; }
        public double Seconds { get; set; }
    }

    public static async Task<int> Run()
    {
        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at start (1/5/15 min)");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(BenchEnvironment.Redis);
        var keys = new RedisKeys($"bench-{Guid.NewGuid():N}:");
        var registry = new WorkerRegistry(redis, keys, TimeProvider.System);
        var ledger = new RedisCounters(redis, keys);
        var workers = Enumerable.Range(1, 50).Select(i => $"storm-worker-{i:D2}").ToArray();
        // Every worker offers every service, and any of those pairs may be reported: 200 pairs.
        var pairs = workers.SelectMany(w => Services.Select(s => (Worker: w, Service: s))).ToArray();
        foreach (var id in workers)
            await registry.Register(new WorkerRegistration(id, new ResourceVector(64, 0, 0), 64, Services, [], WorkerStatus.Ready), TimeSpan.FromMinutes(10));
        try
        {
            await Placements(ledger, workers); // warm-up
            var (quiet, rawUnpaced, rawPaced, debounced) = (new Condition("no reports"), new Condition("raw, unpaced"),
                new Condition("raw, paced"), new Condition("debounced, paced"));
            var raw = new ServiceAvailability(redis, keys, TimeProvider.System);
            var outcomes = new long[Enum.GetValues<ReportOutcome>().Length];
            for (var round = 0; round < Rounds; round++)
            {
                Record(quiet, await DuringStorm(ledger, workers, pairs, 0, null, _ => ValueTask.CompletedTask));
                Record(rawUnpaced, await DuringStorm(ledger, workers, pairs, UnpacedReporters, null,
                    p => new ValueTask(raw.MarkUnavailable(p.Worker, p.Service, "model failed to load", Window))));
                Record(rawPaced, await DuringStorm(ledger, workers, pairs, PacedReporters, Rate,
                    p => new ValueTask(raw.MarkUnavailable(p.Worker, p.Service, "model failed to load", Window))));

                await DeleteReports(redis, keys, pairs);
                var debounce = new ServiceAvailability(redis, keys, TimeProvider.System);
                Record(debounced, await DuringStorm(ledger, workers, pairs, PacedReporters, Rate, async p =>
                {
                    var (outcome, _) = await debounce.Report(p.Worker, p.Service, "model failed to load", Window);
                    Interlocked.Increment(ref outcomes[(int)outcome]);
                }));
            }

            var baseline = Percentiles.Summarize([.. quiet.Ticks]);
            Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at end");
            Console.WriteLine();
            Console.WriteLine($"reserve of a reserve+release pair by one caller over 50 workers, {Rounds} rounds x {SamplesPerRound:N0} per condition;");
            Console.WriteLine($"reports over {pairs.Length} (worker, service) pairs; x: ratio to no reports; latency in ms");
            Console.WriteLine($"{"condition",-18}{"reports/s",10}{"tasks",7}{"p50",8}{"p99",8}{"max",8}{"p50 x",7}{"p99 x",7}  p50 per round (min-max)");
            foreach (var (condition, tasks) in new[] { (quiet, 0), (rawUnpaced, UnpacedReporters), (rawPaced, PacedReporters), (debounced, PacedReporters) })
            {
                var s = Percentiles.Summarize([.. condition.Ticks]);
                Console.WriteLine($"{condition.Name,-18}{condition.Reports / condition.Seconds,10:N0}{tasks,7}{s.P50Ms,8:F3}{s.P99Ms,8:F3}{s.MaxMs,8:F3}" +
                    $"{s.P50Ms / baseline.P50Ms,7:F2}{s.P99Ms / baseline.P99Ms,7:F2}  {condition.RoundP50s.Min():F3}-{condition.RoundP50s.Max():F3}");
            }
            Console.WriteLine();
            Console.WriteLine($"debounced storm: {debounced.Reports:N0} reports; {outcomes[(int)ReportOutcome.Recorded]:N0} opened a window, " +
                $"{outcomes[(int)ReportOutcome.Debounced]:N0} more asked Redis, {outcomes[(int)ReportOutcome.Dropped]:N0} were dropped in memory");
            return 0;
        }
        finally
        {
            var db = redis.GetDatabase();
            var ours = workers.SelectMany(w => new[] { keys.WorkerInfo(w), keys.WorkerUsed(w), keys.WorkerJobs(w), keys.WorkerReleased(w) })
                .Append(keys.LiveWorkers);
            await Task.WhenAll(ours.Select(k => db.KeyDeleteAsync(k)));
            await DeleteReports(redis, keys, pairs);
        }
    }

    static void Record(Condition condition, (long[] Ticks, long Reports, double Seconds) run)
    {
        condition.Ticks.AddRange(run.Ticks);
        condition.RoundP50s.Add(Percentiles.Summarize(run.Ticks).P50Ms);
        condition.Reports += run.Reports;
        condition.Seconds += run.Seconds;
    }

    /// <summary>
    /// Times placements while <paramref name="reporters"/> tasks send reports round the pairs, each as fast as it can
    /// or, with a <paramref name="rate"/>, paced so that together they send that many a second.
    /// </summary>
    static async Task<(long[] Ticks, long Reports, double Seconds)> DuringStorm(RedisCounters ledger, string[] workers,
        (string Worker, string Service)[] pairs, int reporters, double? rate, Func<(string Worker, string Service), ValueTask> report)
    {
        using var stop = new CancellationTokenSource();
        long sent = 0;
        var started = Stopwatch.GetTimestamp();
        var storm = Enumerable.Range(0, reporters).Select(r => Task.Run(async () =>
        {
            long mine = 0;
            while (!stop.IsCancellationRequested)
            {
                // Paced: catch up with the reports due by now, then sleep about a millisecond.
                var due = rate is { } perSecond ? (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * perSecond / reporters) : mine + 1;
                for (; mine < due && !stop.IsCancellationRequested; mine++)
                {
                    await report(pairs[(r * 53 + mine) % pairs.Length]);
                    Interlocked.Increment(ref sent);
                }
                if (rate is not null)
                    await Task.Delay(1);
            }
        })).ToArray();
        var ticks = await Placements(ledger, workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var reports = Interlocked.Read(ref sent);
        await stop.CancelAsync();
        await Task.WhenAll(storm);
        return (ticks, reports, seconds);
    }

    /// <summary>Times the reserve of each of <see cref="SamplesPerRound"/> reserve+release pairs, one at a time.</summary>
    static async Task<long[]> Placements(RedisCounters ledger, string[] workers)
    {
        var ticks = new long[SamplesPerRound];
        for (var i = 0; i < SamplesPerRound; i++)
        {
            var (worker, job) = (workers[i % workers.Length], Guid.NewGuid());
            var start = Stopwatch.GetTimestamp();
            await ledger.Reserve(worker, job, 1, new ResourceVector(1, 0, 0));
            ticks[i] = Stopwatch.GetTimestamp() - start;
            await ledger.Release(worker, job, 1);
        }
        return ticks;
    }

    static Task DeleteReports(IConnectionMultiplexer redis, RedisKeys keys, (string Worker, string Service)[] pairs)
    {
        var db = redis.GetDatabase();
        return Task.WhenAll(pairs.Select(p => keys.ServiceUnavailable(p.Worker, p.Service)).Append(keys.UnavailableIndex)
            .Select(k => db.KeyDeleteAsync(k)));
    }
}
