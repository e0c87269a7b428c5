namespace Bus.Contracts;

/// <summary>An admin asks a worker to take no new jobs and unregister once its running jobs have ended. The process stays up.</summary>
public record DrainWorker(string WorkerId, DateTimeOffset RequestedAt);
