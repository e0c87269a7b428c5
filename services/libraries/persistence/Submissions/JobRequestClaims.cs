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
        var command = CommandFor(tenant, submission, now);

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
        return Existing(reader.GetString(0), reader.GetString(1), hash);
    }
    /// <summary>
    /// <see cref="Take"/> for many requestIds of one tenant in one statement, so one transaction: the claims of an
    /// array submission. The answers are in the order of <paramref name="submissions"/>, whose requestIds must differ.
    /// </summary>
    /// <remarks>
    /// Rows are inserted in requestId order, so two batches claiming overlapping keys wait for each other in the same
    /// order and cannot deadlock. A key a concurrent transaction claimed and committed while this statement ran is
    /// skipped by ON CONFLICT but not visible to the statement's own snapshot; those few are read again afterwards.
    /// </remarks>
    public async Task<IReadOnlyList<Claim>> TakeMany(string tenant, IReadOnlyList<ValidSubmission> submissions, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var commands = submissions.Select(s => CommandFor(tenant, s, now)).ToArray();
        var hashes = submissions.Select(s => s.Hash()).ToArray();
        var index = commands.Select((c, i) => (c.RequestId, i)).ToDictionary(e => e.RequestId, e => e.i);
        var claims = new Claim?[commands.Length];

        await using (var claim = dataSource.CreateCommand("""
            WITH input AS (
                SELECT * FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[]) AS i(request_id, job_id, request_hash, submit_command)
            ), inserted AS (
                INSERT INTO job_requests (tenant, request_id, job_id, request_hash, submit_command)
                SELECT $1, request_id, job_id, request_hash, submit_command::jsonb FROM input ORDER BY request_id
                ON CONFLICT DO NOTHING
                RETURNING request_id
            )
            SELECT i.request_id, ins.request_id IS NOT NULL, r.request_hash, r.submit_command::text
            FROM input i
            LEFT JOIN inserted ins ON ins.request_id = i.request_id
            LEFT JOIN job_requests r ON ins.request_id IS NULL AND r.tenant = $1 AND r.request_id = i.request_id
            """))
        {
            claim.Parameters.AddWithValue(tenant);
            claim.Parameters.AddWithValue(commands.Select(c => c.RequestId).ToArray());
            claim.Parameters.AddWithValue(commands.Select(c => c.JobId).ToArray());
            claim.Parameters.AddWithValue(hashes);
            claim.Parameters.AddWithValue(commands.Select(c => JsonSerializer.Serialize(c, Json)).ToArray());
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var i = index[reader.GetString(0)];
                if (reader.GetBoolean(1))
                    claims[i] = new Claim(commands[i].JobId, Created: true, SameBody: true, commands[i]);
                else if (!reader.IsDBNull(2))
                    claims[i] = Existing(reader.GetString(2), reader.GetString(3), hashes[i]);
            }
        }

        var unseen = Enumerable.Range(0, claims.Length).Where(i => claims[i] is null).ToList();
        if (unseen.Count > 0)
        {
            await using var select = dataSource.CreateCommand(
                "SELECT request_id, request_hash, submit_command::text FROM job_requests WHERE tenant = $1 AND request_id = ANY($2)");
            select.Parameters.AddWithValue(tenant);
            select.Parameters.AddWithValue(unseen.Select(i => commands[i].RequestId).ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var i = index[reader.GetString(0)];
                claims[i] = Existing(reader.GetString(1), reader.GetString(2), hashes[i]);
            }
        }

        return claims.Select((c, i) => c ?? throw new InvalidOperationException(
            $"job id {commands[i].JobId} is taken by another (tenant, requestId) than ({tenant}, {commands[i].RequestId})")).ToList();
    }

    /// <summary>
    /// Records that the broker confirmed these requests' SubmitJobs (their <c>sent_at</c>), so the outbox relay does not
    /// resend them while the scheduler works through its queue: one statement for any number of requests and tenants.
    /// </summary>
    public async Task MarkSent(IReadOnlyCollection<(string Tenant, string RequestId)> sent, CancellationToken cancellationToken)
    {
        await using var update = dataSource.CreateCommand("""
            UPDATE job_requests r SET sent_at = now()
            FROM unnest($1::text[], $2::text[]) AS s(tenant, request_id)
            WHERE r.tenant = s.tenant AND r.request_id = s.request_id AND r.sent_at IS NULL
            """);
        update.Parameters.AddWithValue(sent.Select(s => s.Tenant).ToArray());
        update.Parameters.AddWithValue(sent.Select(s => s.RequestId).ToArray());
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    static Claim Existing(string storedHash, string storedCommand, string hash)
    {
        var stored = JsonSerializer.Deserialize<SubmitJob>(storedCommand, Json)!;
        return new Claim(stored.JobId, Created: false, SameBody: storedHash == hash, stored);
    }

    static SubmitJob CommandFor(string tenant, ValidSubmission submission, DateTimeOffset now) => new(
        JobIds.ForRequest(tenant, submission.RequestId), tenant, submission.RequestId, submission.Service, submission.Command,
        submission.PayloadJson, submission.Resources, submission.Constraints, submission.Priority,
        submission.TimeoutSeconds, submission.MaxAttempts, now, submission.Environment);
}
