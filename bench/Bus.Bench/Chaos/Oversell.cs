using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Bus.Bench.Chaos;

/// <summary>One allocation row: a worker's cpus held from <see cref="From"/> until <see cref="To"/> (null: still held).</summary>
public sealed record AllocationSpan(string WorkerId, int Cpus, DateTimeOffset From, DateTimeOffset? To);

/// <summary>
/// Over-commitment, counted in samples on a 100 ms grid over the round, so the count does not depend on when anything
/// was polled. What counts is what ran: the runs the jobs recorded themselves, each worker's against its cpus (a run's
/// parent process is the worker service that started it) and all of them against the workers' total. The allocation
/// rows are counted the same way, for the notes only: the ledger in PostgreSQL trails Redis (a worker frees its cpus
/// when a job ends, the saga stamps released_at when it hears of it), so a row's overlap with the next one on the same
/// worker can be that delay rather than two jobs on the same cpus.
/// </summary>
public static class Oversell
{
    static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    /// <summary>How much earlier than its released_at a row may have been freed in Redis before an overlap is counted.</summary>
    static readonly TimeSpan ReleaseStampLag = TimeSpan.FromMilliseconds(500);

    public static int FromExecutions(IReadOnlyList<Execution> runs, Func<int, string?> workerOfPid,
        IReadOnlyDictionary<string, int> capacity, DateTimeOffset from, DateTimeOffset to)
    {
        var total = capacity.Values.Sum();
        return Grid(from, to).Count(t =>
        {
            var running = runs.Where(r => r.Started <= t && r.Ended > t).ToList();
            return running.Sum(r => r.Cpus) > total ||
                   running.GroupBy(r => workerOfPid(r.ParentPid)).Any(w => w.Key is { } worker &&
                       w.Sum(r => r.Cpus) > capacity.GetValueOrDefault(worker, int.MaxValue));
        });
    }

    public static int FromAllocations(IReadOnlyList<AllocationSpan> rows, IReadOnlyDictionary<string, int> capacity,
        DateTimeOffset from, DateTimeOffset to)
    {
        var byWorker = rows.GroupBy(r => r.WorkerId).ToList();
        return Grid(from, to).Count(t => byWorker.Any(worker =>
            worker.Where(r => r.From <= t && (r.To is null || r.To - ReleaseStampLag > t)).Sum(r => r.Cpus) >
            capacity.GetValueOrDefault(worker.Key, int.MaxValue)));
    }

    static IEnumerable<DateTimeOffset> Grid(DateTimeOffset from, DateTimeOffset to)
    {
        for (var t = from; t <= to; t += Step)
            yield return t;
    }
}

/// <summary>Samples every live worker through the API while a round runs; an answer that fails is skipped.</summary>
public sealed class LiveCapacitySampler(HttpClient api)
{
    public int Samples { get; private set; }
    public int Violations { get; private set; }

    public async Task Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var workers = await api.GetFromJsonAsync<JsonArray>("/api/v1/workers", stop);
                var over = workers!.Any(w => (int)w!["used"]!["cpus"]! > (int)w["capacity"]!["cpus"]! ||
                                             (int)w["runningJobs"]! > (int)w["maxConcurrentJobs"]!);
                Samples++;
                if (over)
                    Violations++;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The gateway may be the thing that is down; the other two checks do not depend on it.
            }
            try { await Task.Delay(250, stop); } catch (OperationCanceledException) { }
        }
    }
}
