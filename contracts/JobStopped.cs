namespace Bus.Contracts;

/// <summary>An attempt was stopped (its process tree killed) rather than ending by itself. Its resources were already released.</summary>
/// <param name="Output">The tail of the combined stdout and stderr, at most 64 KiB.</param>
public record JobStopped(Guid JobId, int Attempt, string WorkerId, StopReason Reason, string Output, DateTimeOffset FinishedAt);
