using Bus.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// The API key, as the document's security schemes (<c>Authorization: Bearer</c>, or <c>X-Api-Key</c>), required by
/// every operation whose endpoint requires authorization: the same metadata that makes the gateway ask for a key.
/// </summary>
public sealed class ApiKeySecurityScheme : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string Bearer = "bearer";
    public const string Header = "apiKeyHeader";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Bus API";
        document.Info.Description = "A resource-aware distributed job scheduler. Every /api/ call needs an API key; see docs/api.md.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The API key as a bearer token: Authorization: Bearer <key>.",
        };
        document.Components.SecuritySchemes[Header] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.ApiKeyHeader,
            Description = "The API key in a header of its own.",
        };
        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
            return Task.CompletedTask;
        // Either scheme will do: two requirements, each with one scheme.
        operation.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, context.Document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Header, context.Document)] = [] },
        ];
        return Task.CompletedTask;
    }
}
