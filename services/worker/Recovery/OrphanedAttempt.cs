namespace Bus.Worker.Recovery;

/// <summary>
/// An attempt the database says was running on this worker when this process started: the previous process
/// started it, so whatever became of it, nobody here is watching it any more.
/// </summary>
public sealed record OrphanedAttempt(
    Guid JobId,
    int Attempt,
    int? ProcessId,
    DateTimeOffset AllocatedAt,
    DateTimeOffset? StartedAt,
    int TimeoutSeconds);

/// <summary>What recovery decided for an orphaned attempt: the report the worker sends for it.</summary>
public abstract record RecoveryVerdict(string Reason)
{
    /// <summary>Past its time: reported stopped for timeout, so the job ends TimedOut.</summary>
    public sealed record TimedOut(string Why) : RecoveryVerdict(Why);

    /// <summary>Reported failed with a clear error; the scheduler retries the job while attempts remain.</summary>
    public sealed record Failed(string Why) : RecoveryVerdict(Why);
}

/// <summary>
/// One step of startup recovery. Steps run in order for each orphaned attempt; the first verdict wins. A step
/// may also act (kill a leftover process) and return null to let later steps decide.
/// </summary>
public interface IRecoveryStrategy
{
    Task<RecoveryVerdict?> Examine(OrphanedAttempt attempt, CancellationToken cancellationToken);
}
