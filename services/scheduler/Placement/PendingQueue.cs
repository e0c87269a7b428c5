using Bus.Persistence.Jobs;

namespace Bus.Scheduler.Placement;

/// <summary>What placement is asked for a pending job (<see cref="PendingJob"/> is the row <see cref="JobQueries"/> reads).</summary>
public static class PendingJobRequests
{
    extension(PendingJob job)
    {
        public PlacementRequest Request =>
            new(job.JobId, 0, job.Service, job.Resources, job.Constraints, job.Tenant, job.Priority, job.SubmittedAt);
    }
}

/// <summary>
/// The pure decisions of the pending-job pass, over plain data: the queue's order, which jobs to offer when capacity
/// appears (backfill), and which job gets capacity held for it.
/// </summary>
public static class PendingQueue
{
    /// <summary>Highest effective priority first (priority plus aging), then oldest first.</summary>
    public static List<PendingJob> Order(IEnumerable<PendingJob> jobs, TimeSpan aging)
    {
        var ordered = jobs.ToList();
        ordered.Sort((a, b) => QueueOrder.Compare(a.Priority, a.SubmittedAt, a.JobId, b.Priority, b.SubmittedAt, b.JobId, aging));
        return ordered;
    }

    /// <summary>
    /// Backfill: the jobs, in queue order, that the snapshot says would fit if placed one after another. A job that
    /// does not fit is passed over instead of ending the walk, so the smaller jobs behind it still get the room it
    /// cannot use; the capacity hold is respected, so they never get the room it keeps. At most <paramref name="limit"/>.
    /// </summary>
    public static List<PendingJob> Fitting(IReadOnlyList<PendingJob> ordered, PlacementSnapshot snapshot, int limit)
    {
        // Planned with the deterministic strategy: the plan only counts what fits, the saga chooses the real worker.
        var plan = snapshot with { Policy = snapshot.Policy with { Balancing = BalancingStrategy.LeastLoaded } };
        var fitting = new List<PendingJob>();
        foreach (var job in ordered)
        {
            if (fitting.Count >= limit)
                break;
            var selection = WorkerSelector.Select(plan, job.Request);
            if (selection.Candidates.Count == 0)
                continue;
            fitting.Add(job);
            plan = plan.WithReserved(selection.Candidates[0].WorkerId, job.Resources);
        }
        return fitting;
    }

    /// <summary>
    /// The jobs worth offering that do not fit now: those whose last pending reason is not what placement would say
    /// now (the workers changed, a report lapsed, a hold began), so the offer brings the reason up to date. A job whose
    /// reason still holds would only be refused the same way again. In the given order, at most <paramref name="limit"/>.
    /// </summary>
    public static List<PendingJob> Outdated(IEnumerable<PendingJob> ordered, PlacementSnapshot snapshot, int limit) =>
        ordered.Where(j => WorkerSelector.Select(snapshot, j.Request) is var now && (now.Reason != j.PendingReason || now.Code != j.PendingReasonCode))
            .Take(limit).ToList();

    /// <summary>
    /// A few jobs, in the given order, that wait only for capacity (the snapshot shows their eligible workers full):
    /// offered anyway, so placement really tries the workers that look full (<see cref="PlacementOptions.StaleSnapshotTries"/>)
    /// in case the snapshot is behind, after a lost event or while it is built from PostgreSQL during a Redis outage.
    /// A few, not all: each costs a saga read, and a flood of them would win freed slots by numbers, not by order.
    /// </summary>
    public static List<PendingJob> Probes(IEnumerable<PendingJob> ordered, PlacementSnapshot snapshot, int count) =>
        ordered.Where(j => WorkerSelector.Select(snapshot, j.Request).WaitsForCapacity).Take(count).ToList();

    /// <summary>
    /// The job to hold capacity for: the highest-ranked job that has waited at least <paramref name="after"/> and
    /// waits only for capacity (it would fit an eligible worker that is busy). Jobs that wait for something capacity
    /// cannot fix (no such worker, too big, only the excluded worker) are passed over. The held worker is the least
    /// loaded eligible one, or the one already held for the same job while it stays eligible, so the hold does not
    /// wander as loads change. Null when no job qualifies.
    /// </summary>
    public static CapacityHold? ChooseHold(IReadOnlyList<PendingJob> ordered, PlacementSnapshot snapshot, DateTimeOffset now, TimeSpan after)
    {
        var unheld = snapshot with { Hold = null };
        foreach (var job in ordered)
        {
            if (now - job.SubmittedAt < after)
                continue;
            var selection = WorkerSelector.Select(unheld, job.Request);
            if (selection.Candidates.Count > 0 || selection.Code != Contracts.PendingReasonCode.Resources)
                continue;
            var target = snapshot.Hold is { } current && current.JobId == job.JobId && selection.LookedFull.Any(w => w.WorkerId == current.WorkerId)
                ? current.WorkerId
                : selection.LookedFull[0].WorkerId;
            return new CapacityHold(job.JobId, job.Priority, job.SubmittedAt, job.Resources, target);
        }
        return null;
    }
}
