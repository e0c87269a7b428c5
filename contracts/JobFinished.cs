namespace Bus.Contracts;

/// <summary>Published by the scheduler once a job reaches a final state, after the saga row that records it is saved.
/// For clients that submitted over the bus and wait for the result.</summary>
/// <param name="State">Completed, Failed, Cancelled or TimedOut.</param>
/// <param name="Output">The tail of the last attempt's combined stdout and stderr, at most 64 KiB.</param>
public record JobFinished(
    Guid JobId,
    string Tenant,
    string RequestId,
    string State,
    int Attempt,
    int? ExitCode,
    string? Output,
    string? Error,
    DateTimeOffset? FinishedAt);
