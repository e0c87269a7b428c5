namespace Bus.Contracts;

/// <summary>
/// An attempt is given up for lost: its worker stopped heartbeating, or never started it within the lease.
/// Published by the reconciler's sweeps; the saga tells the worker to stop the attempt should it still run,
/// releases its reservation, and retries the job or fails it.
/// </summary>
/// <param name="Reason">Why, in words for the user; shown as the job's error.</param>
public record JobAttemptLost(Guid JobId, int Attempt, string WorkerId, DateTimeOffset DetectedAt, string Reason);
