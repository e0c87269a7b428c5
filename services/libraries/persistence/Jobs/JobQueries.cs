using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using static Bus.Persistence.Jobs.JobColumns;
using ReasonCode = Bus.Contracts.PendingReasonCode;
using PlacementConstraints = Bus.Contracts.PlacementConstraints;
using ResourceVector = Bus.Contracts.ResourceVector;
using RunJob = Bus.Contracts.RunJob;
using State = Bus.Contracts.JobStates;

namespace Bus.Persistence.Jobs;

/// <summary>
/// Every SQL statement over the <c>jobs</c> table outside the scheduler's saga repository, which alone writes a
/// living job's row: the gateway's reads, the reconciler's sweeps and retention, the pending pass, a worker's startup
/// recovery and the benchmarks. Columns come from <see cref="JobColumns"/> and states from <see cref="Bus.Contracts.JobStates"/>, so
/// a renamed state or column is one edit, held by unit tests.
/// </summary>
/// <remarks>
/// States are written into the SQL as literals, not parameters: the partial indexes over pending and active rows
/// (<c>WHERE current_state = 'Pending'</c>, ...) can only serve a query whose own condition names the same values.
/// Each statement is one round trip, with the same text on every call.
/// </remarks>
public sealed class JobQueries(NpgsqlDataSource dataSource)
{
    // Set on the copy BeginSnapshot returns: its statements all run in that transaction.
    readonly NpgsqlTransaction? _snapshot;

    JobQueries(NpgsqlDataSource dataSource, NpgsqlTransaction snapshot) : this(dataSource) => _snapshot = snapshot;

    /// <summary>
    /// These queries inside one read-only REPEATABLE READ transaction, so that every read made through
    /// <see cref="JobSnapshot.Queries"/> sees the same moment: the stats snapshot counts unfinished and finished jobs
    /// in separate statements, and a job finishing between two of them must not count in both.
    /// </summary>
    public async Task<JobSnapshot> BeginSnapshot(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            return new JobSnapshot(new JobQueries(dataSource, transaction), connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    NpgsqlCommand NewCommand(string sql) =>
        _snapshot is null ? dataSource.CreateCommand(sql) : new NpgsqlCommand(sql, _snapshot.Connection, _snapshot);

    NpgsqlBatch NewBatch() => _snapshot is null ? dataSource.CreateBatch() : new NpgsqlBatch(_snapshot.Connection, _snapshot);

    const string OnWorkerStates = $"'{State.Allocated}', '{State.Running}'";
    const string ActiveStates = $"'{State.Pending}', '{State.Allocated}', '{State.Running}'";
    const string FinalStates = $"'{State.Completed}', '{State.Failed}', '{State.Cancelled}', '{State.TimedOut}'";

    // The user's view of a row, read by Find and List in this order (ReadRecord).
    const string RecordColumns = $"""
        {JobId}, {RequestId}, {Tenant}, {CurrentState}, {Service}, {Cpus}, {MemoryMb}, {Gpus}, {Priority}, {Attempt}, {MaxAttempts},
        {WorkerId}, {PendingReason}, {ExitCode}, {Output}, {Error}, {SubmittedAt}, {AllocatedAt}, {StartedAt}, {FinishedAt},
        (SELECT a.gpu_devices FROM resource_allocations a WHERE a.job_id = {Table}.{JobId} AND a.attempt = {Table}.{Attempt}),
        {PendingReasonCode}
        """;

    /// <summary>The tenant's job, with its result; null when the scheduler has no row for it in that tenant.</summary>
    public async Task<JobDetails?> Find(string tenant, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            $"SELECT {RecordColumns}, {ResultJson}::text FROM {Table} WHERE {JobId} = $1 AND {Tenant} = $2");
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(tenant);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    /// <summary>
    /// The tenant's jobs, newest first, at most <paramref name="limit"/>, after (<paramref name="afterTime"/>,
    /// <paramref name="afterId"/>) when given (keyset pagination); each filter applies only when given. A pending reason
    /// code keeps only pending jobs with that code (read through the partial index on them).
    /// </summary>
    public async Task<List<JobDetails>> List(string tenant, string? state, string? service, ReasonCode? pendingReasonCode,
        DateTimeOffset? afterTime, Guid afterId, int limit, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT {RecordColumns} FROM {Table}
            WHERE {Tenant} = $1 AND ($2::text IS NULL OR {CurrentState} = $2) AND ($3::text IS NULL OR {Service} = $3)
              AND ($4::timestamptz IS NULL OR ({SubmittedAt}, {JobId}) < ($4, $5))
              AND ($7::text IS NULL OR ({CurrentState} = '{State.Pending}' AND {PendingReasonCode} = $7))
            ORDER BY {SubmittedAt} DESC, {JobId} DESC
            LIMIT $6
            """);
        command.Parameters.AddWithValue(tenant);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = state, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = service, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = afterTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.AddWithValue(afterId);
        command.Parameters.AddWithValue(limit);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = pendingReasonCode?.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        var jobs = new List<JobDetails>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            jobs.Add(ReadRecord(reader));
        return jobs;
    }

    static JobDetails ReadRecord(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
        new ResourceVector(r.GetInt32(5), r.GetInt32(6), r.GetInt32(7)),
        r.GetInt32(8), r.GetInt32(9), r.GetInt32(10),
        Text(r, 11), Text(r, 12), r.IsDBNull(13) ? null : r.GetInt32(13),
        Text(r, 14), Text(r, 15),
        r.GetFieldValue<DateTimeOffset>(16), Time(r, 17), Time(r, 18), Time(r, 19),
        r.IsDBNull(20) ? null : r.GetFieldValue<string[]>(20),
        // Only Find selects the result, after the shared columns.
        Result: r.FieldCount > 22 && Text(r, 22) is { } result ? ParseResult(result) : null,
        PendingReasonCode: Code(Text(r, 21)));

    static JsonElement ParseResult(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The job's state, in any tenant; null before the scheduler has taken it up (written its row).</summary>
    public async Task<string?> StateOf(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"SELECT {CurrentState} FROM {Table} WHERE {JobId} = $1");
        command.Parameters.AddWithValue(jobId);
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>The tenant's job's structured result; null when it has none.</summary>
    public async Task<JsonElement?> ResultOf(string tenant, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"SELECT {ResultJson}::text FROM {Table} WHERE {JobId} = $1 AND {Tenant} = $2");
        command.Parameters.AddWithValue(jobId);
        command.Parameters.AddWithValue(tenant);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? ParseResult(json) : null;
    }

    /// <summary>
    /// Every column of the job's row as stored, by column name, in any tenant; null when there is no row. For an
    /// operator's inspection, which keeps up with schema changes without code changes.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, object?>?> RowOf(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"SELECT * FROM {Table} WHERE {JobId} = $1");
        command.Parameters.AddWithValue(jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;
        var columns = new Dictionary<string, object?>();
        for (var i = 0; i < reader.FieldCount; i++)
            columns[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        return columns;
    }

    /// <summary>
    /// How many jobs the tenant has Pending, Allocated or Running, with, in the same round trip, how many of
    /// <paramref name="requestIds"/> it has not used yet (a retry of known requests must never be refused). The count
    /// reads every active job of the tenant: about 1 ms at 10,000.
    /// </summary>
    public async Task<(long Active, int Unused)> ActiveAndUnused(string tenant, string[] requestIds, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT (SELECT count(*)::int FROM unnest($2::text[]) AS r(id)
                    WHERE NOT EXISTS (SELECT 1 FROM job_requests WHERE tenant = $1 AND request_id = r.id)),
                   (SELECT count(*) FROM {Table} WHERE {Tenant} = $1 AND {CurrentState} IN ({ActiveStates}))
            """);
        command.Parameters.AddWithValue(tenant);
        command.Parameters.AddWithValue(requestIds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(1), reader.GetInt32(0));
    }

    /// <summary>
    /// Unfinished jobs (Pending, Allocated, Running) by tenant and state, with each group's oldest submission; read
    /// through the partial index on them, so it costs what is active, not the history.
    /// </summary>
    public async Task<List<JobStateCount>> CountActiveByTenantAndState(CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            $"SELECT {Tenant}, {CurrentState}, count(*), min({SubmittedAt}) FROM {Table} WHERE {CurrentState} IN ({ActiveStates}) GROUP BY 1, 2");
        var counts = new List<JobStateCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            counts.Add(new JobStateCount(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return counts;
    }

    /// <summary>
    /// Every job in a final state whose final write is older than <paramref name="settled"/>, by tenant and state, and
    /// the database time that boundary stands at. Reads the whole table: for a rare background recount only.
    /// </summary>
    public Task<FinishedCount> CountFinished(TimeSpan settled, CancellationToken cancellationToken) =>
        ReadFinished($"""
            SELECT {Tenant}, {CurrentState}, count(*), count(*), 0::bigint FROM {Table}
            WHERE {CurrentState} IN ({FinalStates}) AND {UpdatedAt} <= now() - $1::interval
            GROUP BY 1, 2
            """, settled, after: null, cancellationToken);

    /// <summary>
    /// The jobs that reached a final state after <paramref name="after"/>, by tenant and state, read through
    /// <c>jobs_finished_by_update</c>: how many of them are older than <paramref name="settled"/> (the new boundary,
    /// also returned), how many in all, and how many of those became Completed within the last minute.
    /// </summary>
    public Task<FinishedCount> CountFinishedAfter(DateTimeOffset after, TimeSpan settled, CancellationToken cancellationToken) =>
        ReadFinished($"""
            SELECT {Tenant}, {CurrentState}, count(*) FILTER (WHERE {UpdatedAt} <= now() - $1::interval), count(*),
                   count(*) FILTER (WHERE {CurrentState} = '{State.Completed}' AND {UpdatedAt} > now() - interval '1 minute')
            FROM {Table}
            WHERE {CurrentState} IN ({FinalStates}) AND {UpdatedAt} > $2
            GROUP BY 1, 2
            """, settled, after, cancellationToken);

    /// <summary>The boundary, then the counts, in one transaction: both read the same <c>now()</c>.</summary>
    async Task<FinishedCount> ReadFinished(string counts, TimeSpan settled, DateTimeOffset? after, CancellationToken cancellationToken)
    {
        await using var batch = NewBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT now() - $1::interval") { Parameters = { new() { Value = settled } } });
        var read = new NpgsqlBatchCommand(counts) { Parameters = { new() { Value = settled } } };
        if (after is { } from)
            read.Parameters.Add(new NpgsqlParameter { Value = from });
        batch.BatchCommands.Add(read);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var boundary = reader.GetFieldValue<DateTimeOffset>(0);
        await reader.NextResultAsync(cancellationToken);
        var groups = new List<FinishedGroup>();
        while (await reader.ReadAsync(cancellationToken))
            groups.Add(new FinishedGroup(reader.GetString(0), reader.GetString(1),
                Settled: reader.GetInt64(2), All: reader.GetInt64(3), CompletedLastMinute: reader.GetInt64(4)));
        return new FinishedCount(boundary, groups);
    }

    /// <summary>
    /// Pending jobs by pending reason code, read through the partial index on them. A row written before codes existed
    /// has none until its next placement try, and is left out.
    /// </summary>
    public async Task<Dictionary<ReasonCode, long>> PendingByReasonCode(CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            $"SELECT {PendingReasonCode}, count(*) FROM {Table} WHERE {CurrentState} = '{State.Pending}' AND {PendingReasonCode} IS NOT NULL GROUP BY 1");
        var counts = new Dictionary<ReasonCode, long>();
        foreach (var (name, count) in await ReadCounts(command, cancellationToken))
            if (Code(name) is { } code)
                counts[code] = count;
        return counts;
    }

    /// <summary>
    /// The head of each tenant's pending queue: at most <paramref name="perTenant"/> jobs a tenant, by effective
    /// priority (priority plus one per <paramref name="agingSeconds"/> waited), then oldest, leaving out retries whose
    /// backoff is ahead. With a <paramref name="filter"/>, only the jobs it admits when <paramref name="admitted"/>,
    /// else only those it leaves out; filtered before the limit, so jobs left out never hide the ones behind them.
    /// </summary>
    /// <remarks>
    /// Read by class (the <c>jobs_pending_by_class</c> index): the jobs of one tenant with the same priority, service,
    /// language, cpus, memory and gpus. The classes are found by stepping through the index from one class key to the
    /// next, one descent each, which also brings each class's first entry; the filter decides per class, since it looks
    /// only at those columns, so a class it leaves out costs one descent however many jobs it holds. Inside a class
    /// every job has the same priority, so its queue order is oldest first for any aging interval, which the index
    /// serves. A class is read only while fewer than <paramref name="perTenant"/> classes whose first entry is ready
    /// (no backoff ahead) rank before it in its tenant, since each of those has a job better than any in the classes
    /// after them; each class read gives its first <paramref name="perTenant"/> ready jobs, and only those are ranked.
    /// The result is the one a ranking of every pending row would give, at a cost that grows with the classes, not the jobs.
    /// </remarks>
    public async Task<List<PendingJob>> Pending(PendingFilter? filter, bool admitted, int perTenant, double agingSeconds,
        CancellationToken cancellationToken)
    {
        await using var batch = PendingBatch(filter, admitted, perTenant, agingSeconds);
        var jobs = new List<PendingJob>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            jobs.Add(new PendingJob(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                new ResourceVector(reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5)),
                new PlacementConstraints(Text(reader, 6), Text(reader, 7), Text(reader, 8), Text(reader, 9)),
                reader.GetInt32(10), reader.GetFieldValue<DateTimeOffset>(11))
            {
                PendingReason = Text(reader, 12),
                PendingReasonCode = Code(Text(reader, 13)),
            });
        return jobs;
    }

    /// <summary>
    /// What <see cref="Pending"/> runs: the planner settings, then the read with its parameters (the last command); the
    /// component tests read its plan.
    /// </summary>
    /// <remarks>
    /// Every descent of the read is ordered like <c>jobs_pending_by_class</c>, and only a plan through that index needs
    /// no sort there. The planner picks that plan when its statistics count the queue, but not when they are older
    /// than it: a burst on a quiet system meets estimates of one pending row (autovacuum analyzes a large table only
    /// after a tenth of it changed), every partial index over pending rows then looks as good, and a smaller one won,
    /// so each read sorted the whole queue three times (22 ms at 3,000 pending instead of under 1). Sorts are
    /// therefore off for this one read (<c>set_config(..., true)</c> lasts until the batch's transaction ends): the
    /// window functions' sorts remain, as every plan has them, and each descent goes through the class index whatever
    /// the statistics say. A sort turned off still counts, as a cost of 10^10, and a plan that costly would be compiled
    /// by PostgreSQL's JIT (about 1 s here, for a read of 1 ms), so JIT is off for it too.
    /// </remarks>
    internal NpgsqlBatch PendingBatch(PendingFilter? filter, bool admitted, int perTenant, double agingSeconds)
    {
        var batch = NewBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true), set_config('jit', 'off', true)"));
        batch.BatchCommands.Add(PendingCommand(filter, admitted, perTenant, agingSeconds));
        return batch;
    }

    static NpgsqlBatchCommand PendingCommand(PendingFilter? filter, bool admitted, int perTenant, double agingSeconds)
    {
        const string admits = $"""
            (c.{Cpus} <= $3 AND c.{MemoryMb} <= $4 AND c.{Gpus} <= $5
             AND CASE WHEN c.{Language} = '' THEN c.{Service} = ANY($6) ELSE c.{Service} || chr(31) || c.{Language} = ANY($7) END)
            """;
        var condition = filter is null ? "" : admitted ? $"WHERE {admits}" : $"WHERE NOT {admits}";
        // The key of jobs_pending_by_class before its submitted_at, as the index has it.
        const string classKey = $"{Tenant}, {Priority}, {Service}, coalesce({Language}, ''), {Cpus}, {MemoryMb}, {Gpus}";
        const string pending = $"{CurrentState} = '{State.Pending}'";
        const string ready = $"({NotBefore} IS NULL OR {NotBefore} <= now())";
        const string rank = $"{Priority} + EXTRACT(EPOCH FROM now() - {SubmittedAt})::float8 / $2 DESC, {SubmittedAt}, {JobId}";
        var command = new NpgsqlBatchCommand($"""
            WITH RECURSIVE classes ({Tenant}, {Priority}, {Service}, {Language}, {Cpus}, {MemoryMb}, {Gpus}, {SubmittedAt}, {JobId}, ready) AS (
                (SELECT {classKey}, {SubmittedAt}, {JobId}, {ready} FROM {Table} WHERE {pending}
                 ORDER BY {classKey}, {SubmittedAt}, {JobId} LIMIT 1)
                UNION ALL
                SELECT next.* FROM classes c CROSS JOIN LATERAL (
                    SELECT {classKey}, {SubmittedAt}, {JobId}, {ready} FROM {Table}
                    WHERE {pending}
                      AND ({classKey}) > (c.{Tenant}, c.{Priority}, c.{Service}, c.{Language}, c.{Cpus}, c.{MemoryMb}, c.{Gpus})
                    ORDER BY {classKey}, {SubmittedAt}, {JobId} LIMIT 1) next
            ),
            admitted AS (
                SELECT *, count(*) FILTER (WHERE ready) OVER (
                    PARTITION BY {Tenant} ORDER BY {rank} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS ready_before
                FROM classes c
                {condition}
            ),
            heads AS (
                SELECT j.* FROM admitted c CROSS JOIN LATERAL (
                    SELECT {JobId}, {Tenant}, {Service}, {Cpus}, {MemoryMb}, {Gpus}, {Language}, {Pool}, {ExcludeWorker}, {AffinityKey},
                           {Priority}, {SubmittedAt}, {PendingReason}, {PendingReasonCode}
                    FROM {Table}
                    WHERE {pending} AND ({classKey}) = (c.{Tenant}, c.{Priority}, c.{Service}, c.{Language}, c.{Cpus}, c.{MemoryMb}, c.{Gpus})
                      AND {ready}
                    ORDER BY {SubmittedAt}, {JobId} LIMIT $1) j
                WHERE c.ready_before < $1
            )
            SELECT {JobId}, {Tenant}, {Service}, {Cpus}, {MemoryMb}, {Gpus}, {Language}, {Pool}, {ExcludeWorker}, {AffinityKey}, {Priority}, {SubmittedAt},
                   {PendingReason}, {PendingReasonCode}
            FROM (SELECT *, row_number() OVER (PARTITION BY {Tenant} ORDER BY {rank}) AS place FROM heads) ranked
            WHERE place <= $1
            """);
        command.Parameters.AddWithValue(perTenant);
        command.Parameters.AddWithValue(agingSeconds);
        if (filter is not null)
        {
            command.Parameters.AddWithValue(filter.Cpus);
            command.Parameters.AddWithValue(filter.MemoryMb);
            command.Parameters.AddWithValue(filter.Gpus);
            command.Parameters.AddWithValue(filter.Services);
            command.Parameters.AddWithValue(filter.Pairs);
        }
        return command;
    }

    /// <summary>The CPUs each tenant has Allocated or Running.</summary>
    public async Task<Dictionary<string, long>> CpusOnWorkersByTenant(CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            $"SELECT {Tenant}, sum({Cpus})::bigint FROM {Table} WHERE {CurrentState} IN ({OnWorkerStates}) GROUP BY {Tenant}");
        return await ReadCounts(command, cancellationToken);
    }

    /// <summary>
    /// Attempts Allocated before <paramref name="before"/> that show no sign of having started: no process id in their
    /// allocation row, and not listed by their worker's last heartbeat. Each as the RunJob that placed it, so the same
    /// message can be sent again.
    /// </summary>
    public async Task<List<RunJob>> AllocatedBefore(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT j.{JobId}, j.{Attempt}, j.{WorkerId}, j.{Service}, j.{Command}, j.{PayloadJson}::text, j.{Cpus}, j.{MemoryMb}, j.{Gpus}, j.{TimeoutSeconds},
                   j.{EnvironmentJson}::text, j.{Language}
            FROM {Table} j
            LEFT JOIN resource_allocations a ON a.job_id = j.{JobId} AND a.attempt = j.{Attempt}
            LEFT JOIN workers w ON w.worker_id = j.{WorkerId}
            WHERE j.{CurrentState} = '{State.Allocated}' AND j.{AllocatedAt} < $1 AND a.process_id IS NULL
              AND NOT coalesce((j.{JobId}::text || ':' || j.{Attempt}) = ANY (w.running_attempts), false)
            """);
        command.Parameters.AddWithValue(before);
        var overdue = new List<RunJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            overdue.Add(new RunJob(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<string[]>(4), Text(reader, 5),
                new ResourceVector(reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8)), reader.GetInt32(9),
                // The same RunJob as the first, so the same environment: the job's own variables.
                Text(reader, 10) is { } environment ? JsonSerializer.Deserialize<Dictionary<string, string>>(environment) : null,
                Text(reader, 11)));
        return overdue;
    }

    /// <summary>Every attempt Allocated or Running on some worker.</summary>
    public async Task<List<JobAttemptOnWorker>> OnAnyWorker(CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            $"SELECT {JobId}, {Attempt}, {WorkerId} FROM {Table} WHERE {CurrentState} IN ({OnWorkerStates}) AND {WorkerId} IS NOT NULL");
        return await ReadAttempts(command, cancellationToken);
    }

    /// <summary>Attempts Allocated or Running on <paramref name="workerId"/>, with what its allocation row recorded.</summary>
    public async Task<List<WorkerAttemptRecord>> OnWorker(string workerId, CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT j.{JobId}, j.{Attempt}, j.{CurrentState}, a.process_id, coalesce(a.allocated_at, j.{AllocatedAt}, j.{SubmittedAt}),
                   j.{StartedAt}, j.{TimeoutSeconds}
            FROM {Table} j LEFT JOIN resource_allocations a ON a.job_id = j.{JobId} AND a.attempt = j.{Attempt}
            WHERE j.{WorkerId} = $1 AND j.{CurrentState} IN ({OnWorkerStates})
            """);
        command.Parameters.AddWithValue(workerId);
        var attempts = new List<WorkerAttemptRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            attempts.Add(new WorkerAttemptRecord(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetFieldValue<DateTimeOffset>(4), Time(reader, 5), reader.GetInt32(6)));
        return attempts;
    }

    /// <summary>Attempts Running past their timeout plus <paramref name="grace"/> at <paramref name="now"/>, with the timeout in seconds.</summary>
    public async Task<List<(JobAttemptOnWorker Attempt, int TimeoutSeconds)>> RunningPastTimeout(TimeSpan grace, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT {JobId}, {Attempt}, {WorkerId}, {TimeoutSeconds} FROM {Table}
            WHERE {CurrentState} = '{State.Running}' AND {WorkerId} IS NOT NULL AND {StartedAt} IS NOT NULL
              AND {StartedAt} + make_interval(secs => {TimeoutSeconds}) + $1 < $2
            """);
        command.Parameters.AddWithValue(grace);
        command.Parameters.AddWithValue(now);
        var attempts = new List<(JobAttemptOnWorker, int)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            attempts.Add((new JobAttemptOnWorker(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)), reader.GetInt32(3)));
        return attempts;
    }

    /// <summary>
    /// Attempts Running on a live worker whose heartbeats since the attempt started no longer list it: only beats taken
    /// after the start count, since an older list cannot know of it.
    /// </summary>
    public async Task<List<JobAttemptOnWorker>> RunningUnlisted(CancellationToken cancellationToken)
    {
        await using var command = NewCommand($"""
            SELECT j.{JobId}, j.{Attempt}, j.{WorkerId} FROM {Table} j JOIN workers w ON w.worker_id = j.{WorkerId}
            WHERE j.{CurrentState} = '{State.Running}' AND w.expires_at > now() AND w.running_reported_at > j.{StartedAt}
              AND NOT (j.{JobId}::text || ':' || j.{Attempt}) = ANY (w.running_attempts)
            """);
        return await ReadAttempts(command, cancellationToken);
    }

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> jobs that finished before <paramref name="finishedBefore"/>, with
    /// their transitions and request ids, in one statement; returns how many went. Only final states, so the saga has
    /// no further write to lose; rows another run holds are skipped, so runs at once never wait for each other.
    /// </summary>
    public async Task<int> DeleteFinishedBefore(DateTimeOffset finishedBefore, int batchSize, CancellationToken cancellationToken)
    {
        // A job cancelled before it ran may have no finished_at of its own; its submission time stands in.
        await using var command = NewCommand($"""
            WITH gone AS (
                DELETE FROM {Table}
                WHERE {JobId} IN (
                    SELECT {JobId} FROM {Table}
                    WHERE {CurrentState} IN ({FinalStates})
                      AND coalesce({FinishedAt}, {SubmittedAt}) < $1
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                RETURNING {JobId}),
            transitions AS (DELETE FROM job_transitions WHERE job_id IN (SELECT {JobId} FROM gone)),
            requests AS (DELETE FROM job_requests WHERE job_id IN (SELECT {JobId} FROM gone))
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.AddWithValue(finishedBefore);
        command.Parameters.AddWithValue(batchSize);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Where each of the jobs stands; jobs without a row are left out.</summary>
    public async Task<List<JobProgress>> Progress(Guid[] jobIds, CancellationToken cancellationToken = default)
    {
        await using var command = NewCommand(
            $"SELECT {JobId}, {CurrentState}, {Attempt}, {SubmittedAt}, {AllocatedAt}, {StartedAt}, {FinishedAt} FROM {Table} WHERE {JobId} = ANY($1)");
        command.Parameters.AddWithValue(jobIds);
        var progress = new List<JobProgress>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            progress.Add(new JobProgress(reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3),
                Time(reader, 4), Time(reader, 5), Time(reader, 6)));
        return progress;
    }

    /// <summary>Which of the jobs are in a final state.</summary>
    public async Task<List<Guid>> Finished(Guid[] jobIds, CancellationToken cancellationToken = default)
    {
        await using var command = NewCommand(
            $"SELECT {JobId} FROM {Table} WHERE {JobId} = ANY($1) AND {CurrentState} IN ({FinalStates})");
        command.Parameters.AddWithValue(jobIds);
        var finished = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            finished.Add(reader.GetGuid(0));
        return finished;
    }

    static async Task<Dictionary<string, long>> ReadCounts(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    static async Task<List<JobAttemptOnWorker>> ReadAttempts(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var attempts = new List<JobAttemptOnWorker>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            attempts.Add(new JobAttemptOnWorker(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));
        return attempts;
    }

    static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    static DateTimeOffset? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);

    // Stored by name; a name this build does not know (written by a newer one) reads as no code.
    static ReasonCode? Code(string? name) => Enum.TryParse<ReasonCode>(name, out var code) ? code : null;
}

/// <summary>
/// One moment of the jobs table (<see cref="JobQueries.BeginSnapshot"/>): read through <see cref="Queries"/>, then
/// dispose, which ends the transaction and returns the connection.
/// </summary>
public sealed class JobSnapshot(JobQueries queries, NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
{
    public JobQueries Queries { get; } = queries;

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync(); // rolls back: nothing was written
        await connection.DisposeAsync();
    }
}
