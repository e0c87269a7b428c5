using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Bench.EndToEnd;

namespace Bus.Bench.Scale;

/// <summary>One round: so many simulated workers, so many jobs pending, and what the probes saw.</summary>
/// <param name="Unfinished">Accepted probes not finished when the round gave up waiting for them.</param>
/// <param name="JobsPerSecond">Each burst's throughput, first submit to last finish, sorted.</param>
/// <param name="AllocatedMs">Paced probes, submit to Allocated from the saga's timestamps, sorted.</param>
/// <param name="PlaceMs">Paced probes, the time of their placement inside the scheduler's engine, sorted.</param>
/// <param name="Cpu">CPU seconds per wall second during the measured window (1.0 is one core): scheduler, worker process.</param>
public sealed record ScaleRound(
    int Workers, int Pending, int Refused, int Unfinished, double[] JobsPerSecond,
    double[] AllocatedMs, double[] PlaceMs, SchedulerWindow Scheduler, (double Scheduler, double Worker) Cpu, string Load)
{
    public bool Complete => Refused == 0 && Unfinished == 0;
}

/// <summary>
/// The scale simulation: how placement latency and throughput grow with the number of workers and
/// with the number of jobs already pending. One gateway, one scheduler and one worker process hosting N simulated
/// workers (<c>Worker:Simulate</c>) run against a database, virtual host and key prefix of their own
/// (<see cref="IsolatedSystem"/>). For each worker count the worker process is started afresh; for each pending count
/// the backlog is grown (<see cref="PendingSeed"/>), then noop probes go through the HTTP API twice: at a steady rate,
/// for placement latency without a queue in front of it, then as a burst, for throughput.
/// </summary>
public static class ScaleBenchmark
{
    public static async Task<int> Run(string[] args)
    {
        ScaleOptions options;
        try
        {
            options = ScaleOptions.Parse(args);
            if (options.Workers.Any(w => w is < 1 or > 2_000))
                throw new ArgumentException($"--workers: each count must be 1 to 2000 (Worker:Simulate's range)\n{ScaleOptions.Usage}");
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var runDirectory = options.RunDirectory ?? Directory.CreateTempSubdirectory("bus-scale-").FullName;
        Directory.CreateDirectory(runDirectory);
        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        Console.WriteLine($"options: {options}");
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at start (1/5/15 min)");
        Console.Error.WriteLine($"services log to {runDirectory}");

        var rounds = new List<ScaleRound>();
        await using (var system = await IsolatedSystem.Create(runDirectory))
        {
            var timings = new SchedulerTimings();
            var scheduler = system.Start("scheduler", "scheduler", "Bus.Scheduler", SchedulerTimings.Settings, onLine: timings.Observe);
            var gateway = await system.StartGateway();
            using var driver = new JobDriver(
                new EndToEndOptions { Gateway = gateway.ToString(), ApiKey = IsolatedSystem.AdminKey, Concurrency = options.Concurrency, Service = "noop" },
                system.Database);
            var seed = new PendingSeed(system.Database);
            foreach (var workers in options.Workers)
            {
                // A fresh process per count, and ids of its own (sim10-0001, ...), so no round inherits another's workers.
                var worker = system.Start($"worker-{workers}", "worker", "Bus.Worker",
                    [("Worker__Id", $"sim{workers}"), ("Worker__Cpus", options.Cpus.ToString()), ("Worker__MemoryMb", "8192")],
                    ["--simulate", workers.ToString()]);
                var joined = Stopwatch.GetTimestamp();
                await WaitForWorkers(driver.Http, workers, worker);
                Console.Error.WriteLine($"{workers} simulated workers registered in {Stopwatch.GetElapsedTime(joined).TotalSeconds:F1} s");
                // A new worker process (and, the first time, a new scheduler) runs cold: JIT tiers settle over the first thousands of jobs.
                await WarmUp(driver, $"scale-w{workers}-start", options.Warmup * 10);
                foreach (var pending in options.Pending)
                {
                    await seed.GrowTo(pending);
                    var round = await Measure(options, workers, pending, driver, timings, scheduler, worker);
                    rounds.Add(round);
                    Console.Error.WriteLine($"{workers} workers, {pending:N0} pending: {Percentiles.Of(round.JobsPerSecond, 0.5):F1} jobs/s, " +
                        $"submit -> Allocated p50 {Percentiles.Of(round.AllocatedMs, 0.5):F1} ms" + (round.Complete ? "" : " (INCOMPLETE)"));
                    foreach (var service in new[] { scheduler, worker })
                        if (service.HasExited)
                            throw new InvalidOperationException($"{service.Name} exited; see {runDirectory}/{service.Name}.log");
                }
                await system.Stop(worker);
                await seed.Clear();
            }
        }
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at end");
        Report(options, rounds);
        SelectionCost.Report(options.Workers, options.Cpus);
        return rounds.All(r => r.Complete) ? 0 : 1;
    }

    static async Task<ScaleRound> Measure(ScaleOptions options, int workers, int pending, JobDriver driver, SchedulerTimings timings,
        StartedService scheduler, StartedService worker)
    {
        var run = $"scale-w{workers}-p{pending}";
        await WarmUp(driver, $"{run}-warmup", options.Warmup);
        timings.Take(); // the warm-up's

        var cpuBefore = (Cpu(scheduler), Cpu(worker));
        var started = Stopwatch.GetTimestamp();
        var refused = await driver.SubmitPaced($"{run}-paced", options.Probes, options.Rate);
        await driver.WaitFinished($"{run}-paced", options.Probes - refused, Deadline(options.Probes));
        for (var i = 0; i < options.Bursts; i++)
        {
            var burstRefused = await driver.Submit($"{run}-burst{i}", options.Burst);
            await driver.WaitFinished($"{run}-burst{i}", options.Burst - burstRefused, Deadline(options.Burst));
            refused += burstRefused;
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var window = timings.Take();
        var cpu = ((Cpu(scheduler) - cpuBefore.Item1) / seconds, (Cpu(worker) - cpuBefore.Item2) / seconds);

        var paced = await driver.Times($"{run}-paced");
        var bursts = new List<IReadOnlyList<JobTimes>>();
        for (var i = 0; i < options.Bursts; i++)
            bursts.Add(await driver.Times($"{run}-burst{i}"));
        var unfinished = paced.Concat(bursts.SelectMany(b => b)).Count(j => j.Finished is null);
        var throughput = bursts.Select(Throughput).Order().ToArray();
        var allocated = paced.Where(j => j.Allocated is not null).Select(j => (j.Allocated!.Value - j.Submitted).TotalMilliseconds);
        var place = paced.Select(j => timings.Placed(j.JobId)).OfType<double>();
        var load = MachineInfo.LoadAverage().Split(' ')[0];
        return new ScaleRound(workers, pending, refused, unfinished, throughput, allocated.Order().ToArray(), place.Order().ToArray(), window, cpu, load);
    }

    /// <summary>Jobs finished per second, from the first submit to the last finish.</summary>
    static double Throughput(IReadOnlyList<JobTimes> jobs)
    {
        var done = jobs.Where(j => j.Finished is not null).ToList();
        return done.Count == 0 ? 0 : done.Count / (done.Max(j => j.Finished!.Value) - done.Min(j => j.Submitted)).TotalSeconds;
    }

    static async Task WarmUp(JobDriver driver, string run, int count)
    {
        await driver.Submit(run, count);
        await driver.WaitFinished(run, count, Deadline(count));
    }

    /// <summary>Long enough for the slowest round seen; a probe stranded in the pending queue is reported, not waited out.</summary>
    static TimeSpan Deadline(int jobs) => TimeSpan.FromSeconds(30 + jobs / 10.0);

    static double Cpu(StartedService service) => service.Usage?.CpuSeconds ?? double.NaN;

    static async Task WaitForWorkers(HttpClient api, int count, StartedService worker)
    {
        var live = 0;
        for (var deadline = DateTime.UtcNow.AddMinutes(3); DateTime.UtcNow < deadline; await Task.Delay(500))
        {
            if (worker.HasExited)
                throw new InvalidOperationException($"{worker.Name} exited before its workers registered");
            if ((live = (await api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!.Count) == count)
                return;
        }
        throw new TimeoutException($"{live} of {count} simulated workers registered within 3 minutes");
    }

    static void Report(ScaleOptions options, IReadOnlyList<ScaleRound> rounds)
    {
        Console.WriteLine();
        Console.WriteLine($"Each worker process: {options.Warmup * 10} warm-up probes. Each round: {options.Warmup} warm-up probes, " +
                          $"then {options.Probes} noop probes at {options.Rate}/s (latency),");
        Console.WriteLine($"then {options.Bursts} bursts of {options.Burst} from {options.Concurrency} clients at once " +
                          "(throughput, first submit to last finish: the median burst, and the range).");
        Console.WriteLine($"Pending jobs ask for {PendingSeed.Cpus} cpus, which no worker has ({options.Cpus} cpus each), so they stay pending.");
        Console.WriteLine();
        Console.WriteLine($"{"",17}{"bursts, jobs/s",20}{"submit -> Allocated (ms)",28}{"Place() in scheduler (ms)",28}{"load",7}");
        Console.WriteLine($"{"workers",7}{"pending",10}{"median",9}{"range",11}{"p50",10}{"p95",9}{"p99",9}{"p50",10}{"p95",9}{"p99",9}{"1 min",7}");
        foreach (var r in rounds)
            Console.WriteLine($"{r.Workers,7:N0}{r.Pending,10:N0}{P(r.JobsPerSecond, 0.5),9:F1}{$"{r.JobsPerSecond[0]:F0}-{r.JobsPerSecond[^1]:F0}",11}" +
                              $"{P(r.AllocatedMs, 0.50),10:F1}{P(r.AllocatedMs, 0.95),9:F1}{P(r.AllocatedMs, 0.99),9:F1}" +
                              $"{P(r.PlaceMs, 0.50),10:F2}{P(r.PlaceMs, 0.95),9:F2}{P(r.PlaceMs, 0.99),9:F2}{r.Load,7}" +
                              (r.Complete ? "" : $"  INCOMPLETE: {r.Unfinished} unfinished, {r.Refused} refused"));

        Console.WriteLine();
        Console.WriteLine("What the scheduler did in each round's measured window (paced and burst probes):");
        Console.WriteLine($"{"",17}{"pending reads: event pass",26}{"periodic pass",21}{"no-room placements",20}" +
                          $"{"snapshot builds",22}{"cpu, cores",17}");
        Console.WriteLine($"{"workers",7}{"pending",10}{"n",6}{"p50 ms",10}{"p99 ms",10}{"n",4}{"p50 ms",9}{"max ms",8}" +
                          $"{"n",5}{"p50 ms",8}{"p99 ms",8}{"n",5}{"p50 ms",8}{"p99 ms",8}{"scheduler",11}{"worker",7}");
        foreach (var r in rounds)
        {
            var s = r.Scheduler;
            Console.WriteLine($"{r.Workers,7:N0}{r.Pending,10:N0}" +
                              $"{s.EventReads.Length,6}{P(s.EventReads, 0.50),10:F2}{P(s.EventReads, 0.99),10:F2}" +
                              $"{s.PeriodicReads.Length,4}{P(s.PeriodicReads, 0.50),9:F2}{Max(s.PeriodicReads),8:F2}" +
                              $"{s.NoRoom.Length,5}{P(s.NoRoom, 0.50),8:F2}{P(s.NoRoom, 0.99),8:F2}" +
                              $"{s.SnapshotBuilds.Length,5}{P(s.SnapshotBuilds, 0.50),8:F2}{P(s.SnapshotBuilds, 0.99),8:F2}" +
                              $"{r.Cpu.Scheduler,11:F2}{r.Cpu.Worker,7:F2}");
        }
    }

    static double P(double[] sorted, double p) => Percentiles.Of(sorted, p);

    static double Max(double[] sorted) => sorted.Length == 0 ? double.NaN : sorted[^1];
}
