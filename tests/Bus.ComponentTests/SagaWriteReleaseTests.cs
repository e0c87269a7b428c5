using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.Scheduler.Data;
using Bus.Scheduler.StateMachines;
using Microsoft.EntityFrameworkCore;

namespace Bus.ComponentTests;

/// <summary>
/// A finished attempt's allocation row is released by the saga write that records the end, in its transaction, on
/// real PostgreSQL: a write that loses a race releases nothing, the write that wins releases the row with it.
/// </summary>
public sealed class SagaWriteReleaseTests : IAsyncLifetime
{
    TestDatabase _database = null!;
    DbContextOptions<SchedulerDbContext> _options = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _options = new DbContextOptionsBuilder<SchedulerDbContext>().UseNpgsql(_database.DataSource).Options;
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_write_that_loses_a_race_leaves_the_row_held_and_the_winning_write_releases_it()
    {
        var jobId = Guid.NewGuid();
        await using (var db = new SchedulerDbContext(_options))
        {
            db.Jobs.Add(new JobState { CorrelationId = jobId, CurrentState = "Running", Tenant = "t1", Version = 1, WorkerId = "w1", Attempt = 1 });
            await db.SaveChangesAsync();
        }
        await new DatabaseLedger(_database.DataSource).Record(jobId, 1, "w1", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);

        await using var loser = new SchedulerDbContext(_options);
        var stale = await loser.Jobs.SingleAsync(j => j.CorrelationId == jobId);
        await using (var winner = new SchedulerDbContext(_options))
        {
            var current = await winner.Jobs.SingleAsync(j => j.CorrelationId == jobId);
            current.CancelRequestedAt = DateTimeOffset.UtcNow;
            current.Version++;
            await winner.SaveChangesAsync();
        }

        stale.CurrentState = "Completed";
        stale.Version++;
        stale.NewReleases.Add(new AllocationRelease(jobId, 1, DateTimeOffset.UtcNow));
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => loser.SaveChangesAsync());
        Assert.Equal((false, "Running"), await Read(jobId));

        await using (var retry = new SchedulerDbContext(_options))
        {
            var reloaded = await retry.Jobs.SingleAsync(j => j.CorrelationId == jobId);
            reloaded.CurrentState = "Completed";
            reloaded.Version++;
            reloaded.NewReleases.Add(new AllocationRelease(jobId, 1, DateTimeOffset.UtcNow));
            await retry.SaveChangesAsync();
        }
        Assert.Equal((true, "Completed"), await Read(jobId));
    }

    [Fact]
    public async Task Releasing_a_jobs_leftovers_leaves_the_attempts_its_saga_write_releases()
    {
        var jobId = Guid.NewGuid();
        var ledger = new DatabaseLedger(_database.DataSource);
        foreach (var attempt in new[] { 1, 2 })
            await ledger.Record(jobId, attempt, "w1", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow, redisEpoch: null);

        var released = await ledger.ReleaseAll(jobId, DateTimeOffset.UtcNow, except: [2]);

        Assert.Equal([(1, "w1")], released);
        await using var command = _database.DataSource.CreateCommand(
            "SELECT attempt FROM resource_allocations WHERE job_id = $1 AND NOT released");
        command.Parameters.AddWithValue(jobId);
        Assert.Equal(2, (int)(await command.ExecuteScalarAsync())!);
    }

    /// <summary>Whether the attempt's row is released, and the job's state, as committed.</summary>
    async Task<(bool Released, string State)> Read(Guid jobId)
    {
        await using var command = _database.DataSource.CreateCommand("""
            SELECT a.released, j.current_state FROM resource_allocations a JOIN jobs j USING (job_id) WHERE a.job_id = $1 AND a.attempt = 1
            """);
        command.Parameters.AddWithValue(jobId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetBoolean(0), reader.GetString(1));
    }
}
