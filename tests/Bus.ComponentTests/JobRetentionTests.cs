using Bus.ComponentTests.Support;
using Bus.Persistence.Jobs;
using Bus.Reconciler;
using Bus.Reconciler.Archive;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Bus.ComponentTests;

/// <summary>The reconciler's job retention on real PostgreSQL: what it deletes with a job, and what it never touches.</summary>
public sealed class JobRetentionTests : IAsyncLifetime
{
    static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Finished_jobs_past_the_retention_go_with_their_result_transitions_and_request_and_nothing_else_does()
    {
        var old = new[] { await Job("Completed", finishedDaysAgo: 91, result: """{"wav":"a.wav"}"""), await Job("Failed", 95), await Job("TimedOut", 200) };
        var cancelledBeforeItRan = await Job("Cancelled", finishedDaysAgo: null, submittedDaysAgo: 100);
        var recent = await Job("Completed", finishedDaysAgo: 89);
        var stillRunning = await Job("Running", finishedDaysAgo: null, submittedDaysAgo: 120);

        var deleted = await Retention(batchSize: 2).Run(CancellationToken.None);

        Assert.Equal(4, deleted);
        Assert.Equal(new[] { recent, stillRunning }.Order(), await JobIds("jobs"));
        Assert.Equal(new[] { recent, stillRunning }.Order(), await JobIds("job_transitions"));
        Assert.Equal(new[] { recent, stillRunning }.Order(), await JobIds("job_requests"));
        Assert.DoesNotContain(cancelledBeforeItRan, await JobIds("jobs"));
        Assert.DoesNotContain(old[0], await JobIds("jobs"));
        Assert.Equal(0, await Retention(batchSize: 2).Run(CancellationToken.None)); // nothing more the second time
    }

    JobRetention Retention(int batchSize) => new(new JobQueries(_database.DataSource),
        Options.Create(new ReconcilerOptions { JobRetention = TimeSpan.FromDays(90), ArchiveBatchSize = batchSize }),
        new FakeTimeProvider(Now), NullLogger<JobRetention>.Instance); // the rows' "days ago" are exact, whenever the test runs

    /// <summary>A job row as the saga leaves it, with one transition and the gateway's request row.</summary>
    async Task<Guid> Job(string state, int? finishedDaysAgo, int submittedDaysAgo = 120, string? result = null)
    {
        var jobId = Guid.NewGuid();
        var submitted = Now.AddDays(-submittedDaysAgo);
        DateTimeOffset? finished = finishedDaysAgo is { } days ? Now.AddDays(-days) : null;
        await using var batch = _database.DataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus,
                              priority, timeout_seconds, max_attempts, attempt, submitted_at, finished_at, updated_at, result_json)
            VALUES ($1, $2, 1, 'dev', $1::text, 'shell', ARRAY['/bin/true'], 1, 0, 0, 50, 60, 3, 1, $3, $4, $3, $5::jsonb)
            """, jobId, state, submitted, (object?)finished ?? DBNull.Value, (object?)result ?? DBNull.Value));
        batch.BatchCommands.Add(Command("""
            INSERT INTO job_requests (tenant, request_id, job_id, request_hash, created_at, submit_command)
            VALUES ('dev', $1::text, $1, 'hash', $2, '{}'::jsonb)
            """, jobId, submitted));
        batch.BatchCommands.Add(Command("""
            INSERT INTO job_transitions (job_id, tenant, from_state, to_state, event, attempt, at)
            VALUES ($1, 'dev', 'Initial', $2, 'Submit', 1, $3)
            """, jobId, state, submitted));
        await batch.ExecuteNonQueryAsync();
        return jobId;
    }

    static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }

    async Task<List<Guid>> JobIds(string table)
    {
        await using var command = _database.DataSource.CreateCommand($"SELECT DISTINCT job_id FROM {table} ORDER BY job_id");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }
}
