using Bus.Persistence.Jobs;
using Bus.Scheduler.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Bus.ComponentTests;

/// <summary>The scheduler's <see cref="TransitionsNotifier"/> on real PostgreSQL: a committed write wakes a listener.</summary>
public sealed class TransitionsNotifierTests : IAsyncLifetime
{
    TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.Create();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Commits_reported_to_the_notifier_reach_a_listener_of_the_channel()
    {
        await using var listener = await _database.DataSource.OpenConnectionAsync();
        var notified = 0;
        listener.Notification += (_, e) =>
        {
            if (e.Channel == TransitionsChannel.Name)
                Interlocked.Increment(ref notified);
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {TransitionsChannel.Name}", listener))
            await listen.ExecuteNonQueryAsync();
        var notifier = new TransitionsNotifier(_database.DataSource, NullLogger<TransitionsNotifier>.Instance);
        await notifier.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 100; i++)
                notifier.Committed();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Volatile.Read(ref notified) == 0 && DateTime.UtcNow < deadline)
                await listener.WaitAsync(TimeSpan.FromMilliseconds(200));
            // A hundred commits at once share their notifications: one, or one more for those that came during it.
            Assert.InRange(Volatile.Read(ref notified), 1, 2);
        }
        finally
        {
            await notifier.StopAsync(CancellationToken.None);
        }
    }
}
