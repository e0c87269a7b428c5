using System.ComponentModel;
using System.Diagnostics;
using Bus.Contracts;
using Bus.Worker.Journal;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// The <c>shell</c> service: runs the job's argv as a real OS process, with no shell unless argv asks for one
/// (e.g. <c>["/bin/sh", "-c", "..."]</c>), isolated by <see cref="JobSandbox"/> (its own user, folder and
/// environment) and contained by <see cref="IContainment"/> (a cgroup per attempt, or a process group). The attempt
/// ends only once nothing of it is left: when its main process exits, whatever it left running is killed; when it is
/// stopped (cancel, timeout, shutdown), everything is.
/// </summary>
public sealed class ShellExecutor(
    JobSandbox sandbox,
    IContainment containment,
    GpuBinding gpus,
    AttemptJournal journal,
    IOptions<WorkerOptions> options,
    ILogger<ShellExecutor> logger) : IJobExecutor
{
    const int ArgumentListTooLong = 7; // E2BIG

    public string Service => "shell";

    public async Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken stop)
    {
        if (job.Command.Length == 0)
            return new ExecutionResult(null, "", "the job has no command to run", Retryable: false);

        var name = $"{job.JobId:N}-{job.Attempt}";
        string? directory = null;
        IAttemptContainer? container = null;
        try
        {
            var devices = await gpus.Bind(job);
            directory = sandbox.CreateWorkingDirectory(name);
            container = containment.Create(name, job.Resources);
            var result = await RunContained(job, container, directory, devices, started, stop);
            var (ended, folder) = (container, directory);
            (container, directory) = (null, null); // the runner tidies them once the outcome is journaled
            return result with { CleanUp = () => CleanUp(ended, folder) };
        }
        finally
        {
            await CleanUp(container, directory);
            gpus.Release(job); // its processes are gone: the devices are free
        }
    }

    async Task CleanUp(IAttemptContainer? container, string? directory)
    {
        if (container is not null)
            await container.DisposeAsync();
        if (directory is not null)
            sandbox.RemoveWorkingDirectory(directory);
    }

    async Task<ExecutionResult> RunContained(RunJob job, IAttemptContainer container, string directory, string[] devices,
        Func<int?, Task> started, CancellationToken stop)
    {
        var tail = new OutputTail(options.Value.OutputTailBytes);
        var errors = new OutputTail(512); // the start of stderr: the launcher's own complaint, if it could not exec
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(JobSandbox.LauncherPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            },
        };
        var environment = sandbox.Environment(job, directory, devices);
        foreach (var argument in sandbox.LauncherArguments(container.JoinFiles, journal.ExitNotePath(job.JobId, job.Attempt), environment, job.Command))
            process.StartInfo.ArgumentList.Add(argument);
        // The launcher starts with no environment at all: nothing of the worker's reaches the job, and nothing of the
        // job's reaches the launcher, which runs as root until the job drops (see JobSandbox.LauncherArguments).
        process.StartInfo.Environment.Clear();

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            var reason = e.NativeErrorCode == ArgumentListTooLong ? "argument list too long" : e.Message;
            return new ExecutionResult(null, "", $"could not start '{job.Command[0]}': {reason}", Retryable: false);
        }
        using var reading = new CancellationTokenSource();
        var pumps = Task.WhenAll(
            tail.Pump(process.StandardOutput.BaseStream, reading.Token),
            Both(process.StandardError.BaseStream, tail, errors, reading.Token));
        await started(process.Id);

        var stopped = false;
        try
        {
            await process.WaitForExitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            stopped = true;
        }
        // Stopped: everything goes. Ended by itself: what it left behind goes, so nothing outlives the attempt.
        await container.KillAll(process.Id, CancellationToken.None);
        if (stopped)
        {
            // A stop that came before the launcher joined the attempt's cgroups (or started its session) found nothing
            // to kill, and the job would have run to its end. The launcher is the worker's child, not yet reaped, so
            // its pid is still its own: it goes, and then whatever it had started by then.
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It had exited already.
            }
            await process.WaitForExitAsync(CancellationToken.None);
            await container.KillAll(process.Id, CancellationToken.None);
        }
        await process.WaitForExitAsync(CancellationToken.None);
        await ReleaseWatchdog(process);
        await FinishReading(pumps, reading, job);

        if (stopped)
            return ExecutionResult.Stopped(tail.ToString());
        var exitCode = process.ExitCode;
        var output = tail.ToString();
        if (container.MemoryLimitHit)
            return new ExecutionResult(exitCode, output, $"exceeded its memory limit of {job.Resources.MemoryMb} MB");
        var complaint = errors.ToString();
        if (exitCode is 126 or 127 && complaint.StartsWith(JobSandbox.ExecFailedPrefix, StringComparison.Ordinal))
            return new ExecutionResult(exitCode, output, $"could not start '{job.Command[0]}': {ExecFailure(complaint)}", Retryable: false);
        if (exitCode == JobSandbox.LaunchFailedExitCode && complaint.StartsWith(JobSandbox.JoinFailedPrefix, StringComparison.Ordinal))
            return new ExecutionResult(exitCode, output, "the worker could not place the job in its cgroup");
        if (exitCode == JobSandbox.LaunchFailedExitCode && complaint.StartsWith(JobSandbox.LauncherName + ": ", StringComparison.Ordinal))
            return new ExecutionResult(exitCode, output, $"the worker could not launch the job: {complaint.Split('\n')[0][(JobSandbox.LauncherName.Length + 2)..]}");
        return new ExecutionResult(exitCode, output, exitCode == 0 ? null : $"exited with code {exitCode}");
    }

    /// <summary>Tells the launcher's watchdog (see <see cref="JobSandbox.LauncherArguments"/>) that the attempt is over.</summary>
    static async Task ReleaseWatchdog(Process process)
    {
        try
        {
            await process.StandardInput.WriteLineAsync(JobSandbox.AttemptOverLine);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The watchdog is gone already (it is outside the attempt's cgroups and group, so only a kill from
            // outside ends it early): there is nothing left to release.
        }
    }

    /// <summary>Reads stderr into the job's tail, and its first 512 bytes into the launcher's complaint.</summary>
    /// <remarks>Across reads, not from the first read alone: a complaint may come in several writes, and a reader
    /// quick enough gets them as separate chunks.</remarks>
    static async Task Both(Stream stream, OutputTail tail, OutputTail errors, CancellationToken cancellationToken)
    {
        const int complaintBytes = 512;
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            tail.Append(buffer.AsSpan(0, read));
            if (errors.Written < complaintBytes)
                errors.Append(buffer.AsSpan(0, (int)Math.Min(read, complaintBytes - errors.Written)));
        }
    }

    /// <summary>
    /// Once the attempt's processes are gone its pipes close and reading ends by itself. In process-group mode a
    /// descendant that left the group may still hold them; reading is then abandoned after a short while.
    /// </summary>
    async Task FinishReading(Task pumps, CancellationTokenSource reading, RunJob job)
    {
        if (await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(5))) != pumps)
        {
            logger.LogWarning("Job {JobId} attempt {Attempt} left a process that escaped its group and holds its output", job.JobId, job.Attempt);
            await reading.CancelAsync();
        }
        try
        {
            await pumps;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>"bus-launch: failed to execute X: No such file or directory" becomes "No such file or directory".</summary>
    static string ExecFailure(string complaint)
    {
        var line = complaint.Split('\n')[0];
        var colon = line.LastIndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? line[(colon + 2)..].ToLowerInvariant() : line;
    }
}
