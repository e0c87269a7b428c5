using System.Diagnostics;

namespace Bus.Bench.Capacity;

/// <summary>Reserve+release pairs driven the same way for each ledger, so their numbers compare.</summary>
public static class PairRuns
{
    /// <summary>
    /// <paramref name="tasks"/> tasks take pair numbers from one counter until <paramref name="ops"/> are done; pair i
    /// reserves a new job on worker i mod n and releases it. Each call must succeed, or the run measured the wrong path.
    /// </summary>
    public static async Task<PairRun> Measure(string[] workers, int tasks, int ops,
        Func<string, Guid, Task<bool>> reserve, Func<string, Guid, Task<bool>> release)
    {
        var reserveTicks = new long[ops];
        var releaseTicks = new long[ops];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < ops;)
            {
                var worker = workers[i % workers.Length];
                var job = Guid.NewGuid();
                var start = Stopwatch.GetTimestamp();
                var reserved = await reserve(worker, job);
                var middle = Stopwatch.GetTimestamp();
                var released = await release(worker, job);
                releaseTicks[i] = Stopwatch.GetTimestamp() - middle;
                reserveTicks[i] = middle - start;
                if (!reserved || !released)
                    throw new InvalidOperationException($"pair {i} on {worker}: reserved {reserved}, released {released}");
            }
        })));
        clock.Stop();
        return new PairRun(tasks, Percentiles.Summarize(reserveTicks), Percentiles.Summarize(releaseTicks), ops / clock.Elapsed.TotalSeconds);
    }
}
