using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Bus.Bench.Chaos;

/// <summary>
/// The chaos suite (bench/run-chaos.sh): rounds of recorded shell jobs streamed at the running system (./bus up), one
/// fault per round, and per round what a user would see: jobs lost, run twice, workers over-committed, errors at the
/// API, and how long until the last job ended. Prints a Markdown table, a row as each round ends, then notes.
/// Exits 1 when any round lost a job, ran one twice or over-committed a worker.
/// </summary>
public static class ChaosBenchmark
{
    public static async Task<int> Run(string[] args)
    {
        ChaosOptions options;
        try { options = ChaosOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        Console.WriteLine($"broker:  {Broker()}");
        Console.WriteLine($"options: --jobs {options.Jobs} --rate {options.Rate} --deadline {options.Deadline} --job-ms {options.JobMilliseconds}" +
                          $" --rounds {string.Join(',', options.Rounds)}");
        Console.WriteLine($"started: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {MachineInfo.LoadAverage()} (1/5/15 min)");
        Console.WriteLine();
        Console.WriteLine("| round | submitted | completed | failed | lost | executed twice | oversold | dead-lettered | client errors | last job ended |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");

        await using var database = new NpgsqlDataSourceBuilder(BenchEnvironment.Postgres) { ConnectionStringBuilder = { Timeout = 5 } }.Build();
        using var api = JobStream.CreateClient(options);
        using var probe = new SystemProbe(api, database);
        var system = new SystemControl(options);
        var round = new ChaosRound(options, system, probe, api);
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

        var results = new List<RoundResult>();
        foreach (var name in options.Rounds)
        {
            var result = await round.Run(name, stamp);
            results.Add(result);
            Console.WriteLine(Row(result));
        }

        Console.WriteLine();
        Console.WriteLine($"finished: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC after {clock.Elapsed.TotalMinutes:F1} min, load {MachineInfo.LoadAverage()}");
        foreach (var result in results)
            Console.WriteLine(Notes(result));
        // A job counted lost may still end, or run again, after its round was counted: say so rather than let it pass unseen.
        foreach (var result in results.Where(r => r.Skipped is null))
        {
            var late = ExecutionLog.Read(result.ExecutionsFile).EndedTwice;
            if (late != result.ExecutedTwice)
                Console.WriteLine($"- {result.Round}: by the end of the suite {late} jobs had run to their end twice (counted {result.ExecutedTwice} when the round ended)");
            if (result.Unfinished.Count == 0)
                continue;
            try
            {
                var ended = (await probe.Jobs(result.Unfinished)).Values.Count(j => SystemProbe.IsTerminal(j.State));
                Console.WriteLine($"- {result.Round}: of the {result.Unfinished.Count} jobs counted lost, {ended} reached a terminal state after the deadline, by the end of the suite");
            }
            catch (NpgsqlException e)
            {
                Console.WriteLine($"- {result.Round}: could not re-read the lost jobs ({e.Message})");
            }
        }
        return results.Any(r => r.Lost > 0 || r.ExecutedTwice > 0 || r.Oversold > 0) ? 1 : 0;
    }

    static string Broker()
    {
        var nodes = Environment.GetEnvironmentVariable("RabbitMq__ClusterNodes");
        var queues = Environment.GetEnvironmentVariable("RabbitMq__QueueType") ?? "Classic";
        return string.IsNullOrEmpty(nodes)
            ? $"single RabbitMQ node on port {BenchEnvironment.RabbitPort}, {queues.ToLowerInvariant()} queues"
            : $"3-node RabbitMQ cluster ({nodes}), {queues.ToLowerInvariant()} queues";
    }

    static string Row(RoundResult r)
    {
        if (r.Skipped is not null)
            return $"| {r.Round} | skipped | | | | | | | | |";
        var errors = r.ClientErrors.Count == 0 && r.Abandoned == 0
            ? "none"
            : string.Join(' ', r.ClientErrors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}:{e.Value}")) +
              (r.Abandoned > 0 ? $" gave-up:{r.Abandoned}" : "");
        var ended = r.LastJobEnded is { } seconds ? $"{seconds:F1} s" : "never";
        return $"| {r.Round} | {r.Submitted} | {r.Completed} | {r.Failed} | {r.Lost} | {r.ExecutedTwice} | {r.Oversold} | " +
               $"{(r.DeadLettered is { } d ? d.ToString() : "?")} | {errors} | {ended} |";
    }

    static string Notes(RoundResult r)
    {
        if (r.Skipped is not null)
            return $"- {r.Round}: skipped: {r.Skipped}";
        return $"- {r.Round}: oversold samples {r.OversoldExecutions} from the jobs' own runs, {r.OversoldLive} of {r.LiveSamples} live API samples " +
               $"({r.OversoldAllocations} from allocation rows, not counted); {r.StartedTwice} jobs started more than once" +
               (r.CompletedWithoutRun > 0 ? $"; {r.CompletedWithoutRun} Completed without their command having run to its end" : "");
    }
}
