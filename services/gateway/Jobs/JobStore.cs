using System.Globalization;
using System.Text;
using System.Text.Json;
using Bus.Contracts;
using Bus.Persistence.Jobs;
using Bus.Persistence.Submissions;
using Npgsql;

namespace Bus.Gateway.Jobs;

/// <summary>
/// The gateway's reads and writes in PostgreSQL: the idempotency keys (<c>job_requests</c>, claimed through
/// <see cref="JobRequestClaims"/>, as the scheduler's bus intake claims them) and the job rows the scheduler's saga
/// writes (<c>jobs</c>, read through <see cref="JobQueries"/>), always filtered by tenant.
/// </summary>
public sealed class JobStore(NpgsqlDataSource dataSource, JobQueries jobs, JobRequestClaims claims)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps (tenant, requestId) to exactly one job: the same claim as the bus path's.</summary>
    public Task<JobRequestClaims.Claim> ClaimRequest(string tenant, ValidSubmission submission, DateTimeOffset now, CancellationToken cancellationToken) =>
        claims.Take(tenant, submission, now, cancellationToken);

    /// <summary>The claims of an array submission, in one statement (<see cref="JobRequestClaims.TakeMany"/>), in its order.</summary>
    public Task<IReadOnlyList<JobRequestClaims.Claim>> ClaimRequests(string tenant, IReadOnlyList<ValidSubmission> submissions, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        claims.TakeMany(tenant, submissions, now, cancellationToken);

    /// <summary>
    /// One of the tenant's jobs, or null. A job accepted but not yet taken up by the scheduler is shown from its
    /// request row as Pending, so a job never seems to vanish between the 202 and the saga's first write.
    /// </summary>
    public async Task<JobDetails?> Find(string tenant, Guid jobId, CancellationToken cancellationToken)
    {
        if (await jobs.Find(tenant, jobId, cancellationToken) is { } job)
            return job;

        await using var request = dataSource.CreateCommand(
            "SELECT submit_command::text FROM job_requests WHERE job_id = $1 AND tenant = $2");
        request.Parameters.AddWithValue(jobId);
        request.Parameters.AddWithValue(tenant);
        return await request.ExecuteScalarAsync(cancellationToken) is string json
            ? Accepted(JsonSerializer.Deserialize<SubmitJob>(json, Json)!)
            : null;
    }

    /// <summary>Whether the scheduler has taken the job up (its saga row exists).</summary>
    public Task<string?> State(Guid jobId, CancellationToken cancellationToken) => jobs.StateOf(jobId, cancellationToken);

    /// <summary>The states of those of the jobs the scheduler has taken up, in one query; the others are left out.</summary>
    public async Task<Dictionary<Guid, string>> States(Guid[] jobIds, CancellationToken cancellationToken) =>
        (await jobs.Progress(jobIds, cancellationToken)).ToDictionary(j => j.JobId, j => j.State);

    /// <summary>The tenant's jobs, newest first, <paramref name="limit"/> at a time (keyset pagination).</summary>
    public async Task<JobPage> List(string tenant, string? state, string? service, int limit, string? cursor, CancellationToken cancellationToken,
        PendingReasonCode? pendingReasonCode = null)
    {
        var (afterTime, afterId) = DecodeCursor(cursor);
        // One more than a page, to know whether another follows.
        var page = await jobs.List(tenant, state, service, pendingReasonCode, afterTime, afterId, limit + 1, cancellationToken);
        if (page.Count <= limit)
            return new JobPage(page, null);
        page.RemoveAt(limit);
        var last = page[^1];
        return new JobPage(page, EncodeCursor(last.SubmittedAt, last.JobId));
    }

    /// <summary>The tenant's job's result, or null when it has none (not a model-service job, or not completed).</summary>
    public Task<JsonElement?> Result(string tenant, Guid jobId, CancellationToken cancellationToken) =>
        jobs.ResultOf(tenant, jobId, cancellationToken);

    /// <summary>A job the gateway accepted and the scheduler has not written yet.</summary>
    public static JobDetails Accepted(SubmitJob c) => new(
        c.JobId, c.RequestId, c.Tenant, JobStates.Pending, c.Service, c.Resources, c.Priority, 0, c.MaxAttempts,
        null, "accepted; waiting for the scheduler to take it up", null, null, null, c.SubmittedAt, null, null, null,
        PendingReasonCode: PendingReasonCode.Submitted);

    static string EncodeCursor(DateTimeOffset time, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{time.UtcTicks}:{id}"));

    /// <summary>Reads a cursor; a malformed one is a client error, refused before <see cref="List"/> is called.</summary>
    public static (DateTimeOffset? Time, Guid Id) DecodeCursor(string? cursor) =>
        TryDecodeCursor(cursor, out var decoded)
            ? decoded
            : throw new BadHttpRequestException("cursor is not one this API handed out");

    /// <summary>False for anything <see cref="EncodeCursor"/> could not have made: bad base64, parts, numbers or ticks.</summary>
    public static bool TryDecodeCursor(string? cursor, out (DateTimeOffset? Time, Guid Id) decoded)
    {
        decoded = (null, Guid.Empty);
        if (string.IsNullOrEmpty(cursor))
            return true;
        var bytes = new byte[cursor.Length];
        if (cursor.Length > 128 || !Convert.TryFromBase64String(cursor, bytes, out var length))
            return false;
        var parts = Encoding.UTF8.GetString(bytes, 0, length).Split(':');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || !Guid.TryParseExact(parts[1], "D", out var id))
            return false;
        decoded = (new DateTimeOffset(ticks, TimeSpan.Zero), id);
        return true;
    }
}
