using Bus.Gateway.Jobs;
using Bus.Persistence.Catalogue;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Catalogue;

/// <summary>The catalogue check every submission path of the gateway makes, with the one answer they all give.</summary>
public static class CatalogueCheck
{
    /// <summary>A submission body as submit and explain both take it: its rules (<see cref="SubmitJobValidator"/>),
    /// then the catalogue. The valid submission, or the 400 to answer.</summary>
    public static async Task<(ValidSubmission? Submission, ValidationProblem? Refused)> Validate(
        this ServiceCatalogue catalogue, SubmitJobRequest body, CancellationToken cancellationToken)
    {
        var (submission, errors) = SubmitJobValidator.Validate(body);
        if (submission is null)
            return (null, TypedResults.ValidationProblem(errors));
        return await catalogue.RefuseUnknown(submission.Service, cancellationToken) is { } unknown ? (null, unknown) : (submission, null);
    }

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
