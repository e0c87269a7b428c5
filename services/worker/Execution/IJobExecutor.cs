using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>How an attempt ended, as the executor saw it.</summary>
/// <param name="ExitCode">The process's exit code, or null when it never ran or was killed.</param>
/// <param name="Error">Null on success; otherwise what went wrong, for the user.</param>
/// <param name="Killed">True when the attempt was stopped from outside (cancel, timeout, shutdown) and all its processes killed.</param>
/// <param name="Retryable">False when running it again cannot help (its program is missing or not executable): the job fails at once.</param>
/// <param name="ResultJson">A structured result, as JSON text, from an executor that has one (a model server's answer).</param>
public sealed record ExecutionResult(int? ExitCode, string Output, string? Error, bool Killed = false, bool Retryable = true,
    string? ResultJson = null)
{
    public bool Succeeded => Error is null && ExitCode == 0 && !Killed;

    /// <summary>
    /// What the executor still has to tidy once the outcome is safe in the journal (a cgroup to remove, a scratch
    /// folder), or null. The attempt's processes are gone already; leaving the tidying until after the journal
    /// write keeps the time in which a dying worker forgets how an attempt ended as short as it can be.
    /// </summary>
    public Func<Task>? CleanUp { get; init; }

    public static ExecutionResult Stopped(string output) => new(null, output, "stopped", Killed: true);
}

/// <summary>
/// Runs one kind of service. The job's <see cref="RunJob.Service"/> picks the executor by <see cref="Service"/>;
/// a new service plugs in by registering another implementation.
/// </summary>
public interface IJobExecutor
{
    string Service { get; }

    /// <summary>
    /// Runs the job to its end. Calls <paramref name="started"/> once it runs, with its process id if it has one.
    /// When <paramref name="stop"/> fires, the executor ends the job at once (killing what it started) and returns
    /// <see cref="ExecutionResult.Stopped"/>; the runner knows why it was stopped.
    /// </summary>
    Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken stop);
}
