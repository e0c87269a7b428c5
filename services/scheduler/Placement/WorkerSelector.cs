using Bus.Infrastructure.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// The pure half of placement: from a snapshot of live workers, the workers worth trying for a job, best first,
/// or the reason none is. It reads no clock and does no I/O, so it is tested on plain data.
/// </summary>
public static class WorkerSelector
{
    public sealed record Selection(IReadOnlyList<WorkerSnapshot> Candidates, string? WaitReason);

    public static Selection Select(IReadOnlyList<WorkerSnapshot> workers, PlacementRequest request)
    {
        var need = request.Resources;
        var language = request.Constraints.Language;
        var offering = workers
            .Where(w => w.IsReady && w.Registration.Services.Contains(request.Service))
            .Where(w => language is null || w.Registration.Languages.Contains(language))
            .ToList();
        if (offering.Count == 0)
            return Wait(workers.Count == 0
                ? "no live worker"
                : $"no live worker offers service '{request.Service}'" + (language is null ? "" : $" for language '{language}'"));

        // Big enough when empty: a job that fits no worker even idle can only wait for a bigger worker.
        var bigEnough = offering.Where(w =>
            need.Cpus <= w.Registration.Capacity.Cpus &&
            need.MemoryMb <= w.Registration.Capacity.MemoryMb &&
            need.Gpus <= w.Registration.Capacity.Gpus).ToList();
        if (bigEnough.Count == 0)
            return Wait(TooBigReason(offering, request));

        var eligible = bigEnough.Where(w => w.WorkerId != request.Constraints.ExcludeWorker).ToList();
        if (eligible.Count == 0)
            return Wait("the excluded worker is the only one eligible");

        var candidates = eligible
            .Where(w => Fits(w, need))
            // Least loaded first: the lowest CPU share in use, then the fewest running jobs.
            .OrderBy(w => (double)w.Used.Cpus / Math.Max(1, w.Registration.Capacity.Cpus))
            .ThenBy(w => w.RunningJobs)
            .ThenBy(w => w.WorkerId, StringComparer.Ordinal)
            .ToList();
        return candidates.Count > 0
            ? new Selection(candidates, null)
            : Wait(FullReason(eligible.Count));
    }

    /// <summary>The sentence for a job that has been offered workers, all of which were full.</summary>
    public static string FullReason(int eligibleWorkers) => eligibleWorkers == 1
        ? "1 eligible worker, full (waiting for capacity)"
        : $"{eligibleWorkers} eligible workers, all full (waiting for capacity)";

    static bool Fits(WorkerSnapshot w, Bus.Contracts.ResourceVector need) =>
        need.Cpus <= w.Free.Cpus &&
        need.MemoryMb <= w.Free.MemoryMb &&
        need.Gpus <= w.Free.Gpus &&
        w.RunningJobs < w.Registration.MaxConcurrentJobs;

    static string TooBigReason(List<WorkerSnapshot> offering, PlacementRequest request)
    {
        var need = request.Resources;
        var largest = offering.Select(w => w.Registration.Capacity).ToList();
        if (need.Cpus > largest.Max(c => c.Cpus))
            return $"needs {need.Cpus} cpus; the largest live worker offering '{request.Service}' has {largest.Max(c => c.Cpus)}";
        if (need.MemoryMb > largest.Max(c => c.MemoryMb))
            return $"needs {need.MemoryMb} MB of memory; the largest live worker offering '{request.Service}' has {largest.Max(c => c.MemoryMb)}";
        if (need.Gpus > largest.Max(c => c.Gpus))
            return $"needs {need.Gpus} gpus; the largest live worker offering '{request.Service}' has {largest.Max(c => c.Gpus)}";
        return $"no single live worker offering '{request.Service}' has {need.Cpus} cpus, {need.MemoryMb} MB and {need.Gpus} gpus together";
    }

    static Selection Wait(string reason) => new([], reason);
}
