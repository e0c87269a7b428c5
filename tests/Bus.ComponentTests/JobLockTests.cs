using Bus.ComponentTests.Support;
using Bus.Reconciler.Jobs;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Quartz;

namespace Bus.ComponentTests;

/// <summary>
/// The advisory lock that keeps each reconciler job on one instance at a time, on real PostgreSQL. Each
/// <see cref="JobLock"/> stands for one reconciler process, with a connection pool of its own: a lock left behind
/// on a pooled session would then show, as it would in production.
/// </summary>
public sealed class JobLockTests : IAsyncLifetime
{
    static readonly JobKey Job = new("some-job", "reconciler");

    readonly List<NpgsqlDataSource> _pools = [];
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync()
    {
        foreach (var pool in _pools)
            await pool.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task While_one_instance_holds_a_job_another_is_refused_until_it_lets_go()
    {
        var (first, second) = (Lock(), Lock());

        var held = await first.TryAcquire(Job, CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await second.TryAcquire(Job, CancellationToken.None));

        await held.DisposeAsync();
        await using var next = await second.TryAcquire(Job, CancellationToken.None);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Different_jobs_do_not_block_each_other()
    {
        await using var sync = await Lock().TryAcquire(new JobKey("allocation-sync", "reconciler"), CancellationToken.None);
        await using var archive = await Lock().TryAcquire(new JobKey("allocation-archive", "reconciler"), CancellationToken.None);

        Assert.NotNull(sync);
        Assert.NotNull(archive);
    }

    [Fact]
    public async Task A_run_that_finds_the_job_running_elsewhere_is_skipped()
    {
        var running = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var first = Lock().RunAlone(Job, async _ => { running.SetResult(); await finish.Task; }, CancellationToken.None);
        await running.Task;

        var skippedWorkRan = false;
        var ranWhileHeld = await Lock().RunAlone(Job, _ => { skippedWorkRan = true; return Task.CompletedTask; }, CancellationToken.None);
        finish.SetResult();
        Assert.True(await first);
        var ranAfter = await Lock().RunAlone(Job, _ => Task.CompletedTask, CancellationToken.None);

        Assert.False(ranWhileHeld);
        Assert.False(skippedWorkRan);
        Assert.True(ranAfter);
    }

    [Fact]
    public async Task A_run_that_throws_still_lets_go_of_the_job()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Lock().RunAlone(Job, _ => throw new InvalidOperationException("the job failed"), CancellationToken.None));

        await using var held = await Lock().TryAcquire(Job, CancellationToken.None);
        Assert.NotNull(held);
    }

    JobLock Lock()
    {
        var pool = NpgsqlDataSource.Create(_database.ConnectionString);
        _pools.Add(pool);
        return new JobLock(pool, NullLogger<JobLock>.Instance);
    }
}
