namespace Bus.Contracts;

/// <summary>The scheduler tells a worker to stop one attempt: its process tree is killed, its resources released.</summary>
public record StopJob(Guid JobId, int Attempt, string WorkerId, StopReason Reason);
