using System.Globalization;
using Bus.Gateway.Limits;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Jobs;

/// <summary>The refusals a single submission and an array submission share, so both say the same thing.</summary>
public static class SubmitRefusals
{
    /// <summary>The 429 of the active-jobs quota, with its <c>Retry-After</c>.</summary>
    public static ProblemHttpResult QuotaReached(HttpContext context, string tenant, TenantQuota.Usage usage, LimitOptions limits)
    {
        context.Response.Headers.RetryAfter = ((int)limits.QuotaRetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var adding = usage.Adding > 1 ? $" and this batch would add {usage.Adding}" : "";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Active jobs quota reached",
            detail: $"tenant '{tenant}' has {usage.Active} jobs Pending, Allocated or Running{adding}; the limit " +
                    $"(Limits:MaxActiveJobsPerTenant) is {usage.Max}. Retry once some have finished.");
    }

    /// <summary>The title of the 409 for a requestId reused with a different body.</summary>
    public const string RequestIdUsed = "requestId already used";

    /// <summary>The detail of that 409: which job holds the requestId.</summary>
    public static string RequestIdUsedDetail(string requestId, Guid jobId) =>
        $"requestId '{requestId}' was already submitted with a different body, as job {jobId}.";
}
