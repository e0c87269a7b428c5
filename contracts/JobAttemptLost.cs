namespace Bus.Contracts;

/// <summary>
/// The worker running an attempt stopped heartbeating and is presumed dead (R2). Published by the reconciler's
/// lost-worker sweep; the saga releases the attempt's reservation and retries the job or fails it.
/// </summary>
public record JobAttemptLost(Guid JobId, int Attempt, string WorkerId, DateTimeOffset DetectedAt);
