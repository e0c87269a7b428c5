using Bus.Contracts;

namespace Bus.Capacity.Ledger;

/// <summary>What taking capacity for an attempt on one worker came to.</summary>
/// <param name="Result">Why it was refused, or Reserved / AlreadyHeld.</param>
/// <param name="Holder">The worker the attempt holds an allocation on, when it holds one: usually the one asked for,
/// another when an earlier try of the same attempt was recorded there first.</param>
/// <param name="OnDatabase">Whether it was taken on PostgreSQL alone, Redis being down.</param>
public sealed record CapacityTaken(ReservationResult Result, string? Holder, bool OnDatabase);

/// <summary>
/// The no-oversell ledger: every path that takes or gives back capacity on a worker goes through it, in every service.
/// Its invariants (no oversell, who writes which key and table, the epoch fence, what repair and rebuild restore) are
/// written once, in this folder's README.md. Redis outages are handled inside, by the process's
/// <see cref="Redis.RedisOutagePolicy"/>; only <see cref="Rebuild"/>, <see cref="Repair"/> and <see cref="HeldInRedis"/>,
/// which mean nothing without Redis, let an outage through to the caller.
/// </summary>
public interface ICapacityLedger
{
    /// <summary>
    /// Takes capacity for an attempt on a worker and records its allocation row: through Redis and the epoch fence
    /// while Redis answers, on PostgreSQL alone while it does not. All or nothing; repeating it changes nothing.
    /// </summary>
    Task<CapacityTaken> Take(string workerId, Guid jobId, int attempt, ResourceVector resources, DateTimeOffset at);

    /// <summary>
    /// The worker gives an attempt's Redis reservation back, before it reports the end; the scheduler gives it back
    /// again, for a worker whose own give-back failed, and releases the row in the saga write that records the end
    /// (<see cref="DatabaseLedger.Release(Npgsql.NpgsqlConnection, Npgsql.NpgsqlTransaction, IEnumerable{AllocationRelease}, CancellationToken)"/>).
    /// While Redis is down nothing is given back: the counters then count too much, which is safe, until they are
    /// rebuilt or repaired.
    /// </summary>
    Task GiveBack(string workerId, Guid jobId, int attempt);

    /// <summary>
    /// Releases every attempt of a job still holding a row but those of <paramref name="except"/> (released by the
    /// caller's own transaction), the rows first; returns what it released.
    /// </summary>
    Task<IReadOnlyList<(int Attempt, string WorkerId)>> ReleaseAll(Guid jobId, DateTimeOffset at, IReadOnlyCollection<int> except);

    /// <summary>
    /// Rebuilds one worker's Redis counters from its rows, under a new epoch. False when the worker has no row in
    /// <c>workers</c> to rebuild from.
    /// </summary>
    Task<bool> Rebuild(string workerId, CancellationToken cancellationToken = default);

    /// <summary>The reservations Redis holds for one worker, for a repair to compare with the rows.</summary>
    Task<IReadOnlyList<Reservation>> HeldInRedis(string workerId);

    /// <summary>
    /// Restores and removes Redis reservations as the rows say, and recounts the worker's counters. Returns how many
    /// counters were wrong.
    /// </summary>
    Task<int> Repair(string workerId, IReadOnlyCollection<Reservation> restore, IReadOnlyCollection<Reservation> remove);

    /// <summary>
    /// The GPU device ids the attempt's Redis reservation bound, or null when Redis holds none for it (it was taken on
    /// PostgreSQL, Redis lost it, or Redis is down).
    /// </summary>
    Task<string[]?> BoundGpus(string workerId, Guid jobId, int attempt);
}
