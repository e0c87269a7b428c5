using System.ComponentModel;
using System.Diagnostics;
using Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// The <c>shell</c> service: runs the job's argv as a real OS process, with no shell unless argv asks for one
/// (e.g. <c>["/bin/sh", "-c", "..."]</c>). On timeout or cancellation the whole process tree is killed.
/// </summary>
public sealed class ShellExecutor(IOptions<WorkerOptions> options) : IJobExecutor
{
    public string Service => "shell";

    public async Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken cancellationToken)
    {
        if (job.Command.Length == 0)
            return new ExecutionResult(null, "", "the job has no command to run");

        var tail = new OutputTail(options.Value.OutputTailBytes);
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(job.Command[0])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            },
        };
        foreach (var argument in job.Command.Skip(1))
            process.StartInfo.ArgumentList.Add(argument);
        process.OutputDataReceived += (_, e) => tail.AppendLine(e.Data);
        process.ErrorDataReceived += (_, e) => tail.AppendLine(e.Data);

        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new ExecutionResult(null, "", $"could not start '{job.Command[0]}': {e.Message}");
        }
        process.StandardInput.Close(); // jobs get no stdin
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await started(process.Id);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(job.TimeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            var why = cancellationToken.IsCancellationRequested
                ? "stopped: the worker is shutting down"
                : $"timed out after {job.TimeoutSeconds} s";
            return new ExecutionResult(null, tail.ToString(), why);
        }

        // WaitForExitAsync returns once the output streams have been read to their end.
        var exitCode = process.ExitCode;
        return new ExecutionResult(exitCode, tail.ToString(), exitCode == 0 ? null : $"exited with code {exitCode}");
    }
}
