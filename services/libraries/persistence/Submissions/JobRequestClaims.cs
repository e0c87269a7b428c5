using System.Text.Json;
using Bus.Contracts;
using Npgsql;

namespace Bus.Persistence.Submissions;

/// <summary>
/// The idempotency keys of <c>job_requests</c>: one row per (tenant, requestId), naming exactly one job. The gateway's
/// HTTP path and the scheduler's bus intake both claim through here, so a key used on either path is used on both.
/// The row keeps the whole <see cref="SubmitJob"/>: it is the outbox the reconciler's relay resends from.
/// </summary>
public sealed class JobRequestClaims(NpgsqlDataSource dataSource)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The outcome of claiming a requestId.</summary>
    /// <param name="Created">True when this call created the job; false when the requestId was already taken.</param>
    /// <param name="SameBody">False when the requestId was taken by a different body (a 409).</param>
    public sealed record Claim(Guid JobId, bool Created, bool SameBody, SubmitJob Command);

    /// <summary>
    /// Concurrent claims of one requestId race on the primary key; exactly one inserts, and every caller gets that
    /// one's job and command.
    /// </summary>
    public async Task<Claim> Take(string tenant, ValidSubmission submission, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var hash = submission.Hash();
        var command = new SubmitJob(
            JobIds.ForRequest(tenant, submission.RequestId), tenant, submission.RequestId, submission.Service, submission.Command,
            submission.PayloadJson, submission.Resources, submission.Constraints, submission.Priority,
            submission.TimeoutSeconds, submission.MaxAttempts, now, submission.Environment);

        // No conflict target: the job id is derived from (tenant, requestId), so a racing claim of the same key meets
        // the primary key or the job_id unique index, whichever PostgreSQL checks first; either is the same claim.
        // With a target of the primary key only, a race that hit job_id first failed with a unique violation (a 500).
        await using (var insert = dataSource.CreateCommand("""
            INSERT INTO job_requests (tenant, request_id, job_id, request_hash, submit_command)
            VALUES ($1, $2, $3, $4, $5::jsonb)
            ON CONFLICT DO NOTHING
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
        if (!await reader.ReadAsync(cancellationToken))
            throw new InvalidOperationException(
                $"job id {command.JobId} is taken by another (tenant, requestId) than ({tenant}, {submission.RequestId})");
        var stored = JsonSerializer.Deserialize<SubmitJob>(reader.GetString(1), Json)!;
        return new Claim(stored.JobId, Created: false, SameBody: reader.GetString(0) == hash, stored);
    }
}
