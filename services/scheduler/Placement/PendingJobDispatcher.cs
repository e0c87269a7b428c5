using System.Diagnostics;
using Bus.Contracts;
using Bus.Infrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Offers pending jobs to placement again, each offer a <see cref="PlaceJob"/> to the job's saga, in queue order:
/// effective priority (priority plus aging), then oldest (<see cref="PendingQueue"/>). Two kinds of pass:
/// <list type="bullet">
/// <item>An <b>event pass</b> when poked (a job ended, a worker joined; each event reaches one instance, the
/// capacity-changed queue has competing consumers). It takes a snapshot newer than the poke, reads only pending jobs
/// that could fit the free room it shows, and offers those that fit one after another (backfill). Jobs this instance
/// offered within the last <see cref="SchedulerOptions.PendingRetryInterval"/> are not offered again.</item>
/// <item>A <b>periodic pass</b> every <see cref="SchedulerOptions.PendingRetryInterval"/>, run by one instance per
/// interval (a Redis lease). It offers the head of the queue whatever the snapshot says, so pending reasons stay
/// current and nothing depends on an event arriving, and it decides the capacity hold for a job that has waited too
/// long (<see cref="PlacementOptions.HoldCapacityAfter"/>).</item>
/// </list>
/// A saga already placed ignores an offer, so an offer made twice by two instances costs one read, never a double
/// placement. Retry backoff is honoured: a job whose <c>not_before</c> is ahead is not read at all.
/// </summary>
public sealed class PendingJobDispatcher(
    NpgsqlDataSource dataSource,
    IBus bus,
    IPlacementSnapshots snapshots,
    PendingPassCoordinator coordinator,
    IOptions<SchedulerOptions> options,
    IOptionsMonitor<PlacementOptions> placement,
    TimeProvider clock,
    ILogger<PendingJobDispatcher> logger) : BackgroundService
{
    readonly SemaphoreSlim _poke = new(0, 1);
    // Jobs this instance offered lately, and when; touched only by the pass loop.
    readonly Dictionary<Guid, DateTimeOffset> _offered = [];
    int _pokeLaterArmed;

    /// <summary>Asks for a pass soon. Pokes that arrive during a pass fold into one more pass.</summary>
    public void Poke()
    {
        if (_poke.CurrentCount == 0)
        {
            try { _poke.Release(); }
            catch (SemaphoreFullException) { } // another poke got there first: one pass is enough
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PendingRetryInterval;
        var periodicDue = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var wait = periodicDue - clock.GetUtcNow();
                var poked = await _poke.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken);
                var now = clock.GetUtcNow();
                if (now >= periodicDue)
                {
                    periodicDue = now + interval;
                    await PeriodicPass(interval, stoppingToken);
                }
                else if (poked)
                {
                    await EventPass(now, stoppingToken);
                }
                // Events can come faster than passes are worth running: coalesce them.
                await Task.Delay(placement.CurrentValue.MinPassInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Offering pending jobs failed; trying again at the next event or in {Interval}", interval);
            }
        }
    }

    async Task PeriodicPass(TimeSpan interval, CancellationToken cancellationToken)
    {
        // The lease runs out a little before the next pass is due, so any instance may take the next one.
        if (!await coordinator.TryLead(interval * 0.9))
            return;
        var settings = placement.CurrentValue;
        Forget(older: clock.GetUtcNow() - interval);
        var snapshot = await snapshots.Current();
        var queue = PendingQueue.Order(await ReadPending(room: null, cancellationToken), settings.AgingInterval);

        var hold = PendingQueue.ChooseHold(queue, snapshot, clock.GetUtcNow(), settings.HoldCapacityAfter);
        if (hold is not null)
        {
            // Renewed by every periodic pass while the job waits; lapses by itself once no pass renews it.
            await coordinator.WriteHold(hold, interval * 3);
            if (hold != snapshot.Hold)
                logger.LogInformation("Holding capacity on {WorkerId} for job {JobId}, pending since {SubmittedAt:u}",
                    hold.WorkerId, hold.JobId, hold.SubmittedAt);
        }
        else if (snapshot.Hold is not null)
        {
            await coordinator.ClearHold();
        }

        await Offer(queue, cancellationToken);
    }

    async Task EventPass(DateTimeOffset pokedAt, CancellationToken cancellationToken)
    {
        // The event says capacity changed: a snapshot from before it would not show the change.
        var snapshot = await snapshots.Fresh(pokedAt);
        var room = Room.Of(snapshot);
        if (room is null)
            return; // no worker has a free slot: nothing could be placed

        var cooldown = placement.CurrentValue.OfferCooldown;
        Forget(older: pokedAt - cooldown);
        var pending = PendingQueue.Order(await ReadPending(room, cancellationToken), placement.CurrentValue.AgingInterval);
        var queue = pending.Where(j => !_offered.ContainsKey(j.JobId)).ToList();
        var offers = PendingQueue.Fitting(queue, snapshot, options.Value.PendingBatchSize);
        // An offer may lose its capacity to another placement, and jobs left alone because they were just offered may
        // have lost theirs. No event may follow (the cluster may go quiet, and the periodic pass offers only the head
        // of the queue, which a backlog of jobs that fit nowhere can fill), so look again once the cooldown is over.
        if (offers.Count > 0 || queue.Count < pending.Count)
            PokeLater(cooldown);
        await Offer(offers, cancellationToken);
    }

    /// <summary>One poke after <paramref name="delay"/>; asking again before it fires changes nothing.</summary>
    void PokeLater(TimeSpan delay)
    {
        if (Interlocked.Exchange(ref _pokeLaterArmed, 1) == 1)
            return;
        _ = Task.Delay(delay, clock).ContinueWith(_ =>
        {
            Volatile.Write(ref _pokeLaterArmed, 0);
            Poke();
        }, TaskScheduler.Default);
    }

    async Task Offer(IReadOnlyList<PendingJob> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Count == 0)
            return;
        var saga = await bus.GetSendEndpoint(QueueNames.JobSagaAddress);
        await saga.SendBatch(jobs.Select(j => new PlaceJob(j.JobId)), cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var job in jobs)
            _offered[job.JobId] = now;
        logger.LogDebug("Offered {Count} pending jobs to placement", jobs.Count);
    }

    void Forget(DateTimeOffset older)
    {
        foreach (var (jobId, at) in _offered)
            if (at < older)
                _offered.Remove(jobId);
    }

    /// <summary>
    /// The head of the pending queue, at most <see cref="SchedulerOptions.PendingBatchSize"/> jobs; with
    /// <paramref name="room"/>, only jobs no bigger than the largest free room and of a service a worker with a free
    /// slot offers, so jobs that cannot fit anyway do not fill the batch and hide smaller ones behind them.
    /// </summary>
    async Task<List<PendingJob>> ReadPending(Room? room, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var filter = room is null ? "" : "AND cpus <= $3 AND memory_mb <= $4 AND gpus <= $5 AND service = ANY($6)";
        // Ordered here as well as in PendingQueue.Order, so the LIMIT keeps the head of the queue.
        await using var command = dataSource.CreateCommand($"""
            SELECT job_id, tenant, service, cpus, memory_mb, gpus, language, pool, exclude_worker, affinity_key, priority, submitted_at
            FROM jobs
            WHERE current_state = 'Pending' AND (not_before IS NULL OR not_before <= now()) {filter}
            ORDER BY priority + EXTRACT(EPOCH FROM now() - submitted_at)::float8 / $2 DESC, submitted_at
            LIMIT $1
            """);
        command.Parameters.AddWithValue(options.Value.PendingBatchSize);
        command.Parameters.AddWithValue(placement.CurrentValue.AgingInterval.TotalSeconds);
        if (room is not null)
        {
            command.Parameters.AddWithValue(room.Cpus);
            command.Parameters.AddWithValue(room.MemoryMb);
            command.Parameters.AddWithValue(room.Gpus);
            command.Parameters.AddWithValue(room.Services);
        }

        var jobs = new List<PendingJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            jobs.Add(new PendingJob(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
                new ResourceVector(reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5)),
                new PlacementConstraints(Text(6), Text(7), Text(8), Text(9)),
                reader.GetInt32(10), reader.GetFieldValue<DateTimeOffset>(11)));
        }
        // What the pending queue costs each pass as it grows: the scale benchmark reads these lines.
        logger.LogDebug("Pending read ({Pass} pass): {Count} jobs in {Milliseconds:F3} ms",
            room is null ? "periodic" : "event", jobs.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return jobs;
    }

    /// <summary>The most any one job could get right now: per resource, the most free on a ready worker with a free slot.</summary>
    sealed record Room(int Cpus, int MemoryMb, int Gpus, string[] Services)
    {
        public static Room? Of(PlacementSnapshot snapshot)
        {
            var open = snapshot.Workers.Select(w => w.Worker)
                .Where(w => w.IsReady && w.RunningJobs < w.Registration.MaxConcurrentJobs)
                .ToList();
            return open.Count == 0 ? null : new Room(
                open.Max(w => w.Free.Cpus), open.Max(w => w.Free.MemoryMb), open.Max(w => w.Free.Gpus),
                open.SelectMany(w => w.Registration.Services).Distinct().ToArray());
        }
    }
}
