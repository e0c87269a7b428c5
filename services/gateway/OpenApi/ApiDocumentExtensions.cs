using Scalar.AspNetCore;

namespace Bus.Gateway.OpenApi;

/// <summary>
/// The OpenAPI document, generated from the endpoints themselves (Microsoft.AspNetCore.OpenApi) at
/// <c>/openapi/v1.json</c>, and an interactive reference (Scalar, its script served by the gateway, no CDN) at
/// <see cref="ReferencePath"/>. Both are public, like the dashboard: they describe the API, they hold no data.
/// </summary>
public static class ApiDocumentExtensions
{
    public const string ReferencePath = "/reference";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        o.AddDocumentTransformer<ApiKeySecurityScheme>();
        o.AddDocumentTransformer<ManagementEndpoints>();
        o.AddOperationTransformer<ApiKeySecurityScheme>();
        o.AddOperationTransformer<ProblemResponses>();
        o.AddSchemaTransformer<ProblemResponses>();
        o.AddSchemaTransformer<SubmissionLimits>();
        o.AddSchemaTransformer<NullableEnums>();
    });

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapScalarApiReference(ReferencePath, o => o
            .WithTitle("Bus API")
            .AddPreferredSecuritySchemes(ApiKeySecurityScheme.Bearer));
        return app;
    }
}
