using System.Net;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.SystemTests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Bus.SystemTests;

/// <summary>The whole system on a Redis of its own, which the test kills and brings back empty.</summary>
public sealed class OwnRedisSystem : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public RunningSystem System { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.Start();
        System = new RunningSystem(new Dictionary<string, string>
        {
            ["ConnectionStrings__Redis"] = Redis.ConnectionString,
            ["Redis__OutageRetryInterval"] = "00:00:01",
        });
        await System.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await System.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// Redis killed in the middle of a stream of jobs: scheduling goes on on PostgreSQL alone, no worker ever runs more
/// than it has, no job is lost or run twice, and once Redis is back (empty) the workers' counters are rebuilt before
/// placement uses them again, ending in agreement with PostgreSQL.
/// </summary>
public sealed class RedisOutageTests(OwnRedisSystem fixture, ITestOutputHelper output) : IClassFixture<OwnRedisSystem>
{
    // The fixture's workers: worker-a has 2 cpus, worker-b 4; each job takes 2, so at most 1 + 2 run at once.
    static readonly Dictionary<string, int> Cpus = new() { ["worker-a"] = 2, ["worker-b"] = 4 };
    const int JobCpus = 2;

    readonly RunningSystem _system = fixture.System;

    [Fact]
    public async Task Killing_Redis_mid_stream_loses_no_job_oversells_no_worker_and_switches_back_once_it_returns()
    {
        var submitted = new List<string>();
        var up1 = await SubmitFor(TimeSpan.FromSeconds(3), submitted);
        await fixture.Redis.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        // Redis stays down until placement has visibly gone on without it (a loaded machine takes longer to notice
        // the outage and switch), bounded by a deadline.
        var down = await SubmitFor(TimeSpan.FromSeconds(8), submitted);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (await PlacedSince(killedAt.AddSeconds(1)) < 5 && DateTimeOffset.UtcNow < deadline)
            down += await SubmitFor(TimeSpan.FromSeconds(1), submitted);
        Assert.Equal(["worker-a", "worker-b"], await _system.WorkerIds()); // the list reads the heartbeats in PostgreSQL
        await fixture.Redis.Start(); // empty: no persistence
        var restartedAt = DateTimeOffset.UtcNow;
        var up2 = await SubmitFor(TimeSpan.FromSeconds(5), submitted);
        output.WriteLine($"submitted {up1} before the kill, {down} while Redis was down, {up2} after it came back");

        var jobs = await Eventually.Get(() => Jobs(), all => all.Count == submitted.Count && all.All(j => j.State is "Completed" or "Failed"),
            TimeSpan.FromSeconds(120), "every submitted job to end");

        // None lost, none run twice.
        Assert.Equal(submitted.Order(), jobs.Select(j => j.JobId).Order());
        Assert.All(jobs, j => Assert.Equal(("Completed", 1), (j.State, j.Attempt)));

        // Scheduling went on while Redis was down (placements in the outage, not only ones queued behind it).
        var placedWhileDown = jobs.Count(j => j.AllocatedAt > killedAt.AddSeconds(1) && j.AllocatedAt < restartedAt);
        output.WriteLine($"{placedWhileDown} jobs placed while Redis was down");
        Assert.True(placedWhileDown >= 5, $"only {placedWhileDown} jobs were placed while Redis was down");

        // No worker ever ran more than it has: the processes' own start and end times, per worker.
        foreach (var (worker, cpus) in Cpus)
        {
            var peak = PeakConcurrency(jobs.Where(j => j.WorkerId == worker).Select(j => (j.StartedAt, j.FinishedAt)));
            output.WriteLine($"{worker}: at most {peak} jobs at once");
            Assert.True(peak * JobCpus <= cpus, $"{worker} ran {peak} jobs of {JobCpus} cpus at once with {cpus} cpus");
        }

        // Switched back: Redis, restarted empty, has each worker registered again over counters rebuilt from PostgreSQL,
        // and they agree with PostgreSQL (nothing held) once the last releases are in.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var keys = new RedisKeys(_system.KeyPrefix);
        var registry = new WorkerRegistry(redis, keys, TimeProvider.System);
        var ledger = new RedisCounters(redis, keys);
        foreach (var worker in Cpus.Keys)
        {
            Assert.True(await redis.GetDatabase().HashExistsAsync(keys.WorkerUsed(worker), "epoch"), $"{worker}'s counters were not rebuilt");
            await Eventually.Get(async () => (await registry.Read(worker), await ledger.Reservations(worker)),
                r => r.Item1 is { RunningJobs: 0, Used.Cpus: 0 } && r.Item2.Count == 0, TimeSpan.FromSeconds(30), $"{worker} empty in Redis");
        }
        Assert.Equal(0L, await Scalar<long>("SELECT COUNT(*) FROM resource_allocations WHERE NOT released"));
    }

    /// <summary>Submits a 0.3 s job of 2 cpus every 100 ms for <paramref name="duration"/>: more than the workers can hold.</summary>
    async Task<int> SubmitFor(TimeSpan duration, List<string> submitted)
    {
        var count = 0;
        var until = DateTimeOffset.UtcNow + duration;
        while (DateTimeOffset.UtcNow < until)
        {
            var (status, body) = await _system.Submit(new
            {
                requestId = $"outage-{Guid.NewGuid():N}",
                command = new[] { "/bin/sh", "-c", "sleep 0.3" },
                resources = new { cpus = JobCpus },
            });
            Assert.Equal(HttpStatusCode.Accepted, status);
            submitted.Add((string)body["jobId"]!);
            count++;
            await Task.Delay(100);
        }
        return count;
    }

    sealed record JobRow(string JobId, string State, int Attempt, string? WorkerId, DateTimeOffset? AllocatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

    async Task<List<JobRow>> Jobs()
    {
        await using var command = _system.Database.DataSource.CreateCommand(
            "SELECT job_id, current_state, attempt, worker_id, allocated_at, started_at, finished_at FROM jobs");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<JobRow>();
        while (await reader.ReadAsync())
        {
            DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);
            rows.Add(new JobRow(reader.GetGuid(0).ToString(), reader.GetString(1), reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), At(4), At(5), At(6)));
        }
        return rows;
    }

    /// <summary>The most intervals that overlap at one instant; an interval ending when another starts does not overlap it.</summary>
    static int PeakConcurrency(IEnumerable<(DateTimeOffset? Start, DateTimeOffset? End)> intervals)
    {
        var events = intervals.SelectMany(i => new[] { (At: i.Start!.Value, Delta: +1), (At: i.End!.Value, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta); // ends before starts at the same instant
        int running = 0, peak = 0;
        foreach (var e in events)
            peak = Math.Max(peak, running += e.Delta);
        return peak;
    }

    async Task<long> PlacedSince(DateTimeOffset since)
    {
        await using var command = _system.Database.DataSource.CreateCommand("SELECT COUNT(*) FROM jobs WHERE allocated_at > $1");
        command.Parameters.AddWithValue(since);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    async Task<T> Scalar<T>(string sql)
    {
        await using var command = _system.Database.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
