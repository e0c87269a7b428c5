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

    /// <summary>How many messages the saga endpoint handles at once. Default 16.</summary>
    public int SagaConcurrency { get; set; } = 16;
}
