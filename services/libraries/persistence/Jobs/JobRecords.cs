using System.Text.Json;
using Bus.Contracts;

namespace Bus.Persistence.Jobs;

/// <summary>
/// A job as a user sees it, and as <c>GET /api/v1/jobs/{jobId}</c> shows it (docs/api.md): what
/// <see cref="JobQueries.Find"/> and <see cref="JobQueries.List"/> read from the row. The command, payload and environment
/// are left out: only the scheduler and the worker need them.
/// </summary>
/// <param name="GpuDevices">The GPU device ids its current attempt was bound to, once the worker started it.</param>
/// <param name="Result">The structured result of a completed model-service job (the model server's JSON answer); null
/// for shell jobs, for jobs not completed, and in job lists (which leave it out to stay small).</param>
/// <param name="Attempts">Every placed attempt, oldest first; only <c>GET /api/v1/jobs/{jobId}</c> fills it in (the
/// gateway's JobAttempts), null in lists.</param>
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

/// <summary>One attempt of a job, as <c>GET /api/v1/jobs/{jobId}</c> lists it in <c>attempts</c>.</summary>
/// <param name="WorkerId">The worker that held the attempt's reservation; null for an attempt never placed.</param>
/// <param name="ExitCode">The process's exit code; null while it runs, or when it ended without one (lost, stopped).</param>
/// <param name="Error">Why the attempt failed or stopped; null while it runs and for a success.</param>
public sealed record JobAttempt(
    int Attempt, string? WorkerId, DateTimeOffset? AllocatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    int? ExitCode, string? Error);

/// <summary>A pending job as the scheduler's pending pass reads it from its saga row (<see cref="JobQueries.Pending"/>).</summary>
public sealed record PendingJob(
    Guid JobId,
    string Tenant,
    string Service,
    ResourceVector Resources,
    PlacementConstraints Constraints,
    int Priority,
    DateTimeOffset SubmittedAt)
{
    /// <summary>Why the job waits, as its last placement wrote it; null before its first.</summary>
    public string? PendingReason { get; init; }

    /// <summary>The code of <see cref="PendingReason"/>; null before its first placement, or when written before codes existed.</summary>
    public PendingReasonCode? PendingReasonCode { get; init; }
}

/// <summary>
/// What the pending pass keeps before it limits (<see cref="JobQueries.Pending"/>): jobs no bigger than the resources
/// given, whose service (without a language) is in <paramref name="Services"/> or whose service and language, joined by
/// <see cref="Separator"/>, are in <paramref name="Pairs"/>.
/// </summary>
public sealed record PendingFilter(int Cpus, int MemoryMb, int Gpus, string[] Services, string[] Pairs)
{
    /// <summary>Joins service and language in <see cref="Pairs"/>: chr(31), which neither can contain (both are validated).</summary>
    public const char Separator = '\u001f';
}

/// <summary>One attempt of a job and the worker that holds it.</summary>
public sealed record JobAttemptOnWorker(Guid JobId, int Attempt, string WorkerId);

/// <summary>An attempt the worker's previous process held, as its startup recovery reads it (<see cref="JobQueries.OnWorker"/>).</summary>
/// <param name="ProcessId">The process the worker recorded for it; null when it never started one.</param>
/// <param name="AllocatedAt">When its reservation was taken (the job's submission when neither is known).</param>
public sealed record WorkerAttemptRecord(
    Guid JobId, int Attempt, string State, int? ProcessId, DateTimeOffset AllocatedAt, DateTimeOffset? StartedAt, int TimeoutSeconds);

/// <summary>Where a job stands and when it got there, for the benchmarks (<see cref="JobQueries.Progress"/>).</summary>
public sealed record JobProgress(
    Guid JobId, string State, int Attempt, DateTimeOffset SubmittedAt, DateTimeOffset? AllocatedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>How many of one tenant's jobs are in one state, and the oldest submission among them.</summary>
public sealed record JobStateCount(string Tenant, string State, long Count, DateTimeOffset OldestSubmittedAt);

/// <summary>Jobs in final states by tenant and state (<see cref="JobQueries.CountFinished"/>, <see cref="JobQueries.CountFinishedAfter"/>).</summary>
/// <param name="SettledBefore">The database time the settled counts stop at.</param>
public sealed record FinishedCount(DateTimeOffset SettledBefore, IReadOnlyList<FinishedGroup> Groups);

/// <summary>One tenant and final state of a <see cref="FinishedCount"/>.</summary>
/// <param name="Settled">Jobs whose final write is older than the boundary: no transaction still running can add one.</param>
/// <param name="All">Every job the read counted, settled or not.</param>
/// <param name="CompletedLastMinute">Of those, the ones that became Completed within the last minute.</param>
public sealed record FinishedGroup(string Tenant, string State, long Settled, long All, long CompletedLastMinute);
