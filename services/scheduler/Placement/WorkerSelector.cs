using Bus.Capacity.Workers;
using Bus.Contracts;

namespace Bus.Scheduler.Placement;

/// <summary>
/// The pure half of placement: from a snapshot, the workers worth trying for a job, best first, or the reason none
/// is. It reads no clock and does no I/O (randomness comes in as an argument), so it is tested on plain data.
/// </summary>
/// <remarks>
/// The steps, each with its own reason when it leaves nobody: workers that are ready and offer the service and
/// language; of those, the ones in a pool that serves the job; not reported unavailable for the service; big enough
/// when idle; not the excluded worker. The survivors are grouped by the job's eligible pools (preferred first, the
/// default pool last), and inside each pool those with room are ordered by the balancing strategy. A worker the
/// capacity hold keeps free is skipped unless the held job would still fit beside this one. The affinity worker, if
/// among the candidates, goes first.
/// </remarks>
public static class WorkerSelector
{
    /// <param name="Candidates">Workers with room in the snapshot, best first: try them in order.</param>
    /// <param name="LookedFull">Eligible workers the snapshot shows full, best first: worth a try only because the snapshot may be stale.</param>
    /// <param name="Code">Why the job waits if no worker can be reserved; <see cref="PendingReasonCode.Resources"/> when
    /// candidates exist (all of them may still refuse the reservation).</param>
    /// <param name="Reason">The same, in words a user understands.</param>
    /// <param name="Pools">The pools that serve the job, in the order they are tried.</param>
    public sealed record Selection(
        IReadOnlyList<WorkerSnapshot> Candidates, IReadOnlyList<WorkerSnapshot> LookedFull, PendingReasonCode Code, string Reason,
        IReadOnlyList<string> Pools)
    {
        /// <summary>The reason, when no worker has room at all.</summary>
        public string? WaitReason => Candidates.Count > 0 ? null : Reason;

        /// <summary>Waits only for capacity: eligible workers exist, the snapshot shows them all full (or held).</summary>
        public bool WaitsForCapacity => Candidates.Count == 0 && Code is PendingReasonCode.Resources or PendingReasonCode.Held;
    }

    /// <param name="affinityWorker">The worker that served the job's affinity key last, if any.</param>
    /// <param name="random">For <see cref="BalancingStrategy.PowerOfTwoChoices"/>; <see cref="Random.Shared"/> when null.</param>
    /// <param name="passedOver">When given, every worker a step leaves out is added with the step's verdict: what an
    /// explanation shows. Placement passes null and pays nothing for it.</param>
    public static Selection Select(PlacementSnapshot snapshot, PlacementRequest request, string? affinityWorker = null, Random? random = null,
        ICollection<(PooledWorker Worker, WorkerVerdict Verdict)>? passedOver = null)
    {
        var need = request.Resources;
        var service = request.Service;
        var language = request.Constraints.Language;
        var pools = snapshot.Pools.EligibleFor(service, language, request.Constraints.Pool);
        Selection Wait(PendingReasonCode code, string reason) => new([], [], code, reason, pools);
        List<PooledWorker> Keep(IEnumerable<PooledWorker> workers, Func<PooledWorker, bool> keep, WorkerVerdict otherwise)
        {
            var kept = new List<PooledWorker>();
            foreach (var w in workers)
                if (keep(w))
                    kept.Add(w);
                else
                    passedOver?.Add((w, otherwise));
            return kept;
        }

        var ready = Keep(snapshot.Workers, w => w.Worker.IsReady, WorkerVerdict.NotReady);
        var withService = Keep(ready, w => w.Worker.Registration.Services.Contains(service), WorkerVerdict.NoService);
        if (withService.Count == 0)
            return Wait(PendingReasonCode.NoWorkerForService, snapshot.Workers.Count == 0 ? "no live worker" : $"no live worker offers {What(service, language)}");
        var offering = Keep(withService, w => language is null || w.Worker.Registration.Languages.Contains(language), WorkerVerdict.NoLanguage);
        if (offering.Count == 0)
            return Wait(PendingReasonCode.NoWorkerForLanguage, $"no live worker offers {What(service, language)}");

        var pooled = Keep(offering, w => w.Pools.Any(pools.Contains), WorkerVerdict.NotInPool);
        if (pooled.Count == 0)
            return Wait(PendingReasonCode.NoPool, $"{Count(offering.Count, "live worker offers", "live workers offer")} {What(service, language)}, " +
                $"but no pool that serves it has {(offering.Count == 1 ? "it" : "them")}");

        var available = Keep(pooled, w => !snapshot.IsUnavailable(w.WorkerId, service), WorkerVerdict.Unavailable);
        if (available.Count == 0)
            return Wait(PendingReasonCode.Unavailable, pooled.Count == 1
                ? $"the only live worker offering {What(service, language)} reported it unavailable; retrying when the report lapses"
                : $"all {pooled.Count} live workers offering {What(service, language)} reported it unavailable; retrying when the reports lapse");

        // Big enough when empty: a job that fits no worker even idle can only wait for a bigger worker.
        var bigEnough = Keep(available, w => Covers(w.Worker.Registration.Capacity, need), WorkerVerdict.TooSmall);
        if (bigEnough.Count == 0)
            return Wait(PendingReasonCode.TooLarge, TooBigReason(bigEnoughOf: available, request));

        var eligible = Keep(bigEnough, w => w.WorkerId != request.Constraints.ExcludeWorker, WorkerVerdict.Excluded);
        if (eligible.Count == 0)
            return Wait(PendingReasonCode.ExcludedOnlyEligible, "the excluded worker is the only one eligible");

        var hold = snapshot.Hold;
        var held = hold is not null && hold.JobId != request.JobId
            && QueueOrder.Compare(request.Priority, request.SubmittedAt, request.JobId, hold.Priority, hold.SubmittedAt, hold.JobId, snapshot.Policy.AgingInterval) > 0
            ? eligible.FirstOrDefault(w => w.WorkerId == hold.WorkerId && !Fits(w.Worker, Add(need, hold.Need), slots: 2))
            : null;
        if (held is not null)
            passedOver?.Add((held, WorkerVerdict.Held));

        var candidates = new List<WorkerSnapshot>();
        var lookedFull = new List<WorkerSnapshot>();
        var placed = new HashSet<string>();
        foreach (var pool in pools)
        {
            // A worker in several eligible pools counts in the first, the most preferred.
            var members = eligible.Where(w => w != held && w.Pools.Contains(pool) && placed.Add(w.WorkerId)).Select(w => w.Worker).ToList();
            candidates.AddRange(Balance(members.Where(w => Fits(w, need, slots: 1)).ToList(), snapshot.Policy.Balancing, random));
            lookedFull.AddRange(ByLoad(members.Where(w => !Fits(w, need, slots: 1))));
        }

        if (affinityWorker is not null && candidates.FindIndex(w => w.WorkerId == affinityWorker) is var at and > 0)
        {
            var preferred = candidates[at];
            candidates.RemoveAt(at);
            candidates.Insert(0, preferred);
        }

        if (candidates.Count > 0)
            return new Selection(candidates, lookedFull, PendingReasonCode.Resources, FullReason(eligible.Count), pools);
        return held is not null
            ? new Selection([], lookedFull, PendingReasonCode.Held, HeldReason(eligible.Count), pools)
            : new Selection([], lookedFull, PendingReasonCode.Resources, FullReason(eligible.Count), pools);
    }

    /// <summary>Whether the worker has room for <paramref name="need"/> and a free job slot: the last step of selection.</summary>
    public static bool HasRoom(WorkerSnapshot w, ResourceVector need) => Fits(w, need, slots: 1);

    /// <summary>The sentence for a job whose eligible workers were all full.</summary>
    public static string FullReason(int eligibleWorkers) => eligibleWorkers == 1
        ? "1 eligible worker, full (waiting for capacity)"
        : $"{eligibleWorkers} eligible workers, all full (waiting for capacity)";

    static string HeldReason(int eligibleWorkers) => eligibleWorkers == 1
        ? "1 eligible worker, kept free for a job that has waited longer (waiting for capacity)"
        : $"{eligibleWorkers} eligible workers, all full or kept free for a job that has waited longer (waiting for capacity)";

    /// <summary>
    /// How loaded a worker is: its dominant share, the largest fraction of any resource or of its job slots in use.
    /// A worker with half its CPUs but all its memory taken is full, not half empty.
    /// </summary>
    public static double Load(WorkerSnapshot w)
    {
        var capacity = w.Registration.Capacity;
        var load = (double)w.RunningJobs / Math.Max(1, w.Registration.MaxConcurrentJobs);
        load = Math.Max(load, (double)w.Used.Cpus / Math.Max(1, capacity.Cpus));
        if (capacity.MemoryMb > 0)
            load = Math.Max(load, (double)w.Used.MemoryMb / capacity.MemoryMb);
        if (capacity.Gpus > 0)
            load = Math.Max(load, (double)w.Used.Gpus / capacity.Gpus);
        return load;
    }

    static IEnumerable<WorkerSnapshot> ByLoad(IEnumerable<WorkerSnapshot> workers) => workers
        .OrderBy(Load)
        .ThenBy(w => w.RunningJobs)
        .ThenBy(w => w.WorkerId, StringComparer.Ordinal);

    /// <summary>
    /// Orders the workers with room. Power of two choices puts the less loaded of two random ones first and the rest
    /// by load behind it, as fallbacks should its reservation be refused.
    /// </summary>
    static List<WorkerSnapshot> Balance(List<WorkerSnapshot> withRoom, BalancingStrategy balancing, Random? random)
    {
        var ordered = ByLoad(withRoom).ToList();
        if (balancing != BalancingStrategy.PowerOfTwoChoices || ordered.Count < 3)
            return ordered; // of two, the less loaded is the least loaded
        random ??= Random.Shared;
        var first = random.Next(ordered.Count);
        var second = random.Next(ordered.Count - 1);
        if (second >= first)
            second++;
        var chosen = Math.Min(first, second); // ordered by load, so the lower index is the less loaded one
        var winner = ordered[chosen];
        ordered.RemoveAt(chosen);
        ordered.Insert(0, winner);
        return ordered;
    }

    static bool Covers(ResourceVector capacity, ResourceVector need) =>
        need.Cpus <= capacity.Cpus && need.MemoryMb <= capacity.MemoryMb && need.Gpus <= capacity.Gpus;

    static bool Fits(WorkerSnapshot w, ResourceVector need, int slots) =>
        Covers(w.Free, need) && w.RunningJobs + slots <= w.Registration.MaxConcurrentJobs;

    static ResourceVector Add(ResourceVector a, ResourceVector b) => new(a.Cpus + b.Cpus, a.MemoryMb + b.MemoryMb, a.Gpus + b.Gpus);

    static string What(string service, string? language) => $"service '{service}'" + (language is null ? "" : $" for language '{language}'");

    static string Count(int n, string one, string many) => n == 1 ? $"1 {one}" : $"{n} {many}";

    static string TooBigReason(List<PooledWorker> bigEnoughOf, PlacementRequest request)
    {
        var need = request.Resources;
        var largest = bigEnoughOf.Select(w => w.Worker.Registration.Capacity).ToList();
        if (need.Cpus > largest.Max(c => c.Cpus))
            return $"needs {need.Cpus} cpus; the largest live worker offering '{request.Service}' has {largest.Max(c => c.Cpus)}";
        if (need.MemoryMb > largest.Max(c => c.MemoryMb))
            return $"needs {need.MemoryMb} MB of memory; the largest live worker offering '{request.Service}' has {largest.Max(c => c.MemoryMb)}";
        if (need.Gpus > largest.Max(c => c.Gpus))
            return $"needs {need.Gpus} gpus; the largest live worker offering '{request.Service}' has {largest.Max(c => c.Gpus)}";
        return $"no single live worker offering '{request.Service}' has {need.Cpus} cpus, {need.MemoryMb} MB and {need.Gpus} gpus together";
    }

}
