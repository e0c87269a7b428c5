using System.Security.Claims;
using Bus.Gateway.Auth;
using Bus.Gateway.Events;
using Bus.Gateway.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary>
/// Server-Sent Events: <c>GET /api/v1/jobs/{jobId}/events</c> for one job, <c>GET /api/v1/events</c> for all of the
/// tenant's jobs. Both resume after the <c>Last-Event-ID</c> a client sends back, from any gateway.
/// </summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/jobs/{jobId:guid}/events", JobEvents).RequireAuthorization();
        app.MapGet("/api/v1/events", TenantEvents).RequireAuthorization();
        return app;
    }

    static async Task<Results<ServerSentEventsResult<JobEvent>, NotFound, ValidationProblem>> JobEvents(
        Guid jobId, HttpRequest request, ClaimsPrincipal user, JobStore jobs, JobEventFeed feed, JobEventStore store,
        CancellationToken cancellationToken)
    {
        if (!TryResume(request, out var resume, out var problem))
            return problem;
        // The horizon first, then the job: whatever changes after the job is read comes after the horizon.
        var from = resume ?? await store.Now(cancellationToken);
        if (await jobs.Find(user.Tenant(), jobId, cancellationToken) is not { } job)
            return TypedResults.NotFound();
        return TypedResults.ServerSentEvents(JobEventStream.Read(feed, store, user.Tenant(), job, from, resume is not null, cancellationToken, jobs));
    }

    static async Task<Results<ServerSentEventsResult<JobEvent>, ValidationProblem>> TenantEvents(
        HttpRequest request, ClaimsPrincipal user, JobEventFeed feed, JobEventStore store, CancellationToken cancellationToken)
    {
        if (!TryResume(request, out var resume, out var problem))
            return problem;
        // Taken before the answer's headers go out, so a client that has them sees everything that happens next.
        var from = resume ?? await store.Now(cancellationToken);
        return TypedResults.ServerSentEvents(
            HeadersFirst(request.HttpContext.Response, JobEventStream.Read(feed, store, user.Tenant(), null, from, resume is not null, cancellationToken)));
    }

    /// <summary>
    /// Sends the answer's headers before the first event: a tenant stream may wait long for one, and a client (or a
    /// proxy) that saw nothing would not know it is connected. Enumerated after the result has set the headers.
    /// </summary>
    static async IAsyncEnumerable<T> HeadersFirst<T>(HttpResponse response, IAsyncEnumerable<T> items)
    {
        await response.Body.FlushAsync(response.HttpContext.RequestAborted);
        await foreach (var item in items)
            yield return item;
    }

    static bool TryResume(HttpRequest request, out EventCursor? resume, out ValidationProblem problem)
    {
        resume = null;
        problem = null!;
        var header = request.Headers["Last-Event-ID"].ToString();
        if (header.Length == 0 || EventCursor.TryParse(header, out resume))
            return true;
        problem = TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["Last-Event-ID"] = ["Last-Event-ID must be an event id this API sent (digits, a dash, digits)."],
        });
        return false;
    }
}
