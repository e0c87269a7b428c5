using Bus.Capacity.Workers;
using Bus.Contracts;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Turns one selection into the answer of <c>POST /api/v1/jobs:explain</c>: the outcome, the pools in order, and a
/// line for every live worker. It judges nothing itself: the verdicts are the ones <see cref="WorkerSelector.Select"/>
/// recorded while it selected, and the ranks are the order of its candidates.
/// </summary>
public static class PlacementExplanation
{
    public static PlacementExplained Of(PlacementSnapshot snapshot, PlacementRequest request, WorkerSelector.Selection selection,
        IReadOnlyCollection<(PooledWorker Worker, WorkerVerdict Verdict)> passedOver)
    {
        var need = request.Resources;
        var verdicts = passedOver.ToDictionary(p => p.Worker.WorkerId, p => p.Verdict);
        var ranks = selection.Candidates.Concat(selection.LookedFull).Select((w, i) => (w.WorkerId, Rank: i + 1)).ToDictionary();
        var poolOf = snapshot.Workers.ToDictionary(w => w.WorkerId, w => selection.Pools.FirstOrDefault(w.Pools.Contains));
        var candidates = selection.Candidates.Select(w => w.WorkerId).ToHashSet();

        var workers = snapshot.Workers.Select(pooled =>
        {
            var w = pooled.Worker;
            var verdict = verdicts.TryGetValue(w.WorkerId, out var v) ? v
                : candidates.Contains(w.WorkerId) ? WorkerVerdict.Candidate
                : WorkerVerdict.Full;
            var considered = verdict is WorkerVerdict.Candidate or WorkerVerdict.Full;
            return new WorkerExplanation(
                w.WorkerId, verdict, Detail(verdict, w, request, snapshot), w.Registration.Status,
                considered ? ranks.GetValueOrDefault(w.WorkerId) : null,
                considered ? poolOf[w.WorkerId] : null,
                Math.Round(WorkerSelector.Load(w), 4), w.Registration.Capacity, w.Free, need,
                w.RunningJobs, w.Registration.MaxConcurrentJobs,
                snapshot.UnavailableUntil(w.WorkerId, request.Service));
        })
            .OrderBy(e => e.Rank ?? int.MaxValue).ThenBy(e => e.Verdict).ThenBy(e => e.WorkerId, StringComparer.Ordinal)
            .ToArray();

        var placed = selection.Candidates.Count > 0;
        return new PlacementExplained(
            placed ? selection.Candidates[0].WorkerId : null,
            placed ? null : selection.Code,
            placed ? null : selection.Reason,
            selection.Pools.ToArray(),
            snapshot.Policy.Balancing.ToString(),
            snapshot.Policy.Balancing == BalancingStrategy.PowerOfTwoChoices && selection.Candidates.Count > 2,
            workers,
            snapshot.TakenAt);
    }

    static string Detail(WorkerVerdict verdict, WorkerSnapshot w, PlacementRequest request, PlacementSnapshot snapshot)
    {
        var need = request.Resources;
        var free = w.Free;
        var capacity = w.Registration.Capacity;
        return verdict switch
        {
            WorkerVerdict.NotReady => $"status '{w.Registration.Status}': takes no new jobs",
            WorkerVerdict.NoService => $"offers [{string.Join(", ", w.Registration.Services)}], not '{request.Service}'",
            WorkerVerdict.NoLanguage => $"offers languages [{string.Join(", ", w.Registration.Languages)}], not '{request.Constraints.Language}'",
            WorkerVerdict.NotInPool => "in no pool that serves the job",
            WorkerVerdict.Unavailable => $"reported '{request.Service}' unavailable until {snapshot.UnavailableUntil(w.WorkerId, request.Service):O}",
            WorkerVerdict.TooSmall => $"capacity {Vector(capacity)} < needed {Vector(need)}",
            WorkerVerdict.Excluded => "excluded by the job (excludeWorker)",
            WorkerVerdict.Held => "kept free for a job that has waited longer",
            WorkerVerdict.Full => w.RunningJobs >= w.Registration.MaxConcurrentJobs
                ? $"all {w.Registration.MaxConcurrentJobs} job slots taken"
                : $"free {Vector(free)} < needed {Vector(need)}",
            _ => $"free {Vector(free)} >= needed {Vector(need)}, {w.Registration.MaxConcurrentJobs - w.RunningJobs} job slots free",
        };
    }

    static string Vector(ResourceVector v) => $"{v.Cpus} cpus/{v.MemoryMb} MB/{v.Gpus} gpus";
}
