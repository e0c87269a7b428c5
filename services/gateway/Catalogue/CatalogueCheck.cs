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
        return UnknownService(known, service) is { } error
            ? UnknownServices(new Dictionary<string, string[]> { ["service"] = [error] }, known)
            : null;
    }

    /// <summary>The error of a submission whose service the catalogue <paramref name="known"/> lacks; null when it has it.</summary>
    public static string? UnknownService(IReadOnlyList<CatalogueEntry> known, string service) =>
        known.Any(e => e.Service == service)
            ? null
            : $"service '{service}' is not in the service catalogue; known services: {string.Join(", ", known.Select(e => e.Service))}.";

    /// <summary>The 400 for <paramref name="errors"/> about unknown services, with the names the catalogue knows.</summary>
    public static ValidationProblem UnknownServices(IDictionary<string, string[]> errors, IReadOnlyList<CatalogueEntry> known) =>
        TypedResults.ValidationProblem(errors, title: "Unknown service",
            extensions: new Dictionary<string, object?> { ["knownServices"] = known.Select(e => e.Service).ToArray() });
}
