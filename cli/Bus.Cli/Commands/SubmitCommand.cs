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
        var array = new Option<int?>("--array", "-a")
        {
            Description = $"Submit N such jobs in one request (1 to {MaxArray}), like sbatch --array=1-N: job i gets requestId " +
                          "<request-id>-i and ARRAY_TASK_ID=i in its environment.",
        };

        var command = new Command("submit", "Submit a job: bus jobs submit --cpus 2 -- /bin/sh -c 'make -j2'") { wait, array };
        submission.AddTo(command);
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            if (parseResult.GetValue(array) is { } size)
                return await SubmitArray(parseResult, api, submission.Body(parseResult), size, parseResult.GetValue(wait), cancellationToken);
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

    const int MaxArray = 1_000;

    /// <summary>
    /// One <c>POST /api/v1/jobs:batch</c> of <paramref name="size"/> copies of <paramref name="job"/>, each with its own
    /// requestId, so retrying the same command line makes no job twice. Exits 2 when any element was refused.
    /// </summary>
    static async Task<int> SubmitArray(ParseResult parseResult, Api api, JsonObject job, int size, bool wait, CancellationToken cancellationToken)
    {
        if (size is < 1 or > MaxArray)
            throw new CliException($"--array takes 1 to {MaxArray} jobs.");
        if (wait)
            throw new CliException("--array and --wait cannot be combined; follow the jobs with 'watch'.");
        var jobs = new JsonArray();
        for (var i = 1; i <= size; i++)
        {
            var task = job.DeepClone().AsObject();
            task["requestId"] = $"{job["requestId"]}-{i}";
            var env = task["env"] as JsonObject ?? [];
            env["ARRAY_TASK_ID"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            task["env"] = env;
            jobs.Add(task);
        }
        var answer = await api.Post("/api/v1/jobs:batch", new JsonObject { ["jobs"] = jobs }, cancellationToken);
        // One line, as sbatch --array prints; --json lists every job.
        parseResult.Show(answer, a => AnsiConsole.Write(new Text(
            $"Submitted array {job["requestId"]}: {a["accepted"]} new, {a["alreadyAccepted"]} already accepted, {a["refused"]} refused\n")));
        foreach (var refused in answer["jobs"]!.AsArray().Where(e => (string?)e!["status"] == "refused"))
            Console.Error.WriteLine($"{refused!["requestId"]}: {refused["problem"]?["detail"]}");
        return (int)answer["refused"]! > 0 ? ExitCodes.ApiError : ExitCodes.Ok;
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
