using Bus.Contracts;

using Bus.Persistence.Jobs;

using Bus.ComponentTests.Support;
using Bus.Reconciler.Sweeps;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bus.ComponentTests;

/// <summary>
/// The lost-worker sweep records a dead worker's loss in PostgreSQL and on the bus, on real
/// PostgreSQL and Redis; the bus is MassTransit's in-memory harness, which records what is published.
/// </summary>
public sealed class WorkerLostTests(RedisTargets redis) : IClassFixture<RedisTargets>, IAsyncLifetime
{
    TestDatabase _database = null!;
    RecordingBus _bus = null!;
    ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _bus = await RecordingBus.Start();
        _harness = _bus.Harness;
    }

    public async Task DisposeAsync()
    {
        await _bus.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_dead_worker_holding_a_job_is_published_lost_once_and_marked_in_the_workers_table()
    {
        // "gone" registered an hour ago and is not in Redis any more, but a job is still Allocated on it.
        var parts = new CapacityParts(redis.Connection(RedisTargets.Standalone), RedisTargets.FreshKeys(), _database.DataSource);
        var sweep = parts.Create<LostWorkerSweep>(_harness.Bus, new JobQueries(_database.DataSource));
        await Execute("""
            INSERT INTO workers (worker_id, cpus, memory_mb, gpus, max_jobs, services, languages, first_registered_at, last_registered_at)
            VALUES ('gone', 4, 0, 0, 4, '{shell}', '{}', now() - interval '1 hour', now() - interval '1 hour')
            """);
        await Execute("""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus,
                              priority, timeout_seconds, max_attempts, attempt, worker_id, submitted_at, updated_at)
            VALUES (gen_random_uuid(), 'Allocated', 1, 'dev', 'r1', 'shell', '{/bin/true}', 1, 0, 0, 0, 60, 3, 1, 'gone', now(), now())
            """);

        Assert.Equal(0, await sweep.Run(CancellationToken.None)); // missing once: only a suspect
        Assert.Empty(WorkerLostPublished());
        Assert.Null(await LostAt("gone"));

        Assert.Equal(1, await sweep.Run(CancellationToken.None)); // missing twice: lost
        var lost = Assert.Single(WorkerLostPublished());
        Assert.Equal(("gone", (DateTimeOffset?)null), (lost.WorkerId, lost.LastSeen));
        Assert.Equal(lost.DetectedAt.ToUnixTimeMilliseconds(), (await LostAt("gone"))?.ToUnixTimeMilliseconds());

        // Nothing consumes JobAttemptLost here, so the job stays on "gone" and later sweeps declare it lost again;
        // the worker's loss is not published again.
        await sweep.Run(CancellationToken.None);
        Assert.Equal(1, await sweep.Run(CancellationToken.None));
        Assert.Single(WorkerLostPublished());
    }

    IReadOnlyList<WorkerLost> WorkerLostPublished() =>
        _harness.Published.Select<WorkerLost>().Select(m => m.Context.Message).ToList();

    async Task<DateTimeOffset?> LostAt(string workerId)
    {
        await using var command = _database.DataSource.CreateCommand("SELECT lost_at FROM workers WHERE worker_id = $1");
        command.Parameters.AddWithValue(workerId);
        return await command.ExecuteScalarAsync() is DateTime lostAt ? new DateTimeOffset(lostAt, TimeSpan.Zero) : null;
    }

    async Task Execute(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
