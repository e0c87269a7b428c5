using System.ComponentModel;
using System.Diagnostics;
using Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// The <c>shell</c> service: runs the job's argv as a real OS process, with no shell unless argv asks for one
/// (e.g. <c>["/bin/sh", "-c", "..."]</c>). When stopped, the whole process tree is killed.
/// </summary>
public sealed class ShellExecutor(IOptions<WorkerOptions> options) : IJobExecutor
{
    public string Service => "shell";

    public async Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken stop)
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

        try
        {
            await process.WaitForExitAsync(stop);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return ExecutionResult.Stopped(tail.ToString());
        }

        // WaitForExitAsync returns once the output streams have been read to their end.
        var exitCode = process.ExitCode;
        return new ExecutionResult(exitCode, tail.ToString(), exitCode == 0 ? null : $"exited with code {exitCode}");
    }
}
