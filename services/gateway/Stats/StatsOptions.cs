namespace Bus.Gateway.Stats;

/// <summary>The stats snapshot behind <c>GET /api/v1/stats</c>. Bound from the <c>Stats</c> section.</summary>
public sealed class StatsOptions
{
    public const string Section = "Stats";

    /// <summary>
    /// How often the snapshot is rebuilt in the background. Requests are answered from the last snapshot, so this
    /// is how stale <c>/api/v1/stats</c> may be (5 to 10 s at most); each rebuild costs one pass over the live
    /// workers in Redis and three short queries on <c>jobs</c>, however many requests arrive. Default 5 s.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a rebuild counts the finished jobs of the whole table instead of adding the ones that finished since
    /// the last rebuild (<see cref="FinishedJobCounts"/>). Between two such counts, jobs removed by retention are still
    /// counted. The count reads every row, so it should be rare on a large history. Default 1 h.
    /// </summary>
    public TimeSpan FullCountInterval { get; set; } = TimeSpan.FromHours(1);
}
