namespace Bus.Bench.Chaos;

/// <summary>What one round counted. Times are seconds from the round's first submission.</summary>
public sealed record RoundResult(
    string Round,
    int Submitted,
    int Completed,
    int Failed,
    int Lost,
    int ExecutedTwice,
    int StartedTwice,
    int CompletedWithoutRun,
    int OversoldAllocations,
    int OversoldExecutions,
    int OversoldLive,
    int LiveSamples,
    int? DeadLettered,
    IReadOnlyDictionary<string, int> ClientErrors,
    int Abandoned,
    double? LastJobEnded,
    string ExecutionsFile,
    IReadOnlyCollection<Guid> Unfinished,
    string? Skipped = null)
{
    /// <summary>What ran over a worker's cpus, and what the live counters showed; not the lagging ledger rows.</summary>
    public int Oversold => OversoldExecutions + OversoldLive;
}
