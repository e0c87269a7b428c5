using System.CommandLine;
using System.Text.Json.Nodes;
using Bus.Contracts;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary>
/// <c>submit [options] -- argv...</c>, like sbatch --wrap without the shell: the argv after <c>--</c> runs as it is.
/// Only the options given are sent, so the gateway's defaults apply to the rest.
/// </summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var submission = new SubmissionOptions();
        var wait = new Option<bool>("--wait", "-W") { Description = "Wait for the job to end, print its output, and exit with its exit code." };

        var command = new Command("submit", "Submit a job: bus jobs submit --cpus 2 -- /bin/sh -c 'make -j2'") { wait };
        submission.AddTo(command);
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var accepted = await api.Post("/api/v1/jobs", submission.Body(parseResult), cancellationToken);
            var jobId = (string)accepted["jobId"]!;
            if (!parseResult.GetValue(wait))
            {
                parseResult.Show(accepted, _ => AnsiConsole.Write(new Text($"Submitted job {jobId}\n")));
                return ExitCodes.Ok;
            }

            var job = await WaitForEnd(api, jobId, cancellationToken);
            if (parseResult.GetValue(CliCommand.JsonOutput))
                Console.Out.WriteLine(job.ToJsonString(Api.Json));
            else
                Console.Out.Write((string?)job["output"] ?? "");
            Console.Error.WriteLine($"job {jobId} {job["state"]}" +
                                    ((int?)job["exitCode"] is { } code ? $", exit code {code}" : "") +
                                    ((string?)job["error"] is { } error ? $": {error}" : ""));
            return ExitCode(job);
        });
        return command;
    }

    /// <summary>Polls, because a finished job's record is the answer either way and one GET every half second is cheap.</summary>
    static async Task<JsonNode> WaitForEnd(Api api, string jobId, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (true)
        {
            var job = await api.Get($"/api/v1/jobs/{jobId}", cancellationToken);
            if ((string?)job["state"] is { } state && JobStates.IsFinal(state))
                return job;
            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }

    static int ExitCode(JsonNode job) => (string?)job["state"] switch
    {
        JobStates.Completed => (int?)job["exitCode"] ?? ExitCodes.Ok,
        JobStates.TimedOut => ExitCodes.JobTimedOut,
        JobStates.Cancelled => ExitCodes.JobCancelled,
        _ => (int?)job["exitCode"] is { } code and not 0 ? code : ExitCodes.JobFailed,
    };
}
