using System.CommandLine;

namespace Bus.Cli.Commands;

/// <summary><c>output JOB</c>: the job's stdout and stderr tail, written as it is, so it pipes like the job's own output.</summary>
public static class OutputCommand
{
    public static Command Create()
    {
        var jobId = JobArgument.Create();
        var command = new Command("output", "Print a job's captured stdout and stderr (the last 64 KiB).") { jobId };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var job = await api.Get($"/api/v1/jobs/{parseResult.GetValue(jobId)}", cancellationToken);
            Console.Out.Write((string?)job["output"] ?? "");
            return ExitCodes.Ok;
        });
        return command;
    }
}
