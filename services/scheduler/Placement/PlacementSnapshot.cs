using System.Collections.Frozen;
using Bus.Capacity.Workers;
using Bus.Contracts;

namespace Bus.Scheduler.Placement;

/// <summary>A live worker as placement sees it: its registration and load, and the pools it belongs to.</summary>
public sealed record PooledWorker(WorkerSnapshot Worker, IReadOnlyList<string> Pools)
{
    public string WorkerId => Worker.WorkerId;
}

/// <summary>
/// The one job placement keeps capacity for (see <see cref="PlacementOptions.HoldCapacityAfter"/>): a job ranked
/// below it may take room on <paramref name="WorkerId"/> only if the held job would still fit there.
/// </summary>
public sealed record CapacityHold(Guid JobId, int Priority, DateTimeOffset SubmittedAt, ResourceVector Need, string WorkerId);

/// <summary>The settings a selection depends on, taken from the options when the snapshot was built.</summary>
public sealed record PlacementPolicy(BalancingStrategy Balancing, TimeSpan AgingInterval)
{
    public static PlacementPolicy Default { get; } = new(BalancingStrategy.PowerOfTwoChoices, TimeSpan.FromMinutes(1));
}

/// <summary>
/// Everything placement reads, frozen at one moment: live workers with their load, the pools compiled from
/// configuration, the (worker, service) pairs reported unavailable, and the capacity hold. Built in the background and
/// published by swapping one reference, so readers take no lock; nothing in it changes after it is built.
/// </summary>
public sealed record PlacementSnapshot(
    IReadOnlyList<PooledWorker> Workers,
    PoolSet Pools,
    FrozenDictionary<(string WorkerId, string Service), DateTimeOffset> Unavailable,
    CapacityHold? Hold,
    PlacementPolicy Policy,
    DateTimeOffset TakenAt)
{
    public static PlacementSnapshot Empty { get; } = Create([], PoolSet.Empty, [], null, PlacementPolicy.Default, DateTimeOffset.MinValue);

    public static PlacementSnapshot Create(
        IEnumerable<WorkerSnapshot> workers,
        PoolSet pools,
        IEnumerable<UnavailableService> unavailable,
        CapacityHold? hold,
        PlacementPolicy policy,
        DateTimeOffset takenAt) =>
        new(workers.Select(w => new PooledWorker(w, pools.Membership(w.Registration))).ToList(),
            pools, unavailable.DistinctBy(u => (u.WorkerId, u.Service)).ToFrozenDictionary(u => (u.WorkerId, u.Service), u => u.Until), hold, policy, takenAt);

    public bool IsUnavailable(string workerId, string service) => Unavailable.ContainsKey((workerId, service));

    /// <summary>When the worker's report that the service is unavailable lapses; null when it made none.</summary>
    public DateTimeOffset? UnavailableUntil(string workerId, string service) =>
        Unavailable.TryGetValue((workerId, service), out var until) ? until : null;

    /// <summary>The same snapshot with <paramref name="need"/> and one job slot taken on one worker; for planning ahead.</summary>
    public PlacementSnapshot WithReserved(string workerId, ResourceVector need) => this with
    {
        Workers = Workers.Select(w => w.WorkerId != workerId ? w : w with
        {
            Worker = w.Worker with
            {
                Used = new ResourceVector(w.Worker.Used.Cpus + need.Cpus, w.Worker.Used.MemoryMb + need.MemoryMb, w.Worker.Used.Gpus + need.Gpus),
                RunningJobs = w.Worker.RunningJobs + 1,
            },
        }).ToList(),
    };
}

/// <summary>
/// The pending queue's order: higher effective priority first, then older first. Effective priority is the priority
/// plus one point per <see cref="PlacementPolicy.AgingInterval"/> waited, so every job eventually reaches the front.
/// </summary>
public static class QueueOrder
{
    public static double EffectivePriority(int priority, DateTimeOffset submittedAt, DateTimeOffset now, TimeSpan aging) =>
        priority + Math.Max(0, (now - submittedAt) / aging);

    /// <summary>
    /// Negative when job a ranks before job b. Both jobs age at the same rate, so their order never changes with
    /// time: it is the order of priority × aging − submittedAt, computed exactly in ticks.
    /// </summary>
    public static int Compare(int priorityA, DateTimeOffset submittedA, Guid idA, int priorityB, DateTimeOffset submittedB, Guid idB, TimeSpan aging)
    {
        var byRank = Key(priorityB, submittedB, aging).CompareTo(Key(priorityA, submittedA, aging));
        if (byRank != 0)
            return byRank;
        var byAge = submittedA.CompareTo(submittedB);
        return byAge != 0 ? byAge : idA.CompareTo(idB);
    }

    static long Key(int priority, DateTimeOffset submittedAt, TimeSpan aging) => priority * aging.Ticks - submittedAt.UtcTicks;
}
