namespace Bus.Contracts;

/// <summary>A user asks to cancel a job. Sent by the gateway to the job's saga, which knows what that means now.</summary>
public record CancelJob(Guid JobId, DateTimeOffset RequestedAt);
