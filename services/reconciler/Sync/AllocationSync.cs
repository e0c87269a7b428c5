using System.Diagnostics.Metrics;
using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Reconciler.Jobs;
using Quartz;

namespace Bus.Reconciler.Sync;

/// <summary>What one sync run found and did.</summary>
/// <param name="Suspected">Differences seen for the first time, left alone until the next run confirms them.</param>
/// <param name="Restored">Reservations PostgreSQL has and Redis had lost, put back.</param>
/// <param name="Removed">Reservations Redis held with no allocation in PostgreSQL, removed.</param>
/// <param name="CountersCorrected">Counters that disagreed with the reservations they sum.</param>
/// <param name="Skipped">Redis was down, so nothing was compared or repaired this run.</param>
public sealed record SyncReport(int Workers, int Suspected, int Restored, int Removed, int CountersCorrected, bool Skipped = false)
{
    public int Drift => Restored + Removed + CountersCorrected;
}

/// <summary>
/// The drift each sync run repaired, as counters on the <c>Bus.Reconciler</c> meter, so drift can be graphed and
/// alerted on rather than searched for in logs.
/// </summary>
public sealed class SyncMetrics
{
    public const string MeterName = "Bus.Reconciler";

    readonly Counter<long> _restored;
    readonly Counter<long> _removed;
    readonly Counter<long> _countersCorrected;

    public SyncMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _restored = meter.CreateCounter<long>("bus.reconciler.sync.restored", "{reservation}", "Reservations Redis had lost, restored from PostgreSQL");
        _removed = meter.CreateCounter<long>("bus.reconciler.sync.removed", "{reservation}", "Reservations in Redis with no allocation in PostgreSQL, removed");
        _countersCorrected = meter.CreateCounter<long>("bus.reconciler.sync.counters_corrected", "{counter}", "Worker counters that disagreed with their reservations");
    }

    public void Record(SyncReport report)
    {
        _restored.Add(report.Restored);
        _removed.Add(report.Removed);
        _countersCorrected.Add(report.CountersCorrected);
    }
}

/// <summary>
/// Makes Redis agree with PostgreSQL, the source of truth. Placement writes Redis a moment before
/// PostgreSQL, and a finishing worker releases Redis a moment before the scheduler marks the row released,
/// so a difference seen once may be a write in flight. Only a difference seen by two runs in a row is repaired.
/// One instance is kept per process, so it remembers the previous run's suspects.
/// </summary>
/// <param name="metrics">Where drift is counted; the service always has it, tests that only check repairs may pass none.</param>
public sealed class AllocationSync(
    AllocationStore allocations,
    ICapacityLedger ledger,
    WorkerRegistry registry,
    RedisOutagePolicy outage,
    ILogger<AllocationSync> logger,
    SyncMetrics? metrics = null) : IReconcilerTask
{
    public static JobKey Key { get; } = new("allocation-sync", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    HashSet<(string Worker, Reservation Reservation, bool InRedisOnly)> _suspects = [];

    /// <summary>One run; while Redis is down there is nothing to repair, so the run is skipped.</summary>
    public Task<SyncReport> Run(CancellationToken cancellationToken) =>
        outage.Run(() => Repair(cancellationToken), onOutage: new SyncReport(0, 0, 0, 0, 0, Skipped: true));

    async Task<SyncReport> Repair(CancellationToken cancellationToken)
    {
        var truth = (await allocations.Active(cancellationToken))
            .ToLookup(a => a.WorkerId, a => new Reservation(a.JobId, a.Attempt, a.Resources));
        var workers = truth.Select(g => g.Key)
            .Union((await registry.ListLive()).Select(w => w.WorkerId))
            .ToList();

        var seen = new HashSet<(string, Reservation, bool)>();
        int restored = 0, removed = 0, corrected = 0;
        foreach (var worker in workers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var inDb = truth[worker].ToHashSet();
            var inRedis = (await ledger.HeldInRedis(worker)).ToHashSet();
            var differences = inRedis.Except(inDb).Select(r => (worker, r, true))
                .Concat(inDb.Except(inRedis).Select(r => (worker, r, false)))
                .ToList();
            var confirmed = differences.Where(_suspects.Contains).ToList();
            seen.UnionWith(differences.Except(confirmed));

            var restore = confirmed.Where(d => !d.Item3).Select(d => d.r).ToList();
            var remove = confirmed.Where(d => d.Item3).Select(d => d.r).ToList();
            corrected += await ledger.Repair(worker, restore, remove);
            restored += restore.Count;
            removed += remove.Count;
        }
        _suspects = seen;

        var report = new SyncReport(workers.Count, seen.Count, restored, removed, corrected);
        metrics?.Record(report);
        if (report.Drift > 0)
            logger.LogWarning("Allocation sync repaired drift: {Restored} restored, {Removed} removed, {Corrected} counters corrected over {Workers} workers",
                restored, removed, corrected, workers.Count);
        else
            logger.LogInformation("Allocation sync: no drift over {Workers} workers ({Suspected} differences to recheck)", workers.Count, seen.Count);
        return report;
    }
}
