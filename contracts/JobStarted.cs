namespace Bus.Contracts;

/// <summary>A worker started an attempt of a job.</summary>
public record JobStarted(Guid JobId, int Attempt, string WorkerId, int? ProcessId, DateTimeOffset StartedAt);
