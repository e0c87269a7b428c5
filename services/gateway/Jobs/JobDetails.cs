using System.Text.Json;
using Bus.Contracts;

namespace Bus.Gateway.Jobs;

/// <summary>A job as <c>GET /api/v1/jobs/{jobId}</c> shows it (API.md).</summary>
/// <param name="GpuDevices">The GPU device ids its current attempt was bound to, once the worker started it.</param>
/// <param name="Result">The structured result of a completed model-service job (the model server's JSON answer); null
/// for shell jobs, for jobs not completed, and in job lists (which leave it out to stay small).</param>
/// <param name="Attempts">Every placed attempt, oldest first; only <c>GET /api/v1/jobs/{jobId}</c> fills it in, null in lists.</param>
/// <param name="PendingReasonCode">Why a pending job waits, as a code of the closed set next to <paramref name="PendingReason"/>.</param>
public sealed record JobDetails(
    Guid JobId,
    string RequestId,
    string Tenant,
    string State,
    string Service,
    ResourceVector Resources,
    int Priority,
    int Attempt,
    int MaxAttempts,
    string? WorkerId,
    string? PendingReason,
    int? ExitCode,
    string? Output,
    string? Error,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? AllocatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string[]? GpuDevices = null,
    JsonElement? Result = null,
    IReadOnlyList<JobAttempt>? Attempts = null,
    PendingReasonCode? PendingReasonCode = null);

/// <summary>The answer to a submission.</summary>
public sealed record JobAccepted(Guid JobId, string State);

/// <summary>One page of <c>GET /api/v1/jobs</c>; <c>nextCursor</c> is null on the last page.</summary>
public sealed record JobPage(IReadOnlyList<JobDetails> Jobs, string? NextCursor);
