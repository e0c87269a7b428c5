using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bus.Contracts;
using Npgsql;

namespace Bus.Gateway.Jobs;

/// <summary>
/// The gateway's reads and writes in PostgreSQL: the idempotency keys it owns (<c>job_requests</c>) and the job
/// rows the scheduler's saga writes (<c>jobs</c>), always filtered by tenant.
/// </summary>
public sealed class JobStore(NpgsqlDataSource dataSource)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The outcome of claiming a requestId.</summary>
    /// <param name="Created">True when this call created the job; false when the requestId was already taken.</param>
    /// <param name="SameBody">False when the requestId was taken by a different body (a 409).</param>
    public sealed record Claim(Guid JobId, bool Created, bool SameBody, SubmitJob Command);

    /// <summary>
    /// Maps (tenant, requestId) to exactly one job (R9). Concurrent claims of one requestId race on the primary key;
    /// exactly one inserts, and every caller gets that one's job id.
    /// </summary>
    public async Task<Claim> ClaimRequest(string tenant, ValidSubmission submission, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(submission, Json))));
        var command = new SubmitJob(
            Guid.CreateVersion7(now), tenant, submission.RequestId, submission.Service, submission.Command,
            submission.PayloadJson, submission.Resources, submission.Constraints, submission.Priority,
            submission.TimeoutSeconds, submission.MaxAttempts, now, submission.Environment);

        await using (var insert = dataSource.CreateCommand("""
            INSERT INTO job_requests (tenant, request_id, job_id, request_hash, submit_command)
            VALUES ($1, $2, $3, $4, $5::jsonb)
            ON CONFLICT (tenant, request_id) DO NOTHING
            """))
        {
            insert.Parameters.AddWithValue(tenant);
            insert.Parameters.AddWithValue(submission.RequestId);
            insert.Parameters.AddWithValue(command.JobId);
            insert.Parameters.AddWithValue(hash);
            insert.Parameters.AddWithValue(JsonSerializer.Serialize(command, Json));
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
                return new Claim(command.JobId, Created: true, SameBody: true, command);
        }

        await using var select = dataSource.CreateCommand(
            "SELECT request_hash, submit_command::text FROM job_requests WHERE tenant = $1 AND request_id = $2");
        select.Parameters.AddWithValue(tenant);
        select.Parameters.AddWithValue(submission.RequestId);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var stored = JsonSerializer.Deserialize<SubmitJob>(reader.GetString(1), Json)!;
        return new Claim(stored.JobId, Created: false, SameBody: reader.GetString(0) == hash, stored);
    }

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
        await using (var command = dataSource.CreateCommand($"SELECT {JobColumns} FROM jobs WHERE job_id = $1 AND tenant = $2"))
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
        Enum.TryParse<PendingReasonCode>(Nullable<string>(r, 21), out var code) ? code : null);

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
