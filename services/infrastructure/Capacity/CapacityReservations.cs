using System.Diagnostics;
using Bus.Contracts;
using Bus.Infrastructure.Data;
using Bus.Infrastructure.Observability;
using Bus.Infrastructure.Redis;
using Microsoft.Extensions.Logging;

namespace Bus.Infrastructure.Capacity;

/// <summary>What taking capacity for an attempt on one worker came to.</summary>
/// <param name="Result">Why it was refused, or Reserved / AlreadyHeld.</param>
/// <param name="Holder">The worker the attempt holds an allocation on, when it holds one: usually the one asked for,
/// another when an earlier try of the same attempt was recorded there first.</param>
/// <param name="OnDatabase">Whether it was taken on PostgreSQL alone, Redis being down.</param>
public sealed record CapacityTaken(ReservationResult Result, string? Holder, bool OnDatabase);

/// <summary>
/// Takes capacity for a job attempt on one worker and records its allocation row, through Redis when it answers and
/// on PostgreSQL alone when it does not. Either way nothing is oversold:
/// <list type="bullet">
/// <item>Redis path: the Lua reservation checks the worker's counters, then the row is recorded only if those
/// counters are still current (their epoch, <see cref="AllocationStore.Record"/>). If they are not, because a
/// reservation was taken on the database meanwhile, the counters are rebuilt from the rows
/// (<see cref="LedgerRebuilder"/>, which also drops the unrecorded reservation) and the reservation is tried once
/// more, then on the database.</item>
/// <item>Database path (<see cref="DatabaseLedger"/>): the worker's row lock, a sum over its rows, the insert.</item>
/// </list>
/// Switching back needs nobody's help: once Redis answers, the first reservation on each worker the database moved
/// on finds its counters stale and rebuilds them, and a real worker's heartbeat rebuilds counters Redis lost.
/// </summary>
public sealed class CapacityReservations(
    CapacityLedger ledger,
    AllocationStore allocations,
    DatabaseLedger database,
    LedgerRebuilder rebuilder,
    RedisOutage outage,
    ILogger<CapacityReservations> logger)
{
    public async Task<CapacityTaken> Take(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        var started = Stopwatch.GetTimestamp();
        var taken = await TakeOnEither(workerId, jobId, attempt, resources, at);
        SchedulerInstruments.Reserved(Stopwatch.GetElapsedTime(started), taken.OnDatabase);
        return taken;
    }

    async Task<CapacityTaken> TakeOnEither(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        if (outage.ShouldTry)
        {
            try
            {
                var taken = await TakeThroughRedis(workerId, jobId, attempt, resources, at);
                outage.Succeeded();
                if (taken is not null)
                    return taken;
            }
            catch (Exception e) when (RedisOutage.IsOutage(e))
            {
                // A reservation Redis may have made before failing is not recorded, so it only overcounts until the
                // worker's counters are rebuilt or synced.
                outage.Failed(e);
            }
        }
        var (result, holder) = await database.Reserve(workerId, jobId, attempt, resources, at);
        return new CapacityTaken(result, holder, OnDatabase: true);
    }

    /// <summary>Null when the worker's counters stayed stale after a rebuild (the database keeps moving them on): take it there.</summary>
    async Task<CapacityTaken?> TakeThroughRedis(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at)
    {
        for (var tries = 0; tries < 2; tries++)
        {
            var reservation = await ledger.ReserveWithEpoch(workerId, jobId, attempt, resources);
            if (!reservation.Holds)
                return new CapacityTaken(reservation.Result, null, OnDatabase: false);

            var holder = await allocations.Record(jobId, attempt, workerId, resources, at, reservation.Epoch);
            if (holder is not null)
            {
                if (holder != workerId)
                    await ledger.Release(workerId, jobId, attempt); // an earlier try recorded the attempt elsewhere
                return new CapacityTaken(reservation.Result, holder, OnDatabase: false);
            }

            // The rebuild drops this unrecorded reservation with everything else the rows do not hold. Not released
            // through the release script: that would mark the attempt released, and a rebuild would then never restore
            // the row this same attempt is about to get, on the retry or on the database.
            logger.LogInformation("The Redis counters of worker {WorkerId} are behind the database; rebuilding them", workerId);
            await rebuilder.Rebuild(workerId);
        }
        return null;
    }
}
