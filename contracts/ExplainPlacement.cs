namespace Bus.Contracts;

/// <summary>
/// The gateway asks a scheduler where a job would be placed right now, or why not (request/response; the answer is
/// <see cref="PlacementExplained"/>). Nothing is stored or reserved: the scheduler runs the selection real placement
/// runs, on the snapshot real placement reads, and reports what it found.
/// </summary>
/// <param name="SubmittedAt">The moment the job would be submitted: its rank against a job capacity is held for.</param>
public record ExplainPlacement(
    string Tenant,
    string Service,
    ResourceVector Resources,
    PlacementConstraints Constraints,
    int Priority,
    DateTimeOffset SubmittedAt);

/// <summary>Where a job would be placed, or why it would wait.</summary>
/// <param name="WorkerId">The worker placement would try first; null when the job would wait.</param>
/// <param name="PendingReasonCode">Why the job would wait; null when it would be placed.</param>
/// <param name="PendingReason">The same, as the sentence its <c>pendingReason</c> would show.</param>
/// <param name="Pools">The pools that serve the job, in the order placement tries them.</param>
/// <param name="Balancing">How workers with room are ordered inside a pool (the placement option).</param>
/// <param name="FirstChoiceIsRandom">True when more than two workers have room and balancing is power of two
/// choices: the first worker is then the less loaded of two drawn at random, and <see cref="WorkerId"/> is the most
/// likely one (the least loaded), not a promise.</param>
/// <param name="Workers">Every live worker: the step that left it out, or its rank and load.</param>
/// <param name="SnapshotTakenAt">When the snapshot the answer was computed from was taken.</param>
public record PlacementExplained(
    string? WorkerId,
    PendingReasonCode? PendingReasonCode,
    string? PendingReason,
    string[] Pools,
    string Balancing,
    bool FirstChoiceIsRandom,
    WorkerExplanation[] Workers,
    DateTimeOffset SnapshotTakenAt);

/// <summary>One live worker, as placement judged it for the job.</summary>
/// <param name="Verdict">The step that left it out, or <see cref="WorkerVerdict.Candidate"/> / <see cref="WorkerVerdict.Full"/>.</param>
/// <param name="Rank">For a candidate, its place in the order placement tries workers (1 first); for a full one, its
/// place behind every candidate (placement tries a few in case the snapshot is stale).</param>
/// <param name="Pool">The eligible pool it was considered in, for a candidate or a full worker.</param>
/// <param name="Load">Its dominant share of capacity in use (0 idle, 1 full): lower ranks first.</param>
/// <param name="UnavailableUntil">When its report that the service is unavailable lapses, if it reported one.</param>
public record WorkerExplanation(
    string WorkerId,
    WorkerVerdict Verdict,
    string Detail,
    string Status,
    int? Rank,
    string? Pool,
    double Load,
    ResourceVector Capacity,
    ResourceVector Free,
    ResourceVector Needed,
    int RunningJobs,
    int MaxConcurrentJobs,
    DateTimeOffset? UnavailableUntil);

/// <summary>What placement made of one worker for one job, in the order of its steps.</summary>
public enum WorkerVerdict
{
    /// <summary>Not ready: draining, or otherwise not taking jobs.</summary>
    NotReady,
    /// <summary>Does not offer the job's service.</summary>
    NoService,
    /// <summary>Offers the service, not for the job's language.</summary>
    NoLanguage,
    /// <summary>In no pool that serves the job.</summary>
    NotInPool,
    /// <summary>Reported the service unavailable; skipped until the report lapses.</summary>
    Unavailable,
    /// <summary>Smaller than the job even when idle.</summary>
    TooSmall,
    /// <summary>The worker the job excludes.</summary>
    Excluded,
    /// <summary>Kept free for a job that has waited longer.</summary>
    Held,
    /// <summary>Eligible, but without the free resources or a free job slot now.</summary>
    Full,
    /// <summary>Eligible and with room: placement would try it, in <see cref="WorkerExplanation.Rank"/> order.</summary>
    Candidate,
}
