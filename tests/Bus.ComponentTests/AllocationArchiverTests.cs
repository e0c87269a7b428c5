using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.ComponentTests.Support;
using Bus.Reconciler;
using Bus.Reconciler.Archive;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus.ComponentTests;

/// <summary>The reconciler's archiver on real PostgreSQL: what moves to history, in batches, and only once.</summary>
public sealed class AllocationArchiverTests : IAsyncLifetime
{
    static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    TestDatabase _database = null!;
    AllocationStore _allocations = null!;
    DatabaseLedger _ledger = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        _allocations = new AllocationStore(_database.DataSource);
        _ledger = new DatabaseLedger(_database.DataSource);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Only_allocations_released_longer_ago_than_ArchiveAfter_move_to_history_in_batches()
    {
        var old = await Allocations(7, allocatedDaysAgo: 45, releasedDaysAgo: 31);
        var recent = await Allocations(3, allocatedDaysAgo: 45, releasedDaysAgo: 29);
        var unreleased = await Allocations(2, allocatedDaysAgo: 45, releasedDaysAgo: null);

        var report = await Archiver(batchSize: 3).Run(CancellationToken.None);

        Assert.Equal(new ArchiveReport(Moved: 7, Batches: 3), report);
        Assert.Equal(old.Order(), await JobIds("resource_allocations_history"));
        Assert.Equal(recent.Concat(unreleased).Order(), await JobIds("resource_allocations"));
        Assert.Equal(unreleased.Order(), (await _allocations.Active()).Select(a => a.JobId).Order());
    }

    [Fact]
    public async Task An_archived_allocation_keeps_its_id_and_every_column()
    {
        var job = (await Allocations(1, allocatedDaysAgo: 45, releasedDaysAgo: 40)).Single();
        await _allocations.SetProcessId(job, 1, 4242);
        const string columns = "id, job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at, process_id";
        var before = await Row($"SELECT {columns} FROM resource_allocations");

        await Archiver(batchSize: 10).Run(CancellationToken.None);

        Assert.Equal(before, await Row($"SELECT {columns} FROM resource_allocations_history"));
        var archivedAt = (DateTime)(await Row("SELECT archived_at FROM resource_allocations_history"))[0];
        Assert.InRange(archivedAt, Now.UtcDateTime.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Archiving_again_moves_nothing_more()
    {
        await Allocations(5, allocatedDaysAgo: 45, releasedDaysAgo: 31);
        await Allocations(2, allocatedDaysAgo: 1, releasedDaysAgo: null);
        var archiver = Archiver(batchSize: 2);
        await archiver.Run(CancellationToken.None);

        var again = await archiver.Run(CancellationToken.None);

        Assert.Equal(new ArchiveReport(0, 0), again);
        Assert.Equal(5, (await JobIds("resource_allocations_history")).Count);
        Assert.Equal(2, (await JobIds("resource_allocations")).Count);
    }

    [Fact]
    public async Task Archivers_running_at_once_move_every_row_exactly_once()
    {
        await using (var seed = _database.DataSource.CreateCommand("""
            INSERT INTO resource_allocations (job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at)
            SELECT gen_random_uuid(), 1, 'w' || (n % 50), 1, 0, 0, now() - interval '45 days', true, now() - interval '40 days'
            FROM generate_series(1, 3000) AS n
            """))
            await seed.ExecuteNonQueryAsync();

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Archiver(batchSize: 50).Run(CancellationToken.None))));

        Assert.Equal(3000, reports.Sum(r => r.Moved));
        Assert.Equal(3000, (await JobIds("resource_allocations_history")).Distinct().Count());
        Assert.Empty(await JobIds("resource_allocations"));
    }

    AllocationArchiver Archiver(int batchSize) => new(
        _allocations,
        Options.Create(new ReconcilerOptions { ArchiveAfter = TimeSpan.FromDays(30), ArchiveBatchSize = batchSize }),
        TimeProvider.System,
        NullLogger<AllocationArchiver>.Instance);

    /// <summary>Records <paramref name="count"/> allocations the way placement does, and releases them as the saga does.</summary>
    async Task<List<Guid>> Allocations(int count, int allocatedDaysAgo, int? releasedDaysAgo)
    {
        var jobs = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var job = Guid.NewGuid();
            await _ledger.Record(job, 1, $"w{i % 3}", new ResourceVector(1 + i % 4, 256, 0), Now.AddDays(-allocatedDaysAgo), redisEpoch: null);
            if (releasedDaysAgo is { } days)
                await _ledger.Release(job, 1, Now.AddDays(-days));
            jobs.Add(job);
        }
        return jobs;
    }

    async Task<List<Guid>> JobIds(string table)
    {
        await using var command = _database.DataSource.CreateCommand($"SELECT job_id FROM {table}");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids.Order().ToList();
    }

    async Task<object[]> Row(string sql)
    {
        await using var command = _database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row from: {sql}");
        var values = new object[reader.FieldCount];
        reader.GetValues(values);
        Assert.False(await reader.ReadAsync(), $"more than one row from: {sql}");
        return values;
    }
}
