using Bus.Hosting.Signals;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Data.SagaRepository;
using Npgsql;

namespace Bus.Scheduler.Data;

/// <summary>
/// Wakes every gateway's event feed (<c>LISTEN job_transitions</c>) once saga writes have committed: one
/// <c>NOTIFY</c> of its own after the commits, at most one every <see cref="MinInterval"/>, instead of one inside every
/// write. PostgreSQL makes a notifying transaction hold a database-wide lock across its commit's WAL flush, so a NOTIFY
/// in every saga write made those writes commit one at a time (0019_job_transitions_notify_after_commit.sql). The feeds
/// read the table for what is new and poll it every second besides: a notification lost with this process, or while
/// PostgreSQL is down, delays events by at most that second and loses none.
/// </summary>
public sealed class TransitionsNotifier(NpgsqlDataSource dataSource, ILogger<TransitionsNotifier> logger)
    : BackgroundService, ISagaWriteObserver
{
    /// <summary>Commits within this time of a notification share the next one; what an event may wait for it.</summary>
    static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(20);

    readonly WakeSignal _committed = new();

    /// <summary>Asks for a notification soon; commits before it is sent share it.</summary>
    public void Committed() => _committed.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await _committed.Wait(stoppingToken);
            try
            {
                await using var notify = dataSource.CreateCommand($"SELECT pg_notify('{TransitionsChannel.Name}', '')");
                await notify.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug("The event feeds were not notified ({Error}); they find the events on their next poll", e.Message);
            }
            await Task.Delay(MinInterval, stoppingToken);
        }
    }
}
