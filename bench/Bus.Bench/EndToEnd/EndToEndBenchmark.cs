using System.Globalization;
using Npgsql;

namespace Bus.Bench.EndToEnd;

/// <summary>
/// End-to-end benchmark: N jobs through the running system (gateway over HTTP, RabbitMQ, the saga in
/// PostgreSQL, Redis, the worker services), reporting throughput from first submit to last completion, latency
/// percentiles from the saga's timestamps, the invariants, each service's CPU and memory, and what one job cost
/// (<see cref="CostLedger"/>).
/// </summary>
public static class EndToEndBenchmark
{
    public static async Task<int> Run(string[] args)
    {
        EndToEndOptions options;
        try { options = EndToEndOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        if (options.Array > 0 && options.Rate > 0)
        {
            Console.Error.WriteLine("--array and --rate cannot be combined: arrays are sent as fast as the gateway answers them");
            return 2;
        }

        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        Console.WriteLine($"options: --jobs {options.Jobs} --concurrency {options.Concurrency} --service {options.Service} --warmup {options.Warmup}" +
            (options.Rate > 0 ? $" --rate {options.Rate}" : "") + (options.Array > 0 ? $" --array {options.Array}" : ""));

        await using var database = NpgsqlDataSource.Create(BenchEnvironment.Postgres);
        using var driver = new JobDriver(options, database);
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

        Console.Error.WriteLine($"warming up with {options.Warmup} jobs ...");
        await driver.Submit($"bench-{stamp}-warmup", options.Warmup);
        if (!await driver.WaitFinished($"bench-{stamp}-warmup", options.Warmup, TimeSpan.FromMinutes(2)))
        {
            Console.Error.WriteLine("the warm-up jobs did not finish within 2 minutes; is the system up (./bus up)?");
            return 1;
        }

        var run = $"bench-{stamp}-run";
        var state = Path.Combine(AppContext.BaseDirectory, "../../../../../.state");
        using var ledger = new CostLedger(database);
        Console.Error.WriteLine("reading the cost counters once they settle ...");
        var before = await ledger.Take(state);
        var checks = new InvariantChecks(driver.Http, database);
        using var stopSampling = new CancellationTokenSource();
        var sampling = checks.SampleWorkers(stopSampling.Token);
        var waits = new DatabaseWaits(database);
        var waitSampling = waits.Sample(stopSampling.Token);

        Console.Error.WriteLine($"measuring {options.Jobs} {options.Service} jobs ...");
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at start (1/5/15 min)");
        var refused = options.Rate > 0 ? await driver.SubmitPaced(run, options.Jobs, options.Rate) : await driver.Submit(run, options.Jobs);
        if (options.Array > 0)
            Console.WriteLine($"submitted: {options.Jobs:N0} jobs as {driver.Arrays(run)} arrays of up to {options.Array:N0} in {driver.SubmitSeconds(run):F2} s");
        var finished = await driver.WaitFinished(run, options.Jobs - refused, TimeSpan.FromSeconds(120 + options.Jobs / 20.0));
        await stopSampling.CancelAsync();
        await sampling;
        await waitSampling;
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at end");
        var jobs = await driver.Times(run);
        Console.Error.WriteLine("reading the cost counters once they settle ...");
        var after = await ledger.Take(state);
        await checks.CheckEnd(run, jobs, options.Jobs);
        Report(options, jobs, refused, finished, checks, before.Processes, after.Processes);
        Console.WriteLine();
        CostLedger.Report(before, after, jobs.Count(j => j.Finished is not null));
        waits.Report();
        return checks.Violations.Count == 0 && finished ? 0 : 1;
    }

    static void Report(EndToEndOptions options, IReadOnlyList<JobTimes> jobs, int refused, bool finished, InvariantChecks checks,
        IReadOnlyList<ServiceUsage> before, IReadOnlyList<ServiceUsage> after)
    {
        var done = jobs.Where(j => j.Finished is not null).ToList();
        Console.WriteLine();
        if (done.Count == 0)
        {
            Console.WriteLine("no job finished");
            return;
        }
        var first = jobs.Min(j => j.Submitted);
        var last = done.Max(j => j.Finished!.Value);
        var seconds = (last - first).TotalSeconds;
        Console.WriteLine($"Throughput: {done.Count:N0} {options.Service} jobs{(options.Array > 0 ? $" in arrays of {options.Array:N0}" : "")} from first submit to last finish in {seconds:F1} s = {done.Count / seconds:F1} jobs/s" +
                          (refused > 0 ? $" ({refused} submissions refused)" : "") + (finished ? "" : " (TIMED OUT waiting)"));
        Console.WriteLine();
        Console.WriteLine($"{"latency from submit (ms)",-28}{"p50",10}{"p95",10}{"p99",10}{"max",10}");
        Row("submit -> Allocated", done.Select(j => j.Allocated!.Value - j.Submitted));
        Row("submit -> Running", done.Where(j => j.Started is not null).Select(j => j.Started!.Value - j.Submitted));
        Row("submit -> Completed", done.Select(j => j.Finished!.Value - j.Submitted));
        Console.WriteLine();
        Console.WriteLine($"Invariants: {checks.Samples} samples of every worker during the run; " +
                          (checks.Violations.Count == 0 ? "no violations" : $"{checks.Violations.Count} VIOLATIONS:"));
        foreach (var violation in checks.Violations.Take(20))
            Console.WriteLine($"  {violation}");
        Console.WriteLine();
        Console.WriteLine($"{"process",-14}{"cpu s (run)",14}{"peak MB",10}");
        foreach (var service in after)
        {
            var start = before.FirstOrDefault(b => b.Name == service.Name)?.CpuSeconds ?? 0;
            Console.WriteLine($"{service.Name,-14}{service.CpuSeconds - start,14:F1}{(service.PeakMemoryMb is { } mb ? mb.ToString("F0") : "-"),10}");
        }
    }

    static void Row(string name, IEnumerable<TimeSpan> durations)
    {
        var ms = durations.Select(d => d.TotalMilliseconds).Order().ToArray();
        if (ms.Length == 0)
            return;
        Console.WriteLine($"{name,-28}{Percentiles.Of(ms, 0.50),10:F1}{Percentiles.Of(ms, 0.95),10:F1}{Percentiles.Of(ms, 0.99),10:F1}{ms[^1],10:F1}");
    }
}
