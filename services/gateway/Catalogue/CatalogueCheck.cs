using Bus.Infrastructure.Catalogue;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Catalogue;

/// <summary>The catalogue check every submission path of the gateway makes, with the one answer they all give.</summary>
public static class CatalogueCheck
{
    /// <summary>A 400 naming the known services when the catalogue does not know <paramref name="service"/>; else null.</summary>
    public static async Task<ValidationProblem?> RefuseUnknown(this ServiceCatalogue catalogue, string service, CancellationToken cancellationToken)
    {
        var known = await catalogue.Current(cancellationToken);
        if (known.Any(e => e.Service == service))
            return null;
        var names = known.Select(e => e.Service).ToArray();
        return TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["service"] = [$"service '{service}' is not in the service catalogue; known services: {string.Join(", ", names)}."] },
            title: "Unknown service",
            extensions: new Dictionary<string, object?> { ["knownServices"] = names });
    }
}
