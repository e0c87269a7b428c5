namespace Bus.Scheduler;

/// <summary>
/// How placement chooses workers and orders the pending queue. Bound from the <c>Placement</c> section through
/// <c>IOptionsMonitor</c>: a change to <c>appsettings.json</c> (pools above all) takes effect at the next snapshot,
/// without a restart. Every reader goes through <c>LastKnownGood</c>, so a change that fails validation is logged
/// once and ignored, and the last valid options stay in force. The pools (<see cref="WorkerPoolsOptions.Pools"/>) are shared with the gateway, which shows
/// them and must be given the same list; the settings below are the scheduler's alone. See <c>docs/placement.md</c>.
/// </summary>
public sealed class PlacementOptions : WorkerPoolsOptions
{
    /// <summary>
    /// How often the placement snapshot (live workers, pools, unavailable services, the capacity hold) is rebuilt in
    /// the background. Placement reads only the snapshot, so this bounds how stale its view is; the Lua reservation
    /// catches what a stale view gets wrong. Default 300 ms.
    /// </summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>How placement spreads load inside a pool. Default <see cref="BalancingStrategy.PowerOfTwoChoices"/>.</summary>
    public BalancingStrategy Balancing { get; set; } = BalancingStrategy.PowerOfTwoChoices;

    /// <summary>
    /// When the snapshot shows no eligible worker with room, how many of the eligible workers placement still tries
    /// (least loaded first), because capacity freed since the snapshot was taken only shows in the next one. Default 2;
    /// 0 trusts the snapshot.
    /// </summary>
    public int StaleSnapshotTries { get; set; } = 2;

    /// <summary>How long a worker is skipped for a service after it reports the service unavailable. Default 30 s.</summary>
    public TimeSpan UnavailableTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a job's <c>affinityKey</c> remembers the worker that served it last. Default 10 min.</summary>
    public TimeSpan AffinityTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Aging of the pending queue: a waiting job gains one point of priority per this much time waited, so a
    /// low-priority job is not starved forever. Default 1 min (a priority-0 job outranks a fresh priority-100 job
    /// after 100 minutes).
    /// </summary>
    public TimeSpan AgingInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A job that has waited this long for capacity gets a worker held for it: lower-ranked jobs may not take what it
    /// needs there, so a stream of small jobs cannot starve a large one. One job at a time. Default 5 min.
    /// </summary>
    public TimeSpan HoldCapacityAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The shortest gap between two pending-job passes of one instance when events (jobs finishing, workers joining)
    /// arrive faster, so a busy cluster coalesces them instead of querying per event. A freed slot waits at most this
    /// long before a pass offers it, so it bounds how fast short jobs refill slots. Default 10 ms.
    /// </summary>
    public TimeSpan MinPassInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long an event pass leaves alone a job this instance has just offered, so an offer still on its way to the
    /// saga is not repeated. An offer that lost its capacity to another placement is retried by the next event pass
    /// after this, not only by the periodic pass. Default 500 ms.
    /// </summary>
    public TimeSpan OfferCooldown { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// With several scheduler instances, one runs the event passes at a time: each pass renews its lease for this
    /// long, and an instance poked while another holds it passes once the lease lapses, if that one has not passed
    /// again by then (it would have seen the same free room). Two instances passing on every event read the pending
    /// queue twice as often, for offers of which one in two is already claimed. So a freed slot whose event reached
    /// the other instance waits at most this long when the holder goes quiet. Default 250 ms.
    /// </summary>
    public TimeSpan EventPassLease { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Each tenant's share of the cluster for fair share between tenants, by tenant name; a tenant not listed has 1.
    /// When several tenants have jobs waiting, the pending passes offer next the job of the tenant whose Allocated
    /// and Running CPUs, divided by its share, are lowest: a tenant with share 2 gets about twice the CPUs of one
    /// with share 1 while both have work waiting. Inside a tenant, priority and aging order its jobs. Default none.
    /// </summary>
    public Dictionary<string, double> TenantShares { get; set; } = [];
}

/// <summary>How a worker is chosen among the workers of a pool that have room.</summary>
public enum BalancingStrategy
{
    /// <summary>
    /// The less loaded of two workers drawn at random. Several scheduler instances placing from snapshots a few
    /// hundred ms old then spread a burst instead of all piling onto the one worker that looked emptiest.
    /// </summary>
    PowerOfTwoChoices,

    /// <summary>The least loaded worker first: the lowest dominant share of CPUs, memory, GPUs and job slots in use.</summary>
    LeastLoaded,
}
