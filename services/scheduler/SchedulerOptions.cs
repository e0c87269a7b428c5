namespace Bus.Scheduler;

/// <summary>Scheduler settings. Bound from the <c>Scheduler</c> configuration section.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>
    /// How often pending jobs are offered to placement again even when no event said capacity appeared.
    /// A safety net: finishing jobs and joining workers trigger a pass at once. Default 5 s.
    /// </summary>
    public TimeSpan PendingRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many pending jobs one pass offers, highest priority then oldest first. Default 200.</summary>
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
