using Bus.ComponentTests.Support;
using Bus.Contracts;
using Bus.Hosting.Telemetry;
using Bus.Persistence.Jobs;
using Bus.Reconciler;
using Bus.Reconciler.Sweeps;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bus.ComponentTests;

/// <summary>
/// The running sweep's server-side timeout, on real PostgreSQL with a fake clock; the bus is MassTransit's in-memory
/// harness, which records what is sent and published.
/// </summary>
public sealed class RunningSweepTests : IAsyncLifetime
{
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);
    TestDatabase _database = null!;
    RecordingBus _bus = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _bus = await RecordingBus.Start();
    }

    public async Task DisposeAsync()
    {
        await _bus.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task An_attempt_past_its_timeout_is_left_to_its_worker_first_and_ended_by_the_server_only_after_another_grace()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sweep = new RunningSweep(new JobQueries(_database.DataSource), _bus.Harness.Bus,
            Options.Create(new ReconcilerOptions { RunningGrace = Grace }), clock,
            new JobLogScopes(NullLogger<JobLogScopes>.Instance, new ConfigurationBuilder().Build()), NullLogger<RunningSweep>.Instance);
        // Started 200 s ago with a 60 s timeout: past it plus the grace. Its report may only be stuck (the broker was down).
        var jobId = Guid.NewGuid();
        await using (var insert = _database.DataSource.CreateCommand("""
            INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus,
                              priority, timeout_seconds, max_attempts, attempt, worker_id, submitted_at, started_at, updated_at)
            VALUES ($1, 'Running', 1, 'dev', 'overdue', 'shell', '{/bin/true}', 1, 0, 0, 0, 60, 3, 1, 'slow', now(), now() - interval '200 seconds', now())
            """))
        {
            insert.Parameters.AddWithValue(jobId);
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, (await sweep.Run(CancellationToken.None)).TimedOut);
        var stop = Assert.Single(_bus.Harness.Sent.Select<StopJob>().ToList()).Context.Message;
        Assert.Equal((jobId, 1, "slow", StopReason.TimedOut), (stop.JobId, stop.Attempt, stop.WorkerId, stop.Reason));
        Assert.False(_bus.Harness.Published.Select<JobStopped>().Any()); // the worker may still settle it

        clock.Advance(Grace / 2);
        Assert.Equal(0, (await sweep.Run(CancellationToken.None)).TimedOut);
        Assert.Single(_bus.Harness.Sent.Select<StopJob>().ToList()); // told once, not again on every sweep
        Assert.False(_bus.Harness.Published.Select<JobStopped>().Any());

        clock.Advance(Grace);
        Assert.Equal(1, (await sweep.Run(CancellationToken.None)).TimedOut);
        var ended = Assert.Single(_bus.Harness.Published.Select<JobStopped>().ToList()).Context.Message;
        Assert.Equal((jobId, 1, StopReason.TimedOut), (ended.JobId, ended.Attempt, ended.Reason));
    }
}
