namespace Bus.Contracts;

/// <summary>An attempt ran to the end with exit code 0. Its resources were already released.</summary>
/// <param name="Output">The tail of the combined stdout and stderr, at most 64 KiB.</param>
/// <param name="StartedAt">When the attempt started, so the job shows it even if this report overtakes JobStarted.</param>
/// <param name="ResultJson">The structured result, as JSON text, of a service that answers one (a model server behind
/// the <c>http</c> executor); at most <c>Worker:Http:MaxResultBytes</c>. Null for shell jobs.</param>
public record JobCompleted(Guid JobId, int Attempt, string WorkerId, int ExitCode, string Output, DateTimeOffset FinishedAt,
    DateTimeOffset? StartedAt = null, string? ResultJson = null);
