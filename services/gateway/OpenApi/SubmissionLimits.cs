using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// The submission's field limits in the document's schemas, taken from <see cref="SubmitJobValidator"/>'s own
/// constants so the document cannot promise what the validator refuses. Defaults are those the validator fills in.
/// </summary>
public sealed class SubmissionLimits : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type == typeof(SubmitJobRequest))
        {
            schema.Required = new HashSet<string> { "requestId" };
            Text(schema, "requestId", maxLength: 128, pattern: SubmitJobValidator.RequestIdRule,
                "The idempotency key, unique per tenant.");
            Text(schema, "service", maxLength: 64, pattern: SubmitJobValidator.ServiceRule, "Default shell.");
            if (Property(schema, "command") is { } command)
            {
                command.MaxItems = SubmitJobValidator.MaxCommandArguments;
                command.Description = $"argv; required for shell. At most {SubmitJobValidator.MaxCommandArguments} arguments and " +
                                      $"{SubmitJobValidator.MaxCommandBytes} bytes in all (UTF-8); no NUL characters.";
            }
            Describe(schema, "payload", $"Opaque JSON for services other than shell, at most {SubmitJobValidator.MaxPayloadBytes} bytes (compact UTF-8).");
            Number(schema, "priority", 0, 100, 50);
            Number(schema, "timeoutSeconds", 1, SubmitJobValidator.MaxTimeoutSeconds, 3600);
            Number(schema, "maxAttempts", 1, 10, 3);
            if (Property(schema, "env") is { } env)
            {
                env.MaxProperties = SubmitJobValidator.MaxEnvironmentVariables;
                env.Description = $"At most {SubmitJobValidator.MaxEnvironmentVariables} variables and {SubmitJobValidator.MaxEnvironmentBytes} " +
                                  $"bytes in all; names {SubmitJobValidator.EnvironmentNameRule}, not starting with BUS_.";
            }
        }
        else if (type == typeof(ResourcesBody))
        {
            Number(schema, "cpus", 1, SubmitJobValidator.MaxCpus, 1);
            Number(schema, "memoryMb", 0, SubmitJobValidator.MaxMemoryMb, 0);
            Number(schema, "gpus", 0, SubmitJobValidator.MaxGpus, 0);
        }
        else if (type == typeof(ConstraintsBody))
            foreach (var name in new[] { "language", "pool", "excludeWorker", "affinityKey" })
                if (Property(schema, name) is { } constraint)
                {
                    constraint.MaxLength = SubmitJobValidator.MaxConstraintLength;
                    constraint.Description = "No control characters; empty means none.";
                }
        return Task.CompletedTask;
    }

    static OpenApiSchema? Property(OpenApiSchema schema, string name) =>
        schema.Properties?.TryGetValue(name, out var property) == true ? property as OpenApiSchema : null;

    static void Text(OpenApiSchema schema, string name, int maxLength, string pattern, string description)
    {
        if (Property(schema, name) is not { } property)
            return;
        property.MaxLength = maxLength;
        property.Pattern = pattern;
        property.Description = description;
    }

    static void Number(OpenApiSchema schema, string name, int minimum, int maximum, int fallback)
    {
        if (Property(schema, name) is not { } property)
            return;
        property.Minimum = minimum.ToString(CultureInfo.InvariantCulture);
        property.Maximum = maximum.ToString(CultureInfo.InvariantCulture);
        property.Description = $"{minimum} to {maximum}, default {fallback}.";
    }

    static void Describe(OpenApiSchema schema, string name, string description)
    {
        if (Property(schema, name) is { } property)
            property.Description = description;
    }
}
