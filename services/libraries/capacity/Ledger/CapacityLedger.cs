using System.Diagnostics;
using Bus.Capacity.Redis;
using Bus.Contracts;
using Microsoft.Extensions.Logging;

namespace Bus.Capacity.Ledger;

/// <summary>
/// The ledger (<see cref="ICapacityLedger"/>) over its two halves: the Lua counters in Redis (<see cref="RedisCounters"/>)
/// and the allocation rows in PostgreSQL (<see cref="DatabaseLedger"/>). Taking capacity never oversells either way:
/// <list type="bullet">
/// <item>Redis path: the Lua reservation checks the worker's counters, then the row is recorded only if those
/// counters are still current (their epoch, <see cref="DatabaseLedger.Record"/>). If they are not, because a
/// reservation was taken on the database meanwhile, the counters are rebuilt from the rows
/// (<see cref="LedgerRebuilder"/>, which also drops the unrecorded reservation) and the reservation is tried once
/// more, then on the database.</item>
/// <item>Database path (<see cref="DatabaseLedger.Reserve"/>): the worker's row lock, a sum over its rows, the insert.</item>
/// </list>
/// Switching back needs nobody's help: once Redis answers, the first reservation on each worker the database moved
/// on finds its counters stale and rebuilds them, and a real worker's heartbeat rebuilds counters Redis lost.
/// </summary>
public sealed class CapacityLedger(
    RedisCounters counters,
    DatabaseLedger database,
    LedgerRebuilder rebuilder,
    RedisOutagePolicy outage,
    ILogger<CapacityLedger> logger) : ICapacityLedger
{
    public async Task<CapacityTaken> Take(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        var started = Stopwatch.GetTimestamp();
        // A reservation Redis may have made before failing is not recorded, so it only overcounts until the worker's
        // counters are rebuilt or synced.
        var taken = await outage.Run(
            async () => await TakeThroughRedis(workerId, jobId, attempt, resources, at) ?? await TakeOnDatabase(workerId, jobId, attempt, resources, at),
            () => TakeOnDatabase(workerId, jobId, attempt, resources, at));
        LedgerInstruments.Reserved(Stopwatch.GetElapsedTime(started), taken.OnDatabase);
        return taken;
    }

    async Task<CapacityTaken> TakeOnDatabase(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        var (result, holder) = await database.Reserve(workerId, jobId, attempt, resources, at);
        return new CapacityTaken(result, holder, OnDatabase: true);
    }

    /// <summary>Null when the worker's counters stayed stale after a rebuild (the database keeps moving them on): take it there.</summary>
    async Task<CapacityTaken?> TakeThroughRedis(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        for (var tries = 0; tries < 2; tries++)
        {
            var reservation = await counters.ReserveWithEpoch(workerId, jobId, attempt, resources);
            if (!reservation.Holds)
                return new CapacityTaken(reservation.Result, null, OnDatabase: false);

            var holder = await database.Record(jobId, attempt, workerId, resources, at, reservation.Epoch);
            if (holder is not null)
            {
                if (holder != workerId)
                    await counters.Release(workerId, jobId, attempt); // an earlier try recorded the attempt elsewhere
                return new CapacityTaken(reservation.Result, holder, OnDatabase: false);
            }

            // The rebuild drops this unrecorded reservation with everything else the rows do not hold. Not released
            // through the release script: that would mark the attempt released, and a rebuild would then never restore
            // the row this same attempt is about to get, on the retry or on the database. Counters another scheduler
            // rebuilt meanwhile are current, and dropped it already: they are used as they are.
            logger.LogDebug("The Redis counters of worker {WorkerId} were behind the database; rebuilding them unless done meanwhile", workerId);
            await rebuilder.Rebuild(workerId, onlyIfBehind: true);
        }
        return null;
    }

    public Task GiveBack(string workerId, Guid jobId, int attempt) =>
        outage.Run(() => counters.Release(workerId, jobId, attempt));

    public async Task<IReadOnlyList<(int Attempt, string WorkerId)>> ReleaseAll(Guid jobId, DateTimeOffset at, IReadOnlyCollection<int> except)
    {
        // The rows first, then Redis: in between Redis counts too much, which is safe.
        var released = await database.ReleaseAll(jobId, at, except);
        foreach (var (attempt, workerId) in released)
            await GiveBack(workerId, jobId, attempt);
        return released;
    }

    public Task<bool> Rebuild(string workerId, CancellationToken cancellationToken = default) =>
        rebuilder.Rebuild(workerId, cancellationToken);

    public Task<IReadOnlyList<Reservation>> HeldInRedis(string workerId) => counters.Reservations(workerId);

    public Task<int> Repair(string workerId, IReadOnlyCollection<Reservation> restore, IReadOnlyCollection<Reservation> remove) =>
        counters.Repair(workerId, restore, remove);

    public Task<string[]?> BoundGpus(string workerId, Guid jobId, int attempt) =>
        outage.Run(() => counters.BoundGpus(workerId, jobId, attempt), onOutage: (string[]?)null);
}
