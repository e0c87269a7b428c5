using System.Diagnostics;

namespace Bus.Bench;

/// <summary>Latencies of one measurement, in milliseconds.</summary>
public sealed record LatencySummary(int Count, double P50Ms, double P99Ms, double MaxMs);

public static class Percentiles
{
    /// <summary>Summarizes <see cref="Stopwatch"/> tick durations. Nearest-rank percentiles: each is a latency that was really seen.</summary>
    public static LatencySummary Summarize(long[] ticks)
    {
        var sorted = ticks.Order().ToArray();
        return new LatencySummary(sorted.Length, Ms(At(sorted, 0.50)), Ms(At(sorted, 0.99)), Ms(sorted[^1]));
    }

    /// <summary>Times <paramref name="runs"/> sequential calls of <paramref name="action"/>.</summary>
    public static async Task<LatencySummary> Time(int runs, Func<Task> action)
    {
        var ticks = new long[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await action();
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }
        return Summarize(ticks);
    }

    /// <summary>The nearest-rank percentile <paramref name="p"/> (0 to 1) of values sorted ascending; NaN when there are none.</summary>
    public static double Of(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];

    static long At(long[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
