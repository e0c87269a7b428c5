namespace Bus.Persistence.Jobs;

/// <summary>
/// The <c>jobs</c> table and its columns, named once. The scheduler's saga repository maps its row onto these names
/// (a unit test fails if the EF model and this list drift apart), and every SQL statement over the table in
/// <see cref="JobQueries"/> is written with them.
/// </summary>
public static class JobColumns
{
    public const string Table = "jobs";

    public const string JobId = "job_id";
    public const string CurrentState = "current_state";
    public const string Version = "version";
    public const string Tenant = "tenant";
    public const string RequestId = "request_id";
    public const string Service = "service";
    public const string Command = "command";
    public const string PayloadJson = "payload_json";
    public const string EnvironmentJson = "environment_json";
    public const string Cpus = "cpus";
    public const string MemoryMb = "memory_mb";
    public const string Gpus = "gpus";
    public const string Language = "language";
    public const string Pool = "pool";
    public const string ExcludeWorker = "exclude_worker";
    public const string AffinityKey = "affinity_key";
    public const string Priority = "priority";
    public const string TimeoutSeconds = "timeout_seconds";
    public const string MaxAttempts = "max_attempts";
    public const string Attempt = "attempt";
    public const string Failures = "failures";
    public const string NotBefore = "not_before";
    public const string CancelRequestedAt = "cancel_requested_at";
    public const string WorkerId = "worker_id";
    public const string PendingReason = "pending_reason";
    public const string PendingReasonCode = "pending_reason_code";
    public const string ExitCode = "exit_code";
    public const string Output = "output";
    public const string Error = "error";
    public const string ResultJson = "result_json";
    public const string SubmittedAt = "submitted_at";
    public const string AllocatedAt = "allocated_at";
    public const string StartedAt = "started_at";
    public const string FinishedAt = "finished_at";
    public const string UpdatedAt = "updated_at";

    /// <summary>Every column above, for the test that holds the saga's mapping to them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        JobId, CurrentState, Version, Tenant, RequestId, Service, Command, PayloadJson, EnvironmentJson, Cpus, MemoryMb,
        Gpus, Language, Pool, ExcludeWorker, AffinityKey, Priority, TimeoutSeconds, MaxAttempts, Attempt, Failures,
        NotBefore, CancelRequestedAt, WorkerId, PendingReason, PendingReasonCode, ExitCode, Output, Error, ResultJson,
        SubmittedAt, AllocatedAt, StartedAt, FinishedAt, UpdatedAt,
    ];
}
