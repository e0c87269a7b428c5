using Bus.Gateway.Stats;
using Bus.Persistence.Jobs;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bus.ComponentTests;

/// <summary>
/// The stats snapshot's running count of finished jobs on real PostgreSQL (<see cref="FinishedJobCounts"/>): each
/// read adds the jobs finished since the last, counts none twice, and the rare full count takes out what retention
/// removed.
/// </summary>
public sealed class FinishedJobCountsTests : IAsyncLifetime
{
    static readonly TimeSpan FullCountInterval = TimeSpan.FromHours(1);

    readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    TestDatabase _database = null!;
    FinishedJobCounts _counts = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _counts = new FinishedJobCounts(new JobQueries(_database.DataSource),
            Options.Create(new StatsOptions { FullCountInterval = FullCountInterval }), _clock);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Each_read_adds_the_jobs_finished_since_the_last_counts_none_twice_and_the_full_count_takes_out_removed_ones()
    {
        // History from long ago, and jobs that are not finished, which the count leaves to the active read.
        await Insert("a", "Completed", count: 3, stampedSecondsAgo: 86_400);
        await Insert("a", "Failed", count: 2, stampedSecondsAgo: 86_400);
        await Insert("b", "Cancelled", count: 1, stampedSecondsAgo: 86_400);
        await Insert("a", "Pending", count: 4, stampedSecondsAgo: 0);
        await Insert("a", "Running", count: 1, stampedSecondsAgo: 0);

        var first = await _counts.Read(CancellationToken.None);
        Assert.Equal(Render(("a", "Completed", 3), ("a", "Failed", 2), ("b", "Cancelled", 1)), Render(first));
        Assert.DoesNotContain(first.CompletedLastMinuteByTenant, c => c.Value > 0);

        // Jobs finished since: just now (not settled yet, so counted again by every read until they are) and a
        // while ago, but after the first read's boundary.
        await Insert("a", "Completed", count: 5, stampedSecondsAgo: 0);
        await Insert("b", "TimedOut", count: 2, stampedSecondsAgo: 30);
        await Insert("b", "Completed", count: 1, stampedSecondsAgo: 89);
        var expected = Render(("a", "Completed", 8), ("a", "Failed", 2), ("b", "Cancelled", 1), ("b", "TimedOut", 2), ("b", "Completed", 1));
        foreach (var read in new[] { "second", "third" })
        {
            var counts = await _counts.Read(CancellationToken.None);
            Assert.True(expected.SequenceEqual(Render(counts)), $"{read} read: {string.Join("; ", Render(counts))}");
            Assert.Equal(5, counts.CompletedLastMinuteByTenant["a"]);
        }

        // Once the job stamped 89 s ago has settled, a read adds it to the running count for good; the read after
        // that no longer reads it, and must still count it exactly once.
        await Eventually.Get(SettlingBoundaryPassedTheOldestRecentJob, passed => passed, TimeSpan.FromSeconds(10),
            "the settling boundary passes the job stamped 89 s ago");
        foreach (var read in new[] { "folding", "after folding" })
            Assert.True(expected.SequenceEqual(Render(await _counts.Read(CancellationToken.None))), $"{read} read");

        // Retention removes history: the running count keeps it until the next full count, which takes it out.
        await Execute("DELETE FROM jobs WHERE tenant = 'a' AND current_state = 'Failed'");
        Assert.True(expected.SequenceEqual(Render(await _counts.Read(CancellationToken.None))), "before the full count");
        _clock.Advance(FullCountInterval);
        Assert.Equal(Render(("a", "Completed", 8), ("b", "Cancelled", 1), ("b", "TimedOut", 2), ("b", "Completed", 1)),
            Render(await _counts.Read(CancellationToken.None)));
    }

    [Fact]
    public async Task A_final_write_that_commits_after_a_read_it_was_stamped_before_is_counted_by_the_next_read()
    {
        await Insert("a", "Completed", count: 1, stampedSecondsAgo: 86_400);
        Assert.Equal(Render(("a", "Completed", 1)), Render(await _counts.Read(CancellationToken.None)));

        // A saga stamps its write before it commits: this one, stamped 30 s ago, is still uncommitted while a read runs.
        await using var connection = await _database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var late = new Npgsql.NpgsqlCommand(InsertSql, connection, transaction))
        {
            foreach (var value in new object[] { "a", "Completed", 30, 1 })
                late.Parameters.AddWithValue(value);
            await late.ExecuteNonQueryAsync();
        }
        Assert.Equal(Render(("a", "Completed", 1)), Render(await _counts.Read(CancellationToken.None)));
        await transaction.CommitAsync();

        foreach (var read in new[] { "the read after the commit", "the one after that" })
            Assert.True(Render(("a", "Completed", 2)).SequenceEqual(Render(await _counts.Read(CancellationToken.None))), read);
    }

    [Fact]
    public async Task Reads_in_one_snapshot_see_one_moment_so_a_job_that_finishes_between_them_counts_once()
    {
        await Insert("a", "Running", count: 1, stampedSecondsAgo: 0);
        var queries = new JobQueries(_database.DataSource);

        await using (var snapshot = await queries.BeginSnapshot(CancellationToken.None))
        {
            Assert.Equal([("a", "Running", 1L)], (await snapshot.Queries.CountActiveByTenantAndState(CancellationToken.None))
                .Select(c => (c.Tenant, c.State, c.Count)));
            // The job ends after the snapshot's first read and before its second, committed by another connection.
            await Execute("UPDATE jobs SET current_state = 'Completed', updated_at = now(), finished_at = now() WHERE tenant = 'a'");
            Assert.Empty(Render(await _counts.Read(snapshot.Queries, CancellationToken.None)));
        }

        // Outside the snapshot, the end is seen: finished once, no longer running.
        Assert.Equal(Render(("a", "Completed", 1)), Render(await _counts.Read(CancellationToken.None)));
        Assert.Empty(await queries.CountActiveByTenantAndState(CancellationToken.None));
    }

    async Task<bool> SettlingBoundaryPassedTheOldestRecentJob()
    {
        await using var command = _database.DataSource.CreateCommand(
            "SELECT now() - $1::interval > max(updated_at) FROM jobs WHERE tenant = 'b' AND current_state = 'Completed'");
        command.Parameters.AddWithValue(FinishedJobCounts.Settling);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    static List<string> Render(FinishedJobs counts) =>
        [.. counts.ByTenantAndState.Where(c => c.Value > 0).Select(c => $"{c.Key.Tenant}/{c.Key.State}: {c.Value}").Order()];

    static List<string> Render(params (string Tenant, string State, long Count)[] counts) =>
        [.. counts.Select(c => $"{c.Tenant}/{c.State}: {c.Count}").Order()];

    // $1 tenant, $2 state, $3 seconds ago its write was stamped, $4 how many.
    const string InsertSql = """
        INSERT INTO jobs (job_id, current_state, version, tenant, request_id, service, command, cpus, memory_mb, gpus, priority,
                          timeout_seconds, max_attempts, attempt, submitted_at, updated_at, finished_at)
        SELECT gen_random_uuid(), $2, 3, $1, gen_random_uuid()::text, 'shell', ARRAY['/bin/true'], 1, 0, 0, 0, 60, 1, 1,
               now() - interval '1 day', clock_timestamp() - $3 * interval '1 second',
               CASE WHEN $2 IN ('Pending', 'Running') THEN NULL ELSE clock_timestamp() - $3 * interval '1 second' END
        FROM generate_series(1, $4)
        """;

    async Task Insert(string tenant, string state, int count, int stampedSecondsAgo)
    {
        await using var insert = _database.DataSource.CreateCommand(InsertSql);
        insert.Parameters.AddWithValue(tenant);
        insert.Parameters.AddWithValue(state);
        insert.Parameters.AddWithValue(stampedSecondsAgo);
        insert.Parameters.AddWithValue(count);
        await insert.ExecuteNonQueryAsync();
    }

    async Task Execute(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
