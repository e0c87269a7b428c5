using System.Security.Claims;
using Bus.Contracts;
using Bus.Gateway.Auth;
using Bus.Gateway.Catalogue;
using Bus.Gateway.Jobs;
using Bus.Gateway.Limits;
using Bus.Persistence.Catalogue;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Apis;

/// <summary><c>POST /api/v1/jobs:explain</c>: what-if placement for a submission body.</summary>
public static class ExplainApi
{
    public static IEndpointConventionBuilder MapExplainApi(this IEndpointRouteBuilder app)
    {
        var maxBody = app.ServiceProvider.GetRequiredService<IOptions<LimitOptions>>().Value.MaxRequestBodyBytes;
        // A custom method on the collection (AIP-136 style), so it can never be taken for a job id.
        return app.MapPost("/api/v1/jobs:explain", ExplainJob).RequireAuthorization().WithMetadata(new RequestSizeLimitAttribute(maxBody));
    }

    /// <summary>How long a submission's explanation may take, sending the request included.</summary>
    public static readonly TimeSpan ExplainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the submission would be placed now, or why not, with every live worker's verdict. Validated as a
    /// submission is (the same 400s, the catalogue included); nothing is stored, reserved or counted against the quota.
    /// A scheduler answers (see ExplainPlacementConsumer for why there); 503 when none does within
    /// <see cref="ExplainTimeout"/>, the broker's outage included (a send to a broker that is down waits for it).
    /// </summary>
    static async Task<Results<Ok<PlacementExplained>, ValidationProblem, ProblemHttpResult>> ExplainJob(
        SubmitJobRequest body, ClaimsPrincipal user, ServiceCatalogue catalogue, HttpContext context, IOptions<LimitOptions> limits,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var (submission, refused) = await catalogue.Validate(body, cancellationToken);
        if (submission is null)
            return refused!;
        var request = new ExplainPlacement(
            user.Tenant(), submission.Service, submission.Resources, submission.Constraints, submission.Priority, clock.GetUtcNow());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ExplainTimeout);
        try
        {
            // Bounded as a whole, the client's creation included: while the broker is down MassTransit waits for it
            // and does not heed the token, and a client must get its 503 instead of hanging.
            var answer = await Task.Run(() => context.RequestServices.GetRequiredService<IRequestClient<ExplainPlacement>>()
                    .GetResponse<PlacementExplained>(request, timeout.Token, RequestTimeout.After(ms: (int)ExplainTimeout.TotalMilliseconds)),
                    CancellationToken.None)
                .WaitAsync(ExplainTimeout, cancellationToken);
            return TypedResults.Ok(answer.Message);
        }
        catch (Exception e) when (e is RequestException or OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // As every other 503 of the API: the client backs off and retries.
            context.Response.Headers.RetryAfter = ((int)limits.Value.UnavailableRetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Temporarily unavailable.",
                detail: $"no scheduler answered within {ExplainTimeout.TotalSeconds:0} s (is the message broker or every scheduler down?); retry shortly.");
        }
    }
}
