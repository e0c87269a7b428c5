using Bus.Gateway.Sagas;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary><c>GET /api/v1/sagas/{jobId}</c> of API.md: admin only, any tenant's job.</summary>
public static class SagasApi
{
    public static RouteGroupBuilder MapSagasApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/sagas").RequireAuthorization("admin");
        api.MapGet("/{jobId:guid}", GetSaga);
        return api;
    }

    /// <summary>404 also for a job the gateway accepted but the scheduler has not taken up: it has no saga yet.</summary>
    static async Task<Results<Ok<SagaView>, NotFound>> GetSaga(Guid jobId, SagaStore sagas, CancellationToken cancellationToken) =>
        await sagas.Find(jobId, cancellationToken) is { } saga
            ? TypedResults.Ok(saga)
            : TypedResults.NotFound();
}
