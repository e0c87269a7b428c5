using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Bus.Contracts;

namespace Bus.Persistence.Submissions;

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
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SortedDictionary<string, string>? Environment = null)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The hash of the canonical JSON, stored with the claim: equal hashes mean the same body.</summary>
    public string Hash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, Json))));
}

/// <summary>
/// Checks a submission against the rules of docs/api.md and fills in defaults. Errors are per field. Fields the
/// request does not declare never reach here: the JSON options refuse them while reading.
/// </summary>
public static partial class SubmitJobValidator
{
    public const int MaxPayloadBytes = 64 * 1024;
    public const int MaxTimeoutSeconds = 72 * 3600;
    public const int MaxEnvironmentVariables = 64;
    public const int MaxEnvironmentBytes = 32 * 1024;
    public const int MaxEnvironmentNameLength = 128;
    public const int MaxCommandArguments = 1024;
    public const int MaxCommandBytes = 64 * 1024;
    public const int MaxConstraintLength = 128;
    public const int MaxCpus = 4096;
    public const int MaxMemoryMb = 16 * 1024 * 1024; // 16 TiB
    public const int MaxGpus = 1024;

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
            Error("service", ServiceMessage);

        var command = body.Command ?? [];
        if (CommandError(service, command) is { } commandError)
            Error("command", commandError);

        string? payloadJson = null;
        if (body.Payload is { ValueKind: not JsonValueKind.Null } payload)
        {
            payloadJson = JsonSerializer.Serialize(payload); // compact, so whitespace does not change "the same body"
            if (Encoding.UTF8.GetByteCount(payloadJson) > MaxPayloadBytes)
                Error("payload", $"payload must be at most {MaxPayloadBytes} bytes of JSON.");
            else if (!StorableJson(payload))
                Error("payload", "payload strings must not contain NUL characters or unpaired surrogates.");
        }

        var resources = new ResourceVector(body.Resources?.Cpus ?? 1, body.Resources?.MemoryMb ?? 0, body.Resources?.Gpus ?? 0);
        Range("resources.cpus", resources.Cpus, 1, MaxCpus);
        Range("resources.memoryMb", resources.MemoryMb, 0, MaxMemoryMb);
        Range("resources.gpus", resources.Gpus, 0, MaxGpus);

        var priority = Range("priority", body.Priority ?? 50, 0, 100);
        var timeout = Range("timeoutSeconds", body.TimeoutSeconds ?? 3600, 1, MaxTimeoutSeconds);
        var maxAttempts = Range("maxAttempts", body.MaxAttempts ?? 3, 1, 10);

        var environment = ValidateEnvironment(body.Env, Error);

        var c = body.Constraints;
        var constraints = new PlacementConstraints(
            Constraint("constraints.language", c?.Language), Constraint("constraints.pool", c?.Pool),
            Constraint("constraints.excludeWorker", c?.ExcludeWorker), Constraint("constraints.affinityKey", c?.AffinityKey));

        return errors.Count > 0
            ? (null, errors)
            : (new ValidSubmission(body.RequestId!, service, command, payloadJson, resources, constraints, priority, timeout,
                maxAttempts, environment), errors);

        int Range(string field, int value, int min, int max)
        {
            if (value < min || value > max)
                Error(field, $"{field} must be between {min} and {max}.");
            return value;
        }

        // Constraints are matched against names from configuration and worker registrations: text on one line.
        string? Constraint(string field, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
                return null;
            if (value.Length > MaxConstraintLength)
                Error(field, $"{field} must be at most {MaxConstraintLength} characters.");
            else if (value.Any(char.IsControl) || !StorableText(value))
                Error(field, $"{field} must not contain control characters or unpaired surrogates.");
            return value;
        }
    }

    /// <summary>What <see cref="IsService"/> admits, as the error message says it.</summary>
    public const string ServiceMessage = "service must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit.";

    /// <summary>
    /// The same rules for a <see cref="SubmitJob"/> that arrived over the bus: its fields are put back into the shape
    /// of an HTTP body, so both paths pass one check. A payload that is not JSON is refused here.
    /// </summary>
    public static (ValidSubmission? Submission, Dictionary<string, string[]> Errors) Validate(SubmitJob message)
    {
        JsonElement? payload = null;
        if (message.PayloadJson is not null)
            try
            {
                using var document = JsonDocument.Parse(message.PayloadJson);
                payload = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                return (null, new Dictionary<string, string[]> { ["payload"] = ["payload must be JSON."] });
            }
        var c = message.Constraints;
        return Validate(new SubmitJobRequest(
            message.RequestId, message.Service, message.Command, payload,
            message.Resources is { } r ? new ResourcesBody(r.Cpus, r.MemoryMb, r.Gpus) : null,
            c is null ? null : new ConstraintsBody(c.Language, c.Pool, c.ExcludeWorker, c.AffinityKey),
            message.Priority, message.TimeoutSeconds, message.MaxAttempts,
            message.Environment?.ToDictionary(e => e.Key, e => (string?)e.Value)));
    }

    /// <summary>Whether <paramref name="service"/> is a well-formed service name.</summary>
    public static bool IsService(string service) => ServicePattern().IsMatch(service);

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

    static string? CommandError(string service, string[] command)
    {
        if (service == "shell" && command.Length == 0)
            return "command is required for the shell service: an argv array such as [\"/bin/echo\", \"hi\"].";
        if (command.Length == 0)
            return null;
        if (command.Length > MaxCommandArguments)
            return $"command must have at most {MaxCommandArguments} arguments.";
        if (command.Any(a => a is null))
            return "command must not contain null.";
        if (string.IsNullOrEmpty(command[0]))
            return "command[0] must name the program to run.";
        // The kernel ends an argument at NUL, so the process would run something other than what was asked.
        if (command.Any(a => !StorableText(a)))
            return "command arguments must not contain NUL characters or unpaired surrogates.";
        if (command.Sum(a => (long)Encoding.UTF8.GetByteCount(a)) > MaxCommandBytes)
            return $"command must be at most {MaxCommandBytes} bytes in total (UTF-8).";
        return null;
    }

    /// <summary>
    /// Text PostgreSQL can store and a process can receive: no NUL (it ends a C string, and jsonb refuses it) and
    /// valid UTF-16 (an unpaired surrogate has no UTF-8 form).
    /// </summary>
    static bool StorableText(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var ch = value[i];
            if (ch == '\0')
                return false;
            if (char.IsHighSurrogate(ch) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                i++;
            else if (char.IsSurrogate(ch))
                return false;
        }
        return true;
    }

    static bool StorableJson(JsonElement payload)
    {
        try
        {
            return Storable(payload);
        }
        catch (InvalidOperationException)
        {
            return false; // an escaped surrogate without its pair cannot even be read as a string
        }

        static bool Storable(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => StorableText(element.GetString()!),
            JsonValueKind.Array => element.EnumerateArray().All(Storable),
            JsonValueKind.Object => element.EnumerateObject().All(p => StorableText(p.Name) && Storable(p.Value)),
            _ => true,
        };
    }

    const string RequestIdChars = "[A-Za-z0-9._:-]{1,128}";
    const string ServiceChars = "[a-z0-9][a-z0-9._-]{0,63}";
    const string EnvironmentNameChars = "[A-Za-z_][A-Za-z0-9_]{0,127}";

    /// <summary>The rules as ECMA-262 patterns, for the OpenAPI document (where a pattern is read by other tools).</summary>
    public const string RequestIdRule = "^" + RequestIdChars + "$";
    public const string ServiceRule = "^" + ServiceChars + "$";
    public const string EnvironmentNameRule = "^" + EnvironmentNameChars + "$";

    // \z, not $: $ also matches before a final newline, which would let "shell\n" through as a service.
    [GeneratedRegex(@"\A" + RequestIdChars + @"\z")]
    private static partial Regex RequestIdPattern();

    [GeneratedRegex(@"\A" + ServiceChars + @"\z")]
    private static partial Regex ServicePattern();

    [GeneratedRegex(@"\A" + EnvironmentNameChars + @"\z")]
    private static partial Regex EnvironmentNamePattern();
}
