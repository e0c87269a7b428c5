namespace Bus.Contracts;

/// <summary>The gateway asks the scheduler to take on a job. Starts the job's saga.</summary>
/// <remarks>
/// <see cref="JobId"/> is derived from (tenant, requestId) by the gateway, so a retried submission
/// correlates to the same saga instead of creating a second job.
/// </remarks>
/// <param name="Environment">Variables the job asked for in its environment (validated by the gateway), or null.</param>
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
