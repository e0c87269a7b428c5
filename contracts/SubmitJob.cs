namespace Bus.Contracts;

/// <summary>
/// A job to take on. Clients send it to the scheduler's <c>job-submissions</c> queue (with a response address, to
/// hear <see cref="SubmitJobAccepted"/> or <see cref="SubmitJobRejected"/>); the gateway and that queue's consumer
/// send it on to the job saga, whose first one starts the job.
/// </summary>
/// <remarks>
/// <see cref="JobId"/> is the name-based UUID of (tenant, requestId) that both the gateway and the scheduler compute
/// (<c>JobIds.ForRequest</c>); a client may leave it empty, and any other id is refused. Both paths claim the (tenant, requestId) in
/// <c>job_requests</c> before a job exists, so a repeat of the same body names the same job, and a different body
/// under a used requestId is refused.
/// </remarks>
/// <param name="Environment">Variables the job asked for in its environment, or null.</param>
public record SubmitJob(
    Guid JobId,
    string Tenant,
    string RequestId,
    string Service,
    string[] Command,
    string? PayloadJson,
    ResourceVector Resources,
    PlacementConstraints Constraints,
    int Priority,
    int TimeoutSeconds,
    int MaxAttempts,
    DateTimeOffset SubmittedAt,
    IReadOnlyDictionary<string, string>? Environment = null);
