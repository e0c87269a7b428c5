namespace Bus.Contracts;

/// <summary>An attempt ended badly: a non-zero exit code, or it could not start. Its resources were already released.</summary>
/// <param name="ExitCode">The process's exit code, or null when it never ran.</param>
/// <param name="Output">The tail of the combined stdout and stderr, at most 64 KiB.</param>
/// <param name="Error">What went wrong, in words a user understands.</param>
/// <param name="StartedAt">When the attempt started, if it did, so the job shows it even if this report overtakes JobStarted.</param>
/// <param name="Retryable">False when another attempt cannot help (the program is missing or not executable): the job fails without a retry.</param>
public record JobFailed(
    Guid JobId,
    int Attempt,
    string WorkerId,
    int? ExitCode,
    string Output,
    string Error,
    DateTimeOffset FinishedAt,
    DateTimeOffset? StartedAt = null,
    bool Retryable = true);
