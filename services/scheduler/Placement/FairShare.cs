using Bus.Persistence.Jobs;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Shares capacity between tenants in the pending passes, in the spirit of Slurm's fair-share factor: the next job
/// offered is the head of the queue of the tenant that uses least for its share. Use is the CPUs a tenant has
/// Allocated or Running plus what this pass has already picked for it, divided by its share
/// (<see cref="PlacementOptions.TenantShares"/>, default 1). Inside one tenant the queue order (priority, aging, age)
/// is kept; across tenants, use decides, then the better-ranked head. So one tenant's thousand queued jobs cannot keep
/// another tenant's placeable job waiting for more than one pass: the other tenant, using less, goes first.
/// </summary>
public static class FairShare
{
    /// <param name="ordered">Pending jobs in queue order (<see cref="PendingQueue.Order"/>).</param>
    /// <param name="usage">CPUs each tenant has Allocated or Running; a tenant not listed uses none.</param>
    /// <param name="shares">Each tenant's share; a tenant not listed has 1.</param>
    public static List<PendingJob> Order(
        IReadOnlyList<PendingJob> ordered, IReadOnlyDictionary<string, long> usage, IReadOnlyDictionary<string, double> shares, TimeSpan aging)
    {
        var queues = ordered.GroupBy(j => j.Tenant, StringComparer.Ordinal)
            .Select(g => new TenantQueue(g.Key, new Queue<PendingJob>(g), usage.GetValueOrDefault(g.Key), shares.GetValueOrDefault(g.Key, 1.0)))
            .ToList();
        if (queues.Count <= 1)
            return [.. ordered];

        var result = new List<PendingJob>(ordered.Count);
        while (result.Count < ordered.Count)
        {
            TenantQueue? next = null;
            foreach (var queue in queues)
                if (queue.Jobs.Count > 0 && (next is null || Before(queue, next, aging)))
                    next = queue;
            var job = next!.Jobs.Dequeue();
            next.Used += job.Resources.Cpus;
            result.Add(job);
        }
        return result;
    }

    static bool Before(TenantQueue a, TenantQueue b, TimeSpan aging)
    {
        var byUse = a.Load.CompareTo(b.Load);
        if (byUse != 0)
            return byUse < 0;
        PendingJob x = a.Jobs.Peek(), y = b.Jobs.Peek();
        return QueueOrder.Compare(x.Priority, x.SubmittedAt, x.JobId, y.Priority, y.SubmittedAt, y.JobId, aging) < 0;
    }

    sealed class TenantQueue(string tenant, Queue<PendingJob> jobs, long used, double share)
    {
        public string Tenant { get; } = tenant;
        public Queue<PendingJob> Jobs { get; } = jobs;
        public long Used { get; set; } = used;
        public double Load => Used / share;
    }
}
