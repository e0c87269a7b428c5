using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bus.Contracts;

namespace Bus.Gateway.Jobs;

/// <summary>A submission after validation, with every default filled in. Its canonical JSON is what
/// "the same body" means for idempotency (so <c>env</c> is kept sorted by name: its order does not matter).</summary>
public sealed record ValidSubmission(
    string RequestId,
    string Service,
    string[] Command,
    string? PayloadJson,
    ResourceVector Resources,
    PlacementConstraints Constraints,
    int Priority,
    int TimeoutSeconds,
    int MaxAttempts,
    // Left out when null, so a submission without env hashes as it always did.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SortedDictionary<string, string>? Environment = null);

/// <summary>Checks a submission against the rules of API.md and fills in defaults. Errors are per field.</summary>
public static partial class SubmitJobValidator
{
    public const int MaxPayloadBytes = 64 * 1024;
    public const int MaxTimeoutSeconds = 72 * 3600;
    public const int MaxEnvironmentVariables = 64;
    public const int MaxEnvironmentBytes = 32 * 1024;
    public const int MaxEnvironmentNameLength = 128;

    public static (ValidSubmission? Submission, Dictionary<string, string[]> Errors) Validate(SubmitJobRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        void Error(string field, string message) => errors[field] = [message];

        if (string.IsNullOrEmpty(body.RequestId))
            Error("requestId", "requestId is required.");
        else if (!RequestIdPattern().IsMatch(body.RequestId))
            Error("requestId", "requestId must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'.");

        var service = body.Service ?? "shell";
        if (!ServicePattern().IsMatch(service))
            Error("service", "service must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.");

        var command = body.Command ?? [];
        if (service == "shell" && command.Length == 0)
            Error("command", "command is required for the shell service: an argv array such as [\"/bin/echo\", \"hi\"].");
        else if (command.Length > 0 && string.IsNullOrEmpty(command[0]))
            Error("command", "command[0] must name the program to run.");
        else if (command.Any(a => a is null))
            Error("command", "command must not contain null.");

        string? payloadJson = null;
        if (body.Payload is { ValueKind: not JsonValueKind.Null } payload)
        {
            payloadJson = JsonSerializer.Serialize(payload); // compact, so whitespace does not change "the same body"
            if (payloadJson.Length > MaxPayloadBytes)
                Error("payload", $"payload must be at most {MaxPayloadBytes} bytes of JSON.");
        }

        var resources = new ResourceVector(body.Resources?.Cpus ?? 1, body.Resources?.MemoryMb ?? 0, body.Resources?.Gpus ?? 0);
        if (resources.Cpus < 1)
            Error("resources.cpus", "resources.cpus must be at least 1.");
        if (resources.MemoryMb < 0)
            Error("resources.memoryMb", "resources.memoryMb must be 0 or more.");
        if (resources.Gpus < 0)
            Error("resources.gpus", "resources.gpus must be 0 or more.");

        var priority = body.Priority ?? 50;
        if (priority is < 0 or > 100)
            Error("priority", "priority must be between 0 and 100.");
        var timeout = body.TimeoutSeconds ?? 3600;
        if (timeout is < 1 or > MaxTimeoutSeconds)
            Error("timeoutSeconds", $"timeoutSeconds must be between 1 and {MaxTimeoutSeconds} (72 h).");
        var maxAttempts = body.MaxAttempts ?? 3;
        if (maxAttempts is < 1 or > 10)
            Error("maxAttempts", "maxAttempts must be between 1 and 10.");

        var environment = ValidateEnvironment(body.Env, Error);

        var c = body.Constraints;
        var constraints = new PlacementConstraints(Blank(c?.Language), Blank(c?.Pool), Blank(c?.ExcludeWorker), Blank(c?.AffinityKey));

        return errors.Count > 0
            ? (null, errors)
            : (new ValidSubmission(body.RequestId!, service, command, payloadJson, resources, constraints, priority, timeout,
                maxAttempts, environment), errors);
    }

    /// <summary>
    /// Names as a shell would take them, not starting with <c>BUS_</c> (the worker's own variables about the job);
    /// values without NUL (which no environment can hold); a bounded count and size. Null when there are none.
    /// </summary>
    static SortedDictionary<string, string>? ValidateEnvironment(Dictionary<string, string?>? env, Action<string, string> error)
    {
        if (env is null || env.Count == 0)
            return null;
        if (env.Count > MaxEnvironmentVariables)
        {
            error("env", $"env may hold at most {MaxEnvironmentVariables} variables.");
            return null;
        }
        var bad = env.Keys.FirstOrDefault(name => !EnvironmentNamePattern().IsMatch(name));
        if (bad is not null)
            error("env", $"env names must be 1 to {MaxEnvironmentNameLength} characters of A-Z, a-z, 0-9 and '_', not starting with a digit; '{Truncate(bad)}' is not.");
        else if (env.Keys.FirstOrDefault(name => name.StartsWith("BUS_", StringComparison.OrdinalIgnoreCase)) is { } reserved)
            error("env", $"env names starting with BUS_ are set by the worker; '{reserved}' cannot be given.");
        else if (env.FirstOrDefault(e => e.Value is null || e.Value.Contains('\0')) is { Key: not null } invalid)
            error("env", $"env.{invalid.Key} must be a string without NUL characters.");
        else if (env.Sum(e => System.Text.Encoding.UTF8.GetByteCount(e.Key) + System.Text.Encoding.UTF8.GetByteCount(e.Value!) + 2) > MaxEnvironmentBytes)
            error("env", $"env must be at most {MaxEnvironmentBytes} bytes in all (each NAME=value counted with its terminator).");
        else
            return new SortedDictionary<string, string>(env!, StringComparer.Ordinal);
        return null;
    }

    static string Truncate(string value) => value.Length > 40 ? value[..40] + "…" : value;

    static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex RequestIdPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex ServicePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z")]
    private static partial Regex EnvironmentNamePattern();
}
