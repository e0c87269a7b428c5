using System.Globalization;
using System.Security.Claims;
using Bus.Contracts;
using Bus.Gateway.Auth;
using Bus.Gateway.Catalogue;
using Bus.Gateway.Jobs;
using Bus.Gateway.Limits;
using Bus.Hosting.Messaging;
using Bus.Hosting.Options;
using Bus.Persistence.Catalogue;
using Bus.Persistence.Jobs;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Apis;

/// <summary>The <c>/api/v1/jobs</c> endpoints of API.md.</summary>
public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/jobs").RequireAuthorization();
        // Bodies over the limit are refused while being read (413), before any of them is buffered or parsed.
        var maxBody = app.ServiceProvider.GetRequiredService<IOptions<LimitOptions>>().Value.MaxRequestBodyBytes;
        api.MapPost("/", SubmitJob).WithMetadata(new RequestSizeLimitAttribute(maxBody))
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapGet("/{jobId:guid}", GetJob);
        api.MapGet("/", ListJobs);
        api.MapPost("/{jobId:guid}/cancel", CancelJob).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    /// <summary>
    /// Claims the requestId first, then sends SubmitJob. The request row is the outbox: should the send fail (RabbitMQ
    /// down) or be lost to a crash, the reconciler's relay sends it later, so the 202 stands. A retry with the same body
    /// also sends again when the saga does not exist yet.
    /// </summary>
    static async Task<Results<Accepted<JobAccepted>, Ok<JobAccepted>, ValidationProblem, ProblemHttpResult>> SubmitJob(
        SubmitJobRequest body, ClaimsPrincipal user, JobStore jobs, TenantQuota quota, LastKnownGood<LimitOptions> limits,
        HttpContext context, SubmitRelay relay, ServiceCatalogue catalogue, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (submission, refused) = await catalogue.Validate(body, cancellationToken);
        if (submission is null)
            return refused!;

        if (await quota.ExceededBy(user.Tenant(), submission.RequestId, cancellationToken) is { } usage)
            return SubmitRefusals.QuotaReached(context, user.Tenant(), usage, limits.CurrentValue);

        var claim = await jobs.ClaimRequest(user.Tenant(), submission, clock.GetUtcNow(), cancellationToken);
        if (!claim.SameBody)
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: SubmitRefusals.RequestIdUsed,
                detail: SubmitRefusals.RequestIdUsedDetail(submission.RequestId, claim.JobId));

        var state = claim.Created ? null : await jobs.State(claim.JobId, cancellationToken);
        if (state is null)
            await relay.TrySend(claim.Command, cancellationToken);

        var accepted = new JobAccepted(claim.JobId, state ?? JobStates.Pending);
        return claim.Created
            ? TypedResults.Accepted($"/api/v1/jobs/{claim.JobId}", accepted)
            : TypedResults.Ok(accepted);
    }

    static async Task<Results<Ok<JobDetails>, NotFound>> GetJob(
        Guid jobId, ClaimsPrincipal user, JobStore jobs, JobAttempts attempts, CancellationToken cancellationToken) =>
        await jobs.Find(user.Tenant(), jobId, cancellationToken) is { } job
            ? TypedResults.Ok(job with { Attempts = await attempts.Of(job, cancellationToken) })
            : TypedResults.NotFound();

    /// <summary>
    /// 202 and the saga takes it from there: a pending job is Cancelled at once; one on a worker is killed first,
    /// then becomes Cancelled. A finished job cannot be cancelled (409).
    /// </summary>
    static async Task<Results<Accepted<JobAccepted>, NotFound, ProblemHttpResult>> CancelJob(
        Guid jobId, ClaimsPrincipal user, JobStore jobs, ISendEndpointProvider send, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await jobs.Find(user.Tenant(), jobId, cancellationToken) is not { } job)
            return TypedResults.NotFound();
        if (JobStates.IsFinal(job.State))
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "job already finished",
                detail: $"job {jobId} is {job.State}; only a job that has not finished can be cancelled.");

        var saga = await send.GetSendEndpoint(QueueNames.JobSagaAddress);
        await saga.Send(new Contracts.CancelJob(jobId, clock.GetUtcNow()), cancellationToken);
        return TypedResults.Accepted($"/api/v1/jobs/{jobId}", new JobAccepted(jobId, job.State));
    }

    /// <summary>Query parameters arrive as text and are parsed here, so a bad one is a 400 that names it.</summary>
    static async Task<Results<Ok<JobPage>, ValidationProblem>> ListJobs(
        ClaimsPrincipal user, JobStore jobs, CancellationToken cancellationToken,
        string? state = null, string? service = null, string? limit = null, string? cursor = null, string? pendingReasonCode = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (state is not null && !JobStates.All.Contains(state))
            errors["state"] = [$"state must be one of {string.Join(", ", JobStates.All)}."];
        if (service is not null && !SubmitJobValidator.IsService(service))
            errors["service"] = [SubmitJobValidator.ServiceMessage];
        var pageSize = 50;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
            errors["limit"] = [$"limit must be a whole number between 1 and {MaxPageSize}."];
        PendingReasonCode? code = null;
        if (pendingReasonCode is not null)
        {
            // Names only: Enum.TryParse would also take numbers and comma lists.
            if (Enum.GetNames<PendingReasonCode>().Contains(pendingReasonCode))
                code = Enum.Parse<PendingReasonCode>(pendingReasonCode);
            else
                errors["pendingReasonCode"] = [$"pendingReasonCode must be one of {string.Join(", ", Enum.GetNames<PendingReasonCode>())}."];
        }
        if (!JobStore.TryDecodeCursor(cursor, out _))
            errors["cursor"] = ["cursor must be a nextCursor value this API returned."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok(await jobs.List(user.Tenant(), state, service, pageSize, cursor, cancellationToken, code));
    }

    const int MaxPageSize = 500;
}
