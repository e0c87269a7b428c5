using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary>
/// <c>submit [options] -- argv...</c>, like sbatch --wrap without the shell: the argv after <c>--</c> runs as it is.
/// Only the options given are sent, so the gateway's defaults apply to the rest.
/// </summary>
public static class SubmitCommand
{
    static readonly string[] Finished = ["Completed", "Failed", "Cancelled", "TimedOut"];

    public static Command Create()
    {
        var argv = new Argument<string[]>("command") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var requestId = new Option<string?>("--request-id") { Description = "The idempotency key; a retry with the same key never makes a second job. Default: a new random one." };
        var service = new Option<string?>("--service") { Description = "The capability a worker must offer (default shell)." };
        var cpus = new Option<int?>("--cpus", "-c") { Description = "CPUs to reserve (default 1)." };
        var memory = new Option<int?>("--memory-mb") { Description = "Memory to reserve, in MB." };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs to reserve." };
        var language = new Option<string?>("--language") { Description = "The language a worker must offer, e.g. zh-en." };
        var pool = new Option<string?>("--pool") { Description = "Try this pool first." };
        var excludeWorker = new Option<string?>("--exclude-worker") { Description = "Never place on this worker." };
        var affinityKey = new Option<string?>("--affinity-key") { Description = "Jobs with the same key go to the same worker while it can take them." };
        var priority = new Option<int?>("--priority") { Description = "0 to 100 (default 50); higher runs first." };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds before the job is killed and ends TimedOut (default 3600)." };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = "How many times to try (default 3)." };
        var env = new Option<string[]>("--env", "-e") { Description = "NAME=VALUE for the job's environment; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var payload = new Option<string?>("--payload") { Description = "JSON for a non-shell service, e.g. '{\"text\":\"hello\"}'." };
        var wait = new Option<bool>("--wait", "-W") { Description = "Wait for the job to end, print its output, and exit with its exit code." };

        var command = new Command("submit", "Submit a job: bus jobs submit --cpus 2 -- /bin/sh -c 'make -j2'")
        {
            argv, requestId, service, cpus, memory, gpus, language, pool, excludeWorker, affinityKey, priority, timeout, maxAttempts,
            env, payload, wait,
        };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var body = new JsonObject { ["requestId"] = parseResult.GetValue(requestId) ?? $"cli-{Guid.NewGuid():N}" };
            Add(body, "service", parseResult.GetValue(service));
            if (parseResult.GetValue(argv) is { Length: > 0 } program)
                body["command"] = new JsonArray(program.Select(a => (JsonNode?)a).ToArray());
            if (parseResult.GetValue(payload) is { } json)
                body["payload"] = ParsePayload(json);
            body["resources"] = Object(("cpus", parseResult.GetValue(cpus)), ("memoryMb", parseResult.GetValue(memory)), ("gpus", parseResult.GetValue(gpus)));
            body["constraints"] = Object(("language", parseResult.GetValue(language)), ("pool", parseResult.GetValue(pool)),
                ("excludeWorker", parseResult.GetValue(excludeWorker)), ("affinityKey", parseResult.GetValue(affinityKey)));
            Add(body, "priority", parseResult.GetValue(priority));
            Add(body, "timeoutSeconds", parseResult.GetValue(timeout));
            Add(body, "maxAttempts", parseResult.GetValue(maxAttempts));
            if (parseResult.GetValue(env) is { Length: > 0 } variables)
                body["env"] = ParseEnvironment(variables);
            Prune(body);

            var accepted = await api.Post("/api/v1/jobs", body, cancellationToken);
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
            if (Finished.Contains((string?)job["state"]))
                return job;
            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }

    static int ExitCode(JsonNode job) => (string?)job["state"] switch
    {
        "Completed" => (int?)job["exitCode"] ?? ExitCodes.Ok,
        "TimedOut" => ExitCodes.JobTimedOut,
        "Cancelled" => ExitCodes.JobCancelled,
        _ => (int?)job["exitCode"] is { } code and not 0 ? code : ExitCodes.JobFailed,
    };

    static JsonNode ParsePayload(string json)
    {
        try
        {
            return JsonNode.Parse(json) ?? throw new CliException("--payload is JSON null; leave it out instead.");
        }
        catch (JsonException e)
        {
            throw new CliException($"--payload is not valid JSON: {e.Message}");
        }
    }

    static JsonObject ParseEnvironment(string[] assignments)
    {
        var variables = new JsonObject();
        foreach (var assignment in assignments)
        {
            var split = assignment.IndexOf('=');
            if (split <= 0)
                throw new CliException($"--env '{assignment}' is not NAME=VALUE.");
            variables[assignment[..split]] = assignment[(split + 1)..];
        }
        return variables;
    }

    static void Add<T>(JsonObject body, string name, T? value)
    {
        if (value is not null)
            body[name] = JsonValue.Create(value);
    }

    static JsonObject Object(params (string Name, object? Value)[] fields)
    {
        var result = new JsonObject();
        foreach (var (name, value) in fields)
            if (value is not null)
                result[name] = JsonSerializer.SerializeToNode(value);
        return result;
    }

    /// <summary>Drops empty groups, so a plain submit sends no <c>resources</c> or <c>constraints</c> at all.</summary>
    static void Prune(JsonObject body)
    {
        foreach (var name in body.Where(p => p.Value is JsonObject { Count: 0 }).Select(p => p.Key).ToList())
            body.Remove(name);
    }
}
