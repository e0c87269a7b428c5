using System.Diagnostics;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Hosting.Options;
using Bus.Hosting.Signals;
using Bus.Hosting.Telemetry;
using Bus.Persistence.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Offers pending jobs to placement again, each offer a <see cref="PlaceJob"/> to the job's saga. Every read keeps
/// only jobs some worker could take (<see cref="PendingEligibility"/>) before it limits, and takes the head of each
/// tenant's queue (<see cref="PendingQueue"/>: effective priority, then oldest); the offers then alternate between
/// tenants by fair share (<see cref="FairShare"/>). Two kinds of pass:
/// <list type="bullet">
/// <item>An <b>event pass</b> when poked (the saga released an ended attempt, <see cref="ReleasePokesDispatcher"/>; a
/// worker joined, its registration taken by one instance), by the instance holding the event-pass lease
/// (<see cref="PlacementOptions.EventPassLease"/>; another one poked passes once it lapses). It takes a snapshot
/// newer than the poke, reads only pending jobs that could fit the free room it shows, and offers those that fit one
/// after another (backfill). Jobs this instance
/// offered within the last <see cref="PlacementOptions.OfferCooldown"/> are not offered again, nor those any instance
/// offered in that time (<see cref="PendingPassCoordinator.ClaimOffers"/>): with two instances, two events at once
/// would otherwise offer the same jobs twice, and lose half the saga writes to version conflicts.</item>
/// <item>A <b>periodic pass</b> every <see cref="SchedulerOptions.PendingRetryInterval"/>, run by one instance per
/// interval (a Redis lease). It offers the jobs that fit the snapshot, so nothing depends on an event arriving, the
/// jobs whose pending reason is out of date, so reasons stay current, and one probe per job slot (the first jobs
/// waiting for capacity, in case the snapshot is behind); any other job still waiting for the same reason is not
/// offered again and again. It also decides the capacity hold for a job that has waited too long
/// (<see cref="PlacementOptions.HoldCapacityAfter"/>). Jobs the read leaves out (no worker could take them) are looked
/// at only when the live workers change.</item>
/// </list>
/// A saga already placed ignores an offer, so an offer made twice by two instances costs one read, never a double
/// placement. Retry backoff is honoured: a job whose <c>not_before</c> is ahead is not read at all.
/// </summary>
public sealed class PendingJobDispatcher(
    JobQueries queries,
    IBus bus,
    IPlacementSnapshots snapshots,
    PendingPassCoordinator coordinator,
    IOptions<SchedulerOptions> options,
    LastKnownGood<PlacementOptions> placement,
    TimeProvider clock,
    JobLogScopes scopes,
    ILogger<PendingJobDispatcher> logger) : BackgroundService
{
    readonly WakeSignal _poke = new();
    // Jobs this instance offered lately, and when; touched only by the pass loop.
    readonly Dictionary<Guid, DateTimeOffset> _offered = [];
    // The workers that could take some job, as of the last periodic pass (PendingEligibility.Signature).
    string? _signature;
    int _pokeLaterArmed;

    /// <summary>Asks for a pass soon. Pokes that arrive during a pass fold into one more pass.</summary>
    public void Poke() => _poke.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PendingRetryInterval;
        var periodicDue = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var wait = periodicDue - clock.GetUtcNow();
                var poked = await _poke.Wait(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stoppingToken);
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
        var eligibility = PendingEligibility.Of(snapshot, freeRoomOnly: false);
        var read = eligibility is null ? PendingRead.None : await ReadPending(eligibility, eligible: true, "periodic", cancellationToken);
        var queue = PendingQueue.Order(read.Jobs, settings.AgingInterval);

        var hold = PendingQueue.ChooseHold(queue, snapshot, clock.GetUtcNow(), settings.HoldCapacityAfter);
        if (hold is not null)
        {
            // Renewed by every periodic pass while the job waits; lapses by itself once no pass renews it.
            await coordinator.WriteHold(hold, interval * 3);
            if (hold != snapshot.Hold)
                using (scopes.Begin(hold.JobId, attempt: null, hold.WorkerId))
                    logger.LogInformation("Holding capacity on {WorkerId} for job {JobId}, pending since {SubmittedAt:u}",
                    hold.WorkerId, hold.JobId, hold.SubmittedAt);
        }
        else if (snapshot.Hold is not null)
        {
            await coordinator.ClearHold();
        }

        // Offered: what fits now, tenants taking turns by fair share; then what waits with a reason that no longer
        // holds; then a few probes. Not offered again: the other jobs waiting with the reason placement would give
        // them anyway (full workers, no worker for the language), which a pass could only refuse again while a flood
        // of such offers won freed slots by numbers, ahead of the job fair share puts first.
        var batch = options.Value.PendingBatchSize;
        var fair = FairShare.Order(queue, read.Usage, settings.TenantShares, settings.AgingInterval);
        var offers = PendingQueue.Fitting(fair, snapshot, batch);
        var chosen = offers.Select(j => j.JobId).ToHashSet();
        offers.AddRange(PendingQueue.Outdated(fair.Where(j => !chosen.Contains(j.JobId)), snapshot, batch - offers.Count));
        chosen.UnionWith(offers.Select(j => j.JobId));
        // One real try per job slot of the ready workers, for the first jobs waiting for capacity, in case the
        // snapshot is behind: at most as many as could start now, so they cannot crowd out the job fair share puts first.
        var probes = snapshot.Workers.Where(w => w.Worker.IsReady).Sum(w => w.Worker.Registration.MaxConcurrentJobs);
        offers.AddRange(PendingQueue.Probes(fair.Where(j => !chosen.Contains(j.JobId)), snapshot, Math.Min(probes, batch - offers.Count)));

        var signature = eligibility?.Signature ?? "";
        if (signature != _signature)
        {
            // The workers changed: the jobs the read leaves out (no worker offers their service and language, or none
            // is big enough) are looked at once, so that their pending reasons say why; until the next change, never.
            var left = await ReadPending(eligibility, eligible: false, "refresh", cancellationToken);
            offers.AddRange(PendingQueue.Outdated(left.Jobs, snapshot, batch));
            _signature = signature;
        }
        await Offer(offers, cancellationToken);
    }

    async Task EventPass(DateTimeOffset pokedAt, CancellationToken cancellationToken)
    {
        if (await coordinator.LeadEventPasses(placement.CurrentValue.EventPassLease) is { } othersLeaseLeft)
        {
            // Another instance runs the passes, and renews its lease with each. Look again once the lease lapses: by
            // then that instance has passed again, or gone quiet, and this one passes itself. A freed slot whose event
            // came here waits at most that long.
            PokeLater(othersLeaseLeft + TimeSpan.FromMilliseconds(1));
            return;
        }
        // The event says capacity changed: a snapshot from before it would not show the change.
        var snapshot = await snapshots.Fresh(pokedAt);
        var eligibility = PendingEligibility.Of(snapshot, freeRoomOnly: true);
        if (eligibility is null)
            return; // no worker has a free slot: nothing could be placed

        var settings = placement.CurrentValue;
        var cooldown = settings.OfferCooldown;
        Forget(older: pokedAt - cooldown);
        var read = await ReadPending(eligibility, eligible: true, "event", cancellationToken);
        var pending = PendingQueue.Order(read.Jobs, settings.AgingInterval);
        var queue = FairShare.Order(pending.Where(j => !_offered.ContainsKey(j.JobId)).ToList(), read.Usage, settings.TenantShares, settings.AgingInterval);
        var fitting = PendingQueue.Fitting(queue, snapshot, options.Value.PendingBatchSize);
        // Another instance, woken by another event, may be offering the same head of the queue right now.
        var offers = await coordinator.ClaimOffers(fitting, cooldown);
        // An offer may lose its capacity to another placement, and jobs left alone because they were just offered may
        // have lost theirs. No event may follow (the cluster may go quiet, and the periodic pass offers only the head
        // of the queue, which a backlog of jobs that fit nowhere can fill), so look again once the cooldown is over.
        if (fitting.Count > 0 || queue.Count < pending.Count)
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

    /// <summary>Pending jobs as read, and the CPUs each of their tenants has Allocated or Running (for fair share).</summary>
    sealed record PendingRead(List<PendingJob> Jobs, Dictionary<string, long> Usage)
    {
        public static PendingRead None => new([], []);
    }

    /// <summary>
    /// The head of each tenant's pending queue, at most <see cref="SchedulerOptions.PendingBatchSize"/> jobs a tenant,
    /// so no tenant's backlog fills the batch for all. With <paramref name="eligible"/>, only jobs <paramref name="filter"/>
    /// admits (a service and language some worker offers, no bigger than it): filtered before the limit, so jobs no
    /// worker could take never hide the ones behind them. Without, only the jobs it leaves out (all, when null).
    /// </summary>
    async Task<PendingRead> ReadPending(PendingEligibility? filter, bool eligible, string pass, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var jobs = await queries.Pending(filter?.Filter, admitted: eligible, options.Value.PendingBatchSize,
            placement.CurrentValue.AgingInterval.TotalSeconds, cancellationToken);
        // Use matters only between tenants: one tenant waiting has nobody to share with.
        var usage = eligible && jobs.Select(j => j.Tenant).Distinct().Skip(1).Any()
            ? await queries.CpusOnWorkersByTenant(cancellationToken)
            : [];
        // What the pending queue costs each pass as it grows: the scale benchmark reads these lines.
        logger.LogDebug("Pending read ({Pass} pass): {Count} jobs in {Milliseconds:F3} ms",
            pass, jobs.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new PendingRead(jobs, usage);
    }
}
