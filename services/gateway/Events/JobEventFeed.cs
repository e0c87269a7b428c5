using System.Collections.Concurrent;
using System.Threading.Channels;
using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Gateway.Events;

/// <summary>
/// One reader of <c>job_transitions</c> per gateway, shared by every open stream: it waits on PostgreSQL's
/// <c>NOTIFY job_transitions</c> (<see cref="TransitionsChannel"/>: the scheduler sends it after its writes commit, at
/// most one every 20 ms), reads what is new in stream order, and hands each event to the streams that want it. So a
/// change made through any gateway, by any scheduler, reaches every gateway's clients, and a thousand open streams
/// cost one query per change, not a thousand. With no stream open it reads nothing (it was six reads a job under load,
/// for nobody); the first stream to open moves the feed to the present, and replays what came before from the table
/// itself.
/// </summary>
public sealed class JobEventFeed(JobEventStore store, NpgsqlDataSource dataSource, ILogger<JobEventFeed> logger) : BackgroundService
{
    /// <summary>How long a stream may fall behind before it is closed; its client resumes from the table.</summary>
    const int StreamBuffer = 1000;

    // Re-read at least this often: a transition held back by a long transaction elsewhere (below the horizon) becomes
    // readable without a notification of its own.
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    readonly ConcurrentDictionary<Subscription, byte> _subscriptions = new();
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Held while the cursor moves: by a delivery, or by the first subscriber bringing an idle feed to the present.
    readonly SemaphoreSlim _gate = new(1, 1);
    EventCursor _cursor;
    bool _idle = true;

    /// <summary>
    /// Live events of one tenant (or one of its jobs), from the feed's position when it is made. A stream subscribes
    /// first, then replays the table from its own cursor: the replay reaches at least that position, so together they
    /// miss nothing, and the stream drops what it has seen twice by cursor (<see cref="JobEventStream"/>).
    /// </summary>
    public async Task<Subscription> Subscribe(string tenant, Guid? jobId, CancellationToken cancellationToken)
    {
        await _started.Task.WaitAsync(cancellationToken);
        var subscription = new Subscription(this, tenant, jobId);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Idle, the feed skipped what came since; the stream's replay reads it from the table (up to at least here).
            if (_idle)
                (_cursor, _idle) = (await store.Now(cancellationToken), false);
            _subscriptions[subscription] = 0;
        }
        finally
        {
            _gate.Release();
        }
        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                var notified = 0;
                connection.Notification += (_, _) => Interlocked.Exchange(ref notified, 1);
                await using (var listen = new NpgsqlCommand($"LISTEN {TransitionsChannel.Name}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                _started.TrySetResult();
                try
                {
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        if (await Deliver(stoppingToken) == 0 && Interlocked.Exchange(ref notified, 0) == 0)
                            await connection.WaitAsync(PollInterval, stoppingToken);
                    }
                }
                finally
                {
                    // The connection goes back to the pool, which does not reset sessions (WithPoolDefaults).
                    if (connection.State == System.Data.ConnectionState.Open)
                    {
                        await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                        await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
                    }
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // PostgreSQL is away: streams stay open and catch up from the cursor once it answers again.
                logger.LogWarning("The job event feed lost PostgreSQL ({Error}); retrying", e.Message);
                await Task.Delay(PollInterval, stoppingToken);
            }
        }
    }

    /// <summary>Reads one batch after the cursor and hands it out; returns how many events it read (none when idle).</summary>
    async Task<int> Deliver(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_subscriptions.IsEmpty)
            {
                _idle = true;
                return 0;
            }
            var batch = await store.After(_cursor, null, null, 500, cancellationToken);
            foreach (var stored in batch)
            {
                foreach (var subscription in _subscriptions.Keys)
                    subscription.Offer(stored);
                _cursor = stored.Cursor;
            }
            return batch.Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One open stream's share of the feed; dispose it when the stream ends.</summary>
    public sealed class Subscription : IDisposable
    {
        readonly JobEventFeed _feed;
        readonly string _tenant;
        readonly Guid? _jobId;
        readonly Channel<StoredJobEvent> _events = Channel.CreateBounded<StoredJobEvent>(StreamBuffer);

        internal Subscription(JobEventFeed feed, string tenant, Guid? jobId) => (_feed, _tenant, _jobId) = (feed, tenant, jobId);

        public ChannelReader<StoredJobEvent> Events => _events.Reader;

        internal void Offer(StoredJobEvent stored)
        {
            if (stored.Tenant != _tenant || (_jobId is { } jobId && stored.Event.JobId != jobId))
                return;
            // A client too slow to keep up is cut off rather than buffered without bound; it resumes from the table.
            if (!_events.Writer.TryWrite(stored))
                _events.Writer.TryComplete(new InvalidOperationException("the stream fell too far behind"));
        }

        public void Dispose()
        {
            _feed._subscriptions.TryRemove(this, out _);
            _events.Writer.TryComplete();
        }
    }
}
