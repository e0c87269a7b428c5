namespace Bus.Scheduler;

/// <summary>Scheduler settings. Bound from the <c>Scheduler</c> configuration section.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>
    /// How often the periodic pending pass runs (one scheduler instance per interval, by a Redis lease): it offers the
    /// pending jobs that fit the current snapshot, refreshes pending reasons that are out of date, and probes one job
    /// per slot in case the snapshot is behind. A safety net: a job ending or a worker joining starts an event pass at
    /// once. Jobs still waiting for the same reason are not offered again at every interval. Default 5 s.
    /// </summary>
    public TimeSpan PendingRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many pending jobs one pass reads: the heads of every tenant's queue (effective priority, then oldest),
    /// offered in fair-share order. Default 200.
    /// </summary>
    public int PendingBatchSize { get; set; } = 200;

    /// <summary>
    /// The wait before a failed job's next attempt: this, doubled for each failure so far, at most
    /// <see cref="RetryMaxDelay"/>. Default 2 s (so 2 s, 4 s, 8 s, ...).
    /// </summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between attempts. Default 5 min.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many messages the saga endpoint handles at once. Default 16.</summary>
    public int SagaConcurrency { get; set; } = 16;

    /// <summary>The backoff before the attempt that follows <paramref name="failures"/> failures.</summary>
    public TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromTicks(Math.Min(RetryMaxDelay.Ticks, RetryBaseDelay.Ticks * (1L << Math.Clamp(failures - 1, 0, 30))));
}
