using System.Text.Json;

namespace Bus.Persistence.Submissions;

/// <summary>The body of <c>POST /api/v1/jobs</c>, as the client sent it. Everything is optional here so that
/// validation, not deserialization, says what is missing. <c>env</c> holds variables for the job's environment.</summary>
public sealed record SubmitJobRequest(
    string? RequestId,
    string? Service,
    string[]? Command,
    JsonElement? Payload,
    ResourcesBody? Resources,
    ConstraintsBody? Constraints,
    int? Priority,
    int? TimeoutSeconds,
    int? MaxAttempts,
    Dictionary<string, string?>? Env = null);

public sealed record ResourcesBody(int? Cpus, int? MemoryMb, int? Gpus);

public sealed record ConstraintsBody(string? Language, string? Pool, string? ExcludeWorker, string? AffinityKey);
