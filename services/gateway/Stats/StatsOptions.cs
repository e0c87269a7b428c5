namespace Bus.Gateway.Stats;

/// <summary>The stats snapshot behind <c>GET /api/v1/stats</c>. Bound from the <c>Stats</c> section.</summary>
public sealed class StatsOptions
{
    public const string Section = "Stats";

    /// <summary>
    /// How often the snapshot is rebuilt in the background. Requests are answered from the last snapshot, so this
    /// is how stale <c>/api/v1/stats</c> may be (5 to 10 s at most); each rebuild costs one pass over the live
    /// workers in Redis and two queries on <c>jobs</c>, however many requests arrive. Default 5 s.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
