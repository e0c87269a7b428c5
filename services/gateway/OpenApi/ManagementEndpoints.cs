using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// The health and metrics endpoints the gateway shares with every service (<c>MapManagement</c>). They are not
/// minimal-API handlers, so the generator does not see them; this adds them to the document by hand, with no key
/// required, as they answer.
/// </summary>
public sealed class ManagementEndpoints : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= new OpenApiPaths();
        var report = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The overall status and each check's status, description and duration.",
        };
        document.Paths["/health/live"] = Get("Whether the process runs", "management",
            ("200", "Alive.", "application/json", report));
        document.Paths["/health/ready"] = Get("Whether the gateway can serve: PostgreSQL, Redis and RabbitMQ as it uses them", "management",
            ("200", "Ready; each check's detail.", "application/json", report),
            ("503", "A check fails; each check's detail.", "application/json", report));
        document.Paths["/metrics"] = Get("Metrics in the Prometheus text format (docs/observability.md)", "management",
            ("200", "The current metrics.", "text/plain", new OpenApiSchema { Type = JsonSchemaType.String }));
        return Task.CompletedTask;
    }

    static OpenApiPathItem Get(string summary, string tag, params (string Status, string Description, string MediaType, OpenApiSchema Schema)[] responses)
    {
        var answers = new OpenApiResponses();
        foreach (var (status, description, mediaType, schema) in responses)
            answers[status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = schema } },
            };
        return new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation>
            {
                [HttpMethod.Get] = new() { Summary = summary, Tags = new HashSet<OpenApiTagReference> { new(tag) }, Responses = answers },
            },
        };
    }
}
