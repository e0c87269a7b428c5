using System.Text.Json;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Placement;
using Npgsql;

namespace Bus.ComponentTests;

/// <summary>
/// The pending pass's read (<see cref="JobQueries.Pending"/>) on real PostgreSQL: each tenant's head in queue order
/// (priority, aging, age), the per-tenant limit, the eligibility filter applied before the limit, and a plan that
/// reads the heads of the queue through its index instead of every pending row.
/// </summary>
public sealed class PendingReadTests : IAsyncLifetime
{
    const int PerTenant = 7;
    // The scheduler's default batch, as the plan test reads it.
    const int BatchSize = 200;
    // No worker has this many cpus, so a class of such jobs is always left out by the filter below.
    const int Unplaceable = 4096;

    // What the workers of these tests offer: up to 2 cpus, 1 GB, no GPU; "shell" without a language or with python.
    static readonly PendingFilter Workers = new(2, 1024, 0, ["shell"], [$"shell{PendingFilter.Separator}python"]);

    static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    TestDatabase _database = null!;
    JobQueries _queries = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _queries = new JobQueries(_database.DataSource);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Each_tenants_head_comes_in_queue_order_with_aging_and_the_filter_applies_before_the_limit()
    {
        var random = new Random(13);
        var rows = new List<Row>();
        // Tenants with more jobs than the limit, of every priority, age, size, service and language.
        foreach (var tenant in new[] { "a", "b" })
            for (var i = 0; i < 120; i++)
                rows.Add(RandomRow(random, tenant));
        // A tenant whose queue starts with a backlog no worker can take, at top priority and older than anything:
        // the jobs behind it must still be read when the filter leaves it out.
        for (var i = 0; i < 30; i++)
            rows.Add(RandomRow(random, "backlogged") with { Priority = 100, Cpus = Unplaceable, SubmittedAt = Now.AddDays(-1).AddMilliseconds(i) });
        for (var i = 0; i < 60; i++)
            rows.Add(RandomRow(random, "backlogged"));
        // A tenant whose best-looking class starts with a retry in backoff: behind the retry, that class's first job
        // ready to read is young, and the one job of each of seven other classes outranks it, so the read must not
        // count that class among the tenant's best seven.
        rows.Add(RandomRow(random, "retrying") with
        {
            Priority = 100, Cpus = 1, MemoryMb = 512, Gpus = 0, Service = "shell", Language = null, SubmittedAt = Now.AddDays(-3),
            NotBefore = Now.AddHours(1),
        });
        rows.Add(RandomRow(random, "retrying") with
        {
            Priority = 100, Cpus = 1, MemoryMb = 512, Gpus = 0, Service = "shell", Language = null, SubmittedAt = Now.AddMinutes(-1),
        });
        foreach (var (cpus, memoryMb) in new[] { (1, 0), (2, 0), (2, 512), (2, 4096), (4, 0), (4, 512), (4, 4096) })
            rows.Add(RandomRow(random, "retrying") with
            {
                Priority = 100, Cpus = cpus, MemoryMb = memoryMb, Gpus = 0, Service = "shell", Language = null,
                SubmittedAt = Now.AddHours(-1).AddMilliseconds(cpus * 10 + memoryMb),
            });
        // A tenant with fewer jobs than the limit.
        for (var i = 0; i < 3; i++)
            rows.Add(RandomRow(random, "small"));
        // Never read: a retry still in its backoff, and jobs no longer pending, all at top priority.
        // The retry is the oldest of its class, so that class's first index entry is a job the read must skip.
        rows.Add(RandomRow(random, "a") with
        {
            Priority = 100, Cpus = 1, MemoryMb = 512, Gpus = 0, Service = "shell", Language = null, SubmittedAt = Now.AddDays(-3),
            NotBefore = Now.AddHours(1),
        });
        rows.Add(RandomRow(random, "a") with { Priority = 100, State = "Running" });
        rows.Add(RandomRow(random, "b") with { Priority = 100, State = "Completed" });
        // Read: a retry whose backoff is over.
        var retried = RandomRow(random, "b") with { Priority = 100, SubmittedAt = Now.AddDays(-2), NotBefore = Now.AddMinutes(-1) };
        rows.Add(retried);
        await Insert(rows);

        var readable = rows.Where(r => r.State == "Pending" && (r.NotBefore is null || r.NotBefore <= Now)).ToList();
        var heads = new Dictionary<TimeSpan, Dictionary<string, List<Guid>>>();
        foreach (var aging in new[] { TimeSpan.FromMinutes(1), TimeSpan.FromHours(1) })
        {
            var all = await Read(filter: null, admitted: true, aging);
            Assert.Equal(Render(Heads(readable, aging)), Render(all));
            // The refresh pass with no live worker asks for every job the (absent) filter leaves out: all of them.
            Assert.Equal(Render(all), Render(await Read(filter: null, admitted: false, aging)));
            Assert.Equal(Render(Heads(readable.Where(Admitted).ToList(), aging)), Render(await Read(Workers, admitted: true, aging)));
            Assert.Equal(Render(Heads(readable.Where(r => !Admitted(r)).ToList(), aging)), Render(await Read(Workers, admitted: false, aging)));
            heads[aging] = all;
        }

        // The data exercises what it claims to: aging changes which jobs lead, every tenant but the small one is cut
        // at the limit, the backlog leads its tenant's unfiltered queue, and the finished retry is read.
        Assert.NotEqual(Render(heads[TimeSpan.FromMinutes(1)]), Render(heads[TimeSpan.FromHours(1)]));
        Assert.All(heads.Values, h => Assert.Equal([PerTenant, PerTenant, PerTenant, PerTenant, 3], h.Values.Select(ids => ids.Count)));
        Assert.All(heads[TimeSpan.FromHours(1)]["backlogged"], id => Assert.Equal(Unplaceable, rows.Single(r => r.JobId == id).Cpus));
        Assert.Contains(retried.JobId, heads[TimeSpan.FromHours(1)]["b"]);
    }

    [Fact]
    public async Task The_read_walks_the_pending_index_and_skips_a_backlog_no_worker_can_take_without_reading_it()
    {
        // The statistics first describe a table of finished history with almost nothing pending, as they do when a
        // burst arrives at a quiet system: autovacuum analyzes a large table only after a tenth of it changed, so the
        // planner meets the burst with estimates of one pending row. Its plan must not depend on those estimates.
        await using (var history = _database.DataSource.CreateCommand("""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus, priority,
                              timeout_seconds, max_attempts, attempt, submitted_at, updated_at, finished_at)
            SELECT gen_random_uuid(), 'Completed', 3, 'a', 'done-' || n, 'shell', ARRAY['/bin/true'], 1, 0, 0, 0, 60, 1, 1,
                   now() - interval '1 day', now(), now()
            FROM generate_series(1, 20000) n
            """))
            await history.ExecuteNonQueryAsync();
        await Analyze();

        const int backlog = 20_000;
        await using (var insert = _database.DataSource.CreateCommand($"""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus, priority,
                              timeout_seconds, max_attempts, attempt, submitted_at, updated_at)
            SELECT gen_random_uuid(), 'Pending', 1, 'backlogged', 'seed-' || n, 'shell', ARRAY['/bin/true'], {Unplaceable}, 0, 0, 50, 60, 1, 1,
                   now() - interval '1 hour' + n * interval '1 ms', now()
            FROM generate_series(1, {backlog}) n
            """))
            await insert.ExecuteNonQueryAsync();
        var random = new Random(7);
        await Insert([.. Enumerable.Range(0, 60).Select(i => RandomRow(random, i % 2 == 0 ? "a" : "backlogged"))]);

        await AssertThePlanReadsClassHeadsThroughTheIndex("statistics from before the backlog");
        await Analyze();
        await AssertThePlanReadsClassHeadsThroughTheIndex("statistics that count the backlog");
    }

    async Task AssertThePlanReadsClassHeadsThroughTheIndex(string statistics)
    {
        foreach (var (filter, admitted) in new[] { (Workers, true), (Workers, false), ((PendingFilter?)null, true) })
        {
            var plan = await Plan(filter, admitted);
            var scans = Nodes(plan).Where(n => n.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs").ToList();
            Assert.NotEmpty(scans);
            // Every read of jobs is an index scan of the pending index: no sequential or bitmap scan of the table.
            Assert.All(scans, s => Assert.Contains(s.GetProperty("Node Type").GetString(), new[] { "Index Scan", "Index Only Scan" }));
            Assert.All(scans, s => Assert.True(s.GetProperty("Index Name").GetString() == "jobs_pending_by_class",
                $"with {statistics}, a read of jobs used {s.GetProperty("Index Name")}"));
            // It reads class heads: at most the limit of the backlog's class and the few other jobs, never the backlog.
            var rowsRead = scans.Sum(s => s.GetProperty("Actual Rows").GetDouble() * s.GetProperty("Actual Loops").GetDouble());
            Assert.InRange(rowsRead, 1, 1_000);
            Assert.All(Nodes(plan).Where(n => n.GetProperty("Node Type").GetString() == "Sort"),
                sort => Assert.InRange(sort.GetProperty("Actual Rows").GetDouble(), 0, 1_000));
        }
    }

    async Task Analyze()
    {
        await using var analyze = _database.DataSource.CreateCommand("ANALYZE jobs");
        await analyze.ExecuteNonQueryAsync();
    }

    async Task<Dictionary<string, List<Guid>>> Read(PendingFilter? filter, bool admitted, TimeSpan aging)
    {
        var jobs = await _queries.Pending(filter, admitted, PerTenant, aging.TotalSeconds, CancellationToken.None);
        return jobs.GroupBy(j => j.Tenant).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(j => j.JobId).Order().ToList());
    }

    /// <summary>One line per tenant, its job ids in order: equal when the same jobs were read for the same tenants.</summary>
    static List<string> Render(Dictionary<string, List<Guid>> heads) =>
        [.. heads.Select(h => $"{h.Key}: {string.Join(", ", h.Value)}")];

    /// <summary>What the read must return, worked out here from every row: the first jobs of each tenant in queue order.</summary>
    static Dictionary<string, List<Guid>> Heads(List<Row> rows, TimeSpan aging) =>
        rows.GroupBy(r => r.Tenant).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
        {
            var ordered = g.ToList();
            ordered.Sort((x, y) => QueueOrder.Compare(x.Priority, x.SubmittedAt, x.JobId, y.Priority, y.SubmittedAt, y.JobId, aging));
            return ordered.Take(PerTenant).Select(r => r.JobId).Order().ToList();
        });

    static bool Admitted(Row r) =>
        r.Cpus <= Workers.Cpus && r.MemoryMb <= Workers.MemoryMb && r.Gpus <= Workers.Gpus
        && (r.Language is null ? Workers.Services.Contains(r.Service) : Workers.Pairs.Contains($"{r.Service}{PendingFilter.Separator}{r.Language}"));

    /// <summary>
    /// A pending job of any priority and age; most are of one common size and service, so that each priority holds
    /// more of them than the limit (the order inside a class matters), the rest of any size, service and language.
    /// </summary>
    static Row RandomRow(Random random, string tenant)
    {
        var common = random.NextDouble() < 0.6;
        return new(
            Guid.NewGuid(), tenant, "Pending",
            Priority: Pick(random, 0, 50, 100),
            // Distinct to the millisecond, so no two jobs tie on age and the job id never decides.
            SubmittedAt: Now.AddMinutes(-random.Next(0, 300)).AddMilliseconds(-random.Next(0, 60_000)),
            Cpus: common ? 1 : Pick(random, 1, 2, 4),
            MemoryMb: common ? 512 : Pick(random, 0, 512, 4096),
            Gpus: common ? 0 : Pick(random, 0, 0, 0, 1),
            Service: common ? "shell" : Pick(random, "shell", "noop"),
            Language: common ? null : Pick<string?>(random, null, "python", "r"),
            NotBefore: null);
    }

    static T Pick<T>(Random random, params T[] choices) => choices[random.Next(choices.Length)];

    async Task Insert(IEnumerable<Row> rows)
    {
        await using var batch = _database.DataSource.CreateBatch();
        foreach (var r in rows)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus, language,
                                  priority, timeout_seconds, max_attempts, attempt, not_before, submitted_at, updated_at)
                VALUES ($1, $2, 1, $3, $1::text, $4, ARRAY['/bin/true'], $5, $6, $7, $8, $9, 60, 3, 1, $10, $11, $11)
                """);
            foreach (var value in new object?[] { r.JobId, r.State, r.Tenant, r.Service, r.Cpus, r.MemoryMb, r.Gpus, r.Language, r.Priority, r.NotBefore, r.SubmittedAt })
                insert.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            batch.BatchCommands.Add(insert);
        }
        await batch.ExecuteNonQueryAsync();
    }

    async Task<JsonElement> Plan(PendingFilter? filter, bool admitted)
    {
        await using var batch = _queries.PendingBatch(filter, admitted, BatchSize, TimeSpan.FromMinutes(1).TotalSeconds);
        var read = batch.BatchCommands[^1];
        read.CommandText = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + read.CommandText;
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        using var document = JsonDocument.Parse(reader.GetString(0));
        // Compiling a plan costs PostgreSQL far more than this read does (JIT was once on for it, at 1 s a read).
        Assert.False(document.RootElement[0].TryGetProperty("JIT", out _), "the read was JIT-compiled");
        return document.RootElement[0].GetProperty("Plan").Clone();
    }

    static IEnumerable<JsonElement> Nodes(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var descendant in Nodes(child))
                    yield return descendant;
    }

    sealed record Row(Guid JobId, string Tenant, string State, int Priority, DateTimeOffset SubmittedAt, int Cpus, int MemoryMb, int Gpus,
        string Service, string? Language, DateTimeOffset? NotBefore);
}
