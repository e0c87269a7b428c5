using System.Security.Claims;
using Bus.Contracts;
using Bus.Gateway.Auth;
using Bus.Gateway.Catalogue;
using Bus.Gateway.Jobs;
using Bus.Gateway.Limits;
using Bus.Hosting.Options;
using Bus.Persistence.Catalogue;
using Bus.Persistence.Submissions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Apis;

/// <summary><c>POST /api/v1/jobs:batch</c>: an array submission, many jobs in one request.</summary>
public static class BatchSubmitApi
{
    public static IEndpointConventionBuilder MapBatchSubmitApi(this IEndpointRouteBuilder app)
    {
        var maxBody = app.ServiceProvider.GetRequiredService<IOptions<LimitOptions>>().Value.MaxBatchRequestBodyBytes;
        // A custom method on the collection, as jobs:explain: the literal segment "jobs:batch" is its own route, which
        // neither POST /api/v1/jobs nor a {jobId:guid} route can take.
        return app.MapPost("/api/v1/jobs:batch", SubmitBatch).RequireAuthorization().WithMetadata(new RequestSizeLimitAttribute(maxBody))
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
    }

    /// <summary>
    /// Every element is validated as a single submission is, and one invalid element refuses the whole batch, so a
    /// client fixes and resends one batch, never a remainder. The quota counts the batch's new requestIds together.
    /// Then all the claims are made in one statement, and the SubmitJobs sent together. As for a single submission, the
    /// request rows are the outbox: a send that fails is the reconciler's relay's to repeat, and the answer stands.
    /// </summary>
    static async Task<Results<Accepted<BatchAccepted>, Ok<BatchAccepted>, ValidationProblem, ProblemHttpResult>> SubmitBatch(
        SubmitBatchRequest body, ClaimsPrincipal user, JobStore jobs, TenantQuota quota, LastKnownGood<LimitOptions> limits,
        HttpContext context, SubmitRelay relay, ServiceCatalogue catalogue, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (submissions, invalid) = Validate(body);
        if (submissions is null)
            return invalid!;
        if (await RefuseUnknownServices(catalogue, submissions, cancellationToken) is { } unknown)
            return unknown;

        var tenant = user.Tenant();
        if (await quota.ExceededBy(tenant, submissions.Select(s => s.RequestId).ToArray(), cancellationToken) is { } usage)
            return SubmitRefusals.QuotaReached(context, tenant, usage, limits.CurrentValue);

        var claims = await jobs.ClaimRequests(tenant, submissions, clock.GetUtcNow(), cancellationToken);
        // A retried element whose saga does not exist yet is sent again, as a retried single submission is.
        var retried = claims.Where(c => !c.Created && c.SameBody).Select(c => c.JobId).ToArray();
        var states = retried.Length > 0 ? await jobs.States(retried, cancellationToken) : [];
        var unsent = claims.Where(c => c.SameBody && !states.ContainsKey(c.JobId)).Select(c => c.Command).ToList();
        await relay.TrySend(unsent, cancellationToken);

        var answers = claims.Select((claim, i) => Answer(i, submissions[i].RequestId, claim, states)).ToList();
        var batch = new BatchAccepted(answers, Count(BatchSubmission.Accepted), Count(BatchSubmission.AlreadyAccepted), Count(BatchSubmission.Refused));
        return batch.Accepted > 0 ? TypedResults.Accepted((string?)null, batch) : TypedResults.Ok(batch);

        int Count(string status) => answers.Count(a => a.Status == status);
    }

    /// <summary>
    /// Each element through <see cref="SubmitJobValidator"/>, its errors named <c>jobs[i].field</c>; a requestId given
    /// twice in one batch is an error of the later element. The valid submissions in order, or the 400.
    /// </summary>
    static (List<ValidSubmission>? Submissions, ValidationProblem? Refused) Validate(SubmitBatchRequest body)
    {
        if (body.Jobs is not { Length: > 0 and <= BatchSubmission.MaxJobs } elements)
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["jobs"] = [$"jobs must hold 1 to {BatchSubmission.MaxJobs:N0} submissions" + (body.Jobs is null ? "." : $"; this batch holds {body.Jobs.Length:N0}.")],
            }));

        var errors = new Dictionary<string, string[]>();
        var submissions = new List<ValidSubmission>(elements.Length);
        var firstWith = new Dictionary<string, int>();
        for (var i = 0; i < elements.Length; i++)
        {
            if (elements[i] is not { } element)
            {
                errors[$"jobs[{i}]"] = ["each element must be a job submission object, not null."];
                continue;
            }
            var (submission, elementErrors) = SubmitJobValidator.Validate(element);
            foreach (var (field, messages) in elementErrors)
                errors[$"jobs[{i}].{field}"] = messages;
            if (submission is null)
                continue;
            if (!firstWith.TryAdd(submission.RequestId, i))
                errors[$"jobs[{i}].requestId"] =
                    [$"requestId '{submission.RequestId}' is also the requestId of jobs[{firstWith[submission.RequestId]}]; each element needs its own."];
            submissions.Add(submission);
        }
        return errors.Count > 0 ? (null, TypedResults.ValidationProblem(errors)) : (submissions, null);
    }

    /// <summary>The catalogue's 400, naming every element whose service it does not know; null when it knows them all.</summary>
    static async Task<ValidationProblem?> RefuseUnknownServices(ServiceCatalogue catalogue, List<ValidSubmission> submissions,
        CancellationToken cancellationToken)
    {
        var known = await catalogue.Current(cancellationToken);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < submissions.Count; i++)
            if (CatalogueCheck.UnknownService(known, submissions[i].Service) is { } error)
                errors[$"jobs[{i}].service"] = [error];
        return errors.Count > 0 ? CatalogueCheck.UnknownServices(errors, known) : null;
    }

    static BatchJobAnswer Answer(int index, string requestId, JobRequestClaims.Claim claim, Dictionary<Guid, string> states) => claim switch
    {
        { SameBody: false } => new(index, requestId, BatchSubmission.Refused, null, null, new BatchJobProblem(
            StatusCodes.Status409Conflict, SubmitRefusals.RequestIdUsed, SubmitRefusals.RequestIdUsedDetail(requestId, claim.JobId))),
        { Created: true } => new(index, requestId, BatchSubmission.Accepted, claim.JobId, JobStates.Pending, null),
        _ => new(index, requestId, BatchSubmission.AlreadyAccepted, claim.JobId, states.GetValueOrDefault(claim.JobId, JobStates.Pending), null),
    };
}
