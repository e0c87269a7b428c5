using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>How an attempt ended, as the executor saw it.</summary>
/// <param name="ExitCode">The process's exit code, or null when it never ran or was killed.</param>
/// <param name="Error">Null on success; otherwise what went wrong, for the user.</param>
public sealed record ExecutionResult(int? ExitCode, string Output, string? Error)
{
    public bool Succeeded => Error is null && ExitCode == 0;
}

/// <summary>
/// Runs one kind of service. The job's <see cref="RunJob.Service"/> picks the executor by <see cref="Service"/>;
/// a new service plugs in by registering another implementation.
/// </summary>
public interface IJobExecutor
{
    string Service { get; }

    /// <summary>Runs the job to its end. Calls <paramref name="started"/> once it runs, with its process id if it has one.</summary>
    Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken cancellationToken);
}
