using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bus.Cli.Commands;

/// <summary>
/// The options that describe a job, shared by <c>submit</c> and <c>explain</c> so the two always take the same flags
/// and build the same body. Only the options given are sent, so the gateway's defaults apply to the rest.
/// </summary>
public sealed class SubmissionOptions
{
    readonly Argument<string[]> _argv = new("command") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
    readonly Option<string?> _requestId = new("--request-id") { Description = "The idempotency key; a retry with the same key never makes a second job. Default: a new random one." };
    readonly Option<string?> _service = new("--service") { Description = "The capability a worker must offer (default shell)." };
    readonly Option<int?> _cpus = new("--cpus", "-c") { Description = "CPUs to reserve (default 1)." };
    readonly Option<int?> _memory = new("--memory-mb") { Description = "Memory to reserve, in MB." };
    readonly Option<int?> _gpus = new("--gpus") { Description = "GPUs to reserve." };
    readonly Option<string?> _language = new("--language") { Description = "The language a worker must offer, e.g. zh-en." };
    readonly Option<string?> _pool = new("--pool") { Description = "Try this pool first." };
    readonly Option<string?> _excludeWorker = new("--exclude-worker") { Description = "Never place on this worker." };
    readonly Option<string?> _affinityKey = new("--affinity-key") { Description = "Jobs with the same key go to the same worker while it can take them." };
    readonly Option<int?> _priority = new("--priority") { Description = "0 to 100 (default 50); higher runs first." };
    readonly Option<int?> _timeout = new("--timeout") { Description = "Seconds before the job is killed and ends TimedOut (default 3600)." };
    readonly Option<int?> _maxAttempts = new("--max-attempts") { Description = "How many times to try (default 3)." };
    readonly Option<string[]> _env = new("--env", "-e") { Description = "NAME=VALUE for the job's environment; repeat for more.", AllowMultipleArgumentsPerToken = false };
    readonly Option<string?> _payload = new("--payload") { Description = "JSON for a non-shell service, e.g. '{\"text\":\"hello\"}'." };

    public void AddTo(Command command)
    {
        command.Arguments.Add(_argv);
        foreach (var option in new Option[] { _requestId, _service, _cpus, _memory, _gpus, _language, _pool, _excludeWorker, _affinityKey,
                     _priority, _timeout, _maxAttempts, _env, _payload })
            command.Options.Add(option);
    }

    /// <summary>The submission body the parsed options describe.</summary>
    public JsonObject Body(ParseResult parseResult)
    {
        var body = new JsonObject { ["requestId"] = parseResult.GetValue(_requestId) ?? $"cli-{Guid.NewGuid():N}" };
        Add(body, "service", parseResult.GetValue(_service));
        if (parseResult.GetValue(_argv) is { Length: > 0 } program)
            body["command"] = new JsonArray(program.Select(a => (JsonNode?)a).ToArray());
        if (parseResult.GetValue(_payload) is { } json)
            body["payload"] = ParsePayload(json);
        body["resources"] = Object(("cpus", parseResult.GetValue(_cpus)), ("memoryMb", parseResult.GetValue(_memory)), ("gpus", parseResult.GetValue(_gpus)));
        body["constraints"] = Object(("language", parseResult.GetValue(_language)), ("pool", parseResult.GetValue(_pool)),
            ("excludeWorker", parseResult.GetValue(_excludeWorker)), ("affinityKey", parseResult.GetValue(_affinityKey)));
        Add(body, "priority", parseResult.GetValue(_priority));
        Add(body, "timeoutSeconds", parseResult.GetValue(_timeout));
        Add(body, "maxAttempts", parseResult.GetValue(_maxAttempts));
        if (parseResult.GetValue(_env) is { Length: > 0 } variables)
            body["env"] = ParseEnvironment(variables);
        Prune(body);
        return body;
    }

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
