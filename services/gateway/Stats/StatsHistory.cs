using Bus.Contracts;
namespace Bus.Gateway.Stats;

/// <summary>
/// The last <see cref="Window"/> of stats snapshots, one sample per rebuild, kept in this gateway's memory so the
/// dashboard's charts have a past when the page opens (<c>GET /api/v1/stats/history</c>); after that the page
/// follows the live event stream. Each gateway keeps its own since it started: lost on a restart, never shared.
/// </summary>
public sealed class StatsHistory
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    readonly Queue<StatsSnapshot> _samples = new();
    readonly Lock _gate = new();

    /// <summary>Adds a freshly built snapshot and forgets those older than <see cref="Window"/>.</summary>
    public void Record(StatsSnapshot snapshot)
    {
        lock (_gate)
        {
            _samples.Enqueue(snapshot);
            while (_samples.TryPeek(out var oldest) && oldest.GeneratedAt < snapshot.GeneratedAt - Window)
                _samples.Dequeue();
        }
    }

    /// <summary>
    /// The samples, oldest first, as <paramref name="tenant"/> may see them (null: the whole cluster's counts).
    /// Completions per second are the growth of the Completed count since the previous sample, so the first sample
    /// has none.
    /// </summary>
    public IReadOnlyList<StatsSample> Samples(string? tenant)
    {
        StatsSnapshot[] samples;
        lock (_gate)
            samples = _samples.ToArray();

        var result = new List<StatsSample>(samples.Length);
        for (var i = 0; i < samples.Length; i++)
        {
            var counts = CountsOf(samples[i], tenant);
            double? perSecond = null;
            if (i > 0)
            {
                var seconds = (samples[i].GeneratedAt - samples[i - 1].GeneratedAt).TotalSeconds;
                var completed = counts[JobStates.Completed] - CountsOf(samples[i - 1], tenant)[JobStates.Completed];
                // A count that went down (jobs archived away) says nothing about throughput.
                perSecond = seconds > 0 ? Math.Max(0, completed) / seconds : null;
            }
            result.Add(new StatsSample(samples[i].GeneratedAt, samples[i].Utilization, counts[JobStates.Pending], counts[JobStates.Running], perSecond));
        }
        return result;
    }

    static IReadOnlyDictionary<string, long> CountsOf(StatsSnapshot snapshot, string? tenant) =>
        tenant is null ? snapshot.JobsByState : StatsSnapshots.CountsOf(snapshot, tenant).JobsByState;
}

/// <summary>One point of the dashboard's charts.</summary>
/// <param name="At">When the snapshot was built.</param>
/// <param name="Utilization">Allocated over offered CPUs of the whole cluster, 0 to 1.</param>
/// <param name="Pending">Jobs waiting for a worker.</param>
/// <param name="Running">Jobs running.</param>
/// <param name="CompletedPerSecond">Jobs that ended Completed per second since the previous sample; null on the first.</param>
public sealed record StatsSample(DateTimeOffset At, double Utilization, long Pending, long Running, double? CompletedPerSecond);

/// <summary>The answer of <c>GET /api/v1/stats/history</c>.</summary>
/// <param name="IntervalSeconds">How far apart the samples are (<c>Stats:RefreshInterval</c>).</param>
public sealed record StatsHistoryPage(double IntervalSeconds, IReadOnlyList<StatsSample> Samples);
