using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// Every refusal an operation can answer, as <c>application/problem+json</c>. Some come from the handler's own result
/// types (its 400s and 404s) or its <c>ProducesProblem</c> (a 409, the quota's 429); the rest come from the pipeline
/// around every handler, and are added here from the same facts that make the pipeline answer them: a key is
/// required, the admin policy, a JSON body, a route value, a dependency that can be down.
/// </summary>
public sealed class ProblemResponses : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    /// <summary>What each status means on this API, with the problem titles it comes with (docs/api.md).</summary>
    static readonly Dictionary<int, string> Meanings = new()
    {
        [400] = "A field, query parameter or header breaks its rule (\"One or more validation errors occurred.\"), or the " +
                "body is not JSON or has an unknown, repeated or mistyped field (\"The request body is not a valid job " +
                "request.\"); `errors` names each one.",
        [401] = "No API key, or an unknown one.",
        [403] = "This call needs an admin key.",
        [404] = "No such job or worker, or not one this key's tenant can see; a job id that is not a GUID.",
        [409] = "A conflict: \"requestId already used\" (the same requestId with a different body), or \"job already " +
                "finished\" (cancelling a job that has finished).",
        [413] = "The body is over Limits:MaxRequestBodyBytes (for jobs:batch, Limits:MaxBatchRequestBodyBytes).",
        [415] = "The body is not Content-Type: application/json (UTF-8).",
        [429] = "\"Too many requests\" (the key is over Limits:RequestsPerSecond and Limits:RequestBurst) or \"Active " +
                "jobs quota reached\" (the tenant has Limits:MaxActiveJobsPerTenant jobs active); Retry-After says when to retry.",
        [503] = "PostgreSQL, Redis or RabbitMQ does not answer; Retry-After (Limits:UnavailableRetryAfter).",
    };

    /// <summary>
    /// A problem may carry members of its own (RFC 9457 extensions: <c>traceId</c> on every one here). The strict JSON
    /// options would otherwise have every schema, these too, refuse members it does not list.
    /// </summary>
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (typeof(ProblemDetails).IsAssignableFrom(context.JsonTypeInfo.Type))
        {
            schema.AdditionalPropertiesAllowed = true;
            schema.AdditionalProperties = null;
        }
        return Task.CompletedTask;
    }

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        var statuses = new SortedSet<int>();
        if (authorize.Count > 0)
            statuses.UnionWith([401, 429, 503]);
        if (authorize.Any(a => a.Policy == "admin"))
            statuses.Add(403);
        if (description.ParameterDescriptions.Any(p => p.Source == BindingSource.Path))
            statuses.Add(404);
        if (description.ParameterDescriptions.Any(p => p.Source == BindingSource.Body))
            statuses.UnionWith([400, 413, 415]);

        operation.Responses ??= new OpenApiResponses();
        var problem = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, cancellationToken);
        foreach (var status in statuses)
            operation.Responses.TryAdd(status.ToString(), new OpenApiResponse());
        // Every 4xx and 5xx, whoever declared it: a problem+json body, and what it means here.
        foreach (var (code, response) in operation.Responses.Where(r => r.Key[0] is '4' or '5').ToList())
        {
            if (response is not OpenApiResponse concrete)
                continue;
            concrete.Description = Meanings.GetValueOrDefault(int.Parse(code), concrete.Description ?? "");
            concrete.Content ??= new Dictionary<string, OpenApiMediaType>();
            // A handler's ValidationProblem keeps its own schema, with the per-field errors.
            var schema = concrete.Content.Values.FirstOrDefault(m => m.Schema is not null)?.Schema ?? problem;
            concrete.Content.Clear();
            concrete.Content["application/problem+json"] = new OpenApiMediaType { Schema = schema };
        }
    }
}
