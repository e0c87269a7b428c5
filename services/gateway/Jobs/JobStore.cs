using System.Globalization;
using System.Text;
using System.Text.Json;
using Bus.Contracts;
using Bus.Infrastructure.Submissions;
using Npgsql;

namespace Bus.Gateway.Jobs;

/// <summary>
/// The gateway's reads and writes in PostgreSQL: the idempotency keys (<c>job_requests</c>, claimed through
/// <see cref="JobRequestClaims"/>, as the scheduler's bus intake claims them) and the job rows the scheduler's saga
/// writes (<c>jobs</c>), always filtered by tenant.
/// </summary>
public sealed class JobStore(NpgsqlDataSource dataSource, JobRequestClaims claims)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps (tenant, requestId) to exactly one job: the same claim as the bus path's.</summary>
    public Task<JobRequestClaims.Claim> ClaimRequest(string tenant, ValidSubmission submission, DateTimeOffset now, CancellationToken cancellationToken) =>
        claims.Take(tenant, submission, now, cancellationToken);

    const string JobColumns = """
        job_id, request_id, tenant, current_state, service, cpus, memory_mb, gpus, priority, attempt, max_attempts,
        worker_id, pending_reason, exit_code, output, error, submitted_at, allocated_at, started_at, finished_at,
        (SELECT a.gpu_devices FROM resource_allocations a WHERE a.job_id = jobs.job_id AND a.attempt = jobs.attempt),
        pending_reason_code
        """;

    /// <summary>
    /// One of the tenant's jobs, or null. A job accepted but not yet taken up by the scheduler is shown from its
    /// request row as Pending, so a job never seems to vanish between the 202 and the saga's first write.
    /// </summary>
    public async Task<JobDetails?> Find(string tenant, Guid jobId, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand($"SELECT {JobColumns}, result_json::text FROM jobs WHERE job_id = $1 AND tenant = $2"))
        {
            command.Parameters.AddWithValue(jobId);
            command.Parameters.AddWithValue(tenant);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
                return ReadJob(reader);
        }

        await using var request = dataSource.CreateCommand(
            "SELECT submit_command::text FROM job_requests WHERE job_id = $1 AND tenant = $2");
        request.Parameters.AddWithValue(jobId);
        request.Parameters.AddWithValue(tenant);
        return await request.ExecuteScalarAsync(cancellationToken) is string json
            ? Accepted(JsonSerializer.Deserialize<SubmitJob>(json, Json)!)
            : null;
    }

    /// <summary>Whether the scheduler has taken the job up (its saga row exists).</summary>
    public async Task<string?> State(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT current_state FROM jobs WHERE job_id = $1");
        command.Parameters.AddWithValue(jobId);
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>The tenant's jobs, newest first, <paramref name="limit"/> at a time (keyset pagination).</summary>
    public async Task<JobPage> List(string tenant, string? state, string? service, int limit, string? cursor, CancellationToken cancellationToken,
        PendingReasonCode? pendingReasonCode = null)
    {
        var (afterTime, afterId) = DecodeCursor(cursor);
        await using var command = dataSource.CreateCommand($"""
            SELECT {JobColumns} FROM jobs
            WHERE tenant = $1 AND ($2::text IS NULL OR current_state = $2) AND ($3::text IS NULL OR service = $3)
              AND ($4::timestamptz IS NULL OR (submitted_at, job_id) < ($4, $5))
              AND ($7::text IS NULL OR (current_state = 'Pending' AND pending_reason_code = $7))
            ORDER BY submitted_at DESC, job_id DESC
            LIMIT $6
            """);
        command.Parameters.AddWithValue(tenant);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = state, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = service, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = afterTime, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.AddWithValue(afterId);
        command.Parameters.AddWithValue(limit + 1);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = pendingReasonCode?.ToString(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var jobs = new List<JobDetails>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                jobs.Add(ReadJob(reader));

        if (jobs.Count <= limit)
            return new JobPage(jobs, null);
        jobs.RemoveAt(limit);
        var last = jobs[^1];
        return new JobPage(jobs, EncodeCursor(last.SubmittedAt, last.JobId));
    }

    static JobDetails ReadJob(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        new ResourceVector(r.GetInt32(5), r.GetInt32(6), r.GetInt32(7)),
        r.GetInt32(8), r.GetInt32(9), r.GetInt32(10),
        Nullable<string>(r, 11), Nullable<string>(r, 12), r.IsDBNull(13) ? null : r.GetInt32(13),
        Nullable<string>(r, 14), Nullable<string>(r, 15),
        r.GetFieldValue<DateTimeOffset>(16), NullableTime(r, 17), NullableTime(r, 18), NullableTime(r, 19),
        Nullable<string[]>(r, 20),
        PendingReasonCode: Enum.TryParse<PendingReasonCode>(Nullable<string>(r, 21), out var code) ? code : null,
        // Only the single-job read selects the result, after the shared columns.
        Result: r.FieldCount > 22 && !r.IsDBNull(22) ? ParseResult(r.GetString(22)) : null);

    static JsonElement ParseResult(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The tenant's job's result, or null when it has none (not a model-service job, or not completed).</summary>
    public async Task<JsonElement?> Result(string tenant, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT result_json::text FROM jobs WHERE job_id = $1 AND tenant = $2");
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(tenant);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? ParseResult(json) : null;
    }

    static T? Nullable<T>(NpgsqlDataReader r, int i) where T : class => r.IsDBNull(i) ? null : r.GetFieldValue<T>(i);

    static DateTimeOffset? NullableTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    /// <summary>A job the gateway accepted and the scheduler has not written yet.</summary>
    public static JobDetails Accepted(SubmitJob c) => new(
        c.JobId, c.RequestId, c.Tenant, "Pending", c.Service, c.Resources, c.Priority, 0, c.MaxAttempts,
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
