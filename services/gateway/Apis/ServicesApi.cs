using Bus.Capacity.Workers;
using Bus.Gateway.Catalogue;
using Bus.Gateway.Jobs;
using Bus.Persistence.Catalogue;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary>A catalogue entry as <c>GET /api/v1/services</c> shows it, with the live workers that offer it now.</summary>
/// <param name="Workers">Live workers offering the service (ready or draining), by id; empty when none does: a job
/// for it is accepted and waits with reason code <c>NoWorkerForService</c>.</param>
public sealed record ServiceView(string Service, string Description, string[] Workers);

/// <summary>The catalogue with where this gateway's copy came from.</summary>
/// <param name="Source"><c>Table</c>, or <c>CacheFile</c> while the table could not be read since this gateway started.</param>
public sealed record ServiceCatalogueView(IReadOnlyList<ServiceView> Services, string Source, DateTimeOffset ReadAt);

/// <summary>The body of <c>PUT /api/v1/services/{service}</c>.</summary>
public sealed record PutServiceRequest(string? Description);

/// <summary>The <c>/api/v1/services</c> endpoints: the service catalogue, readable by every key, changed by admins.</summary>
public static class ServicesApi
{
    public static RouteGroupBuilder MapServicesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/services").RequireAuthorization();
        api.MapGet("/", ListServices);
        api.MapPut("/{service}", PutService).RequireAuthorization("admin");
        api.MapDelete("/{service}", DeleteService).RequireAuthorization("admin");
        return api;
    }

    static async Task<Ok<ServiceCatalogueView>> ListServices(ServiceCatalogue catalogue, LiveWorkers liveWorkers, CancellationToken cancellationToken)
    {
        var entries = await catalogue.Current(cancellationToken);
        var workers = await liveWorkers.List(cancellationToken);
        var origin = catalogue.Origin!.Value;
        return TypedResults.Ok(new ServiceCatalogueView(
            entries.Select(e => new ServiceView(e.Service, e.Description, workers
                .Where(w => w.Registration.Services.Contains(e.Service)).Select(w => w.WorkerId).Order(StringComparer.Ordinal).ToArray())).ToList(),
            origin.Source.ToString(), origin.ReadAt));
    }

    static async Task<Results<Created<ServiceView>, Ok<ServiceView>, ValidationProblem>> PutService(
        string service, PutServiceRequest? body, CatalogueWriter writer, CancellationToken cancellationToken)
    {
        var description = body?.Description ?? "";
        var errors = new Dictionary<string, string[]>();
        if (!SubmitJobValidator.IsService(service))
            errors["service"] = [SubmitJobValidator.ServiceMessage];
        if (description.Length > ServicesApiLimits.MaxDescriptionLength)
            errors["description"] = [$"description must be at most {ServicesApiLimits.MaxDescriptionLength} characters."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        var view = new ServiceView(service, description, []);
        return await writer.Put(service, description, cancellationToken)
            ? TypedResults.Created($"/api/v1/services", view)
            : TypedResults.Ok(view);
    }

    static async Task<Results<NoContent, NotFound>> DeleteService(string service, CatalogueWriter writer, CancellationToken cancellationToken) =>
        await writer.Delete(service, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}
